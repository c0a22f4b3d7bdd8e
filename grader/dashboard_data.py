"""The class dashboard's figures, read from the gradebook: per assignment, every student's
final score (``grader.finals``), each exercise's success rate and most common wrong answers,
the late, errored and flagged submissions, and the links to the reports ``grade batch``
wrote. ``grader.report.dashboard`` holds the records and renders the page.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .finals import class_finals
from .flags import staff_note
from .gradebook import Gradebook
from .policies import Final
from .report.dashboard import (
    ANSWER_CHARS,
    NOTE_CHARS,
    PER_STUDENT,
    AssignmentView,
    Dashboard,
    ExerciseStats,
    Flagged,
    StudentRow,
    WrongAnswer,
    histogram,
)
from .report.formats import report_paths
from .report.text import _cut, distinct_texts
from .results import Attempt
from .spec import Assignment, Course
from .spec.varying import varying_exercises

TOP_WRONG = 5  # wrong answers shown per exercise


def class_dashboard(
    course: Course,
    gradebook: Gradebook,
    assignment_ids: Sequence[str] | None,
    reports: Path,
    page: Path,
) -> Dashboard:
    """The dashboard of some assignments (None: every one with submissions). Every student
    of the gradebook has a row; report links are relative to ``page``'s folder."""
    found = class_finals(course, gradebook, assignment_ids, everyone=True)
    views = []
    for aid in found.assignments:
        mine = [a for a in found.attempts if a.assignment == aid]
        # a refused file that says no student is listed as errored only, not in the table
        rows = [f for f in found.of(aid) if f.student]
        assignment = course.assignment(aid)
        views.append(_assignment_view(course, assignment, gradebook, mine, rows, reports, page))
    when = dt.datetime.now(dt.timezone.utc)
    return Dashboard(course.name, f"{when:%Y-%m-%d %H:%M} UTC", tuple(views))


def _assignment_view(
    course: Course,
    assignment: Assignment,
    gradebook: Gradebook,
    attempts: list[Attempt],
    rows: list[Final],
    reports: Path,
    page: Path,
) -> AssignmentView:
    maximum = assignment.max_score(course)
    # grading -> exercise id -> that exercise's stored result (a dict of the GradeResult JSON)
    stored = gradebook.stored_results([f.attempt.grading for f in rows if f.attempt is not None])
    outcomes = {
        grading: {e["id"]: e for e in result.get("exercises", ())}
        for grading, result in stored.items()
    }
    # graded against per-student numbers (a roster): their wrong answers differ student by
    # student, so they are grouped by the known mistake they match instead
    varying = (
        {ex.id for ex in varying_exercises(course, assignment.id)}
        if any(result.get("variant") for result in stored.values())
        else set()
    )
    grace = dt.timedelta(minutes=course.policies.late.grace_minutes)
    table, late, flagged = [], [], []
    errored = [
        Flagged(a.student, a.source, _cut(f"refused: {a.reason}", NOTE_CHARS))
        for a in attempts
        if a.status == "refused"
    ]
    for f in rows:
        counted = f.attempt
        mine = outcomes.get(counted.grading, {}) if counted else {}
        errors = [e for e in mine.values() if e.get("status") == "error"]
        is_late = counted is not None and f.late_by > grace
        if counted is not None and is_late:
            late.append(Flagged(f.student, counted.source, _cut(f.note, NOTE_CHARS)))
        if counted is not None and errors:
            what = _errors_line(errors)
            errored.append(Flagged(f.student, counted.source, _cut(what, 2 * NOTE_CHARS)))
        if counted is not None and counted.flags:
            note = staff_note(counted.flags, counted.copied_from)
            flagged.append(Flagged(f.student, counted.source, _cut(note, 400)))
        table.append(
            StudentRow(
                student=f.student,
                score=f.raw,
                penalty=f.penalty,
                final=f.score,
                exercises=tuple(
                    counted.exercises.get(e) if counted else None for e in assignment.exercises
                ),
                status=_status(f, is_late, bool(errors), bool(counted and counted.flags)),
                note=_cut(f.note, NOTE_CHARS),
                report=_report_link(reports, page, assignment.id, counted),
            )
        )
    return AssignmentView(
        id=assignment.id,
        title=assignment.title,
        anchor="a-" + re.sub(r"[^A-Za-z0-9_-]+", "-", assignment.id),
        max_score=maximum,
        exercises=_exercise_stats(course, assignment, gradebook, outcomes, varying),
        histogram=histogram([f.score for f in rows], maximum),
        students=tuple(table),
        late=tuple(late),
        errored=tuple(errored),
        flagged=tuple(flagged),
    )


def _exercise_stats(
    course: Course,
    assignment: Assignment,
    gradebook: Gradebook,
    outcomes: dict[int, dict[str, dict[str, Any]]],
    varying: set[str],
) -> tuple[ExerciseStats, ...]:
    """Full and partial marks per exercise, and the wrong answers students gave most often
    (their exported values, grouped by canonical JSON; model answers have no value; the
    ``varying`` exercises' by the known mistake they match)."""
    short = {
        (grading, eid): e
        for grading, mine in outcomes.items()
        for eid, e in mine.items()
        if e.get("score", 0) < e.get("points", 0)
    }
    answers = gradebook.answers(short.keys())
    wrong: dict[str, Counter[str]] = {}
    raw: dict[str, Any] = {}  # canonical JSON -> the value
    mistakes: dict[tuple[str, str], Counter[str]] = {}
    for (grading, eid), payload in answers.items():
        if not (isinstance(payload, dict) and payload.get("ok") is True and "value" in payload):
            continue
        mistake = short[grading, eid].get("mistake") or ""  # absent in older gradebooks
        if eid in varying:  # every student has their own numbers: group by misconception
            canonical = "mistake:" + mistake
        else:
            canonical = json.dumps(payload["value"], sort_keys=True, separators=(",", ":"))
            raw.setdefault(canonical, payload["value"])
        wrong.setdefault(eid, Counter())[canonical] += 1
        mistakes.setdefault((eid, canonical), Counter())[mistake] += 1
    stats = []
    for eid in assignment.exercises:
        mine = [m[eid] for m in outcomes.values() if eid in m]
        top = wrong.get(eid, Counter()).most_common(TOP_WRONG)
        # answers cut short alike say their shape and where they differ
        texts = distinct_texts([raw.get(value) for value, _ in top], ANSWER_CHARS)
        stats.append(
            ExerciseStats(
                id=eid,
                title=course.exercises[eid].title,
                points=course.exercises[eid].points,
                graded=len(mine),
                full=sum(e.get("score", 0) >= e.get("points", 0) for e in mine),
                partial=sum(0 < e.get("score", 0) < e.get("points", 0) for e in mine),
                wrong=tuple(
                    WrongAnswer(
                        PER_STUDENT if eid in varying else text,
                        count,
                        _mistake(mistakes[eid, value]),
                    )
                    for (value, count), text in zip(top, texts, strict=True)
                ),
            )
        )
    return tuple(stats)


def _errors_line(errors: list[dict[str, Any]]) -> str:
    """The errored exercises, each with its own cell's error: those that raised the same
    one grouped (``error in a, b: NameError: ...; c: AttributeError: ...``)."""
    by_message: dict[str, list[str]] = {}
    for e in errors:
        message = _cut(str(e.get("message", "")), NOTE_CHARS // 2)  # each one shown
        by_message.setdefault(message, []).append(str(e["id"]))
    parts = [f"{', '.join(ids)}: {message}" for message, ids in by_message.items()]
    return "error in " + "; ".join(parts)


def _mistake(titles: Counter[str]) -> str:
    """The known mistake most of the students who gave an answer were told of ("" if none)."""
    named = [(count, title) for title, count in titles.items() if title]
    return max(named)[1] if named else ""


def _status(final: Final, late: bool, errors: bool, flagged: bool = False) -> str:
    if final.attempt is None:
        return "refused" if final.attempts else "absent"
    return ", ".join(["graded", *["late"] * late, *["error"] * errors, *["flagged"] * flagged])


def _report_link(reports: Path, page: Path, assignment: str, attempt: Attempt | None) -> str:
    """The counted attempt's report, relative to the page and URL-quoted ("" when there is
    no such file)."""
    if attempt is None:
        return ""
    html, _ = report_paths(reports, assignment, attempt.student, attempt.sha256)
    if not html.is_file():
        return ""
    return quote(Path(os.path.relpath(html.resolve(), page.resolve().parent)).as_posix())
