"""What the ``grade`` commands print, as text and rich tables: the build's lines, a batch's
progress and totals, a regrade's changed scores. Pure formatting of the library's results:
nothing here grades, reads or writes a file.

Student ids and messages are student-controlled: every line is ``one_line`` text, every
table cell a rich ``Text`` (no markup read).
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .batch_watch import BatchWatch, Run
from .sanitize import one_line

if TYPE_CHECKING:
    from rich.table import Table

    from .batch import BatchSummary, Event, Progress, Status
    from .build import BuiltAssignment
    from .regrade import Change, RegradeSummary

PROGRESS_CHARS = 300  # a plain progress line, cut
RUNNING_SHOWN = 6  # the longest-running submissions named on the running line
NAME_CHARS = 24  # a student id on that line, cut
PLAIN_EVERY = 30.0  # seconds between the running lines of a plain (CI) progress
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


def duration_text(seconds: float) -> str:
    """``35 s``, ``2 min 05 s``, ``1 h 02 min``."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def counts_text(watch: BatchWatch) -> str:
    """How many submissions ended how, so far (graded, then the others that some did):
    refused files are refused, not failed."""
    counts = [(watch.count(s), s) for s in COUNTED]
    return ", ".join(f"{n} {s}" for n, s in counts if n or s == "graded")


def pace_text(watch: BatchWatch) -> str:
    """The runs' real rate and the time left at that rate (``?`` until a run has ended)."""
    rate, eta = watch.rate(), watch.eta()
    if rate is None or eta is None:
        return "ETA ?"
    left = "?" if eta == float("inf") else duration_text(eta)
    return f"{rate:.2f}/s, ETA {left}"


def running_line(runs: Sequence[Run], shown: int = RUNNING_SHOWN) -> str:
    """Which submissions are running and for how long, the longest first: ``running: carol
    41 s (over the cell limit?), alice 3 s`` ("" when none)."""
    if not runs:
        return ""
    said = []
    for run in runs[:shown]:
        mark = f" ({run.mark})" if run.mark else ""
        said.append(f"{_name(run.student)} {duration_text(run.seconds)}{mark}")
    more = f", +{len(runs) - shown} more" if len(runs) > shown else ""
    return one_line("running: " + ", ".join(said) + more)[:PROGRESS_CHARS]


def progress_note(heard: Progress) -> str:
    """The line a batch's progress prints for what happened meanwhile ("" for a run that
    simply began): a lost worker, a run begun again, the backend's notices."""
    from .batch import Lost, Notice

    if isinstance(heard, Notice):
        return one_line(heard.text)
    if isinstance(heard, Lost):
        names = ", ".join(f"{_name(r.student)} ({r.assignment or '?'})" for r in heard.runs)
        count = len(heard.runs)
        line = f"worker {heard.worker} was lost with {count} submission{'s' * (count != 1)}"
        if heard.left == 0:
            line += ", and no worker is left: they wait for one (Ctrl-C stops the batch)"
        else:
            line += "; the scheduler runs them again elsewhere"
        return one_line(f"{line}: {names}")[:PROGRESS_CHARS]
    if heard.again:
        where = f" on {heard.worker}" if heard.worker else ""
        line = f"{_name(heard.student)} {heard.assignment or '?'} runs again{where}"
        line += " (its worker was lost)"
        return one_line(line)[:PROGRESS_CHARS]
    return ""


def _name(student: str) -> str:
    return one_line(student or "?")[:NAME_CHARS]


class BatchProgress:
    """A batch as it runs. On a terminal, a live bar (refused, skipped and failed counted
    apart, the real rate and ETA) and below it the submissions running and for how long;
    otherwise (a CI log) one plain line per submission, and every ``every`` seconds one of
    those running. Lost workers, re-runs and the backend's notices are a line each. Lines
    go through ``echo``; ``cell_limit`` marks a run longer than one cell may take."""

    def __init__(
        self,
        total: int,
        echo: Callable[[str], None],
        cell_limit: float | None = None,
        every: float = PLAIN_EVERY,
        terminal: bool | None = None,
    ) -> None:
        self.total = total
        self.echo = echo
        self.watch = BatchWatch(total, cell_limit)
        self.every = every
        self.terminal = sys.stdout.isatty() if terminal is None else terminal
        self.bar: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def failed(self) -> int:
        """Submissions that could not be run (refused files are not failures)."""
        return self.watch.count("failed")

    def __enter__(self) -> BatchProgress:
        if self.terminal:
            self.bar = _live_bar(self.watch)
            self.bar.start()
            self.task = self.bar.add_task("grading", total=self.total)
        elif self.every > 0:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def event(self, event: Event) -> None:
        """One submission ended."""
        self.watch.ended(event)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.watch.seen)
            return
        with self._lock:
            self.echo(progress_line(self.watch.seen, self.total, event))

    def progress(self, heard: Progress) -> None:
        """Something happened meanwhile: a run began, a worker was lost, a notice."""
        from .batch import Lost, Running

        if isinstance(heard, Running):
            self.watch.started(heard)
        elif isinstance(heard, Lost):
            self.watch.lost(heard.runs)
        line = progress_note(heard)
        if not line:
            return
        if self.bar is not None:
            from rich.text import Text

            self.bar.console.print(Text(line))
            return
        with self._lock:
            self.echo(line)

    def running_now(self) -> str:
        """The plain line of what runs now ("" when nothing does); unlike a submission's
        line it does not start with ``[``, so a log's submissions are its ``[`` lines."""
        runs = self.watch.running()
        if not runs:
            return ""
        done = f"{self.watch.seen}/{self.total} done, {pace_text(self.watch)}"
        shown = running_line(runs)[: PROGRESS_CHARS - len(done) - 2]
        return one_line(f"{shown}; {done}")

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            line = self.running_now()
            if line:
                with self._lock:
                    self.echo(line)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.bar is not None:
            self.bar.stop()


def _live_bar(watch: BatchWatch) -> Any:
    """A rich Progress whose counts, rate and ETA are read from ``watch`` at each refresh,
    with the running submissions on a line below the bar."""
    from rich.console import RenderableType
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class Said(ProgressColumn):
        def __init__(self, say: Callable[[], str]) -> None:
            super().__init__()
            self.say = say

        def render(self, task: Task) -> Text:
            return Text(self.say(), no_wrap=True, overflow="ellipsis")

    class Bar(Progress):
        def get_renderables(self) -> Iterable[RenderableType]:
            yield self.make_tasks_table(self.tasks)
            line = running_line(watch.running())
            if line:
                yield Text(line, no_wrap=True, overflow="ellipsis")

    return Bar(
        TextColumn("grading"),
        BarColumn(),
        MofNCompleteColumn(),
        Said(lambda: counts_text(watch)),
        TimeElapsedColumn(),
        Said(lambda: pace_text(watch)),
        refresh_per_second=4,
    )


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
