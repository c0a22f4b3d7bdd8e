"""A run's shrunk example: found while the kernel is alive, kept with the run, read by the judge.

``follow_up`` makes the follow-up (``grader.execute.FollowUp``) that orchestration hands to
the runner when this process holds the reference (local grading; not a Dask worker, which
has no course). After the export of a function exercise with ``properties``, it takes the
first round's results on the drawn examples, computes the reference's on them here, and, if
some fail, shrinks them (``grader.judge.shrinking``): each new input is one more export cell
in the same kernel (``follow_export``: the recipe of the exercise with that one case, the
same per-call limit). The smallest failing example and the student's result on it become the
record ``"<exercise>:shrunk"``, stored with the run like any export, so that judging the
stored run again gives the same message without a kernel.

``shrunk_failure`` is the judge's side: that record's example, if the reference, called here
again on its input, really disagrees with the student's result there (the record improves
the message only; the verdict comes from the first round's inputs, which the grader drew).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..execute.records import ExportRecord
from ..frozen import thaw
from ..inkernel.case_match import case_right
from ..inkernel.inputs import encode
from ..solutions import reference_function
from ..spec import Course, Exercise
from .shrinking import BUDGET, Budget, Case, Result, case_key, shrink

if TYPE_CHECKING:
    from ..assemble import Step
    from ..execute import FollowExports, FollowUp


class Referee(Protocol):
    """Where the judge gets the reference's results (``JudgeContext``)."""

    def reference_results(self, exercise: Exercise, cases: list[Case]) -> Any:
        """The reference's results on ``cases``, called in this process."""
        ...


NAME = "shrunk"  # the record's key is "<exercise>:shrunk"
CELL_MARGIN = 2.0  # seconds a shrink cell may take beyond its call's own limit

# The reference's results on cases of an exercise, computed in this process.
References = Callable[[Exercise, list[Case]], Sequence[Result]]
# An example's values as the plain case the kernel gets.
ToCase = Callable[[tuple[Any, ...], dict[str, Any]], Case]


def encoded(positional: tuple[Any, ...], named: dict[str, Any]) -> Case:
    """An example as the draw makes it a case (``grader.draws.property_examples``)."""
    return {"args": encode(list(positional)), "kwargs": encode(dict(named))}


def references_of(course: Course) -> References:
    """The reference's results, called here as the judge calls it
    (``JudgeContext.reference_results``), as plain data."""

    def results(ex: Exercise, cases: list[Case]) -> list[Result]:
        from ..inkernel.calls import call_all

        timeout = max(10.0, 10 * float(ex.answer["call_timeout"]))
        return list(thaw(call_all(reference_function(course, ex), cases, timeout)))

    return results


def shrunk_key(exercise_id: str) -> str:
    """The key of an exercise's shrunk record among a run's exports."""
    return f"{exercise_id}:{NAME}"


def follow_up(
    exercises: Sequence[Exercise],
    draws: Mapping[str, Mapping[str, Any]],
    references: References,
    to_case: ToCase = encoded,
    budget: Budget = BUDGET,
) -> FollowUp | None:
    """The follow-up that shrinks the failures of ``exercises`` with ``properties`` (None if
    none has them). ``draws``: the grading's draws (the examples and their seed)."""
    wanted = {ex.id: ex for ex in exercises if ex.answer.options.get("properties")}
    if not wanted:
        return None

    def follow(step: Step, record: ExportRecord, kernel: FollowExports) -> dict[str, ExportRecord]:
        ex = wanted.get(step.exercise)
        drawn = draws.get(step.exercise)
        if ex is None or drawn is None:
            return {}
        shrunk = _shrink(ex, drawn, step, record, kernel, references, to_case, budget)
        return {} if shrunk is None else {shrunk_key(ex.id): shrunk}

    return follow


def _shrink(
    ex: Exercise,
    drawn: Mapping[str, Any],
    step: Step,
    record: ExportRecord,
    kernel: FollowExports,
    references: References,
    to_case: ToCase,
    budget: Budget,
) -> ExportRecord | None:
    examples = thaw(drawn.get("examples"))
    seed = drawn.get("seed")
    cases = step.spec.get("cases")
    calls = thaw(record.payload.get("calls"))  # plain lists and dicts, as compared
    if not (isinstance(examples, list) and examples and isinstance(seed, int)):
        return None
    if not (isinstance(cases, list) and isinstance(calls, list) and len(calls) == len(cases)):
        return None
    n = len(examples)
    results = calls[len(calls) - n :]
    if len(results) != n or not all(isinstance(r, dict) for r in results):
        return None
    rtol, atol = ex.answer["rtol"], ex.answer["atol"]

    def right(expected: Result, got: Result) -> bool:
        return case_right(expected, got, rtol, atol)

    expected = thaw(list(references(ex, list(examples))))
    if all(right(e, g) for e, g in zip(expected, results, strict=True) if _judged(e)):
        return None  # nothing fails: nothing to shrink
    timeout = float(step.spec.get("timeout", 1.0))

    def student(case: Case) -> Result | None:
        found = kernel.follow_export(
            ex.id + ".shrink", {**step.spec, "cases": [case]}, timeout + CELL_MARGIN
        )
        got = found.payload.get("calls") if found is not None else None
        if not isinstance(got, list) or len(got) != 1 or not isinstance(got[0], dict):
            return None
        return dict(thaw(got[0]))

    def reference(case: Case) -> Result:
        return dict(thaw(references(ex, [case])[0]))

    known = {case_key(c): r for c, r in zip(examples, results, strict=True)}
    properties = ex.answer.options["properties"]
    shrunk = shrink(properties, seed, known, reference, student, right, to_case, budget)
    if shrunk is None:
        return None
    payload = {"ok": True, "case": shrunk.case, "got": shrunk.got, "calls": shrunk.calls}
    return ExportRecord(payload)


def shrunk_failure(
    ex: Exercise, follow_ups: Mapping[str, Mapping[str, Any]], context: Referee
) -> tuple[Case, Result, Result] | None:
    """The run's shrunk example of ``ex`` (in what the follow-ups kept for its export,
    ``ExportRecord.follow_ups``), the reference's result on it and the student's, if the
    reference, called here on its input, really disagrees with the student's; else None."""
    shrunk = follow_ups.get(NAME)
    if shrunk is None or shrunk.get("ok") is not True:
        return None
    case, got = thaw(shrunk.get("case")), thaw(shrunk.get("got"))
    if not isinstance(case, dict) or not isinstance(got, dict):
        return None
    args, kwargs = case.get("args", []), case.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        return None
    plain: Case = {"args": args, "kwargs": kwargs}
    try:
        expected = thaw(context.reference_results(ex, [plain])[0])
    except Exception:  # an input the reference cannot take: not a failure it can show
        return None
    if not _judged(expected) or case_right(expected, got, ex.answer["rtol"], ex.answer["atol"]):
        return None
    return plain, expected, got


def _judged(result: Result) -> bool:
    """Whether the reference gave a result a student's can be compared with."""
    return isinstance(result, dict) and ("value" in result or "raised" in result)
