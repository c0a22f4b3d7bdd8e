"""The grader's scratch folders (``grade-*`` in the temporary folder): each made with its
owner (process id and start time) written in it, and what a dead run left behind, say by a
``kill -9`` of a batch or of a Dask worker (its kernels, still running in their sandboxes, its
folders, and the tmpfs mounted in them), removed on the next start (``clean_leftovers``). A
folder whose owner still runs, or that says no owner, is never touched, nor one of another
user or a link."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

OWNER_FILE = ".grade-owner"
PREFIX = "grade-"


def _started(pid: int) -> str | None:
    """A process's start time (clock ticks since boot, /proc/PID/stat's 22nd field): with its
    id, it names one process even once the id is reused; None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return fields[19] if len(fields) > 19 else None


def _owner() -> str:
    return f"{os.getpid()} {_started(os.getpid()) or '?'}\n"


def scratch_dir(prefix: str = PREFIX) -> Path:
    """A new scratch folder (``mkdtemp``: private to this user), its owner written in it."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    (root / OWNER_FILE).write_text(_owner(), encoding="utf-8")
    return root


@contextmanager
def scratch(prefix: str = PREFIX) -> Iterator[Path]:
    """A scratch folder for the ``with`` block, removed (mounts and all) after it."""
    root = scratch_dir(prefix)
    try:
        yield root
    finally:
        remove_scratch(root)


def _mounts_under(root: Path) -> list[Path]:
    """The mount points at or below ``root`` (deepest first), from /proc/self/mounts."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        parts = line.split()
        if len(parts) < 2:
            continue
        point = Path(parts[1].encode().decode("unicode_escape"))  # "\040" is a space
        if point == root or root in point.parents:
            found.append(point)
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def _processes_of(root: Path) -> list[int]:
    """This user's processes whose command line names a path in ``root``: a kernel's
    sandbox binds its work dir, and the kernel reads its connection file there."""
    inside = os.fsencode(root) + b"/"
    me = os.geteuid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if entry.stat().st_uid != me:
                continue
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        if any(arg.startswith(inside) for arg in args):
            found.append(int(entry.name))
    return found


def _kill_processes_of(root: Path) -> None:
    for pid in _processes_of(root):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass  # gone meanwhile


def remove_scratch(root: Path) -> None:
    """Unmount what is mounted in ``root`` and delete it (links inside are not followed)."""
    for point in _mounts_under(root):
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
    shutil.rmtree(root, ignore_errors=True)


def _dead_owner(root: Path) -> bool:
    """Whether ``root`` says an owner, and that process is gone."""
    try:
        fd = os.open(root / OWNER_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False  # no owner said (or a link): not ours to judge
    with os.fdopen(fd, encoding="utf-8", errors="replace") as f:
        words = f.read(100).split()
    if len(words) != 2 or not words[0].isdigit():
        return False
    return _started(int(words[0])) != words[1]


def clean_leftovers(folder: Path | None = None) -> list[Path]:
    """Remove the scratch folders of dead runs in ``folder`` (default: the temporary folder),
    with their mounts; the folders removed."""
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    me = os.geteuid()
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != me:
            continue
        root = Path(entry.path)
        if _dead_owner(root):
            _kill_processes_of(root)  # the dead run's kernels: nobody will stop them now
            remove_scratch(root)
            removed.append(root)
    return removed
