"""Expected vs got of a failed check as plain data the HTML template draws.

Arrays become grids of cells (a window around the first mismatch when large), mappings become
rows of keys, anything else two one-line values. Display only: the comparator has already judged.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..results import CheckResult
from .text import _compact, _index, _kind, _scalar, distinct_texts, first_difference

MAX_CELLS = 400  # arrays with more values are drawn as a window around the first mismatch
WINDOW = 12  # rows and columns of such a window
WRAP = 10  # 1-D arrays longer than 2 * WRAP wrap at WRAP values per row


def _shape(value: Any) -> tuple[int, ...] | None:
    """Shape of a rectangular nested list of scalars (an array), else None."""
    shape: list[int] = []
    probe = value
    while isinstance(probe, list) and len(shape) <= 8:
        shape.append(len(probe))
        probe = probe[0] if probe else None
    return tuple(shape) if shape and _fits(value, tuple(shape)) else None


def _fits(value: Any, shape: tuple[int, ...]) -> bool:
    if not shape:
        return value is None or isinstance(value, (bool, int, float, str))
    return (
        isinstance(value, list)
        and len(value) == shape[0]
        and all(_fits(item, shape[1:]) for item in value)
    )


def _same(a: Any, b: Any) -> bool:
    """Display-only equality for mapping rows (the comparator has already judged the check)."""
    number = (int, float)
    if isinstance(a, number) and isinstance(b, number) and float in (type(a), type(b)):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


@dataclass
class _Cell:
    text: str
    mismatch: bool = False
    index: str = ""
    title: str = ""


@dataclass
class _Grid:
    caption: str
    columns: list[str]
    rows: list[tuple[str, list[_Cell]]]
    row_labels: bool


@dataclass
class _Side:
    grids: list[_Grid]
    text: str
    shape: str


@dataclass
class _MapRow:
    key: str
    expected: str
    got: str
    differs: bool


@dataclass
class _Diff:
    kind: str  # "array" | "mapping" | "values"
    expected: _Side
    got: _Side
    notes: list[str]
    rows: list[_MapRow]


def _planes(shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
    """Leading dims, rows and columns of the 2-D planes an array is drawn as (1-D wraps)."""
    if len(shape) == 1:
        cols = shape[0] if shape[0] <= 2 * WRAP else WRAP
        return (), -(-shape[0] // max(cols, 1)), cols
    return shape[:-2], shape[-2], shape[-1]


@dataclass(frozen=True)
class _Window:
    planes: list[tuple[int, ...]]
    rows: range
    cols: range
    note: str


def _window(shape: tuple[int, ...], marks: list[tuple[int, ...]]) -> _Window:
    """What part of an array to draw: all of it, or a window around the first mismatch."""
    lead, rows, cols = _planes(shape)
    total = math.prod(shape)
    if total <= MAX_CELLS and cols <= 40 and math.prod(lead) <= 8:
        planes = list(itertools.product(*(range(d) for d in lead)))
        return _Window(planes, range(rows), range(cols), "")
    width = min(cols, WINDOW)
    height = min(rows, 2 * WINDOW if len(shape) == 1 else WINDOW)
    first = marks[0] if marks else None
    if first is not None and len(shape) == 1:
        focus: tuple[int, ...] = (first[0] // cols, first[0] % cols)
    else:
        focus = first[-2:] if first is not None else (0, 0)
    r0 = max(0, min(focus[0] - height // 2, rows - height))
    c0 = max(0, min(focus[-1] - width // 2, cols - width))
    count = max(1, min(4, MAX_CELLS // (height * width)))
    marked = dict.fromkeys(m[: len(lead)] for m in marks)
    chosen = list(itertools.islice(marked, count))
    for plane in itertools.product(*(range(d) for d in lead)):
        if len(chosen) >= count:
            break
        if plane not in marked:
            chosen.append(plane)
    parts = []
    if len(shape) == 1:
        parts.append(f"positions {r0 * cols}–{min(total, (r0 + height) * cols) - 1}")
    else:
        n_planes = math.prod(lead)
        if len(chosen) < n_planes:
            parts.append(f"{len(chosen)} of {n_planes} planes")
        if height < rows:
            parts.append(f"rows {r0}–{r0 + height - 1}")
        if width < cols:
            parts.append(f"columns {c0}–{c0 + width - 1}")
    dims = "" if len(shape) == 1 else " × ".join(map(str, shape)) + ", "
    note = f"Large array ({dims}{total} values): showing {', '.join(parts)}."
    return _Window(sorted(chosen), range(r0, r0 + height), range(c0, c0 + width), note)


def _grids(
    value: Any, shape: tuple[int, ...], window: _Window, title: Callable[[tuple[int, ...]], str]
) -> list[_Grid]:
    """Draw the window of an array; ``title`` describes a mismatching cell ("" = matches)."""
    _, rows, cols = _planes(shape)
    wrapped = len(shape) == 1
    grids = []
    for plane in window.planes:
        body = []
        for i in window.rows:
            cells = []
            for j in window.cols:
                index = (i * cols + j,) if wrapped else (*plane, i, j)
                if wrapped and index[0] >= shape[0]:
                    cells.append(_Cell(""))
                    continue
                note = title(index)
                text = _scalar(_get(value, index))
                cells.append(_Cell(text, bool(note), ",".join(map(str, index)), note))
            body.append((str(i * cols) if wrapped else str(i), cells))
        if wrapped:
            columns = [str(j) if rows == 1 else f"+{j}" for j in window.cols]
        else:
            columns = [str(j) for j in window.cols]
        caption = "[" + ", ".join([*map(str, plane), ":", ":"]) + "]" if plane else ""
        grids.append(_Grid(caption, columns, body, not wrapped or rows > 1))
    return grids


def _side(value: Any, shape: tuple[int, ...] | None) -> _Side:
    if shape is None or math.prod(shape) == 0:
        return _Side([], _compact(value), "")
    window = _window(shape, [])
    return _Side(_grids(value, shape, window, lambda index: ""), "", _shape_text(shape))


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _array_diff(
    check: CheckResult, es: tuple[int, ...] | None, gs: tuple[int, ...] | None
) -> _Diff:
    expected, got = check.expected, check.got
    notes = []
    if es is not None and es == gs and math.prod(es) > 0:
        marks = sorted({tuple(m) for m in check.mismatches or () if _in_shape(m, es)})
        marked = set(marks)

        def title(index: tuple[int, ...]) -> str:
            if index not in marked:
                return ""
            e, g = _get(expected, index), _get(got, index)
            return f"{_index(index)}: expected {_scalar(e, True)}, got {_scalar(g, True)}"

        found = None if marks else first_difference(expected, got)
        if found is not None and _in_shape(found[0], es):  # no mismatches given: the first
            marks = [found[0]]
            marked = {found[0]}
            notes.append(f"They first differ at {_index(found[0])}; ✗ marks it.")
        elif marks:
            where = f" (first at {_index(marks[0])})"
            notes.append(f"{len(marks)} of {math.prod(es)} values differ{where}; ✗ marks them.")
        window = _window(es, marks)
        if window.note:
            notes.append(window.note)
        shape = _shape_text(es)
        sides = (
            _Side(_grids(expected, es, window, title), "", shape),
            _Side(_grids(got, es, window, title), "", shape),
        )
        return _Diff("array", *sides, notes, [])
    if es is not None and gs is not None:
        notes.append(f"Shapes differ: expected {_shape_text(es)}, got {_shape_text(gs)}.")
    elif gs is None:
        notes.append(f"Expected an array of shape {_shape_text(es or ())}; got {_kind(got)}.")
    else:
        notes.append(f"Expected {_kind(expected)}; got an array of shape {_shape_text(gs)}.")
    for label, dims in (("Expected", es), ("Got", gs)):
        note = _window(dims, []).note if dims and math.prod(dims) else ""
        if note:
            notes.append(f"{label}: {note}")
    return _Diff("array", _side(expected, es), _side(got, gs), notes, [])


def _in_shape(index: Sequence[int], shape: tuple[int, ...]) -> bool:
    ok = len(index) == len(shape) and all(type(i) is int for i in index)
    return ok and all(0 <= i < n for i, n in zip(index, shape, strict=False))


def _get(value: Any, index: tuple[int, ...]) -> Any:
    for k in index:
        value = value[k]
    return value


def _mapping_diff(expected: Any, got: Any) -> _Diff:
    exp = expected if isinstance(expected, dict) else {}
    act = got if isinstance(got, dict) else {}
    notes = []
    if not isinstance(expected, dict):
        notes.append(f"Expected {_kind(expected)}.")
    if not isinstance(got, dict):
        notes.append(f"Got {_kind(got)}, not a mapping.")
    keys = list(dict.fromkeys(itertools.chain(exp, act)))
    rows = []
    for key in keys[:MAX_CELLS]:
        e_text = _compact(exp[key]) if key in exp else "— (not expected)"
        g_text = _compact(act[key]) if key in act else "— (missing)"
        differs = key not in exp or key not in act or not _same(exp[key], act[key])
        rows.append(_MapRow(key if isinstance(key, str) else _scalar(key), e_text, g_text, differs))
    if len(keys) > MAX_CELLS:
        notes.append(f"Showing {MAX_CELLS} of {len(keys)} keys.")
    empty = _Side([], "", "")
    return _Diff("mapping", empty, empty, notes, rows)


def _diff(check: CheckResult) -> _Diff | None:
    """How to show expected vs got of a failed check, or None when there is nothing to show."""
    if check.passed or (check.expected is None and check.got is None):
        return None
    if isinstance(check.expected, dict) or isinstance(check.got, dict):
        return _mapping_diff(check.expected, check.got)
    es, gs = _shape(check.expected), _shape(check.got)
    if (es and math.prod(es)) or (gs and math.prod(gs)):
        return _array_diff(check, es, gs)
    expected, got = distinct_texts([check.expected, check.got])
    return _Diff("values", _Side([], expected, ""), _Side([], got, ""), [], [])
