"""course.yaml ``policies:`` -> ``grader.policies.Policies``: the late penalty, the
extensions CSV, which attempt counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..errors import SpecError
from ..policies import Extension, LatePolicy, Policies
from .model import Assignment
from .yamlfields import Fields


def read_policies(f: Fields, root: Path, assignments: tuple[Assignment, ...]) -> Policies:
    """course.yaml ``policies:``: late penalty, extensions (a CSV), which attempt counts."""
    if f.data.get("policies") is None:
        return Policies()
    p = Fields(f.data["policies"], f.path, "policies.", f.line_of("policies"))
    p.check_keys(("late", "extensions", "attempts", "reveal_hidden"))
    late = LatePolicy()
    if p.data.get("late") is not None:
        lf = Fields(p.data["late"], f.path, "policies.late.", p.line_of("late"))
        lf.check_keys(("penalty", "per", "grace", "cutoff"))
        per = lf.get("per", str, "day")
        if per not in ("day", "hour"):
            raise lf.fail("per", f"expected day or hour, got {per!r}")
        penalty = lf.number("penalty", 0.0)
        if penalty > 100:
            raise lf.fail("penalty", "expected a percentage from 0 to 100")
        cutoff = lf.number("cutoff", None) if lf.data.get("cutoff") is not None else None
        late = LatePolicy(
            penalty=penalty,
            per=per,
            grace_minutes=lf.number("grace", 0.0),
            cutoff_days=cutoff,
        )
    attempts = p.get("attempts", str, "last")
    if attempts not in ("best", "last"):
        raise p.fail("attempts", f"expected best or last, got {attempts!r}")
    extensions: tuple[Extension, ...] = ()
    source = ""
    if p.data.get("extensions") is not None:
        source = p.get("extensions", str)
        extensions = _extensions(root / source, assignments)
    reveal = p.get("reveal_hidden", str, "never")
    if reveal not in ("never", "after_due"):
        raise p.fail("reveal_hidden", f"expected never or after_due, got {reveal!r}")
    return Policies(
        late=late,
        attempts=attempts,
        extensions=extensions,
        extensions_file=source,
        reveal_hidden="after_due" if reveal == "after_due" else "never",
    )


def _extensions(path: Path, assignments: tuple[Assignment, ...]) -> tuple[Extension, ...]:
    """``student,assignment,due`` rows (a header line first): a later due date for the student
    a line names (an id, an e-mail or an LMS id; ``grader.policies`` matches it), an ISO date
    or date-time, or ``+N`` days after the assignment's own."""
    import csv

    due = {a.id: a.due for a in assignments}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SpecError(f"cannot read the extensions ({e})", str(path)) from None
    out = []
    for line, row in enumerate(rows, 1):
        if not row or not any(c.strip() for c in row) or (line == 1 and row[0] == "student"):
            continue
        if len(row) != 3:
            raise SpecError("expected student,assignment,due", str(path), line)
        student, assignment, when = (c.strip() for c in row)
        if not student:
            raise SpecError("the line names no student", str(path), line)
        if assignment not in due:
            raise SpecError(f"unknown assignment {assignment!r}", str(path), line)
        try:
            if when.startswith("+"):
                base = due[assignment]
                if base is None:
                    raise ValueError("the assignment has no due date to add days to")
                new = base + dt.timedelta(days=float(when[1:]))
            else:
                new = dt.datetime.fromisoformat(when)
                if "T" not in when and " " not in when:
                    new = new.replace(hour=23, minute=59)
                new = new if new.tzinfo else new.replace(tzinfo=dt.timezone.utc)
        except ValueError as e:
            raise SpecError(f"{when!r} is not a date or +days ({e})", str(path), line) from None
        out.append(Extension(student, assignment, new, str(path), line))
    return tuple(out)
