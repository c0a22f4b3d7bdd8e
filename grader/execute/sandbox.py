"""The kernel's sandbox: a bubblewrap command line that shows the kernel only what it needs.

Read-only: the system's program and library folders, a few files of /etc, the Python
installation and the grader package (not the course: no solutions/, no release/, no home).
Read-write: the submission's own work dir. Private: /tmp (size-limited tmpfs), /proc, /dev,
and every namespace (no network at all; the kernel talks to the grader over IPC sockets in
the work dir). The sandbox runs as an unprivileged uid with no capabilities.

Bubblewrap is tried, not assumed: ``probe`` runs it once per process with these options on
``true`` and says in one line what it found (it works; it is installed but cannot create
its namespaces, in bubblewrap's own words; it is not installed). ``use_sandbox`` turns that
into the mode's answer: ``require`` refuses, ``auto`` goes on without it, loudly.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import ExecutionError
from ..sanitize import one_line

# optional: bubblewrap when it is there, else none and no warning (a student's own machine)
SandboxMode = Literal["auto", "require", "off", "optional"]
GRADER_PACKAGE = Path(__file__).resolve().parent.parent  # the `grader` folder the kernel imports
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "ssl",
    "ca-certificates",
    "alternatives",
    "localtime",
    "fonts",
    "mime.types",
    "nsswitch.conf",
)
# What a process with the network (the Dask courier) also needs: name resolution.
NETWORK_ETC_FILES = ("hosts", "resolv.conf", "host.conf", "gai.conf", "services")
SANDBOX_UID = 65534
PASSWD = "root:x:0:0::/:/usr/sbin/nologin\nstudent:x:65534:65534::{home}:/usr/sbin/nologin\n"
GROUP = "root:x:0:\nstudent:x:65534:\n"
PROBE_TIMEOUT = 3.0  # bubblewrap starts in milliseconds: a probe that takes longer failed
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
MAX_WHY = 200
_PROBING = threading.Lock()
INSTALL = "install the Debian package `bubblewrap`"
ALLOW = "allow unprivileged user namespaces on this machine, or grade where they are allowed"


def bwrap() -> str | None:
    """The bubblewrap executable, or None when it is not installed."""
    return shutil.which("bwrap")


@dataclass(frozen=True)
class Probe:
    """What running bubblewrap once with the kernel's options found."""

    works: bool
    line: str  # one line saying what was found (works; cannot create namespaces; missing)
    fix: str = ""  # what the operator can do about it


def probe() -> Probe:
    """Whether bubblewrap really runs here with the kernel's namespaces: tried once per
    process (per bwrap executable), for at most ``PROBE_TIMEOUT`` seconds. Kernels started
    by many threads at once wait for the one probe."""
    with _PROBING:
        return _probe(bwrap())


@functools.lru_cache(maxsize=4)
def _probe(exe: str | None) -> Probe:
    if exe is None:
        return Probe(False, "bubblewrap (bwrap) is not installed", INSTALL)
    with tempfile.TemporaryDirectory(prefix="grade-probe-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        argv = bwrap_argv(work, Path(tmp), 1)
        argv[0] = exe
        try:  # its own session: a bwrap that hangs is killed with whatever it started
            process = subprocess.Popen(
                [*argv, "true"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env={"PATH": SYSTEM_PATH, "LC_ALL": "C"},
                start_new_session=True,
            )
        except OSError as e:
            return Probe(
                False, f"bubblewrap (bwrap) is installed but cannot run: {e.strerror}", INSTALL
            )
        try:
            _, err = process.communicate(timeout=PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return Probe(
                False,
                f"bubblewrap (bwrap) is installed but did not start its sandbox within "
                f"{PROBE_TIMEOUT:g} s",
                ALLOW,
            )
    if process.returncode == 0:
        return Probe(True, "bubblewrap (bwrap) works: kernels run in its sandbox")
    why = one_line(err[:4096].decode("utf-8", "replace"))[:MAX_WHY] or (
        f"exit code {process.returncode}"
    )
    return Probe(
        False, f"bubblewrap (bwrap) is installed but cannot create its sandbox: {why}", ALLOW
    )


def use_sandbox(mode: SandboxMode) -> tuple[bool, str]:
    """Whether to sandbox, and a warning to show (``auto`` without a working bubblewrap) or
    ''. ExecutionError when ``require`` cannot be met, with what the probe found."""
    if mode == "off":
        return False, ""
    found = probe()
    if found.works:
        return True, ""
    if mode == "optional":
        return False, ""
    if mode == "require":
        raise ExecutionError(f"--sandbox=require, but {found.line}: {found.fix}")
    return False, (
        f"WARNING: {found.line}: submissions run WITHOUT a sandbox and can read and write "
        f"anything this user can. {found.fix[0].upper()}{found.fix[1:]}, or pass "
        "--sandbox=require to refuse."
    )


def bwrap_argv(
    workdir: Path,
    private: Path,
    disk_mib: int,
    extra_ro: tuple[Path, ...] = (),
    share_net: bool = False,
) -> list[str]:
    """The bubblewrap prefix of the kernel command (or of the Dask courier's).

    Args:
        workdir: the kernel's cwd, bound read-write at the same path.
        private: a grader-owned folder for files the sandbox gets read-only (passwd, group).
        disk_mib: size of the sandbox's private /tmp.
        extra_ro: more folders (or files) to show read-only (e.g. a configured data set).
        share_net: keep the network (only the courier, which must reach the scheduler).
    """
    exe = bwrap()
    if exe is None:
        raise ExecutionError("bubblewrap (bwrap) is not installed")
    (private / "passwd").write_text(PASSWD.format(home=workdir))
    (private / "group").write_text(GROUP)
    args = [
        exe,
        "--unshare-all",
        *(["--share-net"] if share_net else []),
        "--die-with-parent",
        "--new-session",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--cap-drop",
        "ALL",
    ]
    # /tmp first: anything bound below it later (a checkout in /tmp, the work dir) stays seen.
    args += ["--size", str(disk_mib * 2**20), "--tmpfs", "/tmp"]
    for folder in SYSTEM_DIRS:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    for name in ETC_FILES + (NETWORK_ETC_FILES if share_net else ()):
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += [
        "--ro-bind",
        str(private / "passwd"),
        "/etc/passwd",
        "--ro-bind",
        str(private / "group"),
        "/etc/group",
    ]
    for ro in [*_python_dirs(), *extra_ro]:
        args += ["--ro-bind", str(ro), str(ro)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    devices = _gpu_devices()
    for device in devices:
        args += ["--dev-bind", device, device]
    if devices and os.path.isdir("/sys"):
        args += ["--ro-bind", "/sys", "/sys"]  # the CUDA driver reads the PCI topology
    args += [
        "--bind",
        str(workdir),
        str(workdir),
        "--chdir",
        str(workdir),
        "--setenv",
        "HOME",
        str(workdir),
        "--setenv",
        "TMPDIR",
        "/tmp",
        "--unsetenv",
        "JPY_PARENT_PID",
        "--",
    ]
    return args


def _python_dirs() -> list[Path]:
    """The interpreter, its standard library and site-packages, and the grader package."""
    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        *(sysconfig.get_paths().get(k, "") for k in ("stdlib", "purelib", "platlib")),
    }
    package = GRADER_PACKAGE  # an editable install lives outside the prefix
    dirs = sorted({Path(p).resolve() for p in paths if p and os.path.isdir(p)} | {package})
    # Keep only outermost folders: binding a folder and then its parent would hide the child.
    outer: list[Path] = []
    for d in dirs:
        if not any(d.is_relative_to(o) for o in outer):
            outer.append(d)
    return outer


def _gpu_devices() -> list[str]:
    """NVIDIA device nodes, so that CUDA works inside the sandbox when there is a GPU."""
    return sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri/*"))
