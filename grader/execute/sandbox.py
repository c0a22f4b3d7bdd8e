"""The kernel's sandbox: a bubblewrap command line that shows the kernel only what it needs.

Read-only: the system's program and library folders, a few files of /etc, the Python
installation and the grader package (not the course: no solutions/, no release/, no home).
Read-write: the submission's own work dir. Private: /tmp (size-limited tmpfs), /proc, /dev,
and every namespace (no network at all; the kernel talks to the grader over IPC sockets in
the work dir). The sandbox runs as an unprivileged uid with no capabilities.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Literal

from ..errors import ExecutionError

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


def bwrap() -> str | None:
    """The bubblewrap executable, or None when it is not installed."""
    return shutil.which("bwrap")


def use_sandbox(mode: SandboxMode) -> tuple[bool, str]:
    """Whether to sandbox, and a warning to show (auto without bubblewrap) or ''."""
    if mode == "off":
        return False, ""
    if bwrap() is not None:
        return True, ""
    if mode == "optional":
        return False, ""
    if mode == "require":
        raise ExecutionError(
            "--sandbox=require, but bubblewrap (bwrap) is not installed: "
            "install the Debian package `bubblewrap`"
        )
    return False, (
        "WARNING: bubblewrap (bwrap) is not installed: submissions run WITHOUT a "
        "sandbox and can read and write anything this user can. Install the Debian "
        "package `bubblewrap`, or pass --sandbox=require to refuse."
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
