"""The ``grade`` command: thin wrappers that parse options, call the library and print.

Errors: a GraderError (an operator's or course's mistake, an unreadable submission) becomes
one ``Error: ...`` line and exit code 1; anything unexpected becomes one line and exit code
2. ``--debug`` shows tracebacks instead, and the kernel's own output. Only click is imported
up front: ``grade --help`` stays fast, and a kernel starts before the heavy imports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import GraderError, SpecError
from .limits import Limits
from .sanitize import clean_text, one_line

if TYPE_CHECKING:
    from .execute.sandbox import SandboxMode
    from .pipeline import GradeOptions
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
        help="Run kernels under bubblewrap: auto uses it when installed "
        "and warns loudly when not; require refuses to grade without it.",
    )(fn)


def _grade_options(sandbox: SandboxMode, limits: dict[str, float | None]) -> GradeOptions:
    """Grading options from the command line: only the limits that were given."""
    from .pipeline import GradeOptions

    given = {k: v for k, v in limits.items() if v is not None}
    return GradeOptions(limits=given, sandbox=sandbox)


def _find_course(course: str | None, near: Path | None = None) -> Course:
    """Load the course: the given path, else course.yaml in or above the cwd or the file."""
    from .spec import load_course

    if course:
        return load_course(Path(course))
    starts = [Path.cwd()] + ([near.resolve().parent] if near else [])
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / COURSE_FILE).is_file():
                return load_course(folder / COURSE_FILE)
    raise SpecError(f"no {COURSE_FILE} found here or above; pass --course PATH")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="grade")
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
@_limit_options
@_debug_option
def build_cmd(
    course: str | None, out: str | None, sandbox: SandboxMode, **limits: float | None
) -> None:
    """Render student and solution notebooks, make answer keys, self-check.

    Writes release/student/<assignment>.ipynb, release/solution/<assignment>.ipynb and
    release/key/<assignment>.json; fails if a reference solution is not full marks or a
    blank starter earns points.

    Example:

        grade build --course course.yaml --out release/
    """
    from .build import build

    spec = _find_course(course)
    out_dir = Path(out) if out else spec.root / "release"
    options = _grade_options(sandbox, limits)
    built = build(spec, out_dir, options, progress=_progress)
    for b in built:
        click.echo(
            f"{b.id}: solution {b.solution_score:g}/{b.max_score:g}, "
            f"starter {b.starter_score:g} -> {b.student}, {b.solution}"
        )
    click.echo(f"Built {len(built)} assignments in {out_dir}")


def _progress(message: str) -> None:
    click.secho(message, err=True, dim=True)


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
@click.pass_context
def submit_cmd(
    ctx: click.Context,
    /,
    notebooks: tuple[Path, ...],
    course: str | None,
    assignment: str | None,
    out: Path | None,
    sandbox: SandboxMode,
    **limits: float | None,
) -> None:
    """Grade notebooks: print a score table, write NAME.report.html and NAME.results.json.

    The exit code is 0 when every notebook was graded, whatever the scores, and 1 when
    one could not be graded (the others are still graded).

    Example:

        grade submit.ipynb

        grade my_work.ipynb --assignment ps1 --out reports/
    """
    from .pipeline import grade

    spec = _find_course(course, notebooks[0])
    options = _grade_options(sandbox, limits)
    failed = 0
    for notebook in notebooks:
        try:
            result = grade(notebook, spec, assignment, options, progress=_progress)
        except GraderError as e:
            if len(notebooks) == 1 or _debug(ctx):
                raise
            failed += 1
            _error(str(e))
            continue
        from rich.console import Console

        from .report import terminal_table, write_reports

        folder = out or notebook.parent
        html = folder / f"{notebook.stem}.report.html"
        write_reports(result, html, folder / f"{notebook.stem}.results.json")
        console = Console()
        terminal_table(result, console)
        console.print(f"Report: {html}", markup=False, highlight=False)
        if _debug(ctx):
            click.echo(
                f"Kernel output of {one_line(notebook.name)} (its own stdout/stderr):", err=True
            )
            click.echo(clean_text(result.log) or "(nothing)", err=True)
    if failed:
        raise GraderError(f"{failed} of {len(notebooks)} notebooks could not be graded")


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
