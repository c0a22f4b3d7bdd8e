"""Manual answers (kind ``manual``): never run, never judged by code; their result waits for a
reviewer (``grade review``), and its points are counted neither as earned nor as possible
until then (``ExerciseResult.status`` "awaiting review")."""

from __future__ import annotations

from typing import Any

from ..errors import CompareError
from ..results import AWAITING, ExerciseResult
from ..spec import Exercise

# The most of a manual answer's text a result keeps (a reviewer reads it; a report shows it).
MAX_ANSWER_CHARS = 100_000


def awaiting_review(ex: Exercise, text: str) -> ExerciseResult:
    """A manual answer as graded: its text kept, its points awaiting a reviewer."""
    if len(text) > MAX_ANSWER_CHARS:
        text = text[:MAX_ANSWER_CHARS] + f"\n[... cut at {MAX_ANSWER_CHARS} characters]"
    return ExerciseResult(
        id=ex.id,
        title=ex.title,
        points=ex.points,
        score=0.0,
        status=AWAITING,
        message="reviewed by a person",
        answer=text,
    )


def check_manual(exercise: Exercise, expected: Any, export: Any, context: Any) -> list[Any]:
    """The kinds table's check of a manual answer: none (no code judges it)."""
    raise CompareError(f"exercise {exercise.id!r} is reviewed by a person, not checked")
