"""The `grade` command as a user types it (click's CliRunner), with exact outputs."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from grader.cli import main


def run(*args, cwd=None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, list(map(str, args)))


def _command_paths(group, path=()):
    """The group itself and every command under it, as argument lists (from click's own
    table, so that a new command is covered without being listed here)."""
    yield list(path)
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _command_paths(command, (*path, name))
        else:
            yield [*path, name]


@pytest.mark.parametrize("command", list(_command_paths(main)), ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    """The group and each of its commands, as main.commands has them (the class commands of
    grader.cli_class included): a new command is checked without being listed here."""
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output


def test_the_gradebook_commands_are_commands_of_grade():
    from grader.cli_class import COMMANDS

    assert {c.name for c in COMMANDS} == {"batch", "gradebook", "regrade", "export", "dashboard"}
    assert all(main.commands[c.name] is c for c in COMMANDS)


@pytest.mark.kernel
def test_grade_file_grades_and_writes_reports(built_course, tmp_path, monkeypatch):
    course, _ = built_course
    sub = tmp_path / "submit.ipynb"
    shutil.copy(course.root / "release" / "solution" / "ps1.ipynb", sub)
    result = run(sub, "--course", course.path, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "Total: 30 / 30 (100%)" in result.output
    data = json.loads((tmp_path / "submit.results.json").read_text())
    assert data["score"] == data["max_score"] == 30
    assert len(data["tests"]) == 13
    assert {t["status"] for t in data["tests"]} == {"passed"}
    html = (tmp_path / "submit.report.html").read_text()
    assert "30" in html and "<html" in html


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


@pytest.mark.kernel
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


def _an_argument(option, tmp_path):
    """What a user would give the option: nothing for a flag, else a value of its type."""
    if option.is_flag:
        return []
    kind = option.type
    if isinstance(kind, click.Choice):
        value = kind.choices[-1]
    elif isinstance(kind, (click.IntRange, click.FloatRange)):
        value = str(max(5, kind.min or 0))
    elif isinstance(kind, click.Path):
        value = str(tmp_path / option.name)
    else:
        value = "x"
    return [value] * (option.nargs if option.nargs > 1 else 1)


def _parsed(args):
    """The command ``grade ARGS`` runs and the values its parameters get (parsed, not run)."""
    with main.make_context("grade", list(map(str, args))) as ctx:
        with warnings.catch_warnings():  # click 8.2 deprecates the name, 9 folds it into args
            warnings.simplefilter("ignore", DeprecationWarning)
            unparsed = [*ctx.protected_args, *ctx.args]
        name, command, rest = main.resolve_command(ctx, unparsed)
        with command.make_context(name, rest, parent=ctx) as sub:
            return name, sub.params


def test_every_option_of_the_default_command_goes_before_the_file_too(tmp_path):
    options = [p for p in main.commands["submit"].params if isinstance(p, click.Option)]
    assert {"--out", "--assignment", "--course", "--cell-timeout"} <= {
        o for p in options for o in p.opts
    }
    for option in options:
        if option.name == "help":
            continue
        given = [option.opts[-1], *_an_argument(option, tmp_path)]
        after = _parsed(["a.ipynb", *given, "b.ipynb"])
        assert after[0] == "submit" and after[1]["notebooks"] == (Path("a.ipynb"), Path("b.ipynb"))
        assert _parsed([*given, "a.ipynb", "b.ipynb"]) == after, given
        assert _parsed(["--debug", *given, "a.ipynb", "b.ipynb"])[0] == "submit"
    # and the group's own options, and its commands, keep their meaning
    assert run("--version").output.startswith("grade, version")
    assert "No such option '--bogus'" in run("--bogus", "a.ipynb").output
    assert _parsed(["--debug", "gradebook"])[0] == "gradebook"


@pytest.mark.kernel
def test_missing_file(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    result = run(tmp_path / "nope.ipynb", "--course", course, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nope.ipynb'}: no such file\n"


@pytest.mark.kernel
def test_unknown_assignment(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    sub = tmp_path / "x.ipynb"
    sub.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    result = run(
        sub, "--course", course, "--assignment", "ps9", cwd=tmp_path, monkeypatch=monkeypatch
    )
    assert result.exit_code == 1
    assert result.output == f"Error: {course}: unknown assignment 'ps9' (known: a1)\n"


@pytest.mark.kernel
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


@pytest.mark.kernel
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


@pytest.mark.kernel
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


@pytest.mark.kernel
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


@pytest.mark.kernel
def test_batch_of_a_folder_that_is_not_there(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    result = run(
        "batch", tmp_path / "nowhere", "--course", course, cwd=tmp_path, monkeypatch=monkeypatch
    )
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nowhere'}: no such file or folder\n"


@pytest.mark.parametrize("command", ["batch", "regrade"])
def test_batch_and_regrade_share_the_cores_among_their_kernels(tmp_path, monkeypatch, command):
    """Both run kernels side by side: each gets the cores // workers threads (regrade used
    the library default, every kernel a thread per core, before grader.workers)."""
    import grader.batch
    import grader.regrade
    from grader.batch import BatchSummary
    from grader.gradebook import Gradebook
    from grader.regrade import RegradeSummary

    monkeypatch.setattr("grader.workers.os.cpu_count", lambda: 8)
    seen = []

    def fake_batch(course, found, gradebook, options, batch, on_event=None, on_progress=None):
        seen.append((options.threads, batch.workers))
        return BatchSummary((), 0.0)

    def fake_regrade(course, gradebook, options, assignment, batch):
        seen.append((options.threads, batch.workers))
        return RegradeSummary((), 0, 0, 0, 0.0)

    monkeypatch.setattr(grader.batch, "grade_batch", fake_batch)
    monkeypatch.setattr(grader.regrade, "regrade", fake_regrade)
    course = _tiny_course(tmp_path)
    Gradebook(tmp_path / "gradebook.db").close()
    (tmp_path / "submissions").mkdir()
    where = [tmp_path / "submissions"] if command == "batch" else []
    args = [command, *where, "--course", course, "--workers", 2, "--sandbox", "off"]
    result = run(*args, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert seen == [(4, 2)]


def _graded(course, source="x.ipynb", flags=()):
    """A full-marks GradeResult of the tiny course's a1, as the pipeline returns it."""
    from grader.results import ExerciseResult, GradeResult

    exercises = (ExerciseResult("two", "Two", 1.0, 1.0, "passed"),)
    return GradeResult(course, "a1", source, 1.0, 1.0, 0.1, exercises, flags=flags)


def test_ci_renders_the_html_report_once(tmp_path, monkeypatch):
    """grade ci --results wrote report.html twice (two renders: the plots are the slow part
    of a report); it renders once, and still writes both results.json (checked on the old
    code: two renders)."""
    import grader.gradescope.grading
    import grader.report.formats

    renders = []
    real = grader.report.formats.render_html

    def counted(result):
        renders.append(result.submission)
        return real(result)

    monkeypatch.setattr(grader.report.formats, "render_html", counted)
    monkeypatch.setattr(
        grader.gradescope.grading,
        "grade",
        lambda path, course, assignment, options, progress=None: _graded(course.name, path.name),
    )
    monkeypatch.setattr("grader.pipeline.grade", grader.gradescope.grading.grade)  # old code
    course = _tiny_course(tmp_path)
    (tmp_path / "x.ipynb").write_text("{}")
    staff = tmp_path / "gradescope.json"
    result = run(
        "ci", "x.ipynb", "--course", course, "--results", staff, "--sandbox", "off",
        cwd=tmp_path, monkeypatch=monkeypatch,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert renders == ["x.ipynb"]
    out = tmp_path / "grade-results"
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "results.json"]
    assert json.loads(staff.read_text())["score"] == 1.0
    assert json.loads((out / "results.json").read_text())["score"] == 1.0


@pytest.mark.kernel
def test_ci_writes_a_results_json_that_says_why_when_it_cannot_grade(tmp_path, monkeypatch):
    course = _tiny_course(tmp_path)
    staff = tmp_path / "results.json"
    result = run(
        "ci", "nope.ipynb", "--course", course, "--results", staff, "--sandbox", "off",
        cwd=tmp_path, monkeypatch=monkeypatch,
    )  # fmt: skip
    assert result.exit_code == 1
    reason = "nope.ipynb: no such file"
    assert result.output == f"Error: {reason}\n"
    assert json.loads(staff.read_text()) == {
        "score": 0,
        "output": f"Your notebook could not be graded: {reason}",
        "tests": [],
    }


def test_an_option_time_is_iso_8601_utc_unless_it_says():
    import datetime as dt

    from grader.cli_options import iso_time
    from grader.errors import GraderError

    utc = dt.timezone.utc
    assert iso_time("--at", None) is None and iso_time("--at", "") is None
    assert iso_time("--at", "2030-01-31T12:00") == dt.datetime(2030, 1, 31, 12, tzinfo=utc)
    paris = iso_time("--at", "2030-01-31T12:00+01:00")
    assert paris is not None and paris.utcoffset() == dt.timedelta(hours=1)
    with pytest.raises(GraderError, match=r"^--at: 'friday' is not an ISO 8601 time$"):
        iso_time("--at", "friday")
