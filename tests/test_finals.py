"""The class's final scores, computed in one place (grader.finals) for the terminal table,
the exports and the dashboard. No kernel: real SQLite gradebooks written through their API."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from conftest import COURSE_YAML

from grader import load_course
from grader.errors import SpecError
from grader.execute.records import Executed, StepOutcome
from grader.finals import class_finals, counted_results
from grader.gradebook import Gradebook, Graded
from grader.intake import Submission
from grader.results import ExerciseResult, GradeResult

DUE = dt.datetime(2030, 1, 31, 23, 59, tzinfo=dt.timezone.utc)
TWO = COURSE_YAML.replace("[t-num, t-arr]", "[t-num]") + (
    "  - id: a2\n    title: Second\n    due: 2030-02-28\n    exercises: [t-arr]\n"
    "policies:\n  late: {penalty: 10, per: day}\n"
)


@pytest.fixture
def course(write_course, tmp_path):
    return load_course(write_course(tmp_path, course=TWO))


def record(gb, course, student, assignment, when=DUE, share=1.0, source=None):
    """A graded attempt, each exercise at ``share`` of its points, handed in at ``when``."""
    exercises = tuple(
        ExerciseResult(e, e, course.exercises[e].points, share * course.exercises[e].points, "")
        for e in course.assignment(assignment).exercises
    )
    total = sum(e.score for e in exercises)
    maximum = course.assignment(assignment).max_score(course)
    source = source or f"{student}-{assignment}.ipynb"
    result = GradeResult(course.name, assignment, source, total, maximum, 0.1, exercises)
    executed = Executed(tuple(StepOutcome("ok") for _ in exercises), {})
    sha = hashlib.sha256(f"{student}/{source}/{when}".encode()).hexdigest()
    submission = Submission(student, source, None, sha, 10, when)
    gb.record(submission, assignment, Graded(result, executed, course.fingerprint, "run"))


def test_finals_are_the_policies_applied_and_everyone_gets_a_row(course, tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        record(gb, course, "alice", "a1")
        record(gb, course, "bob", "a1", DUE + dt.timedelta(hours=30), share=0.5)  # 2 days late
        record(gb, course, "bob", "a2", share=1.0)
        found = class_finals(course, gb, ["a1"])
        assert found.assignments == ("a1",)
        assert [(f.student, f.raw, f.penalty, f.score) for f in found.rows] == [
            ("alice", 2.0, 0.0, 2.0),
            ("bob", 1.0, 0.2, 0.8),
        ]
        assert found.warnings == ()
        assert {a.assignment for a in found.attempts} == {"a1"}

        everyone = class_finals(course, gb, ["a2", "a1"], everyone=True)
        assert everyone.assignments == ("a1", "a2")  # the course's order, whatever was asked
        assert [(f.student, f.assignment, f.score) for f in everyone.rows] == [
            ("alice", "a1", 2.0),
            ("alice", "a2", 0.0),  # handed nothing in
            ("bob", "a1", 0.8),
            ("bob", "a2", 3.0),
        ]
        assert [f.student for f in everyone.of("a2")] == ["alice", "bob"]


def test_without_assignments_every_one_with_a_submission(course, tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        assert class_finals(course, gb).assignments == ()
        record(gb, course, "alice", "a2")
        found = class_finals(course, gb)
    assert found.assignments == ("a2",)
    assert [(f.student, f.assignment) for f in found.rows] == [("alice", "a2")]


def test_an_unknown_assignment_is_an_error(course, tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb, pytest.raises(SpecError, match="'zz'"):
        class_finals(course, gb, ["zz"])


def test_a_grading_of_an_older_course_is_a_warning(course, write_course, tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        record(gb, course, "alice", "a1")
        newer = load_course(write_course(tmp_path, course=TWO.replace("Second", "Later")))
        found = class_finals(newer, gb, ["a1"])
    assert found.warnings == (
        "1 grading was judged against an older version of the course: run grade regrade",
    )


def test_counted_results_take_the_late_penalty_off_and_say_so(course, tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        record(gb, course, "alice", "a1")
        record(gb, course, "bob", "a1", DUE + dt.timedelta(hours=30), share=0.5)
        record(gb, course, "carol", "a2")  # a student with no a1 attempt
        found = class_finals(course, gb, ["a1"], everyone=True)
        counted = counted_results(gb, found.rows)
    assert sorted(counted) == [("alice", "a1"), ("bob", "a1")]  # carol: nothing to count
    assert counted["alice", "a1"].score == 2.0 and counted["alice", "a1"].notices == ()
    bob = counted["bob", "a1"]
    assert bob.score == 0.8
    assert bob.notices == ("Late policy: late by 1 d 6 h: -20% (2 days); 1 -> 0.8 points.",)
