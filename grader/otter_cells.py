"""The answers of a notebook otter-grader made for students (Otter Assign format v1), named
as ``grade import otter`` names its exercises (the question's ``name``).

What otter writes there (``otter.assign``, read in otter-grader 7.0.0 and its test files of
expected student notebooks): a locked init cell (``import otter`` / ``grader =
otter.Notebook("hw.ipynb")``); each question's prompt, locked (``metadata.editable`` and
``deletable`` false); its answer cells, tagged ``otter_answer_cell``; after them, for a
question with tests, a locked ``grader.check("q1")`` cell (or, without one, ``metadata.otter.tests
= ["q1"]`` on the question's last cell); a manual question's cells between a markdown
``<!-- BEGIN QUESTION -->`` and ``<!-- END QUESTION -->``, which carry no name unless the
question also has tests; and at the end a locked ``grader.check_all()`` and export
(``grader.export(...)``) cell.

So an answer is the cells after the last locked cell before its check cell (the tagged ones,
and any cell a student added there), or those of a BEGIN/END QUESTION pair. A pair or tagged
cells without a check cell are matched by order: to the exercises between the named ones
before and after them, when there are as many of each. A cell is one answer at most; otter's
own cells are never answers (they are not run: the kernel has no otter).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .ids import slug

ANSWER_TAG = "otter_answer_cell"
BEGIN, END = "<!-- BEGIN QUESTION -->", "<!-- END QUESTION -->"

_CHECK = re.compile(r"""^\s*grader\.check\(\s*(['"])([^'"\\]+)\1\s*\)\s*;?\s*(#.*)?$""")
_OTTER_LINE = re.compile(
    r"""^\s*(import\s+otter|grader\s*=\s*otter\.Notebook\(.*\)|grader\.check_all\(\s*\)"""
    r"""|grader\.export\(.*\)|%pip\s+install\s.*otter-grader.*)\s*;?\s*(#.*)?$"""
)

_NOTEBOOK = re.compile(r"""otter\.Notebook\(\s*(['"])([^'"\\]+\.ipynb)\1""")


@dataclass(frozen=True)
class Claim:
    """Cells that answer one exercise, claimed at one cell (the check cell, else the last)."""

    position: int
    exercise: str
    cells: tuple[int, ...]


def otter_exercise_id(name: str) -> str:
    """The exercise id ``grade import otter`` gives the question of this name."""
    return slug(name) or "topic"


def is_otter_notebook(nb: Mapping[str, Any]) -> bool:
    """Whether otter made this notebook: its metadata, an answer tag or one of its cells."""
    meta = nb.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("otter"), dict):
        return True
    cells = nb.get("cells")
    return isinstance(cells, list) and any(
        ANSWER_TAG in _tags(c) or _otter_only(c) is not None for c in cells
    )


def otter_assignment(nb: Mapping[str, Any]) -> str | None:
    """The assignment id ``grade import otter`` gives the master notebook that otter's init
    cell names (``otter.Notebook("demo.ipynb")``: demo), if a cell of otter's names one."""
    cells = nb.get("cells")
    for cell in cells if isinstance(cells, list) else ():
        if _otter_only(cell) is not None:
            found = _NOTEBOOK.search(_source(cell))
            if found:
                stem = found.group(2).rsplit("/", 1)[-1].removesuffix(".ipynb")
                return otter_exercise_id(stem)
    return None


def otter_claims(
    cells: Sequence[Any], order: Sequence[str], skip: frozenset[int] = frozenset()
) -> tuple[list[Claim], list[str]]:
    """The answers of an otter-made notebook's cells (those in ``skip`` left out: cells with
    grade's or nbgrader's own ids) for the exercises ``order`` lists, and notices."""
    notices: list[str] = []
    slots: list[tuple[int, str | None, tuple[int, ...]]] = []  # (position, name, cells)
    pending: list[int] = []  # answer cells since the last boundary
    in_pair = False  # inside <!-- BEGIN QUESTION --> ... <!-- END QUESTION -->

    def close(position: int, names: list[str]) -> None:
        if len(names) > 1:
            notices.append(
                f"cell {position + 1} checks {len(names)} questions "
                f"({', '.join(map(repr, names))}); the cells before it answer none of them"
            )
        elif names:
            slots.append((position, names[0], tuple(pending)))
        pending.clear()

    def flush() -> None:
        """A boundary: what is pending answers a question without a name, when otter tagged
        it so or it lies in a BEGIN/END QUESTION pair; otherwise it is no answer."""
        if pending and (in_pair or any(ANSWER_TAG in _tags(cells[i]) for i in pending)):
            slots.append((pending[-1], None, tuple(pending)))
        pending.clear()

    for index, cell in enumerate(cells):
        if index in skip or not isinstance(cell, dict):
            continue
        kind, text = cell.get("cell_type"), _source(cell)
        if kind == "markdown" and (BEGIN in text or END in text):
            if END in text:
                flush()
                in_pair = False
            if BEGIN in text:
                flush()
                in_pair = True
            continue
        otter = _otter_only(cell)
        if otter is not None:  # otter's own cell: a boundary, never an answer
            if otter:
                close(index, otter)
            else:
                flush()
                in_pair = False
            continue
        meta = cell.get("metadata")
        locked = isinstance(meta, dict) and meta.get("editable") is False
        if locked and ANSWER_TAG not in _tags(cell):
            if not in_pair:  # a question's prompt: what came before it is not its answer
                flush()
            continue
        if kind not in ("code", "markdown"):
            continue
        pending.append(index)
        named = _metadata_tests(cell) or (_checks(text) if kind == "code" else [])
        if named:  # a check call inside an answer, or otter's tests noted on the last cell
            close(index, named)
    flush()
    return _match(slots, order, notices)


def _match(
    slots: list[tuple[int, str | None, tuple[int, ...]]], order: Sequence[str], notices: list[str]
) -> tuple[list[Claim], list[str]]:
    """Claims of the named slots, and of the nameless ones by their place among the named."""
    rank = {eid: n for n, eid in enumerate(order)}
    named = {name for _, name, _ in slots if name is not None}
    claims: list[Claim] = []
    gaps: dict[tuple[int, int], list[tuple[int, tuple[int, ...]]]] = {}
    before = -1
    for n, (position, name, members) in enumerate(slots):
        if name is None:
            after = next(
                (rank[m] for _, m, _ in slots[n + 1 :] if m is not None and m in rank), len(order)
            )
            gaps.setdefault((before, after), []).append((position, members))
        elif name not in rank:
            notices.append(
                f"cell {position + 1} checks {name!r}, which is not an exercise of this "
                "assignment; the cells before it were ignored"
            )
        else:
            before = rank[name]
            if members:
                claims.append(Claim(position, name, members))
    for (lo, hi), found in gaps.items():
        free = [eid for eid in order[lo + 1 : hi] if eid not in named]
        if len(free) == len(found):
            claims += [Claim(p, eid, m) for (p, m), eid in zip(found, free, strict=True)]
        elif free:
            where = ", ".join(str(m[0] + 1) for _, m in found)
            notices.append(
                f"{len(found)} answers without a check cell (from cells {where}) for "
                f"{len(free)} questions ({', '.join(free)}): which is which cannot be told; "
                "they were ignored"
            )
    return sorted(claims, key=lambda c: c.position), notices


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _tags(cell: Any) -> list[str]:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _checks(text: str) -> list[str]:
    """The exercise ids of the questions a cell's ``grader.check("...")`` lines name."""
    return [otter_exercise_id(m.group(2)) for line in text.split("\n") if (m := _CHECK.match(line))]


def _otter_only(cell: Any) -> list[str] | None:
    """For a code cell made only of otter's calls (init, checks, export): the questions it
    checks (maybe none); None for any other cell."""
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return None
    lines = [ln for ln in _source(cell).split("\n") if ln.strip() and ln.strip()[0] != "#"]
    if not lines or not all(_CHECK.match(ln) or _OTTER_LINE.match(ln) for ln in lines):
        return None
    return _checks("\n".join(lines))


def _metadata_tests(cell: Mapping[str, Any]) -> list[str]:
    """``metadata.otter.tests``: the questions otter checks after this cell when the question
    has no check cell (``check_cell: false``, or only hidden tests)."""
    meta = cell.get("metadata")
    otter = meta.get("otter") if isinstance(meta, dict) else None
    tests = otter.get("tests") if isinstance(otter, dict) else None
    names = tests if isinstance(tests, list) else []
    return [otter_exercise_id(t) for t in names if isinstance(t, str)]
