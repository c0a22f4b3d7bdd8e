"""A kernel's work dir: its cwd and home, the only place it may write (besides a private /tmp).

A size-limited tmpfs when the grader may mount one (root), else a plain folder (the launcher
then limits each file's size). The export folder inside gets a tmpfs of its own, so a work
dir filled to its limit does not stop the answers from being exported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MAX_EXPORT_BYTES = 64 * 2**20  # one exported file (JSON or weights)
EXPORT_DIR = ".grader-export"


@dataclass(frozen=True)
class WorkDir:
    """The folders of one kernel: ``root`` is the grader's, ``path`` the kernel's."""

    root: Path  # grader-owned; holds the work dir and files shown read-only to the sandbox
    path: Path  # the kernel's cwd and home
    mounts: tuple[Path, ...]

    @property
    def exports(self) -> Path:
        """Where export steps write (inside the kernel's reach: read with care)."""
        return self.path / EXPORT_DIR

    @classmethod
    def create(cls, root: Path, disk_mib: int) -> WorkDir:
        """Make ``root/work`` (and its export folder), size-limited where possible."""
        path = root / "work"
        path.mkdir(parents=True)
        mounts = [path] if _mount_tmpfs(path, disk_mib) else []
        exports = path / EXPORT_DIR
        exports.mkdir()
        if mounts and _mount_tmpfs(exports, 2 * MAX_EXPORT_BYTES // 2**20):
            mounts.append(exports)
        return cls(root, path, tuple(mounts))

    def remove(self) -> None:
        """Unmount and delete the work dir (the kernel must be stopped)."""
        for mount in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)
        shutil.rmtree(self.path, ignore_errors=True)


def _mount_tmpfs(path: Path, size_mib: int) -> bool:
    """Mount a size-limited tmpfs on ``path`` (root only); False when that is not possible."""
    if getattr(os, "geteuid", lambda: 1)() != 0:  # root only (and never on Windows)
        return False
    command = ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700", "tmpfs", str(path)]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0
