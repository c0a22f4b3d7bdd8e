"""Files read from a folder without following a link, each once, by its own descriptor.

A folder of submissions is the students' (an LMS export, a TA's copy): a file may be a link
to anything (``/proc/self/environ``, ``/dev/zero``, another student's file), a FIFO, or be
replaced while the batch runs. So every path component is opened with ``O_NOFOLLOW`` relative
to its parent's descriptor, only regular files are read, within a size cap, and the size and
time come from ``fstat`` on the descriptor the bytes were read from: what is hashed, timed and
graded is one reading of one file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import SubmissionError

Kind = Literal["file", "link", "other"]
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO does not block


@dataclass(frozen=True)
class Read:
    """The bytes of one file, and its modification time (seconds), from one descriptor."""

    data: bytes
    mtime: float


def walk(
    root: Path, skip: Callable[[tuple[str, ...]], bool], limit: int
) -> Iterator[tuple[tuple[str, ...], Kind]]:
    """Every entry under ``root`` but folders, in name order, as its path parts and kind;
    links are listed, never followed, and folders ``skip`` says are not entered. Raises
    SubmissionError past ``limit`` entries."""
    seen = 0
    pending: list[tuple[str, ...]] = [()]
    while pending:
        folder = pending.pop()
        with _opened_folder(root, folder) as fd, os.scandir(fd) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        found: list[tuple[str, ...]] = []
        for entry in entries:
            parts = (*folder, entry.name)
            if skip(parts):
                continue
            seen += 1
            if seen > limit:
                raise SubmissionError(f"{root}: more than {limit} files in the folder")
            if entry.is_symlink():
                yield parts, "link"
            elif entry.is_dir(follow_symlinks=False):
                found.append(parts)
            else:
                yield parts, "file" if entry.is_file(follow_symlinks=False) else "other"
        pending.extend(reversed(found))  # depth first, in name order


def read_file(root: Path, parts: Sequence[str], cap: int) -> Read:
    """One regular file under ``root``, read once: at most ``cap`` bytes, no link followed
    anywhere on its path. Raises SubmissionError saying why it cannot be read."""
    with _opened_folder(root, parts[:-1]) as folder:
        try:
            fd = os.open(parts[-1], _FILE, dir_fd=folder)
        except OSError as e:
            raise SubmissionError(_why(e)) from None
    with os.fdopen(fd, "rb") as handle:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise SubmissionError("not a regular file: it was not read")
        if before.st_size > cap:
            raise SubmissionError(too_large(before.st_size, cap))
        data = handle.read(before.st_size + 1)  # more than fstat said: it changed, below
        after = os.fstat(fd)
    if len(data) > cap:
        raise SubmissionError(too_large(len(data), cap))
    if (after.st_size, after.st_mtime_ns) != (len(data), before.st_mtime_ns):
        raise SubmissionError("the file changed while it was read: collect the batch again")
    return Read(data, before.st_mtime)


def too_large(size: int, cap: int) -> str:
    """Why a file of ``size`` bytes is refused."""
    return f"{size / 2**20:.1f} MiB is more than the {cap / 2**20:g} MiB a notebook may be"


@contextlib.contextmanager
def _opened_folder(root: Path, parts: Sequence[str]) -> Iterator[int]:
    """A descriptor of ``root/parts...``, each component opened without following a link."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # the operator's own path
    try:
        for part in parts:
            try:
                inner = os.open(part, _DIR, dir_fd=fd)
            except OSError as e:
                raise SubmissionError(_why(e)) from None
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def _why(e: OSError) -> str:
    if e.errno in (errno.ELOOP, errno.ENOTDIR):  # a link O_NOFOLLOW refused, on the path
        return "a link, not a file: it was not followed"
    return f"cannot be read ({e.strerror or e})"
