"""This machine: a pool of sandboxed kernels, started and warmed before their submissions.

Twice as many threads as workers each own one kernel at a time: a thread starts a kernel in
a fresh sandbox and runs the course's setup steps in it (trusted code: imports, data),
*then* waits for a submission, runs it and stops the kernel. Only ``workers`` submissions
run at once (a semaphore), so while they run, as many fresh kernels boot and warm up for the
next ones. No kernel ever serves two submissions, every kernel has its own sandbox, cgroup
and limits, and at most twice ``workers`` kernels exist: memory follows the workers, not the
class size.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..assemble import Step
from ..errors import ExecutionError
from ..execute import ExecOptions, Executed, Kernel, StepRunner, run, start_kernel
from . import Job, JobResult


class LocalBackend:
    """Runs jobs on ``workers`` kernels at once, each warmed up in advance."""

    def __init__(self, workers: int, options: ExecOptions) -> None:
        self.workers = max(1, workers)
        self.options = options
        self.notices: tuple[str, ...] = ()
        self._prefix: tuple[Step, ...] = ()  # the setup the next kernels warm up with

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        """Results as jobs finish. ``jobs`` is consumed in this thread, a few ahead."""
        todo: queue.Queue[Job | None] = queue.Queue()
        done: queue.Queue[JobResult] = queue.Queue()
        permits = threading.Semaphore(self.workers)
        slots: list[threading.Thread] = []
        pending = 0
        source = iter(jobs)
        exhausted = False
        try:
            while not exhausted or pending:
                while not exhausted and pending < 2 * self.workers:
                    job = next(source, None)
                    if job is None:
                        exhausted = True
                        break
                    self._prefix = job.prefix
                    if not slots:  # kernels start with the first job: none for a batch of skips
                        slots += [
                            threading.Thread(
                                target=self._slot, args=(todo, done, permits), daemon=True
                            )
                            for _ in range(2 * self.workers)
                        ]
                        for slot in slots:
                            slot.start()
                    todo.put(job)
                    pending += 1
                if pending:
                    result = done.get()
                    pending -= 1
                    yield result
        finally:
            for _ in slots:
                todo.put(None)
            for slot in slots:
                slot.join(timeout=60)

    def close(self) -> None:
        """Nothing to close: every kernel is stopped by the slot that started it."""

    def _slot(
        self,
        todo: queue.Queue[Job | None],
        done: queue.Queue[JobResult],
        permits: threading.Semaphore,
    ) -> None:
        """One kernel after another: start and warm one, then give it one job."""
        while True:
            warm = self._warm(self._prefix)
            with permits:
                job = todo.get()
                if job is None:
                    if warm is not None:
                        _stop(*warm)
                    return
                done.put((job, self._run(job, warm)))

    def _warm(
        self, prefix: tuple[Step, ...]
    ) -> tuple[Kernel, StepRunner, tuple[Step, ...], Path] | None:
        """A kernel in a fresh folder, connected, with the setup steps run; None if it fails
        (the job then starts a kernel of its own, and reports if that fails too)."""
        root = Path(tempfile.mkdtemp(prefix="grade-"))
        try:
            kernel = start_kernel(self.options, root)
        except ExecutionError:
            shutil.rmtree(root, ignore_errors=True)
            return None
        try:
            kernel.connect()
            runner = StepRunner(kernel)
            runner.run(prefix)
            if any(o.status != "ok" for o in runner.outcomes):
                raise ExecutionError("the course's setup failed in a fresh kernel")
        except ExecutionError:
            _stop(kernel, None, (), root)
            return None
        return kernel, runner, prefix, root

    def _run(
        self, job: Job, warm: tuple[Kernel, StepRunner, tuple[Step, ...], Path] | None
    ) -> Executed | ExecutionError:
        try:
            if warm is not None and job.options == self.options and job.prefix == warm[2]:
                kernel, runner, prefix, root = warm
                try:
                    return run(kernel, job.steps[len(prefix) :], runner)
                finally:
                    shutil.rmtree(root, ignore_errors=True)
            if warm is not None:  # warmed for another setup: a fresh kernel, not a shared one
                _stop(*warm)
            root = Path(tempfile.mkdtemp(prefix="grade-"))
            try:
                return run(start_kernel(job.options, root), job.steps)
            finally:
                shutil.rmtree(root, ignore_errors=True)
        except ExecutionError as e:
            return e
        except Exception as e:  # a bug must not stop the batch: it is this job's failure
            return ExecutionError(f"internal error while running: {type(e).__name__}: {e}")


def _stop(kernel: Kernel, runner: StepRunner | None, prefix: tuple[Step, ...], root: Path) -> None:
    try:
        kernel.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
