"""The course's records are immutable all the way down, hashable, and read as before."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle

import pytest

from grader import load_course
from grader.execute.records import Executed, ExportRecord, StepOutcome
from grader.frozen import FrozenDict, FrozenList, freeze, thaw
from grader.key import AnswerKey, load_key, save_key
from grader.policies import Matched, Policies
from grader.render import render_text
from grader.solutions import with_values
from grader.variants import specialize

COURSE = """\
name: Frozen
assignments:
  - id: a1
    exercises: [f-arr, f-shape]
"""

TOPIC = """\
topic: f
title: Frozen
intro: "Grid {{ grid }}, pair {{ pair }}."
params:
  grid: {matrix: [2, 3], int: [0, 9], default: [[1, 2, 3], [4, 5, 6]]}
  pair: {choice: [[1, 2], [3, 4]], default: [1, 2]}
constraints:
  - "grid[0] != grid[1]"
setup: |
  grid = {{ grid }}
exercises:
  - id: f-arr
    title: Sum of rows
    points: 1
    prompt: "Sum the rows of {{ grid }}."
    answer: {kind: array, name: rows, rtol: 0, atol: 0}
    public: {finite: true, range: [0, 30]}
    hints: ["Row one is {{ grid[0] }}."]
  - id: f-shape
    title: A shape
    points: 1
    params:
      n: {int: [4, 9], default: 5}
      ks: {list: 2, int: [1, 3], default: [1, 3]}
    prompt: "n = {{ n }}, ks = {{ ks }}"
    answer: {kind: shape, name: shape}
"""

SOLUTIONS = """\
# %% f-arr
rows = [sum(r) for r in grid]

# %% f-shape
shape = (n, len(ks))
"""


def write(root):
    (root / "exercises").mkdir(parents=True)
    (root / "solutions").mkdir()
    (root / "course.yaml").write_text(COURSE)
    (root / "exercises" / "f.yaml").write_text(TOPIC)
    (root / "solutions" / "f.py").write_text(SOLUTIONS)
    return root / "course.yaml"


def mutations(value):
    """Every way of changing a container in place, as (name, call) pairs."""
    if isinstance(value, dict):
        key = next(iter(value), "k")
        return [
            ("setitem", lambda: value.__setitem__(key, 1)),
            ("delitem", lambda: value.__delitem__(key)),
            ("update", lambda: value.update({key: 1})),
            ("setdefault", lambda: value.setdefault("new", 1)),
            ("pop", lambda: value.pop(key)),
            ("popitem", lambda: value.popitem()),
            ("clear", lambda: value.clear()),
            ("ior", lambda: value.__ior__({key: 1})),
        ]
    if isinstance(value, list):
        return [
            ("setitem", lambda: value.__setitem__(0, 1)),
            ("delitem", lambda: value.__delitem__(0)),
            ("append", lambda: value.append(1)),
            ("extend", lambda: value.extend([1])),
            ("insert", lambda: value.insert(0, 1)),
            ("pop", lambda: value.pop()),
            ("remove", lambda: value.remove(value[0] if value else 1)),
            ("clear", lambda: value.clear()),
            ("sort", lambda: value.sort()),
            ("reverse", lambda: value.reverse()),
            ("iadd", lambda: value.__iadd__([1])),
            ("imul", lambda: value.__imul__(2)),
        ]
    return []


def walk(value, where="course", seen=None):
    """Every (path, part) reachable from a record: fields, items, values."""
    seen = set() if seen is None else seen
    if id(value) in seen or isinstance(value, (str, bytes, int, float, type(None))):
        return
    seen.add(id(value))
    yield where, value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.compare:
                yield from walk(getattr(value, f.name), f"{where}.{f.name}", seen)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{where}[{k!r}]", seen)
    elif isinstance(value, (list, tuple, frozenset)):
        for i, v in enumerate(value):
            yield from walk(v, f"{where}[{i}]", seen)


def assert_frozen_all_the_way_down(record):
    parts = list(walk(record))
    assert len(parts) > 1
    for where, part in parts:
        assert not isinstance(part, (set, bytearray)), where
        if isinstance(part, (dict, list)):
            assert isinstance(part, (FrozenDict, FrozenList)), f"{where} is a {type(part)}"
            for name, change in mutations(part):
                with pytest.raises(TypeError):
                    change()
                    pytest.fail(f"{where}: {name} changed it")
        elif dataclasses.is_dataclass(part):
            name = dataclasses.fields(part)[0].name
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(part, name, None)
    hash(record)


def test_a_course_and_its_variants_are_frozen_all_the_way_down_and_hashable(tmp_path):
    course = load_course(write(tmp_path))
    assert_frozen_all_the_way_down(course)
    variant = specialize(course, "someone", "a1")
    assert_frozen_all_the_way_down(variant)
    # equal courses hash equal (the same files read twice), different ones compare unequal
    again = load_course(tmp_path / "course.yaml")
    assert again == course and hash(again) == hash(course)
    assert variant != course
    assert {course: 1}[again] == 1


def test_the_shipped_course_is_frozen_all_the_way_down(shipped_course):
    assert_frozen_all_the_way_down(shipped_course)


def test_frozen_values_render_compare_and_print_as_before(tmp_path):
    course = load_course(write(tmp_path))
    topic, ex = course.topics["f"], course.exercises["f-shape"]
    # what the YAML gave as lists reads as lists: equal to them, rendered like them
    assert topic.values["grid"] == [[1, 2, 3], [4, 5, 6]]
    assert isinstance(topic.values["grid"], list)
    assert topic.setup == "grid = [[1, 2, 3], [4, 5, 6]]\n"
    assert topic.intro == "Grid [[1, 2, 3], [4, 5, 6]], pair [1, 2]."
    assert course.exercises["f-arr"].hints == ("Row one is [1, 2, 3].",)
    assert course.exercises["f-arr"].public == {"finite": True, "range": [0, 30]}
    assert ex.own_values == {"n": 5, "ks": [1, 3]}
    assert with_values(ex, "shape = ...\n").startswith(
        "# this variant's parameters\nn = 5\nks = [1, 3]\n"
    )
    value = freeze({"a": [1, [2.5, None]], "b": {"c": (1, [2])}})
    assert render_text("{{ v }} {{ v.a|length }} {{ v.a[1]|tojson }}", "t", v=value) == (
        "{'a': [1, [2.5, None]], 'b': {'c': (1, [2])}} 2 [2.5, null]"
    )
    plain = {"a": [1, [2.5, None]], "b": {"c": (1, [2])}}
    assert value == plain and repr(value) == repr(plain)
    assert json.dumps(value, sort_keys=True) == json.dumps(plain, sort_keys=True)
    assert thaw(value) == plain and type(thaw(value)["a"][1]) is list
    thawed = thaw(value)
    thawed["a"].append(3)  # a thawed copy is the caller's own
    assert value["a"] == [1, [2.5, None]]


def test_frozen_containers_copy_pickle_and_hash_consistently():
    value = freeze({"x": [[1, 2], [3]], "y": {1, 2}})
    assert copy.copy(value) is value and copy.deepcopy(value) is value
    back = pickle.loads(pickle.dumps(value))
    assert back == value and isinstance(back["x"][0], FrozenList) and hash(back) == hash(value)
    assert value["y"] == frozenset({1, 2})
    assert hash(freeze([1, 2])) == hash(freeze([1.0, 2.0]))  # equal, so hashed alike
    assert freeze({"a": 1}) == freeze({"a": 1.0}) and hash(freeze({"a": 1})) == hash(
        freeze({"a": 1.0})
    )
    frozen = freeze((1, [2]))
    assert type(frozen) is tuple and isinstance(frozen[1], FrozenList)
    assert freeze(frozen) is frozen


def test_a_key_is_frozen_and_written_byte_for_byte_as_before(tmp_path):
    values = {"t-arr": [[1.0, 2.0], [3.0, 4.0]], "t-map": {"w": [1, 2], "b": 3}, "t-num": 42}
    extras = {"t-model": {"losses": [2.0, 1.5, 1.0]}}
    key = AnswerKey("a1", "abc", values, seed=7, extras=extras, variant="v")
    assert_frozen_all_the_way_down(key)
    save_key(key, tmp_path / "key.json")
    plain = {
        "assignment": "a1",
        "extras": extras,
        "fingerprint": "abc",
        "seed": 7,
        "values": values,
        "variant": "v",
    }
    assert (tmp_path / "key.json").read_text() == json.dumps(plain, indent=1, sort_keys=True)
    loaded = load_key(tmp_path / "key.json")
    assert loaded == key and hash(loaded) == hash(key)
    assert_frozen_all_the_way_down(loaded)


def test_execution_records_and_policies_are_frozen():
    executed = Executed(
        (StepOutcome("ok"),),
        {"e": ExportRecord({"ok": True, "value": [[1, 2]], "extras": {"losses": [1.0]}})},
        warnings=["a warning"],
    )
    assert executed.warnings == ("a warning",)
    assert_frozen_all_the_way_down(executed)
    assert executed.exports["e"].ok and executed.exports["e"].payload["value"] == [[1, 2]]
    assert_frozen_all_the_way_down(Policies(extensions=[]))
    assert_frozen_all_the_way_down(Matched({("s", "a1"): 1.0}, ["w"]))


def test_a_constraint_gets_a_mutable_copy_of_the_values(tmp_path):
    # a preamble helper that changes its argument sees a list of its own, as before
    write(tmp_path)
    topic = TOPIC.replace('- "grid[0] != grid[1]"', '- "popped(grid[0]) == 3"')
    (tmp_path / "exercises" / "f.yaml").write_text(topic)
    (tmp_path / "solutions" / "f.py").write_text(
        "def popped(row):\n    return row.pop()\n\n" + SOLUTIONS
    )
    course = load_course(tmp_path / "course.yaml")
    assert course.topics["f"].values["grid"] == [[1, 2, 3], [4, 5, 6]]
