"""A course's memo: bounded, one per course read, shared by its variants, gone with it."""

from __future__ import annotations

import gc
import pickle
import weakref
from dataclasses import replace

import pytest

from grader import load_course
from grader.judge.context import JudgeContext
from grader.key import AnswerKey
from grader.memo import SIZES, Memo
from grader.solutions import preamble_namespace, reference_object, setup_namespace
from grader.variants import for_variant

COURSE = """\
name: Memo course
assignments:
  - id: a1
    exercises: [m-mod, m-num]
"""

TOPIC = """\
topic: m
title: Memo
params:
  n: {int: [1, 9], default: 3}
setup: |
  class Marker:
      pass
  data = [1, 2, 3]
exercises:
  - id: m-mod
    title: A model
    points: 1
    prompt: Build it.
    answer: {kind: module, name: net, reference: Net, probe: [1, 2]}
  - id: m-num
    title: A number
    points: 1
    prompt: "{{ n }} times the sum"
    answer: {kind: number, name: x}
    mistakes:
      - function: summed
        title: only summed
        hint: Multiply too.
"""

SOLUTIONS = """\
CALLS = []


def summed(data):
    CALLS.append(1)
    return sum(data)

# %% m-mod
class Net:
    pass


net = Net()

# %% m-num
x = n * sum(data)
"""


@pytest.fixture
def course_yaml(write_course, tmp_path):
    return write_course(tmp_path, course=COURSE, exercises={"m": TOPIC}, solutions={"m": SOLUTIONS})


def test_a_memo_keeps_the_most_recently_used_and_evicts_past_its_size():
    memo = Memo({"x": 2})
    computed = []

    def get(key):
        return memo.get("x", key, lambda: computed.append(key) or key.upper())

    assert get("a") == "A" and get("b") == "B" and get("a") == "A"
    assert computed == ["a", "b"] and len(memo) == 2
    get("c")  # past its size: "b", the least recently used, goes
    assert len(memo) == 2
    get("a")
    get("b")
    assert computed == ["a", "b", "c", "b"]
    with pytest.raises(ZeroDivisionError):
        memo.get("x", "d", lambda: 1 / 0)
    assert memo.get("x", "d", lambda: "D") == "D"  # a failure is not kept


def test_every_purpose_is_bounded():
    memo = Memo()
    for purpose, size in SIZES.items():
        for i in range(size + 5):
            memo.get(purpose, i, lambda: None)
    assert len(memo) == sum(SIZES.values())


def test_a_memo_is_not_copied_with_what_it_holds():
    memo = Memo()
    memo.get("namespace", "k", lambda: {"a": 1})
    assert len(pickle.loads(pickle.dumps(memo))) == 0 and len(memo) == 1


def test_a_course_reuses_its_namespaces_and_shares_them_with_its_variants(course_yaml):
    course = load_course(course_yaml)
    net = reference_object(course, "m-mod", "Net")
    assert reference_object(course, "m-mod", "Net") is net  # the reference is built once
    assert replace(course, limits=replace(course.limits, timeout=5)).memo is course.memo
    variant = for_variant(course, "a1", "someone")
    assert variant.memo is course.memo and for_variant(course, "a1", "someone") is variant
    # the setup runs with each variant's values: their namespaces differ
    assert setup_namespace(variant, "m") is not setup_namespace(course, "m")
    assert preamble_namespace(variant, "m") is preamble_namespace(course, "m")


def test_two_courses_share_no_entries(course_yaml):
    one, two = load_course(course_yaml), load_course(course_yaml)
    assert one == two and one.memo is not two.memo
    marker = setup_namespace(one, "m")["Marker"]
    assert len(two.memo) == 0
    assert setup_namespace(two, "m")["Marker"] is not marker


def test_a_known_mistake_is_computed_once_per_course(course_yaml):
    course = load_course(course_yaml)
    ex = course.exercises["m-num"]
    context = JudgeContext(course, AnswerKey("a1", course.fingerprint, {"m-num": 18}, seed=1))
    assert context.mistake(ex, ex.mistakes[0]) == 6
    assert JudgeContext(course, context.key).mistake(ex, ex.mistakes[0]) == 6
    assert preamble_namespace(course, "m")["CALLS"] == [1]
    other = load_course(course_yaml)
    JudgeContext(other, context.key).mistake(other.exercises["m-num"], ex.mistakes[0])
    assert preamble_namespace(other, "m") is not preamble_namespace(course, "m")
    assert preamble_namespace(other, "m")["CALLS"] == [1]


def test_a_course_dropped_frees_what_its_memo_holds(course_yaml):
    course = load_course(course_yaml)
    for_variant(course, "a1", "someone")  # a variant held by the memo refers to it too
    marker = weakref.ref(setup_namespace(course, "m")["Marker"])
    net = weakref.ref(reference_object(course, "m-mod", "Net"))
    memo = weakref.ref(course.memo)
    del course
    gc.collect()
    assert marker() is None and net() is None and memo() is None


def test_held_out_data_is_drawn_once_per_course_and_seed():
    from conftest import SHIPPED_COURSE

    course = load_course(SHIPPED_COURSE)
    key = AnswerKey("a1", course.fingerprint, {}, seed=3)
    x, y = JudgeContext(course, key).holdout(16)
    again = JudgeContext(course, key).holdout(16)
    assert again[0] is x and again[1] is y
    other_seed = JudgeContext(course, replace(key, seed=4)).holdout(16)
    assert other_seed[0] is not x
    other_course = JudgeContext(load_course(SHIPPED_COURSE), key).holdout(16)
    assert other_course[0] is not x and bool((other_course[0] == x).all())
