"""Text of a report: cleaning student text, short tracebacks, one-line values, points.

Pure string helpers shared by every report format; no markup and no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

from ..results import ExerciseResult, GradeResult
from ..sanitize import clean_text, one_line

__all__ = ["clean_text", "one_line", "short_traceback"]

TRACEBACK_LINES = 15
COMPACT_CHARS = 200  # a value written on one line
LINE_CHARS = 300  # one traceback or message line
HINT_STATUSES = ("failed", "partial", "error")
STATUS_ICONS = {
    "passed": "✓",
    "partial": "◐",
    "failed": "✗",
    "error": "!",
    "missing": "∅",
    "pending": "…",
    "awaiting review": "⌛",
}

_TB_NOISE_RE = re.compile(r"^-{20,}$|^(?:\S+\s+)?Traceback \(most recent call last\):?$")
_FRAME_RE = re.compile(r"^\s*(?:Cell In ?\[|Input In ?\[|<ipython-input-|File \S)")
_STUDENT_FRAME_RE = re.compile(
    r"^\s*(?:Cell In ?\[|Input In ?\[|<ipython-input-|File \"?<|File \"?\S*ipykernel_\d+)"
)


def short_traceback(traceback: str, max_lines: int = TRACEBACK_LINES) -> str:
    """Shorten a student traceback: no colours, the student's own frames, the last lines.

    Library frames between the student's cells are replaced by one line; the frame where the
    exception was raised and the final exception line are always kept.
    """
    lines = [_cut(ln.rstrip()) for ln in clean_text(traceback).split("\n")]
    lines = [ln for ln in lines if not _TB_NOISE_RE.match(ln)]
    starts = [i for i, ln in enumerate(lines) if _FRAME_RE.match(ln)]
    if starts:
        tail = next(
            (i for i in range(starts[-1] + 1, len(lines)) if lines[i][:1] not in ("", " ", "-")),
            len(lines),
        )
        frames = [lines[a:b] for a, b in zip(starts, [*starts[1:], tail], strict=True)]
        kept: list[str] = []
        hidden = 0
        for n, frame in enumerate(frames):
            if _STUDENT_FRAME_RE.match(frame[0]) or n == len(frames) - 1:
                if hidden:
                    kept.append(f"... {hidden} library frame{'s' * (hidden > 1)} hidden ...")
                    hidden = 0
                kept.extend(ln for ln in frame if ln)
            else:
                hidden += 1
        lines = kept + lines[tail:]
    lines = [ln for i, ln in enumerate(lines) if ln or (i and lines[i - 1])]  # no double blanks
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    if len(lines) > max_lines:
        dropped = len(lines) - max_lines + 1
        lines = [f"... {dropped} earlier lines omitted ...", *lines[-(max_lines - 1) :]]
    return "\n".join(lines)


def _cut(text: str, limit: int = LINE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _points(x: float) -> str:
    """Points without trailing zeros: ``17.5``, ``24``, ``0.33``."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _percent(score: float, max_score: float) -> int | None:
    """Rounded percentage; never 100 unless the score is full, None without a maximum."""
    if not (max_score > 0 and math.isfinite(score) and math.isfinite(max_score)):
        return None
    pct = math.floor(100 * score / max_score + 0.5)
    return 99 if pct >= 100 and score < max_score else pct


def _round(x: float) -> float:
    return round(x, 4) + 0.0  # + 0.0 turns -0.0 into 0.0


def _scalar(x: Any, precise: bool = False) -> str:
    """One value: floats to 6 significant digits (``precise``: shortest round-trip)."""
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x) if precise else f"{x:.6g}"
    if isinstance(x, str):
        return repr(x[: COMPACT_CHARS + 1])
    return _cut(str(x), COMPACT_CHARS + 1)


def _tokens(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 16:
        yield "…"
    elif isinstance(value, (list, tuple)):
        yield "[" if isinstance(value, list) else "("
        for i, item in enumerate(value):
            yield ", " if i else ""
            yield from _tokens(item, depth + 1)
        yield "]" if isinstance(value, list) else ",)" if len(value) == 1 else ")"
    elif isinstance(value, dict):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield (", " if i else "") + _scalar(key, True) + ": "
            yield from _tokens(item, depth + 1)
        yield "}"
    else:
        yield _scalar(value, precise=True)


def _compact(value: Any, limit: int = COMPACT_CHARS) -> str:
    """A value on one line, cut at ``limit`` characters (stops early on huge data)."""
    out: list[str] = []
    size = 0
    for token in _tokens(value):
        out.append(token)
        size += len(token)
        if size > limit:
            break
    return _cut("".join(out), limit)


_ABSENT = object()  # an index past the end of one of two values


def _dims(value: Any) -> tuple[int, ...]:
    """The lengths of nested lists along their first items (``(5, 5)`` for a 5 × 5 array)."""
    dims: list[int] = []
    while isinstance(value, (list, tuple)) and len(dims) <= 16:
        dims.append(len(value))
        value = value[0] if value else None
    return tuple(dims)


def first_difference(a: Any, b: Any, depth: int = 0) -> tuple[tuple[int, ...], Any, Any] | None:
    """Where two values first differ, in reading order (row by row), and what each holds
    there (``_ABSENT`` past the end of one); None when they are equal."""
    sequences = (list, tuple)
    if isinstance(a, sequences) and isinstance(b, sequences) and depth <= 16:
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, depth + 1)
            if found is not None:
                return ((i, *found[0]), found[1], found[2])
        if len(a) == len(b):
            return None
        n = min(len(a), len(b))
        return ((n,), a[n] if n < len(a) else _ABSENT, b[n] if n < len(b) else _ABSENT)
    both_nan = all(isinstance(v, float) and math.isnan(v) for v in (a, b))
    return None if both_nan or (type(a) is type(b) and a == b) else ((), a, b)


def _at(value: Any) -> str:
    return "nothing" if value is _ABSENT else _compact(value, 40)


def distinct_texts(values: Sequence[Any], limit: int = COMPACT_CHARS) -> list[str]:
    """Each value on one line, as ``_compact`` writes it; a 2-D (or more) value cut short
    also says its shape (``(5 × 5) [[...``), and values whose lines would read alike say
    where they first differ (``…; at [3, 4]: 7``), so two different answers never read the
    same."""
    texts = [_compact(v, limit) for v in values]
    alike: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        alike.setdefault(text, []).append(i)
    out = list(texts)
    for i, v in enumerate(values):
        dims = _dims(v)
        if len(texts[i]) >= limit and texts[i].endswith("…") and len(dims) > 1:
            out[i] = f"({' × '.join(map(str, dims))}) {texts[i]}"
    for group in alike.values():
        if len(group) < 2:
            continue
        for k, i in enumerate(group):  # the first against the second, the others the first
            found = first_difference(values[i], values[group[1] if k == 0 else group[0]])
            if found is not None:
                out[i] += f"; at {_index(found[0])}: {_at(found[1])}"
    return out


def _index(index: Sequence[int]) -> str:
    return "[" + ", ".join(map(str, index)) + "]"


def _kind(value: Any) -> str:
    return "None (no value)" if value is None else f"{type(value).__name__} {_compact(value, 60)}"


def _counts(result: GradeResult) -> str:
    """``3 of 5 exercises passed, 1 partial, 1 error``."""
    n = {s: sum(ex.status == s for ex in result.exercises) for s in STATUS_ICONS}
    total = len(result.exercises)
    parts = [f"{n['passed']} of {total} exercise{'s' * (total != 1)} passed"]
    kept = ("partial", "failed", "error", "missing", "pending", "awaiting review")
    parts += [f"{n[s]} {s}" for s in kept if n[s]]
    return ", ".join(parts)


def _score_cell(ex: ExerciseResult) -> str:
    """``1.5 / 2``, or ``– / 2`` while the score is decided only at official grading or by a
    reviewer."""
    undecided = ex.status in ("pending", "awaiting review")
    return f"{'–' if undecided else _points(ex.score)} / {_points(ex.points)}"


def awaiting_note(result: GradeResult) -> str:
    """`` + 3 awaiting review`` while manual answers wait for a reviewer ('' otherwise)."""
    return f" + {_points(result.awaiting)} awaiting review" if result.awaiting > 0 else ""


def checked_note(result: GradeResult) -> str:
    """What a hand-out check decided, and what it leaves to official grading ('' when graded)."""
    if result.checked is None:
        return ""
    checked, total = _points(result.checked), _points(result.max_score)
    if result.checked >= result.max_score:
        return f"all {total} points checked here"
    if result.checked <= 0:
        return (
            f"none of the {total} points is checked here: "
            "they are checked when your notebook is graded"
        )
    return (
        f"{checked} of {total} points checked here; "
        "the rest is checked when your notebook is graded"
    )


def headline(result: GradeResult) -> tuple[str, str]:
    """The score and what it is out of, as a report's headline gives them: ``("17", "21")``;
    for a hand-out check that leaves points to official grading, out of the points it
    checked, ``("9.2", "17 checked here")``, or ``("–", "21")`` when it checked none."""
    if result.checked is None or result.checked >= result.max_score:
        return _points(result.score), _points(result.max_score)
    if result.checked <= 0:
        return "–", _points(result.max_score)
    return _points(result.score), f"{_points(result.checked)} checked here"


def total_line(result: GradeResult) -> str:
    """``Total: 17 / 21 (81%)``; for a hand-out check, the points it decided:
    ``Checked here: 10 / 12``."""
    if result.checked is not None and result.checked < result.max_score:
        return f"Checked here: {_points(result.score)} / {_points(result.checked)}"
    pct = _percent(result.score, result.max_score)
    total = f"Total: {_points(result.score)} / {_points(result.max_score)}"
    return total + awaiting_note(result) + (f" ({pct}%)" if pct is not None else "")


def _total_percent(result: GradeResult) -> int | None:
    """The percentage of a graded total; none for a hand-out check that left points open."""
    if result.checked is not None and result.checked < result.max_score:
        return None
    return _percent(result.score, result.max_score)
