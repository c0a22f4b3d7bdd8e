"""Where a command's files are when the user does not say: the course (course.yaml in or
above the current folder or the notebook's), a student's hand-out instead of a course, the
gradebook, the reports folder, and the report files of a graded notebook.

Light at import (the package's errors only): ``grade --help`` imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import GraderError, SpecError

if TYPE_CHECKING:
    from .spec import Course

COURSE_FILE = "course.yaml"
GRADEBOOK_FILE = "gradebook.db"
REPORTS_FOLDER = "reports"
RELEASE_FOLDER = "release"


def locate_course(course: str | Path | None, near: Path | None = None) -> Path | None:
    """The course file: the given path, else course.yaml in or above the current folder,
    else in or above ``near``'s folder; None when there is none."""
    if course:
        return Path(course)
    starts = [Path.cwd()] + ([near.resolve().parent] if near else [])
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / COURSE_FILE).is_file():
                return folder / COURSE_FILE
    return None


def find_course(
    course: str | Path | None, near: Path | None = None, as_written: bool = False
) -> Course:
    """The course, loaded (see ``locate_course``) with the texts of its default variant, or
    ``as_written`` (for grading one file: the grading renders the one assignment and
    variant it grades, ``grader.variants.for_variant``); a SpecError when there is none."""
    found = locate_course(course, near)
    if found is None:
        raise SpecError(f"no {COURSE_FILE} found here or above; pass --course PATH")
    if as_written:
        from . import spec

        return spec.load_course(found)
    from . import variants  # read at call time: a broken course can be put in its place

    return variants.load_default_course(found)


def course_or_handout(course: str | Path | None, near: Path) -> tuple[Course | None, Path | None]:
    """What a notebook is graded with: its course as written (given, or found as
    ``locate_course`` finds it), else the student hand-out beside it or above; exactly one
    is not None.

    Raises SpecError when there is neither."""
    if locate_course(course, near) is not None:
        return find_course(course, near, as_written=True), None
    from .handout import find_handout

    handout = find_handout(near)
    if handout is None:
        raise SpecError(
            f"no {COURSE_FILE} or grade-handout.json found here or above: run grade in "
            "the hand-out folder, or pass --course PATH"
        )
    return None, handout


def report_files(notebook: Path, out: Path | None = None) -> tuple[Path, Path]:
    """A graded notebook's NAME.report.html and NAME.results.json, in ``out`` (default:
    beside the notebook)."""
    folder = out or notebook.parent
    return folder / f"{notebook.stem}.report.html", folder / f"{notebook.stem}.results.json"


def gradebook_path(db: Path | None, course: Course) -> Path:
    """The gradebook: the given file, else gradebook.db beside course.yaml."""
    return db or course.root / GRADEBOOK_FILE


def existing_gradebook(db: Path | None, course: Course) -> Path:
    """The gradebook to read, or a GraderError when there is none yet."""
    path = gradebook_path(db, course)
    if not path.exists():
        raise GraderError(f"{path}: no gradebook yet (grade a batch first, or pass --db)")
    return path


def reports_folder(given: Path | None, course: Course) -> Path:
    """Where batch reports go: the given folder, else reports/ beside course.yaml."""
    return given or course.root / REPORTS_FOLDER


def release_folder(given: Path | str | None, course: Course) -> Path:
    """Where a build writes the release: the given folder, else release/ beside course.yaml."""
    return Path(given) if given else course.root / RELEASE_FOLDER


def autograder_zip(given: Path | None, course: Course, assignment: str) -> Path:
    """The Gradescope autograder's zip: the given file, else autograder-<assignment>.zip
    (a SpecError for an unknown assignment)."""
    return given or Path(f"autograder-{course.assignment(assignment).id}.zip")


GITIGNORE = """\
# Written by `grade build`: what must not go into the course's repository.
# The course secret and the answer keys: with them anyone can read every answer.
.grade-secret
release/key/
# The class's grades and reports, and what `grade batch` and `grade ci` copy and write.
gradebook.db
gradebook.db-*
reports/
submissions/
grade-results/
"""


def write_gitignore(root: Path, release: Path) -> Path | None:
    """Write ``root/.gitignore`` (the course secret, the answer keys, the gradebook, reports)
    unless the course has one; the path written, or None."""
    path = root / ".gitignore"
    if path.exists() or path.is_symlink():
        return None
    text = GITIGNORE
    try:
        key = (release / "key").resolve().relative_to(root.resolve()).as_posix()
    except ValueError:  # a release outside the course: its keys are not in this repository
        key = ""
    if key != "release/key":
        text = text.replace("release/key/\n", f"{key}/\n" if key else "")
    path.write_text(text, encoding="utf-8")
    return path
