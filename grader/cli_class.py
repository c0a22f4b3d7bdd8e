"""The ``grade`` commands over a class's gradebook: batch, gradebook, regrade, export,
dashboard. Each parses its options, calls the library and prints (see ``grader.cli``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .cli_options import (
    assignment_option,
    check_sandbox,
    cluster_options,
    course_option,
    db_option,
    debug_option,
    grade_options,
    iso_time,
    limit_options,
    reports_option,
    warn,
    workers_option,
)
from .errors import GraderError
from .locations import existing_gradebook, find_course, gradebook_path, reports_folder
from .sanitize import one_line
from .students import MAX_FILES

if TYPE_CHECKING:
    from .execute.sandbox import SandboxMode
    from .spec import Course


@click.command("batch")
@click.argument("submissions", type=click.Path(path_type=Path))
@course_option
@assignment_option("Assignment id (default: each notebook says).")
@workers_option("Submissions graded at once (default: the number of cores).")
@db_option
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
@cluster_options("A Dask scheduler's address (tls://host:8786).")
@limit_options
@debug_option
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
    from .batch import BatchOptions, grade_batch
    from .cli_output import BatchProgress, batch_assignments, batch_failure, batch_line
    from .gradebook import Gradebook
    from .intake import collect, read_roster
    from .roster import class_ids
    from .workers import default_workers, kernel_threads

    spec = find_course(course)
    if assignment is not None:
        spec.assignment(assignment)
    if scheduler is None:  # on a cluster, the workers' machines run the kernels
        check_sandbox(sandbox)
        _clean_leftovers()
    when = iso_time("--submitted-at", submitted_at)
    reports = reports_folder(out, spec)
    options = BatchOptions(  # checks the scheduler before anything is read or written
        workers=workers or default_workers(),
        assignment=assignment,
        regrade=regrade,
        scheduler=scheduler,
        reports=reports,
        certs=certs,
        insecure=insecure,
    )
    grading = replace(grade_options(sandbox, limits), threads=kernel_threads(options.workers))
    rosters = read_roster(roster) if roster else None
    ids = class_ids(grading.release_dir(spec))
    found = collect(submissions, reports / "submissions", rosters, when, ids, max_files_per_student)
    path = gradebook_path(db, spec)
    cell_limit = grading.exec_options(spec).limits.cell_timeout
    shown = BatchProgress(len(found), click.echo, cell_limit)
    with Gradebook(path) as gradebook, shown:
        summary = grade_batch(spec, found, gradebook, grading, options, shown.event, shown.progress)
    click.echo(batch_line(summary))
    _print_finals(spec, path, batch_assignments(summary))
    click.echo(f"Gradebook: {path}")
    click.echo(f"Reports: {reports}")
    failure = batch_failure(summary)
    if failure:
        raise GraderError(failure)


def _clean_leftovers() -> None:
    """Stop and remove what a killed run left (its kernels, its folders in the temporary
    folder and their mounts: ``grader.execute.scratch``), saying so in one line."""
    from .execute.scratch import clean_leftovers

    removed = clean_leftovers()
    if removed:
        where = removed[0].parent
        click.echo(f"removed {len(removed)} folders a killed run left in {where}", err=True)


def _print_finals(course: Course, db: Path, assignments: Sequence[str]) -> None:
    from rich.console import Console

    from .finals import class_finals
    from .gradebook import Gradebook
    from .report.classes import finals_table

    with Gradebook(db) as gradebook:
        found = class_finals(course, gradebook, assignments)
    finals_table(found.rows, Console(), title=f"{course.name}: final scores")
    warn(found.warnings)


@click.command("gradebook")
@course_option
@assignment_option("Only this assignment.")
@db_option
@debug_option
def gradebook_cmd(course: str | None, assignment: str | None, db: Path | None) -> None:
    """Print the class table: every student's final score after the course's policies.

    Example:

        grade gradebook --assignment ps1
    """
    spec = find_course(course)
    path = existing_gradebook(db, spec)
    ids = [spec.assignment(assignment).id] if assignment else [a.id for a in spec.assignments]
    _print_finals(spec, path, ids)


@click.command("regrade")
@course_option
@assignment_option("Only this assignment.")
@db_option
@workers_option("Submissions run again at once, when a change needs that (default: the cores).")
@cluster_options("A Dask scheduler's address, for what must run again.")
@reports_option("to bring them up to date")
@limit_options
@debug_option
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

    from .batch import BatchOptions
    from .cli_output import regrade_failure, regrade_line, regrade_table
    from .gradebook import Gradebook
    from .regrade import regrade
    from .workers import default_workers, kernel_threads

    spec = find_course(course)
    if assignment is not None:
        spec.assignment(assignment)
    path = existing_gradebook(db, spec)
    if scheduler is None:
        check_sandbox(sandbox)
        _clean_leftovers()
    batch = BatchOptions(
        workers=workers or default_workers(),
        scheduler=scheduler,
        reports=reports_folder(reports, spec),
        certs=certs,
        insecure=insecure,
    )
    grading = replace(grade_options(sandbox, limits), threads=kernel_threads(batch.workers))
    with Gradebook(path) as gradebook:
        summary = regrade(spec, gradebook, grading, assignment, batch)
    table = regrade_table(summary)
    if table is not None:
        Console().print(table)
    click.echo(regrade_line(summary, batch.reports))
    failure = regrade_failure(summary)
    if failure:
        raise GraderError(failure)


@click.command("export")
@course_option
@click.option(
    "--format",
    "format_",
    type=click.Choice(["csv", "canvas", "gradescope", "junit"]),  # gradebook_exports.FORMATS
    default="csv",
    show_default=True,
    help="csv: a grades table; canvas: Canvas's gradebook import; gradescope: results.json "
    "per student; junit: one XML file.",
)
@assignment_option("Only this assignment (default: each one due or with a submission).")
@db_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="File (csv, canvas, junit) or folder (gradescope); default grades.csv, "
    "canvas-grades.csv, gradescope/, grades.xml. csv, canvas: - for standard output.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse to export (exit 1) when a grading is older than the course or an "
    "extension names no student; by default each is a warning.",
)
@debug_option
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
    Without --assignment, assignments not due yet with nothing handed in are left out
    (one line on stderr says which).

    Example:

        grade export --format csv --assignment ps1 --out ps1-grades.csv
        grade export --format canvas --out canvas.csv
    """
    from .gradebook import Gradebook
    from .gradebook_exports import export

    spec = find_course(course)
    path = existing_gradebook(db, spec)
    ids = [spec.assignment(assignment).id] if assignment else None
    with Gradebook(path) as gradebook:
        done = export(spec, gradebook, format_, ids, out, strict)
    warn(done.warnings)
    for note in done.notes:
        click.echo(one_line(note), err=True)
    if done.target is None:
        click.echo(done.text, nl=False)
    else:
        click.echo(f"Wrote {done.target}")


@click.command("dashboard")
@course_option
@assignment_option("Only this assignment (default: each one with submissions).")
@db_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("dashboard.html"),
    show_default=True,
    help="The HTML page to write.",
)
@reports_option("for the links")
@debug_option
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
    from .dashboard_data import class_dashboard
    from .gradebook import Gradebook
    from .report.dashboard import write_dashboard

    spec = find_course(course)
    ids = [spec.assignment(assignment).id] if assignment else None
    path = existing_gradebook(db, spec)
    with Gradebook(path) as gradebook:
        board = class_dashboard(spec, gradebook, ids, reports_folder(reports, spec), out)
    write_dashboard(board, out)
    click.echo(f"Wrote {out}")


COMMANDS = (batch_cmd, gradebook_cmd, regrade_cmd, export_cmd, dashboard_cmd)
