"""A whole class at once, with real kernels: exact scores in the gradebook, resumable runs,
the command line, and the Dask path equal to the local one."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from shipped import with_answers

from grader.batch import BatchOptions, grade_batch
from grader.gradebook import Gradebook
from grader.intake import collect
from grader.options import GradeOptions

pytestmark = pytest.mark.kernel

OPTIONS = GradeOptions(limits={"cell_timeout": 5})


def make_class(course, folder):
    """A generated class of ps1: right, blank, partial, hostile, broken, and a resubmission."""
    release = course.root / "release"
    folder.mkdir()
    solution, starter = release / "solution" / "ps1.ipynb", release / "student" / "ps1.ipynb"
    (folder / "alice.ipynb").write_bytes(solution.read_bytes())
    (folder / "bob.ipynb").write_bytes(starter.read_bytes())
    with_answers(solution, {"corr1d-same": "corr_same = [0] * 9"}, folder / "carol.ipynb")
    with_answers(solution, {"corr1d-valid": "while True:\n    pass"}, folder / "dave.ipynb")
    with_answers(solution, {"corr1d-stride": "import os\nos._exit(1)"}, folder / "frank.ipynb")
    (folder / "erin.ipynb").write_text("{ this is not json")
    (folder / "gina").mkdir()
    (folder / "gina" / "ps1.ipynb").write_bytes(starter.read_bytes())
    (folder / "gina.ipynb").write_bytes(solution.read_bytes())
    return {"alice": 30, "bob": 0, "carol": 28, "dave": 29, "frank": 28, "erin": 0}


def scores(gradebook):
    return {(a.student, a.source): (a.status, a.score) for a in gradebook.attempts("ps1")}


def test_a_class_into_the_gradebook_then_only_what_changed(built_course, tmp_path):
    course, _ = built_course
    expected = make_class(course, tmp_path / "class")
    found = collect(tmp_path / "class", tmp_path / "copies")
    events = []
    with Gradebook(tmp_path / "gb.db") as gb:
        summary = grade_batch(
            course,
            found,
            gb,
            OPTIONS,
            BatchOptions(workers=2, assignment="ps1", reports=tmp_path / "reports"),
            events.append,
        )
        got = scores(gb)
    assert summary.count("graded") == 7 and summary.count("refused") == 1
    for student, score in expected.items():
        assert got[(student, f"{student}.ipynb")][1] == score, student
    assert got[("erin", "erin.ipynb")][0] == "refused"
    assert got[("gina", "gina.ipynb")][1] == 30 and got[("gina", "gina/ps1.ipynb")][1] == 0
    assert len(events) == 8 and {e.status for e in events} == {"graded", "refused"}
    reports = sorted(p.name for p in (tmp_path / "reports" / "ps1").iterdir())
    assert len(reports) == 14 and all(r.startswith((*expected, "gina")) for r in reports)

    # a re-run grades nothing; a changed file is a new attempt, graded alone
    with_answers(
        course.root / "release" / "solution" / "ps1.ipynb",
        {"corr1d-same": "corr_same = [5, 10, 15, 20, 25, 30, 35, 40, 25]"},
        tmp_path / "class" / "carol.ipynb",
    )
    again = collect(tmp_path / "class", tmp_path / "copies")
    with Gradebook(tmp_path / "gb.db") as gb:
        summary = grade_batch(course, again, gb, OPTIONS, BatchOptions(workers=2))
        assert summary.count("graded") == 1 and summary.count("skipped") == 7
        carol = [a for a in gb.attempts("ps1") if a.student == "carol"]
        assert [a.score for a in carol] == [28, 30]


def test_the_command_resumes_after_being_killed(built_course, tmp_path):
    course, _ = built_course
    make_class(course, tmp_path / "class")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "class").rglob("*.ipynb")):
            zf.write(path, path.relative_to(tmp_path / "class").as_posix())
        zf.writestr("../../outside.ipynb", "{}")
    db = tmp_path / "gb.db"
    command = [
        sys.executable,
        "-m",
        "grader",
        "batch",
        str(archive),
        "--course",
        str(course.path),
        "--db",
        str(db),
        "--out",
        str(tmp_path / "out"),
        "--assignment",
        "ps1",
        "--workers",
        "1",
        "--cell-timeout",
        "5",
    ]
    scratch = tmp_path / "tmp"  # the runs' temporary folder: what the killed one leaves
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill it once it has recorded a few gradings
        time.sleep(0.2)
        if db.exists() and _count(db, "SELECT count(*) FROM gradings") >= 3:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    # the kill came while gradings were pending: the command had not ended, and the gradebook
    # holds some of the 9 entries, not all
    assert process.returncode == -signal.SIGKILL
    recorded = Counter(_students(db))
    first = sum(recorded.values())
    assert 3 <= first < 9, recorded
    # nothing half-written: every graded row has its per-exercise results
    assert (
        _count(
            db,
            "SELECT count(*) FROM gradings g WHERE status='graded' AND NOT EXISTS "
            "(SELECT 1 FROM exercise_results r WHERE r.grading = g.id)",
        )
        == 0
    )
    left = sorted(scratch.glob("grade-*"))
    assert left, "a kill -9 leaves the run's folders (and, as root, their tmpfs mounts)"
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    assert f"removed {len(left)} folders a killed run left in {scratch}" in done.stderr
    assert not list(scratch.glob("grade-*"))
    assert str(scratch) not in Path("/proc/self/mounts").read_text()
    # nor any kernel the killed run had started (they ran on in their sandboxes)
    running = subprocess.run(["pgrep", "-f", str(scratch)], capture_output=True, text=True)
    assert running.stdout.split() == []
    assert f"{first} skipped" in done.stdout
    assert _count(db, "SELECT count(*) FROM gradings") == 9  # 8 notebooks and the bad entry
    assert _count(db, "SELECT count(*) FROM gradings WHERE current=1") == 9
    assert not (tmp_path / "outside.ipynb").exists()
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("[")]
    assert len(lines) == 9 and "unsafe path" in done.stdout
    # the resumed run skipped exactly what was recorded before the kill, and did the rest
    said = [ln.split()[1:4:2] for ln in lines]  # "[i/9] student assignment status ..."
    assert Counter(student for student, status in said if status == "skipped") == recorded
    assert Counter(student for student, status in said if status != "skipped") == (
        Counter(_students(db)) - recorded
    )
    assert "Gradebook:" in done.stdout and "alice" in done.stdout


def _count(db, query):
    with sqlite3.connect(db, timeout=30) as connection:
        return connection.execute(query).fetchone()[0]


def _students(db):
    """The student of every grading in the gradebook (a student may have several; '?', as the
    command prints it, for an entry that names none)."""
    with sqlite3.connect(db, timeout=30) as connection:
        query = "SELECT s.student FROM gradings g JOIN submissions s ON g.submission = s.id"
        return [row[0] or "?" for row in connection.execute(query)]


def test_the_dask_path_gives_the_same_gradebook(built_course, tmp_path):
    distributed = pytest.importorskip("distributed")
    course, _ = built_course
    make_class(course, tmp_path / "class")
    found = collect(tmp_path / "class", tmp_path / "copies")
    with Gradebook(tmp_path / "local.db") as gb:
        grade_batch(course, found, gb, OPTIONS, BatchOptions(workers=2, assignment="ps1"))
        local = scores(gb)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        batch = BatchOptions(assignment="ps1", scheduler=cluster.scheduler_address)
        with Gradebook(tmp_path / "dask.db") as gb:
            grade_batch(course, found, gb, OPTIONS, batch)
            assert scores(gb) == local
            assert gb.db.execute("SELECT count(*) FROM gradings").fetchone()[0] == 8


def test_a_dask_worker_killed_mid_batch_loses_and_duplicates_nothing(built_course, tmp_path):
    distributed = pytest.importorskip("distributed")
    course, _ = built_course
    make_class(course, tmp_path / "class")
    found = collect(tmp_path / "class", tmp_path / "copies")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        killed = []

        def kill_one(event):
            if not killed:  # after the first result: a worker dies while others run
                pids = client.run(os.getpid)
                address, pid = sorted(pids.items())[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(address)

        batch = BatchOptions(assignment="ps1", scheduler=cluster.scheduler_address)
        with Gradebook(tmp_path / "gb.db") as gb:
            summary = grade_batch(course, found, gb, OPTIONS, batch, kill_one)
            assert killed
            assert summary.count("graded") + summary.count("refused") == 8
            assert gb.db.execute("SELECT count(*) FROM gradings").fetchone()[0] == 8
            assert len(gb.attempts("ps1")) == 8
            assert summary.count("failed") == 0
