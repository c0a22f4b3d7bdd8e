"""What running a submission produced, as plain picklable records (no kernel, no files).

An ``Executed`` holds every step's outcome and every collected export (the answer as plain
JSON data, model weights as the bytes ``torch.save`` wrote), so it can be judged in another
process, or on another machine, than the one that ran the kernel. ``outcome_data`` and
``outcome_from`` are the one JSON form of a step's outcome (the gradebook stores it, a Dask
worker sends it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from ..frozen import freeze_fields
from ..results import StudentError

Status = Literal["ok", "error", "timeout", "died", "skipped", "output"]
# What is kept of a student's exception (a kernel's error output is cut to these).
MAX_ENAME_CHARS = 200
MAX_EVALUE_CHARS = 2000
MAX_TRACEBACK_CHARS = 20_000


@dataclass(frozen=True)
class StepOutcome:
    """What happened when one step ran."""

    status: Status
    error: StudentError | None = None


@dataclass(frozen=True)
class ExportRecord:
    """One exercise's export, collected right after its export step (nonce-checked).

    ``payload`` is ``{"ok": True, "value": ...}`` (recipe "value"), ``{"ok": True, "class",
    "num_params", "layers", "probe", ...}`` (recipe "model"), possibly with ``"extras"``, or
    ``{"ok": False, "error": "..."}``. ``weights`` is the exported state_dict file, if any.
    """

    payload: Mapping[str, Any]
    weights: bytes | None = None
    # What the grader drew for this export (``grader.draws``: a seed, generated cases), set
    # by the judge from the assembly; never read from the kernel.
    drawn: Mapping[str, Any] = field(default_factory=dict)
    # What the run's follow-ups kept for this export (``steps.FollowUp``: "shrunk", a failing
    # example shrunk in the same kernel), by name; set by the judge from the run's records.
    follow_ups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze_fields(self, "payload", "drawn", "follow_ups")

    @property
    def ok(self) -> bool:
        """Whether the answer was exported (as opposed to an export error for the student)."""
        return self.payload.get("ok") is True


@dataclass(frozen=True)
class Executed:
    """One run of a submission: step outcomes, exports by exercise id, timing, kernel log."""

    outcomes: tuple[StepOutcome, ...]
    exports: Mapping[str, ExportRecord] = field(default_factory=dict)
    duration: float = 0.0
    warnings: tuple[str, ...] = ()
    log: str = ""  # the kernel process's own stdout and stderr: capped and sanitized

    def __post_init__(self) -> None:
        freeze_fields(self, "outcomes", "exports", "warnings")


def outcome_data(outcome: StepOutcome) -> dict[str, Any]:
    """A step's outcome as JSON data: ``{"status": ..., "error": [ename, evalue, tb] | None}``."""
    error = outcome.error
    return {
        "status": outcome.status,
        "error": [error.ename, error.evalue, error.traceback] if error else None,
    }


def outcome_from(data: dict[str, Any]) -> StepOutcome:
    """The outcome ``outcome_data`` made (from a trusted store: a worker's is checked first)."""
    error = data.get("error")
    return StepOutcome(cast(Status, data["status"]), StudentError(*error) if error else None)
