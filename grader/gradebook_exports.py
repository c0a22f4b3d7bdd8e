"""The gradebook exported for other tools, final scores after the course's policies: a grades
CSV, a Canvas gradebook import, Gradescope results.json (one per student), or one JUnit XML
file.

Reads the final scores where they are computed (``grader.finals``) and writes them with the
formats of ``grader.report.exports``; the students' names and e-mails come from the
release's roster, their Canvas ids from the names of the files they handed in. What makes
the scores doubtful (a grading judged against an older version of the course, an extension
that names nobody) comes back as warnings; with ``strict`` nothing is written and it is an
error instead. What the export chose (assignments left out as not due yet, Canvas cells
left empty) comes back as notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import GraderError
from .extensions import lms_ids
from .finals import ClassFinals, class_finals, exported_results
from .gradebook import Gradebook
from .policies import attempt_order
from .report.exports import (
    Person,
    canvas_csv,
    canvas_titles,
    grades_csv,
    write_gradescope,
    write_junit,
)
from .report.formats import _write_atomic
from .roster import Roster, load_roster
from .spec import Course
from .students import normalised

FORMATS = ("csv", "canvas", "gradescope", "junit")
DEFAULT_OUT = {
    "csv": Path("grades.csv"),
    "canvas": Path("canvas-grades.csv"),
    "gradescope": Path("gradescope"),
    "junit": Path("grades.xml"),
}
STDOUT = "-"  # as ``out`` of a CSV: the text is returned, not written


@dataclass(frozen=True)
class Exported:
    """What an export wrote (or, for standard output, the text to print), its warnings, and
    its notes (what it chose, said on stderr; never a reason to refuse)."""

    target: Path | None  # None: nothing written, ``text`` is the CSV
    text: str
    warnings: tuple[str, ...]
    notes: tuple[str, ...] = ()


def export(
    course: Course,
    gradebook: Gradebook,
    format: str,
    assignments: Sequence[str] | None = None,
    out: Path | str | None = None,
    strict: bool = False,
    release: Path | None = None,
    now: dt.datetime | None = None,
) -> Exported:
    """Export the final scores of ``assignments`` as ``format``, to ``out`` (a file for csv,
    canvas and junit, a folder for gradescope: one per assignment inside it when there are
    several; default ``DEFAULT_OUT``; ``-``: a CSV is returned as text). Every student the
    gradebook or the release's roster knows has a row, handed in or not.

    ``assignments`` None: each one that is due (its due date before ``now``) or has a
    submission; the others would give everyone 0, and are left out with a note.

    Raises GraderError for an unknown format, or with ``strict`` when there are warnings."""
    if format not in FORMATS:
        raise GraderError(f"unknown export format {format!r} (one of: {', '.join(FORMATS)})")
    notes: tuple[str, ...] = ()
    if assignments is None:
        ids, notes = due_assignments(course, gradebook, now)
    else:
        ids = list(assignments)
    release = course.root / "release" if release is None else release
    roster = load_roster(release)
    found = class_finals(
        course,
        gradebook,
        ids,
        release,
        everyone=True,
        students=roster.ids() if roster else (),
        now=now,
    )
    if strict and found.warnings:
        raise GraderError(f"not exported: {'; '.join(found.warnings)}")
    found = with_unplaced(found, gradebook)
    chosen = [course.assignment(a) for a in found.assignments]
    # several assignments asked for (or the course's, by default): each named, whatever the
    # date left out, so a file's layout does not change as due dates pass
    multi = len(chosen) > 1 or (assignments is None and len(course.assignments) > 1)
    if format in ("csv", "canvas"):
        people = class_people(found, roster)
        if format == "csv":
            manual = {
                a.id: [e for e in a.exercises if course.exercises[e].answer.kind == "manual"]
                for a in chosen
            }
            exercises = {a.id: list(a.exercises) for a in chosen}
            text = grades_csv(found.rows, exercises, multi, manual, people)
        else:
            text, said = canvas_csv(found.rows, canvas_titles(course, found.assignments), people)
            notes += said
        if out is not None and str(out) == STDOUT:
            return Exported(None, text, found.warnings, notes)
        target = Path(out) if out is not None else DEFAULT_OUT[format]
        _write_atomic(target, text)
        return Exported(target, "", found.warnings, notes)
    target = Path(out) if out is not None else DEFAULT_OUT[format]
    results = exported_results(course, gradebook, found)
    if format == "gradescope":
        for a in chosen:
            mine = {s: r for (s, aid), r in results.items() if aid == a.id}
            write_gradescope(mine, target / a.id if multi else target)
    else:
        write_junit([results[k] for k in sorted(results)], target)
    return Exported(target, "", found.warnings, notes)


def due_assignments(
    course: Course, gradebook: Gradebook, now: dt.datetime | None = None
) -> tuple[list[str], tuple[str, ...]]:
    """The course's assignments an export gives without ``--assignment``: each one due by
    ``now`` (default: the present) or with a submission; and a line naming the others."""
    now = now or dt.datetime.now(dt.timezone.utc)
    handed_in = {a.assignment for a in gradebook.attempts()}
    ids, left = [], []
    for a in course.assignments:
        if a.id in handed_in or (a.due is not None and a.due <= now):
            ids.append(a.id)
        else:
            when = f"due {a.due:%Y-%m-%d %H:%M %Z}" if a.due else "no due date"
            left.append(f"{a.id} ({when})")
    if not left:
        return ids, ()
    return ids, (
        f"left out, not due yet and nothing handed in: {', '.join(left)} "
        "(--assignment exports one all the same)",
    )


def with_unplaced(found: ClassFinals, gradebook: Gradebook) -> ClassFinals:
    """The finals with each refused file whose assignment could not be told (a batch without
    ``--assignment``: a corrupt notebook names none) said where its student has nothing
    else: that row is ``refused``, not ``not submitted``."""
    unplaced: dict[str, list[str]] = {}
    for a in sorted(gradebook.attempts(""), key=attempt_order):
        if a.status == "refused":
            unplaced.setdefault(a.student, []).append(a.reason)
    if not unplaced:
        return found
    rows = [
        replace(
            f,
            attempts=len(unplaced[f.student]),
            note=f"{unplaced[f.student][-1]}; which assignment it was for could not be told",
        )
        if f.attempts == 0 and f.student in unplaced
        else f
        for f in found.rows
    ]
    return replace(found, rows=rows)


def class_people(found: ClassFinals, roster: Roster | None) -> dict[str, Person]:
    """Each student's name and e-mail (the roster's) and Canvas user id (that of the latest
    file they handed in whose name carries one)."""
    lms: dict[str, str] = {}
    for a in sorted(found.attempts, key=attempt_order):
        for user in lms_ids(a.source):
            lms[a.student] = user
    entries = {normalised(s.id): s for s in roster.students} if roster else {}
    people = {}
    for student in {f.student for f in found.rows}:
        entry = entries.get(normalised(student))
        people[student] = Person(
            entry.name if entry else "", entry.email if entry else "", lms.get(student, "")
        )
    return people
