"""The ``grade`` command: thin wrappers that parse options, call the library and print.

Errors: every GraderError becomes one ``Error: ...`` line and exit code 1; anything
unexpected becomes one line and exit code 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from .errors import GraderError, SpecError
from .pipeline import GradeOptions, build, grade
from .report import terminal_table, write_reports
from .sandbox import SandboxMode
from .spec import Course, load_course

COURSE_FILE = "course.yaml"


class _Group(click.Group):
    """A group where ``grade FILE.ipynb`` means ``grade submit FILE.ipynb``."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["submit", *args]
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        debug = "--debug" in sys.argv
        try:
            return super().invoke(ctx)
        except GraderError as e:
            if debug:
                raise
            raise click.ClickException(str(e)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as e:
            if debug:
                raise
            click.echo(
                f"Error: internal error: {type(e).__name__}: {e} "
                "(run again with --debug for the traceback)",
                err=True,
            )
            ctx.exit(2)


def _find_course(course: str | None, near: Path | None = None) -> Course:
    """Load the course: the given path, else course.yaml in or above the cwd or the file."""
    if course:
        return load_course(Path(course))
    starts = [Path.cwd()] + ([near.resolve().parent] if near else [])
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / COURSE_FILE).is_file():
                return load_course(folder / COURSE_FILE)
    raise SpecError(f"no {COURSE_FILE} found here or above; pass --course PATH")


_course_option = click.option(
    "--course",
    "course",
    type=click.Path(dir_okay=True),
    help="course.yaml (default: found in or above the current folder)",
)
_debug_option = click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")

LIMIT_FLAGS = (
    ("--cell-timeout", "cell_timeout", click.FloatRange(min=1), "Seconds one cell may run."),
    ("--timeout", "timeout", click.FloatRange(min=1), "Seconds a whole notebook may run."),
    ("--memory", "memory", click.IntRange(min=64), "MiB of memory for the kernel and children."),
    ("--processes", "processes", click.IntRange(min=4), "Processes and threads at once."),
    ("--output", "output", click.IntRange(min=1), "KiB one cell may print."),
    ("--total-output", "total_output", click.IntRange(min=1), "KiB a notebook may print."),
    ("--disk", "disk", click.IntRange(min=1), "MiB the kernel may write."),
)


def _grade_options(sandbox: SandboxMode, limits: dict[str, float | None]) -> GradeOptions:
    """Grading options from the command line: only the limits that were given."""
    given = {k: v for k, v in limits.items() if v is not None}
    return GradeOptions(limits=given, sandbox=sandbox)


def _limit_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--sandbox, and one flag per limit (they override course.yaml `limits:`)."""
    for flag, name, kind, text in reversed(LIMIT_FLAGS):
        fn = click.option(flag, name, type=kind, help=text)(fn)
    return click.option(
        "--sandbox",
        type=click.Choice(["auto", "require", "off"]),
        default="auto",
        show_default=True,
        help="Run kernels under bubblewrap: auto uses it when installed "
        "and warns loudly when not; require refuses to grade without it.",
    )(fn)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="grade")
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
@_limit_options
@_debug_option
def build_cmd(
    course: str | None,
    out: str | None,
    sandbox: SandboxMode,
    debug: bool,
    **limits: float | None,
) -> None:
    """Render student and solution notebooks, make answer keys, self-check.

    Writes release/student/<assignment>.ipynb, release/solution/<assignment>.ipynb and
    release/key/<assignment>.json; fails if a reference solution is not full marks or a
    blank starter earns points.

    Example:

        grade build --course course.yaml --out release/
    """
    spec = _find_course(course)
    out_dir = Path(out) if out else spec.root / "release"
    console = Console(stderr=True)
    options = _grade_options(sandbox, limits)
    built = build(spec, out_dir, options, progress=lambda m: console.print(f"[dim]{m}[/dim]"))
    for b in built:
        click.echo(
            f"{b.id}: solution {b.solution_score:g}/{b.max_score:g}, "
            f"starter {b.starter_score:g} -> {b.student}, {b.solution}"
        )
    click.echo(f"Built {len(built)} assignments in {out_dir}")


@main.command("submit")
@click.argument(
    "notebooks", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@_course_option
@click.option("--assignment", help="Assignment id, when the notebook does not say.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the report files (default: beside each notebook).",
)
@_limit_options
@_debug_option
def submit_cmd(
    notebooks: tuple[Path, ...],
    course: str | None,
    assignment: str | None,
    out: Path | None,
    sandbox: SandboxMode,
    debug: bool,
    **limits: float | None,
) -> None:
    """Grade notebooks: print a score table, write NAME.report.html and NAME.results.json.

    The exit code is 0 when every notebook was graded, whatever the scores, and 1 when
    one could not be graded (the others are still graded).

    Example:

        grade submit.ipynb

        grade my_work.ipynb --assignment ps1 --out reports/
    """
    spec = _find_course(course, notebooks[0])
    console = Console()
    errors = Console(stderr=True)
    options = _grade_options(sandbox, limits)
    failed = []
    for notebook in notebooks:
        try:
            result = grade(
                notebook,
                spec,
                assignment,
                options,
                progress=lambda m: errors.print(f"[dim]{m}[/dim]"),
            )
        except GraderError as e:
            if len(notebooks) == 1 or debug:
                raise
            failed.append(str(e))
            click.echo(f"Error: {e}", err=True)
            continue
        folder = out or notebook.parent
        html = folder / f"{notebook.stem}.report.html"
        write_reports(result, html, folder / f"{notebook.stem}.results.json")
        terminal_table(result, console)
        console.print(f"Report: {html}")
    if failed:
        raise click.ClickException(
            f"{len(failed)} of {len(notebooks)} notebooks could not be graded"
        )
