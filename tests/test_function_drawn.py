"""Cases drawn afresh for each grading (``grader.draws``): inputs that are tensors, arrays,
tuples or objects built by the author's expressions (``grader.inkernel.inputs``), generated
cases from a generator in solutions/, property examples from Hypothesis strategies, the
judge's checks of them (expected results from the reference, in the grader), and the draws
kept with the run so that a regrade judges what the run was given."""

from __future__ import annotations

import pytest
import torch
from shipped import with_answers

from grader.draws import draw, draw_exercise, property_examples
from grader.errors import CompareError, SpecError
from grader.execute.records import ExportRecord
from grader.frozen import freeze
from grader.inkernel.calls import call_all
from grader.inkernel.inputs import InputError, decode, encode
from grader.judge.context import JudgeContext
from grader.judge.function import call_text, check_function
from grader.key import AnswerKey
from grader.kinds import export_spec
from grader.solutions import reference_calls
from grader.spec import load_course

COURSE = "name: Drawn\nassignments:\n  - id: sq\n    title: S\n    exercises: [squares, scale]\n"
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
        - {args: [3], public: true}
      generate: {function: some_n, count: 5, points: 1}
      properties:
        args: ["st.integers(min_value=-5, max_value=30)"]
        examples: 50
        points: 1
  - id: scale
    title: Scale
    points: 2
    prompt: Write scale(x, k), the tensor x times k.
    starter: |
      def scale(x, k):
          ...
    answer:
      kind: function
      name: scale
      cases:
        - args: [{__input__: tensor, data: [1.0, 2.0], dtype: float32}, 3]
          public: true
      generate: {function: some_tensor, count: 4, points: 1}
"""
SOLUTION = """\
import torch


def some_n(rng):
    return (rng.randint(1, 12),)


def some_tensor(rng):
    g = torch.Generator().manual_seed(rng.getrandbits(32))
    return {"args": [torch.randn(rng.randint(1, 6), generator=g)], "kwargs": {"k": 2.5}}

# %% squares
def squares(n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return [i * i for i in range(1, n + 1)]

# %% scale
def scale(x, k):
    return x * k
"""


@pytest.fixture
def course(write_course, tmp_path):
    return load_course(
        write_course(tmp_path, course=COURSE, exercises={"sq": TOPIC}, solutions={"sq": SOLUTION})
    )


# --- inputs ----------------------------------------------------------------------------------


def test_inputs_survive_the_trip_as_what_they_were():
    import numpy

    value = [torch.tensor([[1.0, 2.5]]), numpy.arange(3), (1, "a"), {"k": [True, None]}]
    plain = encode(value)
    assert plain[0] == {"__input__": "tensor", "data": [[1.0, 2.5]], "dtype": "float32"}
    back = decode(plain)
    assert torch.equal(back[0], value[0]) and back[0].dtype == torch.float32
    assert back[1].tolist() == [0, 1, 2] and str(back[1].dtype) == "int64"
    assert back[2] == (1, "a") and back[3] == {"k": [True, None]}
    assert decode(plain)[0] is not back[0]  # fresh objects at each call


def test_an_expr_input_builds_the_same_object_on_both_sides():
    data = encode({"__input__": "expr", "source": "torch.nn.Linear(3, 2)"})
    one, two = decode(data), decode(data)
    assert one is not two and torch.equal(one.weight, two.weight)  # torch.manual_seed(0) first


@pytest.mark.parametrize(
    "value,message",
    [
        (float("nan"), "not a finite number"),
        (object(), "cannot pass a value of type object"),
        ({"__input__": "tensor", "data": [1], "dtype": "complex64"}, "unknown dtype"),
        ({"__input__": "expr", "source": "x ="}, "is not an expression"),
        ({"__input__": "pickle"}, "unknown input tag"),
    ],
)
def test_inputs_that_cannot_be_passed_are_refused(value, message):
    with pytest.raises(InputError, match=message):
        encode(value)


def test_a_yaml_case_with_a_bad_input_names_its_field(write_course, tmp_path):
    topic = TOPIC.replace("dtype: float32}, 3]", "dtype: float99}, 3]")
    path = write_course(
        tmp_path, course=COURSE, exercises={"sq": topic}, solutions={"sq": SOLUTION}
    )
    with pytest.raises(SpecError, match=r"scale\.answer\.cases\[0\]\.args.*unknown dtype"):
        load_course(path)


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("count: 5,", "count: 0,", "between 1 and 1000"),
        ("function: some_n,", "function: 'some n',", "not a function name"),
        ("examples: 50", "examples: 5000", "between 1 and 1000"),
        ('args: ["st.integers(min_value=-5, max_value=30)"]', "args: []", "at least one"),
        ('args: ["st.integers(min_value=-5, max_value=30)"]', 'args: ["st.integers("]',
         "not an expression"),
    ],
)  # fmt: skip
def test_bad_draw_options_are_refused(write_course, tmp_path, old, new, message):
    assert old in TOPIC
    topic = TOPIC.replace(old, new)
    path = write_course(
        tmp_path, course=COURSE, exercises={"sq": topic}, solutions={"sq": SOLUTION}
    )
    with pytest.raises(SpecError, match=message):
        load_course(path)


# --- drawing -----------------------------------------------------------------------------------


def test_draws_are_fresh_per_grading_and_fixed_by_their_seed(course):
    ex = course.exercises["squares"]
    one, two = draw(course, "sq"), draw(course, "sq")
    assert one["squares"]["seed"] != two["squares"]["seed"]
    assert draw_exercise(course, ex, 7) == draw_exercise(course, ex, 7)
    drawn = draw_exercise(course, ex, 7)
    assert len(drawn["generated"]) == 5
    assert all(1 <= c["args"][0] <= 12 and c["kwargs"] == {} for c in drawn["generated"])
    assert 10 <= len(drawn["examples"]) <= 50  # distinct examples of a small space
    assert {c["args"][0] for c in drawn["examples"]} <= set(range(-5, 31))
    assert draw_exercise(course, ex, 8)["examples"] != drawn["examples"]
    scaled = draw_exercise(course, course.exercises["scale"], 7)["generated"]
    assert scaled[0]["args"][0]["__input__"] == "tensor" and scaled[0]["kwargs"] == {"k": 2.5}


def test_the_export_step_carries_the_fixed_then_the_drawn_cases(course):
    from grader.assemble import assemble
    from grader.render import render_assignment

    nb = render_assignment(course, course.assignment("sq"), "student")
    assembled = assemble(course, "sq", nb)
    spec = next(s.spec for s in assembled.steps if s.role == "export" and s.exercise == "squares")
    drawn = assembled.draws["squares"]
    assert spec["cases"] == [{"args": [3], "kwargs": {}}, *drawn["generated"], *drawn["examples"]]
    again = assemble(course, "sq", nb, assembled.draws)  # a regrade: the same draws
    assert again.steps == assembled.steps


def test_a_failing_generator_is_one_readable_course_error(write_course, tmp_path):
    solution = SOLUTION.replace("return (rng.randint(1, 12),)", "return 1 / 0")
    path = write_course(
        tmp_path, course=COURSE, exercises={"sq": TOPIC}, solutions={"sq": solution}
    )
    with pytest.raises(SpecError, match="the case generator 'some_n' of 'squares' fails"):
        draw(load_course(path), "sq")


def test_property_examples_start_from_the_simplest():
    examples = property_examples(
        {"args": ["st.integers(min_value=-5, max_value=30)"], "kwargs": {}, "examples": 20}, 1
    )
    assert examples[0] == {"args": [0], "kwargs": {}}  # Hypothesis tries the simplest first


# --- judging -----------------------------------------------------------------------------------


def _judge(course, eid, fn, seed=3):
    """The checks of ``fn`` as the student's function, called as the kernel calls it."""
    ex = course.exercises[eid]
    drawn = draw_exercise(course, ex, seed)
    spec = {**export_spec(ex.answer.kind, ex.answer.name, ex.answer.options)}
    cases = [*spec["cases"], *drawn.get("generated", ()), *drawn.get("examples", ())]
    record = ExportRecord({"ok": True, "calls": call_all(fn, cases, 1.0)}, drawn=drawn)
    key = AnswerKey("sq", course.fingerprint, freeze(reference_calls(course, "sq")))
    context = JudgeContext(course, key)
    return {c.name: c for c in check_function(ex, key.values[eid], record, context)}


def test_a_right_function_passes_every_drawn_case(course):
    def squares(n):
        if n < 1:
            raise ValueError
        return [i * i for i in range(1, n + 1)]

    checks = _judge(course, "squares", squares)
    assert all(c.passed for c in checks.values())
    assert [n for n in checks] == [
        "case 1",
        *(f"generated case {i}" for i in range(1, 6)),
        "properties",
    ]
    assert sum(c.weight for c in checks.values()) == 3  # 1 + 5 x 0.2 + 1


def test_a_function_that_does_not_raise_fails_for_the_smallest_input(course):
    def squares(n):
        return [i * i for i in range(1, n + 1)]

    checks = _judge(course, "squares", squares)
    assert checks["case 1"].passed
    expected = "fails for n = 0: expected ValueError (n must be at least 1), got []"
    assert checks["properties"].message == expected


def test_hard_coded_outputs_gain_nothing_on_drawn_cases(course):
    """A function that knows every fixed case (public and hidden) but computes nothing."""
    known = {3: [1, 4, 9]}
    checks = _judge(course, "squares", lambda n: known.get(n, []))
    assert checks["case 1"].passed and not checks["properties"].passed
    assert not all(c.passed for n, c in checks.items() if n.startswith("generated"))


def test_tensor_cases_are_judged_within_tolerance(course):
    checks = _judge(course, "scale", lambda x, k: (x * k + 1e-9).tolist())
    assert all(c.passed for c in checks.values())
    checks = _judge(course, "scale", lambda x, k: x * (k + 1))
    failed = [c for c in checks.values() if not c.passed]
    assert len(failed) == 5
    assert failed[1].message.startswith("fails for scale(tensor([")
    assert ", k=2.5): expected [" in failed[1].message


def test_a_run_without_its_draws_is_not_judged(course):
    ex = course.exercises["squares"]
    key = AnswerKey("sq", course.fingerprint, freeze(reference_calls(course, "sq")))
    record = ExportRecord({"ok": True, "calls": [{"value": [1, 4, 9]}]})
    with pytest.raises(CompareError, match="no cases were drawn"):
        check_function(ex, key.values["squares"], record, JudgeContext(course, key))


def test_a_forged_number_of_results_fails_every_case(course):
    ex = course.exercises["squares"]
    drawn = draw_exercise(course, ex, 3)
    key = AnswerKey("sq", course.fingerprint, freeze(reference_calls(course, "sq")))
    record = ExportRecord({"ok": True, "calls": [{"value": [1, 4, 9]}]}, drawn=drawn)
    checks = check_function(ex, key.values["squares"], record, JudgeContext(course, key))
    assert not any(c.passed for c in checks)


def test_a_call_is_shown_as_the_student_would_write_it():
    case = {"args": [encode(torch.tensor([1.0, 2.0])), encode((1, 2))], "kwargs": {"k": "a"}}
    assert call_text("f", case) == "f(tensor([1.0, 2.0]), (1, 2), k='a')"
    built = encode({"__input__": "expr", "source": "torch.nn.Linear(3, 2)", "name": "layer"})
    unnamed = encode({"__input__": "expr", "source": "torch.nn.Linear(3, 2)"})
    assert call_text("g", {"args": [built, unnamed]}) == "g(layer, torch.nn.Linear(3, 2))"


# --- through the pipeline, and a regrade of the stored run ----------------------------------------


RIGHT = {
    "squares": "def squares(n):\n    if n < 1:\n        raise ValueError('no')\n"
    "    return [i * i for i in range(1, n + 1)]\n",
    "scale": "def scale(x, k):\n    return x * k\n",
}
NO_RAISE = {**RIGHT, "squares": "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n"}


@pytest.mark.kernel
def test_drawn_cases_through_a_kernel_and_a_regrade(course, tmp_path):
    from grader.batch import BatchOptions, grade_batch
    from grader.build import build
    from grader.gradebook import Gradebook
    from grader.intake import collect
    from grader.options import GradeOptions
    from grader.regrade import regrade

    release = tmp_path / "release"
    options = GradeOptions(sandbox="optional", release=release)
    build(course, release, options)
    notebook = release / "student" / "sq.ipynb"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with_answers(notebook, RIGHT, inbox / "ann.ipynb")
    with_answers(notebook, NO_RAISE, inbox / "bob.ipynb")
    book = tmp_path / "gradebook.db"
    with Gradebook(book) as gradebook:
        found = collect(inbox, tmp_path / "copies")
        grade_batch(course, found, gradebook, options, BatchOptions(workers=1, assignment="sq"))
        scores = {a.student: a.score for a in gradebook.attempts("sq")}
        assert scores == {"ann": 5.0, "bob": 4.0}
        grading = next(a.grading for a in gradebook.attempts("sq") if a.student == "bob")
        stored = gradebook.result(grading)
        drawn = gradebook.stored_draws(grading)
        assert len(drawn["squares"]["generated"]) == 5
        bob = {e.id: e for e in stored.exercises}["squares"]
        assert bob.message == "fails for n = 0: expected ValueError (n must be at least 1), got []"
        summary = regrade(course, gradebook, options, "sq", BatchOptions(workers=1))
        assert summary.rerun == 0  # judged again, from the stored run and its draws
        after = {a.student: a.score for a in gradebook.attempts("sq")}
        assert after == scores


# --- the hand-out -----------------------------------------------------------------------------


def test_the_hand_out_says_drawn_cases_wait_for_grading(course, tmp_path):
    """No drawn case is in the hand-out (none exists before a grading); check() says right or
    wrong for the public cases, shows a tensor input as a tensor, and leaves the rest."""
    import json

    from grader.handout_release import handout_data
    from grader.inkernel.public import describe

    key = AnswerKey("sq", course.fingerprint, reference_calls(course, "sq"))
    data = json.loads(json.dumps(handout_data(course, "sq", key)))
    squares, scale = data["exercises"]
    assert squares["public_cases"]["drawn"] == 2 and squares["public_cases"]["hidden"] == 0
    assert "generate" not in squares["answer"] and "properties" not in squares["answer"]
    assert "some_n" not in json.dumps(data)
    line, verdict = describe(scale, {"scale": lambda x, k: x * k})
    assert verdict is None
    assert line.splitlines() == [
        "scale: 1 public case: OK; cases drawn afresh for each grading: checked at grading",
        "  scale(tensor([1.0, 2.0]), 3): right",
    ]


def test_a_function_exercise_asks_for_a_definition(course):
    from grader.render import render_assignment

    nb = render_assignment(course, course.assignment("sq"), "student")
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "*✏️ Your answer:* define `squares` in the cell below." in text
    assert "assign it to `squares`" not in text


def test_the_expected_results_come_from_the_named_reference(write_course, tmp_path):
    """``reference:`` names a preamble function (say, a library's): the key and the drawn
    cases' expected results are its results, not the solution section's."""
    topic = TOPIC.replace(
        "      name: scale\n", "      name: scale\n      reference: library_scale\n"
    )
    solution = SOLUTION.replace(
        "# %% squares", "def library_scale(x, k):\n    return x * k + 100\n\n# %% squares"
    )
    path = write_course(
        tmp_path, course=COURSE, exercises={"sq": topic}, solutions={"sq": solution}
    )
    course = load_course(path)
    assert course.exercises["scale"].answer["reference"] == "library_scale"
    assert course.exercises["squares"].answer["reference"] == ""
    assert reference_calls(course, "sq")["scale"] == [{"value": [103.0, 106.0]}]
    checks = _judge(course, "scale", lambda x, k: x * k + 100)
    assert all(c.passed for c in checks.values())
