"""The class dashboard: a class's results on one self-contained HTML page.

Per assignment: a histogram of final scores (after the course's policies), each exercise's
success rate and most common wrong answers (with the known mistake each matches), the
flagged (with a roster: an edited or borrowed notebook, answers that match another
student's numbers, and whose), late and errored submissions, and a table of students
linking to the reports ``grade batch`` wrote. The table is plain HTML; a small inline
script sorts and filters it. This module holds the page's records and renders them;
``grader.dashboard_data`` reads them from the gradebook.

Student ids, file names, answers and messages are student-controlled. The page is rendered
by the HTML report's jinja2 environment (autoescape, every value cleaned); its one script is
fixed text that the page's Content-Security-Policy allows by hash, and it only reads the
page's own text and moves or hides rows: it never builds HTML.
"""

from __future__ import annotations

import base64
import hashlib
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from ..errors import ReportError
from .formats import _write_atomic
from .html import _environment
from .text import _percent

TEMPLATE = "dashboard.html.j2"
SCRIPT = "dashboard.js"  # the page's one script: plain JavaScript
BINS = 10  # histogram bars, a tenth of the points each
ANSWER_CHARS = 80  # a wrong answer, shortened for display
NOTE_CHARS = 200
PER_STUDENT = "(each student's own numbers)"  # the answer of an exercise with parameters


@dataclass(frozen=True)
class Bar:
    """One bar of the histogram: how many final scores fell between ``low`` and ``high``."""

    label: str  # the range in percent
    low: float  # points
    high: float
    count: int
    height: float  # percent of the tallest bar


@dataclass(frozen=True)
class WrongAnswer:
    """A wrong answer to an exercise, and how many students gave it."""

    value: str  # one line, shortened
    count: int
    mistake: str  # the title of the known mistake it matches, "" when none


@dataclass(frozen=True)
class ExerciseStats:
    """How the students with a graded attempt did on one exercise."""

    id: str
    title: str
    points: float
    graded: int
    full: int  # full marks
    partial: int  # some points, not all
    wrong: tuple[WrongAnswer, ...]  # the most common first

    def share(self, count: int) -> float:
        """``count`` as a percentage of the graded students (a bar's width)."""
        return 100 * count / self.graded if self.graded else 0.0

    def percent(self, count: int) -> int:
        """``count`` as a rounded percentage of the graded students (100 only when all)."""
        return _percent(count, self.graded) or 0


@dataclass(frozen=True)
class Flagged:
    """A flagged, late or errored submission, and what happened to it."""

    student: str
    source: str
    what: str


@dataclass(frozen=True)
class StudentRow:
    """One student's line in the table: the attempt that counts, after the policies."""

    student: str
    score: float
    penalty: float
    final: float
    exercises: tuple[float | None, ...]  # in the assignment's order; None without an attempt
    status: str
    note: str
    report: str  # a URL relative to the dashboard, "" when there is no report file


@dataclass(frozen=True)
class AssignmentView:
    """Everything the dashboard shows of one assignment."""

    id: str
    title: str
    anchor: str
    max_score: float
    exercises: tuple[ExerciseStats, ...]
    histogram: tuple[Bar, ...]
    students: tuple[StudentRow, ...]
    late: tuple[Flagged, ...]
    errored: tuple[Flagged, ...]
    flagged: tuple[Flagged, ...] = ()  # for the instructor: see grader.identity, copying

    @property
    def mean(self) -> float:
        """The mean final score."""
        return statistics.fmean(s.final for s in self.students) if self.students else 0.0

    @property
    def median(self) -> float:
        """The median final score."""
        return statistics.median(s.final for s in self.students) if self.students else 0.0


@dataclass(frozen=True)
class Dashboard:
    """The whole page: a course's assignments, as the gradebook has them."""

    course: str
    generated: str
    assignments: tuple[AssignmentView, ...]


def render_dashboard(board: Dashboard) -> str:
    """The page: HTML with inline CSS and one inline script, allowed by its hash."""
    env = _environment()
    try:
        assert env.loader is not None
        script = env.loader.get_source(env, SCRIPT)[0]
        template = env.get_template(TEMPLATE)
    except jinja2.TemplateError as exc:
        raise ReportError(f"dashboard template cannot be loaded: {exc}") from exc
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return template.render(d=board, script=Markup(script), script_hash=f"sha256-{digest}")


def write_dashboard(board: Dashboard, path: Path) -> None:
    """Write the page atomically."""
    _write_atomic(path, render_dashboard(board))


def histogram(scores: Sequence[float], maximum: float) -> tuple[Bar, ...]:
    """The bars of these final scores out of ``maximum``: a tenth of the points each (a
    full score in the last)."""
    counts = [0] * BINS
    for score in scores:
        share = score / maximum if maximum > 0 else 0.0
        counts[max(0, min(BINS - 1, math.floor(round(share * BINS, 9))))] += 1
    tallest = max(counts) or 1
    return tuple(
        Bar(
            f"{100 * i // BINS}–{100 * (i + 1) // BINS}%",
            maximum * i / BINS,
            maximum * (i + 1) / BINS,
            count,
            100 * count / tallest,
        )
        for i, count in enumerate(counts)
    )
