"""The course's policies, applied to graded attempts: late penalties, extensions, and which
attempt counts. Pure functions of plain data.

A submission is late by the time between its due date (or the student's extension) and when
it was handed in; within the grace period it is on time. Each started day (or hour) late
costs ``penalty`` percent of its score; past the cut-off it earns nothing. Of a student's
attempts at an assignment, the last one handed in counts, or the best after penalties.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .gradebook import Attempt


@dataclass(frozen=True)
class LatePolicy:
    """How lateness costs points (the default: it costs nothing)."""

    penalty: float = 0.0  # percent of the score lost per started unit late
    per: Literal["day", "hour"] = "day"
    grace_minutes: float = 0.0
    cutoff_days: float | None = None  # later than this after the due date earns 0


@dataclass(frozen=True)
class Policies:
    """The course's policies (course.yaml ``policies:``)."""

    late: LatePolicy = field(default_factory=LatePolicy)
    attempts: Literal["best", "last"] = "last"
    # (student, assignment) -> that student's due date
    extensions: Mapping[tuple[str, str], dt.datetime] = field(default_factory=dict)
    extensions_file: str = ""  # where they came from, relative to course.yaml


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
    note: str = ""


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
) -> list[Final]:
    """Every (student, assignment)'s final score; students without an attempt get 0."""
    by_key: dict[tuple[str, str], list[Attempt]] = {}
    for a in attempts:
        if a.assignment in due:
            by_key.setdefault((a.student, a.assignment), []).append(a)
    for student in students:
        for assignment in due:
            by_key.setdefault((student, assignment), [])
    out = []
    for (student, assignment), found in sorted(by_key.items()):
        deadline = policies.extensions.get((student, assignment), due[assignment])
        graded = [a for a in found if a.status == "graded"]
        scored = []
        for a in graded:
            late = late_by(a.submitted_at, deadline)
            score, note = penalised(a.score, late, policies.late)
            scored.append((a, late, score, note))
        maximum = max_scores.get(assignment, 0.0)
        if not scored:
            reason = found[-1].reason if found else "nothing handed in"
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
                )
            )
            continue
        if policies.attempts == "best":
            chosen = max(scored, key=lambda x: x[2])
        else:
            chosen = max(scored, key=lambda x: (x[0].submitted_at or _EPOCH, x[0].grading))
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


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
    return " ".join(parts[:2])
