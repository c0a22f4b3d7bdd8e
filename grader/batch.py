"""A whole class at once: submissions -> runs on a backend -> judged -> the gradebook.

The same pipeline as one ``grade``: each submission is read, assembled, run in a fresh
sandboxed kernel of its own, and judged against the answer key; only the kernels are started
ahead (``backends.local``) or elsewhere (``backends.dask``). This process plans the jobs a few
at a time, judges each run as it comes back and records it at once, in one transaction:
an interrupted batch loses nothing already graded, and a re-run grades only what is new or
changed (a submission is its student, assignment and content hash).

What happens meanwhile can be watched (``on_progress``): each submission as its run begins
(where, and whether it runs again after its worker was lost), each lost worker, and the
backend's notices; the command line shows them (``cli_output.BatchProgress``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from .assemble import Assembled, warm_steps
from .backends import Backend, Job, RunEvent, Started
from .backends.cluster import Cluster, cluster
from .errors import ExecutionError, SubmissionError
from .execute import ExecOptions
from .extensions import class_extensions
from .flags import staff_note
from .gradebook import Gradebook
from .grading import AgainstKey, Submitted, given, grade_one, submitted, which_assignment
from .identity import Identity
from .intake import Submission
from .key import AnswerKey
from .keymaker import answer_key
from .notebooks import parse_notebook
from .options import GradeOptions
from .policies import late_by, penalised
from .results import GradeResult, Lateness
from .runners import ran
from .spec import Course
from .workers import default_workers, kernel_threads

Status = Literal["graded", "refused", "skipped", "failed"]


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs (grading options, such as limits, are a GradeOptions)."""

    workers: int = field(default_factory=default_workers)
    assignment: str | None = None  # else each notebook says, or its file name
    regrade: bool = False  # grade again what the gradebook already has
    scheduler: str | None = None  # a Dask scheduler's address, else this machine
    reports: Path | None = None  # a folder for each submission's HTML report and results.json
    certs: Path | None = None  # the cluster's certificates (grade cluster-certs), for tls://
    insecure: bool = False  # allow plain tcp:// to a scheduler on another machine

    def __post_init__(self) -> None:
        self.cluster()  # a scheduler that may not be used is refused before anything runs

    def cluster(self) -> Cluster | None:
        """The Dask cluster to run on (checked), or None for this machine."""
        return cluster(self.scheduler, self.certs, self.insecure) if self.scheduler else None


@dataclass(frozen=True)
class Event:
    """What became of one submission."""

    student: str
    source: str
    assignment: str
    status: Status
    score: float = 0.0
    max_score: float = 0.0
    message: str = ""


@dataclass(frozen=True)
class Running:
    """A submission whose run began (on ``worker``, "" here); ``again``: it began before, on
    a worker since lost."""

    student: str
    source: str
    assignment: str
    worker: str = ""
    again: bool = False


@dataclass(frozen=True)
class Lost:
    """A cluster's worker was lost with these runs (begun or waiting there); the scheduler
    runs them again elsewhere. ``left``: the workers the cluster has still (None: unknown)."""

    worker: str
    runs: tuple[Running, ...] = ()
    left: int | None = None


@dataclass(frozen=True)
class Notice:
    """A line for the operator from the backend (e.g. the sandbox it could not use)."""

    text: str


Progress = Running | Lost | Notice


@dataclass(frozen=True)
class BatchSummary:
    """Every submission's event, and the batch's wall time."""

    events: tuple[Event, ...]
    seconds: float
    notices: tuple[str, ...] = ()  # for the operator: what the backend found (one line each)

    def count(self, status: Status) -> int:
        """How many submissions ended so."""
        return sum(e.status == status for e in self.events)


@dataclass(frozen=True)
class _Planned:
    """A submission as intake handed it in, and as read for grading."""

    submission: Submission
    submitted: Submitted

    @property
    def assignment(self) -> str:
        return self.submitted.assignment

    @property
    def assembled(self) -> Assembled:
        return self.submitted.assembled

    @property
    def course(self) -> Course:  # as the student's variant has it
        return self.submitted.course

    @property
    def identity(self) -> Identity:
        return self.submitted.identity


def grade_batch(
    course: Course,
    submissions: Sequence[Submission],
    gradebook: Gradebook,
    options: GradeOptions = GradeOptions(),
    batch: BatchOptions = BatchOptions(),
    on_event: Callable[[Event], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> BatchSummary:
    """Grade every submission into the gradebook; returns what became of each. ``on_event``
    hears of each submission as it ends, ``on_progress`` of what happens meanwhile."""
    started = time.monotonic()
    if not options.threads and batch.scheduler is None:  # the kernels share this machine
        options = replace(options, threads=kernel_threads(batch.workers))
    exec_options = options.exec_options(course)
    # the reports' late penalties: with a roster, an extension that names nobody stops here
    handed_in = [(s.student, s.source) for s in submissions]
    handed_in += [(a.student, a.source) for a in gradebook.attempts()]
    extended = class_extensions(course, options.release_dir(course), handed_in).dates
    events: list[Event] = []
    keys: dict[tuple[str, str], AnswerKey] = {}
    planned: dict[str, _Planned] = {}

    def emit(event: Event) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    local = batch.scheduler is None  # this machine's kernels: the reference is at hand

    def jobs() -> Iterator[Job]:
        for index, s in enumerate(submissions):
            plan = _plan(course, s, gradebook, batch, options, emit)
            if plan is None:
                continue
            variant = (plan.assignment, plan.course.variant)
            if variant not in keys:
                keys[variant] = answer_key(plan.course, plan.assignment, options)
            key = f"{index}:{s.source}"
            planned[key] = plan
            steps = plan.assembled.steps
            # here, the kernels' follow-ups shrink property failures (a cluster's cannot)
            follow = AgainstKey(options).follow_up(plan.submitted) if local else None
            yield Job(key, steps, exec_options, warm_steps(plan.course, steps), follow)

    def watch(heard: RunEvent) -> None:
        if on_progress is None:
            return
        if isinstance(heard, Started):  # a job not yet back (the backends tell no other)
            plan = planned.get(heard.job.key)
            if plan is not None:
                s = plan.submission
                again = heard.again
                on_progress(Running(s.student, s.source, plan.assignment, heard.worker, again))
        else:
            plans = [planned[j.key] for j in heard.jobs if j.key in planned]
            runs = (
                Running(p.submission.student, p.submission.source, p.assignment, heard.worker)
                for p in plans
            )
            on_progress(Lost(heard.worker, tuple(runs), heard.left))

    backend = _backend(batch, exec_options)
    if on_progress is not None:
        for notice in backend.notices:
            on_progress(Notice(notice))
    try:
        for job, outcome in backend.run(jobs(), watch):
            plan = planned.pop(job.key)
            s = plan.submission
            if isinstance(outcome, ExecutionError):
                emit(Event(s.student, s.source, plan.assignment, "failed", message=str(outcome)))
                continue
            key = keys[(plan.assignment, plan.course.variant)]
            judging = AgainstKey(options, key_of=given(key))
            record = grade_one(plan.submitted, options, ran(outcome), judging)
            result = record.result
            grading = gradebook.record(s, plan.assignment, record)
            if batch.reports is not None:  # with the reviews of unchanged answers
                shown = report_view(course, gradebook.result(grading) or result, s, extended)
                write_reports_of(shown, s, plan.assignment, batch.reports)
            flags = staff_note(result.flags, result.copied_from)
            emit(
                Event(
                    s.student,
                    s.source,
                    plan.assignment,
                    "graded",
                    result.score,
                    result.max_score,
                    f"flagged: {flags}" if flags else "",
                )
            )
    finally:
        backend.close()
    return BatchSummary(tuple(events), time.monotonic() - started, backend.notices)


def _plan(
    course: Course,
    s: Submission,
    gradebook: Gradebook,
    batch: BatchOptions,
    options: GradeOptions,
    emit: Callable[[Event], None],
) -> _Planned | None:
    """Read and assemble one submission (with its student's numbers); record it now if it
    cannot be graded at all."""
    assignment = batch.assignment or ""
    if not s.problem and s.path is not None:
        name = Path(s.source.rpartition("!")[2])
        try:  # the bytes intake hashed (its own copy, checked): graded as they were timed
            nb = parse_notebook(s.read(), name.name)
            assignment, notices = which_assignment(course, nb, name, batch.assignment)
        except SubmissionError as e:
            problem = str(e)
        else:
            if not batch.regrade and gradebook.current(s.student, assignment, s.sha256):
                emit(Event(s.student, s.source, assignment, "skipped", message="graded before"))
                return None
            noticed = (*s.notices, *notices)
            mine = submitted(course, assignment, nb, s.source, options, s.student, noticed, s.flags)
            if mine.identity.student:  # as the release's roster spells them
                s = replace(s, student=mine.identity.student)
            return _Planned(s, mine)
    else:
        problem = s.problem
    refused_key = s.sha256 or "refused:" + s.source
    if not batch.regrade and gradebook.current(s.student, assignment or None, refused_key):
        emit(Event(s.student, s.source, assignment, "skipped", message="refused before"))
        return None
    gradebook.record(s, assignment, problem)
    emit(Event(s.student, s.source, assignment, "refused", message=problem))
    return None


def _backend(batch: BatchOptions, options: ExecOptions) -> Backend:
    on = batch.cluster()
    if on is not None:
        from .backends.dask import DaskBackend

        return DaskBackend(on, options.sandbox)
    from .backends.local import LocalBackend

    return LocalBackend(batch.workers)


def report_view(
    course: Course,
    result: GradeResult,
    s: Submission,
    extended: Mapping[tuple[str, str], dt.datetime],
) -> GradeResult:
    """The result as its report shows it: whose it is, and the late policy's word on it, with
    the student's extension (``extended``, see ``grader.extensions``); the gradebook keeps
    the raw result, finals are computed from it when asked."""
    due = course.assignment(result.assignment).due
    due = extended.get((s.student, result.assignment), due)
    final, note = penalised(result.score, late_by(s.submitted_at, due), course.policies.late)
    who = replace(result.who, student=s.student)
    return GradeResult.of(result.judged, who, Lateness(note, final))


def write_reports_of(
    result: GradeResult, s: Submission, assignment: str, folder: Path, if_changed: bool = False
) -> bool:
    """Write a submission's report (``if_changed``: only where it would say something else);
    returns whether anything was written."""
    from .report import write_reports
    from .report.formats import report_paths

    paths = report_paths(folder, assignment, s.student, s.sha256)
    return write_reports(result, *paths, if_changed=if_changed)
