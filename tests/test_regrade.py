"""Regrading after the course changed, and exporting the gradebook (real kernels)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from shipped import with_answers

from grader import load_course
from grader.batch import BatchOptions, grade_batch
from grader.cli import main
from grader.gradebook import Gradebook
from grader.intake import collect
from grader.options import GradeOptions

pytestmark = pytest.mark.kernel


@pytest.fixture
def graded_class(built_course, tmp_path):
    """A copy of the built course, and a gradebook of three ps1 submissions handed in late."""
    course, _ = built_course
    root = tmp_path / "course"
    shutil.copytree(course.root, root, ignore=shutil.ignore_patterns("gradebook.db", "reports"))
    solution = root / "release" / "solution" / "ps1.ipynb"
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(solution, folder / "alice.ipynb")
    shutil.copy(root / "release" / "student" / "ps1.ipynb", folder / "bob.ipynb")
    with_answers(solution, {"corr1d-same": "corr_same = [0] * 9"}, folder / "carol.ipynb")
    course = load_course(root / "course.yaml")
    due = course.assignment("ps1").due
    found = collect(folder, tmp_path / "copies", submitted_at=due + dt.timedelta(days=1, hours=2))
    db = tmp_path / "gb.db"
    batch = BatchOptions(workers=2, assignment="ps1", reports=root / "reports")
    with Gradebook(db) as gb:
        grade_batch(course, found, gb, GradeOptions(), batch)
    return root, db


def edit(root, path, old, new):
    text = (root / path).read_text()
    assert text.count(old) == 1, old
    (root / path).write_text(text.replace(old, new))


def test_a_change_of_points_is_judged_again_without_running(graded_class):
    root, db = graded_class
    edit(
        root,
        "exercises/correlation.yaml",
        "  - id: corr1d-same\n    title: 1D cross-correlation with 'same' padding\n    points: 2",
        "  - id: corr1d-same\n    title: 1D cross-correlation with 'same' padding\n    points: 4",
    )
    from grader.regrade import regrade

    course = load_course(root / "course.yaml")
    with Gradebook(db) as gb:
        summary = regrade(course, gb, assignment="ps1")
        scores = {a.student: a.score for a in gb.attempts("ps1")}
    assert (summary.rejudged, summary.rerun, summary.failed) == (3, 0, 0)
    assert [(c.student, c.before, c.after) for c in summary.changes] == [("alice", 30, 32)]
    assert summary.changes[0].exercises == (("corr1d-same", 2.0, 4.0),)
    assert scores == {"alice": 32, "bob": 0, "carol": 28}


def test_a_change_of_setup_runs_again(graded_class):
    root, db = graded_class
    edit(
        root,
        "exercises/correlation.yaml",
        "  signal = {{ signal }}",
        "  signal = {{ signal }}  # unchanged values, a changed setup",
    )
    result = CliRunner().invoke(
        main, ["regrade", "--course", str(root / "course.yaml"), "--db", str(db), "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "0 submissions changed; 0 judged again from their stored runs, 3 run again" in (
        result.output
    )


def test_exports_after_the_late_policy(graded_class, tmp_path):
    root, db = graded_class
    text = (root / "course.yaml").read_text()
    (root / "extensions.csv").write_text("student,assignment,due\ncarol,ps1,+2\n")
    (root / "course.yaml").write_text(
        text + "policies:\n  late: {penalty: 10, per: day}\n  extensions: extensions.csv\n"
    )
    args = ["--course", str(root / "course.yaml"), "--db", str(db), "--assignment", "ps1"]
    runner = CliRunner()
    out = runner.invoke(main, ["export", *args, "--out", "-"])
    assert out.exit_code == 0, out.output
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(out.output))}
    assert set(rows) == {"alice", "bob", "carol"}
    alice = rows["alice"]
    assert (alice["score"], alice["late penalty"], alice["final"], alice["max"]) == (
        "30",
        "6",
        "24",
        "30",
    )  # two started days late: -20%
    assert alice["late hours"] == "26"
    assert rows["carol"]["corr1d-same"] == "0" and rows["carol"]["corr1d-valid"] == "1"
    # carol's extension: two more days, so her attempt was on time
    assert (rows["carol"]["late penalty"], rows["carol"]["final"]) == ("0", "28")

    table = runner.invoke(main, ["gradebook", *args])
    assert table.exit_code == 0 and "24 / 30" in table.output

    junit = tmp_path / "grades.xml"
    assert (
        runner.invoke(main, ["export", *args, "--format", "junit", "--out", str(junit)]).exit_code
        == 0
    )
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert len(suites) == 3 and {len(s.findall("testcase")) for s in suites} == {13}

    folder = tmp_path / "gs"
    assert (
        runner.invoke(
            main, ["export", *args, "--format", "gradescope", "--out", str(folder)]
        ).exit_code
        == 0
    )
    alice_json = json.loads((folder / "alice.results.json").read_text())
    assert alice_json["score"] == 24 and "Late policy" in alice_json["output"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "alice.results.json",
        "bob.results.json",
        "carol.results.json",
    ]


def reports_of(root, db):
    """Each student's report files (results.json, HTML), as the dashboard links them."""
    from grader.report.formats import report_paths

    with Gradebook(db) as gb:
        return {
            a.student: report_paths(root / "reports", "ps1", a.student, a.sha256)
            for a in gb.attempts("ps1")
        }


def test_regrade_rewrites_the_reports_that_changed_and_gradebook_says_when_it_is_old(
    graded_class,
):
    root, db = graded_class
    reports = reports_of(root, db)
    args = ["--course", str(root / "course.yaml"), "--db", str(db)]
    runner = CliRunner()
    edit(
        root,
        "exercises/correlation.yaml",
        "  - id: corr1d-same\n    title: 1D cross-correlation with 'same' padding\n    points: 2",
        "  - id: corr1d-same\n    title: 1D cross-correlation with 'same' padding\n    points: 4",
    )
    stale = "3 gradings were judged against an older version of the course: run grade regrade"
    table = runner.invoke(main, ["gradebook", *args])
    assert table.exit_code == 0 and f"Warning: {stale}\n" in table.stderr
    out = runner.invoke(main, ["export", *args, "--out", "-"])
    assert out.exit_code == 0 and f"Warning: {stale}\n" in out.stderr
    strict = runner.invoke(main, ["export", *args, "--out", "-", "--strict"])
    assert strict.exit_code == 1 and strict.output == f"Error: not exported: {stale}\n"

    done = runner.invoke(main, ["regrade", *args, "--workers", "2"])
    assert done.exit_code == 0, done.output
    assert "3 reports written again" in done.output  # every maximum moved from 30 to 32
    alice = json.loads(reports["alice"][1].read_text())
    assert (alice["score"], alice["max_score"]) == (32, 32)
    assert "32 / 32" in reports["alice"][0].read_text()
    assert runner.invoke(main, ["gradebook", *args]).stderr == ""  # up to date

    # an extension and a late policy change no grading, but what the reports say
    text = (root / "course.yaml").read_text()
    (root / "extensions.csv").write_text("student,assignment,due\nCarol,ps1,+2\n")
    (root / "course.yaml").write_text(
        text + "policies:\n  late: {penalty: 10, per: day}\n  extensions: extensions.csv\n"
    )
    before = {s: (p[0].read_bytes(), p[0].stat().st_mtime_ns) for s, p in reports.items()}
    done = runner.invoke(main, ["regrade", *args])
    assert done.exit_code == 0 and "0 submissions changed" in done.output
    assert "3 reports written again" in done.output
    alice_page = reports["alice"][0].read_text()
    assert "-20%" in alice_page and "<strong>25.6</strong> / 32" in alice_page  # the headline
    assert "raw score <strong>32</strong> / 32" in alice_page
    assert "Late</dt>" not in reports["carol"][0].read_text()  # on time, with her extension
    assert reports["carol"][0].read_bytes() != before["carol"][0]

    # nothing changed: no report is written, the gradings keep the time they were graded at
    with Gradebook(db) as gb:
        graded_at = {a.student: a.graded_at for a in gb.attempts("ps1")}
    kept = {s: p[0].stat().st_mtime_ns for s, p in reports.items()}
    again = runner.invoke(main, ["regrade", *args])
    assert "0 reports written again" in again.output
    assert {s: p[0].stat().st_mtime_ns for s, p in reports.items()} == kept
    with Gradebook(db) as gb:
        assert {a.student: a.graded_at for a in gb.attempts("ps1")} == graded_at
