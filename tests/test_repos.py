"""Notebooks taken out of bare clones of students' repositories (grader/repos.py), and their
hand-in times (grader/fetchlog.py), on real git repositories made here."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import pytest
from click.testing import CliRunner
from studentrepos import (
    NOTEBOOK,
    SECRET,
    bare_clone,
    commit,
    git,
    hostile_once,
    repository,
    student,
)

from grader.cli import main
from grader.errors import GraderError
from grader.fetchlog import FetchLog, handed_in
from grader.intake import collect
from grader.repos import _names, fetch_notebooks, read_students

DAY = 86400


def _students(tmp_path, text):
    path = tmp_path / "students.txt"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text,expected",
    [
        ("alice/cnn-homework\n", [("alice", "alice/cnn-homework")]),
        ("# class\n\n  bob/cnn-homework.git  \n", [("bob", "bob/cnn-homework")]),
        ("carol course-org/cnn-homework-carol\n", [("carol", "course-org/cnn-homework-carol")]),
        ("course/2026/dave/hw\n", [("dave", "course/2026/dave/hw")]),  # GitLab subgroups
        ("alice/hw\nbob/hw\n", [("alice", "alice/hw"), ("bob", "bob/hw")]),  # same name, apart
    ],
)
def test_students_are_owners_or_explicit_ids(tmp_path, text, expected):
    found = read_students(_students(tmp_path, text))
    assert [(s.id, s.repo) for s in found] == expected


@pytest.mark.parametrize(
    "text,message",
    [
        ("alice/hw\nAlice/other\n", "students.txt:2: student 'Alice' is already on line 1"),
        ("X alice/hw\nx bob/hw\n", "students.txt:2: student 'x' is already on line 1"),
        ("Ｘ alice/hw\n", "students.txt:1: 'Ｘ' is not a usable student id"),
        ("alice/hw\nbob Alice/HW\n", "students.txt:2: repository 'Alice/HW' is already on line 1"),
        ("justaname\n", "students.txt:1: 'justaname' is not a repository (owner/name)"),
        ("alice/../hw\n", "students.txt:1: 'alice/../hw' is not a repository (owner/name)"),
        ("-x/hw\n", "students.txt:1: '-x/hw' is not a repository (owner/name)"),
        ("../x alice/hw\n", "students.txt:1: '../x' is not a usable student id"),
        ("a b c/d\n", "students.txt:1: expected owner/name or 'id owner/name'"),
    ],
)
def test_students_txt_mistakes_name_the_line(tmp_path, text, message):
    with pytest.raises(GraderError) as e:
        read_students(_students(tmp_path, text))
    assert str(e.value).endswith(message)


@pytest.mark.parametrize(
    "raw,safe",
    [
        (b"ps1.ipynb", "ps1.ipynb"),
        (b"PS 1 (final).IPYNB", "PS_1_final_.ipynb"),
        ("Übung 1.ipynb".encode(), "_bung_1.ipynb"),
        ("ｐｓ１.ipynb".encode(), "ps1.ipynb"),  # NFKC
        (b"a..b.ipynb", None),
        (b"../x.ipynb", None),
        (b"a\\b.ipynb", None),
        (b"a/b.ipynb", None),
        (b"new\nline.ipynb", None),
        (b"tab\t.ipynb", None),
        ("bidi\u202e.ipynb".encode(), "bidi_.ipynb"),
        (b"\x9b.ipynb", None),  # not UTF-8
        ("c1\x9b.ipynb".encode(), None),  # a C1 control
        (b".hidden.ipynb", None),
        (b"x" * 250 + b".ipynb", None),
        (b"-rf.ipynb", "rf.ipynb"),
    ],
)
def test_notebook_names_are_made_safe_or_refused(raw, safe):
    assert _names(raw)[1] == (safe or "")


@pytest.mark.parametrize(
    "committed,lower,upper,expected",
    [
        (100, None, 200, 100),  # first fetch: the commit, never later than the fetch
        (300, None, 200, 200),  # dated in the future
        (150, 120, 200, 150),  # between the fetch that did not have it and the one that did
        (110, 120, 200, 200),  # dated back past a fetch that did not have it
        (120, 120, 200, 200),
    ],
)
def test_hand_in_time_within_what_the_fetches_saw(committed, lower, upper, expected):
    assert handed_in(committed, lower, upper) == expected


def test_the_fetch_log_bounds_new_content_by_the_previous_fetch(tmp_path):
    path = tmp_path / "log.json"
    log = FetchLog.load(path)
    assert log.bounds("alice", "b1", 1000) == (None, 1000)
    log.record("alice", 990, {"b1": (None, 1000)})
    log.save()
    again = FetchLog.load(path)
    assert again.bounds("ALICE", "b1", 2000) == (None, 1000)  # same content: first seen
    assert again.bounds("alice", "b2", 2000) == (990, 2000)  # new: after the last fetch
    path.write_text(json.dumps({"version": 1, "students": {"a": {"fetched": "x"}}}))
    with pytest.raises(GraderError, match="not a fetch log"):
        FetchLog.load(path)


def test_only_regular_top_level_notebooks_arrive(tmp_path, tmp_path_factory):
    host, repos = tmp_path / "host", tmp_path / "repos"
    past = int(time.time()) - 30 * DAY
    alice = student(host, "alice/cnn-homework", {"ps1.ipynb": NOTEBOOK}, when=past)
    bob = student(host, "bob/cnn-homework", {"ps1.ipynb": NOTEBOOK.replace(b"{}", b"{ }")})
    mallory = hostile_once(tmp_path_factory)
    for path, repo in (
        (alice, "alice/cnn-homework"),
        (bob, "bob/cnn-homework"),
        (mallory, "mallory/cnn-homework"),
    ):
        bare_clone(path, repos, repo)
    students = _students(
        tmp_path,
        "alice/cnn-homework\nbob/cnn-homework\nmallory/cnn-homework\nnobody/cnn-homework\n",
    )
    out = tmp_path / "submissions"
    (out / "alice").mkdir(parents=True)
    (out / "alice" / "stale.ipynb").write_bytes(NOTEBOOK)  # replaced by what the repo holds

    done = {f.student.id: f for f in fetch_notebooks(repos, students, out)}

    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if not p.is_dir())
    assert files == ["alice/ps1.ipynb", "bob/ps1.ipynb", "mallory/ps1.ipynb", "mallory/ps2.ipynb"]
    assert not any(p.is_symlink() for p in out.rglob("*"))
    assert not any(SECRET.encode() in p.read_bytes() for p in out.rglob("*.ipynb"))
    assert (out / "mallory" / "ps2.ipynb").read_bytes() == (mallory / "ps2.ipynb").read_bytes()
    assert (out / "bob" / "ps1.ipynb").read_bytes() != (out / "alice" / "ps1.ipynb").read_bytes()
    refused = " ".join(done["mallory"].refused)
    for name in ("environ", "zero", "solution", "solution2", "absolute", "classmate", "etc"):
        assert f"'{name}.ipynb': a link: not followed" in refused
    assert "'sub.ipynb': a submodule" in refused and "'x.ipynb': a folder" in refused
    assert "'big.ipynb': 52,428,802 bytes, more than" in refused
    for name in ("new\\nline", "esc\\x1b[31m", "bell\\x07", "../up", "a/b", "."):
        assert f"'{name}.ipynb': a name with" in refused  # '..ipynb' the last
    assert "'.hidden.ipynb': a hidden file" in refused
    assert len(done["mallory"].refused) == 17  # each refused once, said once
    assert done["nobody"].problem.startswith("not fetched")
    # the hand-in time is the commit's, and intake (so `grade batch`) reads it
    assert os.stat(out / "alice" / "ps1.ipynb").st_mtime == past
    by_student = {s.student: s for s in collect(out, tmp_path / "into")}
    assert by_student["alice"].submitted_at == dt.datetime.fromtimestamp(past, dt.timezone.utc)
    assert sorted(by_student) == ["alice", "bob", "mallory"]


def test_a_link_under_the_destination_stops_the_fetch(tmp_path):
    host, repos, out = tmp_path / "host", tmp_path / "repos", tmp_path / "submissions"
    for name in ("alice", "bob"):
        bare_clone(student(host, f"{name}/hw", {"ps1.ipynb": NOTEBOOK}), repos, f"{name}/hw")
    students = _students(tmp_path, "alice/hw\nbob/hw\n")
    (out / "bob").mkdir(parents=True)
    (out / "bob" / "ps1.ipynb").symlink_to(tmp_path / "students.txt")
    with pytest.raises(GraderError, match=r"bob/ps1\.ipynb is a link"):
        fetch_notebooks(repos, students, out)
    assert not (out / "alice").exists()  # nothing was written
    (out / "bob" / "ps1.ipynb").unlink()
    (out / "bob").rmdir()
    (out / "bob").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(GraderError, match="bob is a link"):
        fetch_notebooks(repos, students, out)
    (out / "bob").unlink()
    out.rename(tmp_path / "real")
    out.symlink_to(tmp_path / "real")
    with pytest.raises(GraderError, match="cannot write there"):
        fetch_notebooks(repos, students, out)


def test_an_empty_repository_hands_in_nothing(tmp_path):
    host, repos, out = tmp_path / "host", tmp_path / "repos", tmp_path / "submissions"
    bare_clone(repository(host, "alice/hw"), repos, "alice/hw")  # no commit yet
    (out / "alice").mkdir(parents=True)
    (out / "alice" / "old.ipynb").write_bytes(NOTEBOOK)
    [done] = fetch_notebooks(repos, _students(tmp_path, "alice/hw\n"), out)
    assert done.lines() == ["alice (alice/hw): no notebook at the top of the repository"]
    assert list((out / "alice").iterdir()) == []


def test_back_dated_commits_are_bounded_by_the_fetch_log(tmp_path):
    host, repos, out = tmp_path / "host", tmp_path / "repos", tmp_path / "submissions"
    log, students = tmp_path / "fetch-state.json", _students(tmp_path, "alice/hw\n")
    past = int(time.time()) - 10 * DAY
    source = student(host, "alice/hw", {"ps1.ipynb": NOTEBOOK}, when=past)
    bare_clone(source, repos, "alice/hw")
    (repos / "fetch-started").write_text(f"{int(time.time()) - 5}\n")
    fetch_notebooks(repos, students, out, log)
    assert os.stat(out / "alice" / "ps1.ipynb").st_mtime == past
    # after that fetch: a notebook committed with a date before it
    commit(source, {"ps2.ipynb": NOTEBOOK.replace(b"{}", b"{ }")}, when=past + 1)
    git(repos / "alice/hw.git", "fetch", "-q", "--depth", "50", f"file://{source}", "main:main")
    before = int(time.time())
    (repos / "fetch-started").write_text(f"{before}\n")
    fetch_notebooks(repos, students, out, log)
    assert os.stat(out / "alice" / "ps1.ipynb").st_mtime == past  # seen before: unchanged
    assert os.stat(out / "alice" / "ps2.ipynb").st_mtime >= before  # not the claimed date


def test_cli_fetch_repos_prints_a_line_per_notebook_and_refusal(tmp_path):
    host, repos = tmp_path / "host", tmp_path / "repos"
    source = repository(host, "mallory/hw")
    commit(
        source,
        {"ps1.ipynb": NOTEBOOK, "esc\x1b[31m::error::x.ipynb": NOTEBOOK},
        when=1_700_000_000,
        links={"environ.ipynb": "/proc/self/environ"},
    )
    bare_clone(source, repos, "mallory/hw")
    students = _students(tmp_path, "m mallory/hw\n")
    result = CliRunner().invoke(
        main,
        [
            "fetch-repos",
            "--repos",
            str(repos),
            "--students",
            str(students),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "m (mallory/hw): ps1.ipynb, handed in 2023-11-14 22:13:20 UTC",
        "m (mallory/hw): refused 'environ.ipynb': a link: not followed",
        "m (mallory/hw): refused 'esc\\x1b[31m: :error: :x.ipynb': a name with '..', a slash or "
        "a control character, too long, or not UTF-8",
    ]
    bad = CliRunner().invoke(
        main,
        ["fetch-repos", "--repos", str(repos), "--students", str(_students(tmp_path, "nope\n"))],
    )
    assert bad.exit_code == 1
    assert bad.output.strip().endswith("students.txt:1: 'nope' is not a repository (owner/name)")
