"""The ``function`` kind, added through the kinds table, its check module, the kernel-side
caller and this test: YAML reading, the caller run in this process (hostile functions
included), judging the exports, the source checks, and a build + grade of nbgrader's first
example (``squares``, ``sum_of_squares``) with right, wrong and tampering submissions."""

from __future__ import annotations

import re
import sys

import pytest
from shipped import with_answers

from grader.errors import CompareError, SpecError
from grader.execute.records import ExportRecord
from grader.inkernel.calls import MAX_RESULT_ITEMS, call_all, call_one
from grader.judge.function import compare_calls
from grader.judge.scoring import KeyExpectations, judge_export
from grader.judge.source_rules import check_source
from grader.key import AnswerKey
from grader.kinds import export_spec
from grader.solutions import reference_calls
from grader.spec import Answer, load_course

COURSE = "name: Squares\nassignments:\n  - id: sq\n    title: S\n    exercises: [squares, sos]\n"
TOPIC = """\
topic: sq
title: Squares
setup: ""
exercises:
  - id: squares
    title: Squares
    points: 3
    prompt: Write squares(n), the list [1, 4, ..., n*n]; it raises ValueError for n < 1.
    starter: |
      def squares(n):
          ...
    answer:
      kind: function
      name: squares
      cases:
        - {args: [1], public: true}
        - {args: [3], public: true}
        - {args: [0]}
        - {args: [-4]}
        - {args: [10], points: 2}
  - id: sos
    title: Sum of squares
    points: 2
    prompt: Write sum_of_squares(n) with squares.
    starter: |
      def sum_of_squares(n):
          ...
    answer:
      kind: function
      name: sum_of_squares
      cases: [{args: [1]}, {args: [4]}, {args: [7]}]
      calls: [squares]
      forbids: [math.fsum]
      call_timeout: 2
"""
SOLUTION = """\
# %% squares
def squares(n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return [i * i for i in range(1, n + 1)]

# %% sos
def sum_of_squares(n):
    return sum(squares(n))
"""


@pytest.fixture
def course(write_course, tmp_path):
    return load_course(
        write_course(tmp_path, course=COURSE, exercises={"sq": TOPIC}, solutions={"sq": SOLUTION})
    )


# --- YAML ----------------------------------------------------------------------------------


def test_the_yaml_options_are_read_with_their_defaults(course):
    squares, sos = course.exercises["squares"].answer, course.exercises["sos"].answer
    assert squares["cases"][0] == {
        "args": [1], "kwargs": {}, "public": True, "points": 1.0, "raises": ""
    }  # fmt: skip
    assert [c["points"] for c in squares["cases"]] == [1, 1, 1, 1, 2]
    assert (squares["calls"], squares["forbids"], squares["call_timeout"]) == ((), (), 1.0)
    assert (sos["calls"], sos["forbids"], sos["call_timeout"]) == (("squares",), ("math.fsum",), 2)
    assert (squares["rtol"], squares["atol"]) == (1e-5, 1e-8)


@pytest.mark.parametrize(
    "old,new,at,field,message",
    [
        ("cases: [{args: [1]}, {args: [4]}, {args: [7]}]", "cases: []", "cases: []",
         "sos.answer.cases", "at least one case"),
        ("cases: [{args: [1]}, {args: [4]}, {args: [7]}]", "cases: 3", "cases: 3",
         "sos.answer.cases", "expected a list"),
        ("{args: [-4]}", "{args: [-4], expect: 1}", "expect: 1",
         "squares.answer.cases[3].expect", "unknown field"),
        ("{args: [-4]}", "{args: -4}", "{args: -4}", "squares.answer.cases[3].args",
         "expected a list"),
        ("{args: [-4]}", "{args: [-4], kwargs: [1]}", "kwargs: [1]",
         "squares.answer.cases[3].kwargs", "expected dict"),
        ("{args: [-4]}", "{args: [-4], raises: 'Value Error'}", "raises: 'Value",
         "squares.answer.cases[3].raises", "not an exception's type name"),
        ("{args: [-4]}", "{args: [-4], points: 0}", "points: 0",
         "squares.answer.cases[3].points", "expected a positive number"),
        ("{args: [-4]}", "{args: [-4], public: 1}", "public: 1",
         "squares.answer.cases[3].public", "expected"),
        ("calls: [squares]", "calls: [squares, 'not a name']", "calls: [squares, 'not",
         "sos.answer.calls", "expected a list of Python names"),
        ("forbids: [math.fsum]", "forbids: math.fsum", "forbids: math.fsum",
         "sos.answer.forbids", "expected a list"),
        ("call_timeout: 2", "call_timeout: 0", "call_timeout: 0",
         "sos.answer.call_timeout", "expected a positive number"),
        ("call_timeout: 2", "call_timeout: 2\n      probe: [3]", "probe: [3]",
         "sos.answer.probe", "unknown field"),
    ],
)  # fmt: skip
def test_a_wrong_option_names_its_file_line_and_field(
    write_course, tmp_path, old, new, at, field, message
):
    assert old in TOPIC
    topic = TOPIC.replace(old, new)
    path = write_course(
        tmp_path, course=COURSE, exercises={"sq": topic}, solutions={"sq": SOLUTION}
    )
    with pytest.raises(SpecError) as err:
        load_course(path)
    lines = [i for i, text in enumerate(topic.splitlines(), 1) if at in text]
    assert len(lines) == 1
    assert re.match(rf".*/exercises/sq\.yaml:{lines[0]}: {re.escape(field)}: ", str(err.value))
    assert message in str(err.value)


def test_the_export_spec_carries_the_inputs_only(course):
    spec = export_spec("function", "squares", course.exercises["squares"].answer.options)
    assert spec["recipe"] == "calls" and spec["timeout"] == 1.0
    assert spec["cases"][2] == {"args": [0], "kwargs": {}}  # no points, no public flag


def test_the_expected_results_are_the_reference_s_computed_here(course):
    values = reference_calls(course, "sq")
    assert values["squares"][1] == {"value": [1, 4, 9]}
    assert values["squares"][2] == {"raised": "ValueError", "message": "n must be at least 1"}
    assert values["sos"] == [{"value": 1}, {"value": 30}, {"value": 140}]


# --- the kernel-side caller, in this process -------------------------------------------------


def squares(n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return [i * i for i in range(1, n + 1)]


class Liar(int):
    """An int that claims to equal anything."""

    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class Anything:
    def __eq__(self, other):
        return True


def test_the_caller_exports_results_and_exceptions():
    cases = [{"args": [3]}, {"args": [0]}, {"args": [], "kwargs": {"n": 2}}]
    assert call_all(squares, cases, 1) == [
        {"value": [1, 4, 9]},
        {"raised": "ValueError", "message": "n must be at least 1"},
        {"value": [1, 4]},
    ]
    assert call_one(lambda: 1 / 0, [], {}, 1)["raised"] == "ZeroDivisionError"
    assert call_one(lambda: 1, [2], {}, 1)["raised"] == "TypeError"
    assert call_one(sys.exit, [3], {}, 1) == {"raised": "SystemExit", "message": "3"}


def test_an_exception_class_of_the_student_is_not_the_builtin_one():
    class ValueError(Exception):  # named to pass for the builtin
        pass

    def fake(n):
        raise ValueError("n")

    got = call_one(fake, [0], {}, 1)["raised"]
    assert got != "ValueError" and got.endswith("ValueError")


def test_a_lying_result_is_exported_as_what_it_is():
    assert call_one(lambda: Liar(5), [], {}, 1) == {"value": 5}
    assert call_one(lambda: [Liar(1), True, 2.5], [], {}, 1) == {"value": [1, True, 2.5]}
    assert call_one(lambda: Anything(), [], {}, 1) == {
        "error": "cannot export a value of type Anything"
    }
    huge = call_one(lambda: list(range(MAX_RESULT_ITEMS + 5)), [], {}, 1)
    assert huge == {"error": f"the result has more than {MAX_RESULT_ITEMS} items"}


def test_a_call_past_its_time_limit_is_stopped():
    def sleepy(n):
        while True:
            pass

    def hides(n):
        try:
            while True:
                pass
        except Exception:
            return 1

    assert call_one(sleepy, [1], {}, 0.1) == {"timeout": 0.1}
    assert call_one(hides, [1], {}, 0.1) == {"timeout": 0.1}
    assert call_one(squares, [2], {}, 0.1) == {"value": [1, 4]}  # the alarm is off again


def test_a_function_that_mutates_its_inputs_changes_no_other_case():
    def grabby(xs):
        xs.append(len(xs))
        return list(xs)

    data = [1, 2]
    cases = [{"args": [data]}, {"args": [data]}]
    assert call_all(grabby, cases, 1) == [{"value": [1, 2, 2]}, {"value": [1, 2, 2]}]
    assert data == [1, 2]


def test_an_answer_that_is_not_a_function_is_an_export_error():
    from grader.inkernel.exporter import ExportError

    with pytest.raises(ExportError, match="expected a function, got list"):
        call_all([1, 4, 9], [{"args": [3]}], 1)


# --- judging --------------------------------------------------------------------------------


def _answer(cases, **options):
    full = [
        {"args": [], "kwargs": {}, "public": False, "points": 1.0, "raises": "", **c} for c in cases
    ]
    return Answer.of("function", "f", cases=tuple(full), **{"rtol": 1e-5, "atol": 1e-8, **options})


CASES = [{"args": [3], "public": True}, {"args": [0]}, {"args": [2.0], "points": 2}]
RIGHT = [{"value": [1, 4, 9]}, {"raised": "ValueError", "message": "n < 1"}, {"value": 4.0}]


@pytest.mark.parametrize(
    "got,passed,message",
    [
        (RIGHT, [True, True, True], ""),
        ([{"value": [1, 4, 9]}, {"raised": "ValueError"}, {"value": 4.00000001}],
         [True, True, True], ""),
        ([{"value": [1, 4, 9]}, {"value": []}, {"value": 4.0}], [True, False, True],
         "fails for a hidden case: expected ValueError (n < 1), got []"),
        ([{"value": [1, 4]}, {"raised": "ValueError"}, {"value": 4.1}], [False, True, False],
         "fails for f(3): expected [1, 4, 9], got [1, 4]"),
        ([{"value": [1, 4, 9.0]}, {"raised": "__main__.ValueError"}, {"value": 4}],
         [True, False, True], "fails for a hidden case: expected ValueError (n < 1), got "
         "__main__.ValueError"),
        ([{"value": [1, 4, "9"]}, {"raised": "TypeError"}, {"timeout": 1}], [False, False, False],
         "fails for f(3): expected [1, 4, 9], got [1, 4, '9']"),
        ([{"value": [True, 4, 9]}, {"raised": "ValueError"}, {"value": [4.0]}],
         [False, True, False], "fails for f(3)"),
        ([{"error": "cannot export a value of type Anything"}, 7, None], [False, False, False],
         "fails for f(3): expected [1, 4, 9], got cannot export a value of type Anything"),
        ("forged", [False, False, False], "fails for f(3): expected [1, 4, 9], got no result"),
        (RIGHT[:2], [False, False, False], "fails for f(3)"),
    ],
)  # fmt: skip
def test_judging(got, passed, message):
    checks = compare_calls(_answer(CASES), RIGHT, got)
    assert [c.passed for c in checks] == passed
    assert [c.weight for c in checks] == [1, 1, 2]
    failed = [c.message for c in checks if not c.passed]
    assert (failed[0] if failed else "").startswith(message)
    assert all("0" not in m.partition("expected")[0] for m in failed[1:2])  # hidden inputs


def test_a_timeout_is_said_as_such():
    (check,) = compare_calls(_answer(CASES[:1]), RIGHT[:1], [{"timeout": 1.0}])
    assert check.message == "fails for f(3): expected [1, 4, 9], got no result within 1.0 s"


def test_a_case_s_own_raises_overrides_the_reference():
    answer = _answer([{"args": [0], "raises": "ValueError", "public": True}])
    (check,) = compare_calls(answer, [{"value": []}], [{"value": []}])
    assert not check.passed and check.message == "fails for f(0): expected ValueError, got []"


def test_a_reference_that_fails_is_a_course_error():
    with pytest.raises(CompareError, match="the reference fails for f"):
        compare_calls(_answer(CASES[:1]), [{"timeout": 1}], [{"value": 1}])
    with pytest.raises(CompareError, match="run `grade build`"):
        compare_calls(_answer(CASES), RIGHT[:1], RIGHT)


def test_the_judge_scores_by_cases_and_source(course):
    key = AnswerKey("sq", course.fingerprint, reference_calls(course, "sq"))
    expect = KeyExpectations(course, key)
    squares_ex, sos = course.exercises["squares"], course.exercises["sos"]
    wrong = [{"value": [1]}, {"value": [1, 4, 9]}, {"value": []}, {"value": []}, {"value": []}]
    result = judge_export(squares_ex, ExportRecord({"ok": True, "calls": wrong}), expect)
    assert (result.score, result.status) == (1.0, "partial")  # 2 of 6 case points, of 3
    assert (
        result.message
        == "fails for a hidden case: expected ValueError (n must be at least 1), got []"
    )
    right = [{"value": 1}, {"value": 30}, {"value": 140}]
    record = ExportRecord({"ok": True, "calls": right})
    good = "def sum_of_squares(n):\n    return sum(squares(n))\n"
    bad = "def sum_of_squares(n):\n    return n * (n + 1) * (2 * n + 1) // 6\n"
    assert judge_export(sos, record, expect, source=good).score == 2
    failed = judge_export(sos, record, expect, source=bad)
    assert (failed.score, failed.message) == (0, "sum_of_squares must call squares")
    assert judge_export(sos, record, expect).score == 2  # no source given: cases only


# --- source checks ------------------------------------------------------------------------


def _src(calls=(), forbids=(), name="f"):
    return Answer.of("function", name, cases=(), calls=tuple(calls), forbids=tuple(forbids))


@pytest.mark.parametrize(
    "source,ok,message",
    [
        ("def f(x):\n    return g(x)\n", True, ""),
        ("def f(x):\n    return x\ndef h():\n    return g(1)\n", False, "f must call g"),
        ("def f(x):\n    return helpers.g(x)\n", True, ""),
        ("def f(x):\n    return x  # g(x)\n", False, "f must call g"),
        ("def f(x):\n    return g\n", False, "f must call g"),
        ("def f(x:\n", False, "the answer cell cannot be read"),
    ],
)  # fmt: skip
def test_a_required_call(source, ok, message):
    (check,) = check_source(_src(calls=["g"]), source)
    assert check.passed is ok and check.message.startswith(message)
    assert check.weight == 0


CONV = "torch.nn.functional.conv1d"


@pytest.mark.parametrize(
    "source,ok",
    [
        ("def f(x, w):\n    return sum(a * b for a, b in zip(x, w))\n", True),
        ("import torch\ndef f(x, w):\n    return torch.nn.functional.conv1d(x, w)\n", False),
        ("import torch.nn.functional as F\ndef f(x, w):\n    return F.conv1d(x, w)\n", False),
        ("from torch.nn.functional import conv1d as c\ndef f(x, w):\n    return c(x, w)\n",
         False),
        ("from torch.nn import functional\ng = functional.conv1d\ndef f(x, w):\n    return g(x)\n",
         False),
        ("import torch.nn.functional as F\ndef f(x, w):\n    return F.conv2d(x, w)\n", True),
    ],
)  # fmt: skip
def test_a_forbidden_call(source, ok):
    (check,) = check_source(_src(forbids=[CONV]), source)
    assert check.passed is ok
    assert ok or check.message == f"the answer must not use {CONV}"


def test_no_source_rule_no_source_check():
    assert check_source(_src(), "not python at all (") == []


# --- a real kernel: build, then grade right, wrong and tampering submissions ---------------

RIGHT_ANSWERS = {
    "squares": "def squares(n):\n    if n < 1:\n        raise ValueError('too small')\n"
    "    out = []\n    for i in range(1, n + 1):\n        out.append(i ** 2)\n    return out\n",
    "sos": "def sum_of_squares(n):\n    total = 0\n    for x in squares(n):\n        total += x\n"
    "    return total\n",
}
WRONG_ANSWERS = {  # no ValueError; a closed formula that does not call squares
    "squares": "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n",
    "sos": "def sum_of_squares(n):\n    return n * (n + 1) * (2 * n + 1) // 6\n",
}
TAMPERING = {  # the public cases' outputs hard-coded; the old way's list of results edited
    "squares": "squares_raises = [True, True, True]\n"
    "def squares(n):\n    return {1: [1], 3: [1, 4, 9]}.get(n, [])\n",
    "sos": "class Big(int):\n    def __eq__(self, other):\n        return True\n"
    "def sum_of_squares(n):\n    squares(1)\n    return Big(0)\n",
}

PATCHING = {  # builtins patched so that anything looks like an int: it gains nothing
    "squares": "import builtins\nbuiltins.isinstance = lambda *a: True\n"
    "def squares(n):\n    return 'all right'\n",
    "sos": RIGHT_ANSWERS["sos"],
}


@pytest.mark.kernel
def test_build_and_grade_nbgrader_s_first_example(course, tmp_path):
    from grader.build import build
    from grader.options import GradeOptions
    from grader.pipeline import grade
    from grader.report import render_html

    release = tmp_path / "release"
    options = GradeOptions(sandbox="optional", release=release)
    build(course, release, options)  # its self-check: the solution full marks, the starter 0
    notebook = release / "student" / "sq.ipynb"

    def graded(answers, name):
        result = grade(with_answers(notebook, answers, tmp_path / name), course, options=options)
        return result, {e.id: e for e in result.exercises}

    result, by_id = graded(RIGHT_ANSWERS, "right.ipynb")
    assert (result.score, by_id["squares"].status, by_id["sos"].status) == (5, "passed", "passed")

    result, by_id = graded(WRONG_ANSWERS, "wrong.ipynb")
    assert by_id["squares"].score == 2.0  # 4 of 6 case points: the two n < 1 cases fail
    assert by_id["squares"].message == (
        "fails for a hidden case: expected ValueError (n must be at least 1), got []"
    )
    assert (by_id["sos"].score, by_id["sos"].message) == (0, "sum_of_squares must call squares")
    assert "fails for a hidden case" in render_html(result)

    result, by_id = graded(TAMPERING, "tampering.ipynb")
    assert by_id["squares"].score == 1.0  # the two public cases only
    assert by_id["sos"].score == 0  # Big(0) is exported as 0
    assert by_id["sos"].checks[1].message.startswith("fails for a hidden case: expected 1, got 0")

    result, by_id = graded(PATCHING, "patching.ipynb")
    assert result.score == 0  # (its cell breaks the kernel's own output: an error)
