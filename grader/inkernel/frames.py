"""A pandas DataFrame or Series as plain data: what the kernel exports for them (``to_plain``).

Runs INSIDE the student's kernel (and in the grader for reference values), called only for
an object of a pandas type while pandas is already imported (``grader.inkernel.plain``), so
this module imports nothing beyond the stdlib itself: it gets pandas from ``sys.modules``.
A subclass cannot claim what it does not hold: the object's data are read from its block
manager (the instance's own ``_mgr``, each block as long as its index), rebuilt as a plain
``pandas.DataFrame`` or ``Series``, and only that is read, through pandas' base methods; a
lying ``values``, ``to_dict``, ``__array__`` or ``columns`` of the subclass is never called,
nor a cell's own methods, and only numpy's and pandas' dtypes are believed. Never pickle.

The data (every list as long as the frame's rows; ``None`` is a missing value: NaN, NaT,
``pd.NA``, ``None``)::

    {"pandas": "DataFrame", "shape": [rows, columns], "index": INDEX, "columns": INDEX,
     "dtypes": ["int64", ...], "data": [[cell, ...] per column]}
    {"pandas": "Series", "shape": [rows], "index": INDEX, "name": label, "dtype": "float64",
     "data": [cell, ...]}
    INDEX = {"names": [label, ...], "dtype": "object", "labels": [label, ...]}

where a MultiIndex's labels are lists (one item a level) and a cell or label is a bool, an
int, a finite float, a str, ``{"float": "inf"}`` (or ``"-inf"``), or, for a time, its ISO text.
"""

from __future__ import annotations

import datetime
import math
import sys
from typing import Any

from .export_error import ExportError

MAX_CELLS = 200_000  # cells and labels of one answer, in all
MAX_CHARS = 2_000_000  # characters of its texts, in all


class _Budget:
    def __init__(self) -> None:
        self.cells = 0
        self.chars = 0

    def take(self, cells: int) -> None:
        self.cells += cells
        if self.cells > MAX_CELLS:
            raise ExportError(
                f"the answer has more than {MAX_CELLS:,} cells and labels: at most that many "
                "are exported (answer with a smaller frame, e.g. df.head(100))"
            )


def pandas_data(value: Any) -> dict[str, Any]:
    """A DataFrame or Series (or a subclass) as plain data (see the module's docstring)."""
    pd = sys.modules["pandas"]
    budget = _Budget()
    kind = type(value)  # never ``isinstance``: a ``__class__`` that lies is not believed
    if issubclass(kind, pd.DataFrame):
        frame = _rebuilt(pd, value, pd.DataFrame)
        rows, cols = (int(n) for n in frame.shape)
        budget.take(rows * cols + rows + cols)  # before any column is read: 0 rows, 10**6 columns
        columns = [frame.iloc[:, j] for j in range(cols)]
        return {
            "pandas": "DataFrame",
            "shape": [rows, cols],
            "index": _index(pd, frame.index, budget),
            "columns": _index(pd, frame.columns, budget),
            "dtypes": [_dtype(c.dtype) for c in columns],
            "data": [_cells(pd, c, budget) for c in columns],
        }
    if issubclass(kind, pd.Series):
        series = _rebuilt(pd, value, pd.Series)
        budget.take(len(series))
        dtype = _dtype(series.dtype)
        return {
            "pandas": "Series",
            "shape": [len(series)],
            "index": _index(pd, series.index, budget),
            "name": _label(pd, series.name, budget),
            "dtype": dtype,
            "data": _cells(pd, series, budget),
        }
    raise ExportError(f"cannot export a value of type {type(value).__name__}")


def _rebuilt(pd: Any, value: Any, base: Any) -> Any:
    """A plain ``base`` object on the data ``value`` holds (its block manager)."""
    try:
        state = object.__getattribute__(value, "__dict__")
        mgr = state["_mgr"]
        managers = sys.modules["pandas.core.internals.managers"]
        wanted = managers.BlockManager if base is pd.DataFrame else managers.SingleBlockManager
        if type(mgr) is not wanted:
            raise TypeError(f"its data is a {type(mgr).__name__}")
        _consistent(mgr)
        plain = base._from_mgr(mgr, axes=mgr.axes)
        if base is pd.Series:
            plain.name = state.get("_name")
    except Exception as e:
        what = type(value).__name__
        raise ExportError(f"cannot read the {what}'s data ({type(e).__name__}: {e})") from None
    if type(plain) is not base:
        raise ExportError(f"cannot read the {type(value).__name__}'s data")
    return plain


def _consistent(mgr: Any) -> None:
    """Raise unless every block of a manager holds as many rows as its index says: the budget
    is taken on the index, and a block's values can be replaced by a longer array."""
    Block = sys.modules["pandas.core.internals.blocks"].Block
    rows = len(mgr.axes[-1])
    for block in tuple(mgr.blocks):
        if not issubclass(type(block), Block):
            raise TypeError(f"its data holds a {type(block).__name__}")
        held = Block.shape.fget(block)[-1]
        if held != rows:
            raise TypeError(f"a block holds {held} rows, its index {rows}")
    if len(mgr.axes) == 2:  # a DataFrame's: the blocks hold its columns, each once
        mgr._verify_integrity()


def _dtype(dtype: Any) -> str:
    """A column's dtype as its name: numpy's or pandas' own dtypes only (an extension dtype
    defined by the student could name itself ``int64`` and hold text), found in the module
    its class names (a class that claims ``__module__ = "pandas"`` is not pandas')."""
    kind = type(dtype)
    module = kind.__module__ if type(kind.__module__) is str else ""
    found = getattr(sys.modules.get(module), kind.__name__, None)
    if module.split(".")[0] not in ("numpy", "pandas") or found is not kind:
        raise ExportError(
            f"a column has a dtype of type {kind.__name__} (from {module}): only numpy's and "
            "pandas' own dtypes are exported"
        )
    name: str = str(dtype)
    return name


def _index(pd: Any, index: Any, budget: _Budget) -> dict[str, Any]:
    budget.take(len(index))
    multi = isinstance(index, pd.MultiIndex)
    if multi:
        levels = [index.get_level_values(i) for i in range(index.nlevels)]
        columns = [_cells(pd, pd.Series(level, dtype=level.dtype), budget) for level in levels]
        labels: list[Any] = [list(row) for row in zip(*columns, strict=True)]
        dtype: Any = [_dtype(level.dtype) for level in levels]
    else:
        dtype = _dtype(index.dtype)
        labels = _cells(pd, pd.Series(index, dtype=index.dtype), budget)
    names = [_label(pd, n, budget) for n in index.names]
    return {"names": names, "dtype": dtype, "labels": labels}


def _label(pd: Any, label: Any, budget: _Budget) -> Any:
    if issubclass(type(label), tuple):
        return [_cell(pd, v, budget) for v in tuple.__iter__(label)]
    return _cell(pd, label, budget)


def _cells(pd: Any, series: Any, budget: _Budget) -> list[Any]:
    """The cells of a plain Series, as Python objects (pandas' own ``astype(object)``)."""
    values = pd.Series.tolist(pd.Series.astype(series, object))
    return [_cell(pd, v, budget) for v in values]


def _cell(pd: Any, value: Any, budget: _Budget) -> Any:
    if value is None or type(value) is bool:
        return value
    if type(value) is str:
        budget.chars += len(value)
        if budget.chars > MAX_CHARS:
            raise ExportError(f"the answer's texts have more than {MAX_CHARS:,} characters")
        return value
    if issubclass(type(value), int):  # bool was returned above
        return int.__int__(value)
    if issubclass(type(value), float):
        x = float.__float__(value)
        if math.isnan(x):
            return None
        return x if math.isfinite(x) else {"float": repr(x)}
    if value is pd.NA or value is pd.NaT:  # never pd.isna(value): it asks the object itself
        return None
    if type(value) in (pd.Timestamp, pd.Timedelta, pd.Period, pd.Interval):
        return str(value)
    if type(value) in (datetime.datetime, datetime.date, datetime.time, datetime.timedelta):
        return str(value)
    np = sys.modules.get("numpy")
    if np is not None and issubclass(type(value), np.generic):  # a numpy scalar, not a claim
        return _cell(pd, np.generic.item(value), budget)
    raise ExportError(f"a cell or label holds a value of type {type(value).__name__}: not exported")
