"""Control groups for one kernel: memory and process limits over the kernel and all it starts,
and a reliable way to kill every one of those processes afterwards.

cgroup v2 (a unified hierarchy with the memory and pids controllers) or v1 (separate memory
and pids hierarchies) when this user may create groups; otherwise ``Cgroup.create`` returns
None and the launcher falls back to per-process rlimits.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Cgroup:
    """The cgroup folders of one kernel (one per hierarchy) and the files to join them."""

    dirs: tuple[Path, ...]
    v2: bool

    @classmethod
    def create(cls, memory_mib: int, processes: int) -> Cgroup | None:
        """A fresh group with the limits set, or None where cgroups cannot be used."""
        name = f"grade-{uuid.uuid4().hex[:12]}"
        for base in (ROOT, ROOT / "unified"):
            controllers = _read(base / "cgroup.controllers").split()
            if {"memory", "pids"} <= set(controllers):
                return cls._make([base / name], True, memory_mib, processes)
        if (ROOT / "memory").is_dir() and (ROOT / "pids").is_dir():
            return cls._make(
                [ROOT / "memory" / name, ROOT / "pids" / name], False, memory_mib, processes
            )
        return None

    @classmethod
    def _make(cls, dirs: list[Path], v2: bool, memory_mib: int, processes: int) -> Cgroup | None:
        group = cls(tuple(dirs), v2)
        try:
            for d in dirs:
                d.mkdir()
            limit = str(memory_mib * 2**20)
            if v2:
                (dirs[0] / "memory.max").write_text(limit)
                _try_write(dirs[0] / "memory.swap.max", "0")
                (dirs[0] / "pids.max").write_text(str(processes))
            else:
                (dirs[0] / "memory.limit_in_bytes").write_text(limit)
                _try_write(dirs[0] / "memory.memsw.limit_in_bytes", limit)
                (dirs[1] / "pids.max").write_text(str(processes))
        except OSError:
            group.remove()
            return None
        return group

    @property
    def join_files(self) -> list[str]:
        """Files a process writes its pid to, to enter the group (see grader.execute.launch)."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        """Processes still in the group."""
        found: set[int] = set()
        for d in self.dirs:
            found |= {int(p) for p in _read(d / "cgroup.procs").split()}
        return found

    def oom_killed(self) -> bool:
        """Whether the memory limit was hit (a process was killed or an allocation refused)."""
        name = "memory.events" if self.v2 else "memory.oom_control"
        fields = dict(
            line.split()[:2]
            for line in _read(self.dirs[0] / name).splitlines()
            if len(line.split()) >= 2
        )
        return int(fields.get("oom_kill", "0")) > 0

    def signal_kernel(self, signum: int) -> bool:
        """Send a signal to the group's ipykernel processes; False when there is none."""
        sent = False
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                # the kernel itself, not bubblewrap (whose command line holds the kernel's)
                if argv[0] != sys.executable.encode() or b"ipykernel_launcher" not in argv:
                    continue
                os.kill(pid, signum)
                sent = True
            except OSError:
                pass
        return sent

    def kill_all(self) -> None:
        """SIGKILL every process in the group, until none is left (forks included)."""
        if self.v2 and (self.dirs[0] / "cgroup.kill").exists():
            _try_write(self.dirs[0] / "cgroup.kill", "1")
        for pause in _pauses():
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(pause)

    def remove(self) -> None:
        """Kill what is left, then delete the group folders."""
        self.kill_all()
        for d in self.dirs:
            for pause in _pauses(1.0):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(pause)


def _pauses(total: float = 2.0) -> list[float]:
    """Waits between tries: short at first (killed processes are gone within a millisecond
    or two), then 20 ms each, ``total`` seconds in all."""
    pauses = [0.001, 0.002, 0.004, 0.008]
    while sum(pauses) < total:
        pauses.append(0.02)
    return pauses


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _try_write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError:
        pass
