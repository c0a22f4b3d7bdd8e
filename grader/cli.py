"""The ``grade`` command: thin wrappers that parse options, call the library and print.

Errors: a GraderError (an operator's or course's mistake, an unreadable submission) becomes
one ``Error: ...`` line and exit code 1; anything unexpected becomes one line and exit code
2. ``--debug`` shows tracebacks instead, and the kernel's own output. Only click is imported
up front: ``grade --help`` stays fast, and a kernel starts before the heavy imports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from .distribution import VERSION
from .errors import GraderError, SpecError
from .flags import needs_student
from .limits import Limits
from .sanitize import clean_text, one_line
from .students import MAX_FILES

if TYPE_CHECKING:
    from .execute.sandbox import SandboxMode
    from .options import GradeOptions
    from .spec import Course

COURSE_FILE = "course.yaml"
DEBUG = "grade.debug"


def _error(message: str) -> None:
    """Print one error line (the only place ``Error:`` is printed)."""
    click.echo(f"Error: {one_line(message)}", err=True)


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.meta.get(DEBUG))


class _Group(click.Group):
    """A group where ``grade FILE.ipynb`` means ``grade submit FILE.ipynb``."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["submit", *args]
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as e:
            if _debug(ctx):
                raise
            if isinstance(e, GraderError):
                _error(str(e))
                ctx.exit(1)
            _error(
                f"internal error: {type(e).__name__}: {e} "
                "(run again with --debug for the traceback)"
            )
            ctx.exit(2)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[DEBUG] = True


def _debug_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_debug,
        help="Show tracebacks, and the kernel's own output.",
    )(fn)


_student_option = click.option(
    "--student",
    help="Grade as this student's (their numbers, with a roster); default: the notebook says.",
)

_course_option = click.option(
    "--course",
    "course",
    type=click.Path(dir_okay=True),
    help="course.yaml (default: found in or above the current folder)",
)


def _limit_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--sandbox, and one flag per field of Limits (they override course.yaml `limits:`)."""
    for limit in reversed(fields(Limits)):
        minimum = limit.metadata["min"]
        integer = limit.type in (int, "int")
        kind = click.IntRange(min=minimum) if integer else click.FloatRange(min=minimum)
        flag = "--" + limit.name.replace("_", "-")
        fn = click.option(flag, limit.name, type=kind, help=limit.metadata["help"])(fn)
    return click.option(
        "--sandbox",
        type=click.Choice(["auto", "require", "off"]),
        default="auto",
        show_default=True,
        help="Run kernels under bubblewrap: auto uses it when it works here (tried once) "
        "and warns loudly when not; require refuses to grade without it. In a student "
        "hand-out folder the default uses it when it works, quietly.",
    )(fn)


def _cluster_options(scheduler_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--scheduler, --certs and --insecure: which Dask cluster, and how it is reached."""

    def add(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option(
            "--insecure",
            is_flag=True,
            help="Allow a plain tcp:// scheduler on another machine (anyone who reaches it "
            "can join as a worker and make up results).",
        )(fn)
        fn = click.option(
            "--certs",
            type=click.Path(file_okay=False, path_type=Path),
            help="The cluster's certificates, made by grade cluster-certs (for tls://).",
        )(fn)
        return click.option("--scheduler", help=scheduler_help)(fn)

    return add


def _grade_options(sandbox: SandboxMode, limits: dict[str, float | None]) -> GradeOptions:
    """Grading options from the command line: only the limits that were given."""
    from .options import GradeOptions

    given = {k: v for k, v in limits.items() if v is not None}
    return GradeOptions(limits=given, sandbox=sandbox)


def _check_sandbox(mode: SandboxMode, say: bool = True) -> None:
    """Probe bubblewrap once, before anything is graded: refuse at once when ``require``
    cannot be met; with ``say``, one loud line when ``auto`` grades without it (commands
    that print no report say it here; the reports say it too)."""
    from .execute.sandbox import use_sandbox

    _, warning = use_sandbox(mode)
    if warning and say:
        click.secho(one_line(warning), err=True, fg="yellow", bold=True)


def _find_course(course: str | None, near: Path | None = None) -> Course:
    """Load the course: the given path, else course.yaml in or above the cwd or the file."""
    from .variants import load_default_course

    found = _locate_course(course, near)
    if found is None:
        raise SpecError(f"no {COURSE_FILE} found here or above; pass --course PATH")
    return load_default_course(found)


def _locate_course(course: str | None, near: Path | None = None) -> Path | None:
    if course:
        return Path(course)
    starts = [Path.cwd()] + ([near.resolve().parent] if near else [])
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / COURSE_FILE).is_file():
                return folder / COURSE_FILE
    return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, prog_name="grade")
@_debug_option
def main() -> None:
    """Grade notebook exercises: build a course, grade submissions.

    Example:

        grade build

        grade submit.ipynb
    """


@main.command("build")
@_course_option
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Release folder (default: release/ beside course.yaml).",
)
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV of the class (id, name, email): a notebook of their own numbers for each "
    "student (default: the roster of the last build, if any).",
)
@click.option(
    "--check-variants",
    type=click.IntRange(min=0),
    default=None,
    help="Run only this many students' variants in the self-check (default: every one).",
)
@_limit_options
@_debug_option
def build_cmd(
    course: str | None,
    out: str | None,
    roster: Path | None,
    check_variants: int | None,
    sandbox: SandboxMode,
    **limits: float | None,
) -> None:
    """Render student and solution notebooks, make answer keys, self-check.

    Writes release/student/<assignment>.ipynb, release/solution/<assignment>.ipynb and
    release/key/<assignment>.json; fails if a reference solution is not full marks or a
    blank starter earns points. With --roster, also release/student/<assignment>/<id>.ipynb
    (and hand-outs) for every student, with their own numbers where the exercises have
    parameters. The grader's wheel goes beside the hand-outs (release/handout/*.whl): give
    students the hand-out and the wheel, never the course's repository.

    Example:

        grade build --course course.yaml --out release/

        grade build --roster roster.csv
    """
    from .build import build
    from .roster import read_roster

    spec = _find_course(course)
    out_dir = Path(out) if out else spec.root / "release"
    options = _grade_options(sandbox, limits)
    _check_sandbox(options.sandbox)
    students = read_roster(roster) if roster else None
    built = build(spec, out_dir, options, _progress, students, check_variants)
    for b in built:
        click.echo(
            f"{b.id}: solution {b.solution_score:g}/{b.max_score:g}, "
            f"starter {b.starter_score:g} -> {b.student}, {b.solution}"
        )
        if b.students:
            checked = f"; {b.variants_checked} variants self-checked" if b.variants_checked else ""
            click.echo(
                f"{b.id}: {b.students} students' notebooks -> {out_dir / 'student' / b.id}{checked}"
            )
    handouts = out_dir / "handout"
    click.echo(f"Built {len(built)} assignments in {out_dir} (hand-outs and grader in {handouts})")


def _progress(message: str) -> None:
    click.secho(message, err=True, dim=True)


@main.command("submit")
@click.argument(
    "notebooks", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@_course_option
@click.option("--assignment", help="Assignment id, when the notebook does not say.")
@_student_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the report files (default: beside each notebook).",
)
@_limit_options
@_debug_option
@click.pass_context
def submit_cmd(
    ctx: click.Context,
    /,
    notebooks: tuple[Path, ...],
    course: str | None,
    assignment: str | None,
    student: str | None,
    out: Path | None,
    sandbox: SandboxMode,
    **limits: float | None,
) -> None:
    """Grade notebooks: print a score table, write NAME.report.html and NAME.results.json.

    With the course (course.yaml in or above the folder), every point is decided. With only
    a student hand-out (grade-handout.json beside the notebook), the public checks run and
    the report says what is decided at official grading.

    The exit code is 0 when every notebook was graded, whatever the scores, and 1 when
    one could not be graded (the others are still graded).

    Example:

        grade submit.ipynb

        grade my_work.ipynb --assignment ps1 --out reports/
    """
    from .handout import find_handout, grade_with_handout
    from .pipeline import grade

    handout = None
    if _locate_course(course, notebooks[0]) is None:
        handout = find_handout(notebooks[0])
        if handout is None:
            raise SpecError(
                f"no {COURSE_FILE} or grade-handout.json found here or above: run grade in "
                "the hand-out folder, or pass --course PATH"
            )
    spec = _find_course(course, notebooks[0]) if handout is None else None
    options = replace(_grade_options(sandbox, limits), student=student or "")
    if handout is not None and ctx.get_parameter_source("sandbox") == ParameterSource.DEFAULT:
        options = replace(options, sandbox="optional")  # the student's own code, machine
    _check_sandbox(options.sandbox, say=False)  # each table says it
    failed = 0
    for notebook in notebooks:
        try:
            if handout is not None:
                result = grade_with_handout(notebook, handout, options, _progress)
            else:
                assert spec is not None
                result = grade(notebook, spec, assignment, options, progress=_progress)
        except GraderError as e:
            if len(notebooks) == 1 or _debug(ctx):
                raise
            failed += 1
            _error(str(e))
            continue
        folder = out or notebook.parent
        _show(
            ctx,
            result,
            notebook,
            folder / f"{notebook.stem}.report.html",
            folder / f"{notebook.stem}.results.json",
        )
    if failed:
        raise GraderError(f"{failed} of {len(notebooks)} notebooks could not be graded")


def _show(ctx: click.Context, result: Any, notebook: Path, html: Path, results: Path) -> None:
    """Write a graded notebook's report and results.json, print its table (and, with --debug,
    what the kernel process wrote)."""
    from rich.console import Console

    from .report import terminal_table, write_reports

    console = Console()
    terminal_table(result, console)  # the score first: the report's plots take a moment
    write_reports(result, html, results)
    console.print(f"Report: {html}", markup=False, highlight=False)
    if needs_student(result.flags):
        click.echo(
            "Not a real grade: this course gives every student their own numbers, and the "
            "notebook does not say whose it is: pass --student ID to grade it as theirs."
        )
    if _debug(ctx):
        name = one_line(notebook.name)
        click.echo(f"Kernel output of {name} (its own stdout and stderr):", err=True)
        click.echo(clean_text(result.log) or "(nothing)", err=True)


def run() -> None:
    """The ``grade`` program: ``main``, then a quick exit.

    Everything ``grade`` made is written and closed, and its kernels stopped, by the time
    ``main`` returns; what remains is the interpreter's own teardown, which with torch and
    ZeroMQ loaded takes a noticeable part of a second. So the process ends at once (after
    flushing its output), with main's exit code. A traceback (``--debug``) still ends the
    usual way.
    """
    try:
        main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if done.code is not None and not isinstance(done.code, int):
            print(done.code, file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


_db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The gradebook (default: gradebook.db beside course.yaml).",
)


def _gradebook_path(db: Path | None, course: Course) -> Path:
    return db or course.root / "gradebook.db"


def _existing_gradebook(db: Path | None, course: Course) -> Path:
    """The gradebook to read, or a GraderError when there is none yet."""
    path = _gradebook_path(db, course)
    if not path.exists():
        raise GraderError(f"{path}: no gradebook yet (grade a batch first, or pass --db)")
    return path


def _reports_option(why: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--reports``: the folder grade batch wrote the reports into, ``why`` it is asked."""
    return click.option(
        "--reports",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=f"Where grade batch wrote the reports, {why} (default: reports/ beside course.yaml).",
    )


def _reports_folder(given: Path | None, course: Course) -> Path:
    """Where batch reports go: the given folder, else reports/ beside course.yaml."""
    return given or course.root / "reports"


@main.command("batch")
@click.argument("submissions", type=click.Path(path_type=Path))
@_course_option
@click.option("--assignment", help="Assignment id (default: each notebook says).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Submissions graded at once (default: the number of cores).",
)
@_db_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for every submission's report (default: reports/ beside course.yaml).",
)
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV of name,student: maps file or LMS names to student ids.",
)
@click.option(
    "--submitted-at",
    help="When every file was handed in (ISO 8601; default: the zip's or the files' times).",
)
@click.option(
    "--max-files-per-student",
    type=click.IntRange(min=1),
    default=MAX_FILES,
    show_default=True,
    help="Files of one student read in one batch; the rest are refused, in one row.",
)
@click.option("--regrade", is_flag=True, help="Grade again what the gradebook already has.")
@_cluster_options("A Dask scheduler's address (tls://host:8786).")
@_limit_options
@_debug_option
def batch_cmd(
    submissions: Path,
    course: str | None,
    assignment: str | None,
    workers: int | None,
    db: Path | None,
    out: Path | None,
    roster: Path | None,
    submitted_at: str | None,
    max_files_per_student: int,
    regrade: bool,
    scheduler: str | None,
    certs: Path | None,
    insecure: bool,
    sandbox: SandboxMode,
    **limits: float | None,
) -> None:
    """Grade a whole class: a folder of notebooks or an LMS zip, into the gradebook.

    Notebooks are named by student (alice.ipynb, alice/ps1.ipynb, or Canvas's
    name_userid_submissionid_file.ipynb). Each gets its own sandboxed kernel; kernels are
    started and warmed up ahead. Re-running grades only what is new or changed.

    Example:

        grade batch submissions.zip --assignment ps1 --workers 4

        grade batch submissions.zip --scheduler tls://10.0.0.5:8786 --certs certs
    """
    import datetime as dt

    from .batch import BatchOptions, grade_batch
    from .gradebook import Gradebook
    from .intake import collect, read_roster
    from .roster import class_ids

    spec = _find_course(course)
    if assignment is not None:
        spec.assignment(assignment)
    if scheduler is None:  # on a cluster, the workers' machines run the kernels
        _check_sandbox(sandbox)
    when = None
    if submitted_at:
        try:
            when = dt.datetime.fromisoformat(submitted_at)
        except ValueError:
            raise GraderError(f"--submitted-at: {submitted_at!r} is not an ISO 8601 time") from None
        when = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    reports = _reports_folder(out, spec)
    options = BatchOptions(  # checks the scheduler before anything is read or written
        workers=workers or os.cpu_count() or 1,
        assignment=assignment,
        regrade=regrade,
        scheduler=scheduler,
        reports=reports,
        certs=certs,
        insecure=insecure,
    )
    found = collect(
        submissions,
        reports / "submissions",
        read_roster(roster) if roster else None,
        when,
        class_ids(_grade_options(sandbox, limits).release_dir(spec)),
        max_files_per_student,
    )
    path = _gradebook_path(db, spec)
    # the cores shared out: kernels running side by side do not fight over them
    grading = replace(
        _grade_options(sandbox, limits), threads=max(1, (os.cpu_count() or 1) // options.workers)
    )
    with Gradebook(path) as gradebook, _BatchProgress(len(found)) as progress:
        summary = grade_batch(spec, found, gradebook, grading, options, progress.event)
    counts = ", ".join(
        f"{summary.count(s)} {s}" for s in ("graded", "refused", "skipped", "failed")
    )
    rate = len(summary.events) / summary.seconds if summary.seconds else 0.0
    click.echo(f"{counts} in {summary.seconds:.1f} s ({rate:.2f} per s)")
    assignments = sorted({e.assignment for e in summary.events if e.assignment})
    _print_finals(spec, path, assignments)
    click.echo(f"Gradebook: {path}")
    click.echo(f"Reports: {reports}")
    failed = [e for e in summary.events if e.status == "failed"]
    if failed:
        raise GraderError(
            f"{len(failed)} submissions could not be run ({one_line(failed[0].message)}); "
            "run the batch again to retry them"
        )


class _BatchProgress:
    """A live progress bar on a terminal; one plain line per submission otherwise (CI)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.seen = 0
        self.failed = 0
        self.started = 0.0
        self.bar: Any = None

    def __enter__(self) -> _BatchProgress:
        import time

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

    def event(self, event: Any) -> None:
        import time

        self.seen += 1
        self.failed += event.status in ("failed", "refused")
        elapsed = time.monotonic() - self.started
        rate = self.seen / elapsed if elapsed else 0.0
        left = self.total - self.seen
        counts = f"{self.failed} failed, {left} left, {rate:.2f}/s"
        if self.bar is not None:
            self.bar.update(self.task, completed=self.seen, counts=counts)
            return
        score = f" {event.score:g}/{event.max_score:g}" if event.status == "graded" else ""
        reason = f": {event.message}" if event.message and event.status != "skipped" else ""
        line = (
            f"[{self.seen}/{self.total}] {event.student or '?'} {event.assignment or '?'} "
            f"{event.status}{score}{reason}"
        )
        click.echo(one_line(line)[:300])

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _print_finals(course: Course, db: Path, assignments: list[str]) -> None:
    from rich.console import Console

    from .finals import class_finals
    from .gradebook import Gradebook
    from .report.classes import finals_table

    chosen = [a.id for a in course.assignments if a.id in assignments]
    with Gradebook(db) as gradebook:
        found = class_finals(course, gradebook, chosen, _release(course))
    finals_table(found.rows, Console(), title=f"{course.name}: final scores")
    _warn(found.warnings)


def _release(course: Course) -> Path:
    from .options import GradeOptions

    return GradeOptions().release_dir(course)


def _warn(warnings: Sequence[str]) -> None:
    """Each warning on a line of its own, on stderr (an export to stdout stays clean)."""
    for warning in warnings:
        click.echo(f"Warning: {one_line(warning)}", err=True)


@main.command("gradebook")
@_course_option
@click.option("--assignment", help="Only this assignment.")
@_db_option
@_debug_option
def gradebook_cmd(course: str | None, assignment: str | None, db: Path | None) -> None:
    """Print the class table: every student's final score after the course's policies.

    Example:

        grade gradebook --assignment ps1
    """
    spec = _find_course(course)
    path = _existing_gradebook(db, spec)
    ids = [spec.assignment(assignment).id] if assignment else [a.id for a in spec.assignments]
    _print_finals(spec, path, ids)


@main.command("regrade")
@_course_option
@click.option("--assignment", help="Only this assignment.")
@_db_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Submissions run again at once, when a change needs that (default: the cores).",
)
@_cluster_options("A Dask scheduler's address, for what must run again.")
@_reports_option("to bring them up to date")
@_limit_options
@_debug_option
def regrade_cmd(
    course: str | None,
    assignment: str | None,
    db: Path | None,
    workers: int | None,
    scheduler: str | None,
    reports: Path | None,
    certs: Path | None,
    insecure: bool,
    sandbox: SandboxMode,
    **limits: float | None,
) -> None:
    """Bring the gradebook and the reports up to the current course, and list every score
    that changed.

    A change to points, tolerances, hints, checks or reference values is applied by judging
    the stored runs again (no notebook runs); a change to a setup, a starter a submission
    relied on, or the limits runs the submissions it affects again. Every report that would
    now say something else is written again.

    Example:

        grade regrade --assignment ps1
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .batch import BatchOptions
    from .gradebook import Gradebook
    from .regrade import regrade

    spec = _find_course(course)
    if assignment is not None:
        spec.assignment(assignment)
    path = _existing_gradebook(db, spec)
    if scheduler is None:
        _check_sandbox(sandbox)
    batch = BatchOptions(
        workers=workers or os.cpu_count() or 1,
        scheduler=scheduler,
        reports=_reports_folder(reports, spec),
        certs=certs,
        insecure=insecure,
    )
    with Gradebook(path) as gradebook:
        summary = regrade(spec, gradebook, _grade_options(sandbox, limits), assignment, batch)
    table = Table(title="Scores that changed")
    for name in ("Student", "Assignment", "Exercise", "Before", "After"):
        table.add_column(name)
    for change in summary.changes:
        for exercise, old, new in change.exercises or (("(total)", change.before, change.after),):
            table.add_row(
                Text(one_line(change.student)),
                change.assignment,
                exercise,
                "-" if old is None else f"{old:g}",
                "-" if new is None else f"{new:g}",
            )
    if summary.changes:
        Console().print(table)
    click.echo(
        f"{len(summary.changes)} submissions changed; {summary.rejudged} judged again from "
        f"their stored runs, {summary.rerun} run again, in {summary.seconds:.1f} s; "
        f"{summary.reports} reports written again ({batch.reports})"
    )
    if summary.failed:
        raise GraderError(
            f"{summary.failed} submissions could not be run again; they keep "
            "their grading (run grade regrade again to retry)"
        )


@main.command("export")
@_course_option
@click.option(
    "--format",
    "format_",
    type=click.Choice(["csv", "gradescope", "junit"]),
    default="csv",
    show_default=True,
    help="csv: a grades table; gradescope: results.json per student; junit: one XML file.",
)
@click.option("--assignment", help="Only this assignment.")
@_db_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="File (csv, junit) or folder (gradescope); default grades.csv, gradescope/, "
    "grades.xml. csv: - for standard output.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse to export (exit 1) when a grading is older than the course or an "
    "extension names no student; by default each is a warning.",
)
@_debug_option
def export_cmd(
    course: str | None,
    format_: str,
    assignment: str | None,
    db: Path | None,
    out: Path | None,
    strict: bool,
) -> None:
    """Export the gradebook, final scores after the course's policies.

    A grading judged against an older version of the course (run grade regrade) or an
    extension that names no student is a warning on stderr; --strict refuses instead.

    Example:

        grade export --format csv --assignment ps1 --out ps1-grades.csv
    """
    from .finals import class_finals
    from .gradebook import Gradebook
    from .report.exports import final_result, grades_csv, write_gradescope, write_junit
    from .report.formats import _write_atomic

    spec = _find_course(course)
    path = _existing_gradebook(db, spec)
    chosen = [spec.assignment(assignment)] if assignment else list(spec.assignments)
    with Gradebook(path) as gradebook:
        found = class_finals(spec, gradebook, [a.id for a in chosen], _release(spec), True)
        if strict and found.warnings:
            raise GraderError(f"not exported: {'; '.join(found.warnings)}")
        _warn(found.warnings)
        rows = found.rows
        counted = {
            (f.student, f.assignment): final_result(result, f)
            for f in rows
            if f.attempt is not None and (result := gradebook.result(f.attempt.grading))
        }
    if format_ == "csv":
        text = grades_csv(rows, {a.id: list(a.exercises) for a in chosen})
        if out is not None and str(out) == "-":
            click.echo(text, nl=False)
            return
        target = out or Path("grades.csv")
        _write_atomic(target, text)
    elif format_ == "gradescope":
        target = out or Path("gradescope")
        for a in chosen:
            mine = {s: r for (s, aid), r in counted.items() if aid == a.id}
            write_gradescope(mine, target / a.id if len(chosen) > 1 else target)
    else:
        target = out or Path("grades.xml")
        write_junit([counted[k] for k in sorted(counted)], target)
    click.echo(f"Wrote {target}")


@main.command("dashboard")
@_course_option
@click.option("--assignment", help="Only this assignment (default: each one with submissions).")
@_db_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("dashboard.html"),
    show_default=True,
    help="The HTML page to write.",
)
@_reports_option("for the links")
@_debug_option
def dashboard_cmd(
    course: str | None, assignment: str | None, db: Path | None, out: Path, reports: Path | None
) -> None:
    """Write the class dashboard: one self-contained HTML page from the gradebook.

    Per assignment: a histogram of final scores (after the course's policies), each
    exercise's success rate and most common wrong answers (with the known mistake each
    matches), late and errored submissions, and a sortable, filterable table of students
    with a link to each report.

    Example:

        grade dashboard --assignment ps1 --out class.html
    """
    from .gradebook import Gradebook
    from .report.dashboard import class_dashboard, write_dashboard

    spec = _find_course(course)
    ids = [spec.assignment(assignment).id] if assignment else None
    path = _existing_gradebook(db, spec)
    with Gradebook(path) as gradebook:
        board = class_dashboard(spec, gradebook, ids, _reports_folder(reports, spec), out)
    write_dashboard(board, out)
    click.echo(f"Wrote {out}")


@main.command("ci")
@click.argument("notebook", type=click.Path(path_type=Path))
@_course_option
@click.option("--assignment", help="Assignment id, when the notebook does not say.")
@_student_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("grade-results"),
    show_default=True,
    help="Folder for report.html, results.json and junit.xml.",
)
@click.option(
    "--results",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the Gradescope results.json here, even when the notebook cannot be graded.",
)
@click.option(
    "--release",
    type=click.Path(file_okay=False, path_type=Path),
    help="The release folder holding the answer keys (default: release/ beside course.yaml).",
)
@click.option(
    "--fail-under",
    metavar="SCORE",
    help="Exit 1 when the score is under SCORE points (or a percentage: 80%).",
)
@click.option(
    "--gradescope-metadata",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Gradescope's submission_metadata.json: with a roster, the submitter is the "
    "student graded.",
)
@_limit_options
@_debug_option
@click.pass_context
def ci_cmd(
    ctx: click.Context,
    /,
    notebook: Path,
    course: str | None,
    assignment: str | None,
    student: str | None,
    out: Path,
    results: Path | None,
    release: Path | None,
    fail_under: str | None,
    gradescope_metadata: Path | None,
    sandbox: SandboxMode,
    **limits: float | None,
) -> None:
    """Grade one notebook in a CI job: reports, JUnit XML, a step summary, annotations.

    NOTEBOOK may be a folder (Gradescope's submission): the notebook graded is
    ASSIGNMENT.ipynb in it, else its only notebook (never a link or a hidden file).

    Writes OUT/report.html, OUT/results.json and OUT/junit.xml; appends a Markdown summary
    to $GITHUB_STEP_SUMMARY when it is set, and prints annotations on GitHub Actions. The
    exit code is 0 whenever grading happened, unless --fail-under says otherwise.

    Example:

        grade ci submission.ipynb --fail-under 80%
    """
    from dataclasses import replace as _replace

    from .ci import below_threshold, github_annotations, markdown_summary
    from .pipeline import grade
    from .report import junit_xml
    from .report.formats import _write_atomic

    options = _replace(_grade_options(sandbox, limits), release=release, student=student or "")
    flags: tuple[str, ...] = ()
    try:
        spec = _find_course(course, notebook)
        if notebook.is_dir():
            from .gradescope import pick_notebook

            notebook = pick_notebook(notebook, assignment)
        if gradescope_metadata is not None and not student:
            from .gradescope import submitter

            who = submitter(options.release_dir(spec), gradescope_metadata)
            options, flags = _replace(options, student=who.student), who.flags
        result = grade(notebook, spec, assignment, options, progress=_progress)
        result = _replace(result, flags=flags + result.flags)
    except GraderError as e:
        if results is not None:  # the student still gets a results.json that says why
            import json

            refused = {"score": 0, "output": f"Your notebook could not be graded: {e}", "tests": []}
            from .report.formats import _json_safe

            _write_atomic(results, json.dumps(_json_safe(refused), indent=2) + "\n")
        raise
    _show(ctx, result, notebook, out / "report.html", out / "results.json")
    _write_atomic(out / "junit.xml", junit_xml(result))
    if results is not None:
        from .report import write_reports

        write_reports(result, out / "report.html", results, staff=True)  # Gradescope's
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(markdown_summary(result))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in github_annotations(result, str(notebook)):
            click.echo(line)
    reason = below_threshold(result, fail_under)
    if reason:
        raise GraderError(reason)


@main.command("init-ci")
@click.option("--github", "kind", flag_value="github", help="A GitHub Actions workflow.")
@click.option("--gitlab", "kind", flag_value="gitlab", help="A GitLab CI pipeline.")
@_course_option
@click.option("--force", is_flag=True, help="Replace a workflow that is already there.")
@_debug_option
def init_ci_cmd(kind: str | None, course: str | None, force: bool) -> None:
    """Write the grading workflow of a course repository (see the comments in it).

    The workflow runs in the instructors' repository, where the answer keys are made and
    stay; never put it, a key or the solutions in a repository students can push to.

    Example:

        grade init-ci --github
    """
    from .ci import write_workflow

    if kind is None:
        raise click.UsageError("choose --github or --gitlab")
    spec = _find_course(course)
    path = write_workflow(kind, spec.root, force)
    click.echo(f"Wrote {path}")


@main.command("fetch-repos")
@click.option(
    "--repos",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The bare clones, REPOS/owner/name.git (made by the workflow's git-only step).",
)
@click.option(
    "--students",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("students.txt"),
    show_default=True,
    help="One repository a line: owner/name (the student is the owner), or 'id owner/name'.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("submissions"),
    show_default=True,
    help="Where each student's folder is written (and replaced).",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The fetch log (keep it with the gradebook): what earlier fetches saw, which "
    "bounds each hand-in time.",
)
@_debug_option
def fetch_repos_cmd(repos: Path, students: Path, out: Path, state: Path | None) -> None:
    """Take the students' notebooks out of bare clones of their repositories.

    Only regular *.ipynb files at the top of each repository's default branch are taken,
    size-capped, with no link followed; each file's time is its hand-in time (the last
    commit that touched it, within what the fetches saw). Run it where the token that
    cloned the repositories is not.

    Example:

        grade fetch-repos --repos repos --students students.txt --out submissions
    """
    from .repos import fetch_notebooks

    for fetched in fetch_notebooks(repos, students, out, state):
        for line in fetched.lines():
            click.echo(one_line(line))


@main.command("cluster-certs")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--days", type=click.IntRange(min=1), default=365, show_default=True, help="Validity."
)
@_debug_option
def cluster_certs_cmd(folder: Path, days: int) -> None:
    """Make the TLS certificates of a Dask cluster: a new CA, and a certificate and key each
    for the scheduler, the workers and the client (grade batch --certs FOLDER).

    Example:

        grade cluster-certs certs
    """
    from .backends.certs import make_certificates

    written = make_certificates(folder, days)
    click.echo(f"Wrote {', '.join(p.name for p in written)} in {folder}")
    click.echo(
        "The scheduler gets ca.pem and scheduler*.pem, each worker ca.pem and worker*.pem; "
        "grade batch --certs reads ca.pem and client*.pem. Keep the keys private."
    )


@main.command("gradescope")
@click.argument("assignment")
@_course_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The autograder zip (default: autograder-<assignment>.zip).",
)
@_debug_option
def gradescope_cmd(assignment: str, course: str | None, out: Path | None) -> None:
    """Write a Gradescope autograder (setup.sh, run_autograder) for one assignment.

    Upload the zip as a Gradescope "zip file upload" autograder: it grades the student's
    notebook with this grader and writes /autograder/results/results.json. It always grades
    in the sandbox (--sandbox require): the answer key and the course secret are on that
    machine.

    Example:

        grade gradescope ps1 --out autograder.zip
    """
    from .gradescope import build_autograder
    from .options import GradeOptions

    spec = _find_course(course)
    target = out or Path(f"autograder-{spec.assignment(assignment).id}.zip")
    build_autograder(spec, assignment, target, GradeOptions())
    click.echo(f"Wrote {target}")
