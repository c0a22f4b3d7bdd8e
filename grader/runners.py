"""How a grading gets its run: the one grading path (``grader.grading.grade_one``) takes a
runner, so that the same sequence serves a kernel started for it, a run that came back from
a batch's backend, and a run the gradebook stored (a regrade).

A runner takes the steps to run, and a follow-up to run after each export while the kernel
is alive (``grader.execute.FollowUp``: a runner that starts a kernel passes it down; a run
that is over has had its own), and returns a ``Running``: the run under way (or already
done). The grading does what judging needs meanwhile, then asks for the result; when it
fails first, it abandons the run (a kernel is stopped).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from .assemble import Step
from .execute import ExecOptions, Executed, FollowUp, Kernel, run, start_kernel
from .execute.scratch import remove_scratch, scratch_dir


class Running(Protocol):
    """A run under way, or done."""

    def done(self) -> bool:
        """Whether the result is there (then nothing is worth doing ahead of it)."""
        ...

    def result(self) -> Executed:
        """The run's record, once it is done (raises what the run raised)."""
        ...

    def abandon(self) -> None:
        """The grading failed before it wanted the result: stop the run."""
        ...


class Runner(Protocol):
    """How a grading gets its run."""

    def __call__(self, steps: Sequence[Step], follow_up: FollowUp | None = None) -> Running:
        """The run of ``steps`` (``follow_up`` after each export, where a kernel runs)."""
        ...


@dataclass(frozen=True)
class Ran:
    """A run that is over: a backend's outcome, or the run a gradebook stored."""

    executed: Executed

    def done(self) -> bool:
        """Always: it ran."""
        return True

    def result(self) -> Executed:
        """The record."""
        return self.executed

    def abandon(self) -> None:
        """Nothing runs."""


def ran(executed: Executed) -> Runner:
    """The runner of a run that is over (the steps it is given are the ones it ran, and
    what its follow-ups added is in it)."""

    def runner(steps: Sequence[Step], follow_up: FollowUp | None = None) -> Running:
        return Ran(executed)

    return runner


@dataclass(frozen=True)
class InKernel:
    """The steps running in a worker thread, in a kernel of their own."""

    kernel: Kernel
    future: Future[Executed]

    def done(self) -> bool:
        """Whether the kernel is through the steps (and stopped)."""
        return self.future.done()

    def result(self) -> Executed:
        """Wait for the run."""
        return self.future.result()

    def abandon(self) -> None:
        """Close the kernel: the worker then finds it dead and stops."""
        self.kernel.close()


def started_kernel(kernel: Kernel, worker: ThreadPoolExecutor) -> Runner:
    """Run in ``kernel``, launched earlier (it booted while the submission was read), from
    ``worker`` (one thread); ``run`` stops the kernel when done."""

    def runner(steps: Sequence[Step], follow_up: FollowUp | None = None) -> Running:
        return InKernel(kernel, worker.submit(run, kernel, steps, None, follow_up))

    return runner


def fresh_kernel(options: ExecOptions) -> Runner:
    """Run in a kernel started now, in a folder of its own, from this thread (the result is
    there when the runner returns)."""

    def runner(steps: Sequence[Step], follow_up: FollowUp | None = None) -> Running:
        root = scratch_dir()
        try:
            return Ran(run(start_kernel(options, root), steps, None, follow_up))
        finally:
            remove_scratch(root)

    return runner
