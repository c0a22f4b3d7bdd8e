"""This machine: a pool of sandboxed kernels, started and warmed before their submissions run.

Twice as many threads as workers each take one job at a time: a thread takes the next job,
starts a kernel for it in a fresh sandbox and runs the job's warm steps there (the course's
trusted setup: imports, data), *then* waits for its turn, runs the submission and stops the
kernel. Only ``workers`` submissions run at once (a semaphore), so while they run, as many
fresh kernels boot and warm up for the next ones. A kernel is warmed for the job it will
serve (its setup, its options), and only once there is such a job: no kernel ever serves
two submissions, every kernel has its own sandbox, cgroup and limits, and at most twice
``workers`` kernels exist: memory follows the workers, not the class size.

A batch that stops early (the consumer raises or is interrupted, or ``close`` is called
before every result was taken) is aborted: no job starts after that, the jobs taken are
dropped, every kernel of the batch is stopped, and the threads end within ``JOIN_SECONDS``.
"""

from __future__ import annotations

import queue
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ExecutionError
from ..execute import Executed, Kernel, StepRunner, run, start_kernel
from ..execute.scratch import scratch_dir
from . import Job, JobResult, Started, Watch

JOIN_SECONDS = 20.0  # the longest a batch's end waits for its threads (they are daemons)


@dataclass(frozen=True)
class _Warm:
    """A kernel started for one job, connected, with the job's warm steps run."""

    kernel: Kernel
    runner: StepRunner
    root: Path


class _Batch:
    """One ``run``'s threads, queues and kernels."""

    def __init__(self, workers: int) -> None:
        self.todo: queue.Queue[Job | None] = queue.Queue()
        # results, and each job's start (told to the watch); None: aborted
        self.done: queue.Queue[JobResult | Started | None] = queue.Queue()
        self.permits = threading.Semaphore(workers)
        self.aborted = threading.Event()
        self.slots: list[threading.Thread] = []
        self._kernels: set[Kernel] = set()
        self._lock = threading.Lock()

    def own(self, kernel: Kernel) -> bool:
        """Count ``kernel`` as this batch's (stopped on abort); False, and the kernel closed,
        when the batch was aborted already."""
        with self._lock:
            if not self.aborted.is_set():
                self._kernels.add(kernel)
                return True
        kernel.close()
        return False

    def release(self, kernel: Kernel) -> None:
        """A kernel that was stopped by its thread."""
        with self._lock:
            self._kernels.discard(kernel)

    def abort(self) -> None:
        """No job starts from now on; every kernel is killed (its thread then finds it dead
        and cleans up); the consumer, if waiting, is woken."""
        with self._lock:
            self.aborted.set()
            kernels = list(self._kernels)
        while True:
            try:
                self.todo.get_nowait()
            except queue.Empty:
                break
        for kernel in kernels:
            kernel.close()
        self.done.put(None)

    def end(self) -> None:
        """Let every thread return (aborted or not), waiting at most ``JOIN_SECONDS``."""
        for _ in self.slots:
            self.todo.put(None)
        deadline = time.monotonic() + JOIN_SECONDS
        for slot in self.slots:
            slot.join(timeout=max(0.0, deadline - time.monotonic()))


class LocalBackend:
    """Runs jobs on ``workers`` kernels at once, each warmed up in advance (a kernel is
    started with its job's own options)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.notices: tuple[str, ...] = ()
        self._batches: set[_Batch] = set()
        self._lock = threading.Lock()

    def run(self, jobs: Iterable[Job], watch: Watch | None = None) -> Iterator[JobResult]:
        """Results as jobs finish. ``jobs`` is consumed in this thread, a few ahead; ``watch``
        hears, in this thread too, of each job as its turn comes (its kernel warm)."""
        batch = _Batch(self.workers)
        with self._lock:
            self._batches.add(batch)
        pending = 0
        source = iter(jobs)
        exhausted = finished = False
        try:
            while not exhausted or pending:
                while not exhausted and pending < 2 * self.workers:
                    job = next(source, None)
                    if job is None:
                        exhausted = True
                        break
                    if not batch.slots:  # threads start with the first job: none for skips
                        batch.slots += [
                            threading.Thread(target=self._slot, args=(batch,), daemon=True)
                            for _ in range(2 * self.workers)
                        ]
                        for slot in batch.slots:
                            slot.start()
                    batch.todo.put(job)
                    pending += 1
                if pending:
                    result = batch.done.get()
                    if result is None:  # aborted by close()
                        return
                    if isinstance(result, Started):
                        if watch is not None:
                            watch(result)
                        continue
                    pending -= 1
                    yield result
            finished = True
        finally:
            if not finished:
                batch.abort()
            batch.end()
            with self._lock:
                self._batches.discard(batch)

    def close(self) -> None:
        """Abort every batch still running: no job starts after this, their kernels are
        stopped, and it returns once their threads have ended (or ``JOIN_SECONDS``)."""
        with self._lock:
            batches = list(self._batches)
        for batch in batches:
            batch.abort()
        for batch in batches:
            batch.end()

    def _slot(self, batch: _Batch) -> None:
        """One job after another: take it, start and warm its kernel, wait for a turn, run."""
        while True:
            job = batch.todo.get()
            if job is None or batch.aborted.is_set():
                return
            warm = self._warm(batch, job)
            with batch.permits:
                if batch.aborted.is_set():  # no job starts after an abort
                    if warm is not None:
                        self._stop(batch, warm.kernel, warm.root)
                    return
                batch.done.put(Started(job))
                batch.done.put((job, self._run(batch, job, warm)))

    def _warm(self, batch: _Batch, job: Job) -> _Warm | None:
        """A kernel for ``job`` in a fresh folder, connected, with the job's warm steps run;
        None if that fails (the job then starts a kernel of its own, and reports if that
        fails too) or the batch was aborted."""
        root = scratch_dir()
        try:
            kernel = start_kernel(job.options, root)
        except ExecutionError:
            shutil.rmtree(root, ignore_errors=True)
            return None
        if not batch.own(kernel):
            self._stop(batch, kernel, root)
            return None
        try:
            kernel.connect()
            runner = StepRunner(kernel)
            runner.run(job.prefix)
            if any(o.status != "ok" for o in runner.outcomes):
                raise ExecutionError("the course's setup failed in a fresh kernel")
        except ExecutionError:
            self._stop(batch, kernel, root)
            return None
        return _Warm(kernel, runner, root)

    def _run(self, batch: _Batch, job: Job, warm: _Warm | None) -> Executed | ExecutionError:
        """Run the job (in its warm kernel, else in one started now); ``run`` stops the
        kernel."""
        root = warm.root if warm is not None else scratch_dir()
        kernel: Kernel | None = None
        try:
            if warm is not None:
                kernel = warm.kernel
                return run(kernel, job.steps[job.warm :], warm.runner, job.follow_up)
            kernel = start_kernel(job.options, root)
            if not batch.own(kernel):
                kernel.stop()
                return ExecutionError("the batch was stopped")
            return run(kernel, job.steps, None, job.follow_up)
        except ExecutionError as e:
            return e
        except Exception as e:  # a bug must not stop the batch: it is this job's failure
            return ExecutionError(f"internal error while running: {type(e).__name__}: {e}")
        finally:
            if kernel is not None:
                batch.release(kernel)
            shutil.rmtree(root, ignore_errors=True)

    @staticmethod
    def _stop(batch: _Batch, kernel: Kernel, root: Path) -> None:
        try:
            kernel.stop()
        finally:
            batch.release(kernel)
            shutil.rmtree(root, ignore_errors=True)
