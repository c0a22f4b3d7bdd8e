"""A class at a glance, in the terminal: final scores after the policies, and batch counts.

Student ids come from file names, which students choose: every cell is ``one_line`` text.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..flags import staff_note
from ..policies import Final
from ..sanitize import one_line
from .text import _points


def finals_table(finals: Sequence[Final], console: Console, title: str = "") -> None:
    """One row per student and assignment: attempts, score, late penalty, final; then the
    class mean and median."""
    table = Table(title=Text(one_line(title)) if title else None)
    for name, justify in (
        ("Student", "left"),
        ("Assignment", "left"),
        ("Attempts", "right"),
        ("Score", "right"),
        ("Late", "right"),
        ("Final", "right"),
        ("Note", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    flagged = []
    for f in finals:
        note = Text(one_line(f.status if f.not_due else f.note))
        waiting = len(f.attempt.awaiting) if f.attempt is not None else 0
        if waiting:  # manual answers: in neither the score nor yet the final's meaning
            answers = "answer" if waiting == 1 else "answers"
            note = Text(f"{waiting} {answers} awaiting review ", style="cyan") + note
        if f.attempt is not None and f.attempt.flags:
            flagged.append(f)
            note = Text("⚑ flagged ", style="bold red") + note
        table.add_row(
            Text(one_line(f.student)),
            Text(one_line(f.assignment)),
            str(f.attempts),
            _points(f.raw),
            f"-{_points(f.penalty)}" if f.penalty else "",
            f"– / {_points(f.max_score)}"
            if f.not_due
            else f"{_points(f.score)} / {_points(f.judged_max)}"
            + (f" + {_points(f.awaiting)} awaiting" if f.awaiting else ""),
            note,
        )
    console.print(table)
    for f in flagged:  # the staff's view: whose numbers the answers match, by name
        assert f.attempt is not None
        text = staff_note(f.attempt.flags, f.attempt.copied_from)
        console.print(
            Text("⚑ ", style="bold red") + Text(one_line(f"{f.student} {f.assignment}: {text}"))
        )
    by_assignment: dict[str, list[float]] = {}
    for f in finals:
        if not f.not_due:  # an open assignment's empty rows are no 0s of the class
            by_assignment.setdefault(f.assignment, []).append(f.score)
    for assignment, scores in sorted(by_assignment.items()):
        ordered = sorted(scores)
        middle = len(ordered) // 2
        median = (
            ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        )
        mean = sum(ordered) / len(ordered)
        console.print(
            Text(
                one_line(
                    f"{assignment}: {len(ordered)} students, mean {_points(mean)}, "
                    f"median {_points(median)}"
                )
            )
        )
