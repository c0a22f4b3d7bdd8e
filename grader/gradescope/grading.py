"""A submission graded as a CI job or Gradescope hands it over: a notebook, or a submission
folder holding one; with Gradescope's submission_metadata.json, graded as the student who
submitted it (by the roster), that rule's flags on the result."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..options import GradeOptions, Progress
from ..pipeline import grade
from ..results import GradeResult
from ..spec import Course
from .submission import pick_notebook
from .submitter import submitter


def grade_submission(
    course: Course,
    notebook: Path,
    assignment: str | None = None,
    options: GradeOptions = GradeOptions(),
    metadata: Path | None = None,
    progress: Progress | None = None,
) -> tuple[Path, GradeResult]:
    """The notebook graded (a folder's: see ``pick_notebook``) and its result. ``metadata``
    names the student unless ``options`` already does."""
    if notebook.is_dir():
        notebook = pick_notebook(notebook, assignment)
    flags: tuple[str, ...] = ()
    if metadata is not None and not options.student:
        who = submitter(options.release_dir(course), metadata)
        options, flags = replace(options, student=who.student), who.flags
    result = grade(notebook, course, assignment, options, progress=progress)
    return notebook, replace(result, flags=flags + result.flags)
