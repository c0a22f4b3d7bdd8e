"""The names each student goes by, for matching extension lines (``grader.policies``): the
id, the e-mail of the release's roster, and the LMS user id of the files they handed in
(Canvas's ``name_userid_submissionid_file``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from .intake import CANVAS_RE
from .policies import Matched, match_extensions
from .roster import Roster, load_roster
from .spec import Course
from .students import normalised


def class_extensions(
    course: Course, release: Path, handed_in: Iterable[tuple[str, str]]
) -> Matched:
    """The course's extensions matched to its students: those of the release's roster (then
    a line that names nobody is a SpecError) and those who handed in, ``handed_in`` (student,
    source) pairs (without a roster, a line that names none of them is a warning)."""
    roster = load_roster(release)
    names = student_names(handed_in, roster)
    return match_extensions(course.policies, names, complete=roster is not None)


def student_names(
    handed_in: Iterable[tuple[str, str]], roster: Roster | None = None
) -> dict[str, set[str]]:
    """Every name each student goes by: their id, the LMS user ids of the files they handed
    in (``handed_in``: student, source), and the roster's id and e-mail."""
    names: dict[str, set[str]] = {}
    for student, source in handed_in:
        if student:
            names.setdefault(student, {student}).update(lms_ids(source))
    if roster is not None:
        known = {normalised(s): s for s in names}
        for entry in roster.students:
            student = known.get(normalised(entry.id), entry.id)  # the gradebook's spelling
            names.setdefault(student, {student}).update(n for n in (entry.id, entry.email) if n)
    return names


def lms_ids(source: str) -> set[str]:
    """The LMS user id a file's name carries (Canvas's), if any."""
    found = CANVAS_RE.match(PurePosixPath(source.rpartition("!")[2]).name)
    return {found["user"]} if found else set()
