"""Small inline SVG plots for the HTML report, drawn with matplotlib (no pyplot, no GUI).

Each function takes plain numbers (already validated: student text never reaches a plot) and
returns one ``<svg>`` element as text, to be embedded in the page. Display only: they run
after the score is decided, and the report leaves out, with a note, a plot that fails.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from .views import _shape

EXPECTED = "#59636e"
GOT = "#0969da"
WRONG = "#c4141f"
MAX_VALUES = 400  # arrays with more values are not plotted (the grid shows a window)


def warm() -> None:
    """Import matplotlib and load its fonts now (most of a second), e.g. while a kernel is
    still running: the report's first plot then takes what the others take."""
    fig, ax = _figure(1.0, 1.0)
    ax.plot([0, 1], [0, 1], label="warm")
    ax.legend()
    _svg(fig, "warm")


def loss_curve(losses: Sequence[float], reference: Sequence[float] | None = None) -> str:
    """The student's losses (and the reference run's, dashed) against the step."""
    fig, ax = _figure(5.6, 2.6)
    ax.plot(range(1, len(losses) + 1), losses, color=GOT, lw=1.4, label="your losses")
    if reference:
        ax.plot(
            range(1, len(reference) + 1),
            reference,
            color=EXPECTED,
            lw=1.2,
            ls="--",
            label="reference solution",
        )
    ax.set_xlabel("step (each value of your losses list)")
    ax.set_ylabel("loss")
    finite = [v for v in [*losses, *(reference or ())] if math.isfinite(v)]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 50:
        ax.set_yscale("log")
    ax.legend(frameon=False, fontsize=8)
    return _svg(fig, "loss")


def class_accuracy(per_class: Sequence[float | None], threshold: float | None = None) -> str:
    """Held-out accuracy per true class, a bar each, with the pass mark as a line."""
    fig, ax = _figure(5.6, 2.4)
    values = [v if v is not None else 0.0 for v in per_class]
    colors = [GOT if threshold is None or v >= threshold else WRONG for v in values]
    ax.bar(range(len(values)), values, color=colors, width=0.7)
    if threshold is not None:
        ax.axhline(threshold, color=EXPECTED, lw=1, ls="--", label=f"pass mark {threshold:.0%}")
        ax.legend(frameon=False, fontsize=8, loc="upper right", bbox_to_anchor=(1, 1.16))
    ax.set_ylim(0, 1)
    ax.set_xticks(range(len(values)))
    ax.set_xlabel("true class")
    ax.set_ylabel("accuracy")
    return _svg(fig, "classes")


def compare_values(expected: Any, got: Any, mismatches: Sequence[Sequence[int]]) -> str | None:
    """Your values against the expected ones: a line plot for 1D arrays, two heatmaps for 2D
    ones, the differing positions marked; None when that would not help (other shapes, too
    many values, not numbers)."""
    e, g = _numbers(expected), _numbers(got)
    shape = _shape(e)
    if shape is None or _shape(g) != shape or len(shape) not in (1, 2):
        return None
    if math.prod(shape) > MAX_VALUES:
        return None
    marks = [tuple(m) for m in mismatches if len(m) == len(shape)]
    return _compare_1d(e, g, marks) if len(shape) == 1 else _compare_2d(e, g, marks)


def _compare_1d(e: list[float], g: list[float], marks: list[tuple[int, ...]]) -> str:
    fig, ax = _figure(5.6, 2.4)
    x = range(len(e))
    ax.plot(x, e, color=EXPECTED, lw=1.2, ls="--", marker="o", ms=4, label="expected")
    ax.plot(x, g, color=GOT, lw=1.4, marker="o", ms=3, label="yours")
    wrong = [m[0] for m in marks if 0 <= m[0] < len(g)]
    if wrong:
        ax.scatter(
            wrong,
            [g[i] for i in wrong],
            s=60,
            facecolors="none",
            edgecolors=WRONG,
            lw=1.5,
            label="differs",
            zorder=3,
        )
    ax.set_xlabel("index")
    ax.legend(frameon=False, fontsize=8)
    return _svg(fig, "values")


def _compare_2d(e: list[Any], g: list[Any], marks: list[tuple[int, ...]]) -> str:
    rows, cols = len(e), len(e[0])
    width = min(6.4, 1.6 + 1.0 * cols)
    fig, axes = _figure(width, min(3.2, 1.0 + 0.42 * rows), ncols=2)
    finite = [v for row in (*e, *g) for v in row if math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    for ax, data, title in ((axes[0], e, "expected"), (axes[1], g, "yours")):
        ax.imshow(data, cmap="viridis", vmin=low, vmax=high)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(cols) if cols <= 12 else [])
        ax.set_yticks(range(rows) if rows <= 12 else [])
        ax.tick_params(labelsize=7)
    for r, c in marks:
        if 0 <= r < rows and 0 <= c < cols:
            axes[1].add_patch(_rectangle(c, r))
    return _svg(fig, "grid")


def _rectangle(c: int, r: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor=WRONG, lw=2)


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=72)
    # Fixed margins (in inches) instead of a layout engine: a third of the drawing time.
    fig.subplots_adjust(
        left=0.62 / width,
        right=1 - 0.12 / width,
        bottom=0.5 / height,
        top=1 - 0.28 / height,
        wspace=0.35,
    )
    ax = fig.subplots(ncols=ncols)
    for a in ax if ncols > 1 else [ax]:
        a.tick_params(labelsize=8)
        a.spines[["top", "right"]].set_visible(False)
        a.xaxis.label.set_size(8)
        a.yaxis.label.set_size(8)
    return fig, ax


def _svg(fig: Any, name: str) -> str:
    """The figure as one ``<svg>`` element: text kept as text (small, selectable), ids made
    unique to the plot so that several can share a page."""
    import matplotlib

    out = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    return text[text.index("<svg") :]


def _numbers(value: Any) -> Any:
    """Nested lists of finite-or-not floats, or None when anything is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, list) and value:
        items = [_numbers(v) for v in value]
        return None if any(v is None for v in items) else items
    return None
