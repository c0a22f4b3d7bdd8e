"""The ``dataframe`` and ``series`` kinds' checks, in the grader, on plain data.

The kernel exports a pandas object as plain data (``grader.inkernel.frames``); the reference
is exported the same way. They are compared with the semantics of
``pandas.testing.assert_frame_equal`` / ``assert_series_equal``: the same columns (labels and
their ``names``) and index (labels and names), in the same order unless ``check_like``; the
same dtypes (``check_dtype``); the values cell by cell, missing values (NaN, NaT, None,
``pd.NA``) equal to each other, ints exactly, other numbers within
``math.isclose(got, expected, rel_tol=rtol, abs_tol=atol)`` (pandas' own rule), anything
else exactly. ``check_index: false`` compares the rows by position and leaves the index out.
Each part is its own check (partial credit), and the report names the first differing cells:
"row 3, column 'price': expected 2.5, got 2.0". Nothing here imports pandas: plain data is
compared as plain data. Student data is validated: a payload that is not a well-formed
frame simply fails every check.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CompareError
from ..results import CheckResult
from ..spec import Answer, Exercise

if TYPE_CHECKING:
    from ..execute.records import ExportRecord
    from .context import JudgeContext

SHOWN = 5  # differing cells a message names
TEXT = 60  # characters of a value a message shows


@dataclass(frozen=True)
class Axis:
    """An index or the columns: labels (hashable: tuples for a MultiIndex), names, dtype."""

    labels: tuple[Any, ...]
    names: tuple[Any, ...]
    dtype: Any = None  # a str, or a tuple of them (a MultiIndex's levels)


@dataclass(frozen=True)
class Frame:
    """A DataFrame or Series read from its plain data (a Series is one column)."""

    kind: str
    index: Axis
    columns: Axis
    dtypes: tuple[str, ...]
    data: tuple[tuple[Any, ...], ...]  # one tuple a column
    name: Any = None


def read(value: Any, kind: str) -> Frame | str:
    """The frame a plain payload describes, or what is wrong with it."""
    if not isinstance(value, dict) or value.get("pandas") not in ("DataFrame", "Series"):
        return f"expected a {kind}, got {_what(value)}"
    if value["pandas"] != kind:
        return f"expected a {kind}, got a {value['pandas']}"
    try:
        index = _axis(value["index"])
        rows = len(index.labels)
        if kind == "Series":
            dtype, data = value["dtype"], value["data"]
            if not isinstance(dtype, str) or not isinstance(data, list) or len(data) != rows:
                raise ValueError
            return Frame(kind, index, Axis((None,), (None,), ""), (dtype,), (_cells(data),),
                         _hashable(value.get("name")))  # fmt: skip
        columns = _axis(value["columns"])
        dtypes, data = value["dtypes"], value["data"]
        if not isinstance(dtypes, list) or not isinstance(data, list):
            raise ValueError
        if not len(dtypes) == len(data) == len(columns.labels):
            raise ValueError
        if not all(isinstance(d, str) for d in dtypes):
            raise ValueError
        if not all(isinstance(c, list) and len(c) == rows for c in data):
            raise ValueError
        return Frame(kind, index, columns, tuple(dtypes), tuple(_cells(c) for c in data))
    except (KeyError, TypeError, ValueError):
        return f"expected a {kind}, got data that is not one"


def _axis(value: Any) -> Axis:
    if not isinstance(value, dict):
        raise ValueError
    labels, names = value["labels"], value["names"]
    if not isinstance(labels, list) or not isinstance(names, list):
        raise ValueError
    dtype = value.get("dtype")
    if isinstance(dtype, list) and all(isinstance(d, str) for d in dtype):
        dtype = tuple(dtype)
    elif not isinstance(dtype, str):
        raise ValueError
    labels_ = tuple(_hashable(v) for v in labels)
    return Axis(labels_, tuple(_hashable(n) for n in names), dtype)


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return _cell(value)


def _cells(values: list[Any]) -> tuple[Any, ...]:
    return tuple(_cell(v) for v in values)


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict) and set(value) == {"float"} and value["float"] in ("inf", "-inf"):
        return float(value["float"])
    raise ValueError


def compare_frames(answer: Answer, expected: Any, got: Any, kind: str) -> list[CheckResult]:
    """``got`` against ``expected`` (both plain payloads) as the answer's options say."""
    exp = read(expected, kind)
    if isinstance(exp, str):
        raise CompareError(
            f"the reference value is not a {kind} ({exp}): check the solution, then run "
            "`grade build`"
        )
    mine = read(got, kind)
    names = ["index", "dtypes", "values"]
    names = (["columns"] if kind == "DataFrame" else ["name"]) + names
    if isinstance(mine, str):
        return [CheckResult(n, False, _weight(n), mine) for n in names]
    like, check_names = bool(answer["check_like"]), bool(answer["check_names"])
    checks: list[CheckResult] = []
    if kind == "DataFrame":
        checks.append(_axis_check("columns", exp.columns, mine.columns, like, check_names))
    else:
        ok = not check_names or _same(exp.name, mine.name)
        msg = "" if ok else f"the Series is named {_shown(mine.name)}, expected {_shown(exp.name)}"
        checks.append(CheckResult("name", ok, _weight("name"), msg))
    if answer["check_index"]:
        checks.append(_axis_check("index", exp.index, mine.index, like, check_names))
    else:
        n, m = len(exp.index.labels), len(mine.index.labels)
        rows_msg = "" if n == m else f"{m} rows, expected {n}"
        checks.append(CheckResult("index", n == m, 1.0, rows_msg))
    cols = _columns(exp, mine)
    rows = _rows(exp, mine, bool(answer["check_index"]))
    if answer["check_dtype"]:
        checks.append(_dtypes(exp, mine, cols))
    checks.append(_values(answer, exp, mine, rows, cols))
    return checks


def _weight(name: str) -> float:
    return 2.0 if name == "values" else 1.0


def _axis_check(what: str, exp: Axis, mine: Axis, like: bool, check_names: bool) -> CheckResult:
    unit = "columns" if what == "columns" else "rows"

    def fail(message: str) -> CheckResult:
        return CheckResult(what, False, 1.0, message)

    if len(mine.labels) != len(exp.labels):
        theirs, ours = set(map(_key, exp.labels)), set(map(_key, mine.labels))  # once: n + m
        extra = _listed([x for x in mine.labels if _key(x) not in theirs])
        missing = _listed([x for x in exp.labels if _key(x) not in ours])
        parts = [f"{len(mine.labels)} {unit}, expected {len(exp.labels)}"]
        parts += [f"missing {missing}"] if missing else []
        parts += [f"unexpected {extra}"] if extra else []
        return fail("; ".join(parts))
    if Counter(map(_key, mine.labels)) != Counter(map(_key, exp.labels)):
        pairs = enumerate(zip(exp.labels, mine.labels, strict=True))
        first = next(i for i, (a, b) in pairs if not _same(a, b))
        return fail(
            f"{'column' if unit == 'columns' else 'row'} {first}'s label is "
            f"{_shown(mine.labels[first])}, expected {_shown(exp.labels[first])}"
        )
    if not like and not all(_same(a, b) for a, b in zip(exp.labels, mine.labels, strict=True)):
        return fail(
            f"the same {unit} in another order: {_listed(list(mine.labels))}, expected "
            f"{_listed(list(exp.labels))} (the order counts: check_like is false)"
        )
    if check_names and not all(_same(a, b) for a, b in zip(exp.names, mine.names, strict=False)):
        return fail(f"the {what}'s names are {_listed(list(mine.names))}, expected "
                    f"{_listed(list(exp.names))}")  # fmt: skip
    if check_names and len(exp.names) != len(mine.names):
        return fail(f"the {what} has {len(mine.names)} levels, expected {len(exp.names)}")
    if exp.dtype != mine.dtype:  # as pandas' check_index_type="equiv" (a RangeIndex is int64)
        return fail(f"the {what}'s dtype is {_dtype(mine.dtype)}, expected {_dtype(exp.dtype)}")
    return CheckResult(what, True, 1.0)


def _dtype(dtype: Any) -> str:
    return ", ".join(dtype) if isinstance(dtype, tuple) else str(dtype)


def _columns(exp: Frame, mine: Frame) -> list[tuple[int, int]] | None:
    """(expected, student's) column positions compared: paired by label (in any order: the
    columns check says whether the order counts), or None when the labels differ."""
    if exp.kind == "Series":
        return [(0, 0)]
    return _by_label(exp.columns.labels, mine.columns.labels)


def _rows(exp: Frame, mine: Frame, by_label: bool) -> list[tuple[int, int]] | None:
    """(expected, student's) row positions compared: by label when the index counts and
    pairs them, else by position (None when the numbers of rows differ)."""
    if len(exp.index.labels) != len(mine.index.labels):
        return None
    paired = _by_label(exp.index.labels, mine.index.labels) if by_label else None
    return paired if paired is not None else [(i, i) for i in range(len(exp.index.labels))]


def _by_label(exp: tuple[Any, ...], mine: tuple[Any, ...]) -> list[tuple[int, int]] | None:
    if len(exp) != len(mine):
        return None
    if all(_same(a, b) for a, b in zip(exp, mine, strict=True)):
        return [(i, i) for i in range(len(exp))]
    where = {_key(x): i for i, x in enumerate(mine)}
    if len(where) != len(mine) or any(_key(x) not in where for x in exp):
        return None  # duplicated or different labels: no pairing by label
    return [(i, where[_key(x)]) for i, x in enumerate(exp)]


def _dtypes(exp: Frame, mine: Frame, cols: list[tuple[int, int]] | None) -> CheckResult:
    if cols is None:
        return CheckResult("dtypes", False, 1.0, "not compared: the columns differ")
    bad = [(i, j) for i, j in cols if exp.dtypes[i] != mine.dtypes[j]]
    if not bad:
        return CheckResult("dtypes", True, 1.0)
    shown = "; ".join(
        f"{_column(exp, i)}{mine.dtypes[j]}, expected {exp.dtypes[i]}" for i, j in bad[:SHOWN]
    )
    more = f" (and {len(bad) - SHOWN} more)" if len(bad) > SHOWN else ""
    return CheckResult("dtypes", False, 1.0, f"dtype {shown}{more} (check_dtype is true)")


def _values(
    answer: Answer,
    exp: Frame,
    mine: Frame,
    rows: list[tuple[int, int]] | None,
    cols: list[tuple[int, int]] | None,
) -> CheckResult:
    if cols is None or rows is None:
        what = "columns" if cols is None else "rows"
        return CheckResult("values", False, 2.0, f"not compared: the {what} differ")
    rtol, atol = float(answer["rtol"]), float(answer["atol"])
    bad: list[str] = []
    count = 0
    for i, j in cols:
        want, have = exp.data[i], mine.data[j]
        for r, s in rows:
            if not _equal(want[r], have[s], rtol, atol):
                count += 1
                if len(bad) < SHOWN:
                    label = exp.index.labels[r]
                    row = f"row {_shown(label)}" if answer["check_index"] else f"row {r}"
                    where = f"{row}, {_column(exp, i)}" if exp.kind == "DataFrame" else f"{row}: "
                    bad.append(f"{where}expected {_shown(want[r])}, "
                               f"got {_shown(have[s])}")  # fmt: skip
    if not count:
        return CheckResult("values", True, 2.0)
    total = len(rows) * len(cols)
    more = f"; and {count - len(bad)} more" if count > len(bad) else ""
    return CheckResult(
        "values",
        False,
        2.0,
        f"{count} of {total} values differ (rtol={rtol:g}, atol={atol:g}): "
        + "; ".join(bad)
        + more,
    )


def _equal(want: Any, have: Any, rtol: float, atol: float) -> bool:
    if want is None or have is None:
        return want is None and have is None
    numbers = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in (want, have)]
    if all(numbers):
        if isinstance(want, int) and isinstance(have, int):
            return bool(want == have)
        return math.isclose(float(have), float(want), rel_tol=rtol, abs_tol=atol)
    return type(want) is type(have) and bool(want == have)


def _column(frame: Frame, i: int) -> str:
    return "" if frame.kind == "Series" else f"column {_shown(frame.columns.labels[i])}: "


def _same(a: Any, b: Any) -> bool:
    return bool(_key(a) == _key(b))


def _key(x: Any) -> Any:
    """A label as compared: its type counts (1 and "1" and True differ), 1 and 1.0 do not."""
    if isinstance(x, tuple):
        return tuple(_key(v) for v in x)
    if isinstance(x, bool):
        return ("bool", x)
    if isinstance(x, (int, float)):
        return ("number", x)
    return (type(x).__name__, x)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= TEXT else text[:TEXT] + "…"


def _listed(labels: list[Any]) -> str:
    shown = ", ".join(_shown(x) for x in labels[:10])
    return shown + (", …" if len(labels) > 10 else "")


def _what(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a dict"
    return f"a {type(value).__name__}"


def check_dataframe(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """The exported DataFrame against the reference's (see ``compare_frames``)."""
    return compare_frames(exercise.answer, expected, export.payload.get("value"), "DataFrame")


def check_series(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """The exported Series against the reference's (see ``compare_frames``)."""
    return compare_frames(exercise.answer, expected, export.payload.get("value"), "Series")
