"""The class's final scores, read from the gradebook: the course's policies applied, its
extensions matched to the students, and what makes them doubtful said in one line each (a
grading judged against an older version of the course, an extension that names nobody).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .extensions import class_extensions
from .gradebook import Gradebook
from .policies import Final, attempt_order, finals
from .report.exports import final_result, refused_result
from .results import Attempt, GradeResult
from .spec import Course
from .students import normalised


@dataclass(frozen=True)
class ClassFinals:
    """Every student's final score of some assignments, and the warnings about them."""

    rows: list[Final]  # by student, then assignment
    attempts: list[Attempt]  # the gradebook's current gradings of those assignments
    warnings: tuple[str, ...]
    assignments: tuple[str, ...] = ()  # the assignments' ids, in the course's order

    def of(self, assignment: str) -> list[Final]:
        """The rows of one assignment."""
        return [f for f in self.rows if f.assignment == assignment]


def class_finals(
    course: Course,
    gradebook: Gradebook,
    assignments: Sequence[str] | None = None,
    release: Path | None = None,
    everyone: bool = False,
    students: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> ClassFinals:
    """The final scores of ``assignments`` (None: every one the gradebook has a submission
    of), the one place they are computed: the terminal table, the exports and the
    dashboard read them here. ``release``: where the roster is (default: release/ beside
    course.yaml); ``everyone``: a row for every student the gradebook knows, in each
    assignment, handed in or not; ``students``: a row for these too (a roster's ids; one
    the gradebook knows in another spelling is that student); ``now``: when "not due yet"
    is judged (default: the present).

    Raises SpecError for an unknown assignment, and for an extension line that names no
    student of the release's roster."""
    every = gradebook.attempts()
    if assignments is None:
        handed_in = {a.assignment for a in every}
        chosen = [a for a in course.assignments if a.id in handed_in]
    else:
        wanted = {course.assignment(a).id for a in assignments}  # unknown: a SpecError
        chosen = [a for a in course.assignments if a.id in wanted]
    assignments = [a.id for a in chosen]
    release = course.root / "release" if release is None else release
    attempts = [a for a in every if a.assignment in assignments]
    matched = class_extensions(course, release, [(a.student, a.source) for a in every])
    rows = finals(
        attempts,
        {a.id: a.due for a in chosen},
        {a.id: a.max_score(course) for a in chosen},
        course.policies,
        students=_everyone(every, students) if everyone or students else (),
        extensions=matched.dates,
        now=now,
    )
    stale = stale_gradings(course, attempts)
    warnings = ((stale_note(stale),) if stale else ()) + matched.warnings
    return ClassFinals(rows, attempts, warnings, tuple(a.id for a in chosen))


def _everyone(every: Sequence[Attempt], students: Sequence[str]) -> list[str]:
    known = {normalised(a.student): a.student for a in every if a.student}
    for student in students:
        known.setdefault(normalised(student), student)
    return sorted(known.values())


def counted_results(
    gradebook: Gradebook, rows: Sequence[Final]
) -> dict[tuple[str, str], GradeResult]:
    """Each counted attempt's stored result as it counts (the late penalty taken off, and
    said; its student set), by (student, assignment); rows without a graded attempt have
    none."""
    return {
        (f.student, f.assignment): replace(final_result(result, f), student=f.student)
        for f in rows
        if f.attempt is not None and (result := gradebook.result(f.attempt.grading))
    }


def exported_results(
    course: Course, gradebook: Gradebook, found: ClassFinals
) -> dict[tuple[str, str], GradeResult]:
    """Every row's result as the Gradescope and JUnit exports give it, by (student,
    assignment): the counted attempt's (``counted_results``), or, for a student whose
    every file was refused, the last refused file's: 0 points, each exercise an error
    that gives the reason. Rows with nothing handed in have none."""
    results = counted_results(gradebook, found.rows)
    last: dict[tuple[str, str], Attempt] = {}
    for a in sorted(found.attempts, key=attempt_order):
        if a.status == "refused":
            last[a.student, a.assignment] = a
    for f in found.rows:
        refused = last.get((f.student, f.assignment))
        if f.attempt is None and refused is not None:
            results[f.student, f.assignment] = refused_result(course, f, refused.source)
    return results


def stale_gradings(course: Course, attempts: Sequence[Attempt]) -> int:
    """How many of these gradings were judged against another version of the course than
    this one (their scores may be out of another maximum)."""
    current = course.fingerprint
    return sum(a.status == "graded" and a.course_fingerprint != current for a in attempts)


def stale_note(count: int) -> str:
    """The one line that says so."""
    were = "grading was" if count == 1 else "gradings were"
    return f"{count} {were} judged against an older version of the course: run grade regrade"
