"""The gradebook for other tools: a grades CSV, a Canvas gradebook import, Gradescope
results.json, JUnit XML.

The grades CSV has one row a student: the id, name and e-mail (the roster's), then per
assignment its status (graded, late, awaiting review, refused: why, not submitted), a column
an exercise, the score, how late the counted attempt was (hours), the late penalty and the
final score after the course's policies, and the maximum: it opens in a spreadsheet. The
Canvas file is what Canvas's gradebook import reads: its five student columns, a column an
assignment (its title), a ``Points Possible`` row, and numbers only in the grade cells.
Student ids, names and messages are student-controlled text: cleaned, and a CSV cell never
starts with a character a spreadsheet would read as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..policies import Final
from ..results import ExerciseResult, GradeResult
from ..sanitize import clean_text
from ..spec import Course
from .formats import _write_atomic, junit_xml, results_json

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"
NAMED = 5  # how many students a note names


@dataclass(frozen=True)
class Person:
    """Who a student is beyond their id, where the roster or the LMS says."""

    name: str = ""
    email: str = ""
    lms_id: str = ""  # the LMS's user id (Canvas's), from the names of the files handed in


def grades_csv(
    finals: Sequence[Final],
    exercises: Mapping[str, Sequence[str]],
    multi: bool | None = None,
    manual: Mapping[str, Sequence[str]] | None = None,
    people: Mapping[str, Person] | None = None,
) -> str:
    """The grades table as CSV text; ``exercises``: assignment id -> its exercise ids, in
    order; ``people``: the students' names and e-mails (the ``name`` and ``email`` columns,
    empty without). Column names carry the assignment (``ps1 corr1d-same``) when there are
    several. ``status`` says what each row is (``Final.status``); a row with nothing graded
    has empty exercise cells and 0 as its score and final. An answer awaiting review says
    so; an assignment with manual exercises (``manual``: its ids), or with reviews, has a
    ``reviews`` column: each review's points, rubric items, comment, reviewer (and an
    override's reason), and an ``awaiting review`` column: the points not yet reviewed,
    which ``max`` leaves out as ``score`` does (as results.json)."""
    multi = len(exercises) > 1 if multi is None else multi
    manual = manual or {}
    people = people or {}
    reviewed = {
        f.assignment for f in finals if f.attempt and (f.attempt.reviews or f.attempt.awaiting)
    }
    header = ["student", "name", "email"]
    for assignment, ids in exercises.items():
        prefix = f"{assignment} " if multi else ""
        header.append(f"{prefix}status")
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
        who = people.get(f.student, Person())
        row = rows.setdefault(
            f.student,
            {"student": _cell(f.student), "name": _cell(who.name), "email": _cell(who.email)},
        )
        row[f"{prefix}status"] = _cell(f.status)
        scored = f.attempt.exercises if f.attempt else {}
        awaiting = f.attempt.awaiting if f.attempt else ()
        for e in exercises[f.assignment]:
            row[f"{prefix}{e}"] = (
                ""
                if f.attempt is None
                else "awaiting review"
                if e in awaiting
                else _number(scored.get(e, 0.0))
            )
        if f"{prefix}reviews" in header and f.attempt and f.attempt.reviews:
            row[f"{prefix}reviews"] = _cell(
                "; ".join(
                    f"{e}: {f.attempt.reviews[e]}"
                    for e in exercises[f.assignment]
                    if e in f.attempt.reviews
                )
            )
        if not f.not_due:  # not due yet for this student: no 0 that reads as a grade
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


def canvas_csv(
    finals: Sequence[Final],
    assignments: Mapping[str, tuple[str, float]],
    people: Mapping[str, Person] | None = None,
) -> tuple[str, tuple[str, ...]]:
    """The final scores as Canvas's gradebook import reads them, and a line for each kind
    of cell that needs a word (stderr's). ``assignments``: id -> (its column's name, the
    points possible). A row a student: ``Student`` (the roster's name, else the id), ``ID``
    (Canvas's user id, when the files handed in carry it), ``SIS User ID`` (the student
    id), ``SIS Login ID`` (the roster's e-mail), ``Section`` (empty), then the final score
    of each assignment; the second row gives the points possible. A grade cell is a number
    or empty: a score awaiting review, or not due yet for its student (an extension), is left
    empty (not a 0 that would read as a grade)."""
    people = people or {}
    header = [*CANVAS_COLUMNS, *(_cell(name) for name, _ in assignments.values())]
    points = [CANVAS_POINTS_ROW, "", "", "", ""]
    points += [_number(possible) for _, possible in assignments.values()]
    rows: dict[str, list[str]] = {}
    waiting: list[str] = []
    refused: list[str] = []
    not_due: list[str] = []  # an extension's due date still ahead, nothing handed in yet
    column = {a: i for i, a in enumerate(assignments, len(CANVAS_COLUMNS))}
    for f in finals:
        if f.assignment not in column:
            continue
        who = people.get(f.student, Person())
        row = rows.setdefault(
            f.student,
            [_cell(who.name or f.student), _cell(who.lms_id), _cell(f.student), _cell(who.email)]
            + [""] * (1 + len(assignments)),
        )
        if f.attempt is not None and f.attempt.awaiting:
            waiting.append(f"{f.student} ({f.assignment})")
            continue
        if f.not_due:
            not_due.append(f"{f.student} ({f.assignment})")
            continue
        if f.attempt is None and f.attempts:
            refused.append(f"{f.student} ({f.assignment})")
        row[column[f.assignment]] = _number(f.score)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([header, points, *(rows[s] for s in sorted(rows))])
    notes = []
    if waiting:
        notes.append(
            f"Canvas: {_count(waiting, 'grade')} left empty, awaiting review (a person has "
            f"not scored every manual answer yet; export again after grade review): "
            f"{_names(waiting)}"
        )
    if not_due:
        notes.append(
            f"Canvas: {_count(not_due, 'grade')} left empty, not due yet for the student (an "
            f"extension): {_names(not_due)}"
        )
    if refused:
        notes.append(
            f"Canvas: 0 for {_count(refused, 'student')} whose every file was refused (the "
            f"grades CSV's status says why): {_names(refused)}"
        )
    return out.getvalue(), tuple(notes)


def canvas_titles(course: Course, assignments: Sequence[str]) -> dict[str, tuple[str, float]]:
    """Each assignment's Canvas column: its title (its id when it has none; ``title [id]``
    when two share it) and its points."""
    chosen = [course.assignment(a) for a in assignments]
    titles = [a.title.strip() or a.id for a in chosen]
    return {
        a.id: (title if titles.count(title) == 1 else f"{title} [{a.id}]", a.max_score(course))
        for a, title in zip(chosen, titles, strict=True)
    }


def refused_result(course: Course, final: Final, source: str) -> GradeResult:
    """A submission that could not be graded, as a result: 0 of the assignment's points,
    every exercise an error that gives the reason (``final.note``)."""
    assignment = course.assignment(final.assignment)
    why = f"not graded: the submission was refused ({final.note})"
    exercises = tuple(
        ExerciseResult(
            e, course.exercises[e].title, course.exercises[e].points, 0.0, "error", message=why
        )
        for e in assignment.exercises
    )
    return GradeResult(
        course.name,
        final.assignment,
        source,
        0.0,
        final.max_score,
        0.0,
        exercises,
        notices=(f"Not graded: {final.note}",),
        student=final.student,
    )


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


def _count(items: Sequence[str], noun: str) -> str:
    return f"{len(items)} {noun}{'s' * (len(items) != 1)}"


def _names(items: Sequence[str]) -> str:
    more = len(items) - NAMED
    named = ", ".join(clean_text(i) for i in items[:NAMED])
    return named + (f" and {more} more" if more > 0 else "")


def _file_name(student: str) -> str:
    return "".join(c if c.isalnum() or c in "._@+-" else "_" for c in student)[:64] or "_"
