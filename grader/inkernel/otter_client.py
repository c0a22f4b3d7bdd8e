"""otter-grader's client, inert, for answers written in a notebook otter made: a student's
cell may call ``grader.check("q1")`` or ``grader.export()``, or ``import otter``, and the kernel
has no otter. Here every call does nothing and returns None; grading never reads what otter's
checks would say. Stdlib only.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class Notebook:
    """``otter.Notebook`` without effect: any method, called with anything, returns None."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _nothing


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def install() -> Notebook:
    """Make ``import otter`` give the inert client (unless one is imported already)
    and return the ``grader`` otter's init cell would have made."""
    if "otter" not in sys.modules:
        module = types.ModuleType("otter", "otter-grader's client, inert (grade)")
        module.Notebook = Notebook  # type: ignore[attr-defined]
        sys.modules["otter"] = module
    return Notebook()
