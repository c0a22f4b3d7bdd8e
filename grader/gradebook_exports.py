"""The gradebook exported for other tools, final scores after the course's policies: a grades
CSV, Gradescope results.json (one per student), or one JUnit XML file.

Reads the final scores where they are computed (``grader.finals``) and writes them with the
formats of ``grader.report.exports``. What makes them doubtful (a grading judged against an
older version of the course, an extension that names nobody) comes back as warnings; with
``strict`` nothing is written and it is an error instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import GraderError
from .finals import class_finals, counted_results
from .gradebook import Gradebook
from .report.exports import grades_csv, write_gradescope, write_junit
from .report.formats import _write_atomic
from .spec import Course

FORMATS = ("csv", "gradescope", "junit")
DEFAULT_OUT = {
    "csv": Path("grades.csv"),
    "gradescope": Path("gradescope"),
    "junit": Path("grades.xml"),
}
STDOUT = "-"  # as ``out`` of a CSV: the text is returned, not written


@dataclass(frozen=True)
class Exported:
    """What an export wrote (or, for standard output, the text to print), and its warnings."""

    target: Path | None  # None: nothing written, ``text`` is the CSV
    text: str
    warnings: tuple[str, ...]


def export(
    course: Course,
    gradebook: Gradebook,
    format: str,
    assignments: Sequence[str] | None = None,
    out: Path | str | None = None,
    strict: bool = False,
    release: Path | None = None,
) -> Exported:
    """Export the final scores of ``assignments`` (default: every one of the course) as
    ``format``, to ``out`` (a file for csv and junit, a folder for gradescope: one per
    assignment inside it when there are several; default ``DEFAULT_OUT``; ``-``: a CSV is
    returned as text). Every student the gradebook knows has a row, handed in or not.

    Raises GraderError for an unknown format, or with ``strict`` when there are warnings."""
    if format not in FORMATS:
        raise GraderError(f"unknown export format {format!r} (one of: {', '.join(FORMATS)})")
    ids = [a.id for a in course.assignments] if assignments is None else list(assignments)
    found = class_finals(course, gradebook, ids, release, everyone=True)
    if strict and found.warnings:
        raise GraderError(f"not exported: {'; '.join(found.warnings)}")
    chosen = [course.assignment(a) for a in found.assignments]
    if format == "csv":
        manual = {
            a.id: [e for e in a.exercises if course.exercises[e].answer.kind == "manual"]
            for a in chosen
        }
        text = grades_csv(found.rows, {a.id: list(a.exercises) for a in chosen}, manual=manual)
        if out is not None and str(out) == STDOUT:
            return Exported(None, text, found.warnings)
        target = Path(out) if out is not None else DEFAULT_OUT[format]
        _write_atomic(target, text)
        return Exported(target, "", found.warnings)
    target = Path(out) if out is not None else DEFAULT_OUT[format]
    counted = counted_results(gradebook, found.rows)
    if format == "gradescope":
        for a in chosen:
            mine = {s: r for (s, aid), r in counted.items() if aid == a.id}
            write_gradescope(mine, target / a.id if len(chosen) > 1 else target)
    else:
        write_junit([counted[k] for k in sorted(counted)], target)
    return Exported(target, "", found.warnings)
