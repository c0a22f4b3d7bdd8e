"""The ``choice`` kind: YAML reading, the prompt's options (shuffled per variant when asked),
judging (hostile values included), the hand-out's public check and instant feedback, and a
build + grade of a tiny course in a real kernel."""

from __future__ import annotations

import json
import re

import pytest
from shipped import with_answers

from grader.errors import CompareError, SpecError
from grader.execute.records import ExportRecord
from grader.handout_release import handout_data
from grader.inkernel.public import describe
from grader.judge.choice import compare_choice
from grader.judge.public_context import PublicExpectations
from grader.judge.scoring import KeyExpectations, judge_export
from grader.key import AnswerKey
from grader.kinds import KINDS
from grader.render import prompt_text
from grader.spec import Answer, load_course

COURSE = (
    "name: Picks\nassignments:\n  - id: c1\n    title: C\n    exercises: [c-layer, c-tf, c-all]\n"
)
TOPIC = """\
topic: c
title: Choices
setup: ""
exercises:
  - id: c-layer
    title: Which layer
    points: 1
    prompt: Which layer slides a kernel over its input?
    starter: layer = ...
    answer:
      kind: choice
      name: layer
      options: [Linear, Conv2d, MaxPool2d, Dropout]
      shuffle: true
    instant: true
  - id: c-tf
    title: True or false
    points: 1
    prompt: A stride of 2 halves the output's width.
    starter: tf = ...
    answer: {kind: choice, name: tf, options: ["True", "False"]}
    mistakes:
      - function: wrong_way
        title: the other way round
        hint: Count the positions of the kernel.
  - id: c-all
    title: Which apply
    points: 2
    prompt: Which layers have weights?
    starter: apply = ...
    answer:
      kind: choice
      name: apply
      options: [Linear, Conv2d, MaxPool2d, ReLU]
      multiple: true
    instant: true
"""
SOLUTION = """\
def wrong_way():
    return "False"

# %% c-layer
layer = "Conv2d"

# %% c-tf
tf = "True"

# %% c-all
apply = ["Conv2d", "Linear"]
"""
VALUES = {"c-layer": "Conv2d", "c-tf": "True", "c-all": ["Conv2d", "Linear"]}


@pytest.fixture
def course(write_course, tmp_path):
    return load_course(
        write_course(tmp_path, course=COURSE, exercises={"c": TOPIC}, solutions={"c": SOLUTION})
    )


# --- YAML ----------------------------------------------------------------------------------


def test_the_yaml_options_are_read_with_their_defaults(course):
    answers = {e: course.exercises[e].answer for e in VALUES}
    assert answers["c-layer"].options == {
        "options": ("Linear", "Conv2d", "MaxPool2d", "Dropout"),
        "multiple": False,
        "shuffle": True,
    }
    assert answers["c-tf"].options == {
        "options": ("True", "False"), "multiple": False, "shuffle": False
    }  # fmt: skip
    assert answers["c-all"]["multiple"] is True
    assert course.exercises["c-all"].instant


@pytest.mark.parametrize(
    "old,new,at,message",
    [
        ('options: ["True", "False"]', "options: [True, False]", "options: [True",
         "option 1 is True (a YAML bool), not a text: quote it"),
        ('options: ["True", "False"]', 'options: ["True"]', 'options: ["True"]',
         "expected a list of at least two options"),
        ('options: ["True", "False"]', 'options: ["True", " true "]', 'options: ["True", " t',
         "' true ' and 'True' are the same option"),
        ('options: ["True", "False"]', 'options: ["True", ""]', 'options: ["True", ""]',
         "option 2 is empty"),
        ('options: ["True", "False"]', 'options: ["True", "False"], multiple: maybe',
         "multiple: maybe", "expected bool"),
        ('options: ["True", "False"]', 'options: ["True", "False"], rtol: 0', "rtol: 0",
         "unknown field"),
    ],
)  # fmt: skip
def test_a_wrong_option_names_its_file_line_and_field(
    write_course, tmp_path, old, new, at, message
):
    assert old in TOPIC
    topic = TOPIC.replace(old, new)
    path = write_course(tmp_path, course=COURSE, exercises={"c": topic}, solutions={"c": SOLUTION})
    with pytest.raises(SpecError) as err:
        load_course(path)
    lines = [i for i, text in enumerate(topic.splitlines(), 1) if at in text]
    assert len(lines) == 1
    assert re.match(rf".*/exercises/c\.yaml:{lines[0]}: c-tf\.answer\.", str(err.value))
    assert message in str(err.value), str(err.value)


# --- the prompt: its options, in one order per variant when shuffled -----------------------


def _listed(text):
    return re.findall(r"^- `(.*)`$", text, re.M)


def test_the_prompt_lists_the_options_in_the_author_s_order_unless_shuffled(course):
    tf = prompt_text(course.exercises["c-tf"], "anyone")
    assert _listed(tf) == ["True", "False"] and "the text of one option (a str)" in tf
    assert "a list of the texts" in prompt_text(course.exercises["c-all"])
    layer = course.exercises["c-layer"]
    orders = {tuple(_listed(prompt_text(layer, f"v{i}"))) for i in range(30)}
    assert all(sorted(o) == sorted(layer.answer["options"]) for o in orders)
    assert len(orders) > 3  # shuffled for each variant...
    assert _listed(prompt_text(layer, "v7")) == _listed(prompt_text(layer, "v7"))  # ...stably


def test_an_option_with_backticks_is_still_one_code_span():
    from grader.kind_hooks import choice_prompt

    text = choice_prompt({"options": ("a`b", "c"), "multiple": False, "shuffle": False}, "")
    assert text.splitlines()[-2:] == ["- `` a`b ``", "- `c`"]


def test_the_student_notebook_shows_the_variant_s_order(course):
    from dataclasses import replace

    from grader.render import render_assignment

    prompts = []
    for variant in ("", "v1", "v2", "v3", "v4", "v5"):
        c = replace(course, variant=variant)
        nb = render_assignment(c, c.assignment("c1"), "student")
        cell = next(
            x for x in nb.cells if x.metadata["grader"] == {"id": "c-layer", "role": "prompt"}
        )
        assert _listed(cell.source) == _listed(prompt_text(course.exercises["c-layer"], variant))
        prompts.append(tuple(_listed(cell.source)))
    assert len(set(prompts)) > 1


# --- judging -------------------------------------------------------------------------------


class Liar(str):
    """A str that claims to equal anything."""

    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


ONE = Answer.of("choice", "c", options=("Linear", "Conv2d", "Max  Pool"))
MANY = Answer.of("choice", "c", options=("Linear", "Conv2d", "Max  Pool"), multiple=True)
TF = Answer.of("choice", "c", options=("True", "False"))
TF_MANY = Answer.of("choice", "c", options=("True", "False"), multiple=True)


@pytest.mark.parametrize(
    "answer,expected,got,ok,message",
    [
        (ONE, "Conv2d", "Conv2d", True, ""),
        (ONE, "Conv2d", "  conv2D\n", True, ""),
        (ONE, "Max  Pool", "max pool", True, ""),
        (ONE, "Conv2d", "Linear", False, "expected 'Conv2d', got 'Linear'"),
        (ONE, "Conv2d", "Conv1d", False,
         "'Conv1d' is not one of the options ('Linear', 'Conv2d', 'Max  Pool')"),
        (ONE, "Conv2d", ["Conv2d"], False, "expected one option's text (a str), got a list of 1"),
        (ONE, "Conv2d", None, False, "expected one option's text (a str), got nothing"),
        (ONE, "Conv2d", 1, False, "expected one option's text (a str), got a int"),
        (ONE, "Conv2d", True, False, "'True' is not one of the options"),
        (TF, "True", True, True, ""),
        (TF, "True", False, False, "expected 'True', got 'False'"),
        (TF, "True", "true", True, ""),
        (TF, "True", 1, False, "expected one option's text (a str), got a int"),
        (TF_MANY, ["True"], [True], True, ""),
        (TF_MANY, ["True"], [True, "false"], False, "not an answer: 'False'"),
        (ONE, "Conv2d", Liar("x"), False, "expected one option's text (a str), got a Liar"),
        (ONE, "Conv2d", "x" * 1000, False, "'" + "x" * 80 + "…' is not one of the options"),
        (MANY, ["Conv2d", "Linear"], ["linear", "CONV2D"], True, ""),
        (MANY, ["Conv2d", "Linear"], ["Linear", "Conv2d", "Linear"], True, ""),
        (MANY, [], [], True, ""),
        (MANY, ["Conv2d", "Linear"], ["Linear"], False, "missing 'Conv2d'"),
        (MANY, ["Conv2d"], ["Linear", "Conv2d"], False, "not an answer: 'Linear'"),
        (MANY, ["Conv2d"], ["Linear"], False, "missing 'Conv2d'; not an answer: 'Linear'"),
        (MANY, ["Conv2d"], "Conv2d", False, "expected a list of the options' texts, got a str"),
        (MANY, ["Conv2d"], ["Conv2d", 3], False, "expected a list of the options' texts"),
        (MANY, ["Conv2d"], [Liar("Conv2d")], False, "expected a list of the options' texts"),
        (MANY, ["Conv2d"], ["Conv2d", "Relu"], False, "'Relu' is not one of the options"),
    ],
)  # fmt: skip
def test_judging(answer, expected, got, ok, message):
    (check,) = compare_choice(answer, expected, got)
    assert check.passed is ok
    assert check.message.startswith(message) and (message or not check.message), check.message


@pytest.mark.parametrize(
    "answer,expected",
    [(ONE, "Conv1d"), (ONE, ["Conv2d"]), (MANY, "Conv2d"), (MANY, ["Conv2d", "Relu"])],
)
def test_a_reference_that_is_not_among_the_options_is_a_course_error(answer, expected):
    with pytest.raises(CompareError, match="the reference value is not"):
        compare_choice(answer, expected, "Conv2d")


def test_the_judge_names_the_known_mistake(course):
    key = AnswerKey("c1", course.fingerprint, VALUES)
    result = judge_export(
        course.exercises["c-tf"],
        ExportRecord({"ok": True, "value": " false"}),
        KeyExpectations(course, key),
    )
    assert (result.status, result.message, result.hints) == (
        "failed",
        "a known mistake: the other way round",
        ("Count the positions of the kernel.",),
    )


# --- the hand-out --------------------------------------------------------------------------


@pytest.fixture
def handout(course):
    key = AnswerKey("c1", course.fingerprint, VALUES)
    return key, handout_data(course, "c1", key)


def test_the_hand_out_has_the_options_not_which_is_right(course, handout):
    _, data = handout
    specs = {e["id"]: e for e in data["exercises"]}
    assert (
        specs["c-layer"]["answer"]["checks"] == ["one_of_options"] == list(KINDS["choice"].public)
    )
    assert specs["c-all"]["public"] == {
        "options": ["Linear", "Conv2d", "MaxPool2d", "ReLU"], "multiple": True
    }  # fmt: skip
    assert specs["c-layer"]["instant"]["digest"] and specs["c-all"]["instant"]["digest"]
    assert len(specs["c-tf"]["mistakes"]["seals"]) == 1
    text = json.dumps(data)
    assert "other way round" not in text and "positions of the kernel" not in text


@pytest.mark.parametrize(
    "exercise,value,line,verdict",
    [
        ("c-layer", " CONV2D ", "c-layer: one of the options: OK; right answer: yes", True),
        ("c-layer", "Linear", "c-layer: one of the options: OK; right answer: no", False),
        ("c-layer", "Conv1d", "c-layer: 'Conv1d' is not one of the options", False),
        ("c-layer", ["Conv2d"], "c-layer: one of the options (a str) was expected, you gave a "
         "list of 1", False),
        ("c-tf", "True", "c-tf: one of the options: OK; right answer: checked at grading", None),
        ("c-tf", True, "c-tf: one of the options: OK; right answer: checked at grading", None),
        ("c-tf", False, "c-tf: one of the options: OK; right answer: checked at grading; "
         "a known mistake: the other way round\n  hint: Count the positions of the kernel.",
         False),
        ("c-tf", "FALSE", "c-tf: one of the options: OK; right answer: checked at grading; "
         "a known mistake: the other way round\n  hint: Count the positions of the kernel.",
         False),
        ("c-all", ["linear", "Conv2d"], "c-all: a list of options: OK; right answer: yes", True),
        ("c-all", ("Conv2d", "Linear", "Conv2d"), "c-all: a list of options: OK; right answer: yes",
         True),
        ("c-all", ["Conv2d"], "c-all: a list of options: OK; right answer: no", False),
        ("c-all", "Conv2d", "c-all: a list of options (a list of str) was expected, you gave a str",
         False),
        ("c-all", {"Conv2d", "Linear"}, "c-all: cannot export a value of type set", False),
        ("c-layer", Liar("Conv2d"), "c-layer: cannot export a value of type Liar", False),
    ],
)  # fmt: skip
def test_check_in_the_notebook(handout, exercise, value, line, verdict):
    _, data = handout
    spec = next(e for e in data["exercises"] if e["id"] == exercise)
    assert describe(spec, {spec["answer"]["name"]: value}) == (line, verdict)


@pytest.mark.parametrize(
    "exercise,value",
    [
        (e, v)
        for e in VALUES
        for v in ["Conv2d", "conv2d ", "Linear", "True", "false", "Relu", "", 12, None, True, False,
                  [True], [False, "Linear"],
                  [], ["Conv2d"], ["Linear", "Conv2d"], ["conv2d", "LINEAR", "linear"],
                  ["Conv2d", "MaxPool2d"], ["Relu"], {"a": "Conv2d"}]
    ],
)  # fmt: skip
def test_the_hand_out_never_contradicts_official_grading(course, handout, exercise, value):
    key, data = handout
    ex, record = course.exercises[exercise], ExportRecord({"ok": True, "value": value})
    here = judge_export(ex, record, PublicExpectations(data))
    there = judge_export(ex, record, KeyExpectations(course, key))
    if here.status != "pending":  # decided in the hand-out folder: as at grading
        assert (here.score, here.status) == (there.score, there.status)
    if any(not c.passed for c in here.checks):  # a problem shown: points are lost
        assert there.score < ex.points
    if here.mistake:
        assert here.mistake == there.mistake


# --- a real kernel: export, build, grade, grade with the hand-out --------------------------


@pytest.mark.kernel
def test_build_and_grade_a_course_with_choice_answers(course, tmp_path):
    from grader.build import build
    from grader.handout import grade_with_handout
    from grader.options import GradeOptions
    from grader.pipeline import grade
    from grader.report import render_html

    release = tmp_path / "release"
    options = GradeOptions(sandbox="optional", release=release)
    build(course, release, options)  # its self-check: the solution full marks, the starter 0
    answers = {
        "c-layer": 'layer = "  conv2D "',
        "c-tf": "tf = 2 > 3  # False",
        "c-all": "apply = ('Linear', '<b>Conv2d</b>')",
    }
    student = with_answers(release / "student" / "c1.ipynb", answers, tmp_path / "mine.ipynb")
    result = grade(student, course, options=options)
    by_id = {e.id: e for e in result.exercises}
    assert (by_id["c-layer"].status, by_id["c-layer"].checks[0].got) == ("passed", "  conv2D ")
    assert (by_id["c-tf"].status, by_id["c-tf"].mistake) == ("failed", "the other way round")
    assert by_id["c-all"].status == "failed"
    assert "is not one of the options" in by_id["c-all"].checks[0].message
    assert result.score == 1.0
    page = render_html(result)
    assert "&lt;b&gt;Conv2d" in page and "<b>Conv2d" not in page

    handout = release / "handout" / "c1"
    mine = with_answers(handout / "c1.ipynb", answers, handout / "mine.ipynb")
    here = {e.id: e for e in grade_with_handout(mine, handout / "grade-handout.json").exercises}
    assert here["c-layer"].status == "passed"  # instant feedback
    assert (here["c-tf"].status, here["c-tf"].mistake) == ("failed", "the other way round")
    assert here["c-all"].status == "failed"  # not one of the options: certain
