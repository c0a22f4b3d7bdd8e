"""``grade build``: render the release notebooks, make the answer keys and the student
hand-outs, self-check.

The reference solution of each assignment runs once: its exports become the answer key, and
the same run, judged against that key, must score full marks. The blank student notebook
runs beside it (another kernel) and must score 0.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from .errors import BuildError
from .execute import Executed
from .handout import write_handout
from .judge.scoring import mistake_problems
from .key import MAX_LOSSES, AnswerKey, key_path, save_key
from .pipeline import GradeOptions, Progress, execute_notebook, graded
from .render import render_assignment
from .results import GradeResult
from .solutions import load_solutions
from .spec import Course


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
            starter_run = pool.submit(execute_notebook, course, a.id, student, options)
            key, sol_result = keyed.result()
            starter_result = graded(course, a.id, "starter", *starter_run.result(), key)
        save_key(key, key_path(out, a.id))
        write_handout(course, a.id, key, out)
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
        problems += mistake_problems(course, a.id, key)
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


def make_key(
    course: Course, assignment_id: str, options: GradeOptions = GradeOptions()
) -> tuple[AnswerKey, GradeResult]:
    """Run the solution notebook once: its exports become the key, and the same run is then
    judged against that key."""
    assembled, executed = execute_notebook(
        course, assignment_id, solution_notebook(course, assignment_id), options
    )
    values: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    problems = []
    for i, step in enumerate(assembled.steps):
        if step.role != "export":
            continue
        export = executed.exports.get(step.exercise)
        if export is None or not export.ok:
            error = (export.payload.get("error") if export else None) or _step_error(executed, i)
            problems.append(f"{step.exercise}: the reference solution failed: {error}")
        elif "value" in export.payload:
            values[step.exercise] = export.payload["value"]
        elif isinstance((export.payload.get("extras") or {}).get("losses"), list):
            extras[step.exercise] = {"losses": export.payload["extras"]["losses"][:MAX_LOSSES]}
    if problems:
        raise BuildError("; ".join(problems))
    key = AnswerKey(
        assignment=assignment_id, fingerprint=course.fingerprint, values=values, extras=extras
    )
    return key, graded(
        course, assignment_id, f"{assignment_id} (solution)", assembled, executed, key
    )


def solution_notebook(course: Course, assignment_id: str) -> NotebookNode:
    """The solution notebook of an assignment (reads solutions/)."""
    assignment = course.assignment(assignment_id)
    sections: dict[str, str] = {}
    for topic in {course.exercises[e].topic for e in assignment.exercises}:
        sections.update(load_solutions(course, topic).sections)
    return render_assignment(course, assignment, "solution", sections)


def _step_error(executed: Executed, export_index: int) -> str:
    """Why an export step produced nothing: the error of its answer step, or its own."""
    for outcome in (executed.outcomes[export_index - 1], executed.outcomes[export_index]):
        if outcome.error:
            return outcome.error.summary
    return "no answer was exported"


def _write_notebook(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))
    tmp.replace(path)
