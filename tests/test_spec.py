"""Tests of grader.spec: the shipped course loads; broken YAML gives file:line and the field."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import NamedTuple

import pytest
from conftest import COURSE_YAML, TOPIC_YAML

from grader import load_course
from grader.errors import SpecError
from grader.spec import Answer

# --- the shipped course -------------------------------------------------------------------------


def test_shipped_course_has_three_assignments(shipped_course):
    assert [a.id for a in shipped_course.assignments] == ["ps1", "ps2", "ps3"]
    assert shipped_course.name == "Convolutional networks"
    assert len(shipped_course.exercises) >= 20
    for a in shipped_course.assignments:
        assert a.exercises, a.id
        assert a.due is not None and a.due.tzinfo is not None, a.id
        assert a.max_score(shipped_course) == sum(
            shipped_course.exercises[e].points for e in a.exercises
        )


def test_shipped_course_every_exercise_is_complete(shipped_course):
    in_assignments = [e for a in shipped_course.assignments for e in a.exercises]
    assert sorted(in_assignments) == sorted(shipped_course.exercises)  # each exactly once
    for ex in shipped_course.exercises.values():
        assert ex.prompt.strip(), ex.id
        assert ex.points > 0, ex.id
        assert ex.hints and all(h.strip() for h in ex.hints), ex.id
        assert ex.answer.name.isidentifier(), ex.id
        assert ex.topic in shipped_course.topics, ex.id
        assert ex.id in shipped_course.topics[ex.topic].exercises


def test_shipped_course_limits_and_folders(shipped_course):
    assert 0 < shipped_course.limits.cell_timeout <= shipped_course.limits.timeout
    assert shipped_course.solutions_dir == shipped_course.root / "solutions"
    assert sorted(shipped_course.topics) == ["cnn", "correlation", "params", "shapes", "training"]
    assert len(shipped_course.fingerprint) == 16


# --- a small course: what loads ------------------------------------------------------------------


def test_small_course_loads_with_defaults(write_course, tmp_path):
    course = load_course(write_course(tmp_path))
    assert course.name == "Test course"
    assert course.limits.cell_timeout == 120.0 and course.limits.timeout == 900.0
    (a1,) = course.assignments
    assert a1.id == "a1" and a1.title == "First"
    assert a1.exercises == ("t-num", "t-arr")
    # a bare date means the end of that day, UTC
    assert a1.due == dt.datetime(2030, 1, 31, 23, 59, tzinfo=dt.timezone.utc)
    num = course.exercises["t-num"]
    assert num.answer == Answer("number", "x", {"rtol": 1e-5, "atol": 1e-8})
    assert num.answer == Answer.of("number", "x")
    assert num.points == 2.0 and num.hints == ("Think.",) and num.starter == "x = ...\n"
    assert num.topic == "t" and num.line == 8 and num.path == str(tmp_path / "exercises" / "t.yaml")
    arr = course.exercises["t-arr"]
    assert (arr.answer["rtol"], arr.answer["atol"]) == (0.0, 0.5)
    topic = course.topics["t"]
    assert topic.setup == "import math\n" and topic.intro == "Read this first.\n"
    assert topic.exercises == ("t-num", "t-arr")
    assert a1.max_score(course) == 5.0


def test_load_course_accepts_the_folder(write_course, tmp_path):
    write_course(tmp_path)
    assert load_course(tmp_path).name == "Test course"


def test_optional_fields_take_their_defaults(write_course, tmp_path):
    topic = TOPIC_YAML.replace("    starter: |\n      x = ...\n", "").replace(
        "    hints:\n      - Think.\n", "    hints: Just one hint.\n"
    )
    course = COURSE_YAML.replace("    due: 2030-01-31\n", "")
    loaded = load_course(write_course(tmp_path, course=course, exercises={"t": topic}))
    ex = loaded.exercises["t-num"]
    assert ex.starter == "x = ...\n"  # default: answer name = ...
    assert ex.hints == ("Just one hint.",)
    assert loaded.assignments[0].due is None


@pytest.mark.parametrize(
    "due,expected",
    [
        (
            "2030-01-31T12:00:00+02:00",
            dt.datetime(2030, 1, 31, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
        ("2030-01-31 12:00:00", dt.datetime(2030, 1, 31, 12, tzinfo=dt.timezone.utc)),
        ('"2030-01-31T08:30"', dt.datetime(2030, 1, 31, 8, 30, tzinfo=dt.timezone.utc)),
    ],
)
def test_due_dates(write_course, tmp_path, due, expected):
    course = COURSE_YAML.replace("due: 2030-01-31", f"due: {due}")
    assert load_course(write_course(tmp_path, course=course)).assignments[0].due == expected


def test_unknown_assignment_lists_the_known_ones(small_course):
    with pytest.raises(SpecError) as err:
        small_course.assignment("zz")
    assert str(err.value) == f"{small_course.path}: unknown assignment 'zz' (known: a1)"


def test_course_is_frozen(small_course):
    with pytest.raises(dataclasses.FrozenInstanceError):
        small_course.name = "other"  # type: ignore[misc]


# --- validation errors: file, line, field ---------------------------------------------------------


class Broken(NamedTuple):
    file: str  # "course" or "topic": where the error is
    old: str
    new: str
    mark: str  # the error is on the first line containing this text
    mentions: str  # str(err) must contain this
    key: str | None = None  # err.key, when the error is about a field


MODULE_ANSWER = "    answer:\n      kind: module\n      name: x\n      reference: Net\n"
TRAINING_ANSWER = "    answer:\n      kind: training\n      name: x\n      reference: Net\n"
NUMBER_ANSWER = "    answer:\n      kind: number\n      name: x\n"

# fmt: off
BROKEN = {
    # YAML itself
    "yaml-tab": Broken("topic", "    title: A number\n", "    title: A number\n\tbad: x\n",
                       "\tbad", "invalid YAML"),
    "yaml-bad-indent": Broken("topic", "    title: A number\n",
                              "    title: A number\n   bad: indent\n", "   bad: indent",
                              "invalid YAML"),
    "yaml-colon-in-value": Broken("topic", "    title: A number\n", "    title: A: number\n",
                                  "title: A: number", "mapping values are not allowed"),
    "duplicate-key": Broken("topic", "    points: 2\n", "    points: 2\n    points: 3\n",
                            "points: 3", "duplicate key 'points'", "points"),
    "duplicate-top-key": Broken("course", "name: Test course\n",
                                "name: Test course\nname: Again\n", "name: Again",
                                "duplicate key 'name'", "name"),
    # fields of an exercise
    "unknown-field": Broken("topic", "    points: 2\n", "    pionts: 2\n", "pionts",
                            "pionts: unknown field", "exercises[0].pionts"),
    "missing-prompt": Broken("topic", "    prompt: |\n      Compute the answer.\n", "",
                             "- id: t-num", "t-num.prompt: required field is missing",
                             "t-num.prompt"),
    "missing-points": Broken("topic", "    points: 3\n", "", "- id: t-arr",
                             "t-arr.points: required field is missing", "t-arr.points"),
    "missing-answer": Broken("topic", NUMBER_ANSWER, "", "- id: t-num",
                             "t-num.answer: required field is missing", "t-num.answer"),
    "points-text": Broken("topic", "    points: 2\n", '    points: "two"\n', "points:",
                          "t-num.points: expected an integer or a number, got str",
                          "t-num.points"),
    "points-bool": Broken("topic", "    points: 2\n", "    points: yes\n", "points:",
                          "t-num.points: expected an integer or a number, got True",
                          "t-num.points"),
    "points-negative": Broken("topic", "    points: 2\n", "    points: -1\n", "points:",
                              "t-num.points: expected a positive number", "t-num.points"),
    "points-zero": Broken("topic", "    points: 3\n", "    points: 0\n", "points: 0",
                          "t-arr.points: expected a positive number", "t-arr.points"),
    "points-nan": Broken("topic", "    points: 2\n", "    points: .nan\n", "points:",
                         "t-num.points: expected a positive number", "t-num.points"),
    "bad-exercise-id": Broken("topic", "  - id: t-num\n", "  - id: T_Num\n", "- id: T_Num",
                              "'T_Num' is not a valid id", "exercises[0].id"),
    "title-not-text": Broken("topic", "    title: A number\n", "    title: [a, b]\n",
                             "title: [a, b]", "t-num.title: expected text, got list",
                             "t-num.title"),
    "hint-not-text": Broken("topic", "      - Think.\n", "      - [a, b]\n", "    hints:",
                            "t-num.hints: every hint must be text", "t-num.hints"),
    # answers
    "unknown-kind": Broken("topic", "      kind: number\n", "      kind: matrix\n",
                           "kind: matrix", "unknown kind 'matrix'", "t-num.answer.kind"),
    "bad-answer-name": Broken("topic", "      name: x\n", "      name: my-x\n", "name: my-x",
                              "'my-x' is not a Python variable name", "t-num.answer.name"),
    "field-of-another-kind": Broken("topic", "      kind: array\n", "      kind: shape\n",
                                    "rtol: 0.0", "t-arr.answer.rtol: unknown field",
                                    "t-arr.answer.rtol"),
    "negative-tolerance": Broken("topic", "      atol: 0.5\n", "      atol: -0.5\n",
                                 "atol: -0.5", "expected a non-negative number",
                                 "t-arr.answer.atol"),
    "bad-reference": Broken("topic", NUMBER_ANSWER,
                            MODULE_ANSWER.replace("Net", "not a class") + "      probe: [1]\n",
                            "reference:", "should be ClassName or exercise-id:ClassName",
                            "t-num.answer.reference"),
    "probe-missing": Broken("topic", NUMBER_ANSWER, MODULE_ANSWER, "kind: module",
                            "t-num.answer.probe: required field is missing",
                            "t-num.answer.probe"),
    "probe-not-list": Broken("topic", NUMBER_ANSWER, MODULE_ANSWER + "      probe: 4\n",
                             "probe:", "expected a list, got int", "t-num.answer.probe"),
    "probe-text": Broken("topic", NUMBER_ANSWER, MODULE_ANSWER + "      probe: [2, three]\n",
                         "probe:", "expected a list of positive integers",
                         "t-num.answer.probe"),
    "probe-float": Broken("topic", NUMBER_ANSWER, MODULE_ANSWER + "      probe: [2, 3.5]\n",
                          "probe:", "expected a list of positive integers",
                          "t-num.answer.probe"),
    "probe-bool": Broken("topic", NUMBER_ANSWER, MODULE_ANSWER + "      probe: [true, 3]\n",
                         "probe:", "expected a list of positive integers",
                         "t-num.answer.probe"),
    "probe-zero": Broken("topic", NUMBER_ANSWER, MODULE_ANSWER + "      probe: [0, 3]\n",
                         "probe:", "expected a list of positive integers",
                         "t-num.answer.probe"),
    "probe-empty": Broken("topic", NUMBER_ANSWER, MODULE_ANSWER + "      probe: []\n",
                          "probe:", "expected a list of positive integers",
                          "t-num.answer.probe"),
    "min-accuracy-above-1": Broken("topic", NUMBER_ANSWER,
                                   TRAINING_ANSWER + "      min_accuracy: 1.5\n",
                                   "min_accuracy:", "expected a fraction between 0 and 1",
                                   "t-num.answer.min_accuracy"),
    "holdout-zero": Broken("topic", NUMBER_ANSWER, TRAINING_ANSWER + "      holdout: 0\n",
                           "holdout:", "expected a positive integer", "t-num.answer.holdout"),
    "losses-not-a-name": Broken("topic", NUMBER_ANSWER,
                                TRAINING_ANSWER + "      losses: my losses\n", "losses:",
                                "'my losses' is not a Python variable name",
                                "t-num.answer.losses"),
    "custom-without-check": Broken("topic", "      kind: number\n", "      kind: custom\n",
                                   "kind: custom", "t-num.answer.check: required field",
                                   "t-num.answer.check"),
    # course.yaml
    "unknown-course-field": Broken("course", "name: Test course\n",
                                   "name: Test course\nnmae: x\n", "nmae:",
                                   "nmae: unknown field", "nmae"),
    "missing-name": Broken("course", "name: Test course\n", "", "assignments:",
                           "name: required field is missing", "name"),
    "no-assignments": Broken("course", COURSE_YAML[COURSE_YAML.index("assignments:"):],
                             "assignments: []\n", "assignments:",
                             "at least one assignment is required", "assignments"),
    "assignments-missing": Broken("course", COURSE_YAML[COURSE_YAML.index("assignments:"):],
                                  "", "name:", "assignments: required field is missing",
                                  "assignments"),
    "unknown-exercise": Broken("course", "[t-num, t-arr]", "[t-num, t-nope]", "exercises:",
                               "unknown exercise id 't-nope'", "assignments[0].exercises"),
    "exercise-twice": Broken("course", "    exercises: [t-num, t-arr]\n",
                             "    exercises: [t-num]\n  - id: a2\n    exercises: [t-arr, t-num]\n",
                             "exercises: [t-arr, t-num]", "exercise 't-num' is already in a1",
                             "assignments[1].exercises"),
    "duplicate-assignment": Broken("course", "    exercises: [t-num, t-arr]\n",
                                   "    exercises: [t-num]\n  - id: a1\n    exercises: [t-arr]\n",
                                   "  - id: a1\n    exercises: [t-arr]",
                                   "duplicate assignment id 'a1'", "assignments[1].id"),
    "assignment-without-exercises": Broken("course", "[t-num, t-arr]", "[]", "exercises:",
                                           "an assignment needs at least one exercise",
                                           "assignments[0].exercises"),
    "bad-due-text": Broken("course", "due: 2030-01-31", "due: next friday", "due:",
                           "'next friday' is not an ISO 8601 date", "assignments[0].due"),
    "bad-due-quoted-date": Broken("course", "due: 2030-01-31", 'due: "2030-02-30"', "due:",
                                  "'2030-02-30' is not an ISO 8601 date", "assignments[0].due"),
    "bad-due-number": Broken("course", "due: 2030-01-31", "due: 5", "due:",
                             "expected an ISO 8601 date or date-time", "assignments[0].due"),
    "negative-timeout": Broken("course", "name: Test course\n",
                               "name: Test course\nlimits:\n  timeout: -5\n", "timeout:",
                               "limits.timeout: expected a positive number", "limits.timeout"),
    "cifar10-not-a-path": Broken("course", "name: Test course\n",
                                 "name: Test course\ndata:\n  cifar10: 3\n", "cifar10:",
                                 "expected a folder path or null", "data.cifar10"),
}
# fmt: on


def _line_of(text: str, mark: str) -> int:
    return text[: text.index(mark)].count("\n") + 1


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_broken_spec_names_file_line_and_field(write_course, tmp_path, case):
    base = COURSE_YAML if case.file == "course" else TOPIC_YAML
    assert base.count(case.old) == 1, "the case must change exactly one place"
    text = base.replace(case.old, case.new)
    if case.file == "course":
        path = write_course(tmp_path, course=text)
        where = path
    else:
        path = write_course(tmp_path, exercises={"t": text})
        where = tmp_path / "exercises" / "t.yaml"
    line = _line_of(text, case.mark)
    with pytest.raises(SpecError) as err:
        load_course(path)
    e = err.value
    assert str(e).startswith(f"{where}:{line}: "), str(e)
    assert case.mentions in str(e)
    assert "\n" not in str(e)
    assert (e.path, e.line) == (str(where), line)
    if case.key is not None:
        assert e.key == case.key


def test_duplicate_exercise_id_across_two_files(write_course, tmp_path):
    other = (
        "topic: u\nexercises:\n  - id: t-num\n    title: Again\n    points: 1\n"
        "    prompt: Again.\n    answer:\n      kind: number\n      name: y\n"
    )
    path = write_course(tmp_path, exercises={"t": TOPIC_YAML, "u": other})
    with pytest.raises(SpecError) as err:
        load_course(path)
    first = tmp_path / "exercises" / "t.yaml"
    second = tmp_path / "exercises" / "u.yaml"
    assert str(err.value) == (
        f"{second}:3: duplicate exercise id 't-num' (first defined at {first}:8)"
    )


def test_duplicate_topic_across_two_files(write_course, tmp_path):
    other = (
        "topic: t\nexercises:\n  - id: u-num\n    title: Again\n    points: 1\n"
        "    prompt: Again.\n    answer:\n      kind: number\n      name: y\n"
    )
    path = write_course(tmp_path, exercises={"t": TOPIC_YAML, "u": other})
    with pytest.raises(SpecError) as err:
        load_course(path)
    assert str(err.value).startswith(f"{tmp_path / 'exercises' / 'u.yaml'}: topic 't' is also")


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "expected a mapping at the top level"),
        ("- a\n- b\n", "expected a mapping at the top level"),
        ("1: x\n", "keys must be strings, got 1"),
    ],
)
def test_course_yaml_must_be_a_mapping_with_text_keys(write_course, tmp_path, text, message):
    path = write_course(tmp_path, course=text)
    with pytest.raises(SpecError) as err:
        load_course(path)
    assert str(err.value) == f"{path}:1: {message}"


def test_missing_course_file(tmp_path):
    with pytest.raises(SpecError) as err:
        load_course(tmp_path / "nope.yaml")
    assert str(err.value) == f"{tmp_path / 'nope.yaml'}: file not found"


def test_missing_exercises_folder(tmp_path):
    (tmp_path / "course.yaml").write_text(COURSE_YAML)
    with pytest.raises(SpecError) as err:
        load_course(tmp_path / "course.yaml")
    assert str(err.value) == f"{tmp_path / 'exercises'}: exercises folder not found"


@pytest.mark.parametrize("due", ["2030-13-45", "2030-01-31T25:00:00"])
def test_impossible_unquoted_due_date_is_a_spec_error(write_course, tmp_path, due):
    path = write_course(tmp_path, course=COURSE_YAML.replace("due: 2030-01-31", f"due: {due}"))
    with pytest.raises(SpecError) as err:
        load_course(path)
    assert str(err.value).startswith(f"{path}:5: ")


def test_huge_integer_points_is_a_spec_error(write_course, tmp_path):
    text = TOPIC_YAML.replace("    points: 2\n", "    points: " + "9" * 400 + "\n")
    path = write_course(tmp_path, exercises={"t": text})
    with pytest.raises(SpecError) as err:
        load_course(path)
    line = _line_of(text, "points:")
    assert str(err.value).startswith(f"{tmp_path / 'exercises' / 't.yaml'}:{line}: t-num.points:")


def test_answer_not_a_mapping_message(write_course, tmp_path):
    text = TOPIC_YAML.replace(NUMBER_ANSWER, "    answer: number\n")
    path = write_course(tmp_path, exercises={"t": text})
    with pytest.raises(SpecError) as err:
        load_course(path)
    line = _line_of(text, "answer: number")
    assert str(err.value) == (
        f"{tmp_path / 'exercises' / 't.yaml'}:{line}: t-num.answer: expected a mapping, got str"
    )


# --- fingerprint ----------------------------------------------------------------------------------


def test_fingerprint_is_stable_and_follows_solutions_and_exercises(write_course, tmp_path):
    path = write_course(tmp_path)
    first = load_course(path).fingerprint
    assert load_course(path).fingerprint == first
    solution = tmp_path / "solutions" / "t.py"
    solution.write_text(solution.read_text() + "# a comment\n")
    second = load_course(path).fingerprint
    assert second != first
    topic = tmp_path / "exercises" / "t.yaml"
    topic.write_text(topic.read_text().replace("Compute the answer.", "Compute it."))
    assert load_course(path).fingerprint not in (first, second)


# --- the course's data folder: one setting, resolved once ---------------------------------------


def test_cifar10_folder_is_resolved_beside_course_yaml(write_course, tmp_path, monkeypatch):
    monkeypatch.delenv("GRADE_CIFAR10_DIR", raising=False)
    (tmp_path / "data" / "cifar").mkdir(parents=True)
    path = write_course(tmp_path, course=COURSE_YAML + "data:\n  cifar10: data/cifar\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative to the course, not to the current folder
    assert load_course(path).cifar10_dir == tmp_path / "data" / "cifar"


def test_cifar10_folder_from_the_environment_when_the_course_names_none(
    write_course, tmp_path, monkeypatch
):
    (tmp_path / "cifar").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRADE_CIFAR10_DIR", "cifar")
    assert load_course(write_course(tmp_path / "c")).cifar10_dir == tmp_path / "cifar"
    monkeypatch.delenv("GRADE_CIFAR10_DIR")
    assert load_course(tmp_path / "c").cifar10_dir is None


def test_missing_cifar10_folder_is_a_spec_error(write_course, tmp_path, monkeypatch):
    monkeypatch.delenv("GRADE_CIFAR10_DIR", raising=False)
    text = COURSE_YAML + "data:\n  cifar10: nowhere\n"
    path = write_course(tmp_path, course=text)
    with pytest.raises(SpecError) as err:
        load_course(path)
    line = _line_of(text, "cifar10:")
    assert str(err.value) == (
        f"{path}:{line}: data.cifar10: folder not found: {tmp_path / 'nowhere'}"
    )
    monkeypatch.setenv("GRADE_CIFAR10_DIR", str(tmp_path / "gone"))
    with pytest.raises(SpecError, match="GRADE_CIFAR10_DIR: folder not found"):
        load_course(write_course(tmp_path / "b"))


# --- ids and limits -------------------------------------------------------------------------------


def test_ids_longer_than_56_characters_are_refused(write_course, tmp_path):
    long = "a" * 57
    text = TOPIC_YAML.replace("id: t-num", f"id: {long}")
    path = write_course(tmp_path, course=COURSE_YAML.replace("t-num", long), exercises={"t": text})
    with pytest.raises(SpecError, match="is not a valid id"):
        load_course(path)


def test_a_limit_below_its_minimum_is_refused(write_course, tmp_path):
    text = COURSE_YAML + "limits:\n  memory: 8\n"
    with pytest.raises(SpecError, match=r"limits\.memory: must be at least 64"):
        load_course(write_course(tmp_path, course=text))
