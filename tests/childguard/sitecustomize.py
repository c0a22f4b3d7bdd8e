"""What a test without the kernel mark may not start, in its own process and in its Python
children: a kernel (ipykernel, or grader's launcher), the real bubblewrap, a browser.

tests/conftest.py refuses these in the test's process, and puts this folder first on the
PYTHONPATH of its children, where Python imports this module at start-up: a child (e.g.
``python -m grader ...``) then refuses them too, and appends what it refused to the file that
``GRADE_TEST_REFUSED`` names, for the test's check to report. Without that variable (every
other process), or once that file is gone (the test is over: a process it left running, a
fixture's, may serve marked tests later), it does nothing.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

REPORT = "GRADE_TEST_REFUSED"  # the file a child appends what it refused to
REAL_BWRAP = "GRADE_TEST_REAL_BWRAP"  # the real bwrap (a fake one on PATH is fine)
BROWSERS = ("chromium", "chromium-browser", "chrome", "headless_shell")
KERNEL = "ipykernel"  # in any argument: -m ipykernel_launcher, or code that starts one
LAUNCHER = os.path.join("execute", "launch.py")


def refused(argv: Any, real_bwrap: str | None) -> str | None:
    """What of ``argv`` (a Popen command) a test without the kernel mark may not start."""
    parts = [argv] if isinstance(argv, (str, bytes, os.PathLike)) else list(argv)
    words = [os.fsdecode(p) for p in parts]
    if not words:
        return None
    program = shutil.which(words[0]) or words[0]
    if real_bwrap and os.path.realpath(program) == os.path.realpath(real_bwrap):
        return f"bubblewrap ({real_bwrap})"
    if os.path.basename(program) in BROWSERS:
        return f"a browser ({program})"
    for word in words:
        if KERNEL in word or word.endswith(LAUNCHER):
            return f"a kernel ({word})"
    return None


def _install() -> None:
    report = os.environ.get(REPORT)
    if not report or not os.path.exists(report):
        return
    import subprocess

    real_execute_child = subprocess.Popen._execute_child  # type: ignore[attr-defined]
    real_bwrap = os.environ.get(REAL_BWRAP) or None

    def execute_child(self: Any, args: Any, *rest: Any, **kwargs: Any) -> Any:
        what = refused(args, real_bwrap)
        if what is not None and os.path.exists(report):
            with open(report, "a", encoding="utf-8") as f:
                f.write(f"{what}, in a child process ({os.getpid()})\n")
            raise OSError(f"{what}: refused in a test without the kernel mark")
        return real_execute_child(self, args, *rest, **kwargs)

    subprocess.Popen._execute_child = execute_child  # type: ignore[attr-defined]


_install()
