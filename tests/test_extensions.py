"""Extensions matched to students as students are matched: by id in any case or Unicode form,
by the roster's e-mail, by the LMS id of the files handed in; a line that names nobody is an
error naming the line (with a roster) or a warning at export (without one). No kernel: the
gradebook is real SQLite, written through its own API."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re

import pytest
from click.testing import CliRunner
from conftest import COURSE_YAML

from grader import load_course
from grader.cli import main
from grader.errors import SpecError
from grader.execute.records import Executed, StepOutcome
from grader.finals import class_finals
from grader.gradebook import Gradebook, Graded
from grader.intake import Submission
from grader.results import ExerciseResult, GradeResult
from grader.roster import Student, save_roster

DUE = dt.datetime(2030, 1, 31, 23, 59, tzinfo=dt.timezone.utc)
LATE = DUE + dt.timedelta(days=1, hours=12)  # two started days late: -60% at 30% a day
POLICIES = "policies:\n  late: {penalty: 30, per: day}\n  extensions: extensions.csv\n"
ROSTER = (
    Student("alice", "Alice A", "alice@example.org"),
    Student("bob", "Bob B", "Bob.B@Example.org"),
    Student("carol", "Carol C", ""),
    Student("dave", "Dave D", ""),
    Student("erin", "Erin E", ""),
)


def make_course(write_course, tmp_path, lines, roster=ROSTER):
    (tmp_path / "extensions.csv").write_text("student,assignment,due\n" + lines)
    course = load_course(write_course(tmp_path, course=COURSE_YAML + POLICIES))
    if roster:
        save_roster(tmp_path / "release", roster, b"a secret")
    return course


def record(gb, course, student, source, when=LATE):
    """A graded attempt at a1 (full marks), handed in at ``when``."""
    exercises = tuple(
        ExerciseResult(e, e, course.exercises[e].points, course.exercises[e].points, "passed")
        for e in course.assignment("a1").exercises
    )
    result = GradeResult(course.name, "a1", source, 5.0, 5.0, 0.1, exercises)
    executed = Executed(tuple(StepOutcome("ok") for _ in exercises), {})
    sha = hashlib.sha256(f"{student}/{source}".encode()).hexdigest()
    submission = Submission(student, source, None, sha, 10, when)
    gb.record(submission, "a1", Graded(result, executed, course.fingerprint, "run"))


def finals_of(course, db):
    with Gradebook(db) as gb:
        found = class_finals(course, gb, ["a1"], course.root / "release", everyone=True)
    return {f.student: f.score for f in found.rows}, found.warnings


def test_a_line_names_its_student_by_id_email_or_lms_id(write_course, tmp_path):
    lines = (
        "Alice,a1,+3\n"  # the id, in another case
        "bob.b@example.ORG,a1,+3\n"  # the roster's e-mail
        "987654,a1,+3\n"  # carol's Canvas user id
        "\uff24\uff21\uff36\uff25,a1,+3\n"  # DAVE in full-width letters
    )
    course = make_course(write_course, tmp_path, lines)
    db = tmp_path / "gb.db"
    with Gradebook(db) as gb:
        for student in ("alice", "bob", "dave", "erin"):
            record(gb, course, student, f"{student}.ipynb")
        record(gb, course, "carol", "class.zip!carol_987654_1234_a1.ipynb")
    scores, warnings = finals_of(course, db)
    assert scores == {"alice": 5, "bob": 5, "carol": 5, "dave": 5, "erin": 2}
    assert warnings == ()

    out = CliRunner().invoke(
        main, ["export", "--course", str(course.path), "--db", str(db), "--out", "-"]
    )
    assert out.exit_code == 0, out.output
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(out.stdout))}
    assert {s: r["final"] for s, r in rows.items()} == {
        "alice": "5",
        "bob": "5",
        "carol": "5",
        "dave": "5",
        "erin": "2",
    }


def test_a_line_that_names_no_student_of_the_roster_is_an_error(write_course, tmp_path):
    course = make_course(write_course, tmp_path, "alice,a1,+3\nzoe@example.org,a1,+1\n")
    db = tmp_path / "gb.db"
    with Gradebook(db) as gb:
        record(gb, course, "alice", "alice.ipynb")
    with pytest.raises(SpecError) as err:
        finals_of(course, db)
    assert str(err.value) == (
        f"{tmp_path / 'extensions.csv'}:3: 'zoe@example.org' is no student of the roster"
    )
    for command in ("gradebook", "export"):
        out = CliRunner().invoke(main, [command, "--course", str(course.path), "--db", str(db)])
        assert out.exit_code == 1
        assert out.output == f"Error: {err.value}\n"


def test_the_build_refuses_a_roster_that_no_line_names(write_course, tmp_path):
    from grader.build import build

    course = make_course(write_course, tmp_path, "zoe,a1,+1\n", roster=None)
    with pytest.raises(
        SpecError, match=re.escape("extensions.csv:2: 'zoe' is no student of the roster")
    ):
        build(course, tmp_path / "release", roster=ROSTER)  # fails before any kernel runs


def test_without_a_roster_a_line_that_names_nobody_is_a_warning(write_course, tmp_path):
    course = make_course(write_course, tmp_path, "alice,a1,+3\nzoe,a1,+1\n", roster=None)
    db = tmp_path / "gb.db"
    with Gradebook(db) as gb:
        record(gb, course, "alice", "alice.ipynb")
        record(gb, course, "bob", "bob.ipynb")
    scores, warnings = finals_of(course, db)
    assert scores == {"alice": 5, "bob": 2}
    line = f"{tmp_path / 'extensions.csv'}:3: 'zoe' matches no student the gradebook knows"
    assert len(warnings) == 1 and warnings[0].startswith(line)

    args = ["export", "--course", str(course.path), "--db", str(db), "--out", "-"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0 and out.stderr.startswith(f"Warning: {line}")
    assert out.stdout.startswith("student,")  # the CSV stays clean
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert strict.exit_code == 1 and line in strict.output and "student," not in strict.stdout


def test_a_line_that_names_two_students_is_an_error(write_course, tmp_path):
    course = make_course(write_course, tmp_path, "987654,a1,+3\n", roster=None)
    db = tmp_path / "gb.db"
    with Gradebook(db) as gb:
        record(gb, course, "987654", "987654.ipynb")
        record(gb, course, "carol", "carol_987654_1234_a1.ipynb")
    with pytest.raises(SpecError, match=r"extensions.csv:2: '987654' names more than one"):
        finals_of(course, db)
