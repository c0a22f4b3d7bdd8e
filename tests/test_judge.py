"""The judge without a kernel: it is a pure function of (course, assembled, executed, key), so
its inputs are written here by hand, as plain records."""

from __future__ import annotations

import pickle

import pytest

from grader import load_course
from grader.assemble import Assembled, Step
from grader.errors import CompareError
from grader.execute.records import Executed, ExportRecord, StepOutcome
from grader.judge import judge
from grader.key import AnswerKey
from grader.results import StudentError

OK = StepOutcome("ok")
KEY = AnswerKey("a1", "f", {"t-num": 42, "t-arr": [1.0, 2.0]}, seed=3)


def steps(course):
    out = [Step("setup", "t", "import math\n")]
    for eid in ("t-num", "t-arr"):
        out += [
            Step("answer", eid, "..."),
            Step("export", eid, spec=course.exercises[eid].answer.export_spec()),
        ]
    return tuple(out)


def run(course, outcomes, exports, missing=(), key=KEY):
    assembled = Assembled(steps(course), (), frozenset(missing))
    executed = Executed(tuple(outcomes), exports, duration=1.0)
    return {r.id: r for r in judge(course, assembled, executed, key)}


def test_right_and_partly_right_answers(small_course):
    exports = {
        "t-num": ExportRecord({"ok": True, "value": 42}),
        "t-arr": ExportRecord({"ok": True, "value": [1.2, 9.0]}),
    }
    results = run(small_course, [OK] * 5, exports)
    assert (results["t-num"].status, results["t-num"].score) == ("passed", 2.0)
    assert results["t-num"].hints == ()
    arr = results["t-arr"]
    assert (arr.status, arr.score, arr.hints) == ("failed", 0.0, ("Look closer.",))
    assert arr.checks[0].mismatches == [[1]]
    assert arr.message == "1 of 2 values differ (tolerance rtol=0, atol=0.5)"


def test_errors_missing_cells_and_failed_exports(small_course):
    boom = StudentError("ValueError", "boom", "tb")
    outcomes = [OK, StepOutcome("error", boom), StepOutcome("skipped"), OK, OK]
    exports = {"t-arr": ExportRecord({"ok": False, "error": "`arr` is still `...`"})}
    results = run(small_course, outcomes, exports)
    assert results["t-num"].status == "error" and results["t-num"].error == boom
    assert results["t-num"].message == "your cell raised ValueError: boom"
    assert (results["t-arr"].status, results["t-arr"].message) == ("failed", "`arr` is still `...`")
    missing = run(small_course, [OK] * 5, exports, missing={"t-num"})["t-num"]
    assert missing.status == "missing" and missing.score == 0


def test_an_export_step_that_failed_says_why(small_course):
    died = StepOutcome("died", StudentError("KernelDied", "the kernel died"))
    results = run(
        small_course, [OK, OK, died, OK, OK], {"t-arr": ExportRecord({"ok": True, "value": [1, 2]})}
    )
    assert results["t-num"].status == "error"
    assert results["t-num"].message == (
        "the answer could not be exported (the export step failed: KernelDied: the kernel died)"
    )
    assert results["t-arr"].status == "passed"


def test_the_judge_never_trusts_a_claimed_score(small_course):
    claim = {"ok": True, "value": 0, "score": 2, "passed": True, "status": "passed"}
    results = run(small_course, [OK] * 5, {"t-num": ExportRecord(claim)})
    assert results["t-num"].score == 0


def test_a_key_without_the_value_is_a_course_error(small_course):
    exports = {"t-num": ExportRecord({"ok": True, "value": 42})}
    with pytest.raises(CompareError) as err:
        run(small_course, [OK] * 5, exports, key=AnswerKey("a1", "f", {}, seed=1))
    # the exercise is named once (it was "exercise 't-num': exercise 't-num': ...")
    assert str(err.value) == "exercise 't-num': the answer key has no value; run `grade build`"


def custom_course(write_course, tmp_path, check_source):
    topic = (
        "topic: t\nexercises:\n  - id: c\n    title: C\n    points: 1\n    prompt: p\n"
        "    answer: {kind: custom, name: c, check: judge_it}\n"
    )
    course = "name: C\nassignments:\n  - id: a1\n    exercises: [c]\n"
    solutions = f"{check_source}\n# %% c\nc = 1\n"
    return load_course(
        write_course(tmp_path, course=course, exercises={"t": topic}, solutions={"t": solutions})
    )


@pytest.mark.parametrize(
    "source,message",
    [
        (
            "def judge_it(e, g):\n    return 1 / 0\n",
            "exercise 'c': the custom check 'judge_it' raised ZeroDivisionError: division by zero",
        ),
        (
            "def judge_it(e, g):\n    pass\n",
            "exercise 'c': the custom check 'judge_it' returned None",
        ),
    ],
)
def test_a_custom_check_that_fails_names_the_exercise(write_course, tmp_path, source, message):
    course = custom_course(write_course, tmp_path, source)
    assembled = Assembled(
        (
            Step("answer", "c", "c = 2"),
            Step("export", "c", spec=course.exercises["c"].answer.export_spec()),
        ),
        (),
        frozenset(),
    )
    executed = Executed((OK, OK), {"c": ExportRecord({"ok": True, "value": 2})})
    with pytest.raises(CompareError) as err:
        judge(course, assembled, executed, AnswerKey("a1", "f", {"c": 1}))
    assert str(err.value).startswith(message)


def test_the_same_records_judge_the_same_in_another_process(small_course):
    """What a Dask worker gets: a pickled Executed judges exactly like the original."""
    exports = {
        "t-num": ExportRecord({"ok": True, "value": 41}),
        "t-arr": ExportRecord({"ok": True, "value": [1, 2]}, weights=b"\x00\x01"),
    }
    executed = Executed((OK,) * 5, exports, duration=2.0, log="kernel said hi")
    assembled = Assembled(steps(small_course), (), frozenset())
    copy = pickle.loads(pickle.dumps(executed))
    assert judge(small_course, assembled, copy, KEY) == judge(
        small_course, assembled, executed, KEY
    )
