"""The class's final scores, read from the gradebook: the course's policies applied, its
extensions matched to the students, and what makes them doubtful said in one line each (a
grading judged against an older version of the course, an extension that names nobody).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .extensions import class_extensions
from .gradebook import Gradebook
from .policies import Final, finals
from .results import Attempt
from .spec import Course


@dataclass(frozen=True)
class ClassFinals:
    """Every student's final score of some assignments, and the warnings about them."""

    rows: list[Final]
    attempts: list[Attempt]  # the gradebook's current gradings of those assignments
    warnings: tuple[str, ...]


def class_finals(
    course: Course,
    gradebook: Gradebook,
    assignments: Sequence[str],
    release: Path,
    everyone: bool = False,
) -> ClassFinals:
    """The final scores of ``assignments`` (``everyone``: a row for every student the
    gradebook knows, in each assignment, handed in or not).

    Raises SpecError for an extension line that names no student of the release's roster."""
    chosen = [course.assignment(a) for a in assignments]
    every = gradebook.attempts()
    attempts = [a for a in every if a.assignment in assignments]
    matched = class_extensions(course, release, [(a.student, a.source) for a in every])
    rows = finals(
        attempts,
        {a.id: a.due for a in chosen},
        {a.id: a.max_score(course) for a in chosen},
        course.policies,
        students=sorted({a.student for a in every if a.student}) if everyone else (),
        extensions=matched.dates,
    )
    stale = stale_gradings(course, attempts)
    warnings = ((stale_note(stale),) if stale else ()) + matched.warnings
    return ClassFinals(rows, attempts, warnings)


def stale_gradings(course: Course, attempts: Sequence[Attempt]) -> int:
    """How many of these gradings were judged against another version of the course than
    this one (their scores may be out of another maximum)."""
    current = course.fingerprint
    return sum(a.status == "graded" and a.course_fingerprint != current for a in attempts)


def stale_note(count: int) -> str:
    """The one line that says so."""
    were = "grading was" if count == 1 else "gradings were"
    return f"{count} {were} judged against an older version of the course: run grade regrade"
