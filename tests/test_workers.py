"""The one rule that shares the machine's cores among kernels running side by side."""

from __future__ import annotations

import pytest

from grader import workers


@pytest.mark.parametrize(
    "cores,workers_,threads",
    [(8, 1, 8), (8, 2, 4), (8, 3, 2), (8, 8, 1), (8, 16, 1), (2, 4, 1), (1, 1, 1), (4, 0, 4)],
)
def test_kernel_threads_share_the_cores_out(monkeypatch, cores, workers_, threads):
    monkeypatch.setattr(workers.os, "cpu_count", lambda: cores)
    assert workers.kernel_threads(workers_) == threads


def test_an_unknown_core_count_is_one(monkeypatch):
    monkeypatch.setattr(workers.os, "cpu_count", lambda: None)
    assert workers.cores() == 1
    assert workers.default_workers() == 1
    assert workers.kernel_threads(3) == 1


def test_the_default_is_a_worker_per_core(monkeypatch):
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 6)
    assert workers.default_workers() == 6
    assert workers.kernel_threads(workers.default_workers()) == 1
