"""Whose notebook this is, and which variant it is graded against.

A notebook made for a student (``grade build --roster``) says in its metadata whose it is,
its variant, and a signature over both. Grading believes none of it: the student a
submission is graded *for* (the batch's file name, ``--student``, or else the notebook's
claim) decides the variant, from the course secret; the claim is only checked, and what does
not hold is a flag for the instructor (an edited claim, another student's notebook, a
notebook with no claim at all, or one graded for nobody where the numbers vary). Ids compare
as ``grader.students`` says (case-insensitively, after NFKC), and the student is recorded as
the roster spells them. Without a roster in the release there are no variants and nothing to
check: every notebook is graded against the default, as always.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GraderError
from .flags import flag
from .roster import checked_secret, load_roster, signature, variant_of
from .spec import Course
from .spec.varying import DEFAULT, varies
from .students import is_student_id, normalised, recorded, same_student, spellings


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
    if submitted_for and not is_student_id(normalised(submitted_for)):
        raise GraderError(f"{submitted_for[:64]!r} is not a student id")
    roster = load_roster(release)
    claimed = claim(metadata)
    owner = claimed.get("student", "")
    given = submitted_for or (owner if is_student_id(normalised(owner)) else "")
    if roster is None:
        return Identity(student=normalised(given))
    known = spellings(roster.ids())
    student = recorded(given, known)  # as the roster spells it: Alice/ is alice
    if not student:
        if owner:
            return Identity(flags=(flag("bad-claim", claim=repr(owner[:64])),), roster=True)
        return Identity(flags=(flag("nobody"),) if varies(course, assignment) else (), roster=True)
    secret = checked_secret(course, roster)
    variant = variant_of(secret, course, assignment, student)
    flags: list[str] = []
    notices: list[str] = []
    if not owner:
        flags.append(flag("unsigned", student=student))
    else:
        expected = signature(secret, course, assignment, owner, claimed.get("variant", ""))
        if not is_student_id(owner) or not hmac.compare_digest(
            expected, claimed.get("signature", "")
        ):
            flags.append(flag("edited"))
        elif not same_student(owner, student):
            flags.append(flag("another", owner=owner, student=student))
    if normalised(student) not in known:
        notices.append(
            f"{student} is not on the roster of this release: graded against the numbers "
            "their id gives"
        )
    return Identity(student, variant, tuple(flags), tuple(notices), roster=True)
