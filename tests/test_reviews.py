"""Reviews in the gradebook (``grader.reviews``): a reviewed manual answer counts, the latest
review is the score, a regrade of an unchanged answer keeps its reviews, overrides need a
reason, and two reviewers (two connections) never overwrite each other unseen."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import replace

import pytest

from grader.errors import GraderError
from grader.execute.records import Executed, StepOutcome
from grader.gradebook import SCHEMA, Gradebook, Graded
from grader.intake import Submission
from grader.results import ExerciseResult, GradeResult
from grader.reviews import StaleReview, history, text_answer

TEXT = "T(n) = 2T(n/2) + n, so T(n) = Theta(n log n)"


def submission(tmp_path, student="alice", content=b'{"x": 1}'):
    path = tmp_path / f"{student}-{hashlib.sha256(content).hexdigest()[:8]}.ipynb"
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    return Submission(student, f"{student}.ipynb", path, digest, len(content), None)


def graded(text=TEXT, auto=1.0):
    result = GradeResult(
        "C",
        "ps1",
        "alice.ipynb",
        auto,
        2.0,
        0.5,
        (
            ExerciseResult("auto", "Auto", 2.0, auto, "partial" if auto < 2 else "passed"),
            ExerciseResult("proof", "Proof", 3.0, 0.0, "awaiting review", answer=text),
        ),
        awaiting=3.0,
    )
    return Graded(result, Executed((StepOutcome("ok"),)), "course-fp", "run-fp")


def test_an_answer_awaits_review_then_counts(tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        grading = gb.record(submission(tmp_path), "ps1", graded())
        (a,) = gb.attempts("ps1")
        assert (a.score, a.max_score, a.awaiting, a.exercises) == (
            1.0,
            2.0,
            ("proof",),
            {"auto": 1.0, "proof": 0.0},
        )
        review = gb.review(
            grading,
            "proof",
            points=2,
            based_on=0,
            reviewer="ta1",
            items=("States it",),
            comment="solve it",
        )
        (a,) = gb.attempts("ps1")
        assert (a.score, a.max_score, a.awaiting, a.exercises["proof"]) == (3.0, 5.0, (), 2.0)
        result = gb.result(grading)
        proof = result.exercises[1]
        assert (result.score, result.max_score, result.awaiting) == (3.0, 5.0, 0.0)
        assert (proof.status, proof.score, proof.answer) == ("partial", 2.0, TEXT)
        assert proof.review["items"] == ["States it"] and proof.review["comment"] == "solve it"
        assert proof.review["reviewer"] == "ta1" and proof.review["reviewed_at"]
        assert gb.result(grading, reviewed=False).exercises[1].status == "awaiting review"
        # the latest review is the score
        gb.review(grading, "proof", points=3, based_on=review.id, reviewer="ta2")
        assert gb.attempts("ps1")[0].score == 4.0
        answer = text_answer(TEXT)
        assert [r.points for r in history(gb.db, "alice", "ps1", "proof", answer)] == [2, 3]


def test_a_stale_review_is_refused_with_a_clear_message(tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        grading = gb.record(submission(tmp_path), "ps1", graded())
        first = gb.review(grading, "proof", points=1, based_on=0, reviewer="ta1")
        with pytest.raises(StaleReview, match=r"reviewed meanwhile \(by ta1 at .*reload"):
            gb.review(grading, "proof", points=3, based_on=0, reviewer="ta2")
        assert gb.attempts("ps1")[0].exercises["proof"] == 1.0  # nothing written
        gb.review(grading, "proof", points=3, based_on=first.id, reviewer="ta2")
        assert gb.attempts("ps1")[0].exercises["proof"] == 3.0


def test_two_reviewers_at_once_on_two_connections(tmp_path):
    path = tmp_path / "gb.db"
    with Gradebook(path) as gb:
        grading = gb.record(submission(tmp_path), "ps1", graded())
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def save(who: str) -> None:
        with Gradebook(path) as gb:  # a connection each, as two review pages have
            start.wait()
            try:
                gb.review(grading, "proof", points=1, based_on=0, reviewer=who)
                outcomes.append("saved")
            except StaleReview:
                outcomes.append("stale")

    threads = [threading.Thread(target=save, args=(f"ta{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["saved", "stale"]
    with Gradebook(path) as gb:
        assert len(history(gb.db, "alice", "ps1", "proof", text_answer(TEXT))) == 1


def test_a_regrade_keeps_the_reviews_of_an_unchanged_answer(tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        s = submission(tmp_path)
        grading = gb.record(s, "ps1", graded())
        gb.review(grading, "proof", points=3, based_on=0, reviewer="ta1")
        gb.review(grading, "auto", points=2, based_on=0, reviewer="ta1", reason="right idea")
        again = gb.record(s, "ps1", graded())  # a regrade: a new grading of the same file
        assert again != grading
        (a,) = gb.attempts("ps1")
        assert (a.grading, a.score, a.max_score) == (again, 5.0, 5.0)
        # another file, another answer: awaiting review again, the override gone
        other = submission(tmp_path, content=b'{"x": 2}')
        gb.record(other, "ps1", graded(text=TEXT + " (edited)"))
        latest = max(gb.attempts("ps1"), key=lambda a: a.grading)
        assert (latest.score, latest.awaiting) == (1.0, ("proof",))
        # another file with the same manual answer keeps its review, not the override
        same = submission(tmp_path, content=b'{"x": 3}')
        gb.record(same, "ps1", graded())
        latest = max(gb.attempts("ps1"), key=lambda a: a.grading)
        assert (latest.score, latest.exercises) == (4.0, {"auto": 1.0, "proof": 3.0})


def test_an_override_needs_a_reason_and_says_it(tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        grading = gb.record(submission(tmp_path), "ps1", graded())
        with pytest.raises(GraderError, match="an override needs a reason"):
            gb.review(grading, "auto", points=2, based_on=0, reviewer="ta1")
        gb.review(grading, "auto", points=2, based_on=0, reviewer="ta1", reason="typo in key")
        auto = gb.result(grading).exercises[0]
        assert (auto.status, auto.score) == ("passed", 2.0)
        assert auto.message == "score set by ta1: typo in key"
        assert auto.review["reason"] == "typo in key"
        assert gb.attempts("ps1")[0].score == 2.0


@pytest.mark.parametrize(
    "exercise,points,reviewer,message",
    [
        ("proof", 4, "ta1", "4 points is not between 0 and 3"),
        ("proof", -1, "ta1", "is not between 0"),
        ("nope", 1, "ta1", "no exercise 'nope'"),
        ("proof", 1, "  ", "the reviewer's name"),
    ],
)
def test_a_wrong_review_is_refused_and_nothing_is_written(
    tmp_path, exercise, points, reviewer, message
):
    with Gradebook(tmp_path / "gb.db") as gb:
        grading = gb.record(submission(tmp_path), "ps1", graded())
        with pytest.raises(GraderError, match=message):
            gb.review(grading, exercise, points=points, based_on=0, reviewer=reviewer)
        assert gb.db.execute("SELECT COUNT(*) FROM reviews").fetchone() == (0,)
        assert not gb.db.in_transaction


def test_a_version_3_gradebook_gains_the_reviews(tmp_path):
    old = tmp_path / "v3.db"
    v3 = SCHEMA.partition("CREATE TABLE IF NOT EXISTS reviews")[0].replace(
        "    answer TEXT NOT NULL DEFAULT '',   -- a manual answer's id (grader.reviews.text_answer)\n",
        "",
    )
    assert "reviews" not in v3 and "answer TEXT" not in v3
    with sqlite3.connect(old) as db:
        db.executescript(v3)
        db.execute("INSERT INTO meta VALUES ('schema', '3')")
    with Gradebook(old) as gb:
        grading = gb.record(submission(tmp_path), "ps1", graded())
        gb.review(grading, "proof", points=3, based_on=0, reviewer="ta1")
        assert gb.attempts("ps1")[0].score == 4.0
    with sqlite3.connect(old) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == ("4",)


def test_a_reviewed_result_round_trips(tmp_path):
    with Gradebook(tmp_path / "gb.db") as gb:
        grading = gb.record(submission(tmp_path), "ps1", graded())
        gb.review(grading, "proof", points=3, based_on=0, reviewer="ta1", comment="<b>ok</b>")
        result = gb.result(grading)
    assert GradeResult.from_dict(result.to_dict()) == result
    assert replace(result.exercises[1], review=None).review is None


# --- the exports and the report, with a real course's results ------------------------------


@pytest.fixture
def reviewed_class(write_course, tmp_path, monkeypatch):
    """The manual course of test_manual_kind; alice reviewed (and overridden), bob not."""
    from test_manual_kind import COURSE, SOLUTION, TOPIC, _graded, _submission

    from grader.spec import load_course

    monkeypatch.chdir(tmp_path)
    course = load_course(
        write_course(tmp_path, course=COURSE, exercises={"p": TOPIC}, solutions={"p": SOLUTION})
    )
    gb = Gradebook(tmp_path / "gb.db")
    gradings = {}
    for student in ("alice", "bob"):
        _, result = _graded(course, _submission(course, derive=f"<i>{student}</i> proof"))
        run = Graded(result, Executed((StepOutcome("ok"),)), course.fingerprint, "run")
        s = submission(tmp_path, student, student.encode())
        gradings[student] = gb.record(s, "p1", run)
    rubric = [r["item"] for r in course.exercises["p-derive"].answer["rubric"]]
    gb.review(
        gradings["alice"], "p-derive", points=1, based_on=0, reviewer="ta1",
        items=(rubric[0],), comment="=SUM(A1) not solved",
    )  # fmt: skip
    gb.review(gradings["alice"], "p-word", points=0.5, based_on=0, reviewer="ta1", reason="typo")
    yield course, gb, gradings
    gb.close()


def test_the_csv_says_awaiting_review_and_the_reviews(reviewed_class):
    import csv
    import io

    from grader.gradebook_exports import export

    course, gb, _ = reviewed_class
    text = export(course, gb, "csv", out="-").text
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(text))}
    alice, bob = rows["alice"], rows["bob"]
    assert (alice["p-word"], alice["p-derive"], alice["p-use"]) == ("0.5", "1", "awaiting review")
    assert (bob["p-derive"], bob["score"], alice["score"]) == ("awaiting review", "1", "1.5")
    assert alice["reviews"].startswith("p-word: 0.5 / 1 by ta1 (override: typo)")
    assert '[States the recurrence T(n) = 2T(n/2) + n] "=SUM(A1) not solved"' in alice["reviews"]
    assert bob["reviews"] == ""
    # points awaiting review are out of max as out of score, and said in a column of their own
    assert (alice["max"], alice["awaiting review"]) == ("4", "2")
    assert (bob["max"], bob["awaiting review"]) == ("1", "5")


def test_gradescope_and_the_report_show_scores_items_and_comments(reviewed_class, tmp_path):
    from grader.gradebook_exports import export
    from grader.report import render_html

    course, gb, gradings = reviewed_class
    folder = export(course, gb, "gradescope", out=tmp_path / "gs").target
    alice = json.loads((folder / "alice.results.json").read_text())
    assert (alice["score"], alice["max_score"]) == (1.5, 4.0)  # p-use awaits: not counted
    derive = alice["tests"][1]
    assert (derive["score"], derive["max_score"], derive["status"]) == (1.0, 3.0, "failed")
    assert "[x] States the recurrence" in derive["output"]
    assert "Comment: =SUM(A1) not solved" in derive["output"]
    assert "score set by ta1: typo" in alice["tests"][0]["output"]
    assert "+ 2 awaiting review" in alice["output"]
    page = render_html(gb.result(gradings["alice"]))
    assert "✓ States the recurrence" in page and "=SUM(A1) not solved" in page
    assert "&lt;i&gt;alice&lt;/i&gt; proof" in page and "<i>alice</i>" not in page


def test_the_class_table_says_what_awaits_review(reviewed_class):
    import io

    from rich.console import Console

    from grader.finals import class_finals
    from grader.report.classes import finals_table

    course, gb, _ = reviewed_class
    out = io.StringIO()
    finals_table(class_finals(course, gb).rows, Console(file=out, width=140, color_system=None))
    lines = {
        line.split()[1]: line
        for line in out.getvalue().splitlines()
        if "│ alice" in line or "│ bob" in line
    }
    # out of what is scored so far, as the CSV and results.json: the rest is awaited, not 0
    assert "1 answer awaiting review" in lines["alice"] and "1.5 / 4 + 2 awaiting" in lines["alice"]
    assert "2 answers awaiting review" in lines["bob"] and "1 / 1 + 5 awaiting" in lines["bob"]
