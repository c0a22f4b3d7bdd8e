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
    from .options import GradeOptions
    from .pipeline import grade
    from .results import GradeResult
    from .variants import load_default_course as load_course

__all__ = [
    "GradeOptions",
    "GradeResult",
    "GraderError",
    "__version__",
    "build",
    "grade",
    "load_course",
]

# name -> (module, its name there); the course as grading and builds use it is the default
# variant, rendered (``grader.spec.load_course`` reads the course as written)
_WHERE = {
    "GraderError": ("errors", "GraderError"),
    "GradeOptions": ("options", "GradeOptions"),
    "build": ("build", "build"),
    "grade": ("pipeline", "grade"),
    "GradeResult": ("results", "GradeResult"),
    "load_course": ("variants", "load_default_course"),
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module, attribute = _WHERE[name]
        return getattr(importlib.import_module(f".{module}", __name__), attribute)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
