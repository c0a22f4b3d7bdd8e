"""The one grading path: a submission read for grading -> run -> judged -> attributed.

    submitted = read_submission(course, nb, path, options)   # which assignment, who, the steps
    graded = grade_one(submitted, options, runner, judging)   # run, judge, copying, notices

``grade`` (one file, a kernel started before the file is read), a batch (runs that come back
from a backend), a regrade (the run the gradebook stored) and the build's self-check (the
reference solutions and blank notebooks) all call ``grade_one``; they differ only in the
runner (``grader.runners``) and in how judging gets its key (``Judging``): the answer key
of the release (``AgainstKey``), a key at hand, or, for a hand-out, its public checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .assemble import Assembled, answered, assemble
from .copying import attributed, class_references
from .distribution import VERSION
from .draws import Draws
from .errors import SubmissionError
from .execute import ExecOptions, Executed, FollowUp
from .identity import Identity, identify
from .inkernel.exporter import FORMAT as EXPORT_FORMAT
from .judge import prepare
from .judge.record import judged
from .key import AnswerKey
from .keymaker import answer_key, variant_keys
from .kinds import KINDS
from .options import GradeOptions, Progress
from .otter_cells import otter_assignment
from .results import GradeResult, Judged
from .runners import Runner
from .spec import Course, Exercise
from .variants import for_variant

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from .gradebook import Graded


@dataclass(frozen=True)
class Submitted:
    """A submission read for grading: the course as its variant sees it, the assignment, the
    name its report gives it, who it is graded for (``grader.identity``), the steps to run,
    and what intake and the assignment's choice noticed and flagged."""

    course: Course
    assignment: str
    name: str
    identity: Identity
    assembled: Assembled
    notices: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # intake's (e.g. a file name that names another student)
    student: str = ""  # whom it was handed in for, where the identity names nobody


Judge = Callable[[Executed], Judged]


class Judging(Protocol):
    """How a grading judges its run: ``ahead`` does what judging will need (``warm``: there
    is time, the run is still going) and returns the judge of the run."""

    def ahead(self, submitted: Submitted, warm: bool) -> Judge:
        """The judge of this submission's run, ready."""
        ...


@dataclass(frozen=True)
class AgainstKey:
    """Official judging: against the answer key (``key_of``, else the release's, made if it
    is missing or stale, ``grader.keymaker.answer_key``)."""

    options: GradeOptions = GradeOptions()
    progress: Progress | None = None
    key_of: Callable[[Submitted], AnswerKey] | None = None

    def ahead(self, submitted: Submitted, warm: bool) -> Judge:
        """Load the key; with time to spare, prepare the checks and the report's plots."""
        s = submitted
        if self.key_of is not None:
            key = self.key_of(s)
        else:
            key = answer_key(s.course, s.assignment, self.options, self.progress)
        if warm:
            exercises = _exercises(s.course, s.assignment)
            prepare(s.course, key, exercises)
            if any(KINDS[ex.answer.kind].plots for ex in exercises):
                from .report.plots import warm as warm_plots

                warm_plots()  # the report plots their losses: import matplotlib meanwhile
        return lambda executed: judged(s.course, s.assignment, s.name, s.assembled, executed, key)

    def follow_up(self, submitted: Submitted) -> FollowUp | None:
        """What runs after each export while the kernel is alive: a property failure shrunk
        to a minimal one, with the reference this process holds (``grader.judge.shrunk``)."""
        from .judge.shrunk import follow_up, references_of

        s = submitted
        exercises = _exercises(s.course, s.assignment)
        return follow_up(exercises, s.assembled.draws, references_of(s.course))


def given(key: AnswerKey) -> Callable[[Submitted], AnswerKey]:
    """A ``key_of`` for a key at hand (a batch loads each variant's once)."""
    return lambda submitted: key


def grade_one(
    submitted: Submitted,
    options: GradeOptions,
    runner: Runner,
    judging: Judging | None = None,
) -> Graded:
    """Grade one submission: start its run, do meanwhile what judging needs (the key, the
    checks' objects, the class's references for the copying check), judge the run, and
    attribute it (whose it is, its flags); the notices of every stage are kept, in order."""
    s = submitted
    judging = judging or AgainstKey(options)
    follow_up = judging.follow_up(s) if isinstance(judging, AgainstKey) else None
    running = runner(s.assembled.steps, follow_up)
    try:
        judge = judging.ahead(s, warm=not running.done())
        references = None
        if s.identity.roster and s.identity.student:  # for the copying check
            keys = variant_keys(s.assignment, options)
            references = class_references(
                s.course, s.assignment, options.release_dir(s.course), keys
            )
        executed = running.result()
    except BaseException:
        running.abandon()
        raise
    verdict = judge(executed)
    who = attributed(verdict, executed.exports, s.identity, references, s.student, s.flags)
    result = GradeResult.of(verdict, who, notices=(*s.notices, *s.identity.notices))
    exec_options = options.exec_options(s.course)
    fingerprint = run_fingerprint(s.course, s.assignment, exec_options, s.assembled.missing)
    from .gradebook import Graded  # sqlite3: not before a kernel is launched (grade)

    return Graded(result, executed, s.course.fingerprint, fingerprint, s.assembled.draws)


# --- reading a submission for grading ------------------------------------------------------------


def read_submission(
    course: Course,
    nb: NotebookNode,
    path: Path,
    options: GradeOptions,
    assignment: str | None = None,
    student: str = "",
) -> Submitted:
    """A notebook read for grading: which assignment it answers, for whom (``student``, else
    the notebook's claim), against which variant, and the steps to run."""
    assignment_id, notices = which_assignment(course, nb, path, assignment)
    return submitted(course, assignment_id, nb, path.name, options, student, tuple(notices))


def submitted(
    course: Course,
    assignment_id: str,
    nb: NotebookNode,
    name: str,
    options: GradeOptions,
    student: str = "",
    notices: tuple[str, ...] = (),
    flags: tuple[str, ...] = (),
    draws: Draws | None = None,
) -> Submitted:
    """A notebook of a known assignment read for grading: who it is graded for (``student``,
    else the notebook's claim, ``grader.identity``), the course as that student's variant
    sees it, and the steps to run, with fresh draws (``grader.draws``) or the ``draws`` its
    stored run was given (a regrade)."""
    identity = identify(course, options.release_dir(course), assignment_id, nb.metadata, student)
    mine = for_variant(course, assignment_id, identity.variant)
    assembled = assemble(mine, assignment_id, nb, draws)
    return Submitted(mine, assignment_id, name, identity, assembled, notices, flags, student)


def which_assignment(
    course: Course, nb: NotebookNode, path: Path, assignment: str | None
) -> tuple[str, list[str]]:
    """The assignment a notebook answers (given, declared in its metadata, named by otter's
    init cell, from its file name, or else the one whose exercises its answer cells answer
    most of), and notices about how that was decided."""
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
    otter = otter_assignment(nb) if chosen is None else None
    if otter is not None and otter in {a.id for a in course.assignments}:
        chosen = otter
        notices.append(f"graded as {chosen}, the assignment otter's init cell names")
    if chosen is None:
        stems = [a.id for a in course.assignments if path.stem.startswith(a.id)]
        how = "from its file name"
        if not stems:  # a notebook nbgrader made (problem1.ipynb): what its cells answer
            stems, how = _by_answer_cells(course, nb), "from its answer cells"
        if len(stems) != 1:
            known = ", ".join(a.id for a in course.assignments)
            raise SubmissionError(
                f"{path.name} does not say which assignment it is: "
                f"pass --assignment (one of: {known})"
            )
        chosen = stems[0]
        notices.append(
            f"the notebook does not say which assignment it is; graded as {chosen} ({how})"
        )
    course.assignment(chosen)  # unknown id -> one clear error
    if meta.get("version") not in (None, course.fingerprint):
        notices.append(
            "the notebook was made from another release of the course; "
            "it was graded against the current one"
        )
    return chosen, notices


def _by_answer_cells(course: Course, nb: NotebookNode) -> list[str]:
    """The assignment whose exercises the notebook's answer cells answer most of, as a list of
    one; none (no cell answers any) or several (a tie) when that does not decide."""
    ids = answered(nb)
    overlap = {a.id: len(ids.intersection(a.exercises)) for a in course.assignments}
    best = max(overlap.values(), default=0)
    tied = [aid for aid, n in overlap.items() if n == best]
    return tied if best > 0 and len(tied) == 1 else []


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
        "exports": EXPORT_FORMAT,
        "setup": [course.topics[t].setup for t in topics],
        "exercises": [
            [e.id, e.answer.export_spec(), e.starter if e.id in left_out else None]
            for e in exercises
        ],
        "limits": dataclasses.asdict(options.limits),
        "data": [[name, str(folder)] for name, folder in options.data],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _exercises(course: Course, assignment_id: str) -> list[Exercise]:
    return [course.exercises[e] for e in course.assignment(assignment_id).exercises]
