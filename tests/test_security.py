"""What the student can see, and what reaches the grader's terminal, with a real `grade`.

A secret in the grader's environment (a CI token) must appear nowhere the student can see:
not in the kernel, the report, results.json, JUnit XML or the terminal. What the kernel
writes to its own file descriptors 1 and 2 (escape sequences, CI workflow commands) never
reaches the grader's terminal; `--debug` shows it, sanitized.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from grader import load_course
from grader.build import build
from grader.pipeline import grade
from grader.report import junit_xml, render_html, results_json

pytestmark = pytest.mark.kernel

SECRET = "ghp_S3cr3tT0ken4CI9f2b"
HOSTILE = r"""
import os, sys
env = dict(os.environ)
print("printed env:", env)
os.write(1, b"\x1b[2J\x1b]0;pwned-title\x07\n::error file=grade.py::fd1-command\n")
os.write(2, b"##vso[task.setvariable variable=x]fd2-command\n::add-mask::x\n")
sys.__stdout__.write("\n::stop-commands::dunder\n"); sys.__stdout__.flush()
sys.__stderr__.write("\x1b[31mred\x1b[0m\n"); sys.__stderr__.flush()
x = 42
"""
RAISES = r"""
import os
raise ValueError("::error::in-a-message\n" + repr(dict(os.environ)))
"""


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    from conftest import _write_course

    root = tmp_path_factory.mktemp("course")
    course = load_course(_write_course(root))
    build(course, root / "release")
    nb = nbformat.read(str(root / "release" / "student" / "a1.ipynb"), as_version=4)
    for cell in nb.cells:
        tag = cell.metadata.get("grader", {})
        if tag.get("role") == "answer":
            cell.source = HOSTILE if tag["id"] == "t-num" else RAISES
    submission = root / "a1.ipynb"
    nbformat.write(nb, str(submission))
    return course, submission


def _everything_the_student_sees(result) -> dict[str, str]:
    return {
        "result": json.dumps(result.to_dict()),
        "report": render_html(result),
        "results.json": json.dumps(results_json(result)),
        "junit": junit_xml(result),
    }


def test_the_graders_environment_reaches_no_output(released, monkeypatch):
    course, submission = released
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("GRADE_SECRET_PASSWORD", SECRET)
    result = grade(submission, course)
    by_id = {e.id: e for e in result.exercises}
    assert by_id["t-arr"].status == "error"  # the cell ran, and showed its environment
    assert "LANG" in by_id["t-arr"].error.evalue
    for name, text in _everything_the_student_sees(result).items():
        assert SECRET not in text, name
        assert "GITHUB_TOKEN" not in text, name


def _terminal_is_clean(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##vso[" not in line and "##[" not in line, line


def test_a_grade_process_keeps_the_kernels_output_off_the_terminal(released, tmp_path):
    course, submission = released
    env = {**os.environ, "GITHUB_TOKEN": SECRET}
    command = [
        sys.executable,
        "-m",
        "grader",
        str(submission),
        "--course",
        str(course.path),
        "--out",
        str(tmp_path),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    terminal = done.stdout + done.stderr
    assert "Total: 2 / 5" in terminal
    for marker in ("fd1-command", "fd2-command", "dunder", "pwned-title", "printed env"):
        assert marker not in terminal, marker
    _terminal_is_clean(terminal)
    assert SECRET not in terminal
    # the student's message is shown, disarmed
    assert "ValueError: : :error: :in-a-message" in terminal
    for report in tmp_path.iterdir():
        assert SECRET not in report.read_text(encoding="utf-8"), report.name

    debug = subprocess.run(
        [*command, "--debug"], env=env, capture_output=True, text=True, timeout=300
    )
    assert debug.returncode == 0, debug.stderr
    assert "Kernel output of a1.ipynb" in debug.stderr
    for marker in ("fd1-command", "fd2-command", "dunder", "red"):
        assert marker in debug.stderr, marker  # shown with --debug ...
    _terminal_is_clean(debug.stdout + debug.stderr)  # ... but sanitized
    assert SECRET not in debug.stdout + debug.stderr
