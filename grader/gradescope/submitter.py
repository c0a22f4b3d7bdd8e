"""Who handed a submission in on Gradescope, from its ``submission_metadata.json``.

The metadata is someone else's bytes: it is read without following a link, size-capped, and
every field is checked for its type and size before use. The submitter is matched to the
roster by email, else by student id (both compared as ``grader.students`` compares ids). A
submitter not on the roster is graded against the numbers of their Gradescope user id
(``gradescope-<id>``, a variant derived under the course secret like a roster student's),
and metadata that names nobody usable against numbers nobody was given (``gradescope-unknown``):
never against the numbers the notebook claims. Both are flags for the staff.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..roster import Roster, load_roster
from ..sanitize import one_line
from ..students import normalised

PREFIX = "gradescope-"  # the ids of submitters not on the roster (never a roster id)
UNKNOWN = f"{PREFIX}unknown"  # no usable submitter: numbers no notebook was made with
MAX_METADATA_BYTES = 1 << 20
MAX_USERS = 50  # a group on Gradescope is a handful of students
USER_ID_RE = re.compile(r"[1-9][0-9]{0,17}", re.ASCII)  # Gradescope's numeric user ids
MAX_EMAIL = 254
MAX_SID = 64


@dataclass(frozen=True)
class Submitter:
    """The student a Gradescope submission is graded as, and what the staff should know."""

    student: str  # "" without a roster (nothing varies: the defaults for everyone)
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class _User:
    gradescope_id: str  # "" when the metadata gives no usable id
    email: str
    sid: str

    def label(self) -> str:
        """How the staff see this user in a flag."""
        parts = [f"user {self.gradescope_id}" if self.gradescope_id else "no user id"]
        parts += [one_line(text)[:64] for text in (self.email, self.sid) if text]
        return ", ".join(parts)


def submitter(release: Path, metadata: Path) -> Submitter:
    """The student a submission is graded as: the roster student Gradescope names, else the
    submitter's own ``gradescope-<id>``, else ``gradescope-unknown`` (with a flag)."""
    roster = load_roster(release)
    if roster is None:
        return Submitter("")
    try:
        users = _users(_read(metadata))
    except ValueError as e:
        return Submitter(UNKNOWN, (f"{e}: graded against numbers no student was given",))
    matched = [(user, *_on_roster(roster, user)) for user in users]
    flags = [flag for _, _, flag in matched if flag]
    # Each user as the student they are graded as; a group's first is chosen by the roster
    # (then by Gradescope id), never by the order the metadata lists them in.
    graded = sorted(
        (
            (user, sid or f"{PREFIX}{user.gradescope_id}")
            for user, sid, _ in matched
            if sid or user.gradescope_id
        ),
        key=lambda pair: (_roster_order(roster, pair[1]), int(pair[0].gradescope_id or 0)),
    )
    if not graded:
        flags.append(
            "Gradescope's submission metadata names no submitter with a roster match or a "
            "usable user id: graded against numbers no student was given"
        )
        return Submitter(UNKNOWN, tuple(flags))
    first, student = graded[0]
    if student.startswith(PREFIX):
        flags.append(
            f"the Gradescope submitter ({first.label()}) is not on the roster: graded against "
            f"the numbers of {student}, not the notebook's"
        )
    if len({sid for _, sid in graded}) > 1:
        names = "; ".join(f"{sid} ({user.label()})" for user, sid in graded)
        flags.append(f"a group submission of {len(graded)} users ({names}): graded as {student}")
    return Submitter(student, tuple(flags))


def _read(metadata: Path) -> Any:
    """The metadata's JSON: a regular file (not a link, a folder or a pipe), at most
    ``MAX_METADATA_BYTES``."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(metadata, flags)
    except OSError as e:
        raise ValueError(
            f"Gradescope's submission metadata cannot be read ({e.strerror})"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("Gradescope's submission metadata is not a file")
        raw = os.read(fd, MAX_METADATA_BYTES + 1)  # a regular file: all of it, up to that
    finally:
        os.close(fd)
    if len(raw) > MAX_METADATA_BYTES:
        raise ValueError("Gradescope's submission metadata is too large")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError):
        raise ValueError("Gradescope's submission metadata is not JSON") from None


def _users(data: Any) -> list[_User]:
    """The submitters the metadata lists (what is not usable in each left empty)."""
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, list):
        raise ValueError("Gradescope's submission metadata has no list of users")
    if len(users) > MAX_USERS:
        raise ValueError(f"Gradescope's submission metadata lists {len(users)} users")
    found = []
    for user in users:
        if not isinstance(user, dict):
            continue
        found.append(
            _User(
                _user_id(user.get("id")),
                _text(user.get("email"), MAX_EMAIL),
                _text(user.get("sid"), MAX_SID),
            )
        )
    return found


def _user_id(value: Any) -> str:
    """A Gradescope user id as digits, or '' (a bool, a float, a negative, text that is not
    plain ASCII digits, or too long)."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int) and value > 0:
        value = str(value)
    if isinstance(value, str) and USER_ID_RE.fullmatch(value):
        return value
    return ""


def _text(value: Any, limit: int) -> str:
    """A short text field, stripped; '' when it is anything else or too long."""
    if not isinstance(value, str) or len(value) > limit:
        return ""
    return value.strip()


def _on_roster(roster: Roster, user: _User) -> tuple[str, str]:
    """The roster id this user is (by email, else by student id) or '', and a flag when the
    email and the student id name two different students."""
    by_email = {normalised(s.email): s.id for s in roster.students if s.email}
    by_id = {normalised(s.id): s.id for s in roster.students}
    email = by_email.get(normalised(user.email), "") if user.email else ""
    sid = by_id.get(normalised(user.sid), "") if user.sid else ""
    if email and sid and email != sid:
        return email, (
            f"Gradescope's submitter {one_line(user.email)[:64]} is {email} on the roster, but "
            f"their student id is {sid}'s: graded as {email}"
        )
    return email or sid, ""


def _roster_order(roster: Roster, student: str) -> int:
    ids = roster.ids()
    return ids.index(student) if student in ids else len(ids)
