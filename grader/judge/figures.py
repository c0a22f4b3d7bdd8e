"""The ``figure`` kind's check: a matplotlib figure judged by its data, in the grader.

The kernel exports a Figure (or an Axes) as plain data (``grader.inkernel.figures``); the
reference figure, made by the solution in the grader, is exported the same way. The axes are
paired in order; then each part the answer ``compare``s, and the reference has, is one check
(partial credit): ``lines`` (x and y of each line, in order), ``bars`` (centres and heights
of each bar container), ``scatter`` (the offsets of each scatter, in any order), numbers
within ``math.isclose(got, expected, rel_tol=rtol, abs_tol=atol)``; ``title``, ``labels``
(x and y) and ``legend`` texts by the text kind's rules (``match``: exact, normalised: case
and white space aside, or regex: the title's and labels' ``patterns`` matched whole, the
other texts normalised); ``scales`` exactly. The PNGs (the student's and the
reference's) go to the report beside each other, never into the score. Student data is
validated: a payload that is not a well-formed figure fails every check.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import TYPE_CHECKING, Any

from ..errors import CompareError
from ..inkernel.sealed import transform
from ..kind_hooks import FIGURE_PARTS as PARTS
from ..results import CheckResult
from ..spec import Answer, Exercise

if TYPE_CHECKING:
    from ..execute.records import ExportRecord
    from .context import JudgeContext

SHOWN = 4  # problems a message names
TEXT = 60
MAX_PNG = 200_000
MAX_TEXT = 1_000  # characters of a text a pattern is tried on (the kernel's cap)
_TEXTS = ("title", "xlabel", "ylabel", "xscale", "yscale")


def read(value: Any) -> list[dict[str, Any]] | str:
    """The axes of a figure's plain data, checked, or what is wrong with it."""
    if not isinstance(value, dict) or value.get("matplotlib") != "Figure":
        return f"expected a matplotlib Figure (or Axes), got {_what(value)}"
    try:
        axes = value["axes"]
        if not isinstance(axes, list):
            raise ValueError
        return [_axes(ax) for ax in axes]
    except (KeyError, TypeError, ValueError):
        return "expected a matplotlib Figure (or Axes), got data that is not one"


def _axes(ax: Any) -> dict[str, Any]:
    if not isinstance(ax, dict):
        raise ValueError
    out: dict[str, Any] = {k: _str(ax[k]) for k in _TEXTS}
    out["legend"] = [_str(t) for t in _list(ax["legend"])]
    out["lines"] = [
        {"label": _str(x["label"]), "x": _numbers(x["x"]), "y": _numbers(x["y"])}
        for x in _list(ax["lines"])
    ]
    out["bars"] = [
        {"label": _str(b["label"]), "x": _numbers(b["x"]), "height": _numbers(b["height"])}
        for b in _list(ax["bars"])
    ]
    out["scatter"] = [
        {"label": _str(s["label"]), "offsets": sorted(map(_point, _list(s["offsets"])), key=_order)}
        for s in _list(ax["scatter"])
    ]
    return out


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError
    return value


def _str(value: Any) -> str:
    if type(value) is not str:
        raise ValueError
    return value


def _numbers(values: Any) -> list[Any]:
    return [_value(v) for v in _list(values)]


def _value(v: Any) -> Any:
    if v is None or type(v) is str:
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, dict) and set(v) == {"float"} and v["float"] in ("inf", "-inf"):
        return float(v["float"])
    raise ValueError


def _point(p: Any) -> tuple[float, float]:
    values = [math.nan if v is None else v for v in _numbers(p)]
    if len(values) != 2 or not all(isinstance(v, float) for v in values):
        raise ValueError
    return (values[0], values[1])


def _order(p: tuple[float, float]) -> tuple[bool, float, bool, float]:
    """Points in a stable order, NaN (a missing value) last on its axis."""
    x, y = p
    return (math.isnan(x), 0.0 if math.isnan(x) else x, math.isnan(y), 0.0 if math.isnan(y) else y)


def compare_figures(answer: Answer, expected: Any, got: Any) -> list[CheckResult]:
    """``got`` against ``expected`` (both plain figures) as the answer's options say."""
    ref = read(expected)
    if isinstance(ref, str):
        raise CompareError(
            f"the reference value is not a figure ({ref}): check the solution, then run "
            "`grade build`"
        )
    patterns = dict(answer["patterns"]) if answer["match"] == "regex" else {}
    parts = [p for p in PARTS if p in answer["compare"] and _has(ref, p, patterns)]
    details = {"figures": _pngs(expected, got)}
    mine = read(got)
    if isinstance(mine, str):
        return [CheckResult("axes", False, 1.0, mine, details=details)] + [
            CheckResult(p, False, 1.0, mine) for p in parts
        ]
    n, m = len(ref), len(mine)
    axes_msg = "" if n == m else f"{m} axes, expected {n}"
    checks = [CheckResult("axes", n == m, 1.0, axes_msg, details=details)]
    rtol, atol = float(answer["rtol"]), float(answer["atol"])
    names = ("casefold", "spaces") if answer["match"] != "exact" else ()
    for part in parts:
        problems: list[str] = []
        for i, want in enumerate(ref):
            where = f"axes {i + 1}" if n > 1 else "the axes"
            if i >= m:
                problems.append(f"{where} is missing")
                continue
            problems += _part(part, where, want, mine[i], rtol, atol, names, patterns)
        message = "; ".join(problems[:SHOWN])
        if len(problems) > SHOWN:
            message += f"; and {len(problems) - SHOWN} more"
        checks.append(CheckResult(part, not problems, 1.0, message))
    return checks


def _has(axes: list[dict[str, Any]], part: str, patterns: dict[str, str]) -> bool:
    """Whether the reference has this part to compare (a check of nothing is no check)."""
    keys = {"labels": ("xlabel", "ylabel"), "scales": ("xscale",)}.get(part, (part,))
    return any(k in patterns for k in keys) or any(ax[k] for ax in axes for k in keys)


def _part(
    part: str,
    where: str,
    want: dict[str, Any],
    have: dict[str, Any],
    rtol: float,
    atol: float,
    names: tuple[str, ...],
    patterns: dict[str, str],
) -> list[str]:
    if part in ("title", "labels"):
        keys = ("title",) if part == "title" else ("xlabel", "ylabel")
        out = []
        for key in keys:
            what = f"{where}: the {'title' if key == 'title' else key[0] + ' label'}"
            if key in patterns:
                out += _matches(what, patterns[key], have[key])
            else:
                out += _texts(what, [want[key]], [have[key]], names)
        return out
    if part == "legend":
        if not want["legend"]:
            return []
        if len(have["legend"]) != len(want["legend"]):
            n, m = len(have["legend"]), len(want["legend"])
            return [f"{where}: {n} legend entries, expected {m}"]
        return _texts(f"{where}: the legend", want["legend"], have["legend"], names)
    if part == "scales":
        return [
            f"{where}: the {axis} scale is {have[key]!r}, expected {want[key]!r}"
            for axis, key in (("x", "xscale"), ("y", "yscale"))
            if have[key] != want[key]
        ]
    what = {"lines": "line", "bars": "bar group", "scatter": "scatter"}[part]
    mine, theirs = have[part], want[part]
    if len(mine) != len(theirs):
        return [f"{where}: {len(mine)} {what}s, expected {len(theirs)}"]
    fields = {"lines": ("x", "y"), "bars": ("x", "height"), "scatter": ("offsets",)}[part]
    out = []
    for j, (a, b) in enumerate(zip(theirs, mine, strict=True)):
        name = f"{where}, {what} {j + 1}" + (f" ({_shown(a['label'])})" if a["label"] else "")
        for field in fields:
            problem = _series(a[field], b[field], rtol, atol)
            if problem:
                out.append(f"{name}: {'' if field == 'offsets' else field + ' '}{problem}")
    return out


def _matches(what: str, pattern: str, text: str) -> list[str]:
    if len(text) <= MAX_TEXT and re.fullmatch(pattern, text) is not None:
        return []
    return [f"{what} is {_shown(text)}, which does not match the pattern {_shown(pattern)}"]


def _texts(what: str, want: list[str], have: list[str], names: tuple[str, ...]) -> list[str]:
    out = []
    for w, h in zip(want, have, strict=True):
        if transform(names, w) != transform(names, h):
            how = " (case and white space aside)" if names else ""
            out.append(f"{what} is {_shown(h)}, expected {_shown(w)}{how}")
    return out


def _series(want: list[Any], have: list[Any], rtol: float, atol: float) -> str:
    """What differs between two sequences of values (or of points), or ''."""
    if len(want) != len(have):
        return f"{len(have)} points, expected {len(want)}"
    pairs = enumerate(zip(want, have, strict=True))
    bad = [i for i, (w, h) in pairs if not _equal(w, h, rtol, atol)]
    if not bad:
        return ""
    i = bad[0]
    return (
        f"{len(bad)} of {len(want)} values differ (rtol={rtol:g}, atol={atol:g}); first at "
        f"point {i}: expected {_shown(want[i])}, got {_shown(have[i])}"
    )


def _equal(want: Any, have: Any, rtol: float, atol: float) -> bool:
    if isinstance(want, tuple) and isinstance(have, tuple):
        return all(_equal(w, h, rtol, atol) for w, h in zip(want, have, strict=True))
    if isinstance(want, float) and isinstance(have, float):
        if math.isnan(want) or math.isnan(have):
            return math.isnan(want) and math.isnan(have)
        return math.isclose(have, want, rel_tol=rtol, abs_tol=atol)
    return type(want) is type(have) and bool(want == have)


def _pngs(expected: Any, got: Any) -> dict[str, str]:
    """The two PNGs for the report (base64 of real PNG data only, within the size cap)."""
    out = {}
    for side, value in (("student", got), ("reference", expected)):
        png = value.get("png") if isinstance(value, dict) else None
        if type(png) is not str or len(png) > MAX_PNG * 4 // 3 + 4:
            continue
        try:
            data = base64.b64decode(png, validate=True)
        except (binascii.Error, ValueError):
            continue
        if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) <= MAX_PNG:
            out[side] = base64.b64encode(data).decode("ascii")
    return out


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= TEXT else text[:TEXT] + "…"


def _what(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict) and isinstance(value.get("pandas"), str):
        return f"a {value['pandas']}"
    return "a dict" if isinstance(value, dict) else f"a {type(value).__name__}"


def check_figure(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """The exported figure against the reference's (see ``compare_figures``)."""
    return compare_figures(exercise.answer, expected, export.payload.get("value"))
