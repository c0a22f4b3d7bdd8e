"""Plain-text feedback, Gradescope results.json, JUnit XML, the terminal table and report files.

Pure functions of a :class:`GradeResult`; only :func:`write_reports` touches the disk.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import ReportError
from ..flags import for_student, staff_note
from ..results import CheckResult, ExerciseResult, GradeResult
from .html import render_html
from .text import (
    HINT_STATUSES,
    _compact,
    _counts,
    _cut,
    _index,
    _points,
    _round,
    _score_cell,
    _total_percent,
    awaiting_note,
    checked_note,
    clean_text,
    distinct_texts,
    headline,
    one_line,
    short_traceback,
    total_line,
)
from .views import _get, _in_shape, _shape

STATUS_STYLES = {
    "passed": "green",
    "partial": "yellow",
    "failed": "red",
    "error": "magenta",
    "missing": "dim",
    "pending": "cyan",
}


def exercise_text(ex: ExerciseResult) -> str:
    """Plain-text feedback for one exercise: message, error, failed checks, hints, and a
    reviewer's word (rubric items, comment)."""
    lines = [ex.message] if ex.message else []
    lines += review_lines(ex)
    if ex.error:
        lines.append(f"Error: {_cut(ex.error.summary, 2000)}")
    for check in ex.checks:
        if check.passed:
            continue
        lines.append(f"FAILED {check.name}" + (f": {check.message}" if check.message else ""))
        shape = _shape(check.expected) or ()
        marks = [m for m in check.mismatches or () if shape and _in_shape(m, shape)]
        if marks and shape == _shape(check.got):
            for index in marks[:5]:  # the differing values say more than two large arrays
                e, g = _get(check.expected, tuple(index)), _get(check.got, tuple(index))
                lines.append(f"    at {_index(index)}: expected {_compact(e)}, got {_compact(g)}")
            if len(marks) > 5:
                lines.append(f"    ... {len(marks) - 5} more of {math.prod(shape)} values differ")
        elif not (check.expected is None and check.got is None):
            expected, got = distinct_texts([check.expected, check.got])
            lines.append(f"    expected: {expected}")
            lines.append(f"    got:      {got}")
    if ex.hints and ex.status in HINT_STATUSES:
        lines += ["Hints:", *(f"  - {hint}" for hint in ex.hints)]
    if not lines:
        lines.append("All checks passed." if ex.status == "passed" else f"Status: {ex.status}.")
    return clean_text("\n".join(lines))


def review_lines(ex: ExerciseResult) -> list[str]:
    """A review's rubric items checked and its comment, as lines (none when unreviewed)."""
    review = ex.review or {}
    lines = [f"  [x] {item}" for item in review.get("items", ())]
    if review.get("comment"):
        lines.append(f"Comment: {review['comment']}")
    return lines


def summary_text(result: GradeResult) -> str:
    """One paragraph: total, exercise counts and the notices."""
    pct = _total_percent(result)
    note = checked_note(result)
    score, out_of = headline(result)
    if result.checked is not None and 0 < result.checked < result.max_score:
        rest = "the rest is checked when your notebook is graded"
        note = f"of {_points(result.max_score)} points; {rest}"
        out_of = f"{_points(result.checked)} points checked here"
    else:
        out_of += " points"
    text = (
        f"{result.assignment} ({result.course}), {result.submission}: {score} / {out_of}"
        + awaiting_note(result)
        + (f" ({pct}%)" if pct is not None else "")
        + (
            f", final after the late penalty: {_points(result.final_score)}"
            if result.final_score not in (None, result.score)
            else ""
        )
        + (f" ({note})" if note else "")
        + f". {_counts(result)}."
    )
    if result.notices:
        text += " Notices: " + " ".join(n.rstrip(".") + "." for n in result.notices)
    return clean_text(text).replace("\n", " ")


def _json_safe(value: Any) -> Any:
    """Strict-JSON data: non-finite floats become strings, text is cleaned, tuples become lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return clean_text(str(value))


def _check_flags(checks: Sequence[CheckResult]) -> dict[str, bool]:
    flags: dict[str, bool] = {}
    for check in checks:
        name = check.name
        for n in itertools.count(2):
            if name not in flags:
                break
            name = f"{check.name} #{n}"
        flags[name] = check.passed
    return flags


def _gradescope_status(ex: ExerciseResult) -> str:
    if ex.status == "awaiting review":
        return "passed"  # not failed: not scored yet (its output says so)
    full = _round(ex.score) >= _round(ex.points)
    return "passed" if full and ex.status == "passed" else "failed"


def _test(number: int, ex: ExerciseResult) -> dict[str, Any]:
    """One exercise as a Gradescope test. Awaiting review (a person scores it) and pending
    (decided at official grading): counted neither as earned nor as possible, and pending
    has no status (it is neither passed nor failed yet)."""
    undecided = ex.status in ("awaiting review", "pending")
    test: dict[str, Any] = {
        "name": f"{ex.id}: {ex.title}",
        "number": str(number),
        "score": _round(ex.score),
        "max_score": 0 if undecided else _round(ex.points),
        "status": _gradescope_status(ex),
        "output": exercise_text(ex),
        "extra_data": {"id": ex.id, "status": ex.status, "checks": _check_flags(ex.checks)},
    }
    if ex.status == "pending":
        del test["status"]
        test["extra_data"]["points"] = _round(ex.points)
    return test


def flag_lines(result: GradeResult, staff: bool = False) -> tuple[str, ...]:
    """The result's flags as a view shows them: for the staff with whose numbers the answers
    are (one line), else in the student's words, which name nobody."""
    if not result.flags:
        return ()
    return (staff_note(result.flags, result.copied_from),) if staff else for_student(result.flags)


def results_json(result: GradeResult, staff: bool = False) -> dict[str, Any]:
    """The Gradescope ``results.json`` document (JSON-serialisable with ``allow_nan=False``).

    Its flags are a hidden test: with ``staff`` (written for Gradescope, which shows hidden
    tests to the staff only) in the staff's words, else in the student's."""
    tests = [_test(number, ex) for number, ex in enumerate(result.exercises, 1)]
    if result.flags:  # a test only the staff see on Gradescope
        tests.append(
            {
                "name": "Flagged for the instructor",
                "score": 0,
                "max_score": 0,
                "status": "failed",
                "visibility": "hidden",
                "output": "\n".join(flag_lines(result, staff)),
            }
        )
    # a hand-out check: out of the points it checked (as its report's headline), the rest
    # decided at official grading
    here = result.checked is not None and result.checked < result.max_score
    data = {
        "score": _round(result.score),
        "max_score": _round(result.checked if here and result.checked else result.max_score),
        "execution_time": _round(result.execution_time),
        "output": summary_text(result),
        "visibility": "visible",
        "tests": tests,
    }
    extra: dict[str, float] = {}
    if result.awaiting > 0:  # manual answers: in neither score nor max_score until reviewed
        extra["awaiting_review"] = _round(result.awaiting)
    if here:
        extra["checked_here"] = _round(result.checked or 0)
        extra["assignment_max_score"] = _round(result.max_score)
    if extra:
        data["extra_data"] = extra
    safe: dict[str, Any] = _json_safe(data)
    return safe


def _testsuite(result: GradeResult) -> ET.Element:
    statuses = [ex.status for ex in result.exercises]
    suite = ET.Element(
        "testsuite",
        {
            "name": clean_text(result.submission),
            "tests": str(len(statuses)),
            "failures": str(sum(s in ("failed", "partial") for s in statuses)),
            "errors": str(sum(s in ("error", "missing") for s in statuses)),
            "skipped": str(statuses.count("pending")),
            "time": _seconds(result.execution_time),
        },
    )
    if result.graded_at:
        suite.set("timestamp", clean_text(result.graded_at))
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("course", result.course),
        ("assignment", result.assignment),
        *((("student", result.student),) if result.student else ()),  # where it is known
        ("score", _points(result.score)),
        ("max_score", _points(result.max_score)),
    ):
        ET.SubElement(props, "property", name=name, value=clean_text(value))
    for ex in result.exercises:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=clean_text(result.assignment),
            name=clean_text(f"{ex.id}: {ex.title}"),
        )
        text = exercise_text(ex)
        if ex.status in ("failed", "partial"):
            first = next((c.message for c in ex.checks if not c.passed and c.message), "")
            message = first or ex.message or f"{_points(ex.score)} / {_points(ex.points)} points"
            tag = ET.SubElement(case, "failure", message=_one_line(message), type=ex.status)
            tag.text = text
        elif ex.status in ("error", "missing"):
            if ex.error:
                message, kind = ex.error.summary, ex.error.ename
                text = text + "\n\n" + short_traceback(ex.error.traceback)
            else:
                message, kind = ex.message or f"answer for {ex.id!r} is missing", ex.status
            tag = ET.SubElement(case, "error", message=_one_line(message), type=clean_text(kind))
            tag.text = text.strip()
        elif ex.status == "pending":
            ET.SubElement(case, "skipped", message="checked when the notebook is graded")
        elif ex.status == "awaiting review":
            ET.SubElement(case, "skipped", message="awaiting review by a person")
    if result.notices:
        ET.SubElement(suite, "system-out").text = clean_text("\n".join(result.notices))
    return suite


def _seconds(x: float) -> str:
    return f"{x:.3f}" if math.isfinite(x) else "0"


def _one_line(text: str) -> str:
    return _cut(" ".join(clean_text(text).split()))


def junit_xml(result: GradeResult | Sequence[GradeResult]) -> str:
    """JUnit XML: a testsuite per submission (one result or several), a testcase per exercise."""
    results = [result] if isinstance(result, GradeResult) else list(result)
    suites = [_testsuite(r) for r in results]
    root = ET.Element("testsuites", name=clean_text(results[0].course) if results else "grade")
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", _seconds(sum(r.execution_time for r in results)))
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _feedback_line(ex: ExerciseResult) -> str:
    if ex.error:
        return ex.error.summary
    first = next((c for c in ex.checks if not c.passed), None)
    return (first.message or first.name) if first else ex.message


def terminal_table(result: GradeResult, console: Console, staff: bool = False) -> None:
    """Print the per-exercise table, one line of feedback per failure, notices and the total
    (flags in the student's words unless ``staff``)."""
    # Terminal text is one_line(): no newline, escape, or two colons side by side, so that
    # neither a terminal nor a CI runner reading the log obeys what a student wrote.
    table = Table(title=Text(one_line(f"{result.assignment}: {result.submission}")))
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Exercise", overflow="fold")
    table.add_column("Status", no_wrap=True)
    table.add_column("Points", justify="right", no_wrap=True)
    for number, ex in enumerate(result.exercises, 1):
        table.add_row(
            str(number),
            Text(one_line(ex.title or ex.id)),
            Text(ex.status, style=STATUS_STYLES.get(ex.status, "")),
            _score_cell(ex),
        )
    console.print(table)
    for number, ex in enumerate(result.exercises, 1):
        line = _feedback_line(ex) if ex.status != "passed" else ""
        if line:
            text = Text(f"{number}. ", style=STATUS_STYLES.get(ex.status, ""))
            text.append(one_line(line))
            console.print(text, no_wrap=True, overflow="ellipsis", soft_wrap=False)
    for notice in result.notices:
        console.print(Text("Notice: ", style="bold yellow") + Text(one_line(notice)))
    for line in flag_lines(result, staff):
        console.print(Text("Flagged: ", style="bold red") + Text(one_line(line)))
    if result.checked is None or result.checked > 0:  # 0: nothing decided, the note says so
        console.print(Text(total_line(result), style="bold"))
    if checked_note(result):
        note = checked_note(result)
        console.print(Text(note[0].upper() + note[1:] + ".", style="cyan"))


def _write_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text to a temporary file beside ``path``, then rename it over ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; reports are meant to be shared
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def write_reports(
    result: GradeResult,
    html_path: Path,
    json_path: Path,
    staff: bool = False,
    if_changed: bool = False,
) -> bool:
    """Write the HTML report (a student's view) and the Gradescope results.json (``staff``:
    its hidden test in the staff's words), each atomically (``if_changed``: only where the
    file on disk says something else); returns whether anything was written."""
    texts = {
        Path(html_path): render_html(result),
        Path(json_path): json.dumps(
            results_json(result, staff), indent=2, ensure_ascii=False, allow_nan=False
        )
        + "\n",
    }
    written = False
    for path, text in texts.items():
        if if_changed and _reads(path) == text:
            continue
        _write_atomic(path, text)
        written = True
    return written


def _reads(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def report_paths(folder: Path, assignment: str, student: str, sha256: str) -> tuple[Path, Path]:
    """Where a batch writes a submission's HTML report and results.json (the dashboard links
    to them): ``folder/<assignment>/<student>-<hash>.report.html`` and ``.results.json``."""
    stem = f"{student}-{sha256[:8]}"
    return folder / assignment / f"{stem}.report.html", folder / assignment / f"{stem}.results.json"
