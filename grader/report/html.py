"""The HTML report: one self-contained page rendered from ``grader/templates/report.html.j2``."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..errors import ReportError
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
class _CheckView:
    check: CheckResult
    diff: _Diff | None


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
                checks=[_CheckView(c, _diff(c)) for c in ex.checks],
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
    """One self-contained HTML page (inline CSS, no scripts) for a student or a TA."""
    try:
        template = _environment().get_template(TEMPLATE)
    except jinja2.TemplateError as exc:
        raise ReportError(f"report template {TEMPLATE} cannot be loaded: {exc}") from exc
    pct = _total_percent(result)
    return template.render(
        r=result,
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
    )
