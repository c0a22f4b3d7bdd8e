"""Texts that give answers away: ``grade build`` refuses a text a student receives (a topic's
intro or setup, an exercise's prompt, starter, hints, known mistakes' titles and hints) that
states the reference answer of an exercise of the same or a later assignment.

Values are found as printed, where that is unambiguous: numbers of 3 or more significant
digits (``456``, ``12,345``, ``12_345``, ``0.482`` for 0.48213: at the precision printed),
sequences (``[4, 7, 11]``, ``[4,7,11]``, ``(2, 5, 9, 9)``, ``2 x 5 x 9 x 9``, a LaTeX
``bmatrix``) and their rows. Smaller numbers are not checked: ``3`` or ``64`` is everywhere.

What a student may read is allowed: an answer of an earlier assignment (a fact by now), and
in an exercise's statements (starter, hints, mistakes) what its own prompt or its topic's
setup gives as data. A prompt, intro or setup gives data: it may build on the answers of the
exercises before it ("the first convolution gives ..."), not state its own or a later one's.

Pure: ``leaks`` works on plain texts and values (``parts`` makes them from a course and its
keys), so it is tested without a kernel.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeAlias

from .key import AnswerKey, key_path, load_key
from .render import prompt_text
from .roster import Student, variant_of
from .spec import Course
from .spec.varying import DEFAULT
from .variants import for_variant

DATA_FIELDS = ("intro", "setup", "prompt")  # what an exercise gives; the rest states


@dataclass(frozen=True)
class Text:
    """One text a student receives: whose (an exercise, or the first exercise of the topic
    whose intro or setup it is), which field (``hints[1]``, ``mistakes[0].hint``), and the
    topic it belongs to."""

    exercise: str
    field: str
    text: str
    topic: str = ""

    @property
    def data(self) -> bool:
        """Whether the text gives data (a prompt, intro, setup) rather than states."""
        return self.field in DATA_FIELDS


@dataclass(frozen=True)
class Part:
    """One assignment: its texts, its exercises in order and their reference answers."""

    assignment: str
    exercises: tuple[str, ...]
    texts: tuple[Text, ...]
    answers: Mapping[str, Any]


# --- values as printed --------------------------------------------------------------------------

# A value as nested tuples of numbers: an answer (a mapping as its values), or one found.
Frozen: TypeAlias = "float | tuple[Frozen, ...]"


@dataclass(frozen=True)
class Number:
    """A number as printed: its value, the decimals printed (``None``: exponent notation,
    with ``decimals`` of the mantissa in ``mantissa``) and its significant digits."""

    value: float
    decimals: int
    significant: int
    exponent: bool = False

    def shows(self, leaf: float) -> bool:
        """Whether ``leaf``, printed at this number's precision, is this number."""
        if isinstance(leaf, bool) or not math.isfinite(leaf):
            return False
        if self.exponent:
            return float(f"{leaf:.{self.decimals}e}") == self.value
        return float(round(leaf, self.decimals)) == self.value


@dataclass(frozen=True)
class Found:
    """A value found in a text: what was printed, and as a number or a (nested) sequence."""

    shown: str
    number: Number | None = None
    items: tuple[Found, ...] = ()

    @property
    def plain(self) -> Frozen:
        """The value as plain numbers (to compare one found value with another)."""
        if self.number is not None:
            return self.number.value
        return tuple(i.plain for i in self.items)

    def shows(self, value: Any) -> bool:
        """Whether this printed value is ``value`` (a number, or a list of the same nesting)."""
        if self.number is not None:
            return isinstance(value, (int, float)) and self.number.shows(value)
        if not isinstance(value, (list, tuple)) or len(value) != len(self.items):
            return False
        return all(i.shows(v) for i, v in zip(self.items, value, strict=True))


_SEP = r"(?:,|_|\u2009|\u202f|\\,|\{,\})"
_NUM = rf"[-\u2212]?(?:\d{{1,3}}(?:{_SEP}\d{{3}})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?"
_NUMBER = re.compile(rf"(?<![\w.])[-\u2212]?\d{{1,3}}(?:{_SEP}\d{{3}})+(?:\.\d+)?(?![\w])")
_PLAIN = re.compile(r"(?<![\w.])[-\u2212]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
_TIMES = re.compile(rf"(?<![\w.]){_NUM}(?:\s*(?:x|×|\\times)\s*{_NUM})+(?![\w])")
_BMATRIX = re.compile(r"\\begin\{[bpv]?matrix\}(.*?)\\end\{[bpv]?matrix\}", re.S)
_SEQ_TOKEN = re.compile(rf"\s*({_NUM}|[\[\](),])")


def _number(text: str) -> Number:
    raw = text if text.isdigit() else re.sub(_SEP, "", text).replace("\u2212", "-")
    mantissa, _, exp = raw.lower().partition("e")
    digits = mantissa.lstrip("-").replace(".", "").lstrip("0")
    decimals = len(mantissa.partition(".")[2])
    return Number(float(raw), decimals, len(digits), exponent=bool(exp))


def _parse_sequence(text: str) -> Found | None:
    """``[1, 2]``, ``(2, 5, 9, 9)``, ``[[1, 2], [3, 4]]`` (nothing but numbers inside)."""
    tokens = _SEQ_TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        return None
    pos = 0

    def seq() -> Found | None:
        nonlocal pos
        if pos >= len(tokens) or tokens[pos] not in "([":
            return None
        close = ")" if tokens[pos] == "(" else "]"
        pos += 1
        items: list[Found] = []
        while pos < len(tokens) and tokens[pos] != close:
            if tokens[pos] in "([":
                inner = seq()
                if inner is None:
                    return None
                items.append(inner)
            elif tokens[pos] not in ",)]":
                items.append(Found(tokens[pos], _number(tokens[pos])))
                pos += 1
            else:
                return None
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
        if pos >= len(tokens):
            return None
        pos += 1
        return Found(text.strip(), items=tuple(items))

    found = seq()
    return found if found is not None and pos == len(tokens) else None


def _brackets(text: str) -> Iterator[str]:
    """Every bracketed group of a text, outermost and inner ones."""
    stack: list[int] = []
    for i, c in enumerate(text):
        if c in "([":
            stack.append(i)
        elif c in ")]" and stack:
            yield text[stack.pop() : i + 1]


@lru_cache(maxsize=8192)
def values_in(text: str) -> tuple[Found, ...]:
    """The numbers and sequences printed in a text."""
    numbers = [m.group() for m in (*_NUMBER.finditer(text), *_PLAIN.finditer(text))]
    # most numbers of a text are small: leave them before parsing them
    found = [Found(n, _number(n)) for n in numbers if len(n.lstrip("-\u2212.0")) >= 3]
    for group in _brackets(text):
        seq = _parse_sequence(group)
        if seq is not None:
            found.append(seq)
    for m in _TIMES.finditer(text):
        parts = re.split(r"\s*(?:x|×|\\times)\s*", m.group())
        found.append(Found(m.group(), items=tuple(Found(p, _number(p)) for p in parts)))
    for m in _BMATRIX.finditer(text):
        rows = [r.split("&") for r in re.split(r"\\\\", m.group(1)) if r.strip()]
        cells = [[c.strip() for c in row] for row in rows]
        if all(re.fullmatch(_NUM, c) for row in cells for c in row):
            items = tuple(
                Found(" & ".join(row), items=tuple(Found(c, _number(c)) for c in row))
                for row in cells
            )
            found.append(Found(m.group(), items=items))
            found.extend(items)
    return tuple(f for f in found if _telling(f))


def _telling(found: Found) -> bool:
    """Whether a printed value is specific enough to state an answer: a number of 3 or more
    significant digits, a sequence of 2 or more numbers of 3 or more digits in all (``3x3``
    and ``[-2, -2]`` say nothing)."""
    if found.number is not None:
        return found.number.significant >= 3
    return _count(found) >= 2 and _digits(found) >= 3


def _count(found: Found) -> int:
    return 1 if found.number is not None else sum(_count(i) for i in found.items)


def _digits(found: Found) -> int:
    if found.number is not None:
        return found.number.significant
    return sum(_digits(i) for i in found.items)


def freeze(value: Any) -> Frozen | None:
    """An answer as nested tuples of numbers (a mapping as its values), or None when it is
    not made of numbers (a model's answer has no value to state)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    items = value.values() if isinstance(value, Mapping) else value
    if not isinstance(items, Iterable) or isinstance(items, (str, bytes)):
        return None
    frozen = tuple(freeze(v) for v in items)
    return None if any(f is None for f in frozen) else frozen  # type: ignore[return-value]


def _pieces(value: Frozen, whole: bool = True) -> Iterator[tuple[Frozen, bool]]:
    """An answer and the parts of it a text could state (its rows, its numbers), each with
    whether it is the whole answer."""
    yield value, whole
    if isinstance(value, tuple):
        for v in value:
            yield from _pieces(v, False)


@lru_cache(maxsize=65536)
def states(found: Found, answer: Frozen) -> bool:
    """Whether a printed value states an answer or a telling part of it: a row of 3 or more
    numbers and 4 or more digits, or a number of 3 or more digits (a row of small numbers,
    such as a window of the data, is not evidence)."""
    for piece, whole in _pieces(answer):
        if isinstance(piece, tuple) and not whole and (len(found.items) < 3 or _digits(found) < 4):
            continue
        if found.shows(piece):
            return True
    return False


# --- the check ----------------------------------------------------------------------------------


def leaks(parts: Sequence[Part], label: str = "", variant: bool = False) -> list[str]:
    """One line per text that states an answer it must not.

    Args:
        parts: the assignments of the course, in order, as one student receives them.
        label: what names this student's variant in the lines.
        variant: the parts are a student's variant (not the default): a text is checked for
            its own exercise's answer only. Where another exercise's answer, or the text, was
            drawn for the student, meeting it is chance (a drawn input shape equal to a fixed
            answer of the CIFAR10Model); where neither was, the default's check finds it.
    """
    order = [(p.assignment, e) for p in parts for e in p.exercises]
    index = {e: i for i, (_, e) in enumerate(order)}
    where = dict((e, a) for a, e in order)
    frozen = {e: freeze(v) for p in parts for e, v in p.answers.items()}
    problems: list[str] = []

    def _told(t: Text, e: str) -> bool:
        """Whether text ``t`` must not state exercise ``e``'s answer."""
        if variant and e != t.exercise:
            return False  # met by chance, or found in the default variant
        # a prompt (intro, setup) may build on an earlier exercise's answer
        return not (t.data and index.get(e, 0) < index.get(t.exercise, 0))

    for n, part in enumerate(parts):
        facts = [f for p in parts[:n] for e in p.answers if (f := frozen[e]) is not None]
        secret = [(e, frozen[e]) for p in parts[n:] for e in p.answers if frozen[e] is not None]
        data = _data(part)
        for t in part.texts:
            for found in values_in(t.text):
                stated = next(
                    (e for e, value in secret if _told(t, e) and states(found, value)), None
                )
                if stated is None or any(states(found, f) for f in facts):
                    continue  # no answer, or one an earlier assignment gave away
                if not t.data and found.plain in data.get(t.exercise, set()):
                    continue  # data of the exercise's own prompt or setup
                problems.append(
                    f"{part.assignment}/{t.exercise}{label}: {t.field} states "
                    f"{found.shown}, the answer of {where[stated]}/{stated}"
                )
    return list(dict.fromkeys(problems))


def _data(part: Part) -> dict[str, set[Frozen]]:
    """What each exercise gives as data: the values printed in its prompt and in its topic's
    intro and setup."""
    topics: dict[str, set[Frozen]] = {}
    prompts: dict[str, set[Frozen]] = {}
    topic_of: dict[str, str] = {}
    for t in part.texts:
        if t.data:
            into = prompts.setdefault(t.exercise, set()) if t.field == "prompt" else None
            into = topics.setdefault(t.topic, set()) if into is None else into
            into.update(f.plain for f in values_in(t.text))
        topic_of.setdefault(t.exercise, t.topic)
    return {e: {*prompts.get(e, ()), *topics.get(topic_of.get(e, ""), ())} for e in part.exercises}


def part_of(course: Course, assignment_id: str, key: AnswerKey) -> Part:
    """An assignment's texts (as its students receive them) and its reference answers."""
    assignment = course.assignment(assignment_id)
    texts: list[Text] = []
    seen: set[str] = set()
    for eid in assignment.exercises:
        ex = course.exercises[eid]
        if ex.topic not in seen:
            seen.add(ex.topic)
            topic = course.topics[ex.topic]
            texts += [Text(eid, "intro", topic.intro, topic.id)]
            texts += [Text(eid, "setup", topic.setup, topic.id)]
        texts += [Text(eid, "prompt", prompt_text(ex), ex.topic)]
        texts += [Text(eid, "starter", ex.starter, ex.topic)]
        texts += [Text(eid, f"hints[{i}]", h, ex.topic) for i, h in enumerate(ex.hints)]
        for i, m in enumerate(ex.mistakes):
            texts += [Text(eid, f"mistakes[{i}].title", m.title, ex.topic)]
            texts += [Text(eid, f"mistakes[{i}].hint", m.hint, ex.topic)]
    return Part(assignment.id, assignment.exercises, tuple(texts), dict(key.values))


def release_leaks(
    course: Course, release: Path, roster: Iterable[Student] = (), secret: bytes = b""
) -> list[str]:
    """The leaks of a built release: the default hand-outs', and each roster student's (the
    texts and keys of their own variant of every assignment)."""
    ids = [a.id for a in course.assignments]
    combos = {tuple(DEFAULT for _ in ids)}
    combos |= {tuple(variant_of(secret, course, a, s.id) for a in ids) for s in roster}
    made: dict[tuple[str, str], Part] = {}
    problems: list[str] = []
    for combo in sorted(combos):
        parts = []
        for a, v in zip(ids, combo, strict=True):
            if (a, v) not in made:
                key = load_key(key_path(release, a, v))
                if key is None:
                    continue
                made[a, v] = part_of(for_variant(course, a, v), a, key)
            parts.append(made[a, v])
        label = "" if not any(combo) else f" (variant {'/'.join(v or '-' for v in combo)})"
        problems += leaks(parts, label, variant=any(combo))
    return list(dict.fromkeys(problems))
