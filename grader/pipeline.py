"""One submission, top to bottom: start the kernel, read and assemble the submission, run it,
judge it against the answer key.

The kernel is launched first and boots while the grader reads the notebook; the submission
then runs in a worker thread while this thread loads the answer key and prepares the judge
(imports, reference models, held-out data), so a cold ``grade`` costs little more than the
kernel's own work.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from .execute import start_kernel
from .execute.scratch import scratch
from .options import GradeOptions, Progress

if TYPE_CHECKING:
    from .results import GradeResult
    from .spec import Course


def grade(
    path: Path,
    course: Course,
    assignment: str | None = None,
    options: GradeOptions = GradeOptions(),
    progress: Progress | None = None,
) -> GradeResult:
    """Grade one submission file. The file is only read, never modified."""
    with scratch() as tmp:
        kernel = start_kernel(options.exec_options(course), tmp)
        try:  # the kernel boots meanwhile: the grading path is imported now, not before
            from .grading import AgainstKey, grade_one, read_submission
            from .notebooks import read_notebook
            from .runners import started_kernel

            nb = read_notebook(path)
            submitted = read_submission(course, nb, path, options, assignment, options.student)
        except BaseException:
            kernel.stop()
            raise
        with ThreadPoolExecutor(1, thread_name_prefix="grade-kernel") as worker:
            runner = started_kernel(kernel, worker)
            graded = grade_one(submitted, options, runner, AgainstKey(options, progress))
    return graded.result
