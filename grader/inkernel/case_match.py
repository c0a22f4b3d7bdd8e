"""Whether a function's result on one case matches the reference's: the one comparison of
the ``function`` kind, used by official grading (``grader.judge.function``) and by the
hand-out's ``check()`` in the student's kernel (``grader.inkernel.public``), so the two never
disagree on a public case. Imports stdlib only.
"""

from __future__ import annotations

import builtins
import math
from typing import Any


def case_right(expected: dict[str, Any], got: Any, rtol: float, atol: float) -> bool:
    """An exported result (``{"value": ...}``, ``{"raised": type}``, ...) against the
    reference's: a value within tolerance, or an exception of the expected type or of a
    subclass of it (as ``pytest.raises``)."""
    if not isinstance(got, dict):
        return False
    if "raised" in expected:
        return raised_type(got, expected["raised"])
    return "value" in got and close(expected["value"], got["value"], rtol, atol)


def raised_type(got: dict[str, Any], expected: str) -> bool:
    """Whether the exported exception is an ``expected`` (qualified name; a builtin's bare
    name): its own type, or one of its bases. A builtin exception's bases are the grader's
    own (``builtins``); another class's are as exported (``mro``), capped. A class that
    only shares a name (``__main__.ValueError``) is not the builtin one."""
    name = got.get("raised")
    if not isinstance(name, str):
        return False
    if name == expected:
        return True
    builtin = getattr(builtins, name, None) if "." not in name else None
    if isinstance(builtin, type) and issubclass(builtin, BaseException):
        bases = [b.__qualname__ if b.__module__ == "builtins" else "" for b in builtin.__mro__]
    else:
        mro = got.get("mro")
        bases = [b for b in mro if isinstance(b, str)] if isinstance(mro, (list, tuple)) else []
    return expected in bases


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
