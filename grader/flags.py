"""Flags: what the instructor should look at in a submission, in two wordings.

A flag is recorded (the gradebook, ``GradeResult.flags``) in the staff's words, which may
name students: "this notebook was made for student alice, not for dave". A student may read
their report, results.json and terminal, so every view a student sees shows flags through
:func:`for_student`, which maps each flag to a fixed wording of its kind that names nobody.
The wording comes only from the table below, never from the flag's text: an unknown flag,
or one with a student's id in it, can only ever become one of these sentences. A leaf module:
it imports nothing of the package.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Kind:
    """One kind of flag: its staff text (a ``str.format`` template) and the student's."""

    staff: str
    student: str

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The staff texts of this kind (each field matches anything)."""
        parts = []
        for literal, name, _, _ in string.Formatter().parse(self.staff):
            parts.append(re.escape(literal))
            if name is not None:
                parts.append(".*")
        return re.compile("".join(parts), re.DOTALL)


KINDS = {
    "edited": Kind(
        "the notebook's student id, assignment or variant was edited: its signature does not match",
        "the notebook's student id, assignment or variant was edited: its signature does not match",
    ),
    "another": Kind(
        "this notebook was made for student {owner}, not for {student}",
        "this notebook was made for another student",
    ),
    "unsigned": Kind(
        "the notebook carries no student id: it is not the one made for {student}",
        "the notebook carries no student id: it is not the one made for this student",
    ),
    "bad-claim": Kind(
        "the notebook claims the student id {claim}, which is not one",
        "the notebook claims a student id that is not one",
    ),
    "nobody": Kind(
        "the notebook does not say whose it is and no student was given: graded against the "
        "default numbers, not a student's own (grade it with --student ID)",
        "the notebook does not say whose it is: graded against the default numbers, not a "
        "student's own",
    ),
    "file-name": Kind(
        "the file name names another student ({other}): it counts as {student}'s, whose "
        "folder or LMS name it has",
        "the file name names another student: it counts as the submission of the folder or "
        "LMS name it was handed in under",
    ),
    # grader.copying words this flag itself ("copying? the answers match ...").
    "copying": Kind(
        "copying? {detail}",
        "copying? the answers match numbers that are not this student's (another student's, "
        "or the default ones) on several exercises with per-student numbers",
    ),
}
OTHER = "something in this submission is for the instructor to look at"


def flag(kind: str, **fields: str) -> str:
    """A flag of one kind, in the staff's words (with the names given)."""
    return KINDS[kind].staff.format(**fields)


def kind_of(text: str) -> str:
    """The kind a recorded flag is of ('' when none in the table)."""
    return next((k for k, kind in KINDS.items() if kind.pattern.fullmatch(text)), "")


def for_student(flags: Sequence[str]) -> tuple[str, ...]:
    """Flags as a student may read them: the fixed wording of each one's kind (once each)."""
    wordings = (KINDS[k].student if (k := kind_of(f)) else OTHER for f in flags)
    return tuple(dict.fromkeys(wordings))


def needs_student(flags: Sequence[str]) -> bool:
    """Whether the submission was graded for nobody, where it needed a student."""
    return any(kind_of(f) == "nobody" for f in flags)


def staff_note(flags: Sequence[str], copied_from: str) -> str:
    """Flags on one line for the staff, with whose numbers the answers match ('' if none)."""
    text = "; ".join(flags)
    if copied_from:
        whose = ", ".join("the default numbers" if s == "-" else s for s in copied_from.split(", "))
        text += f" [the answers are the numbers of: {whose}]"
    return text
