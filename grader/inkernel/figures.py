"""A matplotlib Figure or Axes as plain data: what the kernel exports for it (``to_plain``).

Runs INSIDE the student's kernel (and in the grader for the reference), called only for a
matplotlib object while matplotlib is already imported (``grader.inkernel.plain``); it takes
matplotlib's classes from ``sys.modules`` and imports nothing else of it. A figure is judged
by its data, not its pixels: for each axes, its lines' x/y data, its bars (the rectangles of
its bar containers: centre, or category, width and height; of ``barh`` bars too), its
scatter offsets, its title, axis labels, scales and legend texts, read through matplotlib's
base methods (``Figure.get_axes(fig)``, ``Line2D.get_xdata(line)``...), so that a
subclass's overrides are never called, and by the objects' real types (a ``__class__`` that
lies is not believed), within ``MAX_POINTS`` values (an artist is one) and ``MAX_CHARS``
characters, counted before they are read. A PNG of the figure is rendered for the report
only (never judged): at most ``MAX_PNG`` bytes and ``MAX_PIXELS`` pixels, within
``DRAW_SECONDS``, and not at all for a figure that holds more than ``MAX_DRAWN`` things to
draw (a million segments are drawn by one call that no limit stops)::

    {"matplotlib": "Figure", "axes": [AXES, ...], "png": "<base64>" | None}
    AXES = {"title": str, "xlabel": str, "ylabel": str, "xscale": "linear", "yscale": "log",
            "legend": [str, ...], "lines": [{"label": str, "x": [...], "y": [...]}, ...],
            "bars": [{"label": str, "x": [...], "width": [...], "height": [...]}, ...],
            "scatter": [{"label": str, "offsets": [[x, y], ...]}, ...]}

where a value is a finite float, ``None`` (NaN, masked), ``{"float": "inf"}`` or a text (a
categorical axis).
"""

from __future__ import annotations

import base64
import io
import math
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from .export_error import ExportError

MAX_POINTS = 200_000  # values of one figure, in all
MAX_AXES = 50
MAX_TEXT = 1_000  # characters of a title, label or legend text
MAX_CHARS = 2_000_000  # characters of its texts, in all
MAX_PNG = 200_000  # bytes of the rendered PNG
MAX_PIXELS = 2_000_000  # pixels of the rendered PNG: a huge figure is drawn at a lower dpi
MAX_DRAWN = 200_000  # artists, paths, points and characters a figure drawn may hold
DRAW_SECONDS = 3.0  # the time its drawing may take
DPI = (72, 48, 30)  # tried in turn until the PNG fits
MIN_DPI = 10


def figure_data(value: Any) -> dict[str, Any]:
    """A Figure or an Axes (only that axes, with its figure's PNG) as plain data."""
    figure_mod = sys.modules["matplotlib.figure"]
    axes_mod = sys.modules["matplotlib.axes"]
    Figure, Axes = figure_mod.Figure, axes_mod.Axes
    kind = type(value)  # never ``isinstance``: a ``__class__`` that lies is not believed
    if issubclass(kind, Figure):
        fig, axes = value, list(Figure.get_axes(value))
    elif issubclass(kind, Axes):
        fig, axes = Axes.get_figure(value), [value]
    else:
        raise ExportError(f"cannot export a value of type {type(value).__name__}")
    if len(axes) > MAX_AXES:
        raise ExportError(f"the figure has {len(axes)} axes: at most {MAX_AXES} are exported")
    count = [0, 0]  # values, characters
    try:
        data = [_axes(ax, count) for ax in axes]
    except ExportError:
        raise
    except Exception as e:
        raise ExportError(f"cannot read the figure ({type(e).__name__}: {e})") from None
    return {"matplotlib": "Figure", "axes": data, "png": _png(fig, Figure)}


def _axes(ax: Any, count: list[int]) -> dict[str, Any]:
    mpl = sys.modules
    Axes = mpl["matplotlib.axes"].Axes
    Line2D = mpl["matplotlib.lines"].Line2D
    Rectangle = mpl["matplotlib.patches"].Rectangle
    PathCollection = mpl["matplotlib.collections"].PathCollection
    BarContainer = mpl["matplotlib.container"].BarContainer
    Artist = mpl["matplotlib.artist"].Artist
    if not issubclass(type(ax), Axes):
        raise ExportError(f"the figure holds a {type(ax).__name__} among its axes")
    held = [
        [x for x in Axes.get_lines(ax) if issubclass(type(x), Line2D)],
        [x for x in list(ax.__dict__.get("containers", [])) if issubclass(type(x), BarContainer)],
        [x for x in list(ax.__dict__.get("_children", [])) if issubclass(type(x), PathCollection)],
    ]
    _count(count, sum(map(len, held)))  # a million empty lines are a million values too
    lines = []
    for line in held[0]:
        lines.append(
            {
                "label": _label(Artist.get_label(line), count),
                "x": _values(Line2D.get_xdata(line, orig=True), count),
                "y": _values(Line2D.get_ydata(line, orig=True), count),
            }
        )
    bars = []
    for container in held[1]:
        _count(count, 4 * tuple.__len__(container))  # x, width, y, height of each bar
        patches = [p for p in tuple.__iter__(container) if issubclass(type(p), Rectangle)]
        x, w = [Rectangle.get_x(p) for p in patches], [Rectangle.get_width(p) for p in patches]
        y, h = [Rectangle.get_y(p) for p in patches], [Rectangle.get_height(p) for p in patches]
        horizontal = container.__dict__.get("orientation") == "horizontal"
        at, size, value = (y, h, w) if horizontal else (x, w, h)
        axis = ax.__dict__.get("yaxis" if horizontal else "xaxis")
        centres = [a + s / 2 for a, s in zip(at, size, strict=True)]
        bars.append(
            {
                "label": _label(container.__dict__.get("_label"), count),
                "x": _categories(axis, _values(centres, count), count),
                "width": _values(size, count),
                "height": _values(value, count),
            }
        )
    scatter = []
    for collection in held[2]:
        offsets = PathCollection.get_offsets(collection)
        scatter.append(
            {
                "label": _label(Artist.get_label(collection), count),
                "offsets": [_values(row, [0, 0]) for row in _rows(offsets, count)],
            }
        )
    legend = Axes.get_legend(ax)
    texts = []
    if legend is not None:
        Legend = mpl["matplotlib.legend"].Legend
        Text = mpl["matplotlib.text"].Text
        entries = list(Legend.get_texts(legend))
        _count(count, len(entries))
        texts = [_text(Text.get_text(t), count) for t in entries]
    return {
        "title": _text(Axes.get_title(ax), count),
        "xlabel": _text(Axes.get_xlabel(ax), count),
        "ylabel": _text(Axes.get_ylabel(ax), count),
        "xscale": _text(Axes.get_xscale(ax), count),
        "yscale": _text(Axes.get_yscale(ax), count),
        "legend": texts,
        "lines": lines,
        "bars": bars,
        "scatter": scatter,
    }


def _categories(axis: Any, positions: list[Any], count: list[int]) -> list[Any]:
    """Bar positions on a categorical axis as their categories' names (``bar(["a", "b"],
    ...)``: "a" and "b", not 0 and 1); other positions as they are."""
    units = axis.__dict__.get("units") if axis is not None else None
    category = sys.modules.get("matplotlib.category")
    if category is None or type(units) is not category.UnitData:
        return positions
    mapping: Any = units.__dict__.get("_mapping")
    if not issubclass(type(mapping), dict):  # matplotlib's is an OrderedDict
        return positions
    _count(count, dict.__len__(mapping))
    names = {}
    for name, where in dict.items(mapping):
        if type(name) is str and type(where) in (int, float):
            names[round(float(where), 6)] = _text(name, count)  # a bar's centre: x + width / 2
    return [names.get(round(p, 6), p) if isinstance(p, float) else p for p in positions]


def _rows(offsets: Any, count: list[int]) -> list[Any]:
    np = sys.modules["numpy"]
    array = np.asarray(np.ma.getdata(offsets), dtype=float)
    _count(count, int(array.size))  # before the rows become lists: 10**7 points, say
    return [] if array.size == 0 else list(np.ndarray.tolist(array))


def _count(count: list[int], values: int) -> None:
    count[0] += values
    if count[0] > MAX_POINTS:
        raise ExportError(
            f"the figure has more than {MAX_POINTS:,} values: at most that many are exported"
        )


def _values(data: Any, count: list[int]) -> list[Any]:
    """A sequence of numbers (or of texts: a categorical axis) as plain values."""
    np = sys.modules["numpy"]
    mask = np.ma.getmaskarray(data) if isinstance(data, np.ma.MaskedArray) else None
    array = np.asarray(np.ma.getdata(data) if mask is not None else data)
    if array.ndim != 1:
        array = array.reshape(-1)
    _count(count, int(array.size))
    items = np.ndarray.tolist(array)
    out: list[Any] = []
    for i, v in enumerate(items):
        if mask is not None and mask[i]:
            out.append(None)
        elif type(v) is str:
            out.append(_text(v, count))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            x = float(v)
            out.append(None if math.isnan(x) else x if math.isfinite(x) else {"float": repr(x)})
        else:
            raise ExportError(f"the figure's data holds a {type(v).__name__}: not exported")
    return out


def _label(label: Any, count: list[int]) -> str:
    if type(label) is not str or label.startswith("_"):  # "_child0", "_nolegend_": no label
        return ""
    return _text(label, count)


def _text(text: Any, count: list[int]) -> str:
    if type(text) is not str:
        return ""
    kept: str = text if len(text) <= MAX_TEXT else text[:MAX_TEXT]
    count[1] += len(kept)
    if count[1] > MAX_CHARS:
        raise ExportError(f"the figure's texts have more than {MAX_CHARS:,} characters")
    return kept


def _png(fig: Any, Figure: Any) -> str | None:
    """The figure as a PNG of at most MAX_PNG bytes (and MAX_PIXELS pixels), base64, drawn
    within DRAW_SECONDS; None when it cannot be drawn so (the data is judged all the same)."""
    try:
        if _drawn(fig) > MAX_DRAWN:
            return None  # what one drawing call would draw, for minutes: not tried
        w, h = (float(x) for x in Figure.get_size_inches(fig))
    except Exception:
        return None
    if not (w > 0 and h > 0 and math.isfinite(w * h)):
        return None
    largest = math.sqrt(MAX_PIXELS / (w * h))  # a figure of 300 x 300 inches is drawn smaller
    if largest < MIN_DPI:  # fonts cannot be drawn that small
        return None
    dpis = sorted({min(float(d), largest) for d in DPI}, reverse=True)
    try:
        return _within(DRAW_SECONDS, lambda: _draw(fig, Figure, dpis))
    except (Exception, _TooSlow):
        return None


class _TooSlow(BaseException):
    """The drawing ran past its time (a BaseException: ``except Exception`` does not hide it)."""


def _within(seconds: float, draw: Callable[[], str | None]) -> str | None:
    """``draw()``, stopped after ``seconds`` by an alarm that fires again every few
    milliseconds (an artist that swallows one meets the next; one that swallows every one is
    ended by the cell's time limit). Outside the main thread, no alarm: MAX_DRAWN holds."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        return draw()

    def on_alarm(signum: int, frame: Any) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.005)
    try:
        return draw()
    except _TooSlow:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _draw(fig: Any, Figure: Any, dpis: list[float]) -> str | None:
    for dpi in dpis:
        buffer = io.BytesIO()
        Figure.savefig(fig, buffer, format="png", dpi=dpi)
        data = buffer.getvalue()
        if len(data) <= MAX_PNG:
            return base64.b64encode(data).decode("ascii")
    return None


def _drawn(fig: Any) -> int:
    """How much a drawing of the figure holds: its artists, their paths and points, the
    characters of its texts (counted up to just past MAX_DRAWN)."""
    mpl = sys.modules
    Artist = mpl["matplotlib.artist"].Artist
    Collection = mpl["matplotlib.collections"].Collection
    Line2D = mpl["matplotlib.lines"].Line2D
    Text = mpl["matplotlib.text"].Text
    np = mpl["numpy"]
    total = 0
    for artist in Artist.findobj(fig):
        kind, state = type(artist), artist.__dict__
        total += 1
        if issubclass(kind, Collection):
            for key in ("_paths", "_offsets", "_coordinates"):
                held = state.get(key)
                total += len(held) if type(held) is list else int(np.size(held)) // 2
        elif issubclass(kind, Line2D):
            total += int(np.size(state.get("_xorig")))
        elif issubclass(kind, Text):
            total += len(Text.get_text(artist))
        if total > MAX_DRAWN:
            break
    return total
