"""The ``grade`` command: thin wrappers that parse options, call the library and print.

The commands over a class's gradebook (batch, gradebook, regrade, export, dashboard) are in
``grader.cli_class``; the options and error handling they share in ``grader.cli_options``
(a GraderError is one ``Error: ...`` line and exit code 1, anything unexpected one line and
exit code 2; ``--debug`` shows tracebacks). What the commands print is formatted by
``grader.cli_output``. Only click and leaf modules are imported up front: ``grade --help``
stays fast, and a kernel starts before the heavy imports.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from .cli_class import COMMANDS
from .cli_import import import_cmd
from .cli_options import (
    Group,
    assignment_option,
    check_sandbox,
    course_option,
    debug,
    debug_option,
    error,
    grade_options,
    limit_options,
    progress,
    student_option,
)
from .cli_review import review_cmd
from .distribution import VERSION
from .errors import GraderError
from .flags import needs_student
from .locations import (
    autograder_zip,
    course_or_handout,
    find_course,
    release_folder,
    report_files,
    write_gitignore,
)
from .sanitize import clean_text, one_line

if TYPE_CHECKING:
    from .execute.sandbox import SandboxMode
    from .results import GradeResult


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, prog_name="grade")
@debug_option
def main() -> None:
    """Grade notebook exercises: build a course, grade submissions.

    Example:

        grade build

        grade submit.ipynb
    """


for _command in (*COMMANDS, review_cmd, import_cmd):
    main.add_command(_command)


@main.command("build")
@course_option
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
@limit_options
@debug_option
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
    from .cli_output import build_lines
    from .roster import read_roster

    spec = find_course(course)
    out_dir = release_folder(out, spec)
    options = grade_options(sandbox, limits)
    check_sandbox(options.sandbox)
    students = read_roster(roster) if roster else None
    built = build(spec, out_dir, options, progress, students, check_variants)
    for line in build_lines(built, out_dir):
        click.echo(line)
    ignore = write_gitignore(spec.root, out_dir)
    if ignore is not None:
        click.echo(f"wrote {ignore}: the course secret, answer keys, gradebook and reports")


@main.command("submit")
@click.argument(
    "notebooks", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@course_option
@assignment_option("Assignment id, when the notebook does not say.")
@student_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the report files (default: beside each notebook).",
)
@limit_options
@debug_option
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
    spec, handout = course_or_handout(course, notebooks[0])
    options = replace(grade_options(sandbox, limits), student=student or "")
    if handout is not None and ctx.get_parameter_source("sandbox") == ParameterSource.DEFAULT:
        options = replace(options, sandbox="optional")  # the student's own code, machine
    check_sandbox(options.sandbox, say=False)  # each table says it
    failed = 0
    for notebook in notebooks:
        try:
            if handout is not None:
                from .handout import grade_with_handout

                result = grade_with_handout(notebook, handout, options, progress)
            else:
                from .pipeline import grade  # imports little: the kernel is launched first

                assert spec is not None
                result = grade(notebook, spec, assignment, options, progress=progress)
        except GraderError as e:
            if len(notebooks) == 1 or debug(ctx):
                raise
            failed += 1
            error(str(e))
            continue
        _show(ctx, result, notebook, *report_files(notebook, out))
    if failed:
        raise GraderError(f"{failed} of {len(notebooks)} notebooks could not be graded")


def _show(
    ctx: click.Context, result: GradeResult, notebook: Path, html: Path, results: Path
) -> None:
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
    if debug(ctx):
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


@main.command("ci")
@click.argument("notebook", type=click.Path(path_type=Path))
@course_option
@assignment_option("Assignment id, when the notebook does not say.")
@student_option
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
@limit_options
@debug_option
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
    from .ci import (
        append_refusal,
        append_step_summary,
        below_threshold,
        clear_previous,
        job_annotations,
        refusal_annotations,
        write_junit,
    )
    from .gradescope import grade_submission, write_gradescope_results, write_refused_results

    options = replace(grade_options(sandbox, limits), release=release, student=student or "")
    clear_previous(out)
    try:
        spec = find_course(course, notebook, as_written=True)
        notebook, result = grade_submission(
            spec, notebook, assignment, options, gradescope_metadata, progress
        )
    except GraderError as e:
        if results is not None:  # the student still gets a results.json that says why
            write_refused_results(results, str(e))
        append_refusal(str(notebook), str(e))  # the job's summary and log say why too
        for line in refusal_annotations(str(notebook), str(e)):
            click.echo(line)
        raise
    _show(ctx, result, notebook, out / "report.html", out / "results.json")
    write_junit(result, out)
    if results is not None:
        write_gradescope_results(results, result)  # the report is written once, above
    append_step_summary(result)
    for line in job_annotations(result, str(notebook)):
        click.echo(line)
    reason = below_threshold(result, fail_under)
    if reason:
        raise GraderError(reason)


@main.command("init-ci")
@click.option("--github", "kind", flag_value="github", help="A GitHub Actions workflow.")
@click.option("--gitlab", "kind", flag_value="gitlab", help="A GitLab CI pipeline.")
@course_option
@click.option("--force", is_flag=True, help="Replace a workflow that is already there.")
@debug_option
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
    spec = find_course(course)
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
@debug_option
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
@debug_option
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
@course_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The autograder zip (default: autograder-<assignment>.zip).",
)
@debug_option
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

    spec = find_course(course)
    target = autograder_zip(out, spec, assignment)
    build_autograder(spec, assignment, target, GradeOptions())
    click.echo(f"Wrote {target}")
