"""A batch while it runs: how many submissions ended how, which are running and for how long,
and when the batch will end, from the real rate of its runs.

Fed with the batch's own records (``Running`` as a run begins, ``Event`` as a submission
ends) and read by the progress display at any moment, from another thread too (a lock
guards the state). The clock is given, so tests can set it. The rate is that of the runs
that ended lately, over the time they took with as many running at once as the backend
runs (what was measured, never a guess): skipped and refused submissions end at once and do
not count in it, so a batch that skips its first 50 does not promise to end in a second.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .batch import Event, Running, Status

RATE_RUNS = 20  # the rate is measured over the last runs that ended
SLOW_FACTOR = 3.0  # a run this many times as long as the median finished run is slow,
SLOW_SECONDS = 2.0  # and at least this long
OVER_LIMIT = "over the cell limit?"


@dataclass(frozen=True)
class Run:
    """A submission running now: for how long, and whether that looks wrong (``mark``)."""

    student: str
    assignment: str
    seconds: float
    mark: str = ""  # "", "slow" or OVER_LIMIT
    worker: str = ""


class BatchWatch:
    """The state of one batch's display (see the module's docstring)."""

    def __init__(
        self,
        total: int,
        cell_limit: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.cell_limit = cell_limit
        self.clock = clock
        self._counts: Counter[str] = Counter()
        self._running: dict[tuple[str, str], tuple[Running, float]] = {}
        self._durations: list[float] = []
        self._ends: deque[float] = deque(maxlen=RATE_RUNS + 1)  # when the last runs ended
        self._first_start: float | None = None
        self._lock = threading.Lock()

    def started(self, run: Running) -> None:
        """A submission's run began (again, after a lost worker: its time starts afresh)."""
        now = self.clock()
        with self._lock:
            self._running[(run.student, run.source)] = (run, now)
            if self._first_start is None:
                self._first_start = now

    def lost(self, runs: Iterable[Running]) -> None:
        """Runs whose worker was lost: they no longer run (until they begin again)."""
        with self._lock:
            for run in runs:
                self._running.pop((run.student, run.source), None)

    def ended(self, event: Event) -> None:
        """A submission ended so (a run, or a skip or refusal that never ran)."""
        now = self.clock()
        with self._lock:
            self._counts[event.status] += 1
            began = self._running.pop((event.student, event.source), None)
            if began is not None:
                self._durations.append(now - began[1])
                self._ends.append(now)

    def count(self, status: Status) -> int:
        """How many submissions ended so."""
        with self._lock:
            return self._counts[status]

    @property
    def seen(self) -> int:
        """How many submissions ended, however."""
        with self._lock:
            return sum(self._counts.values())

    def rate(self) -> float | None:
        """Runs ended per second, lately (None until one has)."""
        with self._lock:
            return self._rate(self.clock())

    def eta(self) -> float | None:
        """Seconds until every submission has ended, at the current rate (None until a run
        has ended)."""
        with self._lock:
            rate = self._rate(self.clock())
            left = self.total - sum(self._counts.values())
        if rate is None:
            return None
        return left / rate if rate > 0 else float("inf")

    def running(self) -> list[Run]:
        """The submissions running now, the longest first."""
        now = self.clock()
        with self._lock:
            median = statistics.median(self._durations) if self._durations else None
            found = [
                Run(r.student, r.assignment, now - since, self._mark(now - since, median), r.worker)
                for r, since in self._running.values()
            ]
        return sorted(found, key=lambda r: -r.seconds)

    def _rate(self, now: float) -> float | None:
        if not self._ends or self._first_start is None:
            return None
        if len(self._durations) <= RATE_RUNS:  # every run so far, since the first began
            runs, since = len(self._durations), self._first_start
        else:  # the last RATE_RUNS, since the one before them ended
            runs, since = RATE_RUNS, self._ends[0]
        return runs / max(now - since, 1e-9)

    def _mark(self, seconds: float, median: float | None) -> str:
        if self.cell_limit is not None and seconds > self.cell_limit:
            return OVER_LIMIT
        if median is not None and seconds >= SLOW_SECONDS and seconds > SLOW_FACTOR * median:
            return "slow"
        return ""
