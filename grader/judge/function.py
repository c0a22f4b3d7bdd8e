"""The ``function`` kind's checks: the student's results per case.

The kernel exported, per case, the result of calling the student's function as plain data,
or the exception's type name (``grader.inkernel.calls``); the key holds the reference
function's results on the same cases, computed in the grader (``grader.solutions``). Each case
is one check weighted by its points: a value within the answer's tolerance (numbers; lists
and mappings item by item; anything else exactly, type included), or an exception of the same
type or of a subclass (a case's own ``raises`` overrides the reference). A hidden case's
inputs are never shown.
The source checks (``calls``, ``forbids``) are in ``grader.judge.source_rules``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import CompareError
from ..inkernel.case_match import case_right
from ..inkernel.inputs import call_text, cut, shown
from ..results import CheckResult
from ..spec import Answer, Exercise
from .shrunk import shrunk_failure

if TYPE_CHECKING:
    from ..execute.records import ExportRecord
    from .context import JudgeContext


def check_function(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """One check per fixed case (the exported result against the key's), one per case
    generated for this grading and one for the property examples (against the reference's
    results, computed here: ``JudgeContext.reference_results``)."""
    answer = exercise.answer
    generated = list(export.drawn.get("generated", ()))
    examples = list(export.drawn.get("examples", ()))
    if (answer["generate"] and not generated) or (answer["properties"] and not examples):
        raise CompareError("no cases were drawn for this grading; grade the notebook again")
    fixed = len(answer["cases"])
    got = export.payload.get("calls")
    if not isinstance(got, (list, tuple)) or len(got) != fixed + len(generated) + len(examples):
        got = [None] * (fixed + len(generated) + len(examples))  # forged or broken: all fail
    checks = compare_calls(answer, expected, list(got[:fixed]), context.reveals_hidden(exercise))
    if not generated and not examples:
        return checks
    reference = list(context.reference_results(exercise, [*generated, *examples]))
    points = answer["generate"]["points"] / len(generated) if generated else 0.0
    for i, (case, exp, out) in enumerate(
        zip(
            generated, reference[: len(generated)], got[fixed : fixed + len(generated)], strict=True
        )
    ):
        checks.append(_drawn(answer, f"generated case {i + 1}", case, exp, out, points))
    if examples:
        names = parameter_names(context.reference_function(exercise))
        expected_examples = reference[len(generated) :]
        check = property_check(
            answer, examples, expected_examples, list(got[-len(examples) :]), names
        )
        # the failure shrunk while the kernel ran, if the reference confirms it
        smallest = None if check.passed else shrunk_failure(exercise, export.follow_ups, context)
        if smallest is not None:
            case, exp, out = smallest
            message = f"fails for {named(answer.name, case, names)}: {_versus(exp, out)}"
            check = dataclasses.replace(check, message=message)
        checks.append(check)
    return checks


def compare_calls(
    answer: Answer, expected: Any, got: Any, reveal: bool = False
) -> list[CheckResult]:
    """Each fixed case's result (``got``, as exported) against the reference's (``expected``);
    a hidden case's inputs are shown only when ``reveal`` (the assignment is closed)."""
    cases = answer["cases"]
    if not isinstance(expected, list) or len(expected) != len(cases):
        raise CompareError("the answer key has no results for these cases; run `grade build`")
    if not isinstance(got, list) or len(got) != len(cases):
        got = [None] * len(cases)  # a forged or broken export: every case fails
    return [
        _case(answer, i, case, exp, out, reveal)
        for i, (case, exp, out) in enumerate(zip(cases, expected, got, strict=True))
    ]


def property_check(
    answer: Answer, examples: list[Any], expected: list[Any], got: list[Any], names: list[str]
) -> CheckResult:
    """One check over every property example: right only if each is; its message names the
    first failing example (``names``: the reference's parameters, to say ``n = 0``)."""
    for case, exp, out in zip(examples, expected, got, strict=True):
        exp = _expected(call_text(answer.name, case), exp)
        if not case_right(exp, _result(out), answer["rtol"], answer["atol"]):
            message = f"fails for {named(answer.name, case, names)}: {_versus(exp, _result(out))}"
            return CheckResult(
                "properties", False, weight=answer["properties"]["points"], message=message
            )
    return CheckResult("properties", True, weight=answer["properties"]["points"])


def _drawn(
    answer: Answer,
    name: str,
    case: dict[str, Any],
    exp: Any,
    got: Any,
    points: float,
) -> CheckResult:
    """A case drawn for this grading: its inputs are fresh, so they are shown."""
    exp, got = _expected(call_text(answer.name, case), exp), _result(got)
    ok = case_right(exp, got, answer["rtol"], answer["atol"])
    message = "" if ok else f"fails for {call_text(answer.name, case)}: {_versus(exp, got)}"
    return CheckResult(name, ok, weight=points, message=message)


def _expected(call: str, exp: Any) -> dict[str, Any]:
    """The reference's result on a case, or a course error naming the case's ``call``."""
    if not isinstance(exp, dict) or not ("value" in exp or "raised" in exp):
        why = _outcome(exp)
        raise CompareError(f"the reference fails for {call}: {why}; check the solution")
    return exp


def _result(got: Any) -> dict[str, Any]:
    return got if isinstance(got, dict) else {"error": "no result was exported"}


def _versus(exp: Any, got: Any) -> str:
    return f"expected {_outcome(exp)}, got {_outcome(got)}"


def named(name: str, case: Mapping[str, Any], names: list[str]) -> str:
    """A call's inputs by the reference's parameter names (``n = 0``), else the call."""
    args = list(case.get("args", ()))
    if len(args) > len(names):
        return call_text(name, case)
    pairs = [*zip(names, args, strict=False), *case.get("kwargs", {}).items()]
    return cut(", ".join(f"{k} = {shown(v)}" for k, v in pairs)) or f"{name}()"


def parameter_names(fn: Any) -> list[str]:
    """The positional parameters of the reference function, to name a call's arguments."""
    try:
        return [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return []


def _case(
    answer: Answer, i: int, case: dict[str, Any], exp: Any, got: Any, reveal: bool
) -> CheckResult:
    public = case["public"] or reveal
    call = call_text(answer.name, case) if public else "a hidden case"
    if reveal and not case["public"]:
        call = f"the hidden case {call}"
    exp = _expected(call, {"raised": case["raises"]} if case["raises"] else exp)
    got = _result(got)
    ok = case_right(exp, got, answer["rtol"], answer["atol"])
    message = "" if ok else f"fails for {call}: {_versus(exp, got)}"
    return CheckResult(
        f"case {i + 1}",
        ok,
        weight=case["points"],
        message=message,
        expected=exp.get("value") if public else None,
        got=got.get("value") if public else None,
    )


def _outcome(result: Any) -> str:
    if not isinstance(result, dict):
        return "nothing"
    if "raised" in result:
        message = result.get("message")
        return f"{result['raised']}" + (f" ({cut(str(message))})" if message else "")
    if "value" in result:
        return cut(repr(result["value"]))
    if "timeout" in result:
        return f"no result within {result['timeout']} s"
    return cut(str(result.get("error", "nothing")))
