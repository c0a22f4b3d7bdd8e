"""The `grade` command as a user types it (click's CliRunner), with exact outputs."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from grader.cli import main


def run(*args, cwd=None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, list(map(str, args)))


@pytest.mark.parametrize(
    "command",
    [[], ["build"], ["submit"], ["batch"], ["gradebook"], ["dashboard"], ["cluster-certs"]],
)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


@pytest.mark.kernel
def test_grade_file_grades_and_writes_reports(built_course, tmp_path, monkeypatch):
    course, _ = built_course
    sub = tmp_path / "submit.ipynb"
    shutil.copy(course.root / "release" / "solution" / "ps1.ipynb", sub)
    result = run(sub, "--course", course.path, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "Total: 21 / 21 (100%)" in result.output
    data = json.loads((tmp_path / "submit.results.json").read_text())
    assert data["score"] == data["max_score"] == 21
    assert len(data["tests"]) == 10
    assert {t["status"] for t in data["tests"]} == {"passed"}
    html = (tmp_path / "submit.report.html").read_text()
    assert "21" in html and "<html" in html


@pytest.mark.kernel
def test_course_is_found_above_the_current_folder(built_course, monkeypatch):
    course, _ = built_course
    work = course.root / "students" / "ann"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(course.root / "release" / "student" / "ps2.ipynb", work / "ps2.ipynb")
    result = run("ps2.ipynb", "--out", "reports", cwd=work, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "Total: 0 / 21 (0%)" in result.output
    assert (work / "reports" / "ps2.report.html").is_file()


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "the file is empty"),
        (b"{not json", "not a notebook (invalid JSON at line 1, column 2)"),
        (b"\xff\xfe\x00garbage", "not a notebook (not UTF-8 text)"),
        (b"[1, 2]", "not a notebook (no list of cells)"),
    ],
)
def test_unreadable_submission_is_one_line_and_exit_1(tmp_path, monkeypatch, content, message):
    course = _tiny_course(tmp_path)
    sub = tmp_path / "bad.ipynb"
    sub.write_bytes(content)
    result = run(sub, "--course", course, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert result.output == f"Error: bad.ipynb: {message}\n"
    assert sub.read_bytes() == content


def test_missing_file(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    result = run(tmp_path / "nope.ipynb", "--course", course, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nope.ipynb'}: no such file\n"


def test_unknown_assignment(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    sub = tmp_path / "x.ipynb"
    sub.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    result = run(
        sub, "--course", course, "--assignment", "ps9", cwd=tmp_path, monkeypatch=monkeypatch
    )
    assert result.exit_code == 1
    assert result.output == f"Error: {course}: unknown assignment 'ps9' (known: a1)\n"


def test_notebook_without_assignment_needs_the_option(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    sub = tmp_path / "x.ipynb"
    sub.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    result = run(sub, "--course", course, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert result.output == (
        "Error: x.ipynb does not say which assignment it is: pass --assignment (one of: a1)\n"
    )


def test_bad_yaml_is_one_line_with_file_and_line(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    (tmp_path / "exercises" / "t.yaml").write_text("topic: t\nexercises:\n  - id: [\n")
    result = run("build", "--course", course, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {tmp_path / 'exercises' / 't.yaml'}:4: invalid YAML")
    assert result.output.count("\n") == 1


def test_no_course_found(tmp_path, monkeypatch):
    result = run("build", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert result.output == "Error: no course.yaml found here or above; pass --course PATH\n"


def _tiny_course(root):
    (root / "exercises").mkdir(exist_ok=True)
    (root / "solutions").mkdir(exist_ok=True)
    (root / "course.yaml").write_text(
        "name: Tiny\nassignments:\n  - id: a1\n    title: A1\n    exercises: [two]\n"
    )
    (root / "exercises" / "t.yaml").write_text(
        "topic: t\ntitle: T\nexercises:\n  - id: two\n    title: Two\n    points: 1\n"
        "    prompt: Assign 2.\n    answer: {kind: number, name: x}\n"
    )
    (root / "solutions" / "t.py").write_text("# %% two\nx = 2\n")
    return root / "course.yaml"


def test_limit_flags_come_from_the_one_declaration():
    from dataclasses import fields

    from grader.limits import Limits

    for command in ("build", "submit"):
        text = CliRunner().invoke(main, [command, "--help"]).output
        for limit in fields(Limits):
            assert "--" + limit.name.replace("_", "-") in text, (command, limit.name)


def test_a_limit_below_its_minimum_is_a_usage_error(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    result = run(
        "build", "--course", course, "--memory", "8", cwd=tmp_path, monkeypatch=monkeypatch
    )
    assert result.exit_code == 2 and "--memory" in result.output


def test_debug_is_a_real_option_that_shows_the_traceback(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    sub = tmp_path / "bad.ipynb"
    sub.write_bytes(b"{not json")
    plain = run(sub, "--course", course, cwd=tmp_path, monkeypatch=monkeypatch)
    assert plain.exit_code == 1 and "Traceback" not in plain.output
    for args in (
        [sub, "--course", course, "--debug"],
        ["--debug", "submit", sub, "--course", course],
    ):
        debug = run(*args, cwd=tmp_path, monkeypatch=monkeypatch)
        assert debug.exit_code == 1
        assert type(debug.exception).__name__ == "SubmissionError"  # raised, not swallowed


def test_an_internal_error_is_one_line_and_exit_2(tmp_path, monkeypatch):
    import grader.variants

    def broken(path):
        raise RuntimeError("a bug")

    monkeypatch.setattr(grader.variants, "load_default_course", broken)
    result = run(
        "build", "--course", tmp_path / "course.yaml", cwd=tmp_path, monkeypatch=monkeypatch
    )
    assert result.exit_code == 2
    assert result.output == (
        "Error: internal error: RuntimeError: a bug (run again with --debug for the traceback)\n"
    )


def test_several_unreadable_notebooks_give_one_error_line_each(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    for name in ("a.ipynb", "b.ipynb"):
        (tmp_path / name).write_bytes(b"")
    result = run(
        tmp_path / "a.ipynb",
        tmp_path / "b.ipynb",
        "--course",
        course,
        cwd=tmp_path,
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: a.ipynb: the file is empty",
        "Error: b.ipynb: the file is empty",
        "Error: 2 of 2 notebooks could not be graded",
    ]


@pytest.mark.kernel
def test_a_custom_check_that_raises_is_a_course_error(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    (tmp_path / "exercises" / "t.yaml").write_text(
        "topic: t\ntitle: T\nexercises:\n  - id: two\n    title: Two\n    points: 1\n"
        "    prompt: Assign 2.\n    answer: {kind: custom, name: x, check: strict}\n"
    )
    (tmp_path / "solutions" / "t.py").write_text(
        "def strict(expected, got):\n    return got['value']\n\n# %% two\nx = 2\n"
    )
    result = run("build", "--course", course, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Error: exercise 'two': the custom check 'strict' raised TypeError: "
        "'int' object is not subscriptable"
    )


def test_the_grade_program_flushes_and_keeps_its_exit_codes(tmp_path):
    """`grade` as users run it: a process that skips the interpreter's teardown at the end."""
    import subprocess
    import sys

    course = _tiny_course(tmp_path)
    command = [sys.executable, "-m", "grader"]
    missing = subprocess.run(
        [*command, str(tmp_path / "nope.ipynb"), "--course", str(course)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == f"Error: {tmp_path / 'nope.ipynb'}: no such file\n"
    usage = subprocess.run(
        [*command, "build", "--memory", "1"], capture_output=True, text=True, timeout=120
    )
    assert usage.returncode == 2 and "--memory" in usage.stderr
    helped = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0 and helped.stdout.startswith("Usage:")


def test_gradebook_without_one_is_a_clear_error(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    result = run("gradebook", "--course", course, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path / 'gradebook.db'}: no gradebook yet (grade a batch first, or pass"
        " --db)\n"
    )


def test_batch_of_a_folder_that_is_not_there(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    result = run(
        "batch", tmp_path / "nowhere", "--course", course, cwd=tmp_path, monkeypatch=monkeypatch
    )
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nowhere'}: no such file or folder\n"
