"""The local backend's pool, with stand-in kernels (no kernel starts): which kernel warms
for which job, and how a batch that stops early ends."""

from __future__ import annotations

import signal
import threading

import pytest

import grader.backends.local as local
from grader.assemble import Step
from grader.backends import Job
from grader.execute import ExecOptions
from grader.execute.records import StepOutcome

OPTIONS = ExecOptions(sandbox="off")
SETUP = {"A": Step("setup", "topic-a", "import a"), "B": Step("setup", "topic-b", "import b")}
GUARD = 10  # seconds a stand-in kernel's cell waits for its kill at most (a hang guard)


class Kernel:
    """A stand-in kernel: records what it warmed with and which job it ran."""

    def __init__(self) -> None:
        self.warmed: tuple[Step, ...] | None = None
        self.ran = ""  # the key of the job it ran
        self.warm_runner = False
        self.killed = threading.Event()
        self.stopped = False

    def connect(self) -> None:
        pass

    def close(self) -> None:
        self.killed.set()

    def stop(self) -> None:
        self.stopped = True
        self.killed.set()


class Pool:
    """The stand-ins of start_kernel, StepRunner and run, and what they saw."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, block: bool = False, quick=0) -> None:
        self.kernels: list[Kernel] = []
        self.block = block  # the submissions' cells run until their kernel is killed
        self.quick = quick  # ... but for the first ``quick`` jobs to run
        self.started = threading.Event()  # a submission started running
        self.after_close: list[str] = []  # jobs that started after close() returned
        self.closed = False
        self.lock = threading.Lock()
        pool = self

        class Runner:
            def __init__(self, kernel: Kernel, started: float | None = None) -> None:
                self.kernel = kernel
                self.outcomes: list[StepOutcome] = []

            def run(self, steps) -> None:
                self.kernel.warmed = tuple(steps)
                self.outcomes += [StepOutcome("ok") for _ in steps]

        def start_kernel(options, root) -> Kernel:
            kernel = Kernel()
            with pool.lock:
                pool.kernels.append(kernel)
            return kernel

        def run(kernel: Kernel, steps, runner=None, follow_up=None) -> str:
            kernel.ran = steps[-1].source
            kernel.warm_runner = runner is not None
            with pool.lock:
                if pool.closed:
                    pool.after_close.append(kernel.ran)
                quick, pool.quick = pool.quick > 0, pool.quick - 1
            pool.started.set()
            if pool.block and not quick:
                kernel.killed.wait(GUARD)
            kernel.stop()
            return f"executed {kernel.ran}"

        monkeypatch.setattr(local, "start_kernel", start_kernel)
        monkeypatch.setattr(local, "StepRunner", Runner)
        monkeypatch.setattr(local, "run", run)


def jobs(*setups: str) -> list[Job]:
    """One job per letter: that setup (warm), then an answer naming the job."""
    return [
        Job(f"j{i}", (SETUP[s], Step("answer", "ex", f"j{i}")), OPTIONS, warm=1)
        for i, s in enumerate(setups)
    ]


def test_every_kernel_warms_for_the_job_it_serves(monkeypatch):
    pool = Pool(monkeypatch)
    batch = jobs("A", "B", "A", "B", "B", "A")
    results = list(local.LocalBackend(1).run(batch))
    assert sorted(r for _, r in results) == sorted(f"executed {j.key}" for j in batch)
    prefix = {j.key: j.prefix for j in batch}
    ran = [k for k in pool.kernels if k.ran]
    # each job ran in a kernel warmed with its own setup (none discarded, none started cold)
    assert sorted(k.ran for k in ran) == sorted(prefix)
    assert all(k.warm_runner and k.warmed == prefix[k.ran] for k in ran)


def test_no_kernel_warms_after_the_jobs_run_out(monkeypatch):
    pool = Pool(monkeypatch)
    results = list(local.LocalBackend(2).run(jobs("A", "A", "A")))
    assert len(results) == 3
    assert len(pool.kernels) == 3  # one per job: none warmed for a job that never came
    assert all(k.stopped for k in pool.kernels)


def test_close_while_a_job_runs_starts_no_queued_job_and_stops_every_kernel(monkeypatch):
    pool = Pool(monkeypatch, block=True)
    backend = local.LocalBackend(1)
    taken: list[object] = []
    consumer = threading.Thread(target=lambda: taken.extend(backend.run(jobs(*"AAAAA"))))
    consumer.start()
    assert pool.started.wait(GUARD)
    backend.close()
    with pool.lock:
        pool.closed = True
    consumer.join(GUARD)
    assert not consumer.is_alive()  # the consumer's loop ended too
    assert len([k for k in pool.kernels if k.ran]) == 1  # the other jobs never started
    assert pool.after_close == []
    assert all(k.killed.is_set() for k in pool.kernels)  # the warm one too
    assert len(pool.kernels) <= 2  # the running one, and one warmed for the next job


def test_an_interrupted_consumer_aborts_the_batch(monkeypatch):
    pool = Pool(monkeypatch, block=True)
    main = threading.main_thread().ident
    assert main is not None

    def interrupt() -> None:
        if pool.started.wait(GUARD):
            signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C while the batch waits

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        for _ in local.LocalBackend(1).run(jobs(*"AAAAA")):
            pass
    # by the time run() is left, no other job started and every kernel was stopped
    assert len([k for k in pool.kernels if k.ran]) == 1
    assert all(k.killed.is_set() for k in pool.kernels)


def test_a_consumer_that_raises_and_closes_starts_nothing_after(monkeypatch):
    pool = Pool(monkeypatch, block=True, quick=1)
    backend = local.LocalBackend(2)  # 4 jobs taken ahead: 2 run, 2 wait
    with pytest.raises(ValueError):
        try:
            for _ in backend.run(jobs(*"AAAAAA")):
                raise ValueError("the gradebook could not be written")
        finally:
            backend.close()  # as grade_batch does
            with pool.lock:
                pool.closed = True
    # the quick one, the one beside it, and one more that took the quick one's turn
    # before the abort; never the fourth job taken, nor any job not taken yet
    ran = {k.ran for k in pool.kernels if k.ran}
    assert ran <= {"j0", "j1", "j2", "j3"}
    assert len(ran) <= 3
    assert pool.after_close == []
    assert all(k.killed.is_set() for k in pool.kernels)
