"""The grading pipeline, top to bottom: assemble -> execute -> judge -> result.

Also ``build``: render the release notebooks, make the answer key by running the reference
solutions, and self-check that the solutions score full marks and the starters score 0.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from .assemble import Assembled, Step, assemble, read_notebook
from .errors import BuildError, GraderError, SubmissionError
from .execute import ExecOptions, Executed, execute, read_export
from .judge import judge
from .key import AnswerKey, key_path, load_key, save_key
from .render import render_assignment
from .results import GradeResult
from .sandbox import SandboxMode
from .solutions import load_solutions
from .spec import LIMIT_FIELDS, Course

Progress = Callable[[str], None]


@dataclass(frozen=True)
class GradeOptions:
    """Options of a grading run; ``None`` fields fall back to the course's settings."""

    limits: Mapping[str, float] = field(default_factory=dict)  # overrides of course limits
    sandbox: SandboxMode = "auto"
    release: Path | None = None
    threads: int = 0

    def exec_options(self, course: Course) -> ExecOptions:
        """Execution options: course limits, overridden by what was given here."""
        unknown = set(self.limits) - set(LIMIT_FIELDS)
        if unknown:
            raise GraderError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        limits = replace(
            course.limits, **{k: type(getattr(course.limits, k))(v) for k, v in self.limits.items()}
        )
        data = course.cifar10_dir or os.environ.get("GRADE_CIFAR10_DIR") or ""
        data_dirs = (Path(course.root, data).resolve(),) if data else ()
        return ExecOptions(
            limits=limits,
            sandbox=self.sandbox,
            threads=self.threads,
            data_dirs=tuple(d for d in data_dirs if d.is_dir()),
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
    nb = read_notebook(path)
    assignment_id, notices = _which_assignment(course, nb, path, assignment)
    key = answer_key(course, assignment_id, options, progress)
    result = grade_notebook(course, assignment_id, nb, path.name, key, options)
    return replace(result, notices=tuple(notices) + result.notices)


def grade_notebook(
    course: Course,
    assignment_id: str,
    nb: NotebookNode,
    name: str,
    key: AnswerKey,
    options: GradeOptions = GradeOptions(),
) -> GradeResult:
    """Assemble, execute and judge one notebook against an answer key."""
    return _execute_then_judge(course, assignment_id, nb, name, options)(key)


def answer_key(
    course: Course,
    assignment_id: str,
    options: GradeOptions = GradeOptions(),
    progress: Progress | None = None,
) -> AnswerKey:
    """The stored key when it matches this version of the course; else make and store it."""
    path = key_path(options.release_dir(course), assignment_id)
    key = load_key(path)
    if key is not None and key.fingerprint == course.fingerprint:
        return key
    if progress:
        progress(f"making the answer key of {assignment_id} (runs the reference solution)")
    key, _ = make_key(course, assignment_id, options)
    save_key(key, path)
    return key


def make_key(
    course: Course, assignment_id: str, options: GradeOptions = GradeOptions()
) -> tuple[AnswerKey, GradeResult]:
    """Run the solution notebook; its exports become the key, and it is graded against it."""
    solution = solution_notebook(course, assignment_id)
    assembled = assemble(course, assignment_id, solution)
    with tempfile.TemporaryDirectory(prefix="grade-key-") as tmp:
        executed = execute(assembled.steps, options.exec_options(course), Path(tmp))
        values: dict[str, Any] = {}
        problems = []
        for step, outcome in zip(assembled.steps, executed.outcomes, strict=True):
            if step.role != "export":
                continue
            payload = read_export(executed.export_dir, step.exercise)
            if outcome.status != "ok" or not payload or not payload.get("ok"):
                error = (payload or {}).get("error") or _step_error(assembled, executed, step)
                problems.append(f"{step.exercise}: the reference solution failed: {error}")
            elif "value" in payload:
                values[step.exercise] = payload["value"]
        if problems:
            raise BuildError("; ".join(problems))
        key = AnswerKey(assignment=assignment_id, fingerprint=course.fingerprint, values=values)
    result = grade_notebook(
        course, assignment_id, solution, f"{assignment_id} (solution)", key, options
    )
    return key, result


def solution_notebook(course: Course, assignment_id: str) -> NotebookNode:
    """The solution notebook of an assignment (reads solutions/)."""
    assignment = course.assignment(assignment_id)
    sections: dict[str, str] = {}
    for topic in {course.exercises[e].topic for e in assignment.exercises}:
        sections.update(load_solutions(course, topic).sections)
    return render_assignment(course, assignment, "solution", sections)


@dataclass(frozen=True)
class BuiltAssignment:
    """What ``grade build`` made for one assignment, and how its self-check went."""

    id: str
    student: Path
    solution: Path
    max_score: float
    solution_score: float
    starter_score: float
    problems: tuple[str, ...] = field(default=())


def build(
    course: Course,
    out: Path,
    options: GradeOptions = GradeOptions(),
    progress: Progress | None = None,
) -> list[BuiltAssignment]:
    """Write release notebooks and keys, then self-check every assignment.

    Raises BuildError naming every exercise whose solution is not full marks or whose
    starter earns points (the notebooks are written all the same).
    """
    options = replace(options, release=out)
    built = []
    for a in course.assignments:
        if progress:
            progress(f"building {a.id}: {len(a.exercises)} exercises")
        student = render_assignment(course, a, "student")
        solution = solution_notebook(course, a.id)
        paths = [out / "student" / f"{a.id}.ipynb", out / "solution" / f"{a.id}.ipynb"]
        for nb, path in zip((student, solution), paths, strict=True):
            _write_notebook(nb, path)
        with ThreadPoolExecutor(max_workers=2) as pool:
            # The key run and the starter run are independent kernels: run them side by side.
            keyed = pool.submit(make_key, course, a.id, options)
            starter_exec = pool.submit(
                _execute_then_judge, course, a.id, student, "starter", options
            )
            key, sol_result = keyed.result()
            starter_result = starter_exec.result()(key)
        save_key(key, key_path(out, a.id))
        problems = [
            f"{a.id}/{e.id}: the reference solution scores {e.score:g}/{e.points:g}"
            f" ({e.message or e.status})"
            for e in sol_result.exercises
            if e.score < e.points
        ]
        problems += [
            f"{a.id}/{e.id}: the blank starter earns {e.score:g} points"
            for e in starter_result.exercises
            if e.score > 0
        ]
        built.append(
            BuiltAssignment(
                a.id,
                paths[0],
                paths[1],
                sol_result.max_score,
                sol_result.score,
                starter_result.score,
                tuple(problems),
            )
        )
    failures = [p for b in built for p in b.problems]
    if failures:
        raise BuildError("self-check failed: " + "; ".join(failures))
    return built


def _execute_then_judge(
    course: Course, assignment_id: str, nb: NotebookNode, name: str, options: GradeOptions
) -> Callable[[AnswerKey], GradeResult]:
    """Assemble and execute now; the returned function judges, once a key is at hand."""
    assembled = assemble(course, assignment_id, nb)
    tmp = tempfile.TemporaryDirectory(prefix="grade-")
    try:
        executed = execute(assembled.steps, options.exec_options(course), Path(tmp.name))
    except BaseException:
        tmp.cleanup()
        raise

    def finish(key: AnswerKey) -> GradeResult:
        started = time.monotonic()
        try:
            exercises = judge(course, assembled, executed, key, _holdout(course, key))
        finally:
            tmp.cleanup()
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
        )

    return finish


def _write_notebook(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))
    tmp.replace(path)


def _step_error(assembled: Assembled, executed: Executed, step: Step) -> str:
    """Why an export step produced nothing: its own error, or that of the answer before it."""
    i = assembled.steps.index(step)
    for outcome in (executed.outcomes[i], executed.outcomes[i - 1]):
        if outcome.error:
            return outcome.error.summary
    return "no answer was exported"


def _holdout(course: Course, key: AnswerKey) -> Callable[[int], Any]:
    def make(n: int) -> Any:
        from .datasets import holdout_data

        return holdout_data(n, key.seed, cifar10_dir=course.cifar10_dir)

    return make


def _which_assignment(
    course: Course, nb: NotebookNode, path: Path, assignment: str | None
) -> tuple[str, list[str]]:
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
