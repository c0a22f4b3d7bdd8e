"""An instructor moves an nbgrader course to grade with the commands alone: `grade import
nbgrader` of nbgrader's source, `grade build`, `grade batch` over the class's notebooks as
nbgrader made and keeps them (submitted/<student>/ps1/problem1.ipynb, no --assignment), the
manual parts scored in the review page (its HTTP endpoints, Flask's test client), and
`grade export` as CSV and for Gradescope: the autograded parts score what nbgrader's autograde
gives, the reviewers' points are in the exported totals."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest
from click.testing import CliRunner
from test_import_nbgrader import (
    DATA,
    HACKER,
    NBGRADER_SCORES,
    PROBLEM1_MANUAL,
    RELEASE_NB,
    SOURCE,
    _nbgrader_notebook,
)

from grader.cli import main
from grader.gradebook import Gradebook
from grader.review_app import create_app
from grader.spec import load_course

pytestmark = pytest.mark.kernel

BITDIDDLE = HACKER.parent.parent / "bitdiddle" / "problem1.ipynb"
CLASS = {"hacker": HACKER, "bitdiddle": BITDIDDLE, "blank": RELEASE_NB}
# The reviewer's verdicts: the manual answers that earn their one rubric item. Parts C
# (1 point), D (2) and E, the task (4); hacker's problem2 too (part-a, 1 point, of 3).
GIVEN = {
    "hacker": {"sum_of_squares_equation", "sum_of_squares_application", "cell-938593c4a215c6cc"},
    "bitdiddle": {"sum_of_squares_equation", "cell-938593c4a215c6cc"},  # no Part D
    "blank": set(),
}
HACKER_PROBLEM2 = {"part-a"}
MANUAL_POINTS = {
    "sum_of_squares_equation": 1,
    "sum_of_squares_application": 2,
    "cell-938593c4a215c6cc": 4,
}


def grade(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_nbgrader_course_imported_built_graded_reviewed_and_exported(tmp_path):
    course_dir = tmp_path / "course"
    grade("import", "nbgrader", SOURCE, "--out", course_dir)
    course_yaml = course_dir / "course.yaml"
    grade("build", "--course", course_yaml)  # solutions full marks, blanks 0
    submitted = tmp_path / "submitted"  # as nbgrader keeps them
    for student, notebook in CLASS.items():
        (submitted / student / "ps1").mkdir(parents=True)
        shutil.copy(notebook, submitted / student / "ps1" / "problem1.ipynb")
    problem2 = DATA / "release" / "ps1" / "problem2.ipynb"
    answers = {"part-a": "A sum of squares", "part-b": "$n^2$"}
    _nbgrader_notebook(problem2, submitted / "hacker" / "ps1" / "problem2.ipynb", answers)
    out = grade("batch", submitted, "--course", course_yaml, "--workers", "2")
    assert "4 graded, 0 refused" in out, out

    # Each file is graded as ps1-problem1 (by its answer cells), its autograded parts as
    # nbgrader scores them, its manual parts awaiting review (never counted as 0).
    db = course_dir / "gradebook.db"
    notice = (
        "the notebook does not say which assignment it is; graded as {} (from its answer cells)"
    )
    with Gradebook(db) as gb:
        attempts = {a.student: a for a in gb.attempts("ps1-problem1")}
        notices = {a.student: gb.result(a.grading).notices for a in attempts.values()}
    assert sorted(attempts) == sorted(CLASS)
    for student, attempt in attempts.items():
        assert notice.format("ps1-problem1") in notices[student], notices[student]
        auto = {e: s for e, s in attempt.exercises.items() if e not in PROBLEM1_MANUAL}
        assert auto == NBGRADER_SCORES[student], student
        assert set(attempt.awaiting) == PROBLEM1_MANUAL, student
    with Gradebook(db) as gb:  # hacker's problem2.ipynb: ps1-problem2, all of it manual
        (second,) = gb.attempts("ps1-problem2")
        assert notice.format("ps1-problem2") in gb.result(second.grading).notices
    assert (second.student, set(second.awaiting)) == ("hacker", {"part-a", "part-b"})

    # The reviewer scores the 11 manual answers in the review page, next ungraded first.
    course = load_course(course_yaml)
    app = create_app(course, db, ["ps1-problem1", "ps1-problem2"], "ta1", True)
    app.testing = True
    client = app.test_client()
    for _ in range(11):
        at = client.get("/").location
        page = client.get(at).get_data(as_text=True)
        student = re.search(r'id="student">([^<]+)<', page).group(1)
        exercise = at.rsplit("/", 1)[1]
        form = {
            "csrf": re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1),
            "based_on": re.search(r'name="based_on" value="(\d+)"', page).group(1),
            "item": ["0"] if exercise in GIVEN[student] | HACKER_PROBLEM2 else [],
            "comment": f"reviewed {exercise}",
        }
        assert client.post(at, data=form).status_code == 303, (student, exercise)
    assert "11 / 11 reviewed" in client.get(client.get("/").location).get_data(as_text=True)

    expected = {
        s: sum(NBGRADER_SCORES[s].values()) + sum(MANUAL_POINTS[e] for e in GIVEN[s]) for s in CLASS
    }
    grades = course_dir / "grades.csv"
    grade("export", "--course", course_yaml, "--assignment", "ps1-problem1", "--out", grades)
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grades.read_text()))}
    assert sorted(rows) == sorted(CLASS)
    for student, row in rows.items():
        assert float(row["score"]) == float(row["final"]) == expected[student], student
        assert float(row["max"]) == 10, student  # 3 autograded + 7 reviewed
        for eid, score in NBGRADER_SCORES[student].items():
            assert float(row[eid]) == score, (student, eid)
        for eid, points in MANUAL_POINTS.items():
            assert float(row[eid]) == (points if eid in GIVEN[student] else 0), (student, eid)
        assert "reviewed sum_of_squares_equation" in row["reviews"]

    folder = course_dir / "gradescope"
    grade("export", "--course", course_yaml, "--format", "gradescope", "--out", folder)
    for student in CLASS:
        data = json.loads((folder / "ps1-problem1" / f"{student}.results.json").read_text())
        assert (data["score"], data["max_score"]) == (expected[student], 10), student
        assert "awaiting_review" not in data.get("extra_data", {}), student
        scores = {t["extra_data"]["id"]: t["score"] for t in data["tests"]}
        assert {e: scores[e] for e in NBGRADER_SCORES[student]} == NBGRADER_SCORES[student]
    data = json.loads((folder / "ps1-problem2" / "hacker.results.json").read_text())
    assert (data["score"], data["max_score"]) == (1, 3)
