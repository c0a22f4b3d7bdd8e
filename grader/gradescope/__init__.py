"""Gradescope: the autograder zip, who submitted, and which file of a submission is graded.

    autograder.py  the zip: setup.sh, run_autograder, the grader and the course with its keys
    submitter.py   submission_metadata.json -> the student graded (the roster, else the
                   submitter's own Gradescope id), with flags for the staff
    submission.py  the student's notebook in a submission folder (no link, no hidden file)

Gradescope keeps an autograder from students, but their code runs in its container: the
kernel's sandbox is what keeps it from the course's solutions, key and secret, so the
autograder always grades with ``--sandbox require``.
"""

from __future__ import annotations

from .autograder import build_autograder, course_files, requirements
from .submission import pick_notebook
from .submitter import Submitter, submitter

__all__ = [
    "Submitter",
    "build_autograder",
    "course_files",
    "pick_notebook",
    "requirements",
    "submitter",
]
