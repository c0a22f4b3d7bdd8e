"""The ``function`` kind in the hand-out: its public cases (inputs and the reference's results,
public by definition) are in ``grade-handout.json``, its hidden cases are not; ``check()`` in
the notebook and ``grade`` in the hand-out folder call the student's function on the public
cases and say right or wrong per case by official grading's comparison; the hidden cases are
``pending``. The course is nbgrader's first example of ``test_function_kind``."""

from __future__ import annotations

import json

import pytest
from shipped import with_answers
from test_function_kind import COURSE, RIGHT_ANSWERS, SOLUTION, TOPIC, WRONG_ANSWERS

from grader.execute.records import ExportRecord
from grader.handout import load_handout
from grader.handout_release import handout_data
from grader.inkernel.public import HANDOUT, describe
from grader.judge.public_context import PublicExpectations
from grader.judge.scoring import KeyExpectations, judge_export
from grader.key import AnswerKey
from grader.solutions import reference_calls
from grader.spec import load_course

# every case of squares public: nothing is left to official grading
ALL_PUBLIC = (
    TOPIC.replace("{args: [0]}", "{args: [0], public: true}")
    .replace("{args: [-4]}", "{args: [-4], public: true}")
    .replace("{args: [10], points: 2}", "{args: [10], points: 2, public: true}")
)


def _course(write_course, tmp_path, topic=TOPIC):
    return load_course(
        write_course(tmp_path, course=COURSE, exercises={"sq": topic}, solutions={"sq": SOLUTION})
    )


def _handout(course, tmp_path):
    """The hand-out's data, written and read back as ``grade`` reads it."""
    key = AnswerKey("sq", course.fingerprint, reference_calls(course, "sq"))
    path = tmp_path / HANDOUT
    path.write_text(json.dumps(handout_data(course, "sq", key)), encoding="utf-8")
    return (*load_handout(path), key)


def _cases_in(data):
    """Every case anywhere in the data (a dict with ``args``)."""
    if isinstance(data, dict):
        return ([data] if "args" in data else []) + [c for v in data.values() for c in _cases_in(v)]
    if isinstance(data, list):
        return [c for v in data for c in _cases_in(v)]
    return []


def test_the_hand_out_holds_the_public_cases_and_no_hidden_one(write_course, tmp_path):
    course = _course(write_course, tmp_path)
    _, data, key = _handout(course, tmp_path)
    text = json.dumps(data)
    assert [c["args"] for c in _cases_in(data)] == [[1], [3]]  # squares' public cases only
    assert all(c["public"] for c in _cases_in(data))
    squares, sos = data["exercises"]
    assert squares["public_cases"] == {
        "expected": [{"value": [1]}, {"value": [1, 4, 9]}], "hidden": 3, "drawn": 0,
        "hidden_points": 4.0,
    }  # fmt: skip
    assert sos["public_cases"]["expected"] == [] and sos["public_cases"]["hidden"] == 3
    for ex_id, results in key.values.items():
        cases = course.exercises[ex_id].answer["cases"]
        for case, result in zip(cases, results, strict=True):
            if not case["public"]:  # no hidden case's result, in any form
                assert json.dumps(result) not in text
    assert "must be at least" not in text and "140" not in text and "[1, 4, 9, 16" not in text
    assert sos["answer"]["calls"] == ["squares"] and sos["answer"]["forbids"] == ["math.fsum"]


def _export(*results):
    return ExportRecord({"ok": True, "calls": list(results)})


def test_grade_in_the_hand_out_says_right_or_wrong_per_public_case(write_course, tmp_path):
    hcourse, data, _ = _handout(_course(write_course, tmp_path), tmp_path)
    expect = PublicExpectations(data)
    squares, sos = hcourse.exercises["squares"], hcourse.exercises["sos"]
    right = judge_export(squares, _export({"value": [1]}, {"value": [1, 4, 9]}), expect)
    assert right.status == "pending" and right.score == 0
    assert [(c.name, c.passed) for c in right.checks] == [("case 1", True), ("case 2", True)]
    assert right.message == "2 public cases: OK; 3 hidden cases: checked at grading"
    wrong = judge_export(squares, _export({"value": [1]}, {"raised": "ValueError"}), expect)
    assert wrong.status == "pending"
    assert [c.passed for c in wrong.checks] == [True, False]
    assert wrong.message == (
        "2 public cases: 1 of 2 right; fails for squares(3): expected [1, 4, 9], got "
        "ValueError; 3 hidden cases: checked at grading"
    )
    # sos has no public case; its rule on what the cell calls is checked here as at grading
    bad = "def sum_of_squares(n):\n    return n * (n + 1) * (2 * n + 1) // 6\n"
    failed = judge_export(sos, _export(), expect, source=bad)
    assert (failed.status, failed.score) == ("failed", 0)
    assert failed.message == "sum_of_squares must call squares"
    good = judge_export(sos, _export(), expect, source=RIGHT_ANSWERS["sos"])
    assert (good.status, good.message) == ("pending", "3 hidden cases: checked at grading")


@pytest.mark.parametrize(
    "results",
    [
        [{"value": [1]}, {"value": [1, 4, 9]}, {"raised": "ValueError"}, {"raised": "ValueError"},
         {"value": [i * i for i in range(1, 11)]}],
        [{"value": [1]}, {"value": [1, 4, 9]}, {"value": []}, {"value": []},
         {"value": [i * i for i in range(1, 11)]}],
        [{"value": [1.0]}, {"value": [1, 4, 9.000001]}, {"raised": "TypeError"}, {"value": None},
         {"timeout": 1.0}],
        [{"error": "no"}] * 5,
    ],
)  # fmt: skip
def test_with_every_case_public_the_hand_out_decides_as_official_grading(
    write_course, tmp_path, results
):
    course = _course(write_course, tmp_path, ALL_PUBLIC)
    hcourse, data, key = _handout(course, tmp_path)
    here = judge_export(hcourse.exercises["squares"], _export(*results), PublicExpectations(data))
    there = judge_export(
        course.exercises["squares"], _export(*results), KeyExpectations(course, key)
    )
    assert here.status != "pending"
    assert (here.score, here.status) == (there.score, there.status)
    assert [c.passed for c in here.checks] == [c.passed for c in there.checks]


def _squares_right(n):
    if n < 1:
        raise ValueError("no")
    return [i * i for i in range(1, n + 1)]


def test_check_in_the_notebook_calls_the_function_on_the_public_cases(write_course, tmp_path):
    _, data, _ = _handout(_course(write_course, tmp_path), tmp_path)
    squares = data["exercises"][0]
    line, verdict = describe(squares, {"squares": _squares_right})
    assert verdict is None  # the hidden cases are decided at grading
    assert line == (
        "squares: 2 public cases: OK; 3 hidden cases: checked at grading\n"
        "  squares(1): right\n  squares(3): right"
    )
    line, verdict = describe(squares, {"squares": lambda n: [i * i for i in range(n)]})
    assert verdict is False
    assert "2 public cases: 0 of 2 right" in line
    assert "  squares(3): wrong (expected [1, 4, 9], got [0, 1, 4])" in line
    line, verdict = describe(squares, {"squares": 3})
    assert (verdict, line) == (False, "squares: `squares` must be a function, you gave a int")
    sos = data["exercises"][1]
    assert describe(sos, {"sum_of_squares": sum}) == (
        "sos: 3 hidden cases: checked at grading",
        None,
    )


def test_check_says_right_when_every_case_is_public(write_course, tmp_path):
    _, data, _ = _handout(_course(write_course, tmp_path, ALL_PUBLIC), tmp_path)
    line, verdict = describe(data["exercises"][0], {"squares": _squares_right})
    assert verdict is True and line.startswith("squares: 5 public cases: OK\n")
    wrong = {"squares": lambda n: [i * i for i in range(1, n + 1)]}  # no ValueError for n < 1
    line, verdict = describe(data["exercises"][0], wrong)
    assert verdict is False and "squares(0): wrong (expected ValueError, got [])" in line


@pytest.mark.kernel
def test_grade_in_the_hand_out_folder_runs_the_public_cases(write_course, tmp_path):
    from grader.build import build
    from grader.handout import grade_with_handout
    from grader.options import GradeOptions

    release = tmp_path / "release"
    build(
        _course(write_course, tmp_path), release, GradeOptions(sandbox="optional", release=release)
    )
    folder = release / "handout" / "sq"

    def graded(answers, name):
        notebook = with_answers(folder / "sq.ipynb", answers, folder / name)
        result = grade_with_handout(notebook, folder / HANDOUT, GradeOptions(sandbox="optional"))
        return result, {e.id: e for e in result.exercises}

    result, by_id = graded(RIGHT_ANSWERS, "right.ipynb")
    squares, sos = by_id["squares"], by_id["sos"]
    assert [(c.name, c.passed) for c in squares.checks] == [("case 1", True), ("case 2", True)]
    assert (squares.status, squares.message) == (
        "pending", "2 public cases: OK; 3 hidden cases: checked at grading"
    )  # fmt: skip
    assert (sos.status, sos.message) == ("pending", "3 hidden cases: checked at grading")
    assert result.checked == 0  # the hidden cases decide both at official grading

    wrong = {"squares": "def squares(n):\n    return [i * i for i in range(n)]\n"}
    result, by_id = graded({**wrong, "sos": WRONG_ANSWERS["sos"]}, "wrong.ipynb")
    squares, sos = by_id["squares"], by_id["sos"]
    assert [c.passed for c in squares.checks] == [False, False]
    assert squares.status == "pending" and squares.message.startswith(
        "2 public cases: 0 of 2 right; fails for squares(1): expected [1], got [0]"
    )
    assert (sos.status, sos.score, sos.message) == (
        "failed", 0, "sum_of_squares must call squares"
    )  # fmt: skip
