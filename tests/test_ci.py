"""CI and Gradescope, as they run: `grade ci` in a job, the workflows `grade init-ci`
writes, and the Gradescope autograder run on a folder laid out like Gradescope's."""

from __future__ import annotations

import base64
import html
import http.server
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
import zipfile

import cmarkgfm
import pytest
import yaml
from click.testing import CliRunner
from shipped import with_answers
from studentrepos import NOTEBOOK, SECRET, commit, hostile_once, student

from grader.ci import (
    CI_FILES,
    below_threshold,
    clear_previous,
    github_annotations,
    markdown_summary,
    refusal_annotations,
    refusal_summary,
    workflow,
)
from grader.cli import main
from grader.intake import collect
from grader.results import ExerciseResult, GradeResult, StudentError

HOSTILE = "boom\n::error::injected\n<img src=x onerror=alert(1)> [link](http://evil) | cell"


def result(score=1.0, message=HOSTILE):
    return GradeResult(
        "C",
        "ps1",
        "mine.ipynb",
        score,
        4.0,
        1.0,
        (
            ExerciseResult("a", "A | title", 2.0, score, "partial", message=message),
            ExerciseResult(
                "b",
                "B",
                2.0,
                0.0,
                "error",
                error=StudentError("ValueError", "50%, of it\n::warning::x"),
            ),
        ),
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
    assert lines[1] == (
        "::error file=work/mine.ipynb,title=b%3A 0/2::ValueError: 50%25, of it : :warning: :x"
    )
    assert lines[2] == "::notice title=ps1::1 / 4 points"
    for line in lines:  # one command a line, whatever the student wrote
        assert "\n" not in line and line.count("::") == 2


@pytest.mark.parametrize(
    "threshold,fails", [(None, False), ("1", False), ("1.5", True), ("25%", False), ("30%", True)]
)
def test_fail_under(threshold, fails):
    assert bool(below_threshold(result(1.0), threshold)) is fails


# Every form in which GitHub makes a link or a mention of plain text.
AUTOLINKS = [
    "see http://evil.example/x now",
    "HTTPS://EVIL.EXAMPLE",
    "ftp://evil.example/f",
    "www.evil.example",
    "WwW.evil.example",
    "(www.evil.example)",
    "*www.evil.example*",
    "_www.evil.example_",
    "~www.evil.example~",
    "me@evil.example",
    "a.b-c+d@evil.co.uk",
    "mailto:me@evil.example",
    "MAILTO:me@evil.example",
    "xmpp:me@evil.example/r",
    "<http://evil.example>",
    "<me@evil.example>",
    "@octocat",
    "cc @org/team",
    "see #12",
    "http&#58;//evil.example",
    "&#64;octocat",
    "www&#46;evil.example",
    "&lt;http://e.x&gt;",
]


def _rendered(markdown):
    """What GitHub shows of a Markdown summary: its HTML (GFM, autolinks on) and its text."""
    page = cmarkgfm.github_flavored_markdown_to_html(markdown)
    return page, html.unescape(re.sub(r"<[^>]+>", "", page))


def _inert(page, text):
    """No link, and no mention or issue reference GitHub would make of the text."""
    return "<a " not in page and not re.search(r"@[A-Za-z0-9]|#[0-9]", text)


@pytest.mark.parametrize("text", AUTOLINKS)
def test_student_text_in_a_summary_makes_no_link_or_mention(text):
    page, shown = _rendered(markdown_summary(result(message=text)))
    assert _inert(page, shown), page
    assert text in shown.replace("\u2060", "")  # reads as typed (a reference not decoded)
    for line in github_annotations(result(message=text), "mine.ipynb"):
        data = line.rsplit("::", 1)[1]
        assert not re.search(r"[a-z0-9]://|www\.|@[a-z0-9]|mailto:|xmpp:|#[0-9]", data, re.I), line


def test_no_combination_of_autolink_pieces_makes_a_link():
    pieces = [
        "http",
        "://",
        ":",
        "www",
        ".",
        "@",
        "mailto",
        "xmpp",
        "evil.example",
        "me@evil.example",
        "<",
        "(",
        "_",
        "&#64;",
        "\\",
        "#1",
    ]
    for n in (1, 2, 3):
        for combination in itertools.product(pieces, repeat=n):
            text = "".join(combination)
            page, shown = _rendered(markdown_summary(result(message=text)))
            assert _inert(page, shown), (text, page)


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_init_ci_writes_a_workflow_whose_commands_exist(kind, tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "solutions").mkdir()
    (tmp_path / "course.yaml").write_text("name: T\nassignments:\n  - id: a1\n    exercises: [x]\n")
    (tmp_path / "exercises" / "t.yaml").write_text(
        "topic: t\nexercises:\n  - id: x\n    title: X\n    points: 1\n    prompt: p\n"
        "    answer: {kind: number, name: x}\n"
    )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(main, ["init-ci", f"--{kind}"])
    assert first.exit_code == 0, first.output
    path = tmp_path / (".github/workflows/grade.yml" if kind == "github" else ".gitlab-ci.yml")
    assert path.read_text() == workflow(kind)
    assert runner.invoke(main, ["init-ci", f"--{kind}"]).exit_code == 1  # no silent overwrite
    commands = re.findall(r"\bgrade ([a-z-]+)([^\n]*)", _scripts(kind))
    assert {c for c, _ in commands} == {"fetch-repos", "build", "batch", "export", "gradebook"}
    for command, args in commands:  # every option the workflow uses is one grade has
        help_text = runner.invoke(main, [command, "--help"]).output
        for option in re.findall(r"--[a-z-]+", args):
            assert option in help_text, (command, option)
    assert "release/key" not in path.read_text() or "never" in path.read_text()


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_the_workflows_grade_only_in_the_sandbox(kind):
    grading = re.findall(r"\bgrade (build|batch|regrade|ci|submit)\b([^\n]*)", _scripts(kind))
    assert {c for c, _ in grading} == {"build", "batch"}
    assert all("--sandbox require" in args for _, args in grading), grading
    assert not re.search(r"\bauto\b|fallback|without the sandbox", workflow(kind))


def _scripts(kind):
    """Every shell line a workflow runs (continued lines joined)."""
    data = yaml.safe_load(workflow(kind))
    if kind == "github":
        lines = [step.get("run", "") for step in data["jobs"]["grade"]["steps"]]
    else:
        lines = [
            line
            for job in data.values()
            if isinstance(job, dict)
            for part in ("before_script", "script", "after_script")
            for line in job.get(part, [])
        ]
    return "\n".join(lines).replace("\\\n", " ")


TOKEN = "ghp_0123456789SECRETtokenABCDEFGHIJKLmn"
CANARY = "CANARY-of-the-runner-environment"
DAY = 86400


def _fetch_steps(kind):
    """The workflow's clone step and its extraction step, each as (script, environment), the
    environment being what the CI gives that step (the token where the workflow asks)."""
    data = yaml.safe_load(workflow(kind))
    if kind == "github":
        job = data["jobs"]["grade"]
        base = {**data.get("env", {}), **job.get("env", {})}
        with_secret = [s for s in job["steps"] if "secrets." in json.dumps(s)]
        clone = [s for s in job["steps"] if "git clone" in s.get("run", "")]
        take = [s for s in job["steps"] if "grade fetch-repos" in s.get("run", "")]
        assert with_secret == clone and len(take) == 1  # the one step that has the token

        def env(step):
            given = {
                k: v.replace("${{ secrets.STUDENTS_TOKEN }}", TOKEN)
                for k, v in step.get("env", {}).items()
            }
            assert "${{" not in json.dumps(given)
            return {**base, **given}

        return (clone[0]["run"], env(clone[0])), (take[0]["run"], env(take[0]))
    fetch, grade = data["fetch"], data["grade"]
    # GitLab gives a variable scoped to an environment only to the jobs that name it
    assert fetch["environment"]["name"] == "student-repositories" and "environment" not in grade
    take = [line for line in grade["script"] if "grade fetch-repos" in line]
    assert len(take) == 1 and "STUDENTS_TOKEN" not in json.dumps(grade)
    base = dict(data["variables"])
    return ("\n".join(fetch["script"]), {**base, "STUDENTS_TOKEN": TOKEN}), (take[0], base)


def _run(script, env, cwd, host):
    full = {
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
        "HOME": str(cwd),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "GIT_CONFIG_NOSYSTEM": "1",
        **env,
        "GIT_HOST": host if str(host).startswith("http") else f"file://{host}",
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _secrets():
    basics = [base64.b64encode(f"{user}:{TOKEN}".encode()) for user in ("x-access-token", "oauth2")]
    return [TOKEN.encode(), CANARY.encode(), SECRET.encode(), b"root:x:0:0", *basics]


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_the_workflow_fetch_takes_only_honest_notebooks(kind, tmp_path, tmp_path_factory):
    host, course = tmp_path / "host", tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "solutions" / "x.py").write_text(SECRET + "\n")
    now = int(time.time())
    past = now - 30 * DAY
    honest = {
        name: NOTEBOOK.replace(b"{}", f'{{"by": "{name}"}}'.encode())
        for name in ("alice", "bob", "carol")
    }
    alice = student(host, "alice/cnn-homework", {"ps1.ipynb": honest["alice"]}, when=past)
    student(host, "bob/cnn-homework", {"ps1.ipynb": honest["bob"]}, when=now + 10 * DAY)
    carol = student(
        host, "course-org/cnn-homework-carol", {"ps1.ipynb": honest["carol"]}, when=past + 5
    )
    (host / "mallory").mkdir()
    (host / "mallory" / "cnn-homework.git").symlink_to(hostile_once(tmp_path_factory))
    (course / "students.txt").write_text(
        "# the class\nalice/cnn-homework\nbob/cnn-homework\n"
        "carol course-org/cnn-homework-carol\nmallory/cnn-homework\ndave/cnn-homework\n"
    )
    (clone, clone_env), (take, take_env) = _fetch_steps(kind)
    assert TOKEN not in json.dumps(take_env)

    cloned = _run(clone, clone_env, course, host)
    assert "could not fetch dave/cnn-homework" in cloned.stdout
    started = int((course / "repos" / "fetch-started").read_text())
    took = _run(take, {**take_env, "CANARY": CANARY}, course, host)
    assert "mallory (mallory/cnn-homework): refused 'environ.ipynb': a link" in took.stdout

    out = course / "submissions"
    files = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if not p.is_dir()}
    assert sorted(files) == [
        "alice/ps1.ipynb",
        "bob/ps1.ipynb",
        "carol/ps1.ipynb",
        "mallory/ps1.ipynb",
        "mallory/ps2.ipynb",
    ]
    for name in ("alice", "bob", "carol"):  # same repository names, kept apart
        assert files[f"{name}/ps1.ipynb"].read_bytes() == honest[name]
    assert not any(p.is_symlink() for p in out.rglob("*"))
    for path in [*out.rglob("*"), *(course / "repos").rglob("*")]:
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            assert not any(secret in data for secret in _secrets()), path
    # hand-in times: the commit's, never later than the fetch; and `grade batch` reads them
    assert os.stat(files["alice/ps1.ipynb"]).st_mtime == past
    assert os.stat(files["carol/ps1.ipynb"]).st_mtime == past + 5
    assert started <= os.stat(files["bob/ps1.ipynb"]).st_mtime <= time.time()
    intake = {
        s.student: s.submitted_at.timestamp()
        for s in collect(out, tmp_path / "into")
        if s.source.endswith("ps1.ipynb")
    }
    assert intake["alice"] == past and intake["carol"] == past + 5

    # the next run (mallory gone): alice back-dates a notebook past the first fetch; carol's
    # is honest
    (course / "students.txt").write_text(
        "alice/cnn-homework\ncarol course-org/cnn-homework-carol\n"
    )
    commit(alice, {"ps2.ipynb": NOTEBOOK}, when=past + 10)
    while time.time() < started + 2:
        time.sleep(0.1)
    commit(carol, {"ps2.ipynb": NOTEBOOK}, when=started + 1)
    _run(clone, clone_env, course, host)
    again = int((course / "repos" / "fetch-started").read_text())
    _run(take, take_env, course, host)
    assert os.stat(out / "alice" / "ps1.ipynb").st_mtime == past  # unchanged, seen before
    assert os.stat(out / "alice" / "ps2.ipynb").st_mtime >= again  # not the claimed date
    assert os.stat(out / "carol" / "ps2.ipynb").st_mtime == started + 1


@pytest.mark.kernel
def test_grade_ci_in_a_github_job(built_course, tmp_path):
    course, _ = built_course
    notebook = with_answers(
        course.root / "release" / "solution" / "ps1.ipynb",
        {"corr1d-valid": "raise ValueError('::error::owned')"},
        tmp_path / "ps1.ipynb",
    )
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    command = [
        sys.executable,
        "-m",
        "grader",
        "ci",
        str(notebook),
        "--course",
        str(course.path),
        "--out",
        str(tmp_path / "out"),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "**29 / 30 points**" in summary.read_text()
    annotation_lines = [ln for ln in done.stdout.splitlines() if ln.startswith("::")]
    assert annotation_lines[0].startswith("::error file=") and "corr1d-valid" in annotation_lines[0]
    assert annotation_lines[-1] == "::notice title=ps1::29 / 30 points"
    assert sum("owned" in ln for ln in done.stdout.splitlines()) == 2  # table and annotation
    junit = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert junit.get("errors") == "1" and junit.get("tests") == "13"
    assert json.loads((tmp_path / "out" / "results.json").read_text())["score"] == 29
    strict = subprocess.run(
        [*command, "--fail-under", "100%"], env=env, capture_output=True, text=True, timeout=300
    )
    assert strict.returncode == 1
    assert strict.stderr.strip().endswith("is under the required 100%")

    # a broken notebook next: the job fails saying why, and no old score is left in out/
    broken = tmp_path / "broken" / "ps1.ipynb"
    broken.parent.mkdir()
    broken.write_text('{"cells": [')
    command[4] = str(broken)
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and "not a notebook" in refused.stderr
    (annotation,) = [ln for ln in refused.stdout.splitlines() if ln.startswith("::")]
    assert annotation.startswith("::error file=") and "title=not graded::" in annotation
    assert "not a notebook" in annotation
    last = summary.read_text().rsplit("### ", 1)[1]
    assert ": not graded\n\n**0 points: " in last and "ps1.ipynb" in last
    assert "not a notebook" in last
    assert not any((tmp_path / "out" / name).exists() for name in CI_FILES)


@pytest.mark.kernel
def test_the_gradescope_autograder_runs_on_gradescopes_layout(built_course, tmp_path):
    from autograder import run_autograder, unpack

    course, _ = built_course
    archive = tmp_path / "autograder.zip"
    made = CliRunner().invoke(
        main, ["gradescope", "ps1", "--course", str(course.path), "--out", str(archive)]
    )
    assert made.exit_code == 0, made.output
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert "run_autograder" in names and "setup.sh" in names
        assert "course/release/key/ps1.json" in names and "grader/cli.py" in names
        assert "course/checks/shapes.py" in names
        assert (zf.getinfo("run_autograder").external_attr >> 16) & 0o111
    root = unpack(archive, tmp_path / "autograder")
    with_answers(
        course.root / "release" / "solution" / "ps1.ipynb",
        {"corr1d-same": "corr_same = [0] * 9"},
        root / "submission" / "anything.ipynb",
    )
    # Jupyter's checkpoint of the blank notebook is not the student's notebook
    (root / "submission" / ".ipynb_checkpoints").mkdir()
    (root / "submission" / ".ipynb_checkpoints" / "anything-checkpoint.ipynb").write_bytes(
        (course.root / "release" / "student" / "ps1.ipynb").read_bytes()
    )
    data = run_autograder(root)
    assert (data["score"], data["max_score"], len(data["tests"])) == (28, 30, 13)
    assert "another release" not in data["output"]
    # an unreadable file still gets a results.json that says why
    (root / "submission" / "anything.ipynb").write_text("not a notebook")
    data = run_autograder(root)
    assert data["score"] == 0 and "not a notebook" in data["output"]


class _GitServer(http.server.ThreadingHTTPServer):
    """git's smart HTTP on the loopback (``git http-backend``), for whoever sends the header."""

    def __init__(self, root, authorization):
        super().__init__(("127.0.0.1", 0), _GitHandler)
        self.root, self.authorization, self.seen = root, authorization, []


class _GitHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def log_message(self, *args):
        pass

    def _serve(self):
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != self.server.authorization:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="students"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        out = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True
        ).stdout
        head, _, payload = re.split(rb"(\r?\n\r?\n)", out, maxsplit=1)
        status, headers = 200, []
        for line in re.split(rb"\r?\n", head):
            key, _, value = line.decode().partition(": ")
            if key.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((key, value))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.mark.parametrize("kind,user", [("github", "x-access-token"), ("gitlab", "oauth2")])
def test_the_clone_step_sends_the_token_as_a_header_only(kind, user, tmp_path):
    host, course = tmp_path / "host", tmp_path / "course"
    course.mkdir()
    student(host, "alice/hw", {"ps1.ipynb": NOTEBOOK}, when=1_700_000_000)
    (course / "students.txt").write_text("alice/hw\n")
    basic = base64.b64encode(f"{user}:{TOKEN}".encode()).decode()
    server = _GitServer(host, f"basic {basic}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (clone, clone_env), (take, take_env) = _fetch_steps(kind)
        url = f"http://127.0.0.1:{server.server_port}"
        _run(clone, {**clone_env, "GIT_HOST": url}, course, url)
        assert (course / "repos" / "alice" / "hw.git" / "HEAD").is_file()
        _run(take, take_env, course, url)
        assert (course / "submissions" / "alice" / "ps1.ipynb").read_bytes() == NOTEBOOK
        assert server.seen and all(TOKEN not in path for path, _ in server.seen)
        for path in (course / "repos").rglob("*"):
            assert not path.is_file() or not any(s in path.read_bytes() for s in _secrets())
        # a wrong token fetches nothing, and says so
        wrong = {k: v.replace(TOKEN, "not-the-token") for k, v in clone_env.items()}
        failed = _run(clone, {**wrong, "GIT_HOST": url}, course, url)
        assert "could not fetch alice/hw" in failed.stdout
        assert not (course / "repos" / "alice" / "hw.git").exists()
    finally:
        server.shutdown()
        server.server_close()


def test_a_refusal_s_summary_and_annotation_are_one_inert_line_each(tmp_path):
    reason = "x.ipynb: not a notebook\n::error::owned [link](http://evil) @team <b>"
    summary = refusal_summary("x.ipynb", reason)
    assert summary.startswith("### x.ipynb: not graded\n\n**0 points: x.ipynb: not a notebook")
    assert "[link](http" not in summary and "<b>" not in summary
    assert refusal_annotations("x.ipynb", reason, {}) == []  # not on GitHub: no noise
    (line,) = refusal_annotations("x.ipynb", reason, {"GITHUB_ACTIONS": "true"})
    assert line.startswith("::error file=x.ipynb,title=not graded::")
    assert "\n" not in line and line.count("::") == 2


def test_clearing_removes_only_grade_ci_s_own_files(tmp_path):
    elsewhere = tmp_path / "precious.json"
    elsewhere.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    for name in CI_FILES[:2]:
        (out / name).write_text("old")
    (out / CI_FILES[2]).symlink_to(elsewhere)
    (out / "notes.txt").write_text("mine")
    clear_previous(out)
    clear_previous(tmp_path / "missing")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert elsewhere.read_text() == "keep"
