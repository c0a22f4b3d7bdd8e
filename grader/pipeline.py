"""One submission, top to bottom: start the kernel, read and assemble the submission, run it,
judge it against the answer key.

The kernel is launched first and boots while the grader reads the notebook; the submission
then runs in a worker thread while this thread loads the answer key and prepares the judge
(imports, reference models, held-out data), so a cold ``grade`` costs little more than the
kernel's own work.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .assemble import Assembled, assemble
from .copying import class_references, flagged
from .distribution import VERSION
from .errors import SubmissionError
from .execute import ExecOptions, Executed, execute, run, start_kernel
from .identity import Identity, identify
from .judge import prepare
from .judge.record import graded
from .key import AnswerKey
from .keymaker import answer_key, variant_keys
from .notebooks import read_notebook
from .options import GradeOptions, Progress
from .results import GradeResult
from .spec import Course, Exercise
from .variants import for_variant

if TYPE_CHECKING:
    from nbformat import NotebookNode

PLOTTED_KINDS = ("training", "overfit")  # their reports always carry a plot


def grade(
    path: Path,
    course: Course,
    assignment: str | None = None,
    options: GradeOptions = GradeOptions(),
    progress: Progress | None = None,
) -> GradeResult:
    """Grade one submission file. The file is only read, never modified."""
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        kernel = start_kernel(options.exec_options(course), Path(tmp))
        try:
            nb = read_notebook(path)
            assignment_id, notices = which_assignment(course, nb, path, assignment)
            course, identity, assembled = assemble_for(
                course, assignment_id, nb, options, options.student
            )
        except BaseException:
            kernel.stop()
            raise
        release, keys = options.release_dir(course), variant_keys(assignment_id, options)
        with ThreadPoolExecutor(1, thread_name_prefix="grade-kernel") as worker:
            running = worker.submit(run, kernel, assembled.steps)  # stops the kernel when done
            try:
                key = answer_key(course, assignment_id, options, progress)
                exercises = _exercises(course, assignment_id)
                prepare(course, key, exercises)
                if identity.roster and identity.student:
                    class_references(course, assignment_id, release, keys)  # for the copying check
                if any(ex.answer.kind in PLOTTED_KINDS for ex in exercises):
                    from .report.plots import warm

                    warm()  # the report plots their losses: import matplotlib meanwhile
                executed = running.result()
            except BaseException:
                kernel.close()  # the worker then finds its kernel dead and stops
                raise
    result = graded(course, assignment_id, path.name, assembled, executed, key)
    result = flagged(course, result, executed.exports, identity, release, keys)
    return replace(result, notices=tuple(notices) + result.notices)


def assemble_for(
    course: Course, assignment_id: str, nb: NotebookNode, options: GradeOptions, student: str = ""
) -> tuple[Course, Identity, Assembled]:
    """A submission read for the student it is graded for (``student``, else the notebook's
    claim): the course as that student's variant sees it, who it is with what was noticed
    (``grader.identity``), and the steps to run."""
    identity = identify(course, options.release_dir(course), assignment_id, nb.metadata, student)
    mine = for_variant(course, assignment_id, identity.variant)
    return mine, identity, assemble(mine, assignment_id, nb)


def grade_notebook(
    course: Course,
    assignment_id: str,
    nb: NotebookNode,
    name: str,
    key: AnswerKey,
    options: GradeOptions = GradeOptions(),
) -> GradeResult:
    """Assemble, execute and judge one notebook against an answer key."""
    assembled, executed = execute_notebook(course, assignment_id, nb, options)
    return graded(course, assignment_id, name, assembled, executed, key)


def execute_notebook(
    course: Course, assignment_id: str, nb: NotebookNode, options: GradeOptions
) -> tuple[Assembled, Executed]:
    """Assemble a notebook and run it in a fresh kernel (nothing judged yet)."""
    assembled = assemble(course, assignment_id, nb)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        executed = execute(assembled.steps, options.exec_options(course), Path(tmp))
    return assembled, executed


def run_fingerprint(
    course: Course, assignment_id: str, options: ExecOptions, missing: Iterable[str] = ()
) -> str:
    """What running a submission of this assignment depends on: its topics' setup, its
    exercises' export recipes, the starters of the exercises it left out (``missing``), the
    limits and the data. While it is unchanged, a stored run can be judged again instead of
    run again."""
    exercises = _exercises(course, assignment_id)
    topics = sorted({e.topic for e in exercises})
    left_out = set(missing)
    data = {
        "grader": VERSION,
        "setup": [course.topics[t].setup for t in topics],
        "exercises": [
            [e.id, e.answer.export_spec(), e.starter if e.id in left_out else None]
            for e in exercises
        ],
        "limits": dataclasses.asdict(options.limits),
        "data": [[name, str(folder)] for name, folder in options.data],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def which_assignment(
    course: Course, nb: NotebookNode, path: Path, assignment: str | None
) -> tuple[str, list[str]]:
    """The assignment a notebook answers (given, declared in its metadata, or from its file
    name), and notices about how that was decided."""
    meta = nb.metadata.get("grader", {})
    meta = meta if isinstance(meta, dict) else {}
    notices = []
    if meta.get("course") not in (None, course.name):
        raise SubmissionError(
            f"{path.name} is a notebook of the course {meta.get('course')!r}, "
            f"not of {course.name!r}"
        )
    declared = meta.get("assignment") if isinstance(meta.get("assignment"), str) else None
    if assignment and declared and declared != assignment:
        raise SubmissionError(f"{path.name} is assignment {declared!r}, not {assignment!r}")
    chosen = assignment or declared
    if chosen is None:
        stems = [a.id for a in course.assignments if path.stem.startswith(a.id)]
        if len(stems) != 1:
            known = ", ".join(a.id for a in course.assignments)
            raise SubmissionError(
                f"{path.name} does not say which assignment it is: "
                f"pass --assignment (one of: {known})"
            )
        chosen = stems[0]
        notices.append(
            f"the notebook does not say which assignment it is; graded as {chosen} "
            "(from its file name)"
        )
    course.assignment(chosen)  # unknown id -> one clear error
    if meta.get("version") not in (None, course.fingerprint):
        notices.append(
            "the notebook was made from another release of the course; "
            "it was graded against the current one"
        )
    return chosen, notices


def _exercises(course: Course, assignment_id: str) -> list[Exercise]:
    return [course.exercises[e] for e in course.assignment(assignment_id).exercises]
