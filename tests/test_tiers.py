"""The check that keeps the fast tier (``-m "not kernel"``) free of kernels, bubblewrap and
browsers (tests/conftest.py, tests/childguard/sitecustomize.py) can fail: what it refuses, in
a test's process and in its Python children."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from childguard import sitecustomize as child
from conftest import CHILD_GUARD

LAUNCHER = os.path.join("grader", "execute", "launch.py")


@pytest.mark.parametrize(
    "argv,refused",
    [
        ([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"], True),
        ([sys.executable, "-I", "-S", f"/x/{LAUNCHER}", "--", "bwrap"], True),
        ([sys.executable, "-c", "from ipykernel import kernelapp"], True),
        (["/usr/bin/real-bwrap", "--unshare-all", "true"], True),
        (["chromium", "--headless"], True),
        ([sys.executable, "-m", "grader", "--help"], False),
        (["git", "status"], False),
        (["/tmp/fake/bwrap", "true"], False),  # a test's fake bwrap on PATH
        ("git status", False),
        ([], False),
    ],
)
def test_what_an_unmarked_test_may_not_start(argv, refused):
    assert (child.refused(argv, "/usr/bin/real-bwrap") is not None) is refused


def run_child(report):
    """A Python child, as an unmarked test's are, that starts a process whose command line
    is a kernel's (a harmless one: ``python -c pass ipykernel_launcher``)."""
    code = (
        "import subprocess, sys\n"
        "try:\n"
        "    subprocess.run([sys.executable, '-c', 'pass', 'ipy' + 'kernel_launcher'])\n"
        "except OSError as e:\n"
        "    print('refused:', e)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(CHILD_GUARD), os.environ.get("PYTHONPATH", "")]),
        child.REPORT: str(report),
        child.REAL_BWRAP: shutil.which("bwrap") or "",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_python_child_of_an_unmarked_test_refuses_a_kernel_and_says_so(tmp_path):
    report = tmp_path / "refused"
    report.write_text("")
    assert run_child(report).startswith("refused: a kernel (ipykernel_launcher)")
    assert report.read_text().startswith("a kernel (ipykernel_launcher), in a child process")


def test_once_the_test_is_over_its_children_refuse_nothing(tmp_path):
    assert "refused" not in run_child(tmp_path / "gone")  # the report file no longer exists
