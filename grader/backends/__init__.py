"""Where a batch's submissions run: on this machine (a pool of warm kernels) or on a Dask
cluster. A backend turns jobs (steps and options, plain data) into Executed records; the
coordinating process judges them and writes the one gradebook.

    local.py    threads here, each driving sandboxed kernels started (and warmed) in advance
    dask.py     tasks on the workers of a Dask distributed scheduler, through the courier
    courier.py  the child process that holds the Dask Client (never the coordinator)
    task.py     what a worker runs for one job: it returns bytes
    wire.py     those bytes and the courier's frames, checked by the coordinator
    cluster.py  the scheduler's address and certificates, and whether they may be used
    certs.py    ``grade cluster-certs``: a CA, and certificates for scheduler, workers, client
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ..assemble import Step
from ..errors import ExecutionError
from ..execute import ExecOptions, Executed, FollowUp

__all__ = ["Backend", "Job", "JobResult", "RunEvent", "Started", "Watch", "WorkerLost"]


@dataclass(frozen=True)
class Job:
    """One submission's run: picklable, so that a Dask worker can take it."""

    key: str  # the batch's handle on it
    steps: tuple[Step, ...]
    options: ExecOptions
    warm: int = 0  # the leading steps that are the course's setup (a warm kernel ran them)
    # Run after each export, in this process's kernels only (``grader.execute.FollowUp``: it
    # holds the reference): never sent to a cluster, whose workers have no course.
    follow_up: FollowUp | None = field(default=None, compare=False, repr=False)

    @property
    def prefix(self) -> tuple[Step, ...]:
        """The trusted setup steps a kernel may run before this job is known."""
        return self.steps[: self.warm]


JobResult = tuple[Job, "Executed | ExecutionError"]


@dataclass(frozen=True)
class Started:
    """A job began to run: its own steps, in a kernel of ``worker`` (a cluster's worker's
    address; "" on this machine). ``again``: it had begun before, on a worker since lost."""

    job: Job
    worker: str = ""
    again: bool = False


@dataclass(frozen=True)
class WorkerLost:
    """A cluster's worker left while it had these jobs; the scheduler runs them again. ``left``:
    the workers the cluster has still (None when not known)."""

    worker: str
    jobs: tuple[Job, ...] = ()
    left: int | None = None


RunEvent = Started | WorkerLost
Watch = Callable[[RunEvent], None]  # called in the thread that consumes ``run``'s results


class Backend(Protocol):
    """Runs jobs, as many at once as it has workers, and yields each as it finishes."""

    notices: tuple[str, ...]  # for the operator, once per batch (e.g. a missing sandbox)

    def run(self, jobs: Iterable[Job], watch: Watch | None = None) -> Iterator[JobResult]:
        """Results in the order they finish; every job yields exactly once. ``watch`` hears
        of each job as it begins to run, and of lost workers, between results."""
        ...

    def close(self) -> None:
        """Stop every kernel and worker connection."""
        ...
