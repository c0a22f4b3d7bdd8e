"""Reading a class's files: once each, never through a link, within a cap of files per
student, in memory that grows with the files (not their square), and what is graded is what
was hashed and timed. No kernel: the checks stop where a batch plans its jobs."""

from __future__ import annotations

import json
import os
import sqlite3
import tracemalloc

import nbformat

from grader.batch import BatchOptions, _plan
from grader.gradebook import Gradebook
from grader.intake import collect
from grader.options import GradeOptions

NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def many(folder, count, student="alice", same=False):
    """``count`` files of one student (the same bytes: one copy to keep, the disk is slow)."""
    (folder / student).mkdir(parents=True)
    for i in range(count):
        data = NB if same else NB + b" " * (i % 7) + b"\n" * (i // 7)
        (folder / student / f"{i:05}.ipynb").write_bytes(data)


def test_files_past_the_cap_are_one_row_read_not_at_all(tmp_path):
    many(tmp_path / "class", 300)
    (tmp_path / "class" / "bob.ipynb").write_bytes(NB + b"bob")
    found = collect(tmp_path / "class", tmp_path / "copies")  # the default cap: 20
    alice = [s for s in found if s.student == "alice"]
    assert len(alice) == 21 and [s.problem for s in alice[:20]] == [""] * 20
    assert alice[20].path is None and alice[20].source == "alice/00020.ipynb (+279)"
    assert alice[20].problem.startswith(
        "refused unread: 280 files of alice past the 20 a student may hand in to one batch "
        "(--max-files-per-student): alice/00020.ipynb, alice/00021.ipynb, alice/00022.ipynb "
        "and 277 more"
    )
    assert len(list((tmp_path / "copies").iterdir())) == 21  # only what was read was kept
    assert "20 files for alice in this batch (also alice/00001.ipynb" in alice[0].notices[0]
    assert [s.student for s in found if s.student != "alice"] == ["bob"]
    assert len(collect(tmp_path / "class", tmp_path / "copies", max_per_student=3)) == 5


def peak(folder, into):
    tracemalloc.start()
    try:
        found = collect(folder, into, max_per_student=10**6)
        return tracemalloc.get_traced_memory()[1], found
    finally:
        tracemalloc.stop()


def test_memory_grows_with_the_files_not_their_square(tmp_path):
    many(tmp_path / "small", 250, same=True)
    many(tmp_path / "large", 1000, same=True)
    small, _ = peak(tmp_path / "small", tmp_path / "c1")
    large, found = peak(tmp_path / "large", tmp_path / "c2")
    print(f"\nintake peak: {small / 2**20:.2f} MiB for 250 files, {large / 2**20:.2f} for 1000")
    assert large < 6 * small  # linear: 4x (the list in every notice made it 16x)
    assert large < 4 * 2**20
    assert max(len(n) for s in found for n in s.notices) < 300  # a count and a few names


def test_links_fifos_and_linked_folders_are_rows_never_read(tmp_path):
    secret = tmp_path / "solutions.ipynb"
    secret.write_bytes(NB + b" secret")
    folder = tmp_path / "class"
    (folder / "alice").mkdir(parents=True)
    (folder / "alice" / "ps1.ipynb").symlink_to(secret)
    (folder / "bob.ipynb").symlink_to("/dev/zero")
    (folder / "carol").symlink_to(tmp_path)  # a folder of someone else's, linked
    os.mkfifo(folder / "dave.ipynb")
    found = {s.source: s for s in collect(folder, tmp_path / "copies")}
    assert {k: (s.student, s.path) for k, s in found.items()} == {
        "alice/ps1.ipynb": ("alice", None),
        "bob.ipynb": ("bob", None),
        "carol": ("carol", None),
        "dave.ipynb": ("dave", None),
    }
    assert found["alice/ps1.ipynb"].problem == "a link, not a file: it was not followed"
    assert found["carol"].problem == "a link, not a file: it was not followed"
    assert found["dave.ipynb"].problem == "not a regular file: it was not read"
    assert not (tmp_path / "copies").exists()


def answer(value):
    nb = nbformat.v4.new_notebook(metadata={"grader": {"assignment": "a1"}})
    tag = {"grader": {"id": "t-num", "role": "answer"}}
    nb.cells = [nbformat.v4.new_code_cell(f"x = {value}", metadata=tag)]
    return nbformat.writes(nb).encode()


def plan(course, s, gradebook):
    events = []
    planned = _plan(course, s, gradebook, BatchOptions(), GradeOptions(), events.append)
    return planned, events


def test_a_file_replaced_after_collection_is_graded_as_it_was_hashed(small_course, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    original = answer(42)
    (folder / "alice.ipynb").write_bytes(original)
    os.utime(folder / "alice.ipynb", (1_700_000_000, 1_700_000_000))
    (s,) = collect(folder, tmp_path / "copies")
    replaced = tmp_path / "new.ipynb"  # a new file moved over the old one, with a new time
    replaced.write_bytes(answer(0))
    replaced.replace(folder / "alice.ipynb")
    with Gradebook(tmp_path / "gb.db") as gb:
        planned, events = plan(small_course, s, gb)
        assert events == [] and planned is not None
        answers = [st.source for st in planned.assembled.steps if st.role == "answer"]
        assert answers[0] == "x = 42"  # the bytes hashed, not the file there now
        assert s.submitted_at.timestamp() == 1_700_000_000
        gb.record(planned.submission, "a1", "recorded for the test")
    content = sqlite3.connect(tmp_path / "gb.db").execute("SELECT content FROM submissions")
    assert content.fetchone()[0] == original


def test_a_batch_copy_that_changed_is_refused_not_graded(small_course, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.ipynb").write_bytes(answer(42))
    (s,) = collect(folder, tmp_path / "copies")
    s.path.write_bytes(answer(0))
    with Gradebook(tmp_path / "gb.db") as gb:
        planned, events = plan(small_course, s, gb)
        assert planned is None and events[0].status == "refused"
        assert "the batch's copy changed after it was collected" in events[0].message
    stored = sqlite3.connect(tmp_path / "gb.db").execute("SELECT content FROM submissions")
    assert stored.fetchone()[0] is None  # no bytes rather than other bytes


def test_a_roster_student_is_planned_as_the_roster_spells_them(tmp_path, monkeypatch):
    from test_variants import write

    from grader import load_course
    from grader.roster import read_roster, save_roster, variant_of

    monkeypatch.setenv("GRADE_SECRET", "s")
    course = load_course(write(tmp_path))
    save_roster(tmp_path / "release", read_roster(tmp_path / "roster.csv"), b"s")
    folder = tmp_path / "class"
    (folder / "Alice").mkdir(parents=True)
    nb = nbformat.v4.new_notebook(metadata={"grader": {"assignment": "a1"}})
    (folder / "Alice" / "a1.ipynb").write_text(json.dumps(nb))
    (s,) = collect(folder, tmp_path / "copies")  # no class list given: normalised, "alice"
    s = type(s)(**{**s.__dict__, "student": "ALICE"})  # whatever the caller's spelling
    with Gradebook(tmp_path / "gb.db") as gb:
        planned, _ = plan(course, s, gb)
    assert planned.submission.student == planned.identity.student == "alice"
    assert planned.identity.variant == variant_of(b"s", course, "a1", "alice")
    assert planned.course.variant == planned.identity.variant  # her numbers, not ALICE's


def test_the_cap_is_on_the_command_line():
    from click.testing import CliRunner

    from grader.cli import main

    done = CliRunner().invoke(main, ["batch", "--help"])
    assert "--max-files-per-student" in done.output and "default: 20" in done.output
