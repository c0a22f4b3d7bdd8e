"""Known mistakes: the wrong answers of common misconceptions, recognised with their hint."""

from __future__ import annotations

import pytest

from grader import load_course
from grader.build import build
from grader.errors import BuildError, SpecError
from grader.execute.records import ExportRecord
from grader.judge import JudgeContext
from grader.judge.scoring import KeyExpectations, judge_export
from grader.key import key_path, load_key
from grader.report import render_html
from grader.results import GradeResult


def _judged(course, ex, value):
    key = load_key(key_path(course.root / "release", _assignment(course, ex.id)))
    return judge_export(
        ex, ExportRecord({"ok": True, "value": value}), KeyExpectations(course, key)
    )


def _assignment(course, exercise_id):
    return next(a.id for a in course.assignments if exercise_id in a.exercises)


@pytest.mark.kernel
def test_every_shipped_mistake_is_recognised(built_course):
    course, _ = built_course
    with_mistakes = [ex for ex in course.exercises.values() if ex.mistakes]
    ps12 = {e for a in course.assignments if a.id in ("ps1", "ps2") for e in a.exercises}
    # one at least for each ps1 and ps2 exercise of a value (a function's wrong results are
    # told case by case)
    valued = {e for e in ps12 if course.exercises[e].answer.kind != "function"}
    assert {ex.id for ex in with_mistakes} == valued
    for ex in with_mistakes:
        key = load_key(key_path(course.root / "release", _assignment(course, ex.id)))
        context = JudgeContext(course, key)
        for m in ex.mistakes:
            value = context.mistake(ex, m)
            result = _judged(course, ex, value)
            assert result.score < ex.points, (ex.id, m.function)
            assert result.mistake == m.title, (ex.id, m.function, result.message)
            assert result.message == f"a known mistake: {m.title}"
            assert result.hints == (m.hint,)
        right = _judged(course, ex, key.values[ex.id])
        assert right.score == ex.points and right.mistake == "" and right.hints == ()


@pytest.mark.kernel
def test_other_wrong_answers_keep_the_generic_hints(built_course):
    course, _ = built_course
    ex = course.exercises["corr1d-same"]
    result = _judged(course, ex, [1] * 9)
    assert result.mistake == ""
    assert result.hints == ex.hints


@pytest.mark.kernel
def test_a_mistake_within_tolerance_matches(built_course):
    course, _ = built_course
    ex = course.exercises["conv1d-true"]  # atol 1e-6
    key = load_key(key_path(course.root / "release", "ps1"))
    value = JudgeContext(course, key).mistake(ex, ex.mistakes[0])
    nudged = [v + 1e-7 for v in value]
    assert _judged(course, ex, nudged).mistake == ex.mistakes[0].title


@pytest.mark.kernel
def test_the_report_names_the_mistake_and_its_hint(built_course):
    course, _ = built_course
    ex = course.exercises["params-total"]
    result = _judged(course, ex, 20128)
    page = render_html(GradeResult("C", "ps2", "mine.ipynb", 0.0, 1.0, 1.0, (result,)))
    assert "Known mistake" in page
    assert "biases left out" in page
    assert ex.mistakes[0].hint.replace("+", "+") in page
    assert ex.hints[0] not in page


TOPIC = """\
topic: t
title: T
setup: |
  xs = [1, 2, 3]
exercises:
  - id: t-sum
    title: A sum
    points: 1
    prompt: Add up xs.
    starter: total = ...
    answer: {kind: number, name: total}
    mistakes:
      - function: MISTAKE
        title: a mistake
        hint: a hint
"""
COURSE = "name: C\nassignments:\n  - id: a1\n    title: A\n    exercises: [t-sum]\n"
SOLUTION = """\
def off_by_one(xs):
    return sum(xs) - 1


def the_right_answer(xs):
    xs.append(100)  # a mutation must not reach the setup values of other mistakes
    return sum(xs[:3])


def needs_more(xs, ys):
    return 0


# %% t-sum
total = sum(xs)
"""


@pytest.mark.kernel
@pytest.mark.parametrize(
    ("function", "problem"),
    [
        ("off_by_one", None),
        ("the_right_answer", "a1/t-sum: the known mistake 'the_right_answer' gives the reference"),
        ("missing", "known mistake 'missing' is not defined in the preamble of t.py"),
        ("needs_more", "nor the exercise's parameters define 'ys'"),
    ],
)
def test_the_build_checks_the_mistakes(write_course, tmp_path, function, problem):
    course = load_course(
        write_course(
            tmp_path,
            course=COURSE,
            exercises={"t": TOPIC.replace("MISTAKE", function)},
            solutions={"t": SOLUTION},
        )
    )
    if problem is None:
        build(course, tmp_path / "release")
        return
    with pytest.raises((BuildError, SpecError), match=problem):
        build(course, tmp_path / "release")


@pytest.mark.parametrize(
    ("yaml", "error"),
    [
        ("      - function: f\n        title: t\n", "mistakes\\[0\\].hint: required field"),
        (
            "      - function: not a name\n        title: t\n        hint: h\n",
            "not a function name",
        ),
        ("      - {function: f, title: t, hint: h, points: 1}\n", "unknown field"),
        (
            "      - {function: f, title: t, hint: h}\n      - {function: f, title: u, hint: h}\n",
            "listed twice",
        ),
    ],
)
def test_bad_mistakes_are_spec_errors(write_course, tmp_path, yaml, error):
    topic = TOPIC.split("    mistakes:\n")[0] + "    mistakes:\n" + yaml
    with pytest.raises(SpecError, match=error):
        load_course(
            write_course(tmp_path, course=COURSE, exercises={"t": topic}, solutions={"t": SOLUTION})
        )
