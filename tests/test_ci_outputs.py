"""What ``grade ci`` writes and prints, called as the library: junit.xml, the step summary,
the annotations, Gradescope's results.json (graded or refused), and the submission graded as
its submitter. Real files; the one kernel run is replaced by a recorded grade."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

import grader.gradescope.grading
from grader import load_course
from grader.ci import append_step_summary, job_annotations, markdown_summary, write_junit
from grader.gradescope import (
    grade_submission,
    refused_results,
    write_gradescope_results,
    write_refused_results,
)
from grader.options import GradeOptions
from grader.report import results_json
from grader.results import ExerciseResult, GradeResult
from grader.roster import Student, save_roster


def result(flags=(), score=1.0):
    exercises = (
        ExerciseResult("one", "One", 1.0, score, "passed" if score else "failed", message="half"),
        ExerciseResult("two", "Two", 1.0, 1.0, "passed"),
    )
    return GradeResult("C", "a1", "x.ipynb", score + 1, 2.0, 0.1, exercises, flags=flags)


def test_junit_is_written_into_the_folder(tmp_path):
    path = write_junit(result(score=0.0), tmp_path / "out")
    assert path == tmp_path / "out" / "junit.xml"
    cases = ET.parse(path).getroot().iter("testcase")
    assert [c.get("name") for c in cases] == ["one: One", "two: Two"]


def test_the_step_summary_is_appended_only_when_the_job_sets_one(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("before\n")
    assert append_step_summary(result(), {"GITHUB_STEP_SUMMARY": str(summary)})
    assert append_step_summary(result(), {"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text() == "before\n" + 2 * markdown_summary(result())
    assert not append_step_summary(result(), {})
    assert not append_step_summary(result(), {"GITHUB_STEP_SUMMARY": ""})


def test_annotations_only_on_github_actions():
    lines = job_annotations(result(score=0.0), "x.ipynb", {"GITHUB_ACTIONS": "true"})
    assert lines[0].startswith("::warning file=x.ipynb,title=one%3A 0/1::")
    assert lines[-1] == "::notice title=a1::1 / 2 points"
    assert job_annotations(result(), "x.ipynb", {}) == []
    assert job_annotations(result(), "x.ipynb", {"GITHUB_ACTIONS": "false"}) == []


def test_gradescopes_results_json_has_the_flags_in_the_staffs_words(tmp_path):
    graded = replace(result(flags=("copied",)), copied_from="bob")
    path = tmp_path / "deep" / "results.json"
    write_gradescope_results(path, graded)
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written == results_json(graded, staff=True)
    assert written != results_json(graded, staff=False)  # the student's view names nobody
    assert "bob" in written["tests"][-1]["output"]


def test_a_refusal_is_a_zero_with_the_reason_cleaned(tmp_path):
    path = tmp_path / "results.json"
    write_refused_results(path, "x.ipynb: not JSON \x1b[31m(line 1)")
    text = path.read_text()
    assert text.endswith("}\n") and "\x1b" not in text
    assert json.loads(text) == refused_results("x.ipynb: not JSON \x1b[31m(line 1)")
    assert json.loads(text)["score"] == 0 and json.loads(text)["tests"] == []
    assert json.loads(text)["output"].startswith("Your notebook could not be graded: x.ipynb")


@pytest.fixture
def graded_as(monkeypatch):
    """Replace the kernel run: record whom and what grade() was asked to grade."""
    asked = []

    def fake(path, course, assignment, options, progress=None):
        asked.append((path, options.student))
        return result(flags=("edited",))

    monkeypatch.setattr(grader.gradescope.grading, "grade", fake)
    return asked


def test_a_folder_is_graded_by_its_notebook_and_as_the_submitter(spec_path, tmp_path, graded_as):
    course = load_course(spec_path)
    roster = (Student("alice", "Alice", "alice@example.org"),)
    save_roster(course.root / "release", roster, b"secret")
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "a1.ipynb").write_text("{}")
    (folder / "notes.ipynb").write_text("{}")
    metadata = tmp_path / "submission_metadata.json"
    metadata.write_text(json.dumps({"users": [{"email": "Alice@example.org", "id": 1}]}))

    notebook, graded = grade_submission(course, folder, "a1", GradeOptions(), metadata)
    assert notebook == folder / "a1.ipynb"
    assert graded_as == [(folder / "a1.ipynb", "alice")]
    assert graded.flags == ("edited",)  # the roster matched: no flag of its own

    stranger = tmp_path / "stranger.json"
    stranger.write_text(json.dumps({"users": [{"email": "x@y.org", "id": 42}]}))
    _, graded = grade_submission(course, folder, "a1", GradeOptions(), stranger)
    assert graded_as[-1] == (folder / "a1.ipynb", "gradescope-42")
    assert len(graded.flags) == 2 and graded.flags[-1] == "edited"  # the submitter's first

    # a student given on the command line is not overruled by the metadata
    _, graded = grade_submission(course, folder, "a1", GradeOptions(student="bob"), stranger)
    assert graded_as[-1] == (folder / "a1.ipynb", "bob") and graded.flags == ("edited",)
