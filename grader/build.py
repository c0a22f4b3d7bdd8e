"""``grade build``: render the release notebooks, make the answer keys and the student
hand-outs, self-check.

The reference solution of each assignment runs once: its exports become the answer key, and
the same run, judged against that key, must score full marks. The blank student notebook
runs beside it (another kernel) and must score 0.

With a roster (``--roster``, or the one the release was built with), every student also gets
a notebook (and a hand-out) of their own numbers, ``student/<assignment>/<id>.ipynb``: the
values of each variant are checked in this process (constraints, known mistakes, the
hand-out's public checks) and each variant's solution and blank notebook are run (on the
batch's pool of warm kernels) and must score full marks and 0.

The grader's own wheel goes beside the hand-outs (``handout/<wheel>``): students install
the grader from it, with no course in it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from .assemble import assemble, warm_steps
from .errors import BuildError, ExecutionError
from .extensions import class_extensions
from .grading import AgainstKey, Submitted, given, grade_one
from .handout_release import Digests, write_handout
from .identity import Identity
from .judge.scoring import mistake_problems
from .key import AnswerKey, key_path, save_key
from .keymaker import answer_key, make_key, solution_notebook
from .leaks import release_leaks
from .options import GradeOptions, Progress
from .render import render_assignment
from .results import AWAITING, Judged
from .roster import (
    SECRET_FILE,
    Student,
    ensure_secret,
    load_roster,
    roster_path,
    save_roster,
    signature,
    variant_of,
)
from .runners import fresh_kernel, ran
from .solutions import reference_values
from .spec import Course
from .spec.varying import varies
from .variants import default_variant, for_variant
from .wheel import write_wheel
from .workers import default_workers, kernel_threads


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
    students: int = 0  # notebooks made for the students of a roster
    variants_checked: int = 0  # variants whose solution and blank notebook were run
    manual: float = 0.0  # the points of its manual exercises, which a reviewer scores


def build(
    course: Course,
    out: Path,
    options: GradeOptions = GradeOptions(),
    progress: Progress | None = None,
    roster: tuple[Student, ...] | None = None,
    check_variants: int | None = None,
) -> list[BuiltAssignment]:
    """Write release notebooks and keys, then self-check every assignment.

    Args:
        roster: students to make notebooks of their own numbers for (default: the roster
            the release was built with, if any).
        check_variants: how many variants per assignment to run (solution and blank
            notebook) in the self-check; None runs them all.

    Raises BuildError naming every exercise whose solution is not full marks or whose
    starter earns points (the notebooks are written all the same).
    """
    options = replace(options, release=out)
    course = default_variant(course)  # the notebooks of nobody in particular
    if roster is None:
        stored = load_roster(out)
        roster = stored.students if stored else None
        if roster and progress:
            progress(f"the roster of the last build: {len(roster)} students ({roster_path(out)})")
    secret = b""
    if roster:
        secret, made = ensure_secret(course)
        if made and progress:
            progress(
                f"made the course secret {course.root / SECRET_FILE}: keep it with the course "
                "and out of students' reach; without it the students' numbers cannot be rebuilt"
            )
        save_roster(out, roster, secret)
        class_extensions(course, out, [])  # an extension that names nobody of it: an error
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
            blank = Submitted(course, a.id, "starter", Identity(), assemble(course, a.id, student))
            runner = fresh_kernel(options.exec_options(course))
            judging = AgainstKey(options, key_of=_made(keyed))
            starter_run = pool.submit(grade_one, blank, options, runner, judging)
            key, sol_result = keyed.result()
            starter_result = starter_run.result().result
        save_key(key, key_path(out, a.id))
        write_handout(course, a.id, key, out)
        problems = [
            f"{a.id}/{e.id}: the reference solution scores {e.score:g}/{e.points:g}"
            f" ({e.message or e.status})"
            for e in sol_result.exercises
            if e.score < e.points and e.status != AWAITING  # manual: a person scores it
        ]
        problems += [
            f"{a.id}/{e.id}: the blank starter earns {e.score:g} points"
            for e in starter_result.exercises
            if e.score > 0
        ]
        problems += mistake_problems(course, a.id, key)
        problems += _computed_here(course, a.id, key)
        students, checked = 0, 0
        if roster:
            students, checked, more = build_students(
                course, a.id, roster, secret, out, options, check_variants, progress
            )
            problems += more
        built.append(
            BuiltAssignment(
                a.id,
                paths[0],
                paths[1],
                sol_result.max_score,
                sol_result.score,
                starter_result.score,
                tuple(problems),
                students,
                checked,
                sol_result.awaiting,
            )
        )
    wheel = write_wheel(out / "handout")  # what students install the grader from
    if progress:
        progress(f"the grader for students: {wheel}")
    failures = [p for b in built for p in b.problems]
    failures += release_leaks(course, out, roster or (), secret)  # no text states an answer
    if failures:
        raise BuildError("self-check failed: " + "; ".join(failures))
    return built


def _computed_here(course: Course, assignment_id: str, key: AnswerKey) -> list[str]:
    """Every variant's key is computed in this process: the default's values computed so
    must be the ones its solution notebook exported."""
    if not varies(course, assignment_id):
        return []
    here = reference_values(course, assignment_id)
    return [
        f"{assignment_id}/{e}: the solution gives {value!r} in the grader but "
        f"{key.values.get(e)!r} in the kernel"
        for e, value in here.items()
        if value != key.values.get(e)
    ]


# --- a roster: a notebook of their own numbers for every student -------------------------------


def build_students(
    course: Course,
    assignment_id: str,
    roster: tuple[Student, ...],
    secret: bytes,
    out: Path,
    options: GradeOptions,
    check_variants: int | None = None,
    progress: Progress | None = None,
) -> tuple[int, int, list[str]]:
    """Write each student's notebook (and hand-out) and the key of each variant, check the
    variants; returns the students written, the variants run, and the problems found."""
    assignment = course.assignment(assignment_id)
    folder = out / "student" / assignment_id
    _clear(folder, out / "handout" / assignment_id)
    variants: dict[str, tuple[Course, AnswerKey]] = {}
    problems: list[str] = []
    digests: Digests = {}
    for student in roster:
        variant = variant_of(secret, course, assignment_id, student.id)
        mine = for_variant(course, assignment_id, variant)
        key = answer_key(mine, assignment_id, options)
        if variant not in variants:
            variants[variant] = (mine, key)
            if variant:
                problems += mistake_problems(mine, assignment_id, key)
        owner = {
            "student": student.id,
            "variant": variant,
            "signature": signature(secret, course, assignment_id, student.id, variant),
        }
        _write_notebook(
            render_assignment(mine, assignment, "student", owner=owner),
            folder / f"{student.id}.ipynb",
        )
        try:
            write_handout(mine, assignment_id, key, out, owner=owner, made=digests)
        except BuildError as e:
            problems.append(f"{assignment_id} ({student.id}'s numbers): {e}")
    checked = [v for v in variants if v]
    if check_variants is not None:
        checked = checked[:check_variants]
    if checked and progress:
        progress(f"checking {len(checked)} variants of {assignment_id}: solution and blank each")
    problems += _check_variants(assignment_id, [variants[v] for v in checked], options)
    return len(roster), len(checked), problems


def _check_variants(
    assignment_id: str, courses: list[tuple[Course, AnswerKey]], options: GradeOptions
) -> list[str]:
    """Run each variant's solution and blank notebook on a pool of kernels: the solution
    must score full marks against the variant's key, the blank 0."""
    if not courses:
        return []
    from .backends import Job
    from .backends.local import LocalBackend

    workers = default_workers()
    if not options.threads:  # the kernels share the cores (as `grade batch` does)
        options = replace(options, threads=kernel_threads(workers))
    exec_options = options.exec_options(courses[0][0])
    keys = {mine.variant: key for mine, key in courses}
    planned: dict[str, tuple[str, Submitted]] = {}

    def jobs() -> Any:
        for mine, _ in courses:
            assignment = mine.assignment(assignment_id)
            notebooks = {
                "solution": solution_notebook(mine, assignment_id),
                "blank": render_assignment(mine, assignment, "student"),
            }
            for what, nb in notebooks.items():
                label = f"{assignment_id} (variant {mine.variant}, {what})"
                assembled = assemble(mine, assignment_id, nb)
                identity = Identity(variant=mine.variant)
                planned[label] = (what, Submitted(mine, assignment_id, label, identity, assembled))
                steps = assembled.steps
                yield Job(label, steps, exec_options, warm_steps(mine, steps))

    problems = []
    backend = LocalBackend(workers)
    try:
        for job, outcome in backend.run(jobs()):
            what, submitted = planned.pop(job.key)
            label = job.key
            if isinstance(outcome, ExecutionError):
                problems.append(f"{label}: {outcome}")
                continue
            judging = AgainstKey(options, key_of=given(keys[submitted.course.variant]))
            result = grade_one(submitted, options, ran(outcome), judging).result
            for e in result.exercises:
                if what == "solution" and e.score < e.points:
                    problems.append(
                        f"{label}/{e.id}: the reference solution scores {e.score:g}/"
                        f"{e.points:g} ({e.message or e.status})"
                    )
                elif what == "blank" and e.score > 0:
                    problems.append(f"{label}/{e.id}: the blank starter earns {e.score:g} points")
    finally:
        backend.close()
    return problems


def _made(keyed: Future[tuple[AnswerKey, Judged]]) -> Callable[[Submitted], AnswerKey]:
    """The key the solution's run is making (``make_key`` in another thread), once made."""
    return lambda _: keyed.result()[0]


def _clear(notebooks: Path, handouts: Path) -> None:
    """Remove the students' notebooks and hand-outs of an earlier build (a student who left
    the roster keeps none); the default hand-out's own files stay."""
    if notebooks.is_dir():
        for old in notebooks.glob("*.ipynb"):
            old.unlink()
    if handouts.is_dir():
        for old in handouts.iterdir():
            if old.is_dir():
                shutil.rmtree(old)
            elif old.suffix == ".zip":
                old.unlink()


def _write_notebook(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))
    tmp.replace(path)
