"""The course's policies, applied to graded attempts: late penalties, extensions, and which
attempt counts. Pure functions of plain data.

An extension line names its student as the instructor knows them: the id (in any case or
Unicode form: ids compare after ``grader.students.normalised``), the e-mail of the release's
roster, or the id of the learning-management system the files came from (``grader.extensions``
gathers the names each student goes by). A line that names nobody is never silently dropped:
with a roster it is an error naming the file and the line (the class is known), unless it
is a number (the LMS id of a student who has handed nothing in yet?); without a roster it
is a warning wherever the gradebook's students are listed (the student may not have handed
anything in yet). A line that names two students is an error.

A submission is late by the time between its due date (or the student's extension) and when
it was handed in; within the grace period it is on time. Each started day (or hour) late
costs ``penalty`` percent of its score; past the cut-off it earns nothing. Of a student's
attempts at an assignment, the last one handed in counts, or the best after penalties.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .errors import SpecError
from .frozen import freeze_fields
from .students import normalised

if TYPE_CHECKING:
    from .results import Attempt


@dataclass(frozen=True)
class LatePolicy:
    """How lateness costs points (the default: it costs nothing)."""

    penalty: float = 0.0  # percent of the score lost per started unit late
    per: Literal["day", "hour"] = "day"
    grace_minutes: float = 0.0
    cutoff_days: float | None = None  # later than this after the due date earns 0


@dataclass(frozen=True)
class Extension:
    """One line of the extensions file: a later due date for the student it names (an id,
    an e-mail or an LMS id: ``grader.extensions`` matches it to a student)."""

    student: str
    assignment: str
    due: dt.datetime
    path: str
    line: int


@dataclass(frozen=True)
class Policies:
    """The course's policies (course.yaml ``policies:``)."""

    late: LatePolicy = field(default_factory=LatePolicy)
    attempts: Literal["best", "last"] = "last"
    extensions: tuple[Extension, ...] = ()
    extensions_file: str = ""  # where they came from, relative to course.yaml
    # When a report may show a function's hidden cases: never, or once the assignment is
    # closed to everyone (``closes``).
    reveal_hidden: Literal["never", "after_due"] = "never"

    def __post_init__(self) -> None:
        freeze_fields(self, "extensions")

    def closes(self, assignment: str, due: dt.datetime | None) -> dt.datetime | None:
        """When no one can hand in the assignment for credit any more: its latest due date
        (extensions included), plus the late cutoff; None when that never comes (no due date,
        or late work accepted with no cutoff)."""
        if due is None:
            return None
        latest = max([due, *(e.due for e in self.extensions if e.assignment == assignment)])
        late = self.late
        if late.cutoff_days is not None:
            return latest + dt.timedelta(days=late.cutoff_days)
        if late.penalty > 0:
            return None  # late work earns points for ever
        return latest + dt.timedelta(minutes=late.grace_minutes)


@dataclass(frozen=True)
class Matched:
    """The extensions matched to students: the due dates by (student, assignment), and a
    warning for each line that matched nobody (without a roster)."""

    dates: Mapping[tuple[str, str], dt.datetime]  # (student, assignment) -> their due date
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        freeze_fields(self, "dates", "warnings")


@dataclass(frozen=True)
class Final:
    """A student's score for an assignment, after the policies."""

    student: str
    assignment: str
    attempt: Attempt | None  # the attempt that counts (None: nothing graded)
    attempts: int
    raw: float  # its score before the late penalty
    late_by: dt.timedelta  # zero when on time
    penalty: float  # points taken off
    score: float  # what counts
    max_score: float
    note: str = ""  # the late policy's word, or why nothing was graded
    # nothing handed in, and the student's own due date (an extension's) still ahead: the
    # student's own due date, else None
    open_until: dt.datetime | None = None

    @property
    def status(self) -> str:
        """What the row is, as an export says it: ``graded``; ``late`` (past the grace
        period); ``awaiting review`` (manual answers not yet reviewed; ``late, awaiting
        review`` when both); ``refused: <why>`` (handed in, nothing could be graded);
        ``not due yet (due ...)`` (nothing handed in, the student's own due date ahead);
        ``not submitted``."""
        if self.attempt is None:
            if self.attempts:
                return f"refused: {self.note}"
            if self.open_until is not None:  # nothing handed in, its due date ahead: not_due
                return f"not due yet (due {self.open_until:%Y-%m-%d %H:%M} UTC)"
            return "not submitted"
        words = ["late"] * bool(self.note) + ["awaiting review"] * bool(self.attempt.awaiting)
        return ", ".join(words) or "graded"

    @property
    def not_due(self) -> bool:
        """Nothing handed in, and the student's own due date is still ahead."""
        return self.attempt is None and not self.attempts and self.open_until is not None

    @property
    def awaiting(self) -> float:
        """The points of the attempt's manual answers that await a review."""
        return self.attempt.awaiting_points if self.attempt is not None else 0.0

    @property
    def judged_max(self) -> float:
        """The maximum of what is scored so far: without the points awaiting a review, which
        the score leaves out too (never counted as 0)."""
        return max(0.0, self.max_score - self.awaiting)


def late_by(submitted_at: dt.datetime | None, due: dt.datetime | None) -> dt.timedelta:
    """How late a submission was (zero when on time, without a due date or a time)."""
    if submitted_at is None or due is None or submitted_at <= due:
        return dt.timedelta(0)
    return submitted_at - due


def penalised(score: float, late: dt.timedelta, policy: LatePolicy) -> tuple[float, str]:
    """The score after the late policy, and a note saying what was taken off."""
    if late <= dt.timedelta(minutes=policy.grace_minutes):
        return score, ""
    if policy.cutoff_days is not None and late > dt.timedelta(days=policy.cutoff_days):
        return 0.0, f"late by {_duration(late)}: past the {policy.cutoff_days:g}-day cut-off"
    unit = dt.timedelta(days=1) if policy.per == "day" else dt.timedelta(hours=1)
    units = math.ceil(late / unit)
    fraction = min(1.0, units * policy.penalty / 100)
    if fraction == 0:
        return score, f"late by {_duration(late)}"
    note = f"late by {_duration(late)}: -{fraction:.0%} ({units} {policy.per}{'s' * (units > 1)})"
    return round(score * (1 - fraction), 4), note


def finals(
    attempts: Iterable[Attempt],
    due: Mapping[str, dt.datetime | None],
    max_scores: Mapping[str, float],
    policies: Policies,
    students: Iterable[str] = (),
    extensions: Mapping[tuple[str, str], dt.datetime] | None = None,
    now: dt.datetime | None = None,
) -> list[Final]:
    """Every (student, assignment)'s final score; students without an attempt get 0 (and,
    when their own due date is after ``now``, default the present, say it is not due yet).
    ``extensions``: the due dates of the extensions, matched to the students (see
    ``grader.extensions``); by default the lines are matched by student id alone."""
    now = now or dt.datetime.now(dt.timezone.utc)
    by_key: dict[tuple[str, str], list[Attempt]] = {}
    for a in attempts:
        if a.assignment in due:
            by_key.setdefault((a.student, a.assignment), []).append(a)
    for student in students:
        for assignment in due:
            by_key.setdefault((student, assignment), [])
    if extensions is None:
        extensions = match_extensions(policies, {student: () for student, _ in by_key}).dates
    out = []
    for (student, assignment), found in sorted(by_key.items()):
        deadline = extensions.get((student, assignment), due[assignment])
        graded = [a for a in found if a.status == "graded"]
        scored = []
        for a in graded:
            late = late_by(a.submitted_at, deadline)
            score, note = penalised(a.score, late, policies.late)
            scored.append((a, late, score, note))
        maximum = max_scores.get(assignment, 0.0)
        if not scored:
            reason = found[-1].reason if found else "nothing handed in"
            ahead = not found and deadline is not None and deadline > now
            out.append(
                Final(
                    student,
                    assignment,
                    None,
                    len(found),
                    0.0,
                    dt.timedelta(0),
                    0.0,
                    0.0,
                    maximum,
                    reason,
                    deadline if ahead else None,
                )
            )
            continue
        if policies.attempts == "best":
            chosen = max(scored, key=lambda x: x[2])
        else:
            chosen = max(scored, key=lambda x: attempt_order(x[0]))
        a, late, score, note = chosen
        out.append(
            Final(
                student,
                assignment,
                a,
                len(found),
                a.score,
                late,
                round(a.score - score, 4),
                score,
                maximum,
                note,
            )
        )
    return out


def match_extensions(
    policies: Policies, names: Mapping[str, Collection[str]], complete: bool = False
) -> Matched:
    """Match every extension line to the one student it names (``names``: student -> the
    names they go by, see ``student_names``). ``complete``: ``names`` is the whole class (a
    roster), so a line that matches nobody is an error; else it is a warning.

    Raises SpecError (naming the file and line) for a line that names two students, or none
    of a complete class."""
    index: dict[str, set[str]] = {}
    for student, known in names.items():
        for name in (student, *known):
            index.setdefault(normalised(name), set()).add(student)
    dates: dict[tuple[str, str], dt.datetime] = {}
    warnings = []
    for ext in policies.extensions:
        found = sorted(index.get(normalised(ext.student), ()))
        if len(found) > 1:
            raise _line_error(ext, f"{ext.student!r} names more than one student: {found}")
        if not found:
            if complete and not ext.student.isdigit():  # a number: an LMS id not seen yet?
                raise _line_error(ext, f"{ext.student!r} is no student of the roster")
            warnings.append(
                f"{ext.path}:{ext.line}: {ext.student!r} matches no student the gradebook knows "
                "(by id, e-mail or LMS id): the extension is not applied"
            )
            continue
        key = (found[0], ext.assignment)
        dates[key] = max(dates.get(key, ext.due), ext.due)  # two lines: the later date
    return Matched(dates, tuple(warnings))


def _line_error(ext: Extension, message: str) -> SpecError:
    return SpecError(message, ext.path, ext.line)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def attempt_order(a: Attempt) -> tuple[dt.datetime, int]:
    """The order of a student's attempts: the latest (under the `latest` policy, the one that
    counts) last."""
    return (a.submitted_at or _EPOCH, a.grading)


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
    return " ".join(parts[:2])
