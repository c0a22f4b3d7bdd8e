"""The grader's grade-* scratch folders: a dead run's are removed on the next start, mounts
and all; a live run's, one that says no owner, another user's or a link, never."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from grader.execute.scratch import OWNER_FILE, clean_leftovers, scratch

KILLED = """\
import os, signal, subprocess, sys
from grader.execute.scratch import scratch_dir
from grader.execute.workdir import WorkDir
root = scratch_dir()
WorkDir.create(root, 8)  # as root: a tmpfs on its work dir and another on its exports
# a process of the run, as a kernel is: its command line names a file in the work dir
orphan = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(300)", str(root / "work" / "k.json")],
    start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
print(root, orphan.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _mounted(root: Path) -> bool:
    return str(root) in Path("/proc/self/mounts").read_text()


def test_a_killed_run_s_folder_and_mounts_are_removed_and_a_live_one_kept(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", KILLED], env=env, capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    words = done.stdout.split()
    dead, orphan = Path(words[0]), int(words[1])
    assert _alive(orphan)  # the killed run's "kernel" runs on
    assert dead.parent == tmp_path and (dead / "work").is_dir()
    if os.geteuid() == 0:
        assert _mounted(dead)
    own = tmp_path / "grade-live"  # this process's: it runs
    own.mkdir()
    (own / OWNER_FILE).write_text(f"{os.getpid()} {_start(os.getpid())}\n")
    reused = tmp_path / "grade-reused"  # this process's id, another start: a dead owner
    reused.mkdir()
    (reused / OWNER_FILE).write_text(f"{os.getpid()} 1\n")
    unowned = tmp_path / "grade-unowned"  # says no owner: not ours to judge
    unowned.mkdir()
    link = tmp_path / "grade-link"  # a link named like ours, to a dead owner's folder
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / OWNER_FILE).write_text("999999999 1\n")
    link.symlink_to(target)
    linked_owner = tmp_path / "grade-linked-owner"  # its owner file is a link
    linked_owner.mkdir()
    (linked_owner / OWNER_FILE).symlink_to(reused / OWNER_FILE)

    removed = clean_leftovers(tmp_path)
    assert sorted(removed) == sorted([dead, reused])
    assert not dead.exists() and not _mounted(dead)
    assert _ends(orphan)
    assert own.is_dir() and unowned.is_dir() and linked_owner.is_dir()
    assert link.is_symlink() and (target / OWNER_FILE).exists()
    assert clean_leftovers(tmp_path) == []
    assert clean_leftovers(tmp_path / "missing") == []


def test_a_scratch_folder_says_its_owner_and_goes_with_its_block(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    with scratch() as root:
        pid, started = (root / OWNER_FILE).read_text().split()
        assert (int(pid), started) == (os.getpid(), _start(os.getpid()))
        assert root.parent == tmp_path and root.name.startswith("grade-")
        assert clean_leftovers(tmp_path) == []  # its owner runs
    assert not root.exists()


def _start(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie, killed but not yet reaped by init, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _ends(pid: int) -> bool:
    """Whether the process ends within 5 s."""
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)
