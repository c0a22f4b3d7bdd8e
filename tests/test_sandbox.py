"""The bubblewrap command line: what the kernel may see, in an order that keeps it seen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import grader
import grader.execute.sandbox as sandbox
from grader.errors import ExecutionError
from grader.execute.sandbox import PROBE_TIMEOUT, Probe, bwrap_argv, probe, use_sandbox

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


@pytest.mark.kernel
@needs_bwrap
def test_kernel_sees_python_and_grader_but_not_the_course(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    course = Path(grader.__file__).resolve().parent.parent
    code = (
        "import os, grader.inkernel.exporter, torch\n"
        f"print(os.path.exists({str(course / 'solutions')!r}), os.getuid(), os.getcwd())"
    )
    out = subprocess.run(
        [*bwrap_argv(work, tmp_path, 64), sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
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


# --- the probe: bubblewrap is tried, not assumed --------------------------------------------

NO_NAMESPACES = (
    "bwrap: No permissions to create new namespace, likely because the kernel does not "
    "allow non-privileged user namespaces."
)


def fake_bwrap(folder, body, monkeypatch):
    """A `bwrap` first on PATH that runs ``body`` (a shell script) instead of a sandbox."""
    folder.mkdir()
    exe = folder / "bwrap"
    exe.write_text(f"#!/bin/sh\n{body}\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    return exe


def test_a_bwrap_that_cannot_create_namespaces_is_found_out_once(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    fake_bwrap(
        tmp_path / "bin", f'echo run >> "{runs}"\necho "{NO_NAMESPACES}" >&2\nexit 1', monkeypatch
    )
    enabled, warning = use_sandbox("auto")
    assert not enabled
    assert warning.startswith(
        f"WARNING: bubblewrap (bwrap) is installed but cannot create its "
        f"sandbox: {NO_NAMESPACES}: submissions run WITHOUT a sandbox"
    )
    assert "\n" not in warning
    with pytest.raises(ExecutionError) as refused:
        use_sandbox("require")
    assert str(refused.value).startswith(
        f"--sandbox=require, but bubblewrap (bwrap) is "
        f"installed but cannot create its sandbox: "
        f"{NO_NAMESPACES}: allow unprivileged user namespaces"
    )
    assert use_sandbox("optional") == (False, "") and use_sandbox("off") == (False, "")
    assert use_sandbox("auto") == (enabled, warning)
    assert runs.read_text() == "run\n"  # once per process


def test_a_bwrap_that_hangs_is_given_up_within_seconds(tmp_path, monkeypatch):
    pid = tmp_path / "pid"
    fake_bwrap(tmp_path / "bin", f'sleep 600 &\necho $! > "{pid}"\nwait', monkeypatch)
    assert PROBE_TIMEOUT <= 3
    monkeypatch.setattr(sandbox, "PROBE_TIMEOUT", 1.0)  # the suite's time: the same code path
    started = time.monotonic()
    found = probe()
    assert time.monotonic() - started < 3
    assert not found.works
    assert found.line == "bubblewrap (bwrap) is installed but did not start its sandbox within 1 s"
    time.sleep(0.2)
    stat = Path(f"/proc/{int(pid.read_text())}/stat")  # what it started was killed with it
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.kernel
@needs_bwrap
def test_the_real_bwrap_passes_the_probe():
    assert probe() == Probe(True, "bubblewrap (bwrap) works: kernels run in its sandbox")
    assert use_sandbox("require") == (True, "")


def test_require_refuses_at_once_when_bwrap_cannot_run(tmp_path, monkeypatch, small_course):
    from click.testing import CliRunner

    from grader.cli import main
    from grader.render import render_assignment

    fake_bwrap(tmp_path / "bin", f'echo "{NO_NAMESPACES}" >&2\nexit 1', monkeypatch)
    notebook = tmp_path / "subs" / "alice.ipynb"
    notebook.parent.mkdir()
    nbformat.write(
        render_assignment(small_course, small_course.assignment("a1"), "student"), str(notebook)
    )
    line = (
        f"Error: --sandbox=require, but bubblewrap (bwrap) is installed but cannot create "
        f"its sandbox: {NO_NAMESPACES}: allow unprivileged user namespaces on this machine, "
        "or grade where they are allowed\n"
    )
    course = ["--course", str(small_course.path), "--sandbox", "require"]
    started = time.monotonic()
    for command in (
        ["submit", str(notebook)],
        ["batch", str(notebook.parent)],
        ["ci", str(notebook), "--out", str(tmp_path / "out")],
    ):
        done = CliRunner().invoke(main, [*command, *course])
        assert (done.exit_code, done.output) == (1, line), command
    assert time.monotonic() - started < 5  # no kernel waited for: refused before any
    assert not (small_course.root / "gradebook.db").exists()
    # auto says it once per command, in one line, and goes on without the sandbox
    (tmp_path / "none").mkdir()
    done = CliRunner().invoke(main, ["batch", str(tmp_path / "none"), *course[:2]])
    warning = [ln for ln in done.output.splitlines() if "WITHOUT a sandbox" in ln]
    assert done.exit_code == 0 and len(warning) == 1, done.output
    assert warning[0].startswith("WARNING: bubblewrap (bwrap) is installed but cannot create")


@pytest.mark.kernel
def test_auto_grades_without_the_sandbox_and_says_so(tmp_path, monkeypatch, small_course):
    from click.testing import CliRunner

    from grader.cli import main
    from grader.render import render_assignment

    fake_bwrap(tmp_path / "bin", f'echo "{NO_NAMESPACES}" >&2\nexit 1', monkeypatch)
    nb = render_assignment(small_course, small_course.assignment("a1"), "student")
    for cell in nb.cells:
        if cell.metadata.get("grader", {}).get("id") == "t-num":
            cell.source = "x = 42"
    notebook = tmp_path / "a1.ipynb"
    nbformat.write(nb, str(notebook))
    done = CliRunner().invoke(main, [str(notebook), "--course", str(small_course.path)])
    assert done.exit_code == 0, done.output
    notice = "WARNING: bubblewrap (bwrap) is installed but cannot create its sandbox: "
    assert done.output.count(notice) == 1 and "2 / 5" in done.output
    results = json.loads((tmp_path / "a1.results.json").read_text())
    assert results["score"] == 2 and notice + NO_NAMESPACES in results["output"]
