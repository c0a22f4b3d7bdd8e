"""The HTML report: one self-contained page rendered from ``grader/templates/report.html.j2``."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..errors import ReportError
from ..flags import for_student
from ..results import CheckResult, ExerciseResult, GradeResult
from .text import (
    HINT_STATUSES,
    STATUS_ICONS,
    _counts,
    _cut,
    _points,
    _score_cell,
    _total_percent,
    checked_note,
    clean_text,
    short_traceback,
)
from .views import _Diff, _diff

TEMPLATE = "report.html.j2"
# Package data of ``grader`` (``grader/templates``), found beside this subpackage.
TEMPLATES_DIR = Path(__file__).parent.parent / "templates"


@dataclass
class _Figure:
    caption: str
    svg: Markup | None  # None when it could not be drawn: ``note`` says so
    note: str = ""


@dataclass
class _SummaryRow:
    depth: int
    student: dict[str, Any] | None
    reference: dict[str, Any] | None
    differs: bool


@dataclass
class _Summary:
    rows: list[_SummaryRow]
    student_total: int | None
    reference_total: int | None
    notes: list[str]
    totals_differ: bool


@dataclass
class _CheckView:
    check: CheckResult
    diff: _Diff | None
    figures: list[_Figure]
    summary: _Summary | None


def _check_view(check: CheckResult) -> _CheckView:
    """A check as the page shows it: expected vs got, its plots, facts and model summaries."""
    details = check.details if isinstance(check.details, dict) else {}
    figures = []
    losses = details.get("losses")
    if isinstance(losses, list) and losses:
        reference = details.get("reference_losses")
        figures.append(
            _figure(
                "Your losses" + (" and the reference run's (dashed)" if reference else ""),
                "loss_curve",
                losses,
                reference,
            )
        )
    per_class = details.get("per_class")
    if isinstance(per_class, list) and per_class:
        threshold = check.expected if isinstance(check.expected, (int, float)) else None
        figures.append(
            _figure(
                "Held-out accuracy per class (red: below the pass mark)",
                "class_accuracy",
                per_class,
                threshold,
            )
        )
    if not check.passed and check.mismatches is not None and check.expected is not None:
        figures.append(
            _figure(
                "Your values against the expected ones (differences marked)",
                "compare_values",
                check.expected,
                check.got,
                check.mismatches,
            )
        )
    figures = [f for f in figures if f.svg is not None or f.note]
    summaries = details.get("summaries")
    summary = _summary(summaries) if isinstance(summaries, dict) else None
    return _CheckView(check, _diff(check), figures, summary)


def _figure(caption: str, name: str, *args: Any) -> _Figure:
    """One plot, or a note when it cannot be drawn (a report never fails for a plot)."""
    try:
        from . import plots

        svg = getattr(plots, name)(*args)
    except Exception as e:
        return _Figure(caption, None, f"The plot could not be drawn ({type(e).__name__}).")
    return _Figure(caption, Markup(svg) if svg else None)


def _summary(details: dict[str, Any]) -> _Summary:
    """Both models' summaries, row beside row, paired by what the layers hold, not by nesting
    or names: the layers with weights (conv, batch norm, linear: leaves with parameters) are
    paired in order, as ``grader.judge.fitting`` fits the weights; the rows between them are
    shown side by side. A row is marked only where the two layers really differ (type,
    parameters or output shape); a layer one side lacks is marked too."""
    sides = [details.get("student") or {}, details.get("reference") or {}]
    notes = [
        f"{who} model's summary: {side['error']}"
        for who, side in zip(("Your", "The reference"), sides, strict=True)
        if isinstance(side, dict) and side.get("error")
    ]
    student, reference = (
        [r for r in s.get("rows") or [] if isinstance(r, dict)] if isinstance(s, dict) else []
        for s in sides
    )
    leaves = [_leaves(student), _leaves(reference)]
    rows = []
    cursor = [0, 0]
    for mine, ref in [*_weighted_pairs(student, reference), (len(student), len(reference))]:
        gaps = [
            range(cursor[k], end) if end is not None else range(0)
            for k, end in enumerate((mine, ref))
        ]
        for i, j in itertools.zip_longest(*gaps):
            rows.append(
                _row(
                    student[i] if i is not None else None,
                    reference[j] if j is not None else None,
                    weighted=False,
                    leaves=i is not None and j is not None and leaves[0][i] and leaves[1][j],
                )
            )
        if (mine is not None and mine < len(student)) or (ref is not None and ref < len(reference)):
            rows.append(
                _row(
                    student[mine] if mine is not None else None,
                    reference[ref] if ref is not None else None,
                    weighted=True,
                    leaves=True,
                )
            )
        cursor = [
            mine + 1 if mine is not None else cursor[0],
            ref + 1 if ref is not None else cursor[1],
        ]
    totals = [s.get("total") if isinstance(s, dict) else None for s in sides]
    return _Summary(rows, totals[0], totals[1], notes, totals[0] != totals[1])


def _leaves(rows: list[dict[str, Any]]) -> list[bool]:
    """Whether each row is a leaf layer (the next row is not nested in it)."""
    depth = [_int(r.get("depth")) for r in rows]
    return [i + 1 == len(rows) or depth[i + 1] <= depth[i] for i in range(len(rows))]


def _weighted(rows: list[dict[str, Any]]) -> list[int]:
    """The rows of leaf layers with parameters."""
    return [i for i, leaf in enumerate(_leaves(rows)) if leaf and _params(rows[i]) > 0]


def _params(row: dict[str, Any]) -> int:
    return _int(row.get("params"))


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _weighted_pairs(
    student: list[dict[str, Any]], reference: list[dict[str, Any]]
) -> list[tuple[int | None, int | None]]:
    """(student row, reference row) of the layers with weights, in order: equal layers
    (type and parameters) paired, the rest n-th with n-th, a layer one side lacks alone."""
    mine, ref = _weighted(student), _weighted(reference)
    keys = [
        [(rows[i].get("layer"), _params(rows[i])) for i in idx]
        for rows, idx in ((student, mine), (reference, ref))
    ]
    pairs: list[tuple[int | None, int | None]] = []
    matcher = difflib.SequenceMatcher(None, keys[0], keys[1], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        n = min(i2 - i1, j2 - j1) if op in ("equal", "replace") else 0
        pairs += zip(mine[i1 : i1 + n], ref[j1 : j1 + n], strict=True)
        pairs += [(i, None) for i in mine[i1 + n : i2]]
        pairs += [(None, j) for j in ref[j1 + n : j2]]
    return pairs


def _row(
    a: dict[str, Any] | None, b: dict[str, Any] | None, *, weighted: bool, leaves: bool
) -> _SummaryRow:
    """A pair of rows. Layers with weights differ unless type, parameters and output shape
    agree, and one that a side lacks is marked; other rows differ only when both are leaf
    layers of one type with other output shapes (a layer one side writes as a function, or
    another nesting, is no difference)."""
    if a is None or b is None:
        differs = weighted
    elif weighted:
        differs = any(a.get(k) != b.get(k) for k in ("layer", "shape", "params"))
    else:
        differs = leaves and a.get("layer") == b.get("layer") and a.get("shape") != b.get("shape")
    depth = (a or b or {}).get("depth", 0)
    return _SummaryRow(depth if isinstance(depth, int) else 0, a, b, differs)


@dataclass
class _ExerciseView:
    ex: ExerciseResult
    number: int
    anchor: str
    score: str
    checks: list[_CheckView]
    hints: tuple[str, ...]
    error: str
    traceback: str


def _exercise_views(result: GradeResult) -> list[_ExerciseView]:
    views = []
    anchors: set[str] = set()
    for number, ex in enumerate(result.exercises, 1):
        anchor = "ex-" + re.sub(r"[^A-Za-z0-9_-]+", "-", ex.id)
        anchor = f"{anchor}-{number}" if anchor in anchors else anchor
        anchors.add(anchor)
        error = ex.error
        views.append(
            _ExerciseView(
                ex=ex,
                number=number,
                anchor=anchor,
                score=_score_cell(ex),
                checks=[_check_view(c) for c in ex.checks],
                hints=ex.hints if ex.status in HINT_STATUSES else (),
                error=_cut(clean_text(error.summary), 2000) if error else "",
                traceback=short_traceback(error.traceback) if error else "",
            )
        )
    return views


def _finalize(value: Any) -> Any:
    """Applied to every ``{{ }}`` before escaping: clean student text, never print None."""
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return clean_text(value)
    return value


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["points"] = _points
    return env


def _when(iso: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.utcoffset() == dt.timedelta(0):
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"{moment:%Y-%m-%d %H:%M %z}".strip()


def render_html(result: GradeResult) -> str:
    """One self-contained HTML page (inline CSS, no scripts) for a student or a TA; a student
    may read it, so its flags are in the student's words (``grader.flags``)."""
    try:
        template = _environment().get_template(TEMPLATE)
    except jinja2.TemplateError as exc:
        raise ReportError(f"report template {TEMPLATE} cannot be loaded: {exc}") from exc
    pct = _total_percent(result)
    return template.render(
        r=result,
        flags=for_student(result.flags),
        exercises=_exercise_views(result),
        score=_points(result.score),
        max_score=_points(result.max_score),
        pct=pct,
        bar=max(0, min(100, pct or 0)),
        counts=_counts(result),
        graded=_when(result.graded_at) if result.graded_at else "",
        runtime=f"{result.execution_time:.1f} s",
        icons=STATUS_ICONS,
        checked=checked_note(result),
        device=_device(result),
    )


def _device(result: GradeResult) -> str:
    """The device the submission trained on, as its training exercise reported it."""
    for ex in result.exercises:
        for check in ex.checks:
            device = check.details.get("device") if isinstance(check.details, dict) else None
            if isinstance(device, str) and device:
                return device
    return ""
