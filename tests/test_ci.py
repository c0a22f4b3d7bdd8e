"""CI and Gradescope, as they run: `grade ci` in a job, the workflows `grade init-ci`
writes, and the Gradescope autograder run on a folder laid out like Gradescope's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

import pytest
import yaml
from click.testing import CliRunner
from shipped import with_answers

from grader.ci import below_threshold, github_annotations, markdown_summary, workflow
from grader.cli import main
from grader.results import ExerciseResult, GradeResult, StudentError

HOSTILE = "boom\n::error::injected\n<img src=x onerror=alert(1)> [link](http://evil) | cell"


def result(score=1.0):
    return GradeResult(
        "C", "ps1", "mine.ipynb", score, 4.0, 1.0,
        (ExerciseResult("a", "A | title", 2.0, score, "partial", message=HOSTILE),
         ExerciseResult("b", "B", 2.0, 0.0, "error",
                        error=StudentError("ValueError", "50%, of it\n::warning::x"))),
    )


def test_the_step_summary_is_inert_markdown():
    text = markdown_summary(result())
    assert "**1 / 4 points**" in text
    assert "<img" not in text and "&lt;img" in text
    assert "\\[link\\]\\(http" in text and "A \\| title" in text
    assert all(not line.lstrip().startswith("::") for line in text.splitlines())
    assert text.count("\n| ") == 3  # the header and one row an exercise


def test_annotations_carry_student_text_only_as_encoded_data():
    lines = github_annotations(result(), "work/mine.ipynb")
    assert len(lines) == 3
    assert lines[0].startswith("::warning file=work/mine.ipynb,title=a%3A 1/2::boom ")
    assert lines[1] == "::error file=work/mine.ipynb,title=b%3A 0/2::ValueError: 50%25, of it : :warning: :x"
    assert lines[2] == "::notice title=ps1::1 / 4 points"
    for line in lines:  # one command a line, whatever the student wrote
        assert "\n" not in line and line.count("::") == 2


@pytest.mark.parametrize("threshold,fails", [(None, False), ("1", False), ("1.5", True),
                                              ("25%", False), ("30%", True)])
def test_fail_under(threshold, fails):
    assert bool(below_threshold(result(1.0), threshold)) is fails


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_init_ci_writes_a_workflow_whose_commands_exist(kind, tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "solutions").mkdir()
    (tmp_path / "course.yaml").write_text(
        "name: T\nassignments:\n  - id: a1\n    exercises: [x]\n")
    (tmp_path / "exercises" / "t.yaml").write_text(
        "topic: t\nexercises:\n  - id: x\n    title: X\n    points: 1\n    prompt: p\n"
        "    answer: {kind: number, name: x}\n")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(main, ["init-ci", f"--{kind}"])
    assert first.exit_code == 0, first.output
    path = tmp_path / (".github/workflows/grade.yml" if kind == "github" else ".gitlab-ci.yml")
    assert path.read_text() == workflow(kind)
    data = yaml.safe_load(path.read_text())
    text = json.dumps(data)
    assert runner.invoke(main, ["init-ci", f"--{kind}"]).exit_code == 1  # no silent overwrite
    commands = re.findall(r"grade (build|batch|export|gradebook)([^\"\\]*)", text)
    assert {c for c, _ in commands} == {"build", "batch", "export", "gradebook"}
    for command, args in commands:  # every option the workflow uses is one grade has
        help_text = runner.invoke(main, [command, "--help"]).output
        for option in re.findall(r"--[a-z-]+", args):
            assert option in help_text, (command, option)
    assert "release/key" not in text or "never" in path.read_text()


@pytest.mark.kernel
def test_grade_ci_in_a_github_job(built_course, tmp_path):
    course, _ = built_course
    notebook = with_answers(course.root / "release" / "solution" / "ps1.ipynb",
                            {"corr1d-valid": "raise ValueError('::error::owned')"},
                            tmp_path / "ps1.ipynb")
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    command = [sys.executable, "-m", "grader", "ci", str(notebook), "--course",
               str(course.path), "--out", str(tmp_path / "out")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "**20 / 21 points**" in summary.read_text()
    annotation_lines = [ln for ln in done.stdout.splitlines() if ln.startswith("::")]
    assert annotation_lines[0].startswith("::error file=") and "corr1d-valid" in annotation_lines[0]
    assert annotation_lines[-1] == "::notice title=ps1::20 / 21 points"
    assert sum("owned" in ln for ln in done.stdout.splitlines()) == 2  # table and annotation
    junit = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert junit.get("errors") == "1" and junit.get("tests") == "10"
    assert json.loads((tmp_path / "out" / "results.json").read_text())["score"] == 20
    strict = subprocess.run([*command, "--fail-under", "100%"], env=env, capture_output=True,
                            text=True, timeout=300)
    assert strict.returncode == 1
    assert strict.stderr.strip().endswith("is under the required 100%")


@pytest.mark.kernel
def test_the_gradescope_autograder_runs_on_gradescopes_layout(built_course, tmp_path):
    from autograder import run_autograder, unpack

    course, _ = built_course
    archive = tmp_path / "autograder.zip"
    made = CliRunner().invoke(main, ["gradescope", "ps1", "--course", str(course.path),
                                     "--out", str(archive)])
    assert made.exit_code == 0, made.output
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert "run_autograder" in names and "setup.sh" in names
        assert "course/release/key/ps1.json" in names and "grader/cli.py" in names
        assert "course/checks/shapes.py" in names
        assert (zf.getinfo("run_autograder").external_attr >> 16) & 0o111
    root = unpack(archive, tmp_path / "autograder")
    with_answers(course.root / "release" / "solution" / "ps1.ipynb",
                 {"corr1d-same": "corr_same = [0] * 9"}, root / "submission" / "anything.ipynb")
    # Jupyter's checkpoint of the blank notebook is not the student's notebook
    (root / "submission" / ".ipynb_checkpoints").mkdir()
    (root / "submission" / ".ipynb_checkpoints" / "anything-checkpoint.ipynb").write_bytes(
        (course.root / "release" / "student" / "ps1.ipynb").read_bytes())
    data = run_autograder(root)
    assert (data["score"], data["max_score"], len(data["tests"])) == (19, 21, 10)
    assert "another release" not in data["output"]
    # an unreadable file still gets a results.json that says why
    (root / "submission" / "anything.ipynb").write_text("not a notebook")
    data = run_autograder(root)
    assert data["score"] == 0 and "not a notebook" in data["output"]
