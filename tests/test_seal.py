"""Known mistakes sealed in a hand-out (grader.inkernel.sealed.seal): a title and hint only the
student who gives that wrong answer can read, and the hand-out's check and grading show it."""

from __future__ import annotations

import base64
import json

import pytest

from grader import load_course
from grader.execute.records import ExportRecord
from grader.handout_release import handout_data
from grader.inkernel.public import describe
from grader.inkernel.sealed import known_mistake, seal, unseal
from grader.judge.public_context import PublicExpectations
from grader.judge.scoring import judge_export
from grader.key import AnswerKey

TEXT = {"title": "the channel count was not changed", "hint": "Use the out_channels."}


@pytest.fixture(scope="module")
def sealed():
    return "ab" * 16, seal("ab" * 16, [1, 4, 30], TEXT)


@pytest.mark.parametrize("same", [[1, 4, 30], (1, 4, 30), [1.0, 4.0, 30.0]])
def test_the_mistaken_value_opens_the_seal(sealed, same):
    salt, one = sealed
    assert unseal(salt, same, one) == TEXT


@pytest.mark.parametrize(
    "other",
    [
        [1, 16, 30],  # the reference
        [1, 4, 31],
        [1, 4, 29],
        [1, 4, 30.5],
        [1, 4, 30, 1],
        [1, 4],
        [[1, 4, 30]],
        "[1, 4, 30]",
        {"0": 1, "1": 4, "2": 30},
        None,
    ],
)
def test_no_other_value_opens_it(sealed, other):
    salt, one = sealed
    assert unseal(salt, other, one) is None


def _flip(text: str, i: int = 0) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[i] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: {**s, "sealed": _flip(s["sealed"])},
        lambda s: {**s, "sealed": _flip(s["sealed"], -1)},
        lambda s: {**s, "sealed": s["sealed"][:-4]},
        lambda s: {**s, "tag": ("0" if s["tag"][0] != "0" else "1") + s["tag"][1:]},
        lambda s: {**s, "nonce": ("0" if s["nonce"][0] != "0" else "1") + s["nonce"][1:]},
        lambda s: {k: v for k, v in s.items() if k != "tag"},
        lambda s: {**s, "sealed": "not base64!"},
    ],
)
def test_a_changed_seal_does_not_open(sealed, tamper):
    salt, one = sealed
    assert unseal(salt, [1, 4, 30], tamper(one)) is None


def test_another_salt_or_rounds_does_not_open(sealed):
    salt, one = sealed
    assert unseal("cd" * 16, [1, 4, 30], one) is None
    assert unseal(salt, [1, 4, 30], one, rounds=1000) is None


def test_every_seal_is_new():
    """Two seals of one text with one answer share nothing an onlooker can compare."""
    a, b = seal("ab" * 16, [1, 4, 30], TEXT), seal("ab" * 16, [1, 4, 30], TEXT)
    assert a["nonce"] != b["nonce"] and a["sealed"] != b["sealed"] and a["tag"] != b["tag"]
    assert TEXT["hint"] not in json.dumps(a) and "out_channels" not in base64.b64decode(
        a["sealed"]
    ).decode("latin-1")


# --- a hand-out of a small course -------------------------------------------------------------

TOPIC = """\
topic: t
title: T
setup: ""
exercises:
  - id: t-shape
    title: A shape
    points: 1
    prompt: The shape?
    starter: s = ...
    answer: {kind: shape, name: s}
    mistakes:
      - {function: kept_channels, title: the channels were kept, hint: Use the out_channels.}
      - {function: kept_length, title: the length was kept, hint: Without padding it shrinks.}
  - id: t-count
    title: A count
    points: 2
    prompt: Count.
    starter: n = ...
    answer: {kind: number, name: n}
    instant: true
    mistakes:
      - {function: no_bias, title: biases left out, hint: Add one bias per output.}
  - id: t-arr
    title: An array
    points: 1
    prompt: Compute.
    starter: arr = ...
    answer: {kind: array, name: arr, rtol: 0.0, atol: 0.5}
    mistakes:
      - {function: flipped, title: the kernel was flipped, hint: Do not flip it.}
"""
SOLUTION = """\
def kept_channels():
    return (1, 4, 32)


def kept_length():
    return (1, 16, 32)


def no_bias():
    return 432


def flipped():
    return [2.0, 1.0]


# %% t-shape
s = (1, 16, 30)

# %% t-count
n = 448

# %% t-arr
arr = [1.0, 2.0]
"""
COURSE = (
    "name: C\nassignments:\n  - id: a1\n    title: A\n    exercises: [t-shape, t-count, t-arr]\n"
)
VALUES = {"t-shape": [1, 16, 30], "t-count": 448, "t-arr": [1.0, 2.0]}


@pytest.fixture
def handout(write_course, tmp_path):
    path = write_course(tmp_path, exercises={"t": TOPIC}, solutions={"t": SOLUTION}, course=COURSE)
    course = load_course(path)
    key = AnswerKey(assignment="a1", fingerprint=course.fingerprint, values=VALUES)
    data = handout_data(course, "a1", key)
    return course, {e["id"]: e for e in data["exercises"]}, json.dumps(data, indent=1), data


def test_a_hand_out_carries_exact_mistakes_sealed_and_no_text_in_clear(handout):
    course, specs, text, _ = handout
    for ex in course.exercises.values():
        for m in ex.mistakes:
            assert m.title not in text and m.hint not in text
    assert len(specs["t-shape"]["mistakes"]["seals"]) == 2
    # instant feedback's salt: one slow digest of a student's answer serves both
    assert specs["t-count"]["mistakes"]["salt"] == specs["t-count"]["instant"]["salt"]
    # an answer compared with a tolerance: a seal would miss the answers near the mistake
    assert specs["t-arr"]["mistakes"] is None


def test_the_hand_out_opens_the_seal_of_the_student_s_answer(handout):
    _, specs, _, _ = handout
    shape = specs["t-shape"]
    assert known_mistake(shape, [1, 4, 32]) == ("the channels were kept", "Use the out_channels.")
    assert known_mistake(shape, [1, 16, 32]) == (
        "the length was kept",
        "Without padding it shrinks.",
    )
    for other in ([1, 16, 30], [1, 4, 31], [1, 16, 31], [2, 4, 32]):
        assert known_mistake(shape, other) is None
    assert known_mistake(specs["t-count"], 432) == ("biases left out", "Add one bias per output.")
    assert known_mistake(specs["t-count"], 432.0) is not None
    assert known_mistake(specs["t-count"], 433) is None


def test_check_shows_the_sealed_hint(handout):
    _, specs, _, _ = handout
    line, verdict = describe(specs["t-shape"], {"s": (1, 4, 32)})
    assert line == (
        "t-shape: a tuple of 3 whole numbers: OK; right answer: checked at grading; "
        "a known mistake: the channels were kept\n  hint: Use the out_channels."
    )
    assert verdict is False  # a known mistake is never the right answer
    line, verdict = describe(specs["t-shape"], {"s": (1, 16, 30)})
    assert "known mistake" not in line and verdict is None
    line, verdict = describe(specs["t-count"], {"n": 432})
    assert line.endswith(
        "right answer: no; a known mistake: biases left out\n  hint: Add one bias per output."
    )


def test_grading_with_the_hand_out_names_the_mistake(handout):
    course, _, _, data = handout

    def graded(eid, value):
        record = ExportRecord({"ok": True, "value": value})
        return judge_export(course.exercises[eid], record, PublicExpectations(data))

    wrong = graded("t-shape", [1, 16, 32])
    assert (wrong.status, wrong.score, wrong.message) == (
        "failed",
        0.0,
        "a known mistake: the length was kept",
    )
    assert (
        wrong.hints == ("Without padding it shrinks.",) and wrong.mistake == "the length was kept"
    )
    assert graded("t-shape", [1, 16, 31]).status == "pending"  # not known here: at grading
    assert graded("t-shape", [1, 16, 30]).status == "pending"
    count = graded("t-count", 432)
    assert (count.status, count.message, count.hints) == (
        "failed",
        "a known mistake: biases left out",
        ("Add one bias per output.",),
    )
    assert graded("t-count", 448).status == "passed"
