"""Plain data from an answer: what the kernel's export writes (``to_plain``).

Runs INSIDE the student's kernel (``grader.inkernel.exporter``, ``grader.inkernel.calls``) and
in the grader for reference values. Numbers, sequences, dicts, numpy arrays and tensors (and
pandas objects, ``grader.inkernel.frames``, and matplotlib figures,
``grader.inkernel.figures``) become JSON-ready data, read through the base
types' own methods, so that a subclass cannot claim a value it does not hold. Imports stdlib
only.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from .export_error import ExportError

__all__ = ["MAX_DEPTH", "MAX_ITEMS", "ExportError", "to_plain"]

MAX_ITEMS = 1_000_000
MAX_DEPTH = 32
# Bound at import: a function graded by the ``calls`` recipe may replace the builtins while
# its result is converted (that is undone and said after the call, but must not crash it).
_type, _issubclass = type, issubclass


def to_plain(value: Any, _depth: int = 0, _count: list[int] | None = None) -> Any:
    """Convert numbers, sequences, dicts, numpy arrays and tensors to JSON-ready data."""
    count = _count if _count is not None else [0]
    count[0] += 1
    if count[0] > MAX_ITEMS:
        raise ExportError(f"the answer has more than {MAX_ITEMS} items")
    if _depth > MAX_DEPTH:
        raise ExportError("the answer is nested too deeply")
    if value is None or type(value) is bool or type(value) is str:
        return value
    # By the object's real type (``type``), never ``isinstance``: an object whose
    # ``__class__`` claims a type it is not is not taken for one.
    kind = _type(value)
    if _issubclass(kind, int):
        return int.__int__(value)  # the real value, whatever a subclass claims
    if _issubclass(kind, float):
        return _float(float.__float__(value))
    if _issubclass(kind, (list, tuple)):
        return [to_plain(v, _depth + 1, count) for v in _items(value)]
    if _issubclass(kind, dict):
        out: dict[str, Any] = {}
        for k, v in dict.items(value):
            key = _type(k)
            if not _issubclass(key, (str, int)) or key is bool:
                raise ExportError(f"dictionary keys must be text, got {key.__name__}")
            out[str.__str__(k) if _issubclass(key, str) else str(int.__int__(k))] = to_plain(
                v, _depth + 1, count
            )
        return out
    torch = sys.modules.get("torch")
    if torch is not None and type(value) is torch.device:
        return str(value)
    module = type(value).__module__.split(".")[0]
    if module in ("numpy", "torch") and hasattr(value, "tolist"):
        if module == "torch" and getattr(value, "requires_grad", False):
            value = value.detach()
        if module == "torch" and getattr(value, "device", None) is not None:
            value = value.cpu()
        return to_plain(value.tolist(), _depth + 1, count)
    pandas = sys.modules.get("pandas")  # a pandas object only while pandas is imported
    if pandas is not None and _issubclass(kind, (pandas.DataFrame, pandas.Series)):
        from .frames import pandas_data

        return pandas_data(value)
    figure, axes = sys.modules.get("matplotlib.figure"), sys.modules.get("matplotlib.axes")
    if figure is not None and axes is not None and _issubclass(kind, (figure.Figure, axes.Axes)):
        from .figures import figure_data

        return figure_data(value)
    raise ExportError(f"cannot export a value of type {type(value).__name__}")


def _items(value: Any) -> list[Any]:
    """A list's or tuple's items as stored, whatever a subclass's ``__iter__`` claims."""
    try:
        if _issubclass(_type(value), list):
            return list.copy(value)
        return [tuple.__getitem__(value, i) for i in range(tuple.__len__(value))]
    except TypeError:
        raise ExportError(f"cannot export a value of type {type(value).__name__}") from None


def _float(x: float) -> float | str:
    # JSON has no NaN/inf; keep them recognisable so the grader can say "got nan".
    return x if math.isfinite(x) else repr(x)
