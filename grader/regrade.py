"""Grading a class again after the course changed.

A change that does not touch how a submission runs (points, tolerances, hints, a reference
value, a check) is applied by judging the run the gradebook stored again: no notebook runs,
a class takes seconds. A change that does (a topic's setup, the starter of an exercise the
submission left out, an export recipe, the limits) runs that submission again, through the
same batch machinery. Every score that moved is listed.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .assemble import parse_notebook
from .batch import BatchOptions, Event, grade_batch
from .copying import flagged
from .gradebook import Attempt, Gradebook, Graded
from .intake import Submission
from .key import AnswerKey
from .pipeline import GradeOptions, answer_key, assemble_for, graded, run_fingerprint
from .spec import Course


@dataclass(frozen=True)
class Change:
    """A submission whose score moved: in all, and exercise by exercise."""

    student: str
    assignment: str
    source: str
    before: float
    after: float
    exercises: tuple[tuple[str, float | None, float | None], ...]  # (id, before, after)


@dataclass(frozen=True)
class RegradeSummary:
    """What a regrade did."""

    changes: tuple[Change, ...]
    rejudged: int  # judged again from the stored run
    rerun: int  # run again
    failed: int  # could not be run again (they keep their grading)
    seconds: float


def regrade(
    course: Course,
    gradebook: Gradebook,
    options: GradeOptions = GradeOptions(),
    assignment: str | None = None,
    batch: BatchOptions = BatchOptions(),
    on_event: Callable[[Event], None] | None = None,
) -> RegradeSummary:
    """Bring every current grading (of one assignment) up to this version of the course."""
    started = time.monotonic()
    exec_options = options.exec_options(course)
    before = {_key(a): a for a in gradebook.attempts(assignment) if a.status == "graded"}
    keys: dict[tuple[str, str], AnswerKey] = {}
    rerun: dict[str, list[Submission]] = {}
    failed = 0
    with tempfile.TemporaryDirectory(prefix="grade-regrade-") as tmp:
        for a in before.values():
            content, executed = gradebook.stored_run(a.grading)
            nb = parse_notebook(content, Path(a.source).name)
            mine, identity, assembled = assemble_for(course, a.assignment, nb, options, a.student)
            if (a.assignment, mine.variant) not in keys:
                keys[(a.assignment, mine.variant)] = answer_key(mine, a.assignment, options)
            fingerprint = run_fingerprint(mine, a.assignment, exec_options, assembled.missing)
            submission = Submission(
                a.student, a.source, None, a.sha256, len(content), a.submitted_at
            )
            if fingerprint != a.run_fingerprint:
                copy = Path(tmp) / f"{a.sha256}.ipynb"
                copy.write_bytes(content)
                rerun.setdefault(a.assignment, []).append(replace(submission, path=copy))
                continue
            stored = gradebook.result(a.grading)
            key = keys[(a.assignment, mine.variant)]
            result = graded(mine, a.assignment, a.source, assembled, executed, key)
            result = flagged(mine, result, executed.exports, identity, options)
            if stored is not None:
                result = replace(
                    result, notices=stored.notices, execution_time=stored.execution_time
                )
            gradebook.record(
                submission, a.assignment, Graded(result, executed, course.fingerprint, fingerprint)
            )
            if on_event is not None:
                on_event(
                    Event(
                        a.student,
                        a.source,
                        a.assignment,
                        "graded",
                        result.score,
                        result.max_score,
                        "judged again",
                    )
                )
        for assignment_id, submissions in sorted(rerun.items()):
            again = replace(batch, assignment=assignment_id, regrade=True)
            summary = grade_batch(course, submissions, gradebook, options, again, on_event)
            failed += summary.count("failed")
    after = {_key(a): a for a in gradebook.attempts(assignment) if a.status == "graded"}
    changes = tuple(
        change for k, old in sorted(before.items()) if (change := _change(old, after.get(k)))
    )
    rerun_count = sum(len(s) for s in rerun.values())
    return RegradeSummary(
        changes, len(before) - rerun_count, rerun_count, failed, time.monotonic() - started
    )


def _key(a: Attempt) -> tuple[str, str, str]:
    return (a.student, a.assignment, a.sha256)


def _change(old: Attempt, new: Attempt | None) -> Change | None:
    if new is None:
        return None
    ids = sorted(set(old.exercises) | set(new.exercises))
    moved = tuple(
        (e, old.exercises.get(e), new.exercises.get(e))
        for e in ids
        if old.exercises.get(e) != new.exercises.get(e)
    )
    if not moved and old.score == new.score:
        return None
    return Change(old.student, old.assignment, old.source, old.score, new.score, moved)
