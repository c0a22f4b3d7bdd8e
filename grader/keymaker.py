"""The answer key of an assignment, made or loaded: one module for both.

``make_key`` runs the reference solution notebook once in a kernel: its exports become the
key, and the same run is judged against that key (the build's self-check wants full marks).
``answer_key`` is what grading asks for: the key stored in the release when it matches this
version of the course, else one made (and stored) now; a per-student variant's key is the
default key with the values that vary computed again in this process. The key's records,
its file and its seed are ``grader.key``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from .assemble import assemble
from .copying import KeyOf
from .errors import BuildError
from .execute import Executed
from .judge.record import judged
from .key import MAX_LOSSES, AnswerKey, key_path, lasting_seed, load_key, save_key
from .options import GradeOptions, Progress
from .results import Judged
from .roster import course_secret
from .runners import fresh_kernel
from .solutions import load_solutions, reference_calls, reference_values, with_values
from .spec import Course
from .spec.varying import DEFAULT
from .variants import for_variant

if TYPE_CHECKING:
    from nbformat import NotebookNode


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
        base = answer_key(
            for_variant(course, assignment_id, DEFAULT), assignment_id, options, progress
        )
        values = {**base.values, **reference_values(course, assignment_id)}
        key = dataclasses.replace(base, values=values, variant=course.variant)
        save_key(key, path)
        return key
    if progress:
        progress(f"making the answer key of {assignment_id} (runs the reference solution)")
    key, _ = make_key(course, assignment_id, options)
    save_key(key, path)
    return key


def variant_keys(assignment_id: str, options: GradeOptions = GradeOptions()) -> KeyOf:
    """The key of each variant of an assignment, as ``answer_key`` gives it (the copying
    check indexes the whole roster's)."""
    return lambda mine: answer_key(mine, assignment_id, options)


def key_seed(course: Course, assignment_id: str, options: GradeOptions = GradeOptions()) -> int:
    """The seed a new key of the assignment gets: the stored key's (a key made again after an
    edit keeps its held-out samples), else one derived from the course secret, if any."""
    path = key_path(options.release_dir(course), assignment_id)
    return lasting_seed(path, course_secret(course), course.name, assignment_id)


def make_key(
    course: Course,
    assignment_id: str,
    options: GradeOptions = GradeOptions(),
    seed: int | None = None,
) -> tuple[AnswerKey, Judged]:
    """Run the solution notebook once: its exports become the key (with ``seed``, else the
    seed of the key it replaces), and the same run is then judged against that key."""
    assembled = assemble(course, assignment_id, solution_notebook(course, assignment_id))
    executed = fresh_kernel(options.exec_options(course))(assembled.steps).result()
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
    values.update(reference_calls(course, assignment_id))  # computed here, not in a kernel
    key = AnswerKey(
        assignment=assignment_id,
        fingerprint=course.fingerprint,
        values=values,
        extras=extras,
        seed=key_seed(course, assignment_id, options) if seed is None else seed,
    )
    return key, judged(
        course, assignment_id, f"{assignment_id} (solution)", assembled, executed, key
    )


def solution_notebook(course: Course, assignment_id: str) -> NotebookNode:
    """The solution notebook of an assignment (reads solutions/): each answer cell is the
    exercise's section, after the values of its own parameters."""
    assignment = course.assignment(assignment_id)
    sections: dict[str, str] = {}
    for topic in {course.exercises[e].topic for e in assignment.exercises}:
        sections.update(load_solutions(course, topic).sections)
    sections = {
        e: with_values(course.exercises[e], source)
        for e, source in sections.items()
        if e in course.exercises
    }
    from .render import render_assignment  # nbformat: not before a kernel is launched

    return render_assignment(course, assignment, "solution", sections)


def _step_error(executed: Executed, export_index: int) -> str:
    """Why an export step produced nothing: the error of its answer step, or its own."""
    for outcome in (executed.outcomes[export_index - 1], executed.outcomes[export_index]):
        if outcome.error:
            return outcome.error.summary
    return "no answer was exported"
