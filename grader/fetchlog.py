"""When a notebook fetched from a student's repository was handed in.

The time a commit says is the student's to choose. What the fetches saw is not: the fetch at
which a notebook's content (its git blob) first appeared bounds its hand-in time from above,
and the last fetch of that repository before it, which did not have that content, from below.
A commit time inside those bounds is taken at its word; one later than the upper bound (dated
in the future) or not after the lower one (dated back past a fetch that did not have it) gives
way to the upper bound. The fetch log, a small JSON file kept with the gradebook, remembers
what each fetch saw; without it, only the upper bound of the current fetch applies.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GraderError
from .students import normalised

VERSION = 1


@dataclass
class FetchLog:
    """What earlier fetches saw, per student: when their repository was last fetched, and
    for each notebook content it holds, the bounds of its hand-in time."""

    path: Path | None = None
    students: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> FetchLog:
        """The log at ``path`` (empty when there is none yet, or no path)."""
        if path is None or not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise GraderError(f"{path}: cannot read the fetch log ({e})") from None
        if not _valid(data):
            raise GraderError(f"{path}: not a fetch log of this version of grade")
        return cls(path, data["students"])

    def bounds(self, student: str, blob: str, now: int) -> tuple[int | None, int]:
        """(lower, upper) bounds of the hand-in time of content ``blob`` fetched ``now``."""
        seen = self.students.get(normalised(student))
        if seen is None:
            return None, now
        known = seen.get("blobs", {}).get(blob)
        if known is not None:
            return known[0], known[1]
        return seen.get("fetched"), now

    def record(self, student: str, fetched: int, blobs: dict[str, tuple[int | None, int]]) -> None:
        """Remember a fetch of the student's repository (started at ``fetched``) and the
        bounds of each content it held; contents it no longer holds are forgotten."""
        self.students[normalised(student)] = {
            "fetched": fetched,
            "blobs": {blob: list(pair) for blob, pair in blobs.items()},
        }

    def save(self) -> None:
        """Write the log (atomically) where it was loaded from."""
        if self.path is None:
            return
        temp = self.path.with_name(self.path.name + ".tmp")
        temp.write_text(
            json.dumps({"version": VERSION, "students": self.students}, indent=1, sort_keys=True)
            + "\n",
            encoding="utf-8",
        )
        os.replace(temp, self.path)


def handed_in(committed: int, lower: int | None, upper: int) -> int:
    """The hand-in time: the commit's time when the fetches cannot prove it false, else the
    upper bound (the first fetch that saw the content)."""
    if committed > upper or (lower is not None and committed <= lower):
        return upper
    return committed


def _valid(data: Any) -> bool:
    def time(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not isinstance(data, dict) or data.get("version") != VERSION:
        return False
    students = data.get("students")
    if not isinstance(students, dict):
        return False
    for seen in students.values():
        if not isinstance(seen, dict) or not time(seen.get("fetched")):
            return False
        blobs = seen.get("blobs")
        if not isinstance(blobs, dict):
            return False
        for pair in blobs.values():
            if not isinstance(pair, list) or len(pair) != 2 or not time(pair[1]):
                return False
            if pair[0] is not None and not time(pair[0]):
                return False
    return True
