"""The class a release was built for, the course secret, and which variant each student gets.

    roster.csv                  the instructor's class list: id, name, email (a header line
                                naming the columns is allowed)
    release/key/roster.json     the roster the release was built with (private, like the keys)
    .grade-secret               the course secret, beside course.yaml (or $GRADE_SECRET)

A student's variant is an HMAC of the course, the assignment and the student id under the
course secret: a rebuild gives every student the same numbers, and nobody without the secret
can tell which numbers another student got. The notebook made for a student carries the id,
the variant and a signature (another HMAC) over the three and the assignment, so an edited
claim is seen at grading.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import GraderError, SpecError
from .spec import Course
from .spec.varying import DEFAULT, varies
from .students import STUDENT_RE, normalised

SECRET_FILE = ".grade-secret"
SECRET_ENV = "GRADE_SECRET"
ID_COLUMNS = ("id", "student", "student_id", "sis_id", "username", "login", "user")
NAME_COLUMNS = ("name", "full name", "full_name", "student name")
EMAIL_COLUMNS = ("email", "e-mail", "mail")


@dataclass(frozen=True)
class Student:
    """One student of a roster."""

    id: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Roster:
    """The students a release was built for, and a check of the secret it was built with."""

    students: tuple[Student, ...]
    secret_check: str

    def ids(self) -> list[str]:
        """The student ids, in roster order."""
        return [s.id for s in self.students]


def read_roster(path: Path) -> tuple[Student, ...]:
    """A roster CSV: ``id,name,email`` rows (name and email optional), or any columns under a
    header naming them (id or student, name, email). Raises SpecError naming the line."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [r for r in csv.reader(handle) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SpecError(f"cannot read the roster ({e})", str(path)) from None
    if not rows:
        raise SpecError("the roster is empty", str(path))
    columns = {"id": 0, "name": 1, "email": 2}
    first = [c.strip().lower() for c in rows[0]]
    start = 1
    if any(c in ID_COLUMNS for c in first):
        columns = {
            field: next((i for i, c in enumerate(first) if c in names), -1)
            for field, names in (
                ("id", ID_COLUMNS),
                ("name", NAME_COLUMNS),
                ("email", EMAIL_COLUMNS),
            )
        }
    else:
        start = 0
    students: list[Student] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[start:], start + 1):
        cells = {field: row[i].strip() if 0 <= i < len(row) else "" for field, i in columns.items()}
        sid = cells["id"]
        if not STUDENT_RE.match(sid):
            raise SpecError(
                f"{sid!r} is not a usable student id (letters, digits and . _ @ + -, "
                "up to 64, starting with a letter or digit)",
                str(path),
                line,
            )
        if normalised(sid) in seen:  # ids compare as students.py says: Alice is alice
            raise SpecError(
                f"student {sid!r} is also on line {seen[normalised(sid)]}", str(path), line
            )
        seen[normalised(sid)] = line
        students.append(Student(sid, cells["name"], cells["email"]))
    return tuple(students)


def roster_path(release: Path) -> Path:
    """Where a release keeps its roster (beside the answer keys: it is not for students)."""
    return release / "key" / "roster.json"


def load_roster(release: Path) -> Roster | None:
    """The roster the release was built with, or None (built without one). A batch asks
    once per submission: the file is read again only when it changed."""
    path = roster_path(release)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise GraderError(f"{path}: the stored roster cannot be read ({e})") from None
    return _read_roster_file(path, stat.st_mtime_ns, stat.st_size)


def class_ids(release: Path) -> list[str]:
    """The ids of the class the release was built for (none without a roster)."""
    roster = load_roster(release)
    return roster.ids() if roster is not None else []


@functools.lru_cache(maxsize=8)
def _read_roster_file(path: Path, mtime_ns: int, size: int) -> Roster | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Roster(tuple(Student(**s) for s in data["students"]), str(data["secret_check"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise GraderError(f"{path}: the stored roster is damaged ({e}); run grade build") from None


def save_roster(release: Path, students: tuple[Student, ...], secret: bytes) -> Roster:
    """Store the roster of a build (owner-readable only)."""
    roster = Roster(students, secret_check(secret))
    path = roster_path(release)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    data = {"students": [asdict(s) for s in students], "secret_check": roster.secret_check}
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return roster


def course_secret(course: Course) -> bytes | None:
    """The course secret: ``$GRADE_SECRET``, else ``.grade-secret`` beside course.yaml."""
    value = os.environ.get(SECRET_ENV, "").strip()
    if value:
        return value.encode()
    try:
        text = (course.root / SECRET_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise GraderError(
            f"{course.root / SECRET_FILE}: cannot read the course secret ({e})"
        ) from None
    return text.encode() if text else None


def ensure_secret(course: Course) -> tuple[bytes, bool]:
    """The course secret, made (and written to ``.grade-secret``) when there is none yet;
    and whether it was made now."""
    found = course_secret(course)
    if found is not None:
        return found, False
    path = course.root / SECRET_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode(), True


def secret_check(secret: bytes) -> str:
    """A short public fingerprint of the secret (tells whether two secrets are the same)."""
    return _mac(secret, "check")[:16]


def checked_secret(course: Course, roster: Roster) -> bytes:
    """The course secret, when it is the one the roster's release was built with."""
    secret = course_secret(course)
    if secret is None:
        raise GraderError(
            f"the release was built for a roster, but the course secret is missing: restore "
            f"{course.root / SECRET_FILE} or set ${SECRET_ENV}"
        )
    if secret_check(secret) != roster.secret_check:
        raise GraderError(
            f"the course secret ({SECRET_FILE} or ${SECRET_ENV}) is not the one the release "
            "was built with: restore it, or build again (every student's numbers change)"
        )
    return secret


def variant_of(secret: bytes, course: Course, assignment: str, student: str) -> str:
    """The variant a student gets for an assignment (the default when nothing varies)."""
    if not varies(course, assignment):
        return DEFAULT
    return _mac(secret, "variant", course.name, assignment, student)[:12]


def signature(secret: bytes, course: Course, assignment: str, student: str, variant: str) -> str:
    """The signature a student's notebook carries over who, which assignment and variant."""
    return _mac(secret, "signature", course.name, assignment, student, variant)[:32]


def _mac(secret: bytes, *parts: str) -> str:
    message = "\0".join(parts).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
