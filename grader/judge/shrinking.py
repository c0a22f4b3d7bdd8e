"""Shrinking a failing property example to a minimal one, in the grader.

The first round of a function exercise with ``properties`` called the student's function in
the kernel on examples Hypothesis drew with a seed (``grader.draws.property_examples``).
``search`` runs the same strategies with the same seed and settings, so it meets those
examples first, in the same order, until its test first fails. When some of them
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

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..draws import strategy_of

Case = dict[str, Any]  # {"args": [...], "kwargs": {...}}: plain data, as the kernel gets it
Result = dict[str, Any]  # a call's outcome as ``grader.inkernel.calls`` exports it


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
    count = int(properties["examples"])
    answers: dict[str, Result] = dict(known)
    expected: dict[str, Result] = {}
    calls = 0
    stopped = False

    def test(positional: tuple[Any, ...], named: dict[str, Any]) -> None:
        nonlocal calls, stopped
        try:
            case = to_case(positional, named)
        except ValueError:  # an input that cannot be passed (the draw refuses it too)
            return
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
        search(properties, count, seed, test)
    except _Failed as failed:
        return Shrunk(failed.case, failed.expected, failed.got, calls)
    except Exception:  # Hypothesis refusing the search (unsatisfiable, flaky): no shrinking
        return None
    return None


def search(
    properties: Mapping[str, Any],
    count: int,
    seed: int,
    test: Callable[[tuple[Any, ...], dict[str, Any]], None],
) -> None:
    """Run ``test`` on up to ``count`` examples of the strategies, drawn from ``seed`` with the
    settings of ``grader.draws.property_examples``; when it raises, shrink, and raise what it
    raises on the smallest failing example found."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as seeded

    @seeded(seed)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate, Phase.shrink],  # the draw's, and shrinking
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @given(strategy_of(properties))
    def run(call: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        test(*call)

    run()


def case_key(case: Mapping[str, Any]) -> str:
    """A case's identity as the kernel gets it (its encoded ``args`` and ``kwargs``)."""
    return json.dumps([case.get("args", []), case.get("kwargs", {})], sort_keys=True)
