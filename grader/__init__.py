"""grade: automated grading of notebook exercises.

The public API is loaded lazily, so that ``grader.inkernel.exporter`` and ``grader.datasets``
stay cheap to import inside a student's kernel, and ``grade --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .distribution import VERSION as __version__

if TYPE_CHECKING:
    from .build import build
    from .errors import GraderError
    from .pipeline import GradeOptions, grade
    from .results import GradeResult
    from .spec import load_course

__all__ = [
    "GradeOptions",
    "GradeResult",
    "GraderError",
    "__version__",
    "build",
    "grade",
    "load_course",
]

_WHERE = {
    "GraderError": "errors",
    "GradeOptions": "pipeline",
    "build": "build",
    "grade": "pipeline",
    "GradeResult": "results",
    "load_course": "spec",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
