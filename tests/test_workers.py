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


def test_a_library_batch_shares_the_cores_out_too(monkeypatch, tmp_path):
    """grade_batch called from Python (not only `grade batch`) gives each of its kernels
    cores // workers threads; a given thread count is kept."""
    import grader.batch
    from grader import load_course
    from grader.gradebook import Gradebook
    from grader.options import GradeOptions

    monkeypatch.setattr(workers.os, "cpu_count", lambda: 8)
    seen = []

    class Nothing:
        notices = ()

        def run(self, jobs, watch=None):
            return iter(())

        def close(self):
            pass

    def backend(batch, options):
        seen.append(options.threads)
        return Nothing()

    monkeypatch.setattr(grader.batch, "_backend", backend)
    course = load_course(_course(tmp_path))
    with Gradebook(tmp_path / "gb.sqlite") as gradebook:
        grader.batch.grade_batch(course, [], gradebook, batch=grader.batch.BatchOptions(workers=2))
        grader.batch.grade_batch(
            course, [], gradebook, GradeOptions(threads=3), grader.batch.BatchOptions(workers=2)
        )
    assert seen == [4, 3]


def _course(root):
    (root / "exercises").mkdir()
    (root / "solutions").mkdir()
    (root / "course.yaml").write_text(
        "name: c\nassignments:\n  - id: a1\n    exercises: [e1]\n", encoding="utf-8"
    )
    (root / "exercises" / "t.yaml").write_text(
        "topic: t\nexercises:\n  - id: e1\n    title: E\n    points: 1\n    prompt: p\n"
        "    answer: {kind: number, name: x}\n",
        encoding="utf-8",
    )
    (root / "solutions" / "t.py").write_text("# %% e1\nx = 1\n", encoding="utf-8")
    return root / "course.yaml"
