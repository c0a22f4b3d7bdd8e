"""What one submission may use: declared once, here.

course.yaml's ``limits:`` section, the command-line flags of ``grade`` and ``grade build``,
and ``GradeOptions.limits`` all come from the fields of ``Limits`` (name, type, default,
minimum, help). Stdlib only: the CLI builds its flags from it without importing more.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .errors import GraderError


def _limit(default: float, minimum: float, unit: str, help: str) -> Any:
    return field(default=default, metadata={"min": minimum, "unit": unit, "help": help})


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Declared once: course.yaml's ``limits:``, the command-line
    flags and ``GradeOptions.limits`` all come from these fields (defaults fit the course)."""

    cell_timeout: float = _limit(120.0, 1, "s", "Seconds one cell may run.")
    timeout: float = _limit(900.0, 1, "s", "Seconds a whole submission may run.")
    memory: int = _limit(4096, 64, "MiB", "MiB of memory for the kernel and all it starts.")
    processes: int = _limit(64, 4, "", "Processes and threads at once.")
    output: int = _limit(1024, 1, "KiB", "KiB one cell may print.")
    total_output: int = _limit(8192, 1, "KiB", "KiB a whole submission may print.")
    disk: int = _limit(256, 1, "MiB", "MiB the kernel may write (work dir and /tmp).")

    def override(self, values: Mapping[str, float]) -> Limits:
        """These limits with some replaced; an unknown name or a value below its minimum is a
        GraderError (a float where an int belongs is rounded down)."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise GraderError(f"unknown limit(s): {', '.join(unknown)} (known: {', '.join(known)})")
        changed: dict[str, Any] = {}
        for name, value in values.items():
            f = known[name]
            cast = int if f.type in (int, "int") else float
            try:
                number = cast(value)
            except (TypeError, ValueError, OverflowError):
                raise GraderError(f"limit {name}: expected a number, got {value!r}") from None
            if not math.isfinite(number) or number < f.metadata["min"]:
                raise GraderError(f"limit {name}: must be at least {f.metadata['min']:g}")
            changed[name] = number
        return replace(self, **changed)


LIMIT_FIELDS = tuple(f.name for f in fields(Limits))
