"""Copying, seen through the variants, without flagging honest mistakes: a known mistake of a
student's own numbers can be another student's right answer (no kernel: the runs are the
records a kernel would export)."""

from __future__ import annotations

from collections import Counter

import pytest

from grader import load_course
from grader.assemble import assemble
from grader.copying import References, attributed, canonical, class_references, copied_from
from grader.execute.records import Executed, ExportRecord, StepOutcome
from grader.grading import Submitted, grade_one
from grader.identity import identify
from grader.judge.context import JudgeContext
from grader.judge.record import judged as graded
from grader.key import AnswerKey, key_path, save_key
from grader.keymaker import answer_key, variant_keys
from grader.options import GradeOptions
from grader.render import render_assignment
from grader.results import ExerciseResult, GradeResult
from grader.roster import Student, save_roster, signature, variant_of
from grader.runners import ran
from grader.solutions import reference_values
from grader.spec.varying import DEFAULT, varying_exercises
from grader.variants import for_variant

SECRET = b"a course secret for the copying tests"

COURSE = """\
name: Copying course
assignments:
  - id: a1
    title: Shapes
    exercises: [c-shape, c-count]
"""

# The image's height and width vary; "as if padded" keeps them, which for one student is
# the right answer of a classmate whose image is two pixels larger each way.
TOPIC = """\
topic: c
title: Convolutions
params:
  height: {int: [10, 14], default: 12}
  width: {int: [10, 14], default: 12}
setup: |
  height, width = {{ height }}, {{ width }}
exercises:
  - id: c-shape
    title: The output's height and width
    points: 1
    prompt: A 3x3 convolution without padding on {{ height }}x{{ width }}.
    answer: {kind: shape, name: shape}
    mistakes:
      - {function: padded_shape, title: as if padded, hint: There is no padding.}
  - id: c-count
    title: How many outputs
    points: 1
    prompt: How many numbers does it output, on {{ height }}x{{ width }}?
    answer: {kind: number, name: count}
    mistakes:
      - {function: padded_count, title: as if padded, hint: There is no padding.}
"""

SOLUTIONS = """\
def padded_shape(height, width):
    return (height, width)


def padded_count(height, width):
    return height * width

# %% c-shape
shape = (height - 2, width - 2)

# %% c-count
count = (height - 2) * (width - 2)
"""

CLASS = tuple(Student(f"st{i:02d}", f"Student {i}", f"st{i:02d}@example.org") for i in range(24))
ANSWERS = {"c-shape": "shape", "c-count": "count"}


@pytest.fixture
def released(write_course, tmp_path, monkeypatch):
    """The course with a roster of 24 in its release: the keys computed in this process."""
    monkeypatch.setenv("GRADE_SECRET", SECRET.decode())
    course = load_course(
        write_course(tmp_path, course=COURSE, exercises={"c": TOPIC}, solutions={"c": SOLUTIONS})
    )
    release = tmp_path / "release"
    values = reference_values(course, "a1")  # every exercise varies: the whole default key
    save_key(AnswerKey("a1", course.fingerprint, values, seed=1), key_path(release, "a1"))
    save_roster(release, CLASS, SECRET)
    return course, GradeOptions(release=release)


def variant(course, student):
    return for_variant(course, "a1", variant_of(SECRET, course, "a1", student))


def own_mistakes(mine, options):
    """Each varying exercise's known mistake, on these numbers."""
    context = JudgeContext(mine, answer_key(mine, "a1", options))
    return {ex.id: context.mistake(ex, ex.mistakes[0]) for ex in varying_exercises(mine, "a1")}


def hand_in(course, options, student, answers):
    """``student``'s own notebook answering ``answers``, judged as a batch judges its run."""
    mine = variant(course, student)
    owner = {
        "student": student,
        "variant": mine.variant,
        "signature": signature(SECRET, course, "a1", student, mine.variant),
    }
    nb = render_assignment(mine, mine.assignment("a1"), "student", owner=owner)
    assembled = assemble(mine, "a1", nb)
    exports = {e: ExportRecord({"ok": True, "value": v}) for e, v in answers.items()}
    executed = Executed(tuple(StepOutcome("ok") for _ in assembled.steps), exports)
    identity = identify(course, options.release_dir(course), "a1", nb.metadata, student)
    submitted = Submitted(mine, "a1", f"{student}.ipynb", identity, assembled)
    return grade_one(submitted, options, ran(executed)).result


def test_an_honest_mistake_that_is_a_classmates_answer_is_not_copying(released):
    course, options = released
    students = [DEFAULT, *(s.id for s in CLASS)]
    mine = {s: variant(course, s) if s else for_variant(course, "a1", DEFAULT) for s in students}
    refs = {
        s: {e: canonical(v) for e, v in answer_key(m, "a1", options).values.items()}
        for s, m in mine.items()
    }
    mistakes = {s: own_mistakes(m, options) for s, m in mine.items()}
    shared = Counter((e, r[e]) for r in refs.values() for e in ANSWERS)
    # the case of the issue: one student's known mistakes are the references of another one,
    # which few others share (so they would count as evidence)
    honest = [
        (s, other)
        for s in students
        if s
        for other in students
        if other != s
        and all(
            canonical(mistakes[s][e]) == refs[other][e] and shared[(e, refs[other][e])] <= 2
            for e in ANSWERS
        )
    ]
    assert honest, "the class should hold a student whose mistakes are a classmate's answers"
    for student, other in honest:
        result = hand_in(course, options, student, mistakes[student])
        assert result.score == 0 and {e.mistake for e in result.exercises} == {"as if padded"}
        assert (result.flags, result.copied_from) == ((), ""), (student, other)

    # a copier is still caught: the answers of a classmate whose references are no known
    # mistake and shared by few (a value many share proves nothing)
    mistaken = {(e, canonical(m[e])) for m in mistakes.values() for e in m}
    source = next(
        s
        for s in students[1:]
        if all((e, refs[s][e]) not in mistaken and shared[(e, refs[s][e])] <= 2 for e in ANSWERS)
    )
    copier = next(s for s in students[1:] if all(refs[s][e] != refs[source][e] for e in ANSWERS))
    copied = answer_key(mine[source], "a1", options).values
    result = hand_in(course, options, copier, copied)
    assert result.score == 0 and source in result.copied_from.split(", ")
    assert any(f.startswith("copying?") for f in result.flags)


def test_the_index_leaves_out_references_that_are_someones_known_mistake(released):
    course, options = released
    refs = class_references(course, "a1", options.release_dir(course), variant_keys("a1", options))
    for s in CLASS:
        mine = variant(course, s.id)
        for e, value in own_mistakes(mine, options).items():
            assert canonical(value) not in refs.by_value[e]
    assert any(refs.by_value[e] for e in ANSWERS)  # the rest is still indexed


def test_an_answer_that_is_the_students_own_known_mistake_is_never_evidence():
    refs = References({"e1": {canonical([3, 4]): ("bob",)}, "e2": {canonical(8): ("bob",)}}, 2)
    exports = {
        "e1": ExportRecord({"ok": True, "value": [3, 4]}),
        "e2": ExportRecord({"ok": True, "value": 8}),
    }

    def result(mistake):
        exercises = tuple(
            ExerciseResult(e, e, 1, 0, "failed", mistake=mistake) for e in ("e1", "e2")
        )
        return GradeResult("c", "a1", "x.ipynb", 0, 2, 0, exercises)

    assert copied_from(result(""), exports, "alice", refs)[1] == "bob"
    assert copied_from(result("as if padded"), exports, "alice", refs) == ("", "")


# --- the shipped course: a class large enough for its ps2 shapes to hit the case -------------

LARGE = 500  # enough for the case (5 at risk or more); 1000 took twice as long


def test_no_honest_student_of_a_large_class_is_flagged_on_the_shipped_course(
    shipped_course, tmp_path, monkeypatch
):
    monkeypatch.setenv("GRADE_SECRET", SECRET.decode())
    course, options = shipped_course, GradeOptions(release=tmp_path / "release")
    base = for_variant(course, "ps2", DEFAULT)
    # every ps2 exercise is in a topic with parameters: the default key, computed here
    values = reference_values(base, "ps2")
    save_key(AnswerKey("ps2", course.fingerprint, values, seed=1), key_path(options.release, "ps2"))
    roster = tuple(Student(f"s{i:04d}") for i in range(LARGE))
    save_roster(options.release, roster, SECRET)
    mine = {
        s.id: for_variant(course, "ps2", variant_of(SECRET, course, "ps2", s.id)) for s in roster
    }
    varying = [ex.id for ex in varying_exercises(course, "ps2")]
    owners: dict[tuple[str, str], set[str]] = {}
    mistakes: dict[str, dict[str, list]] = {}
    for s, m in mine.items():
        key = answer_key(m, "ps2", options)
        context = JudgeContext(m, key)
        mistakes[s] = {
            e: [context.mistake(m.exercises[e], k) for k in m.exercises[e].mistakes]
            for e in varying
        }
        for e in varying:
            owners.setdefault((e, canonical(key.values[e])), set()).add(s)
    common = max(2, (LARGE + 1) // 20)
    # who would look like a copier: a known mistake of their own numbers is, on two exercises
    # or more, the uncommon reference of one same classmate
    at_risk: dict[str, dict[str, list]] = {}
    for s, found in mistakes.items():
        per_other: dict[str, dict[str, list]] = {}
        for e, values in found.items():
            for value in values:
                others = owners.get((e, canonical(value)), set()) - {s}
                if 0 < len(others) <= common:
                    for other in others:
                        per_other.setdefault(other, {})[e] = value
        best = max(per_other.values(), key=len, default={})
        if len(best) >= 2:
            at_risk[s] = best
    assert len(at_risk) >= 5, "a class this large holds the case the issue names"
    assert {e for answers in at_risk.values() for e in answers} >= {"shape-dilation", "shape-pool"}

    refs = class_references(
        course, "ps2", options.release_dir(course), variant_keys("ps2", options)
    )
    for student, answers in at_risk.items():
        m = mine[student]
        nb = render_assignment(m, m.assignment("ps2"), "student")
        assembled = assemble(m, "ps2", nb)
        exports = {e: ExportRecord({"ok": True, "value": v}) for e, v in answers.items()}
        executed = Executed(tuple(StepOutcome("ok") for _ in assembled.steps), exports)
        result = graded(m, "ps2", "ps2.ipynb", assembled, executed, answer_key(m, "ps2", options))
        assert all(e.mistake for e in result.exercises if e.id in answers)
        assert copied_from(result, exports, student, refs) == ("", ""), student


# --- the rules, one at a time, on hand-made references ---------------------------------------


@pytest.mark.parametrize(
    "a,b,same",
    [
        (3, 3.0, True),  # an int and the equal float
        (1.0000001, 1.0, True),  # 6 significant digits
        (123456789, 123457000, True),
        (1.00001, 1.0, False),
        (-0.0, 0.0, True),
        (True, 1, False),  # a bool is no number
        (None, 0, False),
        ([1, 2.0], [1.0, 2], True),  # element by element
        ([1, 2], [2, 1], False),
        ({"b": 1, "a": [2]}, {"a": [2.0], "b": 1}, True),  # keys in any order
        ({1: 2}, {"1": 2.0}, True),  # keys as text
        ("a", "A", False),
    ],
)
def test_canonical_values(a, b, same):
    assert (canonical(a) == canonical(b)) is same


def test_the_index_holds_the_varying_exercises_only_without_the_mistaken_values(
    write_course, tmp_path
):
    from grader.copying import index_references

    course = load_course(
        write_course(tmp_path, course=COURSE, exercises={"c": TOPIC}, solutions={"c": SOLUTIONS})
    )
    keys = {
        "": AnswerKey("a1", course.fingerprint, {"c-shape": [10, 10], "c-count": 100}),
        "ann": AnswerKey("a1", course.fingerprint, {"c-shape": [11, 10], "c-count": 110.0}),
        "bea": AnswerKey("a1", course.fingerprint, {"c-shape": [11, 10], "c-count": 110}),
        "cy": AnswerKey("a1", course.fingerprint, {"c-shape": [12, 12]}),  # no c-count
    }
    refs = index_references(course, "a1", keys, {"c-shape": {canonical([12, 12])}})
    assert refs.students == 4
    assert refs.by_value == {
        "c-shape": {canonical([10, 10]): ("",), canonical([11, 10]): ("ann", "bea")},
        "c-count": {canonical(100): ("",), canonical(110): ("ann", "bea")},
    }


def judged(*exercises):
    """A result of failed exercises e1, e2, ... (``(id, score, mistake)``, 1 point each)."""
    return GradeResult(
        "c",
        "a1",
        "x.ipynb",
        0,
        len(exercises),
        0,
        tuple(ExerciseResult(e, e, 1, score, "failed", mistake=m) for e, score, m in exercises),
    )


REFS = References(
    {
        "e1": {canonical(1): ("bob",), canonical(10): (DEFAULT,), canonical(7): ("ann", "bob")},
        "e2": {canonical(2): ("bob",), canonical(20): (DEFAULT,), canonical(8): ("ann", "bob")},
        "e3": {canonical(3): ("bob",)},
    },
    40,  # a value 2 students share still counts (40 // 20)
)


def exported(**values):
    return {e: ExportRecord({"ok": True, "value": v}) for e, v in values.items()}


def test_two_wrong_answers_that_are_one_classmates_references_are_flagged():
    flag, whose = copied_from(
        judged(("e1", 0, ""), ("e2", 0, "")), exported(e1=1, e2=2), "al", REFS
    )
    assert flag == (
        "copying? the answers match another student's numbers, not al's: 2 of 3 exercises "
        "with per-student numbers (e1, e2)"
    )
    assert whose == "bob"


def test_the_default_numbers_are_named_as_such():
    flag, whose = copied_from(
        judged(("e1", 0, ""), ("e2", 0, "")), exported(e1=10, e2=20), "al", REFS
    )
    assert "the default numbers (of the notebook made for nobody)" in flag and whose == "-"


def test_classmates_sharing_the_values_are_all_named_in_order():
    _, whose = copied_from(judged(("e1", 0, ""), ("e2", 0, "")), exported(e1=7, e2=8), "al", REFS)
    assert whose == "ann, bob"


@pytest.mark.parametrize(
    "why,exercises,exports,student,refs",
    [
        ("one exercise is no evidence", [("e1", 0, "")], exported(e1=1), "al", REFS),
        ("their own numbers", [("e1", 0, ""), ("e2", 0, "")], exported(e1=1, e2=2), "bob", REFS),
        ("a right answer", [("e1", 1, ""), ("e2", 1, "")], exported(e1=1, e2=2), "al", REFS),
        ("a known mistake", [("e1", 0, "m"), ("e2", 0, "m")], exported(e1=1, e2=2), "al", REFS),
        ("nobody's value", [("e1", 0, ""), ("e2", 0, "")], exported(e1=5, e2=6), "al", REFS),
        (
            "a value too many share",
            [("e1", 0, ""), ("e2", 0, "")],
            exported(e1=7, e2=8),
            "al",
            References(
                {
                    e: {v: (*who, "cy") for v, who in values.items()}
                    for e, values in REFS.by_value.items()
                },
                40,  # 3 students of 40 share each value: more than 40 // 20
            ),
        ),
        (
            "no value exported",
            [("e1", 0, ""), ("e2", 0, "")],
            {"e1": ExportRecord({"ok": False, "error": "x"}), "e2": ExportRecord({"ok": True})},
            "al",
            REFS,
        ),
        ("an exercise that does not vary", [("e9", 0, ""), ("e8", 0, "")], {}, "al", REFS),
    ],
)
def test_what_is_no_evidence_of_copying(why, exercises, exports, student, refs):
    assert copied_from(judged(*exercises), exports, student, refs) == ("", ""), why


def test_without_a_roster_attributed_only_records_the_identity():
    from grader.identity import Identity

    identity = Identity("zed", "", ("a flag",), ("a notice",), roster=False)
    result = judged(("c-shape", 0, ""), ("c-count", 0, ""))
    out = attributed(result, exported(**{"c-shape": [1, 1]}), identity, None, "al", ("intake",))
    assert (out.student, out.variant, out.flags, out.copied_from) == (
        "zed",
        "",
        ("intake", "a flag"),
        "",
    )
