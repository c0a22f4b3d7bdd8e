"""What the grader draws afresh for each grading, before the run: the seed of a model's
behaviour check, a function's generated cases and its property examples.

A grading's draws are plain JSON data, by exercise id, chosen here in the grader's process
(``secrets``), put into the export steps (``grader.assemble``) and kept with the run (the
gradebook stores them, so a regrade of a stored run judges it against what it was given). The
judge reads them from the assembly, never from the kernel's export:

    {"cnn-model": {"seed": 812...},
     "squares": {"seed": 41..., "generated": [case, ...], "examples": [case, ...]}}

Generated cases come from a generator of the topic's solutions preamble, called with a
``random.Random`` seeded from the draw; property examples from the author's Hypothesis
strategies, drawn with the draw's seed (``property_examples``, which the shrinking of a failing
example replays). A case is ``{"args": [...], "kwargs": {...}}`` of encoded inputs
(``grader.inkernel.inputs``).
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Mapping
from typing import Any

from .errors import SpecError
from .inkernel.inputs import InputError, encode
from .kinds import KINDS
from .solutions import preamble_function
from .spec import Course, Exercise

Draws = Mapping[str, Mapping[str, Any]]


def draw(course: Course, assignment_id: str) -> dict[str, dict[str, Any]]:
    """Fresh draws for every exercise of the assignment that takes any."""
    out = {}
    for eid in course.assignment(assignment_id).exercises:
        drawn = draw_exercise(course, course.exercises[eid], secrets.randbits(62))
        if drawn:
            out[eid] = drawn
    return out


def draw_exercise(course: Course, ex: Exercise, seed: int) -> dict[str, Any]:
    """The draws of one exercise from ``seed`` (the same seed draws the same data)."""
    recipe = KINDS[ex.answer.kind].recipe
    if recipe == "model":
        return {"seed": seed}
    if recipe != "calls":
        return {}
    generate = ex.answer.options.get("generate")
    properties = ex.answer.options.get("properties")
    if not generate and not properties:
        return {}
    out: dict[str, Any] = {"seed": seed}
    if generate:
        out["generated"] = generated_cases(course, ex, generate, seed)
    if properties:
        out["examples"] = property_examples(properties, seed)
    return out


def generated_cases(
    course: Course, ex: Exercise, generate: Mapping[str, Any], seed: int
) -> list[dict[str, Any]]:
    """``count`` cases from the author's generator, each from its own ``random.Random``."""
    fn = preamble_function(course, ex.topic, generate["function"], "case generator")
    rng = random.Random(seed)
    cases = []
    for _ in range(int(generate["count"])):
        try:
            made = fn(random.Random(rng.getrandbits(64)))
        except Exception as e:
            raise SpecError(
                f"the case generator {generate['function']!r} of {ex.id!r} fails: "
                f"{type(e).__name__}: {e}",
                ex.path,
            ) from None
        cases.append(_case(made, ex, generate["function"]))
    return cases


def _case(made: Any, ex: Exercise, where: str) -> dict[str, Any]:
    if isinstance(made, dict) and set(made) <= {"args", "kwargs"}:
        args, kwargs = list(made.get("args", [])), dict(made.get("kwargs", {}))
    elif isinstance(made, (tuple, list)):
        args, kwargs = list(made), {}
    else:
        raise SpecError(
            f"{where} of {ex.id!r} must return a tuple of arguments or "
            f"{{'args': [...], 'kwargs': {{...}}}}, not {type(made).__name__}",
            ex.path,
        )
    try:
        return {"args": encode(args), "kwargs": encode(kwargs)}
    except InputError as e:
        raise SpecError(f"{where} of {ex.id!r}: {e}", ex.path) from None


def strategy_of(properties: Mapping[str, Any]) -> Any:
    """The Hypothesis strategy of one call: a (positional, keyword) pair of arguments, from
    the author's expressions over ``st`` (``hypothesis.strategies``)."""
    from hypothesis import strategies as st

    names = {"st": st, "math": math}

    def strategy(text: str) -> Any:
        try:
            made = eval(compile(text, "<strategy>", "eval"), dict(names))  # the author's text
        except Exception as e:
            raise SpecError(f"the strategy {text!r} fails: {type(e).__name__}: {e}") from None
        if not isinstance(made, st.SearchStrategy):
            raise SpecError(f"{text!r} is not a Hypothesis strategy")
        return made

    args = st.tuples(*(strategy(t) for t in properties["args"]))
    kwargs = st.fixed_dictionaries({k: strategy(t) for k, t in properties["kwargs"].items()})
    return st.tuples(args, kwargs)


def property_examples(properties: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """Up to ``examples`` calls drawn by Hypothesis from ``seed`` (fewer when the strategies
    hold fewer distinct values), each an encoded case."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded

    drawn: list[dict[str, Any]] = []
    seen: set[str] = set()

    @seeded(seed)
    @settings(
        max_examples=int(properties["examples"]),
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(strategy_of(properties))
    def record(call: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        args, kwargs = call
        try:
            case = {"args": encode(list(args)), "kwargs": encode(dict(kwargs))}
        except InputError as e:
            raise SpecError(f"a property example cannot be passed: {e}") from None
        text = repr(case)
        if text not in seen:
            seen.add(text)
            drawn.append(case)

    record()
    return drawn
