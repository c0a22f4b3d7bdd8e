"""The dashboard's figures read from the gradebook (grader.dashboard_data), and its
histogram (grader.report.dashboard), called as the library. Real SQLite gradebooks and
report files; no kernel, no browser."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from test_finals import DUE, TWO

from grader import load_course
from grader.dashboard_data import class_dashboard
from grader.execute.records import Executed, ExportRecord, StepOutcome
from grader.gradebook import Gradebook, Graded
from grader.intake import Submission
from grader.report.dashboard import histogram, render_dashboard
from grader.report.formats import report_paths
from grader.results import ExerciseResult, GradeResult, StudentError


def record(gb, course, student, score, when=DUE, value=None, status=None):
    """An a1 attempt (one exercise, t-num, 2 points) with ``value`` exported."""
    status = status or ("passed" if score == 2 else "failed")
    exercises = (ExerciseResult("t-num", "A number", 2.0, score, status, message="m"),)
    source = f"{student}.ipynb"
    result = GradeResult(course.name, "a1", source, score, 2.0, 0.1, exercises)
    exports = {} if value is None else {"t-num": ExportRecord({"ok": True, "value": value})}
    executed = Executed((StepOutcome("ok"),), exports)
    sha = hashlib.sha256(f"{student}/{when}".encode()).hexdigest()
    submission = Submission(student, source, None, sha, 10, when)
    gb.record(submission, "a1", Graded(result, executed, course.fingerprint, "run"))
    return submission


@pytest.fixture
def course(write_course, tmp_path):
    return load_course(write_course(tmp_path, course=TWO))


def test_an_assignment_as_the_dashboard_shows_it(course, tmp_path):
    reports = tmp_path / "reports"
    with Gradebook(tmp_path / "gb.db") as gb:
        alice = record(gb, course, "alice", 2.0, value=4)
        record(gb, course, "bob", 0.0, DUE + dt.timedelta(hours=30), value=5)
        record(gb, course, "carol", 0.0, value=5)
        record(gb, course, "dave", 0.0, status="error")
        gb.record(Submission("erin", "erin.zip", None, "", 0, DUE), "a1", "not a notebook")
        html, _ = report_paths(reports, "a1", "alice", alice.sha256)
        html.parent.mkdir(parents=True)
        html.write_text("<p>alice</p>")
        board = class_dashboard(course, gb, None, reports, tmp_path / "site" / "class.html")
    assert board.course == course.name
    [view] = board.assignments  # a2 has no submission: not shown
    assert (view.id, view.max_score, view.anchor) == ("a1", 2.0, "a-a1")
    rows = {r.student: r for r in view.students}
    assert sorted(rows) == ["alice", "bob", "carol", "dave", "erin"]
    assert (rows["bob"].score, rows["bob"].penalty, rows["bob"].final) == (0.0, 0.0, 0.0)
    assert rows["alice"].report.endswith(f"{html.name}") and rows["alice"].report.startswith("..")
    assert rows["bob"].report == ""  # no report file
    assert rows["bob"].status == "graded, late" and rows["erin"].status == "refused"
    assert rows["dave"].status == "graded, error"
    assert [f.student for f in view.late] == ["bob"]
    assert [(f.student, f.what) for f in view.errored] == [
        ("erin", "refused: not a notebook"),
        ("dave", "error in t-num: m"),
    ]
    [stats] = view.exercises
    assert (stats.graded, stats.full, stats.partial) == (4, 1, 0)
    assert [(w.value, w.count) for w in stats.wrong] == [("5", 2)]  # the most common first
    assert sum(bar.count for bar in view.histogram) == 5
    assert view.median == 0.0
    assert 'id="a-a1"' in render_dashboard(board)


def test_one_assignment_even_without_submissions(course, tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        record(gb, course, "alice", 2.0)
        board = class_dashboard(course, gb, ["a2"], tmp_path, tmp_path / "d.html")
    [view] = board.assignments
    assert view.id == "a2" and [(r.student, r.status) for r in view.students] == [
        ("alice", "absent")
    ]


def test_the_histogram_has_ten_bars_and_a_full_score_in_the_last():
    bars = histogram([0, 5, 9.99, 10, 10], 10)
    assert len(bars) == 10
    assert [b.count for b in bars] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 3]
    assert bars[0].label == "0–10%" and bars[-1].height == 100
    assert (bars[5].low, bars[5].high) == (5.0, 6.0)
    assert [b.count for b in histogram([3, 1], 0)] == [2] + [0] * 9  # no points: the first


def test_each_errored_exercise_is_told_its_own_cells_error(small_course, tmp_path):
    """A cell that raised NameError after another raised AttributeError is listed with its
    NameError, not with the first exercise's error."""
    raised = {
        "t-num": StudentError("AttributeError", "'int' object has no attribute 'x'"),
        "t-arr": StudentError("NameError", "name 'x' is not defined"),
    }
    exercises = tuple(
        ExerciseResult(
            eid,
            eid,
            small_course.exercises[eid].points,
            0.0,
            "error",
            message=f"your cell raised {err.summary}",
            error=err,
        )
        for eid, err in raised.items()
    )
    result = GradeResult(small_course.name, "a1", "dave.ipynb", 0.0, 5.0, 0.1, exercises)
    executed = Executed((StepOutcome("error"), StepOutcome("error")), {})
    submission = Submission("dave", "dave.ipynb", None, "d" * 64, 10, DUE)
    with Gradebook(tmp_path / "gb.db") as gb:
        gb.record(submission, "a1", Graded(result, executed, small_course.fingerprint, "run"))
        board = class_dashboard(small_course, gb, None, tmp_path, tmp_path / "class.html")
    [view] = board.assignments
    [(student, what)] = [(f.student, f.what) for f in view.errored]
    assert student == "dave"
    assert what == (
        "error in t-num: your cell raised AttributeError: 'int' object has no attribute 'x'; "
        "t-arr: your cell raised NameError: name 'x' is not defined"
    )


def test_wrong_2d_answers_cut_short_alike_read_differently(course, tmp_path):
    """Two different 12 × 12 wrong answers, the same in their first rows: the list of wrong
    answers gives each its shape and where they differ, so the two rows read differently."""
    first = [[i * j for j in range(12)] for i in range(12)]
    second = [row[:] for row in first]
    second[9][7] = -1
    with Gradebook(tmp_path / "gb.db") as gb:
        record(gb, course, "alice", 0.0, value=first)
        record(gb, course, "bob", 0.0, value=first)
        record(gb, course, "carol", 0.0, value=second)
        board = class_dashboard(course, gb, None, tmp_path, tmp_path / "class.html")
    [stats] = board.assignments[0].exercises
    [(most, two), (other, one)] = [(w.value, w.count) for w in stats.wrong]
    assert (two, one) == (2, 1) and most != other
    assert most.startswith("(12 × 12) [[0, 0, 0") and most.endswith("; at [9, 7]: 63")
    assert other.startswith("(12 × 12) [[0, 0, 0") and other.endswith("; at [9, 7]: -1")
