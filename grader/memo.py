"""What a course computes once and uses again: bounded caches that live as long as the course.

Running a solution's preamble, setup or section (it may import torch or build data), the
course as one student's variant sees it, the wrong answer a known mistake gives, the
held-out data a model is judged on, the references of a class: each is costly, and each is
kept in the ``Memo`` of the course it was computed for (``Course.memo``), under a purpose of
``SIZES`` that bounds how many are kept (the least recently used goes first). A course made
from another (a variant, other limits: ``dataclasses.replace``) shares its memo, so what
the keys leave out must not differ between them; a course read again gets a new one, and a
course no longer referenced takes its memo, and what it holds, with it. Stdlib only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

# How many results of each purpose a course keeps.
SIZES: Mapping[str, int] = {
    "namespace": 256,  # solutions preamble, topic setup, exercise section (grader.solutions)
    "variant": 1024,  # the course as one variant sees one assignment (grader.variants)
    "mistake": 4096,  # a known mistake's wrong answer, plain data (grader.judge.context)
    "holdout": 4,  # held-out samples (tensors: they can be large) (grader.judge.context)
    "references": 4,  # a class's varying references (grader.copying)
}


class Memo:
    """Bounded least-recently-used caches, one per purpose, safe to share between threads
    (two threads missing the same key may both compute it: the first result is kept)."""

    def __init__(self, sizes: Mapping[str, int] = SIZES) -> None:
        self._sizes = dict(sizes)
        self._entries: dict[str, OrderedDict[Hashable, Any]] = {p: OrderedDict() for p in sizes}
        self._lock = threading.Lock()

    def get(self, purpose: str, key: Hashable, compute: Callable[[], T]) -> T:
        """The result kept for ``key``, else ``compute()`` (kept unless it raises)."""
        entries = self._entries[purpose]
        with self._lock:
            if key in entries:
                entries.move_to_end(key)
                found: T = entries[key]
                return found
        value = compute()  # outside the lock: it may use the memo itself
        with self._lock:
            if key in entries:  # another thread was first
                entries.move_to_end(key)
                kept: T = entries[key]
                return kept
            entries[key] = value
            while len(entries) > self._sizes[purpose]:
                entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        with self._lock:
            return sum(len(e) for e in self._entries.values())

    def __reduce__(self) -> tuple[Any, ...]:
        return (Memo, (self._sizes,))  # a copy (pickled, deep-copied) starts empty

    def __repr__(self) -> str:
        return f"<Memo of {len(self)} results>"
