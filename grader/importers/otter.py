"""An otter-grader master notebook (Otter Assign format v1) -> a grade course.

A question is the cells between a raw ``# BEGIN QUESTION`` cell (its YAML: ``name``,
``points``: a number, a list of one a test or ``{each: N}``, N a test; ``manual``) and ``# END
QUESTION``: its prompt cells, an optional ``# BEGIN PROMPT`` block, its ``# BEGIN SOLUTION``
block and its ``# BEGIN TESTS`` block (one test a cell, ``# HIDDEN`` on the first line for a
hidden one, points shared as otter resolves them).
Autograded questions whose tests translate (``grader.importers.translate``, with otter's rule
that a cell's last expression is compared with its output) become function or value
exercises; manual questions and the rest become ``manual`` exercises, each said in
``Draft.notes``. Starters follow otter's solution removal: a line ending in ``# SOLUTION``
becomes ``...`` (its right-hand side, for an assignment), ``# BEGIN SOLUTION`` regions become
``...`` (nothing for ``NO PROMPT``), ``# SOLUTION NO PROMPT`` and ``# SEED`` lines go, and a
``\"\"\" # BEGIN PROMPT`` string's lines are the student's. Nothing of the notebook is run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import GraderError
from ..otter_cells import otter_exercise_id
from .draft import Draft, Topic, identifier, slug
from .frame_tests import series_answer
from .notebook_cells import Cell, heading, read_cells
from .translate import Checks, defined_names, merge, translate

_PANDAS = re.compile(r"\b(pd|pandas)\.(Series|DataFrame)\b")
_ASSIGN = re.compile(r"^(\s*)([^=#]+?)\s*=(?!=)\s*(.+?)\s*# SOLUTION\s*$")


def import_otter(path: Path) -> Draft:
    """Read one master notebook into a draft course: one assignment, one topic."""
    cells = read_cells(path)
    aid = slug(path.stem)
    draft = Draft(name=path.stem, assignments=[(aid, aid, [aid])])
    topic = Topic(aid, path.stem)
    draft.topics[aid] = topic
    pending: list[str] = []
    question: dict[str, Any] | None = None
    for cell in cells:
        first = cell.source.strip().split("\n", 1)[0].strip() if cell.type == "raw" else ""
        where = f"{path.name} cell {cell.index}"
        if first == "# ASSIGNMENT CONFIG":
            continue
        if first == "# BEGIN QUESTION":
            if question is not None:
                raise GraderError(f"{where}: # BEGIN QUESTION inside question {question['name']}")
            question = _config(cell, where)
            if not topic.exercises and not topic.intro:  # the notebook's opening: the intro
                topic.intro, pending = "\n\n".join(p.strip() for p in pending), []
            question["prompt"] = list(pending)
            question["own"] = len(pending)  # the question's own cells come after these
            pending = []
        elif question is not None and first == "# END QUESTION":
            _question(question, topic, draft, path.name)
            question = None
        elif question is not None:
            _inside(question, cell, first, where)
        elif cell.type == "markdown":
            pending.append(cell.source)
        elif cell.type == "code" and cell.source.strip():
            code = "\n".join(
                line for line in cell.source.split("\n") if not line.lstrip().startswith(("%", "!"))
            )
            if code.strip() != cell.source.strip():
                draft.notes.append(f"{where}: IPython magics (% and ! lines) left out of the setup")
            topic.setup += code.strip() + "\n"
    if question is not None:
        raise GraderError(f"{path.name}: question {question['name']} has no # END QUESTION")
    if any(p.strip() for p in pending):
        draft.notes.append(f"{path.name}: the text after the last question is not carried over")
    if not topic.exercises:
        raise GraderError(f"{path.name}: no # BEGIN QUESTION cell: not an otter master notebook")
    return draft


def _config(cell: Cell, where: str) -> dict[str, Any]:
    text = cell.source.strip().split("\n", 1)[1] if "\n" in cell.source.strip() else ""
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise GraderError(f"{where}: the question's config is not YAML ({e})") from None
    if not isinstance(config, dict) or not isinstance(config.get("name"), (str, int)):
        raise GraderError(f"{where}: the question's config has no name")
    points = config.get("points")
    if isinstance(points, dict):  # otter's {each: N}: N points a test (1 if N is not given)
        if set(points) - {"each"} or not _is_number(points.get("each", 1)):
            raise GraderError(f"{where}: points as a mapping must be {{each: <number>}}")
    elif points is not None and not (
        _is_number(points) or (isinstance(points, list) and all(map(_is_number, points)))
    ):
        raise GraderError(f"{where}: points must be a number, a list or {{each: <number>}}")
    return {
        "name": str(config["name"]),
        "points": points,
        "manual": bool(config.get("manual", False)),
        "region": "",
        "solution": [],
        "prompt_cells": [],
        "tests": [],
        "where": where,
    }


def _inside(question: dict[str, Any], cell: Cell, first: str, where: str) -> None:
    marks = {
        "# BEGIN SOLUTION": "solution",
        "# BEGIN TESTS": "tests",
        "# BEGIN PROMPT": "prompt_cells",
    }
    if first in marks:
        question["region"] = marks[first]
    elif first in ("# END SOLUTION", "# END TESTS", "# END PROMPT"):
        question["region"] = ""
    elif question["region"]:
        question[question["region"]].append(cell)
    elif cell.type != "raw":
        question["prompt"].append(cell.source)


def strip_solution(source: str) -> tuple[str, str]:
    """(starter, solution) of a code cell by otter's solution removal rules."""
    starter: list[str] = []
    solution: list[str] = []
    region = ""  # "solution", "no-prompt", "prompt"
    for line in source.split("\n"):
        text = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if region == "prompt":
            if re.match(r"^(\"\"\"|''');?\s*# END PROMPT", text):
                region = ""
            else:
                starter.append(line)
        elif re.match(r"^(\"\"\"|''')\s*# BEGIN PROMPT", text):
            region = "prompt"
        elif text.startswith("# BEGIN SOLUTION"):
            region = "no-prompt" if "NO PROMPT" in text else "solution"
            if region == "solution":
                starter.append(indent + "...")
        elif text.startswith("# END SOLUTION"):
            region = ""
        elif region:
            solution.append(line)
        elif text.endswith(("# SOLUTION NO PROMPT", "# SEED")):
            solution.append(re.sub(r"\s*# (SOLUTION NO PROMPT|SEED)\s*$", "", line))
        elif text.endswith("# SOLUTION"):
            solution.append(re.sub(r"\s*# SOLUTION\s*$", "", line))
            assign = _ASSIGN.match(line)
            starter.append(
                f"{assign.group(1)}{assign.group(2)} = ..." if assign else indent + "..."
            )
        else:
            starter.append(line)
            solution.append(line)
    return "\n".join(starter).strip("\n") + "\n", "\n".join(solution).strip("\n")


def _test_points(question: dict[str, Any], tests: list[tuple[Cell, str, bool, Any]]) -> list[float]:
    """Each test's points, as otter resolves them (question points default to 1)."""
    given = question["points"]
    if isinstance(given, dict):  # otter: the question is worth N times its tests, shared
        given = float(given.get("each", 1)) * len(tests)
    if isinstance(given, list):
        if len(given) != len(tests):
            raise GraderError(f"{question['where']}: {len(given)} points for {len(tests)} tests")
        return [float(p) for p in given]
    own = [t[3] for t in tests]
    fixed = sum(float(p) for p in own if p is not None)
    free = [p is None for p in own].count(True)
    if given is None:
        if free and (fixed == 0):
            return [float(p) if p is not None else 1.0 / free for p in own]
        return [float(p) if p is not None else 0.0 for p in own]
    if fixed > float(given):  # otter refuses so too
        raise GraderError(
            f"{question['where']}: the tests' points ({fixed:g}) exceed the question's "
            f"({float(given):g})"
        )
    share = (float(given) - fixed) / free if free else 0.0
    return [float(p) if p is not None else share for p in own]


def _test_cell(cell: Cell, file: str) -> tuple[Cell, str, bool, Any]:
    """(cell, code, hidden, points or None) of a test cell, its config read and removed."""
    source, hidden, points = cell.source, False, None
    match = re.match(r'\s*("""|\'\'\')\s*# BEGIN TEST CONFIG\n(.*?)\n\s*\1;?\s*# END TEST CONFIG',
                     source, re.S)  # fmt: skip
    if match:
        try:
            config = yaml.safe_load(match.group(2)) or {}
        except yaml.YAMLError as e:
            where = f"{file} cell {cell.index}"
            raise GraderError(f"{where}: the test's config is not YAML ({e})") from None
        if isinstance(config, dict):
            hidden, points = bool(config.get("hidden", False)), config.get("points")
        if points is not None and not _is_number(points):
            raise GraderError(f"{file} cell {cell.index}: a test's points must be a number")
        source = source[match.end() :]
    lines = source.strip("\n").split("\n")
    if lines and lines[0].strip() == "# HIDDEN":
        hidden, lines = True, lines[1:]
    return cell, "\n".join(lines), hidden, points


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _question(q: dict[str, Any], topic: Topic, draft: Draft, file: str) -> None:
    eid = otter_exercise_id(q["name"])
    code = [c for c in q["solution"] if c.type == "code"]
    text = [c for c in q["solution"] if c.type == "markdown"]
    if len(code) > 1:
        raise GraderError(f"{q['where']}: question {q['name']} has {len(code)} solution code "
                          "cells; grade has one answer cell an exercise")  # fmt: skip
    if code:
        starter, solution = strip_solution(code[0].source)
    else:
        solution = "\n".join(c.source for c in text)
        starter = "\n".join(c.source for c in q["prompt_cells"]) or "_Type your answer here._"
        starter = starter.rstrip() + "\n"
    if q["prompt_cells"] and code:
        starter = "\n".join(c.source for c in q["prompt_cells"]).rstrip() + "\n"
    tests = [_test_cell(c, file) for c in q["tests"] if c.type == "code"]
    points = _test_points(q, tests) if tests else []
    total = float(q["points"]) if isinstance(q["points"], (int, float)) else sum(points) or 1.0
    unscored = "" if tests else _unscored(q["points"], q["manual"])
    if unscored:  # a grade exercise needs points: 1, otter's own default for a question
        total = 1.0
    ex: dict[str, Any] = {
        "id": eid,
        "title": _title(q),
        "points": _number(total),
        "prompt": "\n\n".join(p.strip() for p in q["prompt"] if p.strip()) + "\n",
        "starter": starter,
    }
    where = f"{file} {q['where'].split(' ', 1)[1]} (question {q['name']})"
    cell_kind = "code" if code else "markdown"
    if q["manual"] or not tests or not code:
        why = "a manual question" if q["manual"] else "no test to translate"
        draft.notes.append(f"{where}: kept as manual: {why}")
        if unscored:
            draft.notes.append(
                f"{where}: worth 1 point here, 0 in otter ({unscored}): set its points and "
                f"its rubric item's in exercises/{topic.id}.yaml"
            )
        item: dict[str, Any] = {"item": ex["title"], "points": ex["points"]}
        if solution.strip():
            item["comment"] = f"otter's reference answer:\n{solution.strip()}\n"
        ex["answer"] = _manual(eid, cell_kind, [item])
    else:
        functions, variables = defined_names(solution)
        parts = [(translate(src, not hidden, functions, variables, bare_last=True), p)
                 for (_, src, hidden, _), p in zip(tests, points, strict=True)]  # fmt: skip
        merged = merge(parts)
        series, why = series_answer([src for _, src, _, _ in tests], variables)
        if series is not None:  # (the tests of a Series are none the above translates)
            ex["points"] = _number(round(sum(points), 9))
            ex["answer"] = series
        elif merged.why or any(p <= 0 for c, p in parts if c.cases):
            if _PANDAS.search(solution + "".join(src for _, src, _, _ in tests)):
                draft.notes.append(f"{where}: not a series exercise: {why}")
            for (cell, *_), (checks, _) in zip(tests, parts, strict=True):
                if checks.why or not merged.why:
                    draft.notes.append(
                        f"{file} cell {cell.index} (question {q['name']}): kept "
                        f"as manual: {checks.why or merged.why or 'no points'}"
                    )
            rubric = [
                {"item": f"passes otter's test {i}:\n{src.strip()}\n", "points": _number(p)}
                for i, ((_, src, _, _), p) in enumerate(zip(tests, points, strict=True), 1)
            ]
            ex["points"] = _number(round(sum(points), 9))
            ex["answer"] = _manual(eid, "code", rubric)
        else:
            ex["answer"] = _translated(merged)
    if not code:  # a section is Python: a written reference is kept as comments
        solution = "\n".join(f"# {line}".rstrip() for line in solution.split("\n"))
    topic.solutions[eid] = solution
    topic.exercises.append(ex)


def _unscored(points: Any, manual: bool) -> str:
    """Why otter gives a question without tests 0 points, or "" when it gives it points (its
    own, else 1). Otter 7's ``determine_question_point_value``: a manual question is worth its
    ``points or 0`` (otter leaves its score to whoever grades its PDF, e.g. on Gradescope),
    another its points, 1 if none, and ``{each: N}`` N times its tests."""
    if points is None and manual:
        return "a manual question without points, scored where its PDF is graded"
    if points == 0:
        return "points: 0"
    return "{each: N} points a test, and no test" if isinstance(points, dict) else ""


def _translated(merged: Checks) -> dict[str, Any]:
    if not merged.function:
        return {"kind": merged.kind, "name": merged.variable}
    answer: dict[str, Any] = {"kind": "function", "name": merged.function}
    answer["cases"] = [{**c, "points": _number(c["points"])} for c in merged.cases]
    if merged.calls:
        answer["calls"] = merged.calls
    if merged.calls_points:
        answer["calls_points"] = _number(merged.calls_points)
    return answer


def _title(q: dict[str, Any]) -> str:
    """The question's heading or bold lead ("**Question 1:**"), else its name."""
    own = q["prompt"][q["own"] :]
    return heading(own) or _bold(own) or q["name"]


def _bold(texts: list[str]) -> str:
    for text in texts:
        match = re.match(r"\s*\*\*(.+?)[:.]?\*\*", text)
        if match:
            return match.group(1).strip()
    return ""


def _manual(eid: str, cell: str, rubric: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "manual", "name": identifier(eid), "cell": cell, "rubric": rubric}
