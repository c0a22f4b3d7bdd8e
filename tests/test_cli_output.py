"""What the commands print (grader.cli_output), from the library's own result records."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from grader.batch import BatchSummary, Event, Lost, Notice, Running
from grader.batch_watch import BatchWatch, Run
from grader.build import BuiltAssignment
from grader.cli_output import (
    BatchProgress,
    batch_assignments,
    batch_failure,
    batch_line,
    build_lines,
    counts_text,
    duration_text,
    pace_text,
    progress_line,
    progress_note,
    regrade_failure,
    regrade_line,
    regrade_table,
    running_line,
)
from grader.regrade import Change, RegradeSummary

EVENTS = (
    Event("alice", "alice.ipynb", "ps1", "graded", 4.5, 5.0),
    Event("bob", "bob.ipynb", "ps2", "skipped", message="graded before"),
    Event("", "x.ipynb", "", "refused", message="not a notebook\x1b[31m\nat all"),
    Event("carol", "carol.ipynb", "ps1", "failed", message="kernel died\nbadly"),
)


def test_build_lines_say_each_self_check_then_the_total():
    out = Path("release")
    built = [
        BuiltAssignment("ps1", out / "student/ps1.ipynb", out / "solution/ps1.ipynb", 5, 5, 0),
        BuiltAssignment("ps2", Path("s.ipynb"), Path("k.ipynb"), 3, 3, 0, (), 12, 2),
        BuiltAssignment("p2", Path("m.ipynb"), Path("n.ipynb"), 0, 0, 0, manual=3),
    ]
    assert build_lines(built, out) == [
        "ps1: solution 5/5, starter 0 -> release/student/ps1.ipynb, release/solution/ps1.ipynb",
        "ps2: solution 3/3, starter 0 -> s.ipynb, k.ipynb",
        "ps2: 12 students' notebooks -> release/student/ps2; 2 variants self-checked",
        "p2: solution 0/0 (+3 for review), starter 0 -> m.ipynb, n.ipynb",
        "Built 3 assignments in release (hand-outs and grader in release/handout)",
    ]


def test_batch_lines():
    summary = BatchSummary(EVENTS, 2.0)
    assert batch_line(summary) == "1 graded, 1 refused, 1 skipped, 1 failed in 2.0 s (2.00 per s)"
    assert batch_line(BatchSummary((), 0.0)).endswith("in 0.0 s (0.00 per s)")
    assert batch_assignments(summary) == ["ps1", "ps2"]
    assert batch_failure(summary) == (
        "1 submissions could not be run (kernel died badly); run the batch again to retry them"
    )
    assert batch_failure(BatchSummary(EVENTS[:3], 1.0)) == ""


def test_plain_progress_is_a_clean_line_a_submission():
    assert [progress_line(i, 4, e) for i, e in enumerate(EVENTS, 1)] == [
        "[1/4] alice ps1 graded 4.5/5",
        "[2/4] bob ps2 skipped",
        "[3/4] ? ? refused: not a notebook at all",
        "[4/4] carol ps1 failed: kernel died badly",
    ]
    long = Event("a" * 400, "x", "ps1", "graded", 1, 1)
    assert len(progress_line(1, 1, long)) == 300
    lines = []
    with BatchProgress(3, lines.append, terminal=False) as shown:  # no bar
        shown.event(EVENTS[0])
        shown.event(EVENTS[2])
        shown.event(EVENTS[3])
    assert lines == [
        "[1/3] alice ps1 graded 4.5/5",
        "[2/3] ? ? refused: not a notebook at all",
        "[3/3] carol ps1 failed: kernel died badly",
    ]
    assert shown.failed == 1  # carol; the refused file is refused, not failed
    assert counts_text(shown.watch) == "1 graded, 1 refused, 1 failed"
    assert counts_text(BatchWatch(3)) == "0 graded"


def test_the_running_line_names_the_longest_first_and_marks_them():
    runs = [
        Run("carol", "ps1", 41.2, "over the cell limit?"),
        Run("dave\x1b[2J\nx", "ps1", 12, "slow"),
        Run("alice", "ps1", 3.4),
    ]
    assert running_line(runs) == (
        "running: carol 41 s (over the cell limit?), dave x 12 s (slow), alice 3 s"
    )
    many = [Run(f"s{i}", "ps1", 10.0 - i) for i in range(9)]
    assert running_line(many, shown=2) == "running: s0 10 s, s1 9 s, +7 more"
    assert running_line([]) == ""
    assert len(running_line([Run("x" * 500, "ps1", 1)] * 20)) <= 300
    assert [duration_text(s) for s in (0.4, 59.4, 125, 3725)] == [
        "0 s",
        "59 s",
        "2 min 05 s",
        "1 h 02 min",
    ]
    assert pace_text(BatchWatch(3)) == "ETA ?"  # no run has ended: no guess


def test_a_lost_worker_a_run_again_and_a_notice_are_a_line_each():
    runs = (Running("alice", "alice.ipynb", "ps1"), Running("bob\x1b]8;;x", "b.ipynb", "ps2"))
    lost = Lost("tcp://10.0.0.7:8789", runs, left=3)
    assert progress_note(lost) == (
        "worker tcp://10.0.0.7:8789 was lost with 2 submissions; the scheduler runs them "
        "again elsewhere: alice (ps1), bob8;;x (ps2)"
    )
    assert progress_note(Lost("tcp://w", runs[:1], left=0)) == (
        "worker tcp://w was lost with 1 submission, and no worker is left: they wait for one "
        "(Ctrl-C stops the batch): alice (ps1)"
    )
    again = Running("alice", "alice.ipynb", "ps1", "tcp://10.0.0.8:8789", again=True)
    assert progress_note(again) == (
        "alice ps1 runs again on tcp://10.0.0.8:8789 (its worker was lost)"
    )
    assert progress_note(Running("alice", "alice.ipynb", "ps1")) == ""  # a start: no line
    assert progress_note(Notice("WARNING: no sandbox\n")) == "WARNING: no sandbox"
    lines = []
    with BatchProgress(2, lines.append, every=0, terminal=False) as shown:
        shown.progress(Running("alice", "alice.ipynb", "ps1"))
        shown.progress(Running("carol", "carol.ipynb", "ps1"))
        shown.progress(lost)
        assert [r.student for r in shown.watch.running()] == ["carol"]  # alice waits
        shown.progress(again)
        assert {r.student for r in shown.watch.running()} == {"alice", "carol"}
    assert lines == [progress_note(lost), progress_note(again)]


def test_without_a_terminal_a_plain_line_says_who_runs_every_few_seconds():
    import threading

    lines = []
    said = threading.Event()

    def echo(line):
        lines.append(line)
        if line.startswith("running:"):
            said.set()

    with BatchProgress(3, echo, every=0.02, terminal=False) as shown:
        shown.progress(Running("alice", "alice.ipynb", "ps1"))
        shown.progress(Running("bob", "bob.ipynb", "ps1"))
        shown.event(Event("bob", "bob.ipynb", "ps1", "graded", 1, 1))
        assert said.wait(2)
    assert lines[0] == "[1/3] bob ps1 graded 1/1"
    assert re.fullmatch(r"running: alice 0 s; 1/3 done, [\d.]+/s, ETA \d+ s", lines[1])
    assert len(shown.running_now()) < 300  # never cut where it says how far the batch is


def test_regrade_table_and_lines():
    changes = (
        Change("alice\x1b[2J", "ps1", "alice.ipynb", 4, 5, (("t-num", 1.0, 2.0),)),
        Change("bob", "ps1", "bob.ipynb", 3, 0, ()),
    )
    summary = RegradeSummary(changes, 1, 1, 0, 0.5, 2)
    table = regrade_table(summary)
    assert table is not None
    console = Console(file=io.StringIO(), width=100)
    console.print(table)
    text = console.file.getvalue()
    assert "Scores that changed" in text and "\x1b" not in text
    assert "t-num" in text and "(total)" in text
    assert regrade_table(RegradeSummary((), 0, 0, 0, 0.0)) is None
    assert regrade_line(summary, Path("reports")) == (
        "2 submissions changed; 1 judged again from their stored runs, 1 run again, in 0.5 s; "
        "2 reports written again (reports)"
    )
    assert regrade_failure(summary) == ""
    assert regrade_failure(RegradeSummary((), 0, 0, 3, 0.0)) == (
        "3 submissions could not be run again; they keep their grading (run grade regrade "
        "again to retry)"
    )
