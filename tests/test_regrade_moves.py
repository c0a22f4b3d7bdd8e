"""What a regrade says and writes, on stored runs of the small course (no kernel: the runs
are recorded as a batch records them, with the answer key saved as the build saves it):
the moved scores name their attempt and say when it is superseded; a regrade that changes
nothing writes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import nbformat
import pytest
from rich.console import Console

from grader import load_course
from grader.batch import BatchOptions
from grader.cli_output import regrade_line, regrade_table
from grader.execute.records import Executed, ExportRecord, StepOutcome
from grader.gradebook import Gradebook
from grader.grading import grade_one, submitted
from grader.intake import Submission
from grader.key import AnswerKey, key_path, save_key
from grader.options import GradeOptions
from grader.regrade import regrade
from grader.render import render_assignment
from grader.report.formats import report_paths
from grader.runners import ran

UTC = dt.timezone.utc
DUE = dt.datetime(2030, 1, 31, 23, 59, tzinfo=UTC)
KEY = {"t-num": 4, "t-arr": [1.0, 2.0]}


def save_the_key(course):
    save_key(AnswerKey("a1", course.fingerprint, KEY), key_path(course.root / "release", "a1"))


def hand_in(gb, course, tmp_path, student, n, when, num):
    """``student``'s attempt ``n``, its run recorded as a batch records it (t-arr right; a
    wrong number draws no plot in its report)."""
    options = GradeOptions()
    nb = render_assignment(course, course.assignment("a1"), "student")
    nb.metadata["attempt"] = f"{student} {n}"  # other bytes, another submission
    content = nbformat.writes(nb).encode()
    path = tmp_path / "copies" / f"{student}-{n}.ipynb"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    mine = submitted(course, "a1", nb, path.name, options, student)
    exports = {
        "t-num": ExportRecord({"ok": True, "value": num}),
        "t-arr": ExportRecord({"ok": True, "value": [1.0, 2.0]}),
    }
    executed = Executed(tuple(StepOutcome("ok") for _ in mine.assembled.steps), exports)
    graded = grade_one(mine, options, ran(executed))
    gb.record(Submission(student, path.name, path, sha, len(content), when), "a1", graded)


@pytest.fixture
def graded(write_course, tmp_path):
    """alice: a wrong number, then the right one (the later counts); bob: the wrong number."""
    path = write_course(tmp_path)
    course = load_course(path)
    save_the_key(course)
    db = tmp_path / "gb.db"
    with Gradebook(db) as gb:
        hand_in(gb, course, tmp_path, "alice", 1, DUE - dt.timedelta(days=2), 5)
        hand_in(gb, course, tmp_path, "alice", 2, DUE - dt.timedelta(days=1), 4)
        hand_in(gb, course, tmp_path, "bob", 1, DUE - dt.timedelta(days=1), 5)
    return path, db


def rows(db):
    with Gradebook(db) as gb:
        return gb.db.execute("SELECT id, course_fingerprint FROM gradings ORDER BY id").fetchall()


def test_a_regrade_that_changes_nothing_writes_nothing(graded, tmp_path):
    path, db = graded
    course = load_course(path)
    reports = tmp_path / "reports"
    recorded = rows(db)
    with Gradebook(db) as gb:
        first = regrade(course, gb, assignment="a1", batch=BatchOptions(reports=reports))
        files = [
            p for a in gb.attempts("a1") for p in report_paths(reports, "a1", a.student, a.sha256)
        ]
    assert (first.changes, first.rejudged, first.reports) == ((), 3, 3)  # the missing reports
    assert rows(db) == recorded  # the same results: no grading added
    kept = {p: p.stat().st_mtime_ns for p in files}
    with Gradebook(db) as gb:
        again = regrade(course, gb, assignment="a1", batch=BatchOptions(reports=reports))
    assert (again.changes, again.rejudged, again.reports) == ((), 3, 0)
    assert rows(db) == recorded
    assert {p: p.stat().st_mtime_ns for p in files} == kept  # no report written again


def test_an_edit_that_moves_no_score_adds_no_grading_but_is_up_to_date(graded):
    """A new version of the course (a prompt edited) whose results are the same: the current
    gradings now say they hold for it; no row is added."""
    path, db = graded
    topic = path.parent / "exercises" / "t.yaml"
    topic.write_text(topic.read_text().replace("Compute the answer.", "Compute the number."))
    course = load_course(path)
    save_the_key(course)
    ids = [i for i, _ in rows(db)]
    with Gradebook(db) as gb:
        summary = regrade(course, gb, assignment="a1")
    assert summary.changes == ()
    assert rows(db) == [(i, course.fingerprint) for i in ids]


def test_moved_scores_name_the_attempt_and_say_when_it_is_superseded(graded):
    path, db = graded
    topic = path.parent / "exercises" / "t.yaml"
    text = topic.read_text()
    assert text.count("points: 3") == 1
    topic.write_text(text.replace("points: 3", "points: 6"))  # every array is right
    course = load_course(path)
    save_the_key(course)
    with Gradebook(db) as gb:
        summary = regrade(course, gb, assignment="a1")
    moved = [
        (c.student, c.attempt, c.attempts, c.source, c.counts, c.before, c.after)
        for c in summary.changes
    ]
    assert moved == [
        ("alice", 1, 2, "alice-1.ipynb", "superseded", 3.0, 6.0),
        ("alice", 2, 2, "alice-2.ipynb", "counts", 5.0, 8.0),
        ("bob", 1, 1, "bob-1.ipynb", "counts", 3.0, 6.0),
    ]
    assert [c.superseded for c in summary.changes] == [True, False, False]
    line = regrade_line(summary, None)
    assert line.startswith("3 submissions changed (1 of them superseded: another attempt counts);")
    out = io.StringIO()
    Console(file=out, width=200).print(regrade_table(summary))
    table = out.getvalue()
    assert "1 of 2: alice-1.ipynb, 2030-01-29 23:59 UTC" in table and "superseded" in table
    assert "2 of 2: alice-2.ipynb, 2030-01-30 23:59 UTC" in table
    assert "1 of 1: bob-1.ipynb, 2030-01-30 23:59 UTC" in table
