"""Shrinking a failing property example to a minimal one, in the grader.

The first round of a function exercise with ``properties`` called the student's function in
the kernel on examples Hypothesis drew with a seed (``grader.examples``). When some of them
fail, ``shrink`` runs Hypothesis again with that seed and a test that compares the student's
result with the reference's: the inputs of the first round are answered from its results
(Hypothesis meets them first, in the same order: no kernel call until the first failure),
a new input (a shrink candidate) by ``student``, one call in the kernel each, within a
``Budget`` of seconds and calls. Once the budget is spent, new inputs count as passing, so
Hypothesis ends at once with the smallest failure it has seen (at worst a first-round
example). The reference is called here (``reference``); a candidate it cannot judge (it
raises no result, times out) counts as passing.

The result only improves a message: the verdict comes from the first round, and the judge
checks the shrunk example again before it shows it (``shrunk_failure``).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..examples import case_key, search

Case = dict[str, Any]  # {"args": [...], "kwargs": {...}}: plain data, as the kernel gets it
Result = dict[str, Any]  # a call's outcome as ``grader.inkernel.calls`` exports it
SHOWN = 120  # characters of a value a message shows


@dataclass(frozen=True)
class Budget:
    """How much shrinking one exercise may cost: seconds of wall time (no new kernel call
    starts after them; one under way may take its per-call limit) and kernel calls."""

    seconds: float = 2.0
    calls: int = 100


BUDGET = Budget()  # per exercise: 2 s and 100 kernel calls


@dataclass(frozen=True)
class Shrunk:
    """The smallest failing example found, the reference's and the student's results on it,
    and the kernel calls it took."""

    case: Case
    expected: Result
    got: Result
    calls: int


class _Failed(Exception):
    def __init__(self, case: Case, expected: Result, got: Result) -> None:
        super().__init__("the student's result differs from the reference's")
        self.case, self.expected, self.got = case, expected, got


def shrink(
    properties: Mapping[str, Any],
    seed: int,
    known: Mapping[str, Result],
    reference: Callable[[Case], Result],
    student: Callable[[Case], Result | None],
    right: Callable[[Result, Result], bool],
    to_case: Callable[[tuple[Any, ...], dict[str, Any]], Case],
    budget: Budget = BUDGET,
) -> Shrunk | None:
    """The smallest failing example Hypothesis finds (None if it finds none: then the first
    round's own failure is the message).

    Args:
        properties: the exercise's ``properties`` (``args``, ``kwargs``, ``examples``).
        seed: the seed the first round's examples were drawn with.
        known: the student's results of the first round, by ``case_key``.
        reference: the reference's result on a case (called here).
        student: the student's result on a new case (a call in the kernel), or None when it
            could not be had (the kernel is gone, the notebook's time is up): no more calls.
        right: whether a student's result matches the reference's (the kind's tolerances).
        to_case: an example's values as the plain case the kernel is given.
        budget: seconds and kernel calls.
    """
    deadline = time.monotonic() + budget.seconds
    answers: dict[str, Result] = dict(known)
    expected: dict[str, Result] = {}
    calls = 0
    stopped = False

    def test(positional: tuple[Any, ...], named: dict[str, Any]) -> None:
        nonlocal calls, stopped
        case = to_case(positional, named)
        key = case_key(case)
        got = answers.get(key)
        if got is None:
            if stopped or calls >= budget.calls or time.monotonic() >= deadline:
                return  # not asked: passing, so that the search ends with what it has
            calls += 1
            got = student(case)
            if got is None:
                stopped = True
                return
            answers[key] = got
        if key not in expected:
            expected[key] = reference(case)
        exp = expected[key]
        if "value" not in exp and "raised" not in exp:
            return  # the reference has no result here: this input tells nothing
        if not right(exp, got):
            raise _Failed(case, exp, got)

    try:
        search(properties["args"], properties["kwargs"], properties["examples"], seed, test)
    except _Failed as failed:
        return Shrunk(failed.case, failed.expected, failed.got, calls)
    except Exception:  # Hypothesis refusing the search (unsatisfiable, flaky): no shrinking
        return None
    return None


# --- the message ----------------------------------------------------------------------------


def failure_message(case: Case, expected: Result, got: Result, names: Sequence[str] | None) -> str:
    """``fails for n = 0: expected ValueError, got []``: the inputs by the reference's
    parameter names (``names``) where they are known, else as positional values."""
    return f"fails for {inputs_text(case, names)}: expected {outcome(expected)}, got {outcome(got)}"


def inputs_text(case: Case, names: Sequence[str] | None) -> str:
    """A case's inputs: ``n = 0, xs = [1, 2]`` by name, else ``0, [1, 2]``."""
    args, kwargs = list(case.get("args", [])), dict(case.get("kwargs", {}))
    if names is not None and len(args) <= len(names):
        pairs = [*zip(names, args, strict=False), *kwargs.items()]
        return ", ".join(f"{k} = {_cut(repr(v))}" for k, v in pairs)
    values = [_cut(repr(a)) for a in args] + [f"{k}={_cut(repr(v))}" for k, v in kwargs.items()]
    return ", ".join(values) or "no inputs"


def parameter_names(fn: Any) -> list[str] | None:
    """The names of the positional parameters of ``fn`` (the reference), or None if its
    signature cannot be read or takes ``*args``."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    names = []
    for p in parameters:
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
    return names


def outcome(result: Result) -> str:
    """A call's outcome in a message: its value, the exception's type, or what went wrong."""
    if "raised" in result:
        return str(result["raised"])
    if "value" in result:
        return _cut(repr(result["value"]))
    if "timeout" in result:
        return f"no result within {result['timeout']} s"
    return _cut(str(result.get("error", "nothing")))


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"
