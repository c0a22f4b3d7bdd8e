"""The bubblewrap command line: what the kernel may see, in an order that keeps it seen."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import grader
from grader.errors import ExecutionError
from grader.execute.sandbox import bwrap_argv, use_sandbox

# Only the tests that run bubblewrap need it: the one that fakes its absence must always run.
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is missing")


@needs_bwrap
def test_private_tmp_comes_before_every_bind(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    argv = bwrap_argv(work, tmp_path, 64)
    tmpfs = argv.index("--tmpfs")
    binds = [i for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    # A checkout or work dir under /tmp must not be hidden by the private /tmp mounted later.
    assert argv[tmpfs + 1] == "/tmp" and all(i > tmpfs for i in binds)


@needs_bwrap
def test_kernel_sees_python_and_grader_but_not_the_course(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    course = Path(grader.__file__).resolve().parent.parent
    code = ("import os, grader.kernel.exporter, torch\n"
            f"print(os.path.exists({str(course / 'solutions')!r}), os.getuid(), os.getcwd())")
    out = subprocess.run([*bwrap_argv(work, tmp_path, 64), sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "65534", str(work)]


def test_require_without_bubblewrap_refuses(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ExecutionError, match="bubblewrap"):
        use_sandbox("require")
    enabled, warning = use_sandbox("auto")
    assert not enabled and warning.startswith("WARNING: bubblewrap (bwrap) is not installed")
    assert use_sandbox("off") == (False, "")


def test_bwrap_argv_without_bubblewrap_is_an_execution_error(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ExecutionError, match="bubblewrap"):
        bwrap_argv(tmp_path, tmp_path, 64)
