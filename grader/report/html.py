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
from ..flags import for_student
from ..results import CheckResult, ExerciseResult, GradeResult
from .model_view import Summary, model_view
from .text import (
    HINT_STATUSES,
    STATUS_ICONS,
    _counts,
    _cut,
    _percent,
    _points,
    _score_cell,
    _total_percent,
    awaiting_note,
    checked_note,
    clean_text,
    headline,
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
    # PNGs shown side by side (a figure answer's and the reference's): (alt text, base64 of
    # PNG data that grader.judge.figures checked), display only
    pngs: tuple[tuple[str, str], ...] = ()


@dataclass
class _CheckView:
    check: CheckResult
    diff: _Diff | None
    figures: list[_Figure]
    summary: Summary | None


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
    pngs = details.get("figures")
    if isinstance(pngs, dict):
        shown = [(alt, pngs[side]) for side, alt in _PNG_SIDES if _base64(pngs.get(side))]
        if shown:
            caption = " and ".join(alt for alt, _ in shown)
            figures.append(_Figure(caption[0].upper() + caption[1:], None, pngs=tuple(shown)))
        if not _base64(pngs.get("student")):
            figures.append(_Figure("Your figure", None, NOT_DRAWN))
    figures = [f for f in figures if f.svg is not None or f.note or f.pngs]
    summaries = details.get("summaries")
    summary = model_view(summaries) if isinstance(summaries, dict) else None
    return _CheckView(check, _diff(check), figures, summary)


_PNG_SIDES = (("student", "your figure"), ("reference", "the reference's"))
NOT_DRAWN = (
    "Your figure was not drawn: it is too large or too slow to draw, or its drawing raised. "
    "It is judged by its data all the same."
)


def _base64(value: Any) -> bool:
    """Whether a value is base64 text (what an ``<img>``'s data URL may hold)."""
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value) is not None


def _figure(caption: str, name: str, *args: Any) -> _Figure:
    """One plot, or a note when it cannot be drawn (a report never fails for a plot)."""
    try:
        from . import plots

        svg = getattr(plots, name)(*args)
    except Exception as e:
        return _Figure(caption, None, f"The plot could not be drawn ({type(e).__name__}).")
    return _Figure(caption, Markup(svg) if svg else None)


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
    # late: the headline is the final score, after the penalty, with the raw score beside it
    final = result.final_score if result.final_score not in (None, result.score) else None
    pct = _total_percent(result) if final is None else _percent(final, result.max_score)
    shown_score, out_of = headline(result)  # a hand-out's: "9.2 / 17 checked here"
    return template.render(
        r=result,
        final=_points(final) if final is not None else None,
        flags=for_student(result.flags),
        exercises=_exercise_views(result),
        score=_points(result.score),
        max_score=_points(result.max_score),
        shown_score=shown_score,
        out_of=out_of,
        awaiting=awaiting_note(result),
        pct=pct,
        raw_pct=_total_percent(result),  # the exercises' sum, as the summary table adds up
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
