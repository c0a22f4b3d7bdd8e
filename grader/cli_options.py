"""What the ``grade`` commands share: the group that reads ``grade FILE`` as ``grade submit
FILE`` and turns errors into one line, the options several commands take (course, limits,
sandbox, cluster, gradebook, reports, --debug), and the few lines they all print.

Errors: a GraderError (an operator's or course's mistake, an unreadable submission) becomes
one ``Error: ...`` line and exit code 1; anything unexpected becomes one line and exit code
2. ``--debug`` shows tracebacks instead, and the kernel's own output. Only click and leaf
modules are imported up front: ``grade --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import GraderError
from .limits import Limits
from .sanitize import one_line

if TYPE_CHECKING:
    from .execute.sandbox import SandboxMode
    from .options import GradeOptions

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
DEBUG = "grade.debug"


def error(message: str) -> None:
    """Print one error line (the only place ``Error:`` is printed)."""
    click.echo(f"Error: {one_line(message)}", err=True)


def warn(warnings: Sequence[str]) -> None:
    """Each warning on a line of its own, on stderr (an export to stdout stays clean)."""
    for warning in warnings:
        click.echo(f"Warning: {one_line(warning)}", err=True)


def progress(message: str) -> None:
    """A step of a long command, dimmed on stderr."""
    click.secho(message, err=True, dim=True)


def debug(ctx: click.Context) -> bool:
    """Whether --debug was given."""
    return bool(ctx.meta.get(DEBUG))


class Group(click.Group):
    """A group where ``grade FILE.ipynb`` means ``grade submit FILE.ipynb``, and so does
    ``grade --out DIR FILE.ipynb``: the default command's options go anywhere."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        default = self.commands.get("submit")
        if default is not None:
            mine = {o for p in self.params for o in (*p.opts, *p.secondary_opts)}
            theirs = {o for p in default.params for o in (*p.opts, *p.secondary_opts)}
            for i, arg in enumerate(args):
                name = arg.split("=", 1)[0]
                if name in mine and name not in ("-h", "--help"):
                    continue  # the group's own (--debug): either place will do
                if name in theirs - mine:
                    args = [*args[:i], "submit", *args[i:]]
                break
        return super().parse_args(ctx, args)

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
            if debug(ctx):
                raise
            if isinstance(e, GraderError):
                error(str(e))
                ctx.exit(1)
            error(
                f"internal error: {type(e).__name__}: {e} "
                "(run again with --debug for the traceback)"
            )
            ctx.exit(2)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[DEBUG] = True


def debug_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--debug: tracebacks, and the kernel's own output."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_debug,
        help="Show tracebacks, and the kernel's own output.",
    )(fn)


student_option = click.option(
    "--student",
    help="Grade as this student's (their numbers, with a roster); default: the notebook says.",
)

course_option = click.option(
    "--course",
    "course",
    type=click.Path(dir_okay=True),
    help="course.yaml (default: found in or above the current folder)",
)

db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The gradebook (default: gradebook.db beside course.yaml).",
)


def assignment_option(text: str) -> Decorator:
    """--assignment, ``text`` saying what it chooses."""
    return click.option("--assignment", help=text)


def workers_option(text: str) -> Decorator:
    """--workers: how many submissions run at once."""
    return click.option("--workers", type=click.IntRange(min=1), default=None, help=text)


def reports_option(why: str) -> Decorator:
    """``--reports``: the folder grade batch wrote the reports into, ``why`` it is asked."""
    return click.option(
        "--reports",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=f"Where grade batch wrote the reports, {why} (default: reports/ beside course.yaml).",
    )


def limit_options(fn: Callable[..., Any]) -> Callable[..., Any]:
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


def cluster_options(scheduler_help: str) -> Decorator:
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


def grade_options(sandbox: SandboxMode, limits: dict[str, float | None]) -> GradeOptions:
    """Grading options from the command line: only the limits that were given."""
    from .options import GradeOptions

    given = {k: v for k, v in limits.items() if v is not None}
    return GradeOptions(limits=given, sandbox=sandbox)


def check_sandbox(mode: SandboxMode, say: bool = True) -> None:
    """Probe bubblewrap once, before anything is graded: refuse at once when ``require``
    cannot be met; with ``say``, one loud line when ``auto`` grades without it (commands
    that print no report say it here; the reports say it too)."""
    from .execute.sandbox import use_sandbox

    _, warning = use_sandbox(mode)
    if warning and say:
        click.secho(one_line(warning), err=True, fg="yellow", bold=True)


def iso_time(option: str, text: str | None) -> dt.datetime | None:
    """An option's ISO 8601 time (UTC when it names no zone), None when not given."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise GraderError(f"{option}: {text!r} is not an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
