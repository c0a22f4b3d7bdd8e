"""An instructor moves an otter course to grade with the commands alone: `grade import otter`
of otter's tutorial master notebook, `grade build`, `grade batch` over the class's notebooks
as otter made them for students (one folder a student, no --assignment: otter's init cell
names it), the manual questions scored in the review page (its HTTP endpoints, Flask's test
client), and `grade export` as CSV and for Gradescope: q1 scores what `otter run` gives, the
reviewers' points are in the exported totals, and nothing awaits review at the end."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from click.testing import CliRunner
from test_import_otter import DEMO, OTTER_SCORES, RIGHT, _otter_made

from grader.cli import main
from grader.gradebook import Gradebook
from grader.review_app import create_app
from grader.spec import load_course

pytestmark = pytest.mark.kernel

# The rubric of each manual question (`grade import otter` makes one): q2's two tests, 1/2
# point each; q3's eight, 1/8 each; q4's and q5's reference answers, 1 point each.
RUBRIC = {"q2": [0.5] * 2, "q3": [0.125] * 8, "q4": [1], "q5": [1]}
# The reviewer's verdicts: the rubric items each student's answers earn.
GIVEN = {
    "right": {"q2": [0, 1], "q3": list(range(8)), "q4": [0], "q5": [0]},
    "wrong": {"q2": [0], "q3": [1, 2, 3], "q4": [], "q5": [0]},
    "tampering": {"q2": [], "q3": [0], "q4": [0], "q5": []},
    "blank": {"q2": [], "q3": [], "q4": [], "q5": []},
}
# what each student wrote as q5's answer (a markdown cell), shown to the reviewer
WRITTEN = {s: f"{RIGHT['q5']} ({s})" for s in GIVEN}


def grade(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _manual(student):
    return {q: sum(RUBRIC[q][i] for i in items) for q, items in GIVEN[student].items()}


def test_an_otter_course_imported_built_graded_reviewed_and_exported(tmp_path):
    course_dir = tmp_path / "course"
    out = grade("import", "otter", DEMO, "--out", course_dir)
    assert out.splitlines()[-1] == f"wrote {course_dir}: 5 exercises, 4 of them manual"
    course_yaml = course_dir / "course.yaml"
    grade("build", "--course", course_yaml)  # the solution full marks, the blank 0

    submitted = tmp_path / "submitted"  # otter's student notebook, one folder a student
    for student, (q1, _) in OTTER_SCORES.items():
        (submitted / student).mkdir(parents=True)

        def write_q5(nb, text=WRITTEN[student]):
            (cell,) = [c for c in nb.cells if c.source == RIGHT["q5"]]
            cell.source = text

        _otter_made(submitted / student / "demo.ipynb", q1, write_q5)
    out = grade("batch", submitted, "--course", course_yaml, "--workers", "2")
    assert "4 graded, 0 refused" in out, out

    db = course_dir / "gradebook.db"
    with Gradebook(db) as gb:
        attempts = {a.student: a for a in gb.attempts("demo")}
        notices = {s: gb.result(a.grading).notices for s, a in attempts.items()}
    assert sorted(attempts) == sorted(OTTER_SCORES)
    for student, attempt in attempts.items():
        assert list(notices[student]) == [
            "graded as demo, the assignment otter's init cell names"
        ], student
        assert attempt.exercises["q1"] == pytest.approx(OTTER_SCORES[student][1], abs=1e-4)
        assert set(attempt.awaiting) == set(RUBRIC), student

    # The reviewer scores the 16 manual answers in the review page, next ungraded first.
    course = load_course(course_yaml)
    app = create_app(course, db, ["demo"], "ta1", True)
    app.testing = True
    client = app.test_client()
    seen = set()
    for _ in range(16):
        at = client.get("/").location
        page = client.get(at).get_data(as_text=True)
        student = re.search(r'id="student">([^<]+)<', page).group(1)
        exercise = at.rsplit("/", 1)[1]
        if exercise == "q5":  # the markdown answer each student wrote, escaped
            assert html.escape(f"({student})") in page, student
        elif exercise == "q4":
            assert html.escape(RIGHT["q4"]) in page, student
        form = {
            "csrf": re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1),
            "based_on": re.search(r'name="based_on" value="(\d+)"', page).group(1),
            "item": [str(i) for i in GIVEN[student][exercise]],
            "comment": f"reviewed {exercise}",
        }
        assert client.post(at, data=form).status_code == 303, (student, exercise)
        seen.add((student, exercise))
    assert seen == {(s, q) for s in GIVEN for q in RUBRIC}
    assert "16 / 16 reviewed" in client.get(client.get("/").location).get_data(as_text=True)
    with Gradebook(db) as gb:
        assert all(not a.awaiting for a in gb.attempts("demo"))

    expected = {s: OTTER_SCORES[s][1] + sum(_manual(s).values()) for s in GIVEN}
    grades = course_dir / "grades.csv"
    grade("export", "--course", course_yaml, "--assignment", "demo", "--out", grades)
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grades.read_text()))}
    assert sorted(rows) == sorted(GIVEN)
    for student, row in rows.items():
        assert float(row["score"]) == pytest.approx(expected[student], abs=1e-4), student
        assert float(row["final"]) == pytest.approx(expected[student], abs=1e-4), student
        assert float(row["max"]) == 5, student  # q1 autograded + 4 reviewed
        assert float(row["q1"]) == pytest.approx(OTTER_SCORES[student][1], abs=1e-4)
        for eid, points in _manual(student).items():
            assert float(row[eid]) == points, (student, eid)
        assert "reviewed q5" in row["reviews"]

    folder = course_dir / "gradescope"  # one assignment: its results.json files alone
    grade("export", "--course", course_yaml, "--format", "gradescope", "--out", folder)
    for student in GIVEN:
        data = json.loads((folder / f"{student}.results.json").read_text())
        assert data["score"] == pytest.approx(expected[student], abs=1e-4), student
        assert data["max_score"] == 5, student
        assert "awaiting_review" not in data.get("extra_data", {}), student
        scores = {t["extra_data"]["id"]: t["score"] for t in data["tests"]}
        assert scores["q1"] == pytest.approx(OTTER_SCORES[student][1], abs=1e-4), student
        assert {q: scores[q] for q in RUBRIC} == _manual(student), student
