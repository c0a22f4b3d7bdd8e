"""nbgrader source notebooks -> a grade course.

A folder of assignments (nbgrader's ``source/``), each a folder of ``.ipynb`` files (or one
assignment's folder itself): each notebook is a topic, and an assignment of its own
(``<folder>-<notebook>``) when its folder holds several, as students hand in one notebook a
file; a folder of one notebook is one assignment of the folder's id. An answer cell
(``solution: true``) with the autograded test cells after it (``grade: true``, ``solution:
false``) is one exercise, of the kind its tests translate to (``grader.importers.translate``),
worth the tests' points; tests in ``### BEGIN HIDDEN TESTS`` regions make hidden cases. A manually
graded answer (``solution`` and ``grade``), a task, and an answer whose tests cannot be
translated become ``manual`` exercises, each said in ``Draft.notes``. Starters are what
nbgrader hands out: a solution region becomes ``# YOUR CODE HERE`` / ``raise
NotImplementedError()`` (``YOUR ANSWER HERE`` in markdown), a cell with no region that stub
whole. Exercise ids are the answer cells' grade_ids (``grader.assemble.nbgrader_exercise_id``),
so notebooks nbgrader made are graded as they are. Nothing of the notebooks is run.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from ..assemble import nbgrader_exercise_id
from ..errors import GraderError
from .draft import Draft, Topic, identifier, slug
from .notebook_cells import Cell, heading, read_cells
from .translate import Checks, defined_names, merge, translate

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def import_nbgrader(source: Path) -> Draft:
    """Read nbgrader's source folder into a draft course (see the module's docstring)."""
    if not source.is_dir():
        raise GraderError(f"{source} is not a folder of nbgrader assignments")
    if (source / "source").is_dir() and not any(source.glob("*.ipynb")):
        source = source / "source"  # the course's root: its source/ folder
    folder_name = source.resolve()
    draft = Draft(name=(folder_name.parent if folder_name.name == "source" else folder_name).name)
    folders = sorted(p for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
    if folders:  # notebooks beside the assignments: nbgrader's header.ipynb, say
        for loose in sorted(source.glob("*.ipynb")):
            draft.notes.append(
                f"{loose.name}: a notebook beside the assignments (a header?): not carried over"
            )
    else:
        folders = [source]  # one assignment's folder
    owner: dict[str, str] = {}
    for folder in folders:
        notebooks = sorted(folder.glob("*.ipynb"))
        if not notebooks:
            continue
        topics = []
        for path in notebooks:
            topic = _topic(path, slug(path.stem), draft)
            if topic.id in draft.topics:
                topic.id = f"{slug(folder.name)}-{topic.id}"
            for ex in topic.exercises:
                if ex["id"] in owner:
                    raise GraderError(
                        f"{path}: grade_id {ex['id']!r} is also in {owner[ex['id']]}: exercise "
                        "ids are unique across a course; rename one of the two"
                    )
                owner[ex["id"]] = str(path)
            draft.topics[topic.id] = topic
            topics.append(topic.id)
        for other in sorted(p.name for p in folder.iterdir() if p.suffix != ".ipynb"):
            draft.notes.append(
                f"{folder.name}/{other}: not carried over (put it beside the notebooks you "
                "hand out if a prompt shows it)"
            )
        # A student hands in one notebook a file: a folder of several makes one assignment a
        # notebook (``ps1-problem1``), so that a file is graded against its own parts only.
        aid = slug(folder.name)
        if len(topics) == 1:
            draft.assignments.append((aid, aid, topics))
        else:
            for path, topic_id in zip(notebooks, topics, strict=True):
                title = f"{folder.name}, {path.stem}"
                draft.assignments.append((slug(f"{aid}-{path.stem}"), title, [topic_id]))
    if not draft.assignments:
        raise GraderError(f"{source} holds no notebook (.ipynb) in it or its folders")
    ids = [aid for aid, _, _ in draft.assignments]
    twice = next((aid for aid in ids if ids.count(aid) > 1), None)
    if twice is not None:
        raise GraderError(
            f"{source}: two assignments would be {twice!r} (a folder's and another folder's "
            "notebook's): rename one of the two"
        )
    return draft


def strip_solution(cell: Cell, where: str) -> tuple[str, str]:
    """(starter, solution) of an answer cell, as nbgrader's ClearSolutions makes them."""
    stub = CODE_STUB if cell.type == "code" else TEXT_STUB
    if BEGIN not in cell.source:
        return stub + "\n", cell.source
    starter: list[str] = []
    solution: list[str] = []
    inside = False
    for line in cell.source.split("\n"):
        if BEGIN in line:
            if inside:
                raise GraderError(f"{where}: a {BEGIN} inside another")
            inside = True
            indent = re.match(r"\s*", line)
            starter.extend((indent.group(0) if indent else "") + s for s in stub.split("\n"))
        elif END in line:
            inside = False
        else:
            solution.append(line)
            if not inside:
                starter.append(line)
    if inside:
        raise GraderError(f"{where}: a {BEGIN} with no {END}")
    return "\n".join(starter).rstrip() + "\n", "\n".join(solution)


def _topic(path: Path, topic_id: str, draft: Draft) -> Topic:
    cells = read_cells(path)
    topic = Topic(topic_id, path.stem)
    pending: list[str] = []  # markdown (and shown code) before the next exercise
    open_ex: dict[str, Any] | None = None
    tests: list[Cell] = []

    def close() -> None:
        nonlocal open_ex, tests
        if open_ex is not None:
            _finish(open_ex, tests, topic, path, draft)
        open_ex, tests = None, []

    for cell in cells:
        meta = cell.metadata.get("nbgrader")
        nb = meta if isinstance(meta, dict) else {}
        where = f"{path.name} cell {cell.index}"
        if nb.get("solution") is True:
            close()
            ex = _exercise(cell, nb, pending, topic, where)
            pending = []
            if nb.get("grade") is True:
                _manual_answer(ex, cell, nb, topic, draft)
            else:
                open_ex = ex
        elif nb.get("grade") is True and cell.type == "code":
            if open_ex is None:
                draft.notes.append(
                    f"{where} (grade_id: {nb.get('grade_id')}): a test with no "
                    "answer cell before it: not carried over"
                )
            else:
                tests.append(cell)
        elif nb.get("task") is True:
            close()
            _task(cell, nb, pending, topic, draft, where)
            pending = []
        elif cell.type == "markdown":
            pending.append(cell.source)
        elif cell.type == "code" and cell.source.strip():
            # Code that defines something is the topic's setup (run before its first
            # exercise): before any answer, or anywhere when locked (code given, not edited).
            first = not topic.exercises and open_ex is None
            if (first or nb.get("locked") is True) and _defines(cell.source):
                topic.setup += cell.source.rstrip() + "\n"
            else:
                pending.append(f"```python\n{cell.source.rstrip()}\n```")
    close()
    if any(p.strip() for p in pending):
        draft.notes.append(f"{path.name}: the text after the last exercise is not carried over")
    return topic


def _defines(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(not isinstance(n, ast.Expr) for n in tree.body)


def _exercise(
    cell: Cell, nb: dict[str, Any], pending: list[str], topic: Topic, where: str
) -> dict[str, Any]:
    eid = nbgrader_exercise_id(nb.get("grade_id")) or f"{topic.id}-cell-{cell.index}"
    starter, solution = strip_solution(cell, where)
    topic.solutions[eid] = solution
    prompt = "\n\n".join(p.strip() for p in pending if p.strip())
    return {
        "id": eid,
        "title": heading(pending) or str(nb.get("grade_id") or eid),
        "points": 0,
        "prompt": (prompt or f"Answer {eid}.") + "\n",
        "starter": starter,
        "_cell": cell,
        "_grade_id": nb.get("grade_id"),
    }


def _points(nb: dict[str, Any]) -> float:
    value = nb.get("points", 0)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _finish(ex: dict[str, Any], tests: list[Cell], topic: Topic, path: Path, draft: Draft) -> None:
    cell: Cell = ex.pop("_cell")
    grade_id = ex.pop("_grade_id")
    where = f"{path.name} cell {cell.index} (grade_id: {grade_id})"
    if cell.type != "code":
        draft.notes.append(f"{where}: an ungraded markdown answer: not carried over")
        del topic.solutions[ex["id"]]
        return
    if not tests:
        draft.notes.append(
            f"{where}: no autograded test follows it (nbgrader gives it no "
            "points): not carried over"
        )
        del topic.solutions[ex["id"]]
        return
    functions, variables = defined_names(topic.solutions[ex["id"]])
    parts: list[tuple[Checks, float]] = []
    reasons: list[tuple[Cell, str]] = []
    for test in tests:
        checks = _test_checks(test, functions, variables)
        parts.append((checks, _points(test.metadata["nbgrader"])))
        if checks.why:
            reasons.append((test, checks.why))
    merged = merge(parts)
    total = sum(p for _, p in parts)
    ex["points"] = _number(total)
    if merged.why or total <= 0 or any(p <= 0 for c, p in parts if c.cases):
        if not merged.why:
            merged.why = "a test of it is worth no points"
        reasons = reasons or [(tests[0], merged.why)]
        for test, why in reasons:
            gid = test.metadata["nbgrader"].get("grade_id")
            draft.notes.append(
                f"{path.name} cell {test.index} (grade_id: {gid}): kept as manual: {why}"
            )
        rubric = [
            {
                "item": f"passes nbgrader's test {t.metadata['nbgrader'].get('grade_id')}:\n"
                f"{t.source.strip()}\n",
                "points": _number(_points(t.metadata["nbgrader"])),
            }
            for t in tests
        ]
        ex["answer"] = _manual(ex["id"], "code", rubric)
        topic.exercises.append(ex)
        return
    answer: dict[str, Any] = {"kind": "function" if merged.function else merged.kind}
    if merged.function:
        answer["name"] = merged.function
        answer["cases"] = [{**c, "points": _number(c["points"])} for c in merged.cases]
        if merged.calls:
            answer["calls"] = merged.calls
        if merged.calls_points:
            answer["calls_points"] = _number(merged.calls_points)
    else:
        answer["name"] = merged.variable
    ex["answer"] = answer
    topic.exercises.append(ex)


def _test_checks(test: Cell, functions: set[str], variables: set[str]) -> Checks:
    public, hidden = _hidden_regions(test.source)
    out = Checks()
    for text, is_public in ((public, True), (hidden, False)):
        if not _has_statements(text):
            continue
        checks = translate(text, is_public, functions, variables)
        part = (
            merge([(out, 1.0), (checks, 1.0)]) if (out.cases or out.kind or out.calls) else checks
        )
        if part.why:
            return part
        out = Checks(
            part.function,
            [{k: v for k, v in c.items() if k != "points"} for c in part.cases],
            part.calls,
            part.variable,
            part.kind,
        )
    return out if (out.cases or out.calls or out.kind) else Checks(why="no check in it")


def _hidden_regions(source: str) -> tuple[str, str]:
    public: list[str] = []
    hidden: list[str] = []
    inside = False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            inside = True
        elif END_HIDDEN in line:
            inside = False
        else:
            (hidden if inside else public).append(line)
    return "\n".join(public), "\n".join(hidden)


def _has_statements(text: str) -> bool:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return bool(text.strip())
    return any(
        not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)) for n in tree.body
    )


def _manual(eid: str, cell: str, rubric: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "manual", "name": identifier(eid), "cell": cell, "rubric": rubric}


def _manual_answer(
    ex: dict[str, Any], cell: Cell, nb: dict[str, Any], topic: Topic, draft: Draft
) -> None:
    ex.pop("_cell")
    ex.pop("_grade_id")
    points = _points(nb)
    where = f"{topic.id}.ipynb cell {cell.index} (grade_id: {nb.get('grade_id')})"
    draft.notes.append(f"{where}: kept as manual: nbgrader grades it by hand")
    reference = topic.solutions[ex["id"]].strip()
    item: dict[str, Any] = {"item": ex["title"], "points": _number(points)}
    if reference:
        item["comment"] = f"nbgrader's reference answer:\n{reference}\n"
    ex["points"] = _number(points)
    ex["answer"] = _manual(ex["id"], cell.type if cell.type == "code" else "markdown", [item])
    if cell.type != "code":  # a section is Python: the reference is kept as comments
        topic.solutions[ex["id"]] = "\n".join(
            f"# {line}".rstrip() for line in reference.split("\n")
        )
    topic.exercises.append(ex)


def _task(
    cell: Cell, nb: dict[str, Any], pending: list[str], topic: Topic, draft: Draft, where: str
) -> None:
    eid = nbgrader_exercise_id(nb.get("grade_id")) or f"{topic.id}-cell-{cell.index}"
    points = _number(_points(nb))
    draft.notes.append(
        f"{where} (grade_id: {nb.get('grade_id')}): kept as manual: a task, graded by hand"
    )
    prompt = "\n\n".join(p.strip() for p in [*pending, cell.source] if p.strip())
    topic.solutions[eid] = "# a task: nbgrader has no reference answer"
    topic.exercises.append(
        {
            "id": eid,
            "title": heading([cell.source]) or eid,
            "points": points,
            "prompt": prompt + "\n",
            "starter": TEXT_STUB + "\n",
            "answer": _manual(
                eid, "markdown", [{"item": cell.source.strip() + "\n", "points": points}]
            ),
        }
    )
