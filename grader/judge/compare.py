"""Compare exported plain data with reference values, in the grader process. Pure functions.

Every comparator takes the answer spec, the expected value and what the student's kernel
exported (plain JSON data, never a live object), and returns the checks. Student data is
validated here: anything that is not the plain type a check needs simply fails it. A
reference that cannot be compared, or an author's custom check that fails, is a course
error (CompareError), not the student's.

The ``check_*`` functions are what ``grader.kinds`` names: the same comparators, called as
``check(exercise, expected, export, context)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CompareError
from ..results import CheckResult
from ..spec import Answer, Exercise

if TYPE_CHECKING:
    from ..execute.records import ExportRecord
    from .context import JudgeContext

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
        rtol, atol = answer["rtol"], answer["atol"]
        ok = _close(value, float(expected), rtol, atol)
        how = f"within rtol={rtol:g}, atol={atol:g}"
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
        raise CompareError(
            f"the reference value is not a numeric array ({_kind(expected)}): "
            "check the solution, then run `grade build`"
        )

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
    rtol, atol = answer["rtol"], answer["atol"]
    bad = ~(np.isfinite(arr) & (np.abs(arr - exp) <= atol + rtol * np.abs(exp)))
    if not bad.any():
        return [CheckResult("values", True, expected=expected, got=got)]
    idx = [list(map(int, i)) for i in np.argwhere(bad)[:MAX_MISMATCHES]]
    tolerance = f"tolerance rtol={rtol:g}, atol={atol:g}"
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


def compare_custom(fn: Callable[..., Any], name: str, expected: Any, got: Any) -> list[CheckResult]:
    """Run an author's custom check: ``fn(expected, got) -> fraction | (fraction, message)``.

    A check that raises, or returns something else, is a course error (CompareError).
    """
    try:
        result = fn(expected, got)
    except Exception as e:
        raise CompareError(
            f"the custom check {name!r} raised {type(e).__name__}: {str(e)[:200]}"
        ) from None
    fraction, message = result if isinstance(result, tuple) and len(result) == 2 else (result, "")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or fraction != fraction:
        raise CompareError(
            f"the custom check {name!r} returned {_kind(result)}; it must return a fraction "
            "from 0 to 1, or (fraction, message)"
        )
    fraction = min(1.0, max(0.0, float(fraction)))
    message = str(message)
    if fraction in (0.0, 1.0):
        return [CheckResult("custom", fraction == 1.0, 1.0, message, expected, got)]
    return [
        # the points earned: a passing check, so without the author's word on what is wrong
        CheckResult("custom (partial)", True, weight=fraction),
        CheckResult("custom", False, 1.0 - fraction, message, expected, got),
    ]


def _kind(value: Any) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


def _on_value(compare: Comparator) -> Callable[..., list[CheckResult]]:
    """A kind's check from a comparator of the exported value."""

    def check(
        exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
    ) -> list[CheckResult]:
        return compare(exercise.answer, expected, export.payload.get("value"))

    check.__doc__ = compare.__doc__
    return check


check_number = _on_value(compare_number)
check_array = _on_value(compare_array)
check_shape = _on_value(compare_shape)
check_mapping = _on_value(compare_mapping)


def check_custom(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """The author's function named by ``check``, from the topic's solutions preamble."""
    name = exercise.answer["check"]
    return compare_custom(context.custom(exercise), name, expected, export.payload.get("value"))
