"""Whether a function's result on one case matches the reference's: the one comparison of
the ``function`` kind, used by official grading (``grader.judge.function``) and by the
hand-out's ``check()`` in the student's kernel (``grader.inkernel.public``), so the two never
disagree on a public case. Imports stdlib only.
"""

from __future__ import annotations

import math
from typing import Any


def case_right(expected: dict[str, Any], got: Any, rtol: float, atol: float) -> bool:
    """An exported result (``{"value": ...}``, ``{"raised": type}``, ...) against the
    reference's: a value within tolerance, or an exception of the same type."""
    if not isinstance(got, dict):
        return False
    if "raised" in expected:
        return bool(got.get("raised") == expected["raised"])
    return "value" in got and close(expected["value"], got["value"], rtol, atol)


def close(expected: Any, got: Any, rtol: float, atol: float) -> bool:
    """Numbers within ``atol + rtol * |expected|`` (two ints exactly); lists and mappings
    item by item; anything else exactly, type included."""
    if type(expected) in (int, float) and type(got) in (int, float):
        if type(expected) is int and type(got) is int:
            return bool(expected == got)
        return math.isclose(got, expected, rel_tol=0, abs_tol=atol + rtol * abs(expected))
    if type(expected) is not type(got):
        return False
    if isinstance(expected, list):
        return len(expected) == len(got) and all(
            close(e, g, rtol, atol) for e, g in zip(expected, got, strict=True)
        )
    if isinstance(expected, dict):
        return expected.keys() == got.keys() and all(
            close(expected[k], got[k], rtol, atol) for k in expected
        )
    return bool(expected == got)  # text (nan and inf are exported as text), bool, None
