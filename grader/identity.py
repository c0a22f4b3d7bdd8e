"""Whose notebook this is, and which variant it is graded against.

A notebook made for a student (``grade build --roster``) says in its metadata whose it is,
its variant, and a signature over both. Grading believes none of it: the student a
submission is graded *for* (the batch's file name, ``--student``, or else the notebook's
claim) decides the variant, from the course secret; the claim is only checked, and what does
not hold is a flag for the instructor (an edited claim, another student's notebook, a
notebook with no claim at all). Without a roster in the release there are no variants and
nothing to check: every notebook is graded against the default, as always.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GraderError
from .roster import checked_secret, load_roster, signature, variant_of
from .spec import Course
from .students import STUDENT_RE
from .variants import DEFAULT, varies


@dataclass(frozen=True)
class Identity:
    """The student and variant a submission is graded against, and what was noticed."""

    student: str = ""  # "" when nobody is known: the default variant
    variant: str = DEFAULT
    flags: tuple[str, ...] = ()  # for the instructor: the claim does not hold
    notices: tuple[str, ...] = field(default=())
    roster: bool = False  # the release has a roster (then copying can be checked)


def claim(metadata: Any) -> dict[str, str]:
    """The student, variant and signature a notebook's metadata claims (text only)."""
    meta = metadata.get("grader", {}) if isinstance(metadata, dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    return {k: meta[k] for k in ("student", "variant", "signature") if isinstance(meta.get(k), str)}


def identify(
    course: Course, release: Path, assignment: str, metadata: Any, submitted_for: str = ""
) -> Identity:
    """Who a submission is graded for and against which variant; flags where its claim does
    not hold. ``submitted_for`` is the student the submission was handed in for (a batch's
    file name, ``--student``); without it the notebook's own claim is taken."""
    if submitted_for and not STUDENT_RE.match(submitted_for):
        raise GraderError(f"{submitted_for[:64]!r} is not a student id")
    roster = load_roster(release)
    claimed = claim(metadata)
    student = submitted_for or claimed.get("student", "")
    if roster is None:
        return Identity(student=student)
    if not student:
        notice = (
            "the notebook does not say whose it is: graded against the default numbers "
            "(pass --student to grade it as one student's)"
        )
        return Identity(notices=(notice,) if varies(course, assignment) else (), roster=True)
    if not STUDENT_RE.match(student):
        return Identity(
            flags=(f"the notebook claims the student id {student[:64]!r}, which is not one",),
            roster=True,
        )
    secret = checked_secret(course, roster)
    variant = variant_of(secret, course, assignment, student)
    flags: list[str] = []
    notices: list[str] = []
    owner = claimed.get("student", "")
    if not owner:
        flags.append(f"the notebook carries no student id: it is not the one made for {student}")
    else:
        expected = signature(secret, course, assignment, owner, claimed.get("variant", ""))
        if not STUDENT_RE.match(owner) or not hmac.compare_digest(
            expected, claimed.get("signature", "")
        ):
            flags.append(
                "the notebook's student id, assignment or variant was edited: its signature "
                "does not match"
            )
        elif owner != student:
            flags.append(f"this notebook was made for student {owner}, not for {student}")
    if student not in roster.ids():
        notices.append(
            f"{student} is not on the roster of this release: graded against the numbers "
            "their id gives"
        )
    return Identity(student, variant, tuple(flags), tuple(notices), roster=True)
