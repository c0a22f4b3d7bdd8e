"""The class dashboard: a class's results on one self-contained HTML page, from the gradebook.

Per assignment: a histogram of final scores (after the course's policies), each exercise's
success rate and most common wrong answers (with the known mistake each matches), the
flagged (with a roster: an edited or borrowed notebook, answers that match another
student's numbers, and whose), late and errored submissions, and a table of students
linking to the reports ``grade batch`` wrote. The table is plain HTML; a small inline
script sorts and filters it.

Student ids, file names, answers and messages are student-controlled. The page is rendered
by the HTML report's jinja2 environment (autoescape, every value cleaned); its one script is
fixed text that the page's Content-Security-Policy allows by hash, and it only reads the
page's own text and moves or hides rows: it never builds HTML.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import os
import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from ..errors import ReportError
from ..extensions import class_extensions
from ..flags import staff_note
from ..gradebook import Gradebook
from ..options import GradeOptions
from ..policies import Final, finals
from ..results import Attempt
from ..spec import Assignment, Course
from ..spec.varying import varying_exercises
from .formats import _write_atomic, report_paths
from .html import _environment
from .text import _compact, _cut, _percent

TEMPLATE = "dashboard.html.j2"
SCRIPT = "dashboard.js"  # the page's one script: plain JavaScript
BINS = 10  # histogram bars, a tenth of the points each
TOP_WRONG = 5  # wrong answers shown per exercise
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


def class_dashboard(
    course: Course,
    gradebook: Gradebook,
    assignment_ids: Sequence[str] | None,
    reports: Path,
    page: Path,
) -> Dashboard:
    """The dashboard of some assignments (None: every one with submissions). Every student
    of the gradebook has a row; report links are relative to ``page``'s folder."""
    attempts = gradebook.attempts()
    students = sorted({a.student for a in attempts if a.student})
    if assignment_ids is None:
        handed_in = {a.assignment for a in attempts}
        assignment_ids = [a.id for a in course.assignments if a.id in handed_in]
    handed = [(a.student, a.source) for a in attempts]
    extended = class_extensions(course, GradeOptions().release_dir(course), handed).dates
    views = []
    for aid in assignment_ids:
        assignment = course.assignment(aid)
        mine = [a for a in attempts if a.assignment == aid]
        views.append(
            _assignment_view(course, assignment, gradebook, mine, students, reports, page, extended)
        )
    when = dt.datetime.now(dt.timezone.utc)
    return Dashboard(course.name, f"{when:%Y-%m-%d %H:%M} UTC", tuple(views))


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


def _assignment_view(
    course: Course,
    assignment: Assignment,
    gradebook: Gradebook,
    attempts: list[Attempt],
    students: list[str],
    reports: Path,
    page: Path,
    extended: Mapping[tuple[str, str], dt.datetime],
) -> AssignmentView:
    maximum = assignment.max_score(course)
    rows = [
        f
        for f in finals(
            attempts,
            {assignment.id: assignment.due},
            {assignment.id: maximum},
            course.policies,
            students,
            extended,
        )
        if f.student  # a refused file that says no student is listed as errored only
    ]
    # grading -> exercise id -> that exercise's stored result (a dict of the GradeResult JSON)
    stored = gradebook.stored_results([f.attempt.grading for f in rows if f.attempt is not None])
    outcomes = {
        grading: {e["id"]: e for e in result.get("exercises", ())}
        for grading, result in stored.items()
    }
    # graded against per-student numbers (a roster): their wrong answers differ student by
    # student, so they are grouped by the known mistake they match instead
    varying = (
        {ex.id for ex in varying_exercises(course, assignment.id)}
        if any(result.get("variant") for result in stored.values())
        else set()
    )
    grace = dt.timedelta(minutes=course.policies.late.grace_minutes)
    table, late, flagged = [], [], []
    errored = [
        Flagged(a.student, a.source, _cut(f"refused: {a.reason}", NOTE_CHARS))
        for a in attempts
        if a.status == "refused"
    ]
    for f in rows:
        counted = f.attempt
        mine = outcomes.get(counted.grading, {}) if counted else {}
        errors = [e for e in mine.values() if e.get("status") == "error"]
        is_late = counted is not None and f.late_by > grace
        if counted is not None and is_late:
            late.append(Flagged(f.student, counted.source, _cut(f.note, NOTE_CHARS)))
        if counted is not None and errors:
            what = f"error in {', '.join(e['id'] for e in errors)}: {errors[0].get('message', '')}"
            errored.append(Flagged(f.student, counted.source, _cut(what, NOTE_CHARS)))
        if counted is not None and counted.flags:
            note = staff_note(counted.flags, counted.copied_from)
            flagged.append(Flagged(f.student, counted.source, _cut(note, 400)))
        table.append(
            StudentRow(
                student=f.student,
                score=f.raw,
                penalty=f.penalty,
                final=f.score,
                exercises=tuple(
                    counted.exercises.get(e) if counted else None for e in assignment.exercises
                ),
                status=_status(f, is_late, bool(errors), bool(counted and counted.flags)),
                note=_cut(f.note, NOTE_CHARS),
                report=_report_link(reports, page, assignment.id, counted),
            )
        )
    return AssignmentView(
        id=assignment.id,
        title=assignment.title,
        anchor="a-" + re.sub(r"[^A-Za-z0-9_-]+", "-", assignment.id),
        max_score=maximum,
        exercises=_exercise_stats(course, assignment, gradebook, outcomes, varying),
        histogram=_histogram([f.score for f in rows], maximum),
        students=tuple(table),
        late=tuple(late),
        errored=tuple(errored),
        flagged=tuple(flagged),
    )


def _exercise_stats(
    course: Course,
    assignment: Assignment,
    gradebook: Gradebook,
    outcomes: dict[int, dict[str, dict[str, Any]]],
    varying: set[str],
) -> tuple[ExerciseStats, ...]:
    """Full and partial marks per exercise, and the wrong answers students gave most often
    (their exported values, grouped by canonical JSON; model answers have no value; the
    ``varying`` exercises' by the known mistake they match)."""
    short = {
        (grading, eid): e
        for grading, mine in outcomes.items()
        for eid, e in mine.items()
        if e.get("score", 0) < e.get("points", 0)
    }
    answers = gradebook.answers(short.keys())
    wrong: dict[str, Counter[str]] = {}
    shown: dict[str, str] = {}  # canonical JSON -> the value on one line
    mistakes: dict[tuple[str, str], Counter[str]] = {}
    for (grading, eid), payload in answers.items():
        if not (isinstance(payload, dict) and payload.get("ok") is True and "value" in payload):
            continue
        mistake = short[grading, eid].get("mistake") or ""  # absent in older gradebooks
        if eid in varying:  # every student has their own numbers: group by misconception
            canonical = "mistake:" + mistake
            shown.setdefault(canonical, PER_STUDENT)
        else:
            canonical = json.dumps(payload["value"], sort_keys=True, separators=(",", ":"))
            shown.setdefault(canonical, _compact(payload["value"], ANSWER_CHARS))
        wrong.setdefault(eid, Counter())[canonical] += 1
        mistakes.setdefault((eid, canonical), Counter())[mistake] += 1
    stats = []
    for eid in assignment.exercises:
        mine = [m[eid] for m in outcomes.values() if eid in m]
        top = wrong.get(eid, Counter()).most_common(TOP_WRONG)
        stats.append(
            ExerciseStats(
                id=eid,
                title=course.exercises[eid].title,
                points=course.exercises[eid].points,
                graded=len(mine),
                full=sum(e.get("score", 0) >= e.get("points", 0) for e in mine),
                partial=sum(0 < e.get("score", 0) < e.get("points", 0) for e in mine),
                wrong=tuple(
                    WrongAnswer(shown[value], count, _mistake(mistakes[eid, value]))
                    for value, count in top
                ),
            )
        )
    return tuple(stats)


def _mistake(titles: Counter[str]) -> str:
    """The known mistake most of the students who gave an answer were told of ("" if none)."""
    named = [(count, title) for title, count in titles.items() if title]
    return max(named)[1] if named else ""


def _status(final: Final, late: bool, errors: bool, flagged: bool = False) -> str:
    if final.attempt is None:
        return "refused" if final.attempts else "absent"
    return ", ".join(["graded", *["late"] * late, *["error"] * errors, *["flagged"] * flagged])


def _histogram(scores: Sequence[float], maximum: float) -> tuple[Bar, ...]:
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


def _report_link(reports: Path, page: Path, assignment: str, attempt: Attempt | None) -> str:
    """The counted attempt's report, relative to the page and URL-quoted ("" when there is
    no such file)."""
    if attempt is None:
        return ""
    html, _ = report_paths(reports, assignment, attempt.student, attempt.sha256)
    if not html.is_file():
        return ""
    return quote(Path(os.path.relpath(html.resolve(), page.resolve().parent)).as_posix())
