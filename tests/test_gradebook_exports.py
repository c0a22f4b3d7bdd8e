"""The gradebook exported as the library does it (grader.gradebook_exports): each format to
its file or folder, the CSV to standard output, warnings, --strict. Real gradebooks, real
files, no kernel."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET

import click
import pytest
from test_finals import DUE, TWO, record

from grader import load_course
from grader.cli_class import export_cmd
from grader.errors import GraderError
from grader.gradebook import Gradebook
from grader.gradebook_exports import DEFAULT_OUT, FORMATS, export


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
    done = export(course, gb, "csv")
    assert done.target == DEFAULT_OUT["csv"] and done.text == "" and done.warnings == ()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text())))
    assert [(r["student"], r["a1 final"], r["a2 final"]) for r in rows] == [
        ("alice", "2", "1.5"),
        ("bob", "0.8", "0"),  # bob handed no a2 in: a row all the same
    ]
    text = export(course, gb, "csv", ["a1"], "-")
    assert text.target is None and text.text.splitlines()[0].startswith("student,t-num,score")
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
