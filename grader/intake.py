"""A class's submissions, from a folder or a zip as a learning-management system exports it.

Each file becomes a ``Submission``: the student it belongs to, its bytes' SHA-256, when it was
handed in, and the batch's own copy of those bytes (content-addressed, in ``into``), which is
what is graded. Files that cannot be graded at all (not a notebook, a link, an unsafe zip
entry, too large, a name that says no student, past the files a student may hand in) become
submissions with a ``problem``, so that every file gets a row. Nothing is written outside
``into``; a zip is read entry by entry within caps (size, ratio, count), so a zip bomb costs
nothing, and a folder's files are read once each, by descriptor, never through a link
(``grader.nofollow``).

Who is who, one rule:

- The top-level name decides. A file in a folder (``alice/ps1.ipynb``), or in a folder of
  it (``alice/ps1/problem1.ipynb``, nbgrader's ``submitted/`` layout), is the folder's
  student; a file at the top level is its LMS name's (Canvas's
  ``name[_LATE]_userid_submissionid_file``: the user id, or the name, as ``--roster`` maps
  them) or, for any other name, its stem's (``alice.ipynb``). ``--roster`` maps any such
  top-level name (a folder, an LMS name or id, a file name) to a student id.
- A name inside a student's folder never re-attributes the file: ``bob/alice.ipynb`` is
  bob's, flagged when the file name names another student (by the roster, or a student of
  this batch), and so is ``mallory/alice/ps1.ipynb``; ``mallory/a/b/alice.ipynb`` is
  mallory's, refused as too deep.
- Names and ids compare as ``grader.students`` says (case-insensitively, after NFKC): with a
  class list (the build's roster) a student is recorded as it spells them (``Alice/`` is
  ``alice``), else in the normalised form (``Alice/`` and ``alice/`` are one student). A
  ``--roster`` name that is another student's id is an error: the folder could be either's.
- A student has at most ``max_per_student`` files (in name order) read; the rest are one
  refused row, read not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import re
import zipfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import groupby
from pathlib import Path, PurePosixPath

from .errors import SubmissionError
from .flags import flag
from .nofollow import read_file, too_large, walk
from .notebooks import MAX_NOTEBOOK_BYTES
from .students import MAX_FILES, is_student_id, normalised, recorded, same_student, spellings

CANVAS_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9-]+?)(?:_LATE)?_(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)$"
)
MAX_ENTRIES = 50_000
MAX_UNPACKED = 8 * 2**30  # bytes read out of one zip in all
MAX_RATIO = 200  # uncompressed / compressed, past 1 MiB: a bomb
IGNORED = ("Thumbs.db", "desktop.ini")
NAMED = 3  # how many of a student's other files a notice names


@dataclass(frozen=True)
class Submission:
    """One handed-in file."""

    student: str  # "" when the name says no student (then ``problem`` says why)
    source: str  # where it came from, as the operator knows it: "alice.ipynb", "x.zip!a/b"
    path: Path | None = None  # the batch's copy of the bytes (None when refused unread)
    sha256: str = ""
    size: int = 0
    submitted_at: dt.datetime | None = None
    problem: str = ""  # why it cannot be graded at all
    notices: tuple[str, ...] = field(default=())
    flags: tuple[str, ...] = field(default=())  # for the instructor (names allowed)

    def read(self) -> bytes:
        """The bytes collected, from the batch's copy, checked against their hash."""
        if self.path is None:
            raise SubmissionError(f"{self.source}: it was refused unread")
        try:
            data = read_file(self.path.parent, (self.path.name,), MAX_NOTEBOOK_BYTES).data
        except SubmissionError as e:
            raise SubmissionError(f"{self.source}: the batch's copy: {e}") from None
        if _sha256(data) != self.sha256:
            raise SubmissionError(
                f"{self.source}: the batch's copy changed after it was collected; "
                "run the batch again"
            )
        return data


def read_roster(path: Path) -> dict[str, str]:
    """A CSV of ``name,student`` rows (a header line is allowed): folder, file or LMS names
    and ids, mapped to student ids. Raises SubmissionError naming the line of a blank name,
    a name given to two students, or a name that is another student's id."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = [row for row in csv.reader(f) if row and any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SubmissionError(f"{path}: cannot read the roster ({e})") from None
    roster: dict[str, str] = {}
    lines: dict[str, tuple[int, str]] = {}  # normalised name -> (line, student)
    for number, row in enumerate(rows, 1):
        if len(row) < 2:
            raise SubmissionError(f"{path}:{number}: expected name,student")
        name, student = row[0].strip(), row[1].strip()
        if number == 1 and student.lower() in ("student", "id", "student_id", "sis_id"):
            continue  # a header
        if not is_student_id(normalised(student)):
            raise SubmissionError(f"{path}:{number}: {student!r} is not a usable student id")
        if not normalised(name):
            raise SubmissionError(f"{path}:{number}: no name before {student!r}")
        earlier = lines.get(normalised(name))
        if earlier and normalised(earlier[1]) != normalised(student):
            raise SubmissionError(
                f"{path}:{number}: {name!r} is also given to {earlier[1]!r} on line {earlier[0]}"
            )
        lines[normalised(name)] = (number, student)
        roster[name] = student
    clash = _clash(roster, roster.values())
    if clash:
        number = lines[normalised(clash)][0]
        raise SubmissionError(f"{path}:{number}: {_clash_text(clash, roster[clash])}")
    return roster


def _clash(roster: Mapping[str, str], ids: Collection[str]) -> str:
    """A roster name that is the id of another student than the one it maps to ('' if none):
    a folder so named could be either student's."""
    normal = {normalised(i) for i in ids}
    return next(
        (n for n, s in roster.items() if normalised(n) in normal and not same_student(n, s)), ""
    )


def _clash_text(name: str, student: str) -> str:
    return (
        f"the roster name {name!r} is the id of another student than {student!r}: "
        "a folder so named could be either's"
    )


class _Names:
    """Who a name is, for one batch: the ``--roster`` map and the class list, normalised."""

    def __init__(self, roster: Mapping[str, str], students: Collection[str]) -> None:
        self.known = spellings(students)  # the class list (the build's roster)
        clash = _clash(roster, [*roster.values(), *students])
        if clash:
            raise SubmissionError(f"--roster: {_clash_text(clash, roster[clash])}")
        self.map = {normalised(n): recorded(s, self.known) for n, s in roster.items()}
        bad = next((s for s in self.map.values() if not is_student_id(s)), None)
        if bad is not None:
            raise SubmissionError(f"--roster: {bad!r} is not a usable student id")

    def mapped(self, *names: str) -> str:
        """The student the roster gives the first of ``names`` it has ('' if none)."""
        return next((self.map[k] for n in names if (k := normalised(n)) in self.map), "")

    def student(self, name: str) -> str:
        """The id a name is recorded as ('' when it is not one)."""
        key = recorded(name, self.known)
        return key if is_student_id(key) else ""


@dataclass(frozen=True)
class _Entry:
    """One file found, before it is read."""

    source: str
    parts: tuple[str, ...]  # its path inside the folder or zip
    problem: str = ""  # known without reading it (a link, an unsafe zip path)
    info: zipfile.ZipInfo | None = None
    student: str = ""
    others: tuple[str, ...] = ()  # other names its file name gives (an LMS's file part...)


def collect(
    source: Path,
    into: Path,
    roster: Mapping[str, str] | None = None,
    submitted_at: dt.datetime | None = None,
    students: Collection[str] = (),
    max_per_student: int = MAX_FILES,
) -> list[Submission]:
    """Every file of a folder or a zip, as submissions (refused ones included), in name order.

    Args:
        source: a folder of notebooks, or a zip of them.
        into: a folder of the batch's own, where the notebooks' bytes are copied.
        roster: names -> student ids, for names that do not say the student themselves.
        submitted_at: the hand-in time of every file (else the zip entry's or file's time).
        students: the class list (the build's roster ids): names are recorded as it spells
            them.
        max_per_student: files of one student that are read; the rest are one refused row.
    """
    names = _Names(roster or {}, students)
    if source.is_dir():
        entries = list(_folder_entries(source, into))
    elif zipfile.is_zipfile(source):
        entries = list(_zip_entries(source))
    elif source.exists():
        raise SubmissionError(f"{source}: neither a folder nor a zip of notebooks")
    else:
        raise SubmissionError(f"{source}: no such file or folder")
    decided = sorted((_whose(e, names) for e in entries), key=lambda e: (e.student, e.source))
    found = _read_all(source, into, _capped(decided, max_per_student))
    found = _file_name_flags(found, decided, names)
    if submitted_at is not None:
        found = [replace(s, submitted_at=submitted_at) for s in found]
    return _mark_duplicates(found)


def _folder_entries(root: Path, into: Path) -> Iterator[_Entry]:
    try:  # the batch's own folder, when it is inside the class's, holds no submission
        own = into.resolve().relative_to(root.resolve()).parts
    except ValueError:
        own = ()

    def skip(parts: tuple[str, ...]) -> bool:
        return parts == own or _ignored(parts)

    for parts, kind in walk(root, skip, MAX_ENTRIES):
        problem = {
            "file": "",
            "link": "a link, not a file: it was not followed",
            "other": "not a regular file: it was not read",
        }[kind]
        yield _Entry("/".join(parts), parts, problem)


def _zip_entries(archive: Path) -> Iterator[_Entry]:
    with zipfile.ZipFile(archive) as zf:
        infos = [e for e in zf.infolist() if not e.is_dir()]
    if len(infos) > MAX_ENTRIES:
        raise SubmissionError(f"{archive}: more than {MAX_ENTRIES} files in the zip")
    for info in infos:
        source = f"{archive.name}!{info.filename}"
        name = PurePosixPath(info.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts or info.filename.startswith(("/", "\\")):
            yield _Entry(source, (), "an unsafe path in the zip (absolute or with '..')", info)
        elif name.parts and not _ignored(name.parts):
            yield _Entry(source, name.parts, "", info)


def _whose(entry: _Entry, names: _Names) -> _Entry:
    """The entry with its student, by the one rule (see the module's docstring)."""
    parts = entry.parts
    if not parts:
        return entry  # an unsafe path says no student
    file_name = parts[-1]
    stem = PurePosixPath(file_name).stem
    canvas = CANVAS_RE.match(file_name)
    lms = (canvas["user"], canvas["name"]) if canvas else ()
    inner = (PurePosixPath(canvas["file"]).stem, canvas["file"]) if canvas else ()
    if len(parts) > 1:  # the top-level folder decides; the names inside are only looked at
        inside = (*parts[1:-1], *lms, *inner, file_name, stem)
        deciding, fallback, others = (parts[0],), parts[0], inside
    else:
        deciding, fallback, others = (*lms, file_name, stem), lms[0] if lms else stem, inner
    student = names.mapped(*deciding) or names.student(fallback)
    problem = entry.problem
    if not student:
        where = parts[0] if len(parts) > 1 else file_name
        problem = f"cannot tell the student from the name {where!r} (use --roster)"
    elif problem:
        pass
    elif len(parts) > 3:
        problem = (
            "too deep: expected student.ipynb, student/file.ipynb or student/folder/file.ipynb"
        )
    elif PurePosixPath(file_name).suffix.lower() != ".ipynb":
        problem = f"not a notebook ({PurePosixPath(file_name).suffix or 'no extension'})"
    return replace(entry, student=student, problem=problem, others=others)


def _capped(entries: list[_Entry], cap: int) -> list[_Entry]:
    """At most ``cap`` files of each student; each student's rest as one refused entry."""
    out: list[_Entry] = []
    for student, group in groupby(entries, key=lambda e: e.student):
        mine = list(group)
        if not student or len(mine) <= cap:
            out += mine
            continue
        rest = mine[cap:]
        listed = ", ".join(e.source for e in rest[:NAMED])
        more = f" and {len(rest) - NAMED} more" if len(rest) > NAMED else ""
        problem = (
            f"refused unread: {len(rest)} files of {student} past the {cap} a student may hand "
            f"in to one batch (--max-files-per-student): {listed}{more}"
        )
        row = _Entry(f"{rest[0].source} (+{len(rest) - 1})", (), problem, student=student)
        out += [*mine[:cap], row]
    return out


def _read_all(source: Path, into: Path, entries: list[_Entry]) -> list[Submission]:
    """Read each entry without a problem (once), hash it and keep the copy that is graded."""
    out: list[Submission] = []
    unpacked = 0
    archive = zipfile.ZipFile(source) if not source.is_dir() else None
    try:
        for e in entries:
            if e.problem:
                out.append(Submission(e.student, e.source, problem=e.problem))
                continue
            when: dt.datetime | None
            try:
                if archive is None:
                    read = read_file(source, e.parts, MAX_NOTEBOOK_BYTES)
                    data, when = read.data, _time(read.mtime)
                else:
                    assert e.info is not None
                    data = _unzipped(archive, e.info, unpacked)
                    when = _zip_time(e.info)
                    unpacked += len(data)
            except SubmissionError as problem:
                out.append(Submission(e.student, e.source, problem=str(problem)))
                continue
            digest = _sha256(data)
            copy = _keep(data, digest, into)
            out.append(Submission(e.student, e.source, copy, digest, len(data), when))
    finally:
        if archive is not None:
            archive.close()
    return out


def _unzipped(zf: zipfile.ZipFile, entry: zipfile.ZipInfo, unpacked: int) -> bytes:
    if entry.file_size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(too_large(entry.file_size, MAX_NOTEBOOK_BYTES))
    if entry.file_size > 2**20 and entry.file_size > MAX_RATIO * max(1, entry.compress_size):
        raise SubmissionError("refused: compressed more than 200 to 1 (a zip bomb?)")
    if unpacked + entry.file_size > MAX_UNPACKED:
        raise SubmissionError("refused: the zip unpacks to more than 8 GiB")
    try:
        with zf.open(entry) as f:
            data = f.read(MAX_NOTEBOOK_BYTES + 1)  # the header's size is not trusted
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as e:
        raise SubmissionError(f"cannot be read from the zip ({e})") from None
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(too_large(len(data), MAX_NOTEBOOK_BYTES))
    return data


def _keep(data: bytes, digest: str, into: Path) -> Path:
    """The batch's own copy of a file's bytes, named by their hash (no name from outside is
    used), written whole or not at all."""
    into.mkdir(parents=True, exist_ok=True)
    copy = into / f"{digest}.ipynb"
    try:
        if _sha256(read_file(into, (copy.name,), MAX_NOTEBOOK_BYTES).data) == digest:
            return copy
    except SubmissionError:
        pass  # not there yet (or not what its name says): written again
    tmp = into / f".{digest}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    tmp.replace(copy)
    return copy


def _file_name_flags(
    found: list[Submission], decided: list[_Entry], names: _Names
) -> list[Submission]:
    """Flag a file whose own name names another student than the one it counts for."""
    batch = {normalised(e.student): e.student for e in decided if e.student}
    others = {e.source: e.others for e in decided}
    out = []
    for s in found:
        named = {_named(n, names, batch) for n in others.get(s.source, ())} - {"", s.student}
        if s.student and named:
            other = ", ".join(sorted(named))
            s = replace(s, flags=(*s.flags, flag("file-name", other=other, student=s.student)))
        out.append(s)
    return out


def _named(name: str, names: _Names, batch: Mapping[str, str]) -> str:
    """The student a name inside a file's name gives, if it names one ('' if not)."""
    key = normalised(name)
    return names.mapped(name) or names.known.get(key, "") or batch.get(key, "")


def _mark_duplicates(found: list[Submission]) -> list[Submission]:
    """Two files for one student in one batch: both are kept (two attempts), each says so,
    naming a few of the others (a count, not the list: notices stay small)."""
    out = []
    for student, group in groupby(found, key=lambda s: s.student):
        mine = list(group)
        graded = [s.source for s in mine if not s.problem]
        for s in mine:
            if student and not s.problem and len(graded) > 1:
                others = [x for x in graded[: NAMED + 1] if x != s.source][:NAMED]
                more = len(graded) - 1 - len(others)
                listed = ", ".join(others) + (f" and {more} more" if more else "")
                note = (
                    f"{len(graded)} files for {student} in this batch (also {listed}): "
                    "each is graded as an attempt of the assignment it answers"
                )
                s = replace(s, notices=(*s.notices, note))
            out.append(s)
    return out


def _ignored(parts: tuple[str, ...]) -> bool:
    """macOS's and editors' own files, hidden files and folders (.ipynb_checkpoints)."""
    return parts[0] == "__MACOSX" or parts[-1] in IGNORED or any(p.startswith(".") for p in parts)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _time(mtime: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(mtime), dt.timezone.utc)


def _zip_time(entry: zipfile.ZipInfo) -> dt.datetime | None:
    try:
        return dt.datetime(*entry.date_time, tzinfo=dt.timezone.utc)
    except ValueError:
        return None
