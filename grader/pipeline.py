"""One submission, top to bottom: start the kernel, read and assemble the submission, run it,
judge it against the answer key.

The kernel is launched first and boots while the grader reads the notebook; the submission
then runs in a worker thread while this thread loads the answer key and prepares the judge
(imports, reference models, held-out data), so a cold ``grade`` costs little more than the
kernel's own work.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .assemble import Assembled, assemble, read_notebook
from .copying import class_references, flagged
from .errors import SubmissionError
from .execute import ExecOptions, Executed, execute, run, start_kernel
from .execute.sandbox import SandboxMode
from .identity import Identity, identify
from .judge import judge, prepare
from .judge.scoring import Expectations
from .key import AnswerKey, key_path, lasting_seed, load_key, save_key
from .kinds import KINDS
from .results import GradeResult
from .roster import course_secret
from .spec import CIFAR10_ENV, Course, Exercise
from .variants import for_variant

if TYPE_CHECKING:
    from nbformat import NotebookNode

Progress = Callable[[str], None]


@dataclass(frozen=True)
class GradeOptions:
    """Options of a grading run; what is not given comes from the course."""

    limits: Mapping[str, float] = field(default_factory=dict)  # overrides of course limits
    sandbox: SandboxMode = "auto"
    release: Path | None = None
    threads: int = 0
    student: str = ""  # whom a single submission is graded for (else the notebook says)

    def exec_options(self, course: Course) -> ExecOptions:
        """Execution options: course limits with the overrides given here, the course's data."""
        data = ((CIFAR10_ENV, course.cifar10_dir),) if course.cifar10_dir else ()
        return ExecOptions(
            limits=course.limits.override(self.limits),
            sandbox=self.sandbox,
            threads=self.threads,
            data=data,
        )

    def release_dir(self, course: Course) -> Path:
        """The release folder (default: ``release/`` beside course.yaml)."""
        return self.release or course.root / "release"


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
        with ThreadPoolExecutor(1, thread_name_prefix="grade-kernel") as worker:
            running = worker.submit(run, kernel, assembled.steps)  # stops the kernel when done
            try:
                key = answer_key(course, assignment_id, options, progress)
                exercises = _exercises(course, assignment_id)
                prepare(course, key, exercises)
                if identity.roster and identity.student:
                    class_references(course, assignment_id, options)  # for the copying check
                if any(KINDS[ex.answer.kind].plots for ex in exercises):
                    from .report.plots import warm

                    warm()  # the report plots their losses: import matplotlib meanwhile
                executed = running.result()
            except BaseException:
                kernel.close()  # the worker then finds its kernel dead and stops
                raise
    result = graded(course, assignment_id, path.name, assembled, executed, key)
    result = flagged(course, result, executed.exports, identity, options)
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


def graded(
    course: Course,
    assignment_id: str,
    name: str,
    assembled: Assembled,
    executed: Executed,
    key: AnswerKey | Expectations,
) -> GradeResult:
    """Judge an executed submission and wrap the results up (pure); ``key`` may also be other
    expectations (a hand-out's public context)."""
    started = time.monotonic()
    exercises = judge(course, assembled, executed, key)
    return GradeResult(
        course=course.name,
        assignment=assignment_id,
        submission=name,
        score=round(sum(e.score for e in exercises), 4),
        max_score=course.assignment(assignment_id).max_score(course),
        execution_time=round(executed.duration + time.monotonic() - started, 3),
        exercises=exercises,
        notices=executed.warnings + assembled.notices,
        graded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        log=executed.log,
        grader_version=__version__,
    )


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
        "grader": __version__,
        "setup": [course.topics[t].setup for t in topics],
        "exercises": [
            [e.id, e.answer.export_spec(), e.starter if e.id in left_out else None]
            for e in exercises
        ],
        "limits": dataclasses.asdict(options.limits),
        "data": [[name, str(folder)] for name, folder in options.data],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def answer_key(
    course: Course,
    assignment_id: str,
    options: GradeOptions = GradeOptions(),
    progress: Progress | None = None,
) -> AnswerKey:
    """The stored key when it matches this version of the course; else make and store it.

    The key of a per-student variant is the default key with the values that vary computed
    again, in this process, from the variant's parameters (``solutions.reference_values``)."""
    path = key_path(options.release_dir(course), assignment_id, course.variant)
    key = load_key(path)
    if key is not None and key.fingerprint == course.fingerprint:
        return key
    if course.variant:
        from .solutions import reference_values
        from .variants import DEFAULT, for_variant

        base = answer_key(
            for_variant(course, assignment_id, DEFAULT), assignment_id, options, progress
        )
        values = {**base.values, **reference_values(course, assignment_id)}
        key = dataclasses.replace(base, values=values, variant=course.variant)
        save_key(key, path)
        return key
    if progress:
        progress(f"making the answer key of {assignment_id} (runs the reference solution)")
    from .build import make_key

    key, _ = make_key(course, assignment_id, options)
    save_key(key, path)
    return key


def key_seed(course: Course, assignment_id: str, options: GradeOptions = GradeOptions()) -> int:
    """The seed a new key of the assignment gets: the stored key's (a key made again after an
    edit keeps its held-out samples), else one derived from the course secret, if any."""
    path = key_path(options.release_dir(course), assignment_id)
    return lasting_seed(path, course_secret(course), course.name, assignment_id)


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
