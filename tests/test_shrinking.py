"""Shrinking a failing property example (``grader.judge.shrinking``, ``grader.judge.shrunk``):
real Hypothesis, real reference functions, the student's function called in this process by
the kernel's own caller (``grader.inkernel.calls``) standing in for the kernel; then the
follow-up through the step runner (a kernel stand-in running the real exporter), and one
real kernel through the whole pipeline, with a regrade of the stored run."""

from __future__ import annotations

import pytest

from grader.examples import case_key, draw_examples
from grader.inkernel.calls import call_one
from grader.inkernel.case_match import case_right
from grader.judge.shrinking import BUDGET, Budget, failure_message, parameter_names, shrink


def squares(n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return [i * i for i in range(1, n + 1)]


def squares_no_raise(n):  # nbgrader's wrong answer: [] for n < 1
    return [i * i for i in range(1, n + 1)]


def sort_without_duplicates(xs):  # right unless xs has duplicates
    return sorted(set(xs))


def plain_case(positional, named):
    return {"args": list(positional), "kwargs": dict(named)}


class InProcess:
    """The first round and the shrink candidates, called here as the kernel calls them;
    ``asked`` counts the shrink candidates (what would be kernel round trips)."""

    def __init__(self, properties, seed, reference, student):
        self.properties, self.seed = properties, seed
        self.reference, self.student = reference, student
        drawn = draw_examples(
            properties["args"], properties["kwargs"], properties["examples"], seed
        )
        self.first = [plain_case(*e) for e in drawn]
        self.known = {case_key(c): self.call(student, c) for c in self.first}
        self.asked = []

    @staticmethod
    def call(fn, case):
        return call_one(fn, case["args"], case["kwargs"], 1.0)

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
            plain_case,
            budget,
        )


SQUARES = {"args": ["st.integers(min_value=-5, max_value=30)"], "kwargs": {}, "examples": 200}
LISTS = {"args": ["st.lists(st.integers())"], "kwargs": {}, "examples": 200}


def test_the_examples_are_drawn_again_alike_from_their_seed():
    first = draw_examples(LISTS["args"], {}, 200, 11)
    assert first == draw_examples(LISTS["args"], {}, 200, 11)
    assert len(first) == 200
    assert first != draw_examples(LISTS["args"], {}, 200, 12)


def test_squares_without_value_error_shrinks_to_n_0():
    run = InProcess(SQUARES, 3, squares, squares_no_raise)
    assert len(run.failing()) >= 2  # n = -5 ... 0 were among the examples
    shrunk = run.shrink()
    assert shrunk.case == {"args": [0], "kwargs": {}}
    message = failure_message(shrunk.case, shrunk.expected, shrunk.got, parameter_names(squares))
    assert message == "fails for n = 0: expected ValueError, got []"
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
    shrunk = shrink(LISTS, 0, run.known, reference, gone, right, plain_case)
    assert len(asked) == 1  # asked once, then never again
    assert shrunk.case in run.failing()


def test_a_right_function_has_nothing_to_shrink():
    run = InProcess(LISTS, 0, sorted, lambda xs: sorted(xs))
    assert run.failing() == [] and run.shrink() is None and run.asked == []


@pytest.mark.parametrize(
    ("fn", "case", "text"),
    [
        (squares, {"args": [0], "kwargs": {}}, "n = 0"),
        (
            lambda x, w, padding=0: x,
            {"args": [[1], [2]], "kwargs": {"padding": 1}},
            ("x = [1], w = [2], padding = 1"),
        ),
        (lambda *xs: xs, {"args": [1, 2], "kwargs": {}}, "1, 2"),
        (print, {"args": [1], "kwargs": {}}, "1"),
    ],
)
def test_the_inputs_are_named_by_the_reference_s_parameters(fn, case, text):
    message = failure_message(case, {"value": 1}, {"raised": "TypeError"}, parameter_names(fn))
    assert message == f"fails for {text}: expected 1, got TypeError"


# --- the follow-up, through the step runner (a kernel stand-in running the real exporter) ---


def sort_exercise():
    from grader.spec import Answer, Exercise

    options = {"cases": (), "call_timeout": 1.0, "rtol": 0.0, "atol": 0.0, "properties": LISTS}
    answer = Answer("function", "srt", options)
    return Exercise("srt", "Sort", 1.0, "", "", answer, (), "t", "t.yaml", 0)


def references(ex, cases):
    return [InProcess.call(sorted, c) for c in cases]


def first_round(seed=0):
    from grader.assemble import Step

    examples = [plain_case(*e) for e in draw_examples(LISTS["args"], {}, 200, seed)]
    spec = {"name": "srt", "recipe": "calls", "cases": examples, "timeout": 1.0}
    return examples, Step("export", "srt", spec=spec)


def follow_run(tmp_path, source, follow_up, seed=0):
    from test_steps import InProcessKernel

    from grader.assemble import Step
    from grader.execute import StepRunner

    examples, export = first_round(seed)
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
    hook = follow_up([ex], {"srt": {"seed": 0, "examples": examples}}, references, plain_case)
    kernel, runner, _ = follow_run(tmp_path, WRONG_SORT, hook)
    assert [o.status for o in runner.outcomes] == ["ok", "ok", "ok"]
    shrunk = runner.exports["srt:shrunk"].payload
    assert shrunk["case"] == {"args": [[0, 0]], "kwargs": {}} and shrunk["got"] == {"value": [0]}
    cells = [c for c in kernel.lives[0] if "srt.shrink" in c]
    assert len(cells) == shrunk["calls"] > 0  # one export cell per new input
    assert list(kernel.exports.iterdir()) == []  # each collected, then out of reach
    message = shrunk_failure(ex, runner.exports, references, ["xs"])
    assert message == "fails for xs = [0, 0]: expected [0, 0], got [0]"


def test_a_shrunk_example_the_reference_does_not_fail_is_not_shown():
    from grader.execute import ExportRecord
    from grader.judge.shrunk import shrunk_failure

    ex = sort_exercise()
    forged = {"ok": True, "case": {"args": [[2, 1]], "kwargs": {}}, "got": {"value": [1, 2]}}
    assert shrunk_failure(ex, {"srt:shrunk": ExportRecord(forged)}, references, ["xs"]) is None
    wrong = {**forged, "got": {"value": [2, 1]}}
    message = shrunk_failure(ex, {"srt:shrunk": ExportRecord(wrong)}, references, ["xs"])
    assert message == "fails for xs = [2, 1]: expected [1, 2], got [2, 1]"
    assert shrunk_failure(ex, {}, references, ["xs"]) is None


def test_a_kernel_death_while_shrinking_keeps_the_first_round(tmp_path):
    from grader.judge.shrunk import follow_up

    ex = sort_exercise()
    examples, _ = first_round()
    hook = follow_up([ex], {"srt": {"seed": 0, "examples": examples}}, references, plain_case)
    dies = "first = {first!r}\ndef srt(xs):\n    if xs not in first:\n        die()\n"
    dies += "    return sorted(set(xs))\n"
    kernel, runner, _ = follow_run(tmp_path, dies, hook)
    assert [o.status for o in runner.outcomes] == ["ok", "ok", "ok"]  # the next step ran
    assert len(kernel.lives) == 2  # restarted once, after the first new input
    assert runner.exports["srt"].payload["calls"][0] == {"value": []}
    shrunk = runner.exports["srt:shrunk"].payload
    assert shrunk["calls"] == 1 and [shrunk["case"]["args"][0]] in [c["args"] for c in examples]


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
