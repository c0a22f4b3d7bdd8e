"""Shrinking a failing property example (``grader.judge.shrinking``, ``grader.judge.shrunk``):
real Hypothesis, real reference functions, the student's function called in this process by
the kernel's own caller (``grader.inkernel.calls``) standing in for the kernel; then the
follow-up through the step runner (a kernel stand-in running the real exporter), and one
real kernel through the whole pipeline, with a regrade of the stored run."""

from __future__ import annotations

import pytest

from grader.draws import property_examples
from grader.inkernel.calls import call_case
from grader.inkernel.case_match import case_right
from grader.judge.function import named, parameter_names
from grader.judge.shrinking import BUDGET, Budget, case_key, shrink
from grader.judge.shrunk import encoded


def squares(n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return [i * i for i in range(1, n + 1)]


def squares_no_raise(n):  # nbgrader's wrong answer: [] for n < 1
    return [i * i for i in range(1, n + 1)]


def sort_without_duplicates(xs):  # right unless xs has duplicates
    return sorted(set(xs))


class InProcess:
    """The first round and the shrink candidates, called here as the kernel calls them;
    ``asked`` counts the shrink candidates (what would be kernel round trips)."""

    def __init__(self, properties, seed, reference, student):
        self.properties, self.seed = properties, seed
        self.reference, self.student = reference, student
        self.first = property_examples(properties, seed)  # as the grading draws them
        self.known = {case_key(c): self.call(student, c) for c in self.first}
        self.asked = []

    @staticmethod
    def call(fn, case):
        return call_case(fn, case, 1.0)

    def failing(self):
        return [
            c
            for c in self.first
            if not case_right(self.call(self.reference, c), self.known[case_key(c)], 0, 0)
        ]

    def shrink(self, budget=BUDGET):
        def student(case):
            self.asked.append(case)
            return self.call(self.student, case)

        return shrink(
            self.properties,
            self.seed,
            self.known,
            lambda case: self.call(self.reference, case),
            student,
            lambda exp, got: case_right(exp, got, 0, 0),
            encoded,
            budget,
        )


SQUARES = {"args": ["st.integers(min_value=-5, max_value=30)"], "kwargs": {}, "examples": 200}
LISTS = {"args": ["st.lists(st.integers())"], "kwargs": {}, "examples": 200}


@pytest.mark.parametrize("seed", [0, 1])
def test_the_search_meets_the_draw_s_examples_first_in_its_order(seed):
    from grader.judge.shrinking import search

    drawn = property_examples(LISTS, seed)
    assert len(drawn) == 200
    met = []
    search(LISTS, 200, seed, lambda a, k: met.append(encoded(a, k)))
    assert [c for i, c in enumerate(met) if c not in met[:i]] == drawn


def test_squares_without_value_error_shrinks_to_n_0():
    run = InProcess(SQUARES, 3, squares, squares_no_raise)
    assert len(run.failing()) >= 2  # n = -5 ... 0 were among the examples
    shrunk = run.shrink()
    assert shrunk.case == {"args": [0], "kwargs": {}}
    assert named("squares", shrunk.case, parameter_names(squares)) == "n = 0"
    assert (shrunk.expected["raised"], shrunk.got) == ("ValueError", {"value": []})
    assert run.asked == []  # the first round answered it all


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_sort_wrong_only_with_duplicates_shrinks_to_two_zeros(seed):
    run = InProcess(LISTS, seed, sorted, sort_without_duplicates)
    failing = run.failing()
    minimal = {"args": [[0, 0]], "kwargs": {}}
    assert failing and failing[0] != minimal  # the first round's first failure is not minimal
    shrunk = run.shrink()
    assert shrunk.case == minimal
    assert (shrunk.expected, shrunk.got) == ({"value": [0, 0]}, {"value": [0]})
    assert 0 < len(run.asked) == shrunk.calls <= 20  # new inputs only, each asked once
    assert len({case_key(c) for c in run.asked}) == len(run.asked)


def test_with_no_calls_left_the_first_round_s_own_failure_is_kept():
    run = InProcess(LISTS, 0, sorted, sort_without_duplicates)
    shrunk = run.shrink(Budget(calls=0))
    assert shrunk.case in run.failing()  # a first-round example, not a new input
    assert run.asked == [] and shrunk.calls == 0
    assert shrunk.case != {"args": [[0, 0]], "kwargs": {}}


def test_a_student_gone_mid_shrink_stops_the_asking():
    run = InProcess(LISTS, 0, sorted, sort_without_duplicates)
    asked = []

    def gone(case):
        asked.append(case)
        return None  # the kernel died, or the notebook's time is up

    reference = lambda case: InProcess.call(sorted, case)  # noqa: E731
    right = lambda exp, got: case_right(exp, got, 0, 0)  # noqa: E731
    shrunk = shrink(LISTS, 0, run.known, reference, gone, right, encoded)
    assert len(asked) == 1  # asked once, then never again
    assert shrunk.case in run.failing()


def test_a_right_function_has_nothing_to_shrink():
    run = InProcess(LISTS, 0, sorted, lambda xs: sorted(xs))
    assert run.failing() == [] and run.shrink() is None and run.asked == []


# --- the follow-up, through the step runner (a kernel stand-in running the real exporter) ---


def sort_exercise():
    from grader.spec import Answer, Exercise

    options = {"cases": (), "call_timeout": 1.0, "rtol": 0.0, "atol": 0.0, "properties": LISTS}
    answer = Answer("function", "srt", options)
    return Exercise("srt", "Sort", 1.0, "", "", answer, (), "t", "t.yaml", 0)


def references(ex, cases):
    return [InProcess.call(sorted, c) for c in cases]


class Referee:  # what the judge's context gives shrunk_failure
    reference_results = staticmethod(references)


def first_round(seed=0, timeout=1.0):
    from grader.assemble import Step

    examples = property_examples(LISTS, seed)
    spec = {"name": "srt", "recipe": "calls", "cases": examples, "timeout": timeout}
    return examples, Step("export", "srt", spec=spec)


def follow_run(tmp_path, source, follow_up, seed=0, timeout=1.0):
    from test_steps import InProcessKernel

    from grader.assemble import Step
    from grader.execute import StepRunner

    examples, export = first_round(seed, timeout)
    kernel = InProcessKernel(tmp_path)
    runner = StepRunner(kernel, follow_up=follow_up)
    answer = Step("answer", "srt", source.format(first=[c["args"][0] for c in examples]))
    runner.run([answer, export, Step("answer", "next", "v = 2")])
    return kernel, runner, examples


WRONG_SORT = "def srt(xs):\n    return sorted(set(xs))\n"


def test_the_follow_up_asks_the_kernel_for_new_inputs_and_keeps_the_shrunk_example(tmp_path):
    from grader.judge.shrunk import follow_up, shrunk_failure

    ex = sort_exercise()
    examples, _ = first_round()
    hook = follow_up([ex], {"srt": {"seed": 0, "examples": examples}}, references)
    kernel, runner, _ = follow_run(tmp_path, WRONG_SORT, hook)
    assert [o.status for o in runner.outcomes] == ["ok", "ok", "ok"]
    shrunk = runner.exports["srt:shrunk"].payload
    assert shrunk["case"] == {"args": [[0, 0]], "kwargs": {}} and shrunk["got"] == {"value": [0]}
    cells = [c for c in kernel.lives[0] if "srt.shrink" in c]
    assert len(cells) == shrunk["calls"] > 0  # one export cell per new input
    assert list(kernel.exports.iterdir()) == []  # each collected, then out of reach
    found = shrunk_failure(ex, {"shrunk": shrunk}, Referee())
    assert found == ({"args": [[0, 0]], "kwargs": {}}, {"value": [0, 0]}, {"value": [0]})


def test_a_shrunk_example_the_reference_does_not_fail_is_not_shown():
    from grader.frozen import freeze
    from grader.judge.shrunk import shrunk_failure

    ex = sort_exercise()
    right = {"ok": True, "case": {"args": [[2, 1]], "kwargs": {}}, "got": {"value": [1, 2]}}
    assert shrunk_failure(ex, freeze({"shrunk": right}), Referee()) is None  # right there
    wrong = freeze({"shrunk": {**right, "got": {"value": [2, 1]}}})  # as the judge gets it
    found = shrunk_failure(ex, wrong, Referee())
    assert found == ({"args": [[2, 1]], "kwargs": {}}, {"value": [1, 2]}, {"value": [2, 1]})
    assert shrunk_failure(ex, {}, Referee()) is None
    broken = {"shrunk": {"ok": True, "case": [1], "got": {}}}
    assert shrunk_failure(ex, broken, Referee()) is None


def test_a_kernel_death_while_shrinking_keeps_the_first_round(tmp_path):
    from grader.judge.shrunk import follow_up

    ex = sort_exercise()
    examples, _ = first_round()
    hook = follow_up([ex], {"srt": {"seed": 0, "examples": examples}}, references)
    dies = "first = {first!r}\ndef srt(xs):\n    if xs not in first:\n        die()\n"
    dies += "    return sorted(set(xs))\n"
    kernel, runner, _ = follow_run(tmp_path, dies, hook)
    assert [o.status for o in runner.outcomes] == ["ok", "ok", "ok"]  # the next step ran
    assert len(kernel.lives) == 2  # restarted once, after the first new input
    assert runner.exports["srt"].payload["calls"][0] == {"value": []}
    shrunk = runner.exports["srt:shrunk"].payload
    assert shrunk["calls"] == 1 and [shrunk["case"]["args"][0]] in [c["args"] for c in examples]


def test_a_function_that_hangs_on_new_inputs_stops_at_the_budget(tmp_path):
    from grader.judge.shrunk import follow_up

    ex = sort_exercise()
    examples, _ = first_round()
    budget = Budget(seconds=0.5)  # each new input takes its whole per-call limit, 0.2 s
    draws = {"srt": {"seed": 0, "examples": examples}}
    hook = follow_up([ex], draws, references, budget=budget)
    hangs = "first = {first!r}\ndef srt(xs):\n    while xs not in first:\n        pass\n"
    hangs += "    return sorted(set(xs))\n"
    kernel, runner, _ = follow_run(tmp_path, hangs, hook, timeout=0.2)
    assert [o.status for o in runner.outcomes] == ["ok", "ok", "ok"]
    shrunk = runner.exports["srt:shrunk"].payload
    assert 1 <= shrunk["calls"] <= 4  # no new call after the budget's 0.5 s
    assert len(kernel.lives) == 1  # each stopped by its per-call limit: no restart


def test_a_function_right_only_once_the_first_round_is_over_gains_nothing(tmp_path):
    from grader.judge.shrunk import follow_up

    ex = sort_exercise()
    examples, _ = first_round()
    hook = follow_up([ex], {"srt": {"seed": 0, "examples": examples}}, references)
    counts = "seen = []\ndef srt(xs):\n    seen.append(1)\n"
    counts += "    return sorted(xs) if len(seen) > 200 else sorted(set(xs))\n"
    _, runner, _ = follow_run(tmp_path, counts, hook)
    shrunk = runner.exports["srt:shrunk"].payload  # every new input is right: none shrinks
    assert shrunk["calls"] > 0 and {"args": shrunk["case"]["args"], "kwargs": {}} in examples
    assert shrunk["got"] != InProcess.call(sorted, shrunk["case"])  # a real failure, kept


def test_a_follow_up_that_fails_or_strays_adds_nothing(tmp_path):
    from grader.execute import ExportRecord

    def broken(step, record, kernel):
        raise RuntimeError("a bug")

    _, runner, _ = follow_run(tmp_path / "a", WRONG_SORT, broken)
    assert sorted(runner.exports) == ["srt"]

    def strays(step, record, kernel):
        return {"next": ExportRecord({"ok": True, "value": 1}), "srt:x": record}

    _, runner, _ = follow_run(tmp_path / "b", WRONG_SORT, strays)
    assert sorted(runner.exports) == ["srt", "srt:x"]  # only under its own exercise's keys


# --- nbgrader's squares: the judge's message, then a real kernel, a batch and a regrade ------

COURSE = "name: Squares\nassignments:\n  - id: sq\n    title: S\n    exercises: [squares]\n"
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
        - {args: [0]}
      properties:
        args: ["st.integers(min_value=-5, max_value=1000)"]
        examples: 50
        points: 1
"""
SOLUTION = """\
# %% squares
def squares(n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return [i * i for i in range(1, n + 1)]
"""
STOPS_AT_19 = {  # right for n < 20 only: no fixed case sees it, the property does
    "squares": "def squares(n):\n    if n < 1:\n        raise ValueError('too small')\n"
    "    return [i * i for i in range(1, min(n, 19) + 1)]\n"
}
SAID = "fails for n = 20: expected [1, 4, 9, 16, 25"


def judged_properties(course, shrunk):
    """The properties check of the submission that stops at 19 squares, its first round
    called here, with ``shrunk`` as what the run's follow-ups kept (or nothing)."""
    from grader.draws import draw_exercise
    from grader.execute import ExportRecord
    from grader.frozen import freeze
    from grader.inkernel.calls import call_all
    from grader.judge.context import JudgeContext
    from grader.judge.function import check_function
    from grader.key import AnswerKey
    from grader.solutions import reference_calls

    ex = course.exercises["squares"]
    drawn = draw_exercise(course, ex, 5)
    ns = {}
    exec(STOPS_AT_19["squares"], ns)
    cases = [*ex.answer.export_spec()["cases"], *drawn["examples"]]
    follow_ups = {} if shrunk is None else {"shrunk": shrunk}
    calls = call_all(ns["squares"], cases, 1.0)
    record = ExportRecord({"ok": True, "calls": calls}, drawn=drawn, follow_ups=follow_ups)
    key = AnswerKey("sq", course.fingerprint, freeze(reference_calls(course, "sq")))
    checks = check_function(ex, key.values["squares"], record, JudgeContext(course, key))
    return next(c for c in checks if c.name == "properties")


def test_the_judge_shows_the_shrunk_example_only_where_the_reference_confirms_it(
    write_course, tmp_path
):
    from grader.spec import load_course

    course = load_course(
        write_course(tmp_path, course=COURSE, exercises={"sq": TOPIC}, solutions={"sq": SOLUTION})
    )
    first = judged_properties(course, None)
    assert not first.passed and not first.message.startswith(SAID)  # the first failure
    shrunk = {"ok": True, "case": {"args": [20], "kwargs": {}}}
    right = judged_properties(course, {**shrunk, "got": {"value": [i * i for i in range(1, 21)]}})
    assert right.message == first.message  # the student is right there: not shown
    got = {"value": [i * i for i in range(1, 20)]}
    said = judged_properties(course, {**shrunk, "got": got})
    assert said.message.startswith(SAID) and (said.passed, said.weight) == (False, first.weight)


@pytest.mark.kernel
def test_the_report_names_the_minimal_failing_input_and_a_regrade_says_it_again(
    write_course, tmp_path
):
    from shipped import with_answers

    from grader.batch import BatchOptions, grade_batch
    from grader.build import build
    from grader.gradebook import Gradebook
    from grader.intake import collect
    from grader.options import GradeOptions
    from grader.pipeline import grade
    from grader.regrade import regrade
    from grader.spec import load_course

    course = load_course(
        write_course(tmp_path, course=COURSE, exercises={"sq": TOPIC}, solutions={"sq": SOLUTION})
    )
    release = tmp_path / "release"
    options = GradeOptions(sandbox="optional", release=release)
    build(course, release, options)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wrong = with_answers(release / "student" / "sq.ipynb", STOPS_AT_19, inbox / "bob.ipynb")

    result = grade(wrong, course, options=options)  # `grade FILE`
    squares = {e.id: e for e in result.exercises}["squares"]
    assert squares.score == 2.0  # the fixed cases right, the property wrong
    assert squares.message.startswith(SAID)

    book = tmp_path / "gradebook.db"
    with Gradebook(book) as gradebook:  # a batch on this machine shrinks too, and keeps it
        found = collect(inbox, tmp_path / "copies")
        grade_batch(course, found, gradebook, options, BatchOptions(workers=1, assignment="sq"))
        (attempt,) = gradebook.attempts("sq")
        _, executed = gradebook.stored_run(attempt.grading)
        shrunk = executed.exports["squares:shrunk"].payload
        assert shrunk["case"] == {"args": [20], "kwargs": {}} and shrunk["calls"] > 0
        stored = {e.id: e for e in gradebook.result(attempt.grading).exercises}["squares"]
        assert stored.message.startswith(SAID)
        summary = regrade(course, gradebook, options, "sq", BatchOptions(workers=1))
        assert summary.rerun == 0  # judged again from the stored run, without a kernel
        (again,) = gradebook.attempts("sq")
        regraded = {e.id: e for e in gradebook.result(again.grading).exercises}["squares"]
        assert regraded.message == stored.message
        # without the shrunk record, the message would name the first round's first failure
        first = first_failure(course, options, gradebook, attempt.grading)
        assert first.startswith("fails for n = ") and not first.startswith(SAID)


def first_failure(course, options, gradebook, grading):
    """The properties message of a stored run judged without its shrunk record."""
    from dataclasses import replace

    from grader.grading import grade_one, submitted
    from grader.notebooks import parse_notebook
    from grader.runners import ran

    content, executed = gradebook.stored_run(grading)
    exports = {k: v for k, v in executed.exports.items() if not k.endswith(":shrunk")}
    nb = parse_notebook(content, "bob.ipynb")
    mine = submitted(course, "sq", nb, "bob.ipynb", options, draws=gradebook.stored_draws(grading))
    graded = grade_one(mine, options, ran(replace(executed, exports=exports)))
    return {e.id: e for e in graded.result.exercises}["squares"].message
