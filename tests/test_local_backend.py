"""grader.backends.local: the pool of warm kernels on this machine, through its one entry
point, ``LocalBackend.run(jobs)``: every job yields once, each in a kernel of its own, warmed
with its own setup; a kernel that cannot start is that job's error."""

from __future__ import annotations

import dataclasses

import pytest

from grader.assemble import Step
from grader.backends import Job
from grader.backends.local import LocalBackend
from grader.errors import ExecutionError
from grader.execute import ExecOptions, Executed
from grader.execute.kernel import Kernel
from grader.spec import Answer, Limits

OPTIONS = ExecOptions(limits=Limits(cell_timeout=30))
# What a job's answer exports: a number drawn in its kernel, twice, plus one if another job's
# answer ran there first (pids tell no kernels apart: each sandbox has its own pid 2).
MINE = "import secrets\nv = 2 * secrets.randbits(48) + ('taken' in globals())\ntaken = True"


def job(key, setup="base = 1", answer=MINE, options=OPTIONS):
    spec = Answer.of("number", "v").export_spec()
    steps = (Step("setup", "t", setup), Step("answer", key, answer), Step("export", key, spec=spec))
    return Job(key, steps, options, warm=1)


def results(backend, jobs):
    return {j.key: result for j, result in backend.run(jobs)}


def value(executed, key):
    assert isinstance(executed, Executed), executed
    return executed.exports[key].payload["value"]


def test_no_job_starts_no_kernel(monkeypatch):
    started = []
    monkeypatch.setattr(Kernel, "launch", lambda self: started.append(self))
    assert list(LocalBackend(2).run([])) == []
    assert list(LocalBackend(2).run(iter(()))) == []
    assert started == []


@pytest.mark.kernel
def test_every_job_yields_once_in_a_kernel_of_its_own():
    done = results(LocalBackend(1), (job(f"j{i}") for i in range(4)))
    assert sorted(done) == ["j0", "j1", "j2", "j3"]
    values = [value(executed, key) for key, executed in done.items()]
    assert all(v % 2 == 0 for v in values)  # no kernel had served another job
    assert len({v // 2 for v in values}) == 4  # four kernels
    assert all(
        [o.status for o in executed.outcomes] == ["ok", "ok", "ok"] for executed in done.values()
    )


@pytest.mark.kernel
def test_a_job_runs_after_its_own_setup_not_the_one_the_kernels_warmed_with():
    jobs = [
        job("one", setup="base = 1", answer="v = base"),
        job("two", setup="base = 2", answer="v = base"),
        job("three", setup="base = 3", answer="v = base"),
    ]
    done = results(LocalBackend(1), jobs)
    assert {key: value(executed, key) for key, executed in done.items()} == {
        "one": 1,
        "two": 2,
        "three": 3,
    }


@pytest.mark.kernel
def test_a_kernel_that_cannot_start_is_that_jobs_error_and_the_others_run(monkeypatch):
    hopeless = dataclasses.replace(OPTIONS, startup_timeout=59)
    launch = Kernel.launch

    def failing(kernel):
        if kernel.options == hopeless:
            raise ExecutionError("the grading kernel could not start: no such program")
        launch(kernel)

    monkeypatch.setattr(Kernel, "launch", failing)
    done = results(LocalBackend(1), [job("a"), job("b", options=hopeless), job("c")])
    assert isinstance(done["b"], ExecutionError)
    assert "could not start" in str(done["b"])
    assert value(done["a"], "a") % 2 == 0 and value(done["c"], "c") % 2 == 0
