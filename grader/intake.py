"""A class's submissions, from a folder or a zip as a learning-management system exports it.

Each file becomes a ``Submission``: the student it belongs to, its bytes' SHA-256, when it was
handed in, and where a readable copy is. Files that cannot be graded at all (not a notebook,
an unsafe zip entry, too large, a name that says no student) become submissions with a
``problem``, so that every file gets a row. Nothing is written outside ``into``, and a zip is
read entry by entry within caps (size, ratio, count), so a zip bomb costs nothing.

Naming: ``alice.ipynb``, ``alice/ps1.ipynb``, Canvas's ``name[_LATE]_userid_submissionid_file``
(the student is the user id), or any name a ``--roster`` CSV maps to a student id.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from .assemble import MAX_NOTEBOOK_BYTES
from .errors import SubmissionError
from .students import STUDENT_RE

CANVAS_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9-]+?)(?:_LATE)?_(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)$"
)
MAX_ENTRIES = 50_000
MAX_UNPACKED = 8 * 2**30  # bytes read out of one zip in all
MAX_RATIO = 200  # uncompressed / compressed, past 1 MiB: a bomb
IGNORED = ("__MACOSX/", ".", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class Submission:
    """One handed-in file."""

    student: str  # "" when the name says no student (then ``problem`` says why)
    source: str  # where it came from, as the operator knows it: "alice.ipynb", "x.zip!a/b"
    path: Path | None = None  # a readable copy (None when it was refused unread)
    sha256: str = ""
    size: int = 0
    submitted_at: dt.datetime | None = None
    problem: str = ""  # why it cannot be graded at all
    notices: tuple[str, ...] = field(default=())


def read_roster(path: Path) -> dict[str, str]:
    """A CSV of ``name,student`` rows (a header line is allowed): file or folder names, or
    LMS names and ids, mapped to student ids."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = [row for row in csv.reader(f) if row and any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SubmissionError(f"{path}: cannot read the roster ({e})") from None
    roster: dict[str, str] = {}
    for number, row in enumerate(rows, 1):
        if len(row) < 2:
            raise SubmissionError(f"{path}:{number}: expected name,student")
        name, student = row[0].strip(), row[1].strip()
        if number == 1 and student.lower() in ("student", "id", "student_id", "sis_id"):
            continue  # a header
        if not STUDENT_RE.match(student):
            raise SubmissionError(f"{path}:{number}: {student!r} is not a usable student id")
        roster[name] = student
    return roster


def collect(
    source: Path,
    into: Path,
    roster: Mapping[str, str] | None = None,
    submitted_at: dt.datetime | None = None,
) -> list[Submission]:
    """Every file of a folder or a zip, as submissions (refused ones included), in name order.

    Args:
        source: a folder of notebooks, or a zip of them.
        into: a folder of the batch's own, where a zip's notebooks are copied.
        roster: names -> student ids, for names that do not say the student themselves.
        submitted_at: the hand-in time of every file (else the zip entry's or file's time).
    """
    if source.is_dir():
        found = list(_from_folder(source, roster or {}))
    elif zipfile.is_zipfile(source):
        found = list(_from_zip(source, into, roster or {}))
    elif source.exists():
        raise SubmissionError(f"{source}: neither a folder nor a zip of notebooks")
    else:
        raise SubmissionError(f"{source}: no such file or folder")
    if submitted_at is not None:
        found = [replace(s, submitted_at=submitted_at) for s in found]
    return _mark_duplicates(sorted(found, key=lambda s: (s.student, s.source)))


def _from_folder(root: Path, roster: Mapping[str, str]) -> Iterator[Submission]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_dir() or _ignored(relative.as_posix()):
            continue
        source = relative.as_posix()
        if path.is_symlink():
            yield _refused(source, roster, "a link, not a file: it was not followed")
            continue
        named = _by_name(PurePosixPath(source), source, roster)
        if isinstance(named, Submission):
            yield named
            continue
        student = named
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            yield Submission(student, source, size=size, problem=_too_large(size))
            continue
        data = path.read_bytes()
        mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
        yield Submission(
            student, source, path, _sha256(data), len(data), mtime.replace(microsecond=0)
        )


def _from_zip(archive: Path, into: Path, roster: Mapping[str, str]) -> Iterator[Submission]:
    into.mkdir(parents=True, exist_ok=True)
    unpacked = 0
    with zipfile.ZipFile(archive) as zf:
        entries = [e for e in zf.infolist() if not e.is_dir() and not _ignored(e.filename)]
        if len(entries) > MAX_ENTRIES:
            raise SubmissionError(f"{archive}: more than {MAX_ENTRIES} files in the zip")
        for entry in entries:
            source = f"{archive.name}!{entry.filename}"
            name = PurePosixPath(entry.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or entry.filename.startswith(("/", "\\")):
                yield _refused(source, roster, "an unsafe path in the zip (absolute or with '..')")
                continue
            named = _by_name(name, source, roster)
            if isinstance(named, Submission):
                yield named
                continue
            student = named
            if entry.file_size > MAX_NOTEBOOK_BYTES:
                yield Submission(
                    student, source, size=entry.file_size, problem=_too_large(entry.file_size)
                )
                continue
            if entry.file_size > 2**20 and entry.file_size > MAX_RATIO * max(
                1, entry.compress_size
            ):
                yield Submission(
                    student, source, problem="refused: compressed more than 200 to 1 (a zip bomb?)"
                )
                continue
            if unpacked + entry.file_size > MAX_UNPACKED:
                yield Submission(
                    student, source, problem="refused: the zip unpacks to more than 8 GiB"
                )
                continue
            try:
                with zf.open(entry) as f:
                    data = f.read(MAX_NOTEBOOK_BYTES + 1)  # the header's size is not trusted
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as e:
                yield Submission(student, source, problem=f"cannot be read from the zip ({e})")
                continue
            if len(data) > MAX_NOTEBOOK_BYTES:
                yield Submission(student, source, problem=_too_large(len(data)))
                continue
            unpacked += len(data)
            digest = _sha256(data)
            copy = into / f"{digest}.ipynb"  # content-addressed: no name from the zip is used
            if not copy.exists():
                copy.write_bytes(data)
            when = _zip_time(entry)
            yield Submission(student, source, copy, digest, len(data), when)


def _by_name(name: PurePosixPath, source: str, roster: Mapping[str, str]) -> str | Submission:
    """The student a file's name says, or the refused submission when it says none, or says
    it is not a notebook."""
    if len(name.parts) > 2:
        return _refused(source, roster, "too deep: expected student.ipynb or student/file.ipynb")
    student, problem = _student(name, roster)
    if problem:
        return Submission("", source, problem=problem)
    if name.suffix.lower() != ".ipynb":
        return Submission(
            student, source, problem=f"not a notebook ({name.suffix or 'no extension'})"
        )
    return student


def _student(name: PurePosixPath | Path, roster: Mapping[str, str]) -> tuple[str, str]:
    """The student a file belongs to, from its name, or ('', why not)."""
    parts = name.parts
    stem = PurePosixPath(parts[-1]).stem
    candidates = [parts[0]] if len(parts) == 2 else []
    canvas = CANVAS_RE.match(parts[-1])
    if canvas:
        candidates += [canvas["user"], canvas["name"]]
    candidates += [PurePosixPath(parts[-1]).name, stem]
    for candidate in candidates:
        if candidate in roster:
            return roster[candidate], ""
    student = parts[0] if len(parts) == 2 else canvas["user"] if canvas else stem
    if not STUDENT_RE.match(student):
        return "", f"cannot tell the student from the name {str(name)!r} (use --roster)"
    return student, ""


def _refused(source: str, roster: Mapping[str, str], problem: str) -> Submission:
    student, _ = _student(PurePosixPath(PurePosixPath(source.rpartition("!")[2]).name), roster)
    return Submission(student, source, problem=problem)


def _mark_duplicates(found: list[Submission]) -> list[Submission]:
    """Two files for one student in one batch: both are kept (two attempts), each says so."""
    by_student: dict[str, list[str]] = {}
    for s in found:
        if s.student and not s.problem:
            by_student.setdefault(s.student, []).append(s.source)
    out = []
    for s in found:
        sources = by_student.get(s.student, [])
        if s.student and not s.problem and len(sources) > 1:
            others = ", ".join(x for x in sources if x != s.source)
            note = (
                f"{len(sources)} files for {s.student} in this batch (also {others}): "
                "each is graded as an attempt"
            )
            s = replace(s, notices=(*s.notices, note))
        out.append(s)
    return out


def _ignored(name: str) -> bool:
    base = PurePosixPath(name.replace("\\", "/")).name
    return name.startswith("__MACOSX/") or base.startswith(".") or base in IGNORED


def _too_large(size: int) -> str:
    cap = MAX_NOTEBOOK_BYTES / 2**20
    return f"{size / 2**20:.1f} MiB is more than the {cap:g} MiB a notebook may be"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip_time(entry: zipfile.ZipInfo) -> dt.datetime | None:
    try:
        return dt.datetime(*entry.date_time, tzinfo=dt.timezone.utc)
    except ValueError:
        return None
