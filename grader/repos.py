"""Students' notebooks taken out of their git repositories, as a CI job fetched them.

The fetch has two parts. The first, a workflow step that holds the token and runs only git,
makes a bare, shallow clone of each repository listed in students.txt, as
``REPOS/<owner>/<name>.git``: nothing is checked out, so no link, hook, submodule or LFS
filter of a student's is followed or run there. This module is the second part, run where the
token is not: it reads those clones with git plumbing (``ls-tree``, ``cat-file``), never
through a checkout, and writes ``OUT/<student>/<name>.ipynb``.

What is taken: the regular files (git modes 100644 and 100755) named ``*.ipynb`` at the top of
the default branch, at most ``MAX_NOTEBOOKS`` of them, each under the size cap of a notebook,
checked before it is read. A link, a submodule or a folder so named is refused and said, never
followed; so is a name that could mean a path (``..``, a slash, a control character). Names are
written in a safe form. Each file is created new (``O_EXCL | O_NOFOLLOW``) in a folder this
module has just made, which then replaces the student's; a link under ``OUT/<student>`` stops
the fetch before anything is written. A file's time is its hand-in time (``fetchlog``), which
``grade batch`` reads.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
import stat
import subprocess
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import GraderError, SubmissionError
from .fetchlog import FetchLog, handed_in
from .notebooks import MAX_NOTEBOOK_BYTES
from .students import is_student_id, normalised

# owner/name (GitLab: group/.../name); no part starts with a dot, so none is '.' or '..'.
REPO_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$")
MAX_NOTEBOOKS = 20  # notebooks taken from one repository; the rest are refused
MAX_TREE_BYTES = 16 * 2**20  # the listing of a repository's top folder
STARTED = "fetch-started"  # in REPOS: when the clone step started (seconds since the epoch)
REGULAR = {b"100644", b"100755"}
KINDS = {
    b"120000": "a link: not followed",
    b"160000": "a submodule: not fetched",
    b"040000": "a folder, not a notebook",
}
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f/\\]|\.\.")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.+-]+")
_HIDDEN = "a hidden file (its name starts with a dot)"
_UNSAFE = "a name with '..', a slash or a control character, too long, or not UTF-8"
# git reads only the clone: no system or user configuration, no replace refs, no prompt, and
# no lazy fetch (a partial clone's missing object stays missing).
_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_NO_LAZY_FETCH": "1",
    "LC_ALL": "C",
}


@dataclass(frozen=True)
class Student:
    """A line of students.txt: who the student is, and their repository."""

    id: str
    repo: str
    line: int


@dataclass(frozen=True)
class Notebook:
    """A notebook written into the student's folder."""

    name: str
    size: int
    handed_in: int  # seconds since the epoch (the file's time)


@dataclass(frozen=True)
class Fetched:
    """What one student's repository gave."""

    student: Student
    notebooks: tuple[Notebook, ...] = ()
    refused: tuple[str, ...] = ()  # an entry's name and why it was not taken
    problem: str = ""  # the repository could not be read: the student's folder is left alone

    def lines(self) -> list[str]:
        """One line per notebook taken, per entry refused, or the problem."""
        who = f"{self.student.id} ({self.student.repo})"
        if self.problem:
            return [f"{who}: {self.problem}"]
        out = [f"{who}: {n.name}, handed in {_utc(n.handed_in)}" for n in self.notebooks]
        out += [f"{who}: refused {why}" for why in self.refused]
        return out or [f"{who}: no notebook at the top of the repository"]


@dataclass(frozen=True)
class _Entry:
    name: str  # as in the repository
    safe: str  # as written
    blob: str


def read_students(path: Path) -> list[Student]:
    """students.txt: ``owner/name`` (the student is the owner) or ``id owner/name`` a line;
    blank lines and lines starting with ``#`` are skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise GraderError(f"{path}: cannot read the list of students ({e})") from None
    students: list[Student] = []
    ids: dict[str, int] = {}
    repos: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split()
        if not fields or fields[0].startswith("#"):
            continue
        where = f"{path}:{number}"
        if len(fields) > 2:
            raise GraderError(f"{where}: expected owner/name or 'id owner/name'")
        repo = fields[-1].removesuffix(".git")
        if not REPO_RE.match(repo):
            raise GraderError(f"{where}: {repo!r} is not a repository (owner/name)")
        student = fields[0] if len(fields) == 2 else repo.split("/")[-2]
        if not is_student_id(student):
            raise GraderError(f"{where}: {student!r} is not a usable student id")
        for key, seen, what in (
            (normalised(student), ids, "student"),
            (repo.lower(), repos, "repository"),
        ):
            if key in seen:
                raise GraderError(
                    f"{where}: {what} {(student if what == 'student' else repo)!r} is "
                    f"already on line {seen[key]}"
                )
            seen[key] = number
        students.append(Student(student, repo, number))
    return students


def fetch_notebooks(
    repos: Path, students_file: Path, out: Path, log_path: Path | None = None
) -> list[Fetched]:
    """Take every listed student's notebooks out of their bare clone under ``repos``.

    Args:
        repos: the clones, ``repos/<owner>/<name>.git``, and the file ``fetch-started``.
        students_file: students.txt.
        out: the submissions folder; each student's folder in it is replaced.
        log_path: the fetch log (hand-in time bounds), read and updated; None: no bounds.
    """
    students = read_students(students_file)
    started = _started(repos)
    log = FetchLog.load(log_path)
    out.mkdir(parents=True, exist_ok=True)
    try:
        out_fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as e:
        raise GraderError(f"{out}: cannot write there ({e.strerror})") from None
    try:
        for student in students:  # before anything is written
            _refuse_links(out_fd, out, student.id)
        done = [_fetch_one(repos, student, out_fd, log, started) for student in students]
    finally:
        os.close(out_fd)
    log.save()
    return done


def _fetch_one(repos: Path, student: Student, out_fd: int, log: FetchLog, started: int) -> Fetched:
    clone = repos / f"{student.repo}.git"
    if clone.is_symlink() or not (clone / "HEAD").is_file():
        return Fetched(student, problem="not fetched (its folder is left as it was)")
    now = int(time.time())
    try:
        entries, refused = _entries(clone)
        notebooks: list[Notebook] = []
        bounds: dict[str, tuple[int | None, int]] = {}
        with _fresh_folder(out_fd, student.id) as folder_fd:
            for entry in entries:
                data = _blob(clone, entry.blob)
                lower, upper = log.bounds(student.id, entry.blob, now)
                when = handed_in(_committed(clone, entry.name), lower, upper)
                _write(folder_fd, entry.safe, data, when)
                notebooks.append(Notebook(entry.safe, len(data), when))
                bounds[entry.blob] = (lower, upper)
    except SubmissionError as e:
        return Fetched(student, problem=f"{e} (its folder is left as it was)")
    log.record(student.id, started, bounds)
    return Fetched(student, tuple(notebooks), tuple(refused))


def _entries(clone: Path) -> tuple[list[_Entry], list[str]]:
    """The notebooks to take from the top folder of the default branch, and the refused."""
    if not _git(clone, "for-each-ref", "--count=1", "refs/heads"):
        return [], []  # no commit yet: nothing handed in
    listing = _git(clone, "ls-tree", "-z", "HEAD", cap=MAX_TREE_BYTES)
    entries: list[_Entry] = []
    refused: list[str] = []
    taken: set[str] = set()
    for raw in listing.split(b"\0"):
        meta, _, name_bytes = raw.partition(b"\t")
        if not name_bytes.lower().endswith(b".ipynb"):
            continue  # not a notebook (or the end of the listing)
        shown = repr(name_bytes.decode("utf-8", "backslashreplace"))
        mode, kind, blob = meta.split(b" ")
        name, safe, why = _names(name_bytes)
        if mode not in REGULAR or kind != b"blob":
            other = f"not a regular file (mode {mode.decode('ascii', 'replace')})"
            refused.append(f"{shown}: {KINDS.get(mode, other)}")
        elif not safe:
            refused.append(f"{shown}: {why}")
        elif normalised(safe) in taken:
            refused.append(f"{shown}: another notebook is already written as {safe}")
        elif len(entries) >= MAX_NOTEBOOKS:
            refused.append(f"{shown}: more than {MAX_NOTEBOOKS} notebooks in the repository")
        else:
            taken.add(normalised(safe))
            entries.append(_Entry(name, safe, blob.decode("ascii")))
    sizes = _sizes(clone, [e.blob for e in entries])
    kept = []
    for entry in entries:
        size = sizes[entry.blob]
        if size > MAX_NOTEBOOK_BYTES:
            refused.append(
                f"{entry.name!r}: {size:,} bytes, more than the {MAX_NOTEBOOK_BYTES:,} "
                f"({MAX_NOTEBOOK_BYTES / 2**20:g} MiB) a notebook may be"
            )
        else:
            kept.append(entry)
    return kept, refused


def _names(raw: bytes) -> tuple[str, str, str]:
    """An entry's name, the safe name it is written under ('' when refused), and why not."""
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace"), "", _UNSAFE
    if _UNSAFE_NAME.search(name) or len(raw) > 255:
        return name, "", _UNSAFE
    if name.startswith("."):
        return name, "", _HIDDEN
    stem = unicodedata.normalize("NFKC", name[: -len(".ipynb")])
    safe = _NAME_CHARS.sub("_", stem).lstrip("+-.")[:100]  # no option, no hidden file
    return name, f"{safe or 'notebook'}.ipynb", ""


def _sizes(clone: Path, blobs: list[str]) -> dict[str, int]:
    """Each blob's size, from git's object header (before any is read)."""
    if not blobs:
        return {}
    listing = _git(clone, "cat-file", "--batch-check", stdin="\n".join(blobs) + "\n")
    sizes = {}
    for line in listing.decode("ascii").splitlines():
        blob, kind, size = line.split(" ")
        if kind != "blob":
            raise SubmissionError(f"cannot read {blob} from the repository")
        sizes[blob] = int(size)
    return sizes


def _blob(clone: Path, blob: str) -> bytes:
    return _git(clone, "cat-file", "blob", blob, cap=MAX_NOTEBOOK_BYTES)


def _committed(clone: Path, name: str) -> int:
    """The committer time of the last commit on the branch that touched ``name``."""
    out = _git(clone, "log", "-1", "--format=%ct", "HEAD", "--", name)
    try:  # a history cut short (shallow) gives its oldest commit, which has every file
        return int(out.strip())
    except ValueError:
        raise SubmissionError(f"no commit time for {name!r}") from None


def _git(clone: Path, *args: str, cap: int = 2**20, stdin: str = "") -> bytes:
    """git's output, at most ``cap`` bytes (a SubmissionError when it fails)."""
    command = ["git", "--literal-pathspecs", f"--git-dir={clone}", *args]
    env = {"PATH": os.environ.get("PATH", os.defpath), **_GIT_ENV}
    try:
        with subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        ) as proc:
            assert proc.stdin and proc.stdout and proc.stderr
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
            out = proc.stdout.read(cap + 1)
            if len(out) > cap:
                proc.kill()
                raise SubmissionError(f"git {args[0]}: more than {cap} bytes of output")
            error = proc.stderr.read(4096).decode("utf-8", "replace")
            code = proc.wait(timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SubmissionError(f"git {args[0]} failed ({e})") from None
    if code != 0:
        message = " ".join(error.split())[:200]
        raise SubmissionError(f"git {args[0]} failed: {message}")
    return out


def _started(repos: Path) -> int:
    """When the clone step started (its ``fetch-started`` file), else now."""
    now = int(time.time())
    path = repos / STARTED
    if not path.is_file():
        return now
    try:
        started = int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        raise GraderError(f"{path}: expected the seconds since the epoch") from None
    if started > now:
        raise GraderError(f"{path}: the fetch started in the future ({_utc(started)})")
    return started


def _refuse_links(out_fd: int, out: Path, student: str) -> None:
    """Stop when ``out/student`` is or holds a link, or is not a folder."""
    try:
        info = os.lstat(student, dir_fd=out_fd)
    except FileNotFoundError:
        return
    where = out / student
    if stat.S_ISLNK(info.st_mode):
        raise GraderError(f"{where} is a link: refusing to write there")
    if not stat.S_ISDIR(info.st_mode):
        raise GraderError(f"{where} is not a folder: refusing to replace it")
    for folder, dirs, files in os.walk(where, followlinks=False):
        for name in dirs + files:
            if os.path.islink(os.path.join(folder, name)):
                raise GraderError(
                    f"{os.path.join(folder, name)} is a link: refusing to write in {where}"
                )


@contextmanager
def _fresh_folder(out_fd: int, student: str) -> Iterator[int]:
    """A new, empty folder in ``out`` (its fd), which replaces ``out/student`` when the block
    ends without an error (and is removed when it does not)."""
    temp = f".fetching-{secrets.token_hex(8)}"
    os.mkdir(temp, 0o700, dir_fd=out_fd)
    fd = os.open(temp, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=out_fd)
    try:
        yield fd
        os.fchmod(fd, 0o755)
    except BaseException:
        os.close(fd)
        shutil.rmtree(temp, dir_fd=out_fd)
        raise
    os.close(fd)
    old = f".replaced-{secrets.token_hex(8)}"
    try:
        os.rename(student, old, src_dir_fd=out_fd, dst_dir_fd=out_fd)
    except FileNotFoundError:
        old = ""
    os.rename(temp, student, src_dir_fd=out_fd, dst_dir_fd=out_fd)
    if old:
        shutil.rmtree(old, dir_fd=out_fd)


def _write(folder_fd: int, name: str, data: bytes, when: int) -> None:
    """Create ``name`` (never through a link, never over a file) with ``data``, time ``when``."""
    fd = os.open(
        name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder_fd
    )
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.utime(f.fileno(), (when, when))


def _utc(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
