"""The ``text`` kind's check: a str, exactly equal, equal once normalised, or matching a pattern.

The student's value is plain data from the export; anything but a ``str`` (a list, a number,
a str subclass a forged export could claim) fails, and so does a text longer than
``MAX_CHARS`` (a regular expression on it would cost unbounded time). Normalising is the
same transform the hand-out applies before its instant digest (``grader.inkernel.sealed``),
so right or wrong is the same in both places.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import CompareError
from ..inkernel.sealed import transform
from ..kinds import KINDS
from ..results import CheckResult
from ..spec import Answer, Exercise

if TYPE_CHECKING:
    from ..execute.records import ExportRecord
    from .context import JudgeContext

MAX_CHARS = 100_000  # a longer answer is refused, not compared
SHOWN = 200  # characters of a text a message shows


def compare_text(answer: Answer, expected: Any, got: Any) -> list[CheckResult]:
    """``got`` against ``expected`` (or the pattern) as the answer's ``match`` says."""
    if type(expected) is not str:
        raise CompareError(
            f"the reference value is not a text (a {type(expected).__name__}): "
            "check the solution, then run `grade build`"
        )

    def result(ok: bool, message: str = "") -> list[CheckResult]:
        shown = _shown(got) if type(got) is str else got
        return [
            CheckResult("text", ok, message="" if ok else message, expected=expected, got=shown)
        ]

    if type(got) is not str:
        return result(False, f"expected a text (a str), got {_kind(got)}")
    if len(got) > MAX_CHARS:
        return result(False, f"the text has {len(got)} characters; at most {MAX_CHARS} are read")
    match = answer["match"]
    if match == "regex":
        ok = re.fullmatch(answer["pattern"], got) is not None
        return result(ok, f"{_shown(got)!r} does not match the pattern {answer['pattern']!r}")
    names = KINDS["text"].transforms(answer.options)
    ok = transform(names, got) == transform(names, expected)
    how = " (case and white space aside)" if names else ""
    return result(ok, f"expected {_shown(expected)!r}{how}, got {_shown(got)!r}")


def check_text(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """The exported str against the reference (see ``compare_text``)."""
    return compare_text(exercise.answer, expected, export.payload.get("value"))


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"a {type(value).__name__} (not a plain str)"
    return f"a {type(value).__name__}"
