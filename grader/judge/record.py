"""The judge's record of one run: the exercises judged, wrapped up with what the run and the
assembly noticed, when, how long it took, and the grader's version."""

from __future__ import annotations

import datetime as dt
import time

from ..assemble import Assembled
from ..distribution import VERSION
from ..execute.records import Executed
from ..key import AnswerKey
from ..results import AWAITING, Judged
from ..spec import Course
from .scoring import Expectations, judge


def judged(
    course: Course,
    assignment_id: str,
    name: str,
    assembled: Assembled,
    executed: Executed,
    key: AnswerKey | Expectations,
) -> Judged:
    """Judge an executed submission and wrap the results up (pure); ``key`` may also be other
    expectations (a hand-out's public context, ``grader.judge.public_context``)."""
    started = time.monotonic()
    exercises = judge(course, assembled, executed, key)
    awaiting = round(sum(e.points for e in exercises if e.status == AWAITING), 4)
    return Judged(
        course=course.name,
        assignment=assignment_id,
        submission=name,
        score=round(sum(e.score for e in exercises), 4),
        max_score=round(course.assignment(assignment_id).max_score(course) - awaiting, 4),
        awaiting=awaiting,
        execution_time=round(executed.duration + time.monotonic() - started, 3),
        exercises=exercises,
        notices=executed.warnings + assembled.notices,
        graded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        log=executed.log,
        grader_version=VERSION,
    )
