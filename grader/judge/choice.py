"""The ``choice`` kind's check: one option's text (or a list of them), as the reference chose.

The student's value is plain data from the export: a ``str`` (``multiple: false``) or a list
of ``str`` (``multiple: true``, in any order, each option once); a ``bool`` is its text
(``tf = True`` answers the option "True"). Texts are compared once case
and white space are normalised, with the same transforms the hand-out applies before its
instant digest (``grader.inkernel.sealed``), so right or wrong is the same in both places. A
text that is not one of the options is said so (it is never right); a reference that is not
one of them is a course error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import CompareError
from ..inkernel.sealed import transform
from ..results import CheckResult
from ..spec import Answer, Exercise

if TYPE_CHECKING:
    from ..execute.records import ExportRecord
    from .context import JudgeContext

SHOWN = 80  # characters of a text a message shows
NORMAL = ("casefold", "spaces")


def normal(text: str) -> str:
    """An option's text as answers are compared: case folded, white space runs as one."""
    result: str = transform(NORMAL, text)
    return result


def compare_choice(answer: Answer, expected: Any, got: Any) -> list[CheckResult]:
    """``got`` against the reference's option (or options), normalised."""
    options = {normal(o): o for o in answer["options"]}
    multiple = bool(answer["multiple"])
    wanted = _reference(expected, options, multiple)

    def result(ok: bool, message: str = "") -> list[CheckResult]:
        shown = _shown(got) if type(got) is str else got
        return [
            CheckResult("choice", ok, message="" if ok else message, expected=expected, got=shown)
        ]

    texts = _texts(transform(("bools",), got), multiple)  # `tf = True` is the option "True"
    if texts is None:
        what = "a list of the options' texts" if multiple else "one option's text (a str)"
        return result(False, f"expected {what}, got {_kind(got)}")
    unknown = [t for t in texts if normal(t) not in options]
    if unknown:
        listed = ", ".join(repr(o) for o in answer["options"])
        return result(False, f"{_shown(unknown[0])!r} is not one of the options ({listed})")
    chosen = {options[normal(t)] for t in texts}
    if not multiple:
        return result(chosen == wanted, f"expected {expected!r}, got {_shown(texts[0])!r}")
    if chosen == wanted:
        return result(True)
    missing = [o for o in answer["options"] if o in wanted - chosen]
    extra = [o for o in answer["options"] if o in chosen - wanted]
    parts = [f"missing {', '.join(map(repr, missing))}"] if missing else []
    parts += [f"not an answer: {', '.join(map(repr, extra))}"] if extra else []
    return result(False, "; ".join(parts))


def check_choice(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """The exported option (or options) against the reference's (see ``compare_choice``)."""
    return compare_choice(exercise.answer, expected, export.payload.get("value"))


def _reference(expected: Any, options: dict[str, str], multiple: bool) -> set[str]:
    texts = _texts(expected, multiple)
    if texts is None or any(normal(t) not in options for t in texts):
        what = "a list of options" if multiple else "one of the options"
        raise CompareError(
            f"the reference value is not {what} (it is {_shown(repr(expected))}): check the "
            "solution and the options, then run `grade build`"
        )
    return {options[normal(t)] for t in texts}


def _texts(value: Any, multiple: bool) -> list[str] | None:
    """The texts of an answer: one str, or (multiple) a list of str; else None."""
    if not multiple:
        return [value] if type(value) is str else None
    if not isinstance(value, (list, tuple)) or not all(type(v) is str for v in value):
        return None
    return list(value)


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return f"a {type(value).__name__}"
