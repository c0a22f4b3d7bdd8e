"""Gradescope: the autograder zip, who submitted, and which file of a submission is graded.

    autograder.py  the zip: setup.sh, run_autograder, the grader and the course with its keys
    submitter.py   submission_metadata.json -> the student graded (the roster, else the
                   submitter's own Gradescope id), with flags for the staff
    submission.py  the student's notebook in a submission folder (no link, no hidden file)
    results.py     the results.json Gradescope reads: a graded notebook's, or a refusal's
    grading.py     a submission (notebook or folder) graded as the student who submitted it

Gradescope keeps an autograder from students, but their code runs in its container: the
kernel's sandbox is what keeps it from the course's solutions, key and secret, so the
autograder always grades with ``--sandbox require``.
"""

from __future__ import annotations

from .autograder import build_autograder, course_files, requirements
from .grading import grade_submission
from .results import refused_results, write_gradescope_results, write_refused_results
from .submission import pick_notebook
from .submitter import Submitter, submitter

__all__ = [
    "Submitter",
    "build_autograder",
    "course_files",
    "grade_submission",
    "pick_notebook",
    "refused_results",
    "requirements",
    "submitter",
    "write_gradescope_results",
    "write_refused_results",
]
