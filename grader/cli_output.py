"""What the ``grade`` commands print, as text and rich tables: the build's lines, a batch's
progress and totals, a regrade's changed scores. Pure formatting of the library's results:
nothing here grades, reads or writes a file.

Student ids and messages are student-controlled: every line is ``one_line`` text, every
table cell a rich ``Text`` (no markup read).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .sanitize import one_line

if TYPE_CHECKING:
    from rich.table import Table

    from .batch import BatchSummary, Event, Status
    from .build import BuiltAssignment
    from .regrade import Change, RegradeSummary

PROGRESS_CHARS = 300  # a plain progress line, cut
COUNTED: tuple[Status, ...] = ("graded", "refused", "skipped", "failed")


def build_lines(built: Sequence[BuiltAssignment], out: Path) -> list[str]:
    """A line per assignment built (its self-check's scores, the notebooks made), then the
    total."""
    lines = []
    for b in built:
        manual = f" (+{b.manual:g} for review)" if b.manual else ""
        lines.append(
            f"{b.id}: solution {b.solution_score:g}/{b.max_score:g}{manual}, "
            f"starter {b.starter_score:g} -> {b.student}, {b.solution}"
        )
        if b.students:
            checked = f"; {b.variants_checked} variants self-checked" if b.variants_checked else ""
            lines.append(
                f"{b.id}: {b.students} students' notebooks -> {out / 'student' / b.id}{checked}"
            )
    handouts = out / "handout"
    what = "assignment" if len(built) == 1 else "assignments"
    lines.append(f"Built {len(built)} {what} in {out} (hand-outs and grader in {handouts})")
    return lines


def progress_line(seen: int, total: int, event: Event) -> str:
    """One submission's line in a batch's plain progress (no terminal: a CI log)."""
    score = f" {event.score:g}/{event.max_score:g}" if event.status == "graded" else ""
    reason = f": {event.message}" if event.message and event.status != "skipped" else ""
    line = (
        f"[{seen}/{total}] {event.student or '?'} {event.assignment or '?'} "
        f"{event.status}{score}{reason}"
    )
    return one_line(line)[:PROGRESS_CHARS]


def batch_line(summary: BatchSummary) -> str:
    """How many submissions ended how, in how long."""
    counts = ", ".join(f"{summary.count(s)} {s}" for s in COUNTED)
    rate = len(summary.events) / summary.seconds if summary.seconds else 0.0
    return f"{counts} in {summary.seconds:.1f} s ({rate:.2f} per s)"


def batch_assignments(summary: BatchSummary) -> list[str]:
    """The assignments a batch saw, for its table of final scores."""
    return sorted({e.assignment for e in summary.events if e.assignment})


def batch_failure(summary: BatchSummary) -> str:
    """The error of a batch some submissions of which could not be run ("" when none)."""
    failed = [e for e in summary.events if e.status == "failed"]
    if not failed:
        return ""
    return (
        f"{len(failed)} submissions could not be run ({one_line(failed[0].message)}); "
        "run the batch again to retry them"
    )


class BatchProgress:
    """A live progress bar on a terminal; one plain line per submission otherwise (CI),
    through ``echo``."""

    def __init__(self, total: int, echo: Callable[[str], None]) -> None:
        self.total = total
        self.echo = echo
        self.seen = 0
        self.failed = 0
        self.started = 0.0
        self.bar: Any = None

    def __enter__(self) -> BatchProgress:
        self.started = time.monotonic()
        if sys.stdout.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("grading"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
            self.bar.start()
            self.task = self.bar.add_task("grading", total=self.total, counts="")
        return self

    def event(self, event: Event) -> None:
        """One submission done."""
        self.seen += 1
        self.failed += event.status in ("failed", "refused")
        if self.bar is not None:
            elapsed = time.monotonic() - self.started
            rate = self.seen / elapsed if elapsed else 0.0
            left = self.total - self.seen
            counts = f"{self.failed} failed, {left} left, {rate:.2f}/s"
            self.bar.update(self.task, completed=self.seen, counts=counts)
            return
        self.echo(progress_line(self.seen, self.total, event))

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def regrade_table(summary: RegradeSummary) -> Table | None:
    """The scores that changed, an exercise a row (None when none did)."""
    if not summary.changes:
        return None
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Scores that changed")
    for name in ("Student", "Assignment", "Attempt", "Counts", "Exercise", "Before", "After"):
        table.add_column(name)
    for change in summary.changes:
        for exercise, old, new in change.exercises or (("(total)", change.before, change.after),):
            table.add_row(
                Text(one_line(change.student)),
                change.assignment,
                Text(one_line(attempt_text(change))),
                change.counts,
                exercise,
                "-" if old is None else f"{old:g}",
                "-" if new is None else f"{new:g}",
            )
    return table


def attempt_text(change: Change) -> str:
    """Which attempt moved: ``2 of 3: alice_v2.ipynb, 2030-01-31 10:00 UTC``."""
    when = change.submitted_at
    shown = f", {when.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC" if when else ""
    return f"{change.attempt} of {change.attempts}: {change.source}{shown}"


def regrade_line(summary: RegradeSummary, reports: Path | None) -> str:
    """What a regrade did, in one line."""
    superseded = sum(c.superseded for c in summary.changes)
    return (
        f"{len(summary.changes)} submissions changed"
        + (f" ({superseded} of them superseded: another attempt counts)" if superseded else "")
        + f"; {summary.rejudged} judged again from "
        f"their stored runs, {summary.rerun} run again, in {summary.seconds:.1f} s; "
        f"{summary.reports} reports written again ({reports})"
    )


def regrade_failure(summary: RegradeSummary) -> str:
    """The error of a regrade some submissions of which could not run again ("" if none)."""
    if not summary.failed:
        return ""
    return (
        f"{summary.failed} submissions could not be run again; they keep "
        "their grading (run grade regrade again to retry)"
    )
