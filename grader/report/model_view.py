"""The report's model view: the student's model summary beside the reference's, row by row.

Layers are paired by what they hold, not by nesting or names: the layers with weights (conv,
batch norm, linear: leaves with parameters) are paired in order by their parameter shapes, as
``grader.judge.fitting`` fits the weights (exports older than the shapes are paired by type
and parameter count); the rows between them are shown side by side. A layer's settings are
shown in a few characters (``3→32 k3``, ``k2 s2``), so a differing kernel or stride is seen
where it is. The summaries were validated when judged (``grader.judge.models.read_summary``),
yet a stored result is read again here, so nothing in them is trusted to be well formed.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass
from typing import Any

MAX_ROWS = 1000  # a summary has at most 200 rows; a stored one claiming more is cut


@dataclass
class SummaryRow:
    depth: int
    student: dict[str, Any] | None  # the row as summarised, with its ``setting`` text
    reference: dict[str, Any] | None
    differs: bool


@dataclass
class Summary:
    rows: list[SummaryRow]
    student_total: int | None
    reference_total: int | None
    notes: list[str]
    totals_differ: bool


def model_view(details: dict[str, Any]) -> Summary:
    """Both models' summaries (``details["student"]``, ``details["reference"]``) as rows of
    pairs. A row is marked only where the two layers really differ (type, parameter shapes,
    settings or output shape); a layer with weights that one side lacks is marked too."""
    sides = [details.get("student") or {}, details.get("reference") or {}]
    notes = [
        f"{who} model's summary: {str(side['error'])[:300]}"
        for who, side in zip(("Your", "The reference"), sides, strict=True)
        if isinstance(side, dict) and side.get("error")
    ]
    student, reference = (_rows(s.get("rows")) if isinstance(s, dict) else [] for s in sides)
    leaves = [_leaves(student), _leaves(reference)]
    rows = []
    cursor = [0, 0]
    for mine, ref in [*_weighted_pairs(student, reference), (len(student), len(reference))]:
        gaps = [
            range(cursor[k], end) if end is not None else range(0)
            for k, end in enumerate((mine, ref))
        ]
        for i, j in itertools.zip_longest(*gaps):
            rows.append(
                _row(
                    student[i] if i is not None else None,
                    reference[j] if j is not None else None,
                    weighted=False,
                    leaves=i is not None and j is not None and leaves[0][i] and leaves[1][j],
                )
            )
        if (mine is not None and mine < len(student)) or (ref is not None and ref < len(reference)):
            rows.append(
                _row(
                    student[mine] if mine is not None else None,
                    reference[ref] if ref is not None else None,
                    weighted=True,
                    leaves=True,
                )
            )
        cursor = [
            mine + 1 if mine is not None else cursor[0],
            ref + 1 if ref is not None else cursor[1],
        ]
    totals = [_total(s.get("total")) if isinstance(s, dict) else None for s in sides]
    return Summary(rows, totals[0], totals[1], notes, totals[0] != totals[1])


def setting(row: dict[str, Any]) -> str:
    """A layer's settings in a few characters, from its parameter shapes and its settings:
    ``3→32 k3 s2 p1`` (a convolution), ``64→10`` (a linear layer), ``32`` (a normalisation),
    ``k2 s2`` (a pooling), ``→1`` (an adaptive pooling to 1 × 1), ``p0.5`` (a dropout); '' for
    another layer or one without them."""
    kind = str(row.get("layer"))
    shapes = _shapes(row) or {}
    config = row.get("config") if isinstance(row.get("config"), dict) else {}
    assert isinstance(config, dict)
    weight = shapes.get("weight", ())
    if kind.startswith("Conv") and len(weight) >= 3:
        groups = config.get("groups") if _count(config.get("groups")) else 1
        assert isinstance(groups, int)
        if "Transpose" in kind:  # weight: (in, out / groups, *kernel)
            c_in, c_out = weight[0], weight[1] * groups
        else:  # weight: (out, in / groups, *kernel)
            c_in, c_out = weight[1] * groups, weight[0]
        text = f"{c_in}→{c_out} k{_by(weight[2:])}"
        return text + _window(config, ("stride", 1), ("padding", 0), ("dilation", 1))
    if kind == "Linear" and len(weight) == 2:
        return f"{weight[1]}→{weight[0]}"
    if "Norm" in kind and len(weight) == 1:
        return str(weight[0])
    if "Pool" in kind and kind.startswith("Adaptive"):
        size = _by(config.get("output_size"))
        return f"→{size}" if size else ""
    if "Pool" in kind and "kernel_size" in config:
        return f"k{_by(config['kernel_size'])}" + _window(config, ("stride", None), ("padding", 0))
    if kind.startswith("Dropout") and isinstance(config.get("p"), (int, float)):
        return f"p{config['p']:g}"
    return ""


def _window(config: dict[str, Any], *defaults: tuple[str, int | None]) -> str:
    """`` s2 p1``: the settings that are not their defaults (None: always shown)."""
    out = ""
    for name, default in defaults:
        value = config.get(name)
        text = _by(value)
        if text and (default is None or text != str(default)):
            out += f" {name[0]}={text}" if isinstance(value, str) else f" {name[0]}{text}"
    return out


def _by(value: Any) -> str:
    """``3`` for 3 or [3, 3], ``3×5`` for [3, 5], a short text as it is, else ''."""
    if isinstance(value, str):
        return value[:12]
    if _count(value):
        return str(value)
    if isinstance(value, (list, tuple)) and 0 < len(value) <= 8 and all(_count(v) for v in value):
        return str(value[0]) if len(set(value)) == 1 else "×".join(str(v) for v in value)
    return ""


def _rows(value: Any) -> list[dict[str, Any]]:
    return [r for r in value[:MAX_ROWS] if isinstance(r, dict)] if isinstance(value, list) else []


def _leaves(rows: list[dict[str, Any]]) -> list[bool]:
    """Whether each row is a leaf layer (the next row is not nested in it)."""
    depth = [_int(r.get("depth")) for r in rows]
    return [i + 1 == len(rows) or depth[i + 1] <= depth[i] for i in range(len(rows))]


def _weighted(rows: list[dict[str, Any]]) -> list[int]:
    """The rows of leaf layers with parameters."""
    return [i for i, leaf in enumerate(_leaves(rows)) if leaf and _int(rows[i].get("params")) > 0]


def _shapes(row: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
    """The row's parameter and buffer shapes, or None (an older export, or a malformed one)."""
    value = row.get("shapes")
    if not isinstance(value, dict) or len(value) > 64:
        return None
    out = {}
    for name, shape in value.items():
        if not (isinstance(name, str) and isinstance(shape, list) and len(shape) <= 16):
            return None
        if not all(_dim(d) for d in shape):
            return None
        out[name] = tuple(shape)
    return out


def _weighted_pairs(
    student: list[dict[str, Any]], reference: list[dict[str, Any]]
) -> list[tuple[int | None, int | None]]:
    """(student row, reference row) of the layers with weights, in order: equal layers
    (type and parameter shapes, or type and parameter count where a side has no shapes)
    paired, the rest n-th with n-th, a layer one side lacks alone."""
    mine, ref = _weighted(student), _weighted(reference)
    by_shapes = all(
        _shapes(rows[i]) is not None
        for rows, idx in ((student, mine), (reference, ref))
        for i in idx
    )
    keys = [
        [_key(rows[i], by_shapes) for i in idx] for rows, idx in ((student, mine), (reference, ref))
    ]
    pairs: list[tuple[int | None, int | None]] = []
    matcher = difflib.SequenceMatcher(None, keys[0], keys[1], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        n = min(i2 - i1, j2 - j1) if op in ("equal", "replace") else 0
        pairs += zip(mine[i1 : i1 + n], ref[j1 : j1 + n], strict=True)
        pairs += [(i, None) for i in mine[i1 + n : i2]]
        pairs += [(None, j) for j in ref[j1 + n : j2]]
    return pairs


def _key(row: dict[str, Any], by_shapes: bool) -> tuple[str, Any]:
    layer = str(row.get("layer"))
    if by_shapes:
        return layer, tuple(sorted((_shapes(row) or {}).items()))
    return layer, _int(row.get("params"))


def _row(
    a: dict[str, Any] | None, b: dict[str, Any] | None, *, weighted: bool, leaves: bool
) -> SummaryRow:
    """A pair of rows. Layers with weights differ unless type, parameters (their shapes, where
    both have them), settings and output shape agree, and one that a side lacks is marked;
    other rows differ only when both are leaf layers of one type with other output shapes or
    other settings (a layer one side writes as a function, or another nesting, is no
    difference)."""
    a, b = (_shown(r) if r is not None else None for r in (a, b))
    if a is None or b is None:
        differs = weighted
    else:
        # an older export has neither shapes nor settings: what it lacks is no difference
        settings = bool(a["setting"] and b["setting"]) and a["setting"] != b["setting"]
        shapes = _shapes(a) is not None and _shapes(b) is not None and _shapes(a) != _shapes(b)
        if weighted:
            keys = ("layer", "shape", "params")
            differs = any(a.get(k) != b.get(k) for k in keys) or settings or shapes
        else:
            differs = leaves and a["layer"] == b["layer"] and (a["shape"] != b["shape"] or settings)
    depth = (a or b or {}).get("depth", 0)
    return SummaryRow(depth if isinstance(depth, int) else 0, a, b, differs)


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """The row as the page shows it: the fields the template reads, always present."""
    shape = row.get("shape")
    return {
        **row,
        "layer": str(row.get("layer"))[:80],
        "name": str(row.get("name"))[:80] if row.get("name") is not None else "",
        "depth": _int(row.get("depth")),
        "shape": [d for d in shape[:16] if _dim(d)] if isinstance(shape, list) else [],
        "params": _int(row.get("params")),
        "setting": setting(row),
    }


def _total(value: Any) -> int | None:
    return value if type(value) is int else None


def _dim(value: Any) -> bool:
    return type(value) is int and value >= 0


def _count(value: Any) -> bool:
    """Whether ``value`` is a positive int (not a bool)."""
    return type(value) is int and value > 0


def _int(value: Any) -> int:
    return value if type(value) is int else 0
