"""Submission + trusted release notebook -> the steps to execute.

Only answer cells come from the submission (matched by ``metadata.grader``; in notebooks
nbgrader made by their ``grade_id``, in those otter made by otter's cells,
``grader.otter_cells``); setup code and everything else is taken from the release. Missing,
duplicated or re-tagged answer cells are reported as notices, never trusted and never fatal.
A manual answer (``grader.kinds``, kind ``manual``) is never run: its cell's text (markdown or
code) is kept for a reviewer. In a notebook made by nbgrader, a task's answer is the cells the
student wrote after it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .draws import Draws, draw
from .ids import slug
from .kinds import is_manual
from .otter_cells import is_otter_notebook, otter_claims
from .spec import Course

if TYPE_CHECKING:
    from nbformat import NotebookNode

# The hand-out notebook's check(...) cells are never run here, but a student may call check()
# in an answer cell too: it is defined (and, with no hand-out beside the kernel, only says so).
CHECK_IMPORT = "from grader.inkernel.public import check"
# An otter-made notebook's answers may call grader.check("q1") or import otter (not installed):
# both are inert (grader.inkernel.otter_client); otter's own cells are never run.
OTTER_CLIENT = (
    "from grader.inkernel.otter_client import install as _otter_install\n"
    "grader = _otter_install()\n"
    "del _otter_install"
)


@dataclass(frozen=True)
class Step:
    """One cell to run: trusted setup, a student's answer, or the export of an answer."""

    role: Literal["setup", "answer", "export"]
    exercise: str  # the exercise id (the topic id for setup steps)
    source: str = ""
    spec: dict[str, Any] = field(default_factory=dict)  # export steps: the export recipe


@dataclass(frozen=True)
class Assembled:
    """What to execute for one submission, and what was noticed while assembling it."""

    steps: tuple[Step, ...]
    notices: tuple[str, ...]
    missing: frozenset[str]
    # What the grader drew for this grading (``grader.draws``): seeds, generated cases.
    draws: Draws = field(default_factory=dict)
    # Manual answers (never run): exercise id -> the answer cell's text, for a reviewer.
    manual: Mapping[str, str] = field(default_factory=dict)
    # The assignment's exercise ids, in order (manual ones have no steps).
    order: tuple[str, ...] = ()


def assemble(
    course: Course, assignment_id: str, submission: NotebookNode, draws: Draws | None = None
) -> Assembled:
    """Build the execution steps of one submission for the given assignment, with fresh
    ``draws`` (``grader.draws``), or the ones given (a regrade: those the run was given)."""
    assignment = course.assignment(assignment_id)
    draws = draw(course, assignment_id) if draws is None else draws
    manual_ids = {e for e in assignment.exercises if is_manual(course.exercises[e].answer.kind)}
    otter = is_otter_notebook(submission)
    found, notices = _answer_cells(submission, assignment.exercises, manual_ids, otter)
    steps: list[Step] = [Step("setup", assignment.id, CHECK_IMPORT)]
    if otter:  # answers written for otter may call its client
        steps.append(Step("setup", assignment.id, OTTER_CLIENT))
    missing: set[str] = set()
    manual: dict[str, str] = {}
    seen_topics: set[str] = set()
    for eid in assignment.exercises:
        ex = course.exercises[eid]
        if eid in manual_ids:
            if eid in found:
                manual[eid] = found[eid]
            else:
                missing.add(eid)
                notices.append(f"no answer cell for {eid!r} was found; it was graded as unanswered")
            continue
        if ex.topic not in seen_topics:
            seen_topics.add(ex.topic)
            setup = course.topics[ex.topic].setup
            if setup.strip():
                steps.append(Step("setup", ex.topic, setup))
        if eid in found:
            source = found[eid]
        else:
            missing.add(eid)
            source = ex.starter
            notices.append(f"no answer cell for {eid!r} was found; it was graded as unanswered")
        steps.append(Step("answer", eid, source))
        spec = with_draws(ex.answer.export_spec(), draws.get(eid, {}))
        steps.append(Step("export", eid, spec=spec))
    return Assembled(
        tuple(steps), tuple(notices), frozenset(missing), draws, manual, assignment.exercises
    )


def with_draws(spec: dict[str, Any], drawn: Mapping[str, Any]) -> dict[str, Any]:
    """An export spec with this grading's draws: a model's seed (the kernel draws the
    parameters of its behaviour check from it, ``grader.inkernel.behaviour``), a function's
    generated cases and property examples after its fixed cases."""
    if not drawn:
        return spec
    if spec.get("recipe") == "model":
        return {**spec, "seed": drawn["seed"]}
    extra = [*drawn.get("generated", ()), *drawn.get("examples", ())]
    return {**spec, "cases": [*spec.get("cases", ()), *extra]}


def warm_steps(course: Course, steps: Sequence[Step]) -> int:
    """How many leading steps a kernel may run before it knows its submission: the course's
    setup, up to the first topic with parameters (its setup differs between students)."""
    for i, step in enumerate(steps):
        topic = course.topics.get(step.exercise)
        if step.role != "setup" or (topic is not None and topic.params):
            return i
    return len(steps)


def _answer_cells(
    nb: NotebookNode, order: Sequence[str], manual: set[str], otter: bool
) -> tuple[dict[str, str], list[str]]:
    """Exercise id -> source of its answer cell(s); the last of duplicates wins, with a
    notice. A manual answer's cells may be markdown or code (a person reads them); others are
    code. A cell with grade's or nbgrader's id answers that exercise; in a notebook otter
    made (``otter``), the other cells answer as otter's cells delimit them
    (``grader.otter_cells``)."""
    cells = nb.get("cells", [])
    claims: list[tuple[int, str, tuple[int, ...]]] = []
    notices: list[str] = []
    for index, cell in enumerate(cells):
        eid = _answer_id(cell)
        if eid is None:
            continue
        if eid not in order:
            notices.append(
                f"cell {index + 1} is tagged as the answer to {eid!r}, "
                "which is not an exercise of this assignment; it was ignored"
            )
        claims.append((index, eid, (index,)))
    if otter:
        tagged = frozenset(i for i, _, _ in claims)
        found_otter, said = otter_claims(cells, order, tagged)
        claims += [(c.position, c.exercise, c.cells) for c in found_otter]
        notices += said
    found: dict[str, str] = {}
    counts: dict[str, int] = {}
    for _, eid, members in sorted(claims):
        if eid not in order:
            continue
        kinds = ("code", "markdown") if eid in manual else ("code",)
        chosen = [cells[i] for i in members if cells[i].get("cell_type") in kinds]
        if not chosen:
            other = cells[members[-1]].get("cell_type")
            notices.append(
                f"the answer cell for {eid!r} was turned into a {other} cell; it was ignored"
            )
            continue
        if len(members) == 1 and _is_task(cells[members[0]]):
            found[eid] = _task_answer(cells, members[0])
        else:
            found[eid] = ("\n\n" if eid in manual else "\n").join(_text(c) for c in chosen)
        counts[eid] = counts.get(eid, 0) + 1
    for eid, n in counts.items():
        if n > 1:
            notices.append(f"{n} cells answer {eid!r}; the last one was graded")
    return found, notices


def answered(nb: NotebookNode) -> set[str]:
    """The exercise ids a notebook's answer cells name, found as assembling finds them."""
    return {eid for cell in nb.get("cells", []) if (eid := _answer_id(cell)) is not None}


def _text(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _nbgrader(cell: Any) -> dict[str, Any] | None:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else None


def _is_task(cell: Any) -> bool:
    nbgrader = _nbgrader(cell)
    return nbgrader is not None and nbgrader.get("task") is True


def _task_answer(cells: Sequence[Any], index: int) -> str:
    """An nbgrader task's answer: nbgrader gives a task no answer cell, a student writes it in
    cells of their own after the task's, up to the next cell nbgrader (or grade) made. It is
    markdown for its reviewer: a code cell's text is a fenced block."""
    texts: list[str] = []
    for cell in cells[index + 1 :]:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        if not isinstance(meta, dict) or "nbgrader" in meta or "grader" in meta:
            break
        text = _text(cell).strip()
        if text and cell.get("cell_type") == "code":
            fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", text))])
            text = f"{fence}python\n{text}\n{fence}"
        if text:
            texts.append(text)
    return "\n\n".join(texts)


def _answer_id(cell: Any) -> str | None:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    tag = meta.get("grader") if isinstance(meta, dict) else None
    if isinstance(tag, dict) and tag.get("role") == "answer" and isinstance(tag.get("id"), str):
        return str(tag["id"])
    cell_id = cell.get("id") if isinstance(cell, dict) else None
    if isinstance(cell_id, str) and cell_id.startswith("answer-"):
        return cell_id[len("answer-") :]
    # A notebook made by nbgrader: its answer cells (and tasks) by grade_id, as `grade import`
    # named them.
    nbgrader = _nbgrader(cell)
    if nbgrader is not None and (nbgrader.get("solution") is True or nbgrader.get("task") is True):
        return nbgrader_exercise_id(nbgrader.get("grade_id"))
    return None


def nbgrader_exercise_id(grade_id: Any) -> str | None:
    """The exercise id `grade import nbgrader` gives the answer cell of this grade_id."""
    if not isinstance(grade_id, str):
        return None
    eid = slug(grade_id)
    return eid or None
