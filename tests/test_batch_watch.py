"""A running batch's state (grader.batch_watch), on a clock the test sets: refused files are
refused, the ETA follows the rate the runs really had, and a run that takes too long is
marked."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time

import pytest

from grader.batch import Event, Running
from grader.batch_watch import OVER_LIMIT, BatchWatch


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run(student):
    return Running(student, f"{student}.ipynb", "ps1")


def end(student, status="graded"):
    return Event(student, f"{student}.ipynb", "ps1", status, 1.0, 1.0)


def test_refused_and_skipped_files_are_counted_apart_and_not_in_the_rate():
    clock = Clock()
    watch = BatchWatch(60, clock=clock)
    for i in range(30):  # a resumed batch: 30 skipped and 10 refused files end at once
        watch.ended(end(f"s{i}", "skipped"))
    for i in range(10):
        watch.ended(end(f"r{i}", "refused"))
    assert (watch.count("skipped"), watch.count("refused"), watch.count("failed")) == (30, 10, 0)
    assert watch.seen == 40 and watch.rate() is None and watch.eta() is None
    # two workers, each run 10 s: the first two end at 10 s, two more run
    watch.started(run("a"))
    watch.started(run("b"))
    clock.now += 10
    watch.ended(end("a"))
    watch.ended(end("b", "failed"))
    watch.started(run("c"))
    watch.started(run("d"))
    assert watch.count("failed") == 1 and watch.count("graded") == 1
    # 2 runs in 10 s: 0.2 a second; the 18 left take 90 s (two at a time, 10 s each)
    assert watch.rate() == pytest.approx(0.2)
    assert watch.eta() == pytest.approx(90.0)


def test_the_rate_follows_the_last_runs_and_falls_while_nothing_ends():
    clock = Clock()
    watch = BatchWatch(100, clock=clock)
    for i in range(30):  # one at a time, 1 s each
        watch.started(run(f"a{i}"))
        clock.now += 1
        watch.ended(end(f"a{i}"))
    assert watch.rate() == pytest.approx(1.0) and watch.eta() == pytest.approx(70.0)
    for i in range(20):  # then 5 s each: the rate is that of the last 20 runs
        watch.started(run(f"b{i}"))
        clock.now += 5
        watch.ended(end(f"b{i}"))
    assert watch.rate() == pytest.approx(0.2) and watch.eta() == pytest.approx(250.0)
    clock.now += 100  # a stall: nothing ends, the rate falls, the ETA grows
    assert watch.rate() == pytest.approx(20 / 200) and watch.eta() == pytest.approx(500.0)


def test_the_running_submissions_longest_first_and_the_long_ones_marked():
    clock = Clock()
    watch = BatchWatch(10, cell_limit=30.0, clock=clock)
    assert watch.running() == []
    watch.started(run("hung"))
    clock.now += 1
    for name in ("a", "b", "c"):
        watch.started(run(name))
        clock.now += 1
        watch.ended(end(name))  # each 1 s
    watch.started(run("new"))
    clock.now += 1
    runs = watch.running()
    assert [(r.student, r.seconds, r.mark) for r in runs] == [("hung", 5.0, "slow"), ("new", 1, "")]
    clock.now += 30
    assert [r.mark for r in watch.running()] == [OVER_LIMIT, OVER_LIMIT]
    watch.started(Running("new", "new.ipynb", "ps1", "tcp://w2", again=True))
    again = watch.running()[1]  # run again on another worker: its time starts afresh
    assert (again.student, again.seconds, again.mark, again.worker) == ("new", 0.0, "", "tcp://w2")


def test_no_mark_before_any_run_has_ended_and_none_under_two_seconds():
    clock = Clock()
    watch = BatchWatch(3, clock=clock)
    watch.started(run("a"))
    clock.now += 50
    assert watch.running()[0].mark == ""  # nothing to compare with (and no cell limit)
    watch.started(run("b"))
    clock.now += 0.1
    watch.ended(end("b"))
    watch.started(run("c"))
    clock.now += 1.5  # 15 times the median, but a second and a half is not slow
    assert [r.mark for r in watch.running()] == ["slow", ""]


# --- real batches: the tiny course of conftest, on this machine and on a Dask cluster ---------

SLOW = "import time\ntime.sleep(4)\nx = 6 * 7"  # t-num, right, after 4 s


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The small course of conftest, built (each kernel imports only math)."""
    from conftest import _write_course

    from grader import load_course
    from grader.build import build

    root = tmp_path_factory.mktemp("tiny")
    course = load_course(_write_course(root / "course"))
    build(course, course.root / "release")
    return course


def a_class(course, folder, answers):
    """A folder of notebooks, one per student: the solution with ``answers[student]`` (a
    t-num answer cell), the solution itself for None."""
    from shipped import with_answers

    solution = course.root / "release" / "solution" / "a1.ipynb"
    folder.mkdir()
    for student, answer in answers.items():
        if answer is None:
            (folder / f"{student}.ipynb").write_bytes(solution.read_bytes())
        else:
            with_answers(solution, {"t-num": answer}, folder / f"{student}.ipynb")
    return folder


def batch_command(course, folder, tmp_path, *extra):
    return [
        sys.executable,
        "-m",
        "grader",
        "batch",
        str(folder),
        "--course",
        str(course.path),
        "--db",
        str(tmp_path / "gb.db"),
        "--out",
        str(tmp_path / "out"),
        "--assignment",
        "a1",
        *extra,
    ]


@pytest.mark.kernel
def test_each_run_is_heard_as_it_begins_and_a_refused_file_never_runs(tiny, tmp_path):
    from grader.batch import BatchOptions, grade_batch
    from grader.gradebook import Gradebook
    from grader.intake import collect
    from grader.options import GradeOptions

    folder = a_class(tiny, tmp_path / "class", {"alice": None, "bob": "x = 41"})
    (folder / "erin.ipynb").write_text("{ not json")
    heard = []
    with Gradebook(tmp_path / "gb.db") as gb:
        summary = grade_batch(
            tiny,
            collect(folder, tmp_path / "copies"),
            gb,
            GradeOptions(limits={"cell_timeout": 10}),
            BatchOptions(workers=2, assignment="a1"),
            heard.append,
            heard.append,
        )
    assert summary.count("graded") == 2 and summary.count("refused") == 1
    order = [(type(h).__name__, h.student) for h in heard]
    for student in ("alice", "bob"):  # each began (here: no worker, not again), then ended
        assert order.index(("Running", student)) < order.index(("Event", student))
    assert ("Running", "erin") not in order
    assert all(h.worker == "" and not h.again for h in heard if isinstance(h, Running))


@pytest.mark.kernel
def test_a_scheduler_without_workers_is_one_line_and_exit_1_within_seconds(tiny, tmp_path):
    distributed = pytest.importorskip("distributed")
    folder = a_class(tiny, tmp_path / "class", {"alice": None})
    with distributed.LocalCluster(
        n_workers=0, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as cluster:
        address = cluster.scheduler_address
        began = time.monotonic()
        done = subprocess.run(
            batch_command(tiny, folder, tmp_path, "--scheduler", address),
            capture_output=True,
            text=True,
            timeout=120,
        )
        took = time.monotonic() - began
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"Error: the Dask scheduler at {address} has no workers (none joined in 5 s): start "
        f"some (dask worker {address} ...), then run the batch again\n"
    )
    assert took < 30  # the courier's start, and 5 s for a worker to join


@pytest.mark.kernel
@pytest.mark.parametrize("workers", [2, 1])
def test_a_lost_worker_and_the_run_it_had_again_are_reported(tiny, tmp_path, workers):
    """Alice's worker is killed while she runs: a line says so (and, with one worker, that
    none is left until its nanny starts it again), then one that she runs again."""
    distributed = pytest.importorskip("distributed")
    from grader.batch import BatchOptions, Lost, grade_batch
    from grader.cli_output import progress_note
    from grader.gradebook import Gradebook
    from grader.intake import collect
    from grader.options import GradeOptions

    folder = a_class(tiny, tmp_path / "class", {"alice": SLOW, "bob": None, "carol": "x = 41"})
    found = collect(folder, tmp_path / "copies")
    heard, killed = [], []
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):

        def kill_alices_worker(progress):
            heard.append(progress)
            if isinstance(progress, Running) and progress.student == "alice" and not killed:
                pid = client.run(os.getpid)[progress.worker]  # the worker that runs her now
                os.kill(pid, signal.SIGKILL)
                killed.append(progress.worker)

        batch = BatchOptions(assignment="a1", scheduler=cluster.scheduler_address)
        with Gradebook(tmp_path / "gb.db") as gb:
            summary = grade_batch(
                tiny, found, gb, GradeOptions(), batch, on_progress=kill_alices_worker
            )
            assert {a.student: a.score for a in gb.attempts("a1")} == {
                "alice": 5,
                "bob": 5,
                "carol": 3,
            }
    assert summary.count("graded") == 3 and summary.count("failed") == 0
    # one line for the lost worker: what it had (alice, and what it had queued), then one
    # for her run begun again, on another worker (the other, or the one started again)
    lost = [h for h in heard if isinstance(h, Lost)]
    assert len(lost) == 1 and lost[0].worker == killed[0] and lost[0].left == workers - 1
    assert "alice" in {r.student for r in lost[0].runs}
    again = [h for h in heard if isinstance(h, Running) and h.again]
    assert [(h.student, h.worker != killed[0]) for h in again] == [("alice", True)]
    assert heard.index(lost[0]) < heard.index(again[0])
    names = ", ".join(f"{r.student} (a1)" for r in lost[0].runs)
    count = len(lost[0].runs)
    said = "; the scheduler runs them again elsewhere"
    if workers == 1:
        said = ", and no worker is left: they wait for one (Ctrl-C stops the batch)"
    assert progress_note(lost[0]) == (
        f"worker {killed[0]} was lost with {count} submission{'s' if count > 1 else ''}"
        f"{said}: {names}"
    )
    assert (
        progress_note(again[0]) == f"alice a1 runs again on {again[0].worker} (its worker was lost)"
    )


HUNG = ("s020", "s050", "s080")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
BAR = re.compile(r"grading .*?(\d+)/100 (\d+) graded")
RUN = re.compile(r"(\S+) (\d+) s(?: \(([^)]*)\))?")


def read_under_a_terminal(command, cwd, seconds=240):
    """Run ``command`` on a pseudo-terminal of 160 columns, reading all it writes while it
    runs; its exit code and output (escape codes removed), a line per redraw."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160"}
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, start_new_session=True
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:  # EIO: the command ended and closed the terminal
                    break
                if not data:
                    break
                out += data
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = ANSI.sub("", out.decode("utf-8", errors="replace"))
    return code, [line for line in re.split(r"[\r\n]+", text) if line.strip()]


@pytest.mark.kernel
def test_a_class_of_100_with_three_hung_notebooks_shows_them_running_while_others_end(
    tiny, tmp_path
):
    """Under a pseudo-terminal, 100 submissions on 2 workers, three of which hang in a cell
    (4 s cell limit): while each hangs, the line under the bar names it, running for
    seconds and marked, and the count of graded submissions goes on rising."""
    answers = {f"s{i:03d}": None for i in range(100)}
    answers.update({student: "import time\ntime.sleep(600)" for student in HUNG})
    folder = a_class(tiny, tmp_path / "class", answers)
    command = batch_command(
        tiny, folder, tmp_path, "--workers", "2", "--cell-timeout", "4", "--timeout", "5"
    )
    code, lines = read_under_a_terminal(command, tmp_path)
    assert code == 0, "\n".join(lines[-30:])
    # each redraw: the bar (how many ended, counted apart), then the submissions running
    seen_at: dict[str, list[tuple[int, int, str]]] = {}  # student -> (ended, seconds, mark)
    ended = 0
    for line in lines:
        if bar := BAR.search(line):
            ended = int(bar.group(1))
            assert ended == int(bar.group(2)) and "failed" not in line  # all graded
        elif line.startswith("running: "):
            for student, seconds, mark in RUN.findall(line[len("running: ") :]):
                seen_at.setdefault(student, []).append((ended, int(seconds), mark))
    for student in HUNG:
        long = [(n, mark) for n, seconds, mark in seen_at.get(student, []) if seconds >= 3]
        assert long, (student, seen_at.get(student), lines[-5:])
        assert {mark for _, mark in long} <= {"slow", "over the cell limit?"}
        assert all(mark for _, mark in long)
        # while it was shown hanging, the others went on: more submissions ended
        assert max(n for n, _ in long) - min(n for n, _ in long) >= 3, (student, long)
    for student, shown in seen_at.items():  # only the hung ones ran long
        if student not in HUNG:
            assert max(seconds for _, seconds, _ in shown) < 3, (student, shown)
    assert any("100 graded, 0 refused, 0 skipped, 0 failed in" in line for line in lines)
    with sqlite3.connect(tmp_path / "gb.db") as db:
        query = (
            "SELECT s.student, g.score FROM gradings g JOIN submissions s ON g.submission = s.id"
        )
        scores = dict(db.execute(query).fetchall())
    assert len(scores) == 100 and all(scores[s] < 5 for s in HUNG)
    assert all(score == 5 for s, score in scores.items() if s not in HUNG)
