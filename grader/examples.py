"""Property-based examples of a function exercise: the author's Hypothesis strategies, run in
the grader (never in the kernel).

The YAML's ``properties`` gives one strategy expression per argument (``args``: a list,
``kwargs``: a mapping), evaluated with ``st`` = ``hypothesis.strategies`` (trusted course
text). ``draw_examples`` draws a grading's examples with a seed; ``search`` runs the same
search with a test. Both use one engine and the same settings (no database, no health
checks, no deadline, the seed given), so a search with the seed of a draw meets the draw's
examples first, in the same order, until its test first fails; only then does it go on to
inputs of its own (shrinking the failure). ``grader.judge.shrinking`` relies on that: the
first round's results answer the search until it fails, without calling the kernel.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

Args = tuple[tuple[Any, ...], dict[str, Any]]  # one example: positional and keyword values


def strategy(args: Sequence[str], kwargs: Mapping[str, str]) -> SearchStrategy[Args]:
    """The strategy of one example from the author's expressions."""
    from hypothesis import strategies as st

    def built(expression: str) -> Any:
        found = eval(compile(expression, "<properties>", "eval"), {"st": st})  # trusted
        if not isinstance(found, st.SearchStrategy):
            raise ValueError(f"{expression!r} is not a Hypothesis strategy")
        return found

    positional = st.tuples(*(built(e) for e in args))
    named = st.fixed_dictionaries({k: built(e) for k, e in kwargs.items()})
    return st.tuples(positional, named)


def search(
    args: Sequence[str],
    kwargs: Mapping[str, str],
    count: int,
    seed: int,
    test: Callable[[tuple[Any, ...], dict[str, Any]], None],
    shrink: bool = True,
) -> None:
    """Run ``test`` on up to ``count`` examples drawn with ``seed``; if it raises, shrink
    (``shrink``) and raise what it raises on the smallest failing example found."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as seeded

    phases = (Phase.generate, Phase.shrink) if shrink else (Phase.generate,)

    @settings(
        max_examples=max(1, count),
        database=None,
        derandomize=False,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @seeded(seed)
    @given(strategy(args, kwargs))
    def run(example: Args) -> None:
        test(*example)

    run()


def draw_examples(
    args: Sequence[str], kwargs: Mapping[str, str], count: int, seed: int
) -> list[Args]:
    """Up to ``count`` examples drawn with ``seed`` (fewer when the strategies have fewer
    distinct values: Hypothesis does not repeat itself), in the order ``search`` meets them."""
    found: list[Args] = []

    def keep(positional: tuple[Any, ...], named: dict[str, Any]) -> None:
        found.append((positional, named))

    search(args, kwargs, count, seed, keep, shrink=False)
    return found


def case_key(case: Mapping[str, Any]) -> str:
    """A case's identity as the kernel gets it (its plain ``args`` and ``kwargs``)."""
    return json.dumps([case.get("args", []), case.get("kwargs", {})], sort_keys=True)
