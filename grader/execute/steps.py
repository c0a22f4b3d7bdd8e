"""How a submission's steps are run in a kernel: deadlines, skips, output budget, restarts.

The policy, apart from the kernel: each step gets what is left of the cell and notebook time
limits and of the output budget; an export step runs only after its answer succeeded, with a
fresh nonce, and its export is collected at once; after a timeout, an output flood or a
death the kernel is not trusted on, so it is restarted and brought back to where the
notebook was (the setup steps and the answer steps that succeeded are run again, their
outcomes already counted); past the notebook's limits the remaining steps are skipped.

A follow-up (``FollowUp``), when the caller gives one, runs right after each export step
whose export was collected, while the kernel still holds the answer: trusted grader code
that may run more export cells in the same kernel (``StepRunner.follow_export``, within the
notebook's limits) and returns more records for the run, under keys ``"<exercise>:..."``
(e.g. a failing example shrunk to a minimal one, ``grader.judge.shrinking``). It adds to
the run; it changes no step's outcome and no export of a step. This module knows nothing
of what it does (execute does not import judge): orchestration passes it down.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..results import StudentError
from .exports import clear_export, collect_export, export_source
from .kernel import Kernel
from .records import ExportRecord, StepOutcome

if TYPE_CHECKING:
    from ..assemble import Step


class FollowExports(Protocol):
    """What a follow-up may ask of the kernel: one more export cell, now."""

    def follow_export(self, name: str, spec: dict[str, Any], seconds: float) -> ExportRecord | None:
        """The export of ``spec`` (an export recipe) as ``name``, collected as an export
        step's is; None when the cell did not succeed (then stop asking)."""
        ...


# (the export step, its collected record, the kernel) -> more records, "<exercise>:..." keys
FollowUp = Callable[["Step", ExportRecord, FollowExports], Mapping[str, ExportRecord]]


class StepRunner:
    """Runs one submission's steps in one kernel (which never serves another submission)."""

    def __init__(
        self, kernel: Kernel, started: float | None = None, follow_up: FollowUp | None = None
    ) -> None:
        self.kernel = kernel
        self.follow_up = follow_up
        self.limits = kernel.limits
        self.started = time.monotonic() if started is None else started
        self.deadline = self.started + self.limits.timeout
        self.budget = self.limits.total_output * 1024  # bytes of output left
        self.replay: list[Step] = []  # what brings a fresh kernel back to where we are
        self.outcomes: list[StepOutcome] = []
        self.exports: dict[str, ExportRecord] = {}

    def restart_clock(self, started: float) -> None:
        """Start the notebook's time limit now (steps run earlier, e.g. setup, not counted)."""
        self.started, self.deadline = started, started + self.limits.timeout

    def run(self, steps: Sequence[Step]) -> None:
        """Run the steps in order, recording an outcome for each."""
        for step in steps:
            self.outcomes.append(self._step(step))

    def _step(self, step: Step) -> StepOutcome:
        if step.role == "export" and (not self.outcomes or self.outcomes[-1].status != "ok"):
            return StepOutcome("skipped")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            msg = f"the notebook ran past its {self.limits.timeout:g} s limit"
            return StepOutcome("skipped", StudentError("Timeout", msg))
        if self.budget <= 0:
            return StepOutcome("skipped", StudentError("OutputLimit", self._total_message()))
        timeout = min(self.limits.cell_timeout, remaining)
        if step.role == "export":
            nonce = secrets.token_hex(16)
            exports = self.kernel.workdir.exports
            clear_export(exports, step.exercise)  # nothing planted earlier counts
            outcome = self._cell(export_source(exports, step.exercise, step.spec, nonce), timeout)
            if outcome.status == "ok":
                record = collect_export(exports, step.exercise, nonce)
                self.exports[step.exercise] = record
                if self.follow_up is not None and record.ok:
                    self._follow(step, record, self.follow_up)
        else:
            outcome = self._cell(step.source, timeout)
            if outcome.status == "ok":
                self.replay.append(step)
        if outcome.status in ("died", "timeout", "output"):
            # An interrupted kernel is not trusted to be in a sane state: start afresh.
            self._restart()
        return outcome

    def follow_export(self, name: str, spec: dict[str, Any], seconds: float) -> ExportRecord | None:
        """One more export cell for a follow-up (``FollowExports``): at most ``seconds``,
        within what is left of the notebook's time and output budget; after a timeout, an
        output flood or a death the kernel is restarted as after any step."""
        timeout = min(seconds, self.limits.cell_timeout, self.deadline - time.monotonic())
        if timeout <= 0 or self.budget <= 0:
            return None
        nonce = secrets.token_hex(16)
        exports = self.kernel.workdir.exports
        clear_export(exports, name)
        outcome = self._cell(export_source(exports, name, spec, nonce), timeout)
        if outcome.status in ("died", "timeout", "output"):
            self._restart()
        if outcome.status != "ok":
            return None
        record = collect_export(exports, name, nonce)
        return record if record.ok else None

    def _follow(self, step: Step, record: ExportRecord, follow_up: FollowUp) -> None:
        """Run the follow-up of an export; what it adds is kept under its exercise's keys.
        It only adds to the run: if it fails, the run is as it would be without it."""
        try:
            found = dict(follow_up(step, record, self))
        except Exception:  # a bug in the follow-up must not cost the student the run
            return
        prefix = step.exercise + ":"
        for key, extra in found.items():
            if key.startswith(prefix) and isinstance(extra, ExportRecord):
                self.exports[key] = extra

    def _cell(self, source: str, timeout: float) -> StepOutcome:
        cap = self.limits.output * 1024
        outcome, used, over = self.kernel.run_cell(source, timeout, cap, self.budget)
        self.budget -= used
        if over == "total":
            self.budget = 0
        if outcome.status == "output":
            msg = (
                f"the cell printed more than {self.limits.output} KiB"
                if over == "cell"
                else self._total_message()
            )
            return StepOutcome("output", StudentError("OutputLimit", msg))
        if outcome.status == "died" and outcome.error is None:
            return StepOutcome("died", StudentError("KernelDied", self._death()))
        return outcome

    def _restart(self) -> None:
        self.kernel.restart()
        for step in self.replay:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                break
            _, used, _ = self.kernel.run_cell(
                step.source,
                min(self.limits.cell_timeout, remaining),
                self.limits.output * 1024,
                max(0, self.budget),
            )
            self.budget -= used

    def _total_message(self) -> str:
        return f"the notebook printed more than {self.limits.total_output} KiB in all"

    def _death(self) -> str:
        if self.kernel.oom_killed():
            return f"the kernel ran out of memory (limit {self.limits.memory} MiB) and was stopped"
        return "the kernel died (a crash, running out of memory, or the process exited)"
