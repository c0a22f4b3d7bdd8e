"""The public checks of the newer answer kinds (``choice``, ``dataframe``, ``series``,
``figure``), by the names their table entries give them (``grader.kinds``);
``grader.inkernel.public`` runs them beside its own.

Each sees only the student's plain value and what the hand-out's ``public`` data says of the
exercise (a choice's options: its prompt shows them), never the reference. Runs in the
grader and in the student's kernel. Stdlib only.
"""

from __future__ import annotations

from typing import Any

from .sealed import transform

# (what was checked, passed, what is wrong, whether its failure costs every point)
Result = tuple[str, bool, str, bool]


def _one_of_options(value: Any, public: dict[str, Any]) -> list[Result]:
    """One option's text, or (``multiple``) a list of them."""
    options = {transform(("casefold", "spaces"), o) for o in public.get("options") or ()}
    value = transform(("bools",), value)  # a bool is its text, as at grading
    if public.get("multiple"):
        what = "a list of options"
        texts = value if isinstance(value, list) and all(type(v) is str for v in value) else None
    else:
        what = "one of the options"
        texts = [value] if type(value) is str else None
    if texts is None:
        kind = "a str" if not public.get("multiple") else "a list of str"
        return [(what, False, f"{what} ({kind}) was expected, you gave {_what(value)}", True)]
    unknown = [t for t in texts if transform(("casefold", "spaces"), t) not in options]
    if unknown:
        shown = unknown[0] if len(unknown[0]) <= 80 else unknown[0][:80] + "…"
        return [(what, False, f"{shown!r} is not one of the options", True)]
    return [(what, True, "", True)]


def _pandas(value: Any, kind: str) -> list[Result]:
    ok = isinstance(value, dict) and value.get("pandas") == kind
    got = f"a {value['pandas']}" if isinstance(value, dict) and "pandas" in value else _what(value)
    return [(f"a {kind}", ok, f"a pandas {kind} was expected, you gave {got}", True)]


def _a_dataframe(value: Any, public: dict[str, Any]) -> list[Result]:
    return _pandas(value, "DataFrame")


def _the_columns(value: Any, public: dict[str, Any]) -> list[Result]:
    """The reference's columns (when the hand-out has them), in order unless check_like."""
    want = public.get("columns")
    if want is None or not isinstance(value, dict) or value.get("pandas") != "DataFrame":
        return []
    try:
        have = list(value["columns"]["labels"])
    except (KeyError, TypeError):
        return []
    n = len(want)
    what = f"the {n} column{'s' if n != 1 else ''} {', '.join(map(repr, want[:10]))}"
    if public.get("check_like"):
        ok = sorted(map(repr, have)) == sorted(map(repr, want))
    else:
        ok = have == want
    order = "" if public.get("check_like") else " (in this order)"
    return [(what, ok, f"{what}{order} were expected, you gave {have[:10]!r}", False)]


def _a_series(value: Any, public: dict[str, Any]) -> list[Result]:
    out = _pandas(value, "Series")
    rows = public.get("rows")
    if out[0][1] and rows is not None:
        have = (value.get("shape") or [None])[0]
        what = f"{rows} value{'s' if rows != 1 else ''}"
        out.append((what, have == rows, f"{what} were expected, you gave {have}", False))
    return out


def _a_figure(value: Any, public: dict[str, Any]) -> list[Result]:
    """A matplotlib figure (or axes), with the reference's number of axes when known."""
    ok = isinstance(value, dict) and value.get("matplotlib") == "Figure"
    got = f"a {value['pandas']}" if isinstance(value, dict) and "pandas" in value else _what(value)
    out = [("a figure", ok, f"a matplotlib Figure or Axes was expected, you gave {got}", True)]
    axes = public.get("axes")
    if ok and axes is not None:
        have = len(value.get("axes") or [])
        what = f"{axes} ax{'es' if axes != 1 else 'is'}"
        out.append((what, have == axes, f"{what} were expected, the figure has {have}", False))
    return out


def _what(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return f"a dict of {len(value)} keys"
    return f"a {type(value).__name__}"


KIND_CHECKS = {
    "one_of_options": _one_of_options,
    "a_dataframe": _a_dataframe,
    "the_columns": _the_columns,
    "a_series": _a_series,
    "a_figure": _a_figure,
}
