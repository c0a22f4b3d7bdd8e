"""Plain data that flows out of grading: check, exercise and submission results.

A submission's result is three records, each written by one stage: ``Judged`` (the judge:
scores, checks, what the run and the assembly noticed), ``Attribution`` (identity and the
copying check: whose it is, its variant, the flags) and ``Lateness`` (the late policy: its
note and the final score). ``GradeResult`` is what reports, results.json and the gradebook
read: the three side by side, flat, as its JSON has always been (``GradeResult.of``).
``Attempt`` is a grading as the gradebook lists it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

# "pending": checked with a hand-out, its score is decided only at official grading;
# "awaiting review": a manual answer a person scores (`grade review`), never counted as 0
Status = Literal["passed", "partial", "failed", "error", "missing", "pending", "awaiting review"]
AWAITING: Status = "awaiting review"


@dataclass(frozen=True)
class CheckResult:
    """One check of one exercise (partial credit is per check).

    ``expected`` and ``got`` are plain JSON data (numbers, lists, dicts, strings) or None;
    ``mismatches`` lists the indices (as lists of ints) where an array differs.
    """

    name: str
    passed: bool
    weight: float = 1.0
    message: str = ""
    expected: Any = None
    got: Any = None
    mismatches: list[list[int]] | None = None
    # Plain data the report draws for this check (the losses, per-class accuracy, the
    # model summaries): display only, never part of the score.
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudentError:
    """An exception, timeout or crash raised by the student's own code."""

    ename: str
    evalue: str
    traceback: str = ""

    @property
    def summary(self) -> str:
        """One line: ``ZeroDivisionError: division by zero``."""
        return f"{self.ename}: {self.evalue}" if self.evalue else self.ename


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of one exercise: its checks, its score and what to tell the student."""

    id: str
    title: str
    points: float
    score: float
    status: Status
    checks: tuple[CheckResult, ...] = ()
    message: str = ""
    hints: tuple[str, ...] = ()
    error: StudentError | None = None
    mistake: str = ""  # the title of the known mistake the answer matches, if any
    # A manual answer: the answer cell's text as handed in (never run), for its reviewer.
    answer: str = ""
    # The latest review of it (``grader.reviews``): items checked, points, comment, reviewer,
    # when, and an override's reason; None when nobody reviewed it.
    review: dict[str, Any] | None = None


@dataclass(frozen=True)
class Judged:
    """The judge's record of one run (``grader.judge.record.judged`` writes it)."""

    course: str
    assignment: str
    submission: str
    score: float
    max_score: float
    execution_time: float
    exercises: tuple[ExerciseResult, ...]
    notices: tuple[str, ...] = field(default=())  # the run's warnings, the assembly's notices
    graded_at: str = ""
    # With a hand-out: the points whose outcome is known here (the rest is decided at official
    # grading); None for official grading, where every point is decided.
    checked: float | None = None
    grader_version: str = ""
    # The kernel process's own stdout/stderr (sanitized, capped): for `--debug`, not reports.
    log: str = field(default="", repr=False)
    # The points of manual answers awaiting review: in neither ``score`` nor ``max_score``.
    awaiting: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view (JSON-serialisable)."""
        return asdict(self)


@dataclass(frozen=True)
class Attribution:
    """Whose a submission is and what the instructor should look at in it: the student and
    variant ``grader.identity`` decided, the flags of intake and identity, and the copying
    check's (``grader.copying``) with the other students whose numbers the answers match
    (instructor views only; "-" is the default numbers)."""

    student: str = ""
    variant: str = ""
    flags: tuple[str, ...] = ()
    copied_from: str = ""


@dataclass(frozen=True)
class Lateness:
    """The late policy's word on a submission (``grader.policies.penalised``)."""

    note: str = ""  # e.g. "late by 1 day 2 h: -10% (2 days)"; "" when on time
    final_score: float | None = None  # the score after the late penalty


@dataclass(frozen=True)
class GradeResult:
    """The outcome of grading one submission: ``Judged``, ``Attribution`` and ``Lateness``
    side by side (build one with ``GradeResult.of``)."""

    course: str
    assignment: str
    submission: str
    score: float
    max_score: float
    execution_time: float
    exercises: tuple[ExerciseResult, ...]
    notices: tuple[str, ...] = field(default=())
    graded_at: str = ""
    # With a hand-out: the points whose outcome is known here (the rest is decided at official
    # grading); None for official grading, where every point is decided.
    checked: float | None = None
    grader_version: str = ""
    # Set where the gradebook knows them (a batch's reports): who, and the late policy's word.
    student: str = ""
    late: str = ""  # e.g. "late by 1 day 2 h: -10% (2 days)"; "" when on time
    final_score: float | None = None  # the score after the late penalty
    # With a roster (per-student numbers): the variant graded against, and what the
    # instructor should look at (an edited or borrowed notebook, copied answers): flags a
    # student may read, and the other student(s) whose numbers the answers match (instructor
    # views only; "-" is the default numbers).
    variant: str = ""
    flags: tuple[str, ...] = field(default=())
    copied_from: str = ""
    # The kernel process's own stdout/stderr (sanitized, capped): for `--debug`, not reports.
    log: str = field(default="", repr=False)
    # The points of manual answers awaiting review: in neither ``score`` nor ``max_score``.
    awaiting: float = 0.0

    @classmethod
    def of(
        cls,
        judged: Judged,
        who: Attribution | None = None,
        lateness: Lateness | None = None,
        notices: tuple[str, ...] = (),
    ) -> GradeResult:
        """The result of the three records; ``notices`` of the stages before the run (intake,
        the assignment's choice, identity) come before the judge's."""
        who = who or Attribution()
        lateness = lateness or Lateness()
        return cls(
            **{f: getattr(judged, f) for f in Judged.__dataclass_fields__},
            student=who.student,
            variant=who.variant,
            flags=who.flags,
            copied_from=who.copied_from,
            late=lateness.note,
            final_score=lateness.final_score,
        ).with_notices(notices)

    @property
    def judged(self) -> Judged:
        """The judge's record (its notices: all of them)."""
        return Judged(**{f: getattr(self, f) for f in Judged.__dataclass_fields__})

    @property
    def who(self) -> Attribution:
        """Whose it is, and the flags."""
        return Attribution(self.student, self.variant, self.flags, self.copied_from)

    @property
    def lateness(self) -> Lateness:
        """The late policy's word on it."""
        return Lateness(self.late, self.final_score)

    def with_notices(self, notices: tuple[str, ...]) -> GradeResult:
        """The result with ``notices`` before its own."""
        return replace(self, notices=(*notices, *self.notices)) if notices else self

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view (JSON-serialisable)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeResult:
        """The result ``to_dict`` (and a JSON round trip) described."""
        exercises = tuple(
            ExerciseResult(
                **{
                    **e,
                    "checks": tuple(CheckResult(**c) for c in e.get("checks", ())),
                    "hints": tuple(e.get("hints", ())),
                    "error": StudentError(**e["error"]) if e.get("error") else None,
                }
            )
            for e in data["exercises"]
        )
        return cls(
            **{
                **data,
                "exercises": exercises,
                "notices": tuple(data.get("notices", ())),
                "flags": tuple(data.get("flags", ())),
            }
        )


@dataclass(frozen=True)
class Attempt:
    """One submission and its current grading, as plain data."""

    grading: int
    student: str
    assignment: str
    source: str
    sha256: str
    submitted_at: dt.datetime | None
    status: str  # 'graded' or 'refused'
    reason: str
    score: float
    max_score: float
    graded_at: str
    course_fingerprint: str
    run_fingerprint: str
    exercises: dict[str, float] = field(default_factory=dict)  # exercise id -> score
    flags: tuple[str, ...] = ()  # for the instructor (per-student variants)
    copied_from: str = ""  # whose numbers the answers match, when copying is suspected
    awaiting: tuple[str, ...] = ()  # the exercises whose manual answers await a review
    awaiting_points: float = 0.0  # their points: in neither score nor max_score
    reviews: dict[str, str] = field(default_factory=dict)  # exercise id -> its review, a line
