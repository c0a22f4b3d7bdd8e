"""The ``text`` kind, added through the kinds table, its check module and this test only:
YAML reading, export from a real kernel, judging (hostile values included), the hand-out's
public check and instant feedback, and a build + grade of a tiny course."""

from __future__ import annotations

import json
import re

import pytest
from shipped import with_answers

from grader.errors import CompareError, SpecError
from grader.execute.records import ExportRecord
from grader.handout_release import handout_data
from grader.inkernel.public import describe
from grader.judge.public_context import PublicExpectations
from grader.judge.scoring import KeyExpectations, judge_export
from grader.judge.text import MAX_CHARS, compare_text
from grader.key import AnswerKey
from grader.kinds import KINDS
from grader.spec import Answer, load_course

COURSE = (
    "name: Words\nassignments:\n  - id: w1\n    title: W\n    exercises: [w-name, w-says, w-id]\n"
)
TOPIC = """\
topic: w
title: Words
setup: ""
exercises:
  - id: w-name
    title: The layer's name
    points: 1
    prompt: Which layer slides a kernel over its input?
    starter: layer = ...
    answer:
      kind: text
      name: layer
      match: normalised
    instant: true
    hints:
      - It is in torch.nn.
  - id: w-says
    title: Exactly
    points: 1
    prompt: Write the word.
    starter: word = ...
    answer: {kind: text, name: word}
    mistakes:
      - function: shouted
        title: shouting
        hint: Lower case.
  - id: w-id
    title: An identifier
    points: 2
    prompt: Any name of a 2-d convolution.
    starter: ident = ...
    answer: {kind: text, name: ident, match: regex, pattern: "conv_?2d(_[0-9]+)?"}
"""
SOLUTION = """\
def shouted():
    return "STRIDE"

# %% w-name
layer = "Conv2d"

# %% w-says
word = "stride"

# %% w-id
ident = "conv2d_1"
"""
VALUES = {"w-name": "Conv2d", "w-says": "stride", "w-id": "conv2d_1"}


@pytest.fixture
def course(write_course, tmp_path):
    return load_course(
        write_course(tmp_path, course=COURSE, exercises={"w": TOPIC}, solutions={"w": SOLUTION})
    )


# --- YAML ----------------------------------------------------------------------------------


def test_the_yaml_options_are_read_with_their_defaults(course):
    answers = {e: course.exercises[e].answer for e in VALUES}
    assert answers["w-name"].options == {"match": "normalised", "pattern": ""}
    assert answers["w-says"].options == {"match": "exact", "pattern": ""}
    assert answers["w-id"]["pattern"] == "conv_?2d(_[0-9]+)?"
    assert course.exercises["w-name"].instant


@pytest.mark.parametrize(
    "old,new,at,field,message",
    [
        ("match: normalised", "match: fuzzy", "match: fuzzy", "w-name.answer.match",
         "'fuzzy' is not one of: exact, normalised, regex"),
        ('pattern: "conv_?2d(_[0-9]+)?"', 'pattern: "conv(("', "conv((", "w-id.answer.pattern",
         "not a regular expression"),
        (', pattern: "conv_?2d(_[0-9]+)?"', "", "name: ident", "w-id.answer.pattern",
         "match: regex needs a pattern"),
        ("{kind: text, name: word}", "{kind: text, name: word, pattern: x}", "pattern: x",
         "w-says.answer.pattern", "read with match: regex only"),
        ("{kind: text, name: word}", "{kind: text, name: word, rtol: 0.1}", "rtol: 0.1",
         "w-says.answer.rtol", "unknown field"),
        ('pattern: "conv_?2d(_[0-9]+)?"}', 'pattern: "conv_?2d(_[0-9]+)?"}\n    instant: true  # asked',
         "# asked", "w-id.instant", "instant feedback is for exact answers only"),
    ],
)  # fmt: skip
def test_a_wrong_option_names_its_file_line_and_field(
    write_course, tmp_path, old, new, at, field, message
):
    assert old in TOPIC
    topic = TOPIC.replace(old, new)
    path = write_course(tmp_path, course=COURSE, exercises={"w": topic}, solutions={"w": SOLUTION})
    with pytest.raises(SpecError) as err:
        load_course(path)
    lines = [i for i, text in enumerate(topic.splitlines(), 1) if at in text]
    assert len(lines) == 1
    assert re.match(rf".*/exercises/w\.yaml:{lines[0]}: {re.escape(field)}: ", str(err.value))
    assert message in str(err.value)


# --- judging -------------------------------------------------------------------------------


class Liar(str):
    """A str that claims to equal anything."""

    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


EXACT = Answer.of("text", "s")
NORMALISED = Answer.of("text", "s", match="normalised")
REGEX = Answer.of("text", "s", match="regex", pattern=r"conv_?2d(_[0-9]+)?")


@pytest.mark.parametrize(
    "answer,expected,got,ok,message",
    [
        (EXACT, "stride", "stride", True, ""),
        (EXACT, "stride", "Stride", False, "expected 'stride', got 'Stride'"),
        (EXACT, "stride", " stride", False, "expected 'stride', got ' stride'"),
        (NORMALISED, "Conv2d", "  conv2D\n", True, ""),
        (NORMALISED, "max  pool", "Max Pool", True, ""),
        (NORMALISED, "Conv2d", "Conv1d", False,
         "expected 'Conv2d' (case and white space aside), got 'Conv1d'"),
        (NORMALISED, "Conv2d", "Conv 2d", False,
         "expected 'Conv2d' (case and white space aside), got 'Conv 2d'"),
        (REGEX, "conv2d_1", "conv_2d", True, ""),
        (REGEX, "conv2d_1", "conv2d_12", True, ""),
        (REGEX, "conv2d_1", "my_conv2d", False,
         "'my_conv2d' does not match the pattern 'conv_?2d(_[0-9]+)?'"),
        (REGEX, "conv2d_1", "conv2d\n", False,
         "'conv2d\\n' does not match the pattern 'conv_?2d(_[0-9]+)?'"),
        # hostile: not a str, a str subclass claiming equality, a huge str
        (EXACT, "stride", ["stride"], False, "expected a text (a str), got a list"),
        (EXACT, "stride", None, False, "expected a text (a str), got nothing"),
        (EXACT, "stride", 7, False, "expected a text (a str), got a int"),
        (EXACT, "stride", Liar("x"), False, "expected a text (a str), got a Liar (not a plain str)"),
        (NORMALISED, "stride", Liar("x"), False, "expected a text (a str), got a Liar"),
        (REGEX, "conv2d_1", Liar("conv2d"), False, "expected a text (a str), got a Liar"),
        (REGEX, "conv2d_1", "conv2d" + "_1" * MAX_CHARS, False,
         f"the text has {6 + 2 * MAX_CHARS} characters; at most {MAX_CHARS} are read"),
    ],
)  # fmt: skip
def test_judging(answer, expected, got, ok, message):
    (check,) = compare_text(answer, expected, got)
    assert check.passed is ok
    assert check.message.startswith(message) and (message or not check.message)


def test_a_long_wrong_text_is_shortened_in_the_message():
    (check,) = compare_text(EXACT, "stride", "x" * 5000)
    assert len(check.message) < 500 and check.message.endswith("…'")
    assert len(check.got) < 500


def test_a_reference_that_is_not_a_text_is_a_course_error():
    with pytest.raises(CompareError, match="the reference value is not a text"):
        compare_text(EXACT, ["stride"], "stride")


def test_the_judge_names_the_known_mistake(course):
    key = AnswerKey("w1", course.fingerprint, VALUES)
    result = judge_export(
        course.exercises["w-says"],
        ExportRecord({"ok": True, "value": "STRIDE"}),
        KeyExpectations(course, key),
    )
    assert (result.status, result.message, result.hints) == (
        "failed",
        "a known mistake: shouting",
        ("Lower case.",),
    )


# --- the hand-out --------------------------------------------------------------------------


@pytest.fixture
def handout(course):
    key = AnswerKey("w1", course.fingerprint, VALUES)
    return key, handout_data(course, "w1", key)


def test_the_hand_out_has_no_answer_and_the_kind_s_public_check(course, handout):
    _, data = handout
    text = json.dumps(data)
    for value in (*VALUES.values(), "conv2d", "STRIDE", "shouting", "Lower case."):
        assert value not in text and value.lower() not in text.lower()
    specs = {e["id"]: e for e in data["exercises"]}
    assert specs["w-name"]["answer"]["checks"] == ["a_string"] == list(KINDS["text"].public)
    assert specs["w-name"]["instant"]["digest"]  # normalised: exact after normalising
    assert specs["w-id"]["instant"] is None and specs["w-id"]["mistakes"] is None
    assert len(specs["w-says"]["mistakes"]["seals"]) == 1  # exact: its mistake is sealed


@pytest.mark.parametrize(
    "exercise,value,line,verdict",
    [
        ("w-name", " CONV2D ", "w-name: a string: OK; right answer: yes", True),
        ("w-name", "Conv1d", "w-name: a string: OK; right answer: no", False),
        ("w-name", ["Conv2d"], "w-name: a string was expected, you gave a list of 1", False),
        ("w-says", "stride", "w-says: a string: OK; right answer: checked at grading", None),
        ("w-says", "STRIDE", "w-says: a string: OK; right answer: checked at grading; "
         "a known mistake: shouting\n  hint: Lower case.", False),
        ("w-id", "conv2d", "w-id: a string: OK; right answer: checked at grading", None),
        ("w-id", 12, "w-id: a string was expected, you gave a int", False),
        ("w-id", Liar("conv2d"), "w-id: cannot export a value of type Liar", False),
    ],
)  # fmt: skip
def test_check_in_the_notebook(handout, exercise, value, line, verdict):
    _, data = handout
    spec = next(e for e in data["exercises"] if e["id"] == exercise)
    name = spec["answer"]["name"]
    assert describe(spec, {name: value}) == (line, verdict)


@pytest.mark.parametrize(
    "exercise,value",
    [
        (e, v)
        for e, right in VALUES.items()
        for v in [right, right.upper(), f"  {right}\n", right[:-1], right + "x", "", 12, None,
                  [right], {"a": right}, "conv_2d", "STRIDE", "x" * (MAX_CHARS + 1)]
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
def test_build_and_grade_a_course_with_text_answers(course, tmp_path):
    from grader.build import build
    from grader.handout import grade_with_handout
    from grader.options import GradeOptions
    from grader.pipeline import grade
    from grader.report import render_html

    release = tmp_path / "release"
    options = GradeOptions(sandbox="optional", release=release)
    build(course, release, options)  # its self-check: the solution full marks, the starter 0
    answers = {
        "w-name": 'layer = "  conv2D "  # normalised',
        "w-says": 'word = "STR" + "IDE"',
        "w-id": "ident = 'conv_2d_<b>'",
    }
    student = with_answers(release / "student" / "w1.ipynb", answers, tmp_path / "mine.ipynb")
    result = grade(student, course, options=options)
    by_id = {e.id: e for e in result.exercises}
    assert (by_id["w-name"].status, by_id["w-name"].checks[0].got) == ("passed", "  conv2D ")
    assert (by_id["w-says"].status, by_id["w-says"].mistake) == ("failed", "shouting")
    assert by_id["w-id"].status == "failed"
    assert result.score == 1.0
    page = render_html(result)
    assert "conv_2d_&lt;b&gt;" in page and "conv_2d_<b>" not in page  # escaped, as it is shown

    handout = release / "handout" / "w1"
    mine = with_answers(handout / "w1.ipynb", answers, handout / "mine.ipynb")
    here = {e.id: e for e in grade_with_handout(mine, handout / "grade-handout.json").exercises}
    assert here["w-name"].status == "passed"  # instant feedback
    assert (here["w-says"].status, here["w-says"].mistake) == ("failed", "shouting")  # sealed
    assert here["w-id"].status == "pending"  # decided at grading
