"""Grading a class again after the course changed.

A change that does not touch how a submission runs (points, tolerances, hints, a reference
value, a check) is applied by judging the run the gradebook stored again: no notebook runs,
a class takes seconds. A change that does (a topic's setup, the starter of an exercise the
submission left out, an export recipe, the limits) runs that submission again, through the
same batch machinery. Every score that moved is listed.

The reports ``grade batch`` wrote follow: each submission's report is rewritten where it
would now say something else (a score, a check, a message, a flag, the late penalty or the
final score after an edited extension), and left as it is otherwise. A submission judged
again to the same result keeps the time it was graded at.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .batch import BatchOptions, Event, grade_batch, report_view, write_reports_of
from .execute.scratch import scratch
from .extensions import class_extensions
from .gradebook import Gradebook
from .grading import AgainstKey, given, grade_one, run_fingerprint, submitted
from .intake import Submission
from .key import AnswerKey
from .keymaker import answer_key
from .notebooks import parse_notebook
from .options import GradeOptions
from .results import Attempt, GradeResult
from .runners import ran
from .spec import Course
from .workers import kernel_threads


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
    reports: int = 0  # reports written again (batch.reports)


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
    if not options.threads:  # the runs again share the cores (as `grade batch` does)
        options = replace(options, threads=kernel_threads(batch.workers))
    exec_options = options.exec_options(course)
    before = {_key(a): a for a in gradebook.attempts(assignment) if a.status == "graded"}
    keys: dict[tuple[str, str], AnswerKey] = {}
    rerun: dict[str, list[Submission]] = {}
    failed = reports = 0
    handed_in = [(a.student, a.source) for a in gradebook.attempts()]
    extended = class_extensions(course, options.release_dir(course), handed_in).dates
    with scratch("grade-regrade-") as tmp:
        for a in before.values():
            content, executed = gradebook.stored_run(a.grading)
            nb = parse_notebook(content, Path(a.source).name)
            drawn = gradebook.stored_draws(a.grading)  # the run is judged against what it got
            mine = submitted(course, a.assignment, nb, a.source, options, a.student, draws=drawn)
            if (a.assignment, mine.course.variant) not in keys:
                keys[(a.assignment, mine.course.variant)] = answer_key(
                    mine.course, a.assignment, options
                )
            fingerprint = run_fingerprint(
                mine.course, a.assignment, exec_options, mine.assembled.missing
            )
            submission = Submission(
                a.student, a.source, None, a.sha256, len(content), a.submitted_at
            )
            if fingerprint != a.run_fingerprint:
                copy = Path(tmp) / f"{a.sha256}.ipynb"
                copy.write_bytes(content)
                rerun.setdefault(a.assignment, []).append(replace(submission, path=copy))
                continue
            stored = gradebook.result(a.grading, reviewed=False)
            judging = AgainstKey(options, key_of=given(keys[(a.assignment, mine.course.variant)]))
            record = grade_one(mine, options, ran(executed), judging)
            result = record.result
            if stored is not None:  # judged again: what the run noticed, how long it took
                result = replace(
                    result, notices=stored.notices, execution_time=stored.execution_time
                )
                if _shown(result) == _shown(stored):  # the same result: graded when it was
                    result = replace(result, graded_at=stored.graded_at)
            grading = gradebook.record(submission, a.assignment, replace(record, result=result))
            if batch.reports is not None:  # with the reviews of its answers (grader.reviews)
                shown = gradebook.result(grading) or result
                view = report_view(course, shown, submission, extended)
                reports += write_reports_of(view, submission, a.assignment, batch.reports, True)
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
            if batch.reports is not None:  # the batch wrote the report of each new run
                reports += summary.count("graded")
    after = {_key(a): a for a in gradebook.attempts(assignment) if a.status == "graded"}
    changes = tuple(
        change for k, old in sorted(before.items()) if (change := _change(old, after.get(k)))
    )
    rerun_count = sum(len(s) for s in rerun.values())
    return RegradeSummary(
        changes,
        len(before) - rerun_count,
        rerun_count,
        failed,
        time.monotonic() - started,
        reports,
    )


def _shown(result: GradeResult) -> dict[str, Any]:
    """What a result says, apart from when and how fast it was graded (as JSON data: a
    stored result has lists where a fresh one may have tuples)."""
    data = result.to_dict()
    for incidental in ("graded_at", "execution_time", "log", "grader_version"):
        data.pop(incidental, None)
    shown: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return shown


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
