"""Start a grading kernel within its limits: ``python -I -S .../launch.py [opts] -- CMD``.

Joins the kernel's cgroups (when there are any), sets per-process rlimits, then replaces
itself with CMD (bubblewrap, or the kernel when the sandbox is off). Stdlib only, so it
starts in a few milliseconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys


def main(argv: list[str]) -> None:
    """Parse options, apply limits, exec the command."""
    sep = argv.index("--")
    parser = argparse.ArgumentParser(prog="launch.py")
    parser.add_argument("--cgroup", action="append", default=[], help="cgroup.procs to join")
    parser.add_argument("--memory", type=int, default=0, help="MiB per process (no cgroup)")
    parser.add_argument("--file-size", type=int, default=0, help="MiB per written file")
    parser.add_argument("--processes", type=int, default=0, help="processes of this user")
    opts = parser.parse_args(argv[:sep])
    for path in opts.cgroup:
        with open(path, "w") as f:
            f.write(str(os.getpid()))
    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_NOFILE, 4096)]
    if opts.memory:
        limits.append((resource.RLIMIT_AS, opts.memory * 2**20))
    if opts.file_size:
        limits.append((resource.RLIMIT_FSIZE, opts.file_size * 2**20))
    if opts.processes:
        limits.append((resource.RLIMIT_NPROC, opts.processes))
    for which, value in limits:
        _, hard = resource.getrlimit(which)
        try:
            resource.setrlimit(
                which, (value, value if hard == resource.RLIM_INFINITY else min(value, hard))
            )
        except (ValueError, OSError):  # a limit this system does not support (macOS: RLIMIT_AS)
            pass
    command = argv[sep + 1 :]
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
