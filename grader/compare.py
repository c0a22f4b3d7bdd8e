"""Compare exported plain data with reference values, in the grader process. Pure functions.

Every comparator takes the answer spec, the expected value and what the student's kernel
exported (plain JSON data, never a live object), and returns the checks. Student data is
validated here: anything that is not the plain type a check needs simply fails it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .results import CheckResult
from .spec import Answer

MAX_MISMATCHES = 1000
Comparator = Callable[[Answer, Any, Any], list[CheckResult]]


def _number(x: Any) -> float | None:
    """A real number from plain data (``"nan"``/``"inf"`` strings included), else None."""
    if isinstance(x, bool):
        return None
    if isinstance(x, int):
        try:
            return float(x)
        except OverflowError:  # an int beyond float range
            return math.inf if x > 0 else -math.inf
    if isinstance(x, float):
        return x
    if x in ("nan", "inf", "-inf"):
        return float(x)
    return None


def _close(got: float, expected: float, rtol: float, atol: float) -> bool:
    return math.isfinite(got) and abs(got - expected) <= atol + rtol * abs(expected)


def _number_check(name: str, answer: Answer, expected: Any, got: Any) -> CheckResult:
    value = _number(got)
    if value is None:
        kind = "nothing" if got is None else f"a {type(got).__name__}"
        return CheckResult(
            name, False, message=f"expected a number, got {kind}", expected=expected, got=got
        )
    if isinstance(expected, int) and not isinstance(expected, bool):
        # int == int and int == float compare exactly in Python, whatever their size
        ok = got == expected if isinstance(got, (int, float)) else False
        how = "exactly"
    else:
        ok = _close(value, float(expected), answer.rtol, answer.atol)
        how = f"within rtol={answer.rtol:g}, atol={answer.atol:g}"
    msg = "" if ok else f"expected {expected} ({how}), got {got}"
    return CheckResult(name, ok, message=msg, expected=expected, got=got)


def compare_number(answer: Answer, expected: Any, got: Any) -> list[CheckResult]:
    """Ints exactly, floats within ``rtol``/``atol``."""
    return [_number_check("value", answer, expected, got)]


def _as_array(x: Any) -> np.ndarray[Any, Any] | None:
    """A float array from nested lists of numbers, or None if ragged or not numeric."""
    if isinstance(x, bool) or x is None:
        return None

    def convert(v: Any) -> Any:
        if isinstance(v, list):
            return [convert(i) for i in v]
        n = _number(v)
        if n is None:
            raise ValueError
        return n

    try:
        arr = np.array(convert(x), dtype=float)
    except (ValueError, RecursionError):
        return None
    return arr


def compare_array(answer: Answer, expected: Any, got: Any) -> list[CheckResult]:
    """Same shape, then allclose(rtol, atol); the mismatching indices are reported."""
    exp = _as_array(expected)
    arr = _as_array(got)
    if exp is None:
        raise ValueError("the reference value is not a numeric array")

    def fail(message: str, mismatches: list[list[int]] | None = None) -> list[CheckResult]:
        return [
            CheckResult(
                "values", False, message=message, expected=expected, got=got, mismatches=mismatches
            )
        ]

    if arr is None:
        return fail(
            "expected a list (or nested lists) of numbers of equal lengths, or an array/tensor"
        )
    if arr.shape != exp.shape:
        return fail(f"shape {_shape(arr.shape)} differs from the expected {_shape(exp.shape)}")
    bad = ~(np.isfinite(arr) & (np.abs(arr - exp) <= answer.atol + answer.rtol * np.abs(exp)))
    if not bad.any():
        return [CheckResult("values", True, expected=expected, got=got)]
    idx = [list(map(int, i)) for i in np.argwhere(bad)[:MAX_MISMATCHES]]
    tolerance = f"tolerance rtol={answer.rtol:g}, atol={answer.atol:g}"
    return fail(f"{int(bad.sum())} of {bad.size} values differ ({tolerance})", idx)


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def compare_shape(answer: Answer, expected: Any, got: Any) -> list[CheckResult]:
    """A tuple of whole numbers, equal to the expected one."""
    if not isinstance(got, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in got
    ):
        return [
            CheckResult(
                "shape",
                False,
                expected=expected,
                got=got,
                message="expected a tuple of whole numbers, e.g. (8, 32, 16, 16)",
            )
        ]
    ok = got == expected
    msg = "" if ok else f"expected {_shape(tuple(expected))}, got {_shape(tuple(got))}"
    return [CheckResult("shape", ok, message=msg, expected=expected, got=got)]


def compare_mapping(answer: Answer, expected: Any, got: Any) -> list[CheckResult]:
    """One check per expected key (partial credit); extra keys are pointed out."""
    if not isinstance(got, dict):
        return [
            CheckResult(str(k), False, message="expected a dict", expected=v, got=None)
            for k, v in expected.items()
        ]
    checks = []
    for key, exp in expected.items():
        if key not in got:
            checks.append(
                CheckResult(
                    str(key), False, message=f"key {key!r} is missing", expected=exp, got=None
                )
            )
        else:
            checks.append(_number_check(str(key), answer, exp, got[key]))
    extra = sorted(set(got) - set(expected))
    if extra:
        shown = ", ".join(repr(k) for k in extra[:10])
        checks.append(
            CheckResult(
                "no extra keys",
                False,
                weight=0.0,
                message=f"unexpected keys: {shown}",
                got=extra[:10],
            )
        )
    return checks


COMPARATORS: dict[str, Comparator] = {
    "number": compare_number,
    "array": compare_array,
    "shape": compare_shape,
    "mapping": compare_mapping,
}


def run_custom(fn: Callable[..., Any], expected: Any, got: Any) -> list[CheckResult]:
    """Run an author's custom check: ``fn(expected, got) -> (fraction, message)``."""
    result = fn(expected, got)
    fraction, message = (result, "") if isinstance(result, (int, float)) else result
    fraction = min(1.0, max(0.0, float(fraction)))
    return (
        [
            CheckResult(
                "custom",
                fraction == 1.0,
                message=str(message),
                expected=expected,
                got=got,
                weight=1.0,
            )
        ]
        if fraction in (0.0, 1.0)
        else [
            CheckResult("custom (partial)", True, weight=fraction, message=str(message)),
            CheckResult(
                "custom",
                False,
                weight=1.0 - fraction,
                message=str(message),
                expected=expected,
                got=got,
            ),
        ]
    )
