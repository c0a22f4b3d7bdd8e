"""Grading a class again after the course changed.

A change that does not touch how a submission runs (points, tolerances, hints, a reference
value, a check) is applied by judging the run the gradebook stored again: no notebook runs,
a class takes seconds. A change that does (a topic's setup, the starter of an exercise the
submission left out, an export recipe, the limits) runs that submission again, through the
same batch machinery. Every score that moved is listed, with its attempt and whether that
attempt counts for the student's final score (or is superseded by another).

The reports ``grade batch`` wrote follow: each submission's report is rewritten where it
would now say something else (a score, a check, a message, a flag, the late penalty or the
final score after an edited extension), and left as it is otherwise. A submission judged
again to the same result keeps its grading (and the time it was graded at): a regrade that
changes nothing writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .batch import BatchOptions, Event, grade_batch, report_view, write_reports_of
from .execute.scratch import scratch
from .extensions import class_extensions
from .finals import class_finals
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

# Whether a moved attempt is the one that counts for its student's final score (the
# course's policies: the last or the best attempt), before and after the regrade.
COUNTS = {
    (True, True): "counts",
    (False, True): "now counts",
    (True, False): "no longer counts",
    (False, False): "superseded",
}


@dataclass(frozen=True)
class Change:
    """A submission whose score moved: in all, and exercise by exercise; which attempt of
    its student it is, and whether it is the one that counts."""

    student: str
    assignment: str
    source: str
    before: float
    after: float
    exercises: tuple[tuple[str, float | None, float | None], ...]  # (id, before, after)
    sha256: str = ""
    submitted_at: dt.datetime | None = None
    attempt: int = 1  # its number among the student's attempts at the assignment, by time
    attempts: int = 1
    counts: str = "counts"  # a value of COUNTS

    @property
    def superseded(self) -> bool:
        """Whether another attempt counts for the student's final score."""
        return self.counts in ("superseded", "no longer counts")


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
    counted_before = _counted(course, gradebook, assignment, options)
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
            same = False
            if stored is not None:  # judged again: what the run noticed, how long it took
                result = replace(
                    result, notices=stored.notices, execution_time=stored.execution_time
                )
                same = _shown(result) == _shown(stored)
                if same:  # the same result: graded when it was
                    result = replace(result, graded_at=stored.graded_at)
            if not same:
                grading = gradebook.record(submission, a.assignment, replace(record, result=result))
            else:  # nothing to write: at most the version of the course it was judged against
                grading = a.grading
                if record.course_fingerprint != a.course_fingerprint:
                    gradebook.judged_against(grading, record.course_fingerprint)
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
    every = gradebook.attempts(assignment)
    after = {_key(a): a for a in every if a.status == "graded"}
    counted_after = _counted(course, gradebook, assignment, options)
    numbers = _numbers(every)
    changes = tuple(
        replace(
            change,
            attempt=numbers[k][0],
            attempts=numbers[k][1],
            counts=COUNTS[k in counted_before, k in counted_after],
        )
        for k, old in sorted(before.items())
        if (change := _change(old, after.get(k)))
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


def _counted(
    course: Course, gradebook: Gradebook, assignment: str | None, options: GradeOptions
) -> set[tuple[str, str, str]]:
    """The attempts that count for their students' final scores, after the policies."""
    found = class_finals(
        course, gradebook, None if assignment is None else [assignment], options.release_dir(course)
    )
    return {_key(f.attempt) for f in found.rows if f.attempt is not None}


def _numbers(attempts: list[Attempt]) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Each attempt's number among its student's attempts at its assignment (refused files
    too), by hand-in time, and how many there are."""
    mine: dict[tuple[str, str], list[Attempt]] = {}
    for a in attempts:  # the gradebook's order: by student, then hand-in time
        mine.setdefault((a.student, a.assignment), []).append(a)
    return {_key(a): (n, len(group)) for group in mine.values() for n, a in enumerate(group, 1)}


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
    return Change(
        old.student,
        old.assignment,
        old.source,
        old.score,
        new.score,
        moved,
        old.sha256,
        old.submitted_at,
    )
