"""``grade import nbgrader|otter``: a course written for another grader, as a grade course.

Thin: parse, one library call (``grader.importers``), print what was kept as manual, one line
a cell. A folder that holds anything is refused unless ``--force``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .cli_options import debug_option

if TYPE_CHECKING:
    from .importers.draft import Draft

_out = click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the course (course.yaml, exercises/, solutions/); must be empty.",
)
_force = click.option(
    "--force",
    is_flag=True,
    help="Write into a folder that is not empty (its exercises/*.yaml and solutions/*.py "
    "are replaced).",
)
_no_manual = click.option(
    "--no-manual",
    is_flag=True,
    help="Leave out what would be manual exercises (to build the autograded part alone).",
)


@click.group("import")
def import_cmd() -> None:
    """Make a grade course from an nbgrader or otter-grader course. No code of it is run.

    Example:

        grade import nbgrader source --out course

        grade import otter demo.ipynb --out course
    """


@import_cmd.command("nbgrader")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_out
@_force
@_no_manual
@click.option("--name", help="The course's name (default: SOURCE's folder name).")
@debug_option
def nbgrader_cmd(source: Path, out: Path, force: bool, no_manual: bool, name: str | None) -> None:
    """Import nbgrader's source folder: one topic and one assignment a notebook (one a folder
    when it holds one notebook).

    Example:

        grade import nbgrader source --out course
    """
    from .importers.nbgrader import import_nbgrader

    draft = import_nbgrader(source)
    if name:
        draft.name = name
    _write(draft, out, force, no_manual)


@import_cmd.command("otter")
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_out
@_force
@_no_manual
@debug_option
def otter_cmd(master: Path, out: Path, force: bool, no_manual: bool) -> None:
    """Import an otter-grader master notebook (Otter Assign format v1).

    Example:

        grade import otter demo.ipynb --out course
    """
    from .importers.otter import import_otter

    _write(import_otter(master), out, force, no_manual)


def _write(draft: Draft, out: Path, force: bool, no_manual: bool) -> None:
    from .importers.draft import write

    write(draft, out, force=force, manual=not no_manual)
    for note in draft.notes:
        click.echo(note)
    exercises = [e for t in draft.topics.values() for e in t.exercises]
    manual = sum(e["answer"]["kind"] == "manual" for e in exercises)
    left = " (left out)" if no_manual and manual else ""
    click.echo(f"wrote {out}: {len(exercises)} exercises, {manual} of them manual{left}")
