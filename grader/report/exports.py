"""The gradebook for other tools: a grades CSV, Gradescope results.json, JUnit XML.

The CSV has one row a student and, per assignment, a column an exercise, then the score, how
late the counted attempt was (hours), the late penalty and the final score after the course's
policies: it opens in a spreadsheet and
imports into an LMS gradebook. Student ids and messages are student-controlled text: cleaned,
and a CSV cell never starts with a character a spreadsheet would read as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..policies import Final
from ..results import GradeResult
from ..sanitize import clean_text
from .formats import _write_atomic, junit_xml, results_json

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def grades_csv(
    finals: Sequence[Final],
    exercises: Mapping[str, Sequence[str]],
    multi: bool | None = None,
    manual: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The grades table as CSV text; ``exercises``: assignment id -> its exercise ids, in
    order. Column names carry the assignment (``ps1 corr1d-same``) when there are several.
    An answer awaiting review says so; an assignment with manual exercises (``manual``: its
    ids), or with reviews, has a ``reviews`` column: each review's points, rubric items,
    comment, reviewer (and an override's reason), and an ``awaiting review`` column: the
    points not yet reviewed, which ``max`` leaves out as ``score`` does (as results.json)."""
    multi = len(exercises) > 1 if multi is None else multi
    manual = manual or {}
    reviewed = {
        f.assignment for f in finals if f.attempt and (f.attempt.reviews or f.attempt.awaiting)
    }
    header = ["student"]
    for assignment, ids in exercises.items():
        prefix = f"{assignment} " if multi else ""
        header += [f"{prefix}{e}" for e in ids]
        reviews = bool(manual.get(assignment)) or assignment in reviewed
        if reviews:
            header.append(f"{prefix}reviews")
        header += [
            f"{prefix}score",
            f"{prefix}late hours",
            f"{prefix}late penalty",
            f"{prefix}final",
            f"{prefix}max",
        ]
        if reviews:
            header.append(f"{prefix}awaiting review")
    rows: dict[str, dict[str, object]] = {}
    for f in finals:
        if f.assignment not in exercises:
            continue
        prefix = f"{f.assignment} " if multi else ""
        row = rows.setdefault(f.student, {"student": _cell(f.student)})
        scored = f.attempt.exercises if f.attempt else {}
        awaiting = f.attempt.awaiting if f.attempt else ()
        for e in exercises[f.assignment]:
            row[f"{prefix}{e}"] = (
                "awaiting review" if e in awaiting else _number(scored.get(e, 0.0))
            )
        if f"{prefix}reviews" in header and f.attempt and f.attempt.reviews:
            row[f"{prefix}reviews"] = _cell(
                "; ".join(
                    f"{e}: {f.attempt.reviews[e]}"
                    for e in exercises[f.assignment]
                    if e in f.attempt.reviews
                )
            )
        row[f"{prefix}score"] = _number(f.raw)
        row[f"{prefix}late hours"] = _number(f.late_by.total_seconds() / 3600)
        row[f"{prefix}late penalty"] = _number(f.penalty)
        row[f"{prefix}final"] = _number(f.score)
        row[f"{prefix}max"] = _number(f.judged_max)
        if f"{prefix}awaiting review" in header:
            row[f"{prefix}awaiting review"] = _number(f.awaiting)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for student in sorted(rows):
        writer.writerow(rows[student])
    return out.getvalue()


def final_result(result: GradeResult, final: Final) -> GradeResult:
    """A submission's result as it counts: the late penalty taken off, and said."""
    if not final.penalty and not final.note:
        return result
    note = f"Late policy: {final.note}; {final.raw:g} -> {final.score:g} points."
    return replace(result, score=final.score, notices=(*result.notices, note))


def write_gradescope(results: Mapping[str, GradeResult], folder: Path) -> list[Path]:
    """One Gradescope results.json per student (``<student>.results.json``), to upload to
    Gradescope: its hidden test (flags) is for the staff, in their words."""
    written = []
    for student, result in sorted(results.items()):
        path = folder / f"{_file_name(student)}.results.json"
        data = json.dumps(results_json(result, staff=True), indent=2, allow_nan=False)
        _write_atomic(path, data + "\n")
        written.append(path)
    return written


def write_junit(results: Sequence[GradeResult], path: Path) -> None:
    """One JUnit XML file: a testsuite per submission, a testcase per exercise."""
    _write_atomic(path, junit_xml(list(results)))


def _cell(text: str) -> str:
    text = clean_text(text).replace("\n", " ")
    return "'" + text if text.startswith(FORMULA_START) else text


def _number(x: float) -> str:
    return f"{round(x, 4):g}"


def _file_name(student: str) -> str:
    return "".join(c if c.isalnum() or c in "._@+-" else "_" for c in student)[:64] or "_"
