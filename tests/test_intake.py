"""Submissions from folders and LMS zips: who they belong to, and every bad file a row."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile

import pytest

from grader.errors import SubmissionError
from grader.intake import collect, read_roster

NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def by_source(found):
    return {s.source: s for s in found}


def test_a_folder_of_students(tmp_path):
    (tmp_path / "carol").mkdir()
    (tmp_path / "alice.ipynb").write_bytes(NB)
    (tmp_path / "carol" / "ps1.ipynb").write_bytes(NB + b" ")
    (tmp_path / "bob.pdf").write_bytes(b"%PDF")
    (tmp_path / ".DS_Store").write_bytes(b"x")
    found = by_source(collect(tmp_path, tmp_path / "copies"))
    assert set(found) == {"alice.ipynb", "carol/ps1.ipynb", "bob.pdf"}
    alice = found["alice.ipynb"]
    digest = hashlib.sha256(NB).hexdigest()
    assert (alice.student, alice.problem, alice.sha256) == ("alice", "", digest)
    # what is graded is the batch's own copy of the bytes hashed, named by their hash
    assert alice.path == tmp_path / "copies" / f"{digest}.ipynb" and alice.read() == NB
    assert alice.submitted_at.tzinfo is not None
    assert found["carol/ps1.ipynb"].student == "carol"
    assert (found["bob.pdf"].student, found["bob.pdf"].problem) == ("bob", "not a notebook (.pdf)")
    assert sorted(p.name for p in (tmp_path / "copies").iterdir()) == sorted(
        f"{s.sha256}.ipynb" for s in found.values() if not s.problem)


def write_zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 12, 8, 10, 30, 0))
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)


def test_a_canvas_zip_with_bad_entries(tmp_path):
    archive = tmp_path / "submissions.zip"
    write_zip(archive, {
        "doejane_12345_777_ps1.ipynb": NB,
        "roejohn_LATE_67890_778_ps1-1.ipynb": NB + b"\n",
        "../../escape.ipynb": NB,
        "/etc/passwd.ipynb": NB,
        "mallory.ipynb": b"0" * (60 * 2**20),  # past the size cap, squeezed small
        "bomb.ipynb": b"\0" * (40 * 2**20),  # 40 MiB of zeros: a compression ratio of ~1000
        "__MACOSX/._doejane_12345_777_ps1.ipynb": b"junk",
        "notes.txt": b"hi",
    })
    into = tmp_path / "copies"
    found = by_source(collect(archive, into))
    jane = found["submissions.zip!doejane_12345_777_ps1.ipynb"]
    assert jane.student == "12345" and not jane.problem
    assert jane.submitted_at == dt.datetime(2026, 12, 8, 10, 30, tzinfo=dt.timezone.utc)
    assert jane.path == into / f"{jane.sha256}.ipynb" and jane.path.read_bytes() == NB
    assert found["submissions.zip!roejohn_LATE_67890_778_ps1-1.ipynb"].student == "67890"
    assert "unsafe path" in found["submissions.zip!../../escape.ipynb"].problem
    assert "unsafe path" in found["submissions.zip!/etc/passwd.ipynb"].problem
    assert "MiB a notebook may be" in found["submissions.zip!mallory.ipynb"].problem
    assert "zip bomb" in found["submissions.zip!bomb.ipynb"].problem
    assert found["submissions.zip!notes.txt"].problem == "not a notebook (.txt)"
    assert not any("MACOSX" in k for k in found)
    # only content-addressed copies of accepted notebooks were written, and only in `into`
    assert sorted(p.name for p in into.iterdir()) == sorted(
        f"{s.sha256}.ipynb" for s in found.values() if not s.problem)
    assert not (tmp_path / "escape.ipynb").exists()


def test_two_files_for_one_student_are_two_attempts_and_say_so(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice.ipynb").write_bytes(NB)
    (tmp_path / "alice" / "ps1.ipynb").write_bytes(NB + b" ")
    found = collect(tmp_path, tmp_path / "copies")
    assert [s.student for s in found] == ["alice", "alice"]
    assert all("2 files for alice in this batch" in s.notices[0] for s in found)


def test_roster_and_fixed_time(tmp_path):
    (tmp_path / "Jane Doe.ipynb").write_bytes(NB)
    roster = tmp_path / "roster.csv"
    roster.write_text("name,student\nJane Doe,s001\n")
    when = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    (s,) = [x for x in collect(tmp_path, tmp_path / "c", read_roster(roster), when)
            if x.source.endswith(".ipynb")]
    assert (s.student, s.submitted_at) == ("s001", when)
    (bad,) = [x for x in collect(tmp_path, tmp_path / "c") if x.source.endswith(".ipynb")]
    assert bad.student == "" and "use --roster" in bad.problem


def test_what_cannot_be_collected_at_all(tmp_path):
    with pytest.raises(SubmissionError, match="no such file"):
        collect(tmp_path / "nothing", tmp_path)
    (tmp_path / "x.txt").write_text("plain")
    with pytest.raises(SubmissionError, match="neither a folder nor a zip"):
        collect(tmp_path / "x.txt", tmp_path)
    write_zip(tmp_path / "empty.zip", {})
    assert collect(tmp_path / "empty.zip", tmp_path / "c") == []
    bad_roster = tmp_path / "r.csv"
    bad_roster.write_text("a name,not an id!\n")
    with pytest.raises(SubmissionError, match="not a usable student id"):
        read_roster(bad_roster)
