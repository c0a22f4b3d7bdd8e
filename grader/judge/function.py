"""The ``function`` kind's checks: the student's results per case, and the answer cell's text.

The kernel exported, per case, the result of calling the student's function as plain data,
or the exception's type name (``grader.inkernel.calls``); the key holds the reference
function's results on the same cases, computed in the grader (``grader.solutions``). Each case
is one check weighted by its points: a value within the answer's tolerance (numbers; lists
and mappings item by item; anything else exactly, type included), or an exception of the same
type (a case's own ``raises`` overrides the reference). A hidden case's inputs are never shown.
The source checks (``calls``, ``forbids``) are in ``grader.judge.source_rules``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import CompareError
from ..inkernel.case_match import case_right
from ..results import CheckResult
from ..spec import Answer, Exercise

if TYPE_CHECKING:
    from ..execute.records import ExportRecord
    from .context import JudgeContext

SHOWN = 120  # characters of a value or a call a message shows


def check_function(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """One check per case: the exported result against the reference's."""
    return compare_calls(exercise.answer, expected, export.payload.get("calls"))


def compare_calls(answer: Answer, expected: Any, got: Any) -> list[CheckResult]:
    """Each case's result (``got``, as exported) against the reference's (``expected``)."""
    cases = answer["cases"]
    if not isinstance(expected, list) or len(expected) != len(cases):
        raise CompareError("the answer key has no results for these cases; run `grade build`")
    if not isinstance(got, list) or len(got) != len(cases):
        got = [None] * len(cases)  # a forged or broken export: every case fails
    return [
        _case(answer, i, case, exp, out)
        for i, (case, exp, out) in enumerate(zip(cases, expected, got, strict=True))
    ]


def _case(answer: Answer, i: int, case: dict[str, Any], exp: Any, got: Any) -> CheckResult:
    call = _call(answer.name, case)
    if case["raises"]:
        exp = {"raised": case["raises"]}
    if not isinstance(exp, dict) or not ("value" in exp or "raised" in exp):
        why = _outcome(exp)
        raise CompareError(f"the reference fails for {call}: {why}; check the solution")
    if not isinstance(got, dict):
        got = {"error": "no result was exported"}
    ok = case_right(exp, got, answer["rtol"], answer["atol"])
    message = "" if ok else f"fails for {call}: expected {_outcome(exp)}, got {_outcome(got)}"
    shown = case["public"]
    return CheckResult(
        f"case {i + 1}",
        ok,
        weight=case["points"],
        message=message,
        expected=exp.get("value") if shown else None,
        got=got.get("value") if shown else None,
    )


def _call(name: str, case: dict[str, Any]) -> str:
    if not case["public"]:
        return "a hidden case"
    args = [repr(a) for a in case["args"]] + [f"{k}={v!r}" for k, v in case["kwargs"].items()]
    return _cut(f"{name}({', '.join(args)})")


def _outcome(result: Any) -> str:
    if not isinstance(result, dict):
        return "nothing"
    if "raised" in result:
        message = result.get("message")
        return f"{result['raised']}" + (f" ({_cut(str(message))})" if message else "")
    if "value" in result:
        return _cut(repr(result["value"]))
    if "timeout" in result:
        return f"no result within {result['timeout']} s"
    return _cut(str(result.get("error", "nothing")))


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"
