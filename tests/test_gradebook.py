"""The gradebook: a real SQLite file, all-or-nothing gradings, safe with two writers."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3

import pytest

from grader.errors import GraderError
from grader.execute.records import Executed, ExportRecord, StepOutcome
from grader.gradebook import Gradebook, Graded
from grader.intake import Submission
from grader.results import CheckResult, ExerciseResult, GradeResult, StudentError

WHEN = dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.timezone.utc)


def submission(tmp_path, student="alice", content=b'{"x": 1}'):
    path = tmp_path / f"{student}-{len(content)}.ipynb"
    path.write_bytes(content)
    import hashlib

    return Submission(
        student, f"{student}.ipynb", path, hashlib.sha256(content).hexdigest(), len(content), WHEN
    )


def graded(score=2.0):
    result = GradeResult(
        "C",
        "ps1",
        "alice.ipynb",
        score,
        3.0,
        1.5,
        (
            ExerciseResult("e1", "One", 2.0, min(score, 2.0), "passed", (CheckResult("v", True),)),
            ExerciseResult(
                "e2",
                "Two",
                1.0,
                max(0.0, score - 2.0),
                "error",
                error=StudentError("ValueError", "no", "tb"),
            ),
        ),
        graded_at="2026-12-08T10:05:00+00:00",
        log="kernel output",
    )
    executed = Executed(
        (StepOutcome("ok"), StepOutcome("ok"), StepOutcome("error", StudentError("E", "v", "t"))),
        {"e1": ExportRecord({"ok": True, "value": [1, 2]}, weights=b"\x00weights")},
    )
    return Graded(result, executed, "course-fp", "run-fp")


def test_record_and_read_back(tmp_path):
    s = submission(tmp_path)
    with Gradebook(tmp_path / "gb.db") as gb:
        grading = gb.record(s, "ps1", graded())
        (attempt,) = gb.attempts("ps1")
        assert (attempt.student, attempt.score, attempt.max_score, attempt.status) == (
            "alice",
            2.0,
            3.0,
            "graded",
        )
        assert attempt.exercises == {"e1": 2.0, "e2": 0.0}
        assert attempt.submitted_at == WHEN
        assert gb.current("alice", "ps1", s.sha256).grading == grading
        result = gb.result(grading)
        assert result.exercises[1].error == StudentError("ValueError", "no", "tb")
        assert result.log == ""  # the kernel's own output is not kept in the record
        content, executed = gb.stored_run(grading)
        assert content == s.path.read_bytes()
        assert executed.exports["e1"] == ExportRecord({"ok": True, "value": [1, 2]}, b"\x00weights")
        assert executed.outcomes[2] == StepOutcome("error", StudentError("E", "v", "t"))


def test_a_new_grading_replaces_the_current_one(tmp_path):
    s = submission(tmp_path)
    with Gradebook(tmp_path / "gb.db") as gb:
        gb.record(s, "ps1", graded(1.0))
        gb.record(s, "ps1", graded(3.0))
        assert [a.score for a in gb.attempts()] == [3.0]
        assert gb.db.execute("SELECT count(*) FROM gradings").fetchone()[0] == 2  # history kept
        refused = Submission("bob", "bob.pdf", problem="not a notebook (.pdf)")
        gb.record(refused, "ps1", "not a notebook (.pdf)")
        bob = gb.current("bob", "ps1", "refused:bob.pdf")
        assert (bob.status, bob.reason, bob.score) == ("refused", "not a notebook (.pdf)", 0.0)


def test_a_failure_while_recording_leaves_nothing_half_written(tmp_path, monkeypatch):
    s = submission(tmp_path)
    with Gradebook(tmp_path / "gb.db") as gb:
        bad = graded()
        broken = Executed(bad.executed.outcomes, {"e1": ExportRecord({"x": object()})})
        with pytest.raises(TypeError):  # the exports cannot be stored: after the grading row
            gb.record(s, "ps1", Graded(bad.result, broken, "c", "r"))
        assert gb.attempts() == []
        for table in ("gradings", "exercise_results", "exports", "submissions"):
            assert gb.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def _writer(path, student, count):
    from pathlib import Path

    from grader.intake import Submission

    with Gradebook(Path(path)) as gb:
        for i in range(count):
            gb.record(
                Submission(student, f"{student}{i}", sha256=f"{student}-{i}"),
                "ps1",
                "refused for the test",
            )


def test_two_processes_write_one_gradebook(tmp_path):
    path = tmp_path / "gb.db"
    Gradebook(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(path), name, 40)) for name in "ab"]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    with Gradebook(path) as gb:
        assert len(gb.attempts("ps1")) == 80


def test_files_that_are_not_gradebooks(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(GraderError, match="not a usable gradebook"):
        Gradebook(junk)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema', '99')")
    with pytest.raises(GraderError, match="another version"):
        Gradebook(other)


def test_a_version_1_gradebook_gains_the_flags_and_keeps_its_gradings(tmp_path):
    from dataclasses import replace

    from grader.gradebook import SCHEMA

    old = tmp_path / "v1.db"
    v1 = "\n".join(
        line for line in SCHEMA.splitlines() if "flags" not in line and "copied_from" not in line
    ).replace("outcomes TEXT,", "outcomes TEXT")
    with sqlite3.connect(old) as db:
        db.executescript(v1)
        db.execute("INSERT INTO meta VALUES ('schema', '1')")
        db.execute("INSERT INTO students VALUES ('alice')")
        db.execute(
            "INSERT INTO submissions (student, assignment, sha256, source, received_at)"
            " VALUES ('alice', 'ps1', 'abc', 'alice.ipynb', '2026-01-01')"
        )
        db.execute(
            "INSERT INTO gradings (submission, current, status, reason, score, max_score,"
            " course_fingerprint, run_fingerprint, graded_at) VALUES"
            " (1, 1, 'graded', '', 5, 10, 'c', 'r', '2026-01-01')"
        )
    with Gradebook(old) as gb:
        (attempt,) = gb.attempts("ps1")
        assert (attempt.score, attempt.flags, attempt.copied_from) == (5, (), "")
        flagged = graded()
        flagged = replace(
            flagged, result=replace(flagged.result, flags=("copying?",), copied_from="bob")
        )
        gb.record(submission(tmp_path, "carol"), "ps1", flagged)
        found = {a.student: a for a in gb.attempts("ps1")}
        assert (found["carol"].flags, found["carol"].copied_from) == (("copying?",), "bob")
    with sqlite3.connect(old) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == ("4",)
