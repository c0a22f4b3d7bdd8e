"""The results.json Gradescope reads from /autograder/results/: a graded notebook's (with its
hidden test, the flags, in the staff's words), or one that says why there is no grade.

Gradescope shows a student nothing at all when the file is missing, so a notebook that
cannot be graded still gets one: score 0, and the reason as its output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..report.formats import _json_safe, _write_atomic, results_json
from ..results import GradeResult


def gradescope_text(result: GradeResult) -> str:
    """The results.json text of a graded notebook, for Gradescope (flags: the staff's view)."""
    data = results_json(result, staff=True)
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def refused_results(reason: str) -> dict[str, Any]:
    """The results.json document of a notebook that could not be graded, and why."""
    refused = {"score": 0, "output": f"Your notebook could not be graded: {reason}", "tests": []}
    safe: dict[str, Any] = _json_safe(refused)
    return safe


def write_gradescope_results(path: Path, result: GradeResult) -> None:
    """Write a graded notebook's results.json for Gradescope, atomically."""
    _write_atomic(path, gradescope_text(result))


def write_refused_results(path: Path, reason: str) -> None:
    """Write the results.json of a notebook that could not be graded, atomically."""
    _write_atomic(path, json.dumps(refused_results(reason), indent=2) + "\n")
