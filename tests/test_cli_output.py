"""What the commands print (grader.cli_output), from the library's own result records."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from grader.batch import BatchSummary, Event
from grader.build import BuiltAssignment
from grader.cli_output import (
    BatchProgress,
    batch_assignments,
    batch_failure,
    batch_line,
    build_lines,
    progress_line,
    regrade_failure,
    regrade_line,
    regrade_table,
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
    with BatchProgress(2, lines.append) as shown:  # not a terminal: no bar
        shown.event(EVENTS[0])
        shown.event(EVENTS[3])
    assert lines == ["[1/2] alice ps1 graded 4.5/5", "[2/2] carol ps1 failed: kernel died badly"]
    assert shown.failed == 1


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
