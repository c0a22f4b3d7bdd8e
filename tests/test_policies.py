"""Late penalties, extensions and which attempt counts (pure), and their course.yaml form."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import COURSE_YAML

from grader import load_course
from grader.errors import SpecError
from grader.policies import Extension, LatePolicy, Policies, finals, penalised
from grader.results import Attempt

UTC = dt.timezone.utc
DUE = dt.datetime(2030, 1, 31, 23, 59, tzinfo=UTC)
TEN_A_DAY = LatePolicy(penalty=10, per="day", grace_minutes=15, cutoff_days=3)


def attempt(student, score, when, grading=1, status="graded"):
    return Attempt(
        grading, student, "a1", f"{student}.ipynb", "sha", when, status, "", score, 5.0, "", "", ""
    )


@pytest.mark.parametrize(
    "late,score,note",
    [
        (dt.timedelta(0), 5.0, ""),
        (dt.timedelta(minutes=15), 5.0, ""),  # within the grace period
        (dt.timedelta(minutes=16), 4.5, "late by 16 min: -10% (1 day)"),
        (dt.timedelta(days=1, minutes=1), 4.0, "late by 1 d 1 min: -20% (2 days)"),
        (dt.timedelta(days=3), 3.5, "late by 3 d 0 min: -30% (3 days)"),
        (dt.timedelta(days=3, minutes=1), 0.0, "late by 3 d 1 min: past the 3-day cut-off"),
    ],
)
def test_late_penalty(late, score, note):
    assert penalised(5.0, late, TEN_A_DAY) == (score, note)


def test_hourly_penalty_never_goes_below_zero():
    hourly = LatePolicy(penalty=30, per="hour")
    assert penalised(5.0, dt.timedelta(hours=1, minutes=30), hourly)[0] == pytest.approx(2.0)
    assert penalised(5.0, dt.timedelta(hours=9), hourly)[0] == 0.0


def test_last_or_best_attempt_counts_and_extensions_move_the_due_date():
    tries = [
        attempt("alice", 3.0, DUE - dt.timedelta(days=1), grading=1),
        attempt("alice", 5.0, DUE + dt.timedelta(days=1, hours=1), grading=2),  # 2 days late
        attempt("bob", 5.0, DUE + dt.timedelta(hours=2), grading=3),
    ]
    due, maximum = {"a1": DUE}, {"a1": 5.0}
    last = {
        f.student: f
        for f in finals(tries, due, maximum, Policies(late=TEN_A_DAY), students=["carol"])
    }
    assert (last["alice"].raw, last["alice"].score, last["alice"].attempts) == (5.0, 4.0, 2)
    assert last["alice"].penalty == 1.0
    assert last["carol"].score == 0 and last["carol"].note == "nothing handed in"
    best = {
        f.student: f for f in finals(tries, due, maximum, Policies(late=TEN_A_DAY, attempts="best"))
    }
    assert best["alice"].score == 4.0  # 3 on time < 5 - 20%
    extended = Policies(
        late=TEN_A_DAY, extensions=(Extension("Bob", "a1", DUE + dt.timedelta(days=1), "x", 2),)
    )  # by default, a line names its student by id (in any case)
    assert {f.student: f for f in finals(tries, due, maximum, extended)}["bob"].score == 5.0


def test_a_refused_file_counts_as_nothing():
    (final,) = finals(
        [attempt("dave", 0, DUE, status="refused")], {"a1": DUE}, {"a1": 5.0}, Policies()
    )
    assert final.attempt is None and final.score == 0.0


def test_a_final_says_its_status_in_the_words_of_the_exports():
    from dataclasses import replace

    tries = [
        attempt("alice", 5.0, DUE),
        attempt("bob", 5.0, DUE + dt.timedelta(minutes=10), grading=2),  # within the grace
        attempt("carol", 5.0, DUE + dt.timedelta(hours=2), grading=3),
        replace(attempt("erin", 4.0, DUE + dt.timedelta(hours=2), grading=4), awaiting=("x",)),
        replace(attempt("dave", 0, DUE, grading=5, status="refused"), reason="too large"),
    ]
    later = DUE + dt.timedelta(days=3)
    policies = Policies(
        late=TEN_A_DAY, extensions=(Extension("gina", "a1", DUE + dt.timedelta(days=7), "x", 2),)
    )
    rows = finals(tries, {"a1": DUE}, {"a1": 5.0}, policies, students=["fay", "gina"], now=later)
    assert {f.student: f.status for f in rows} == {
        "alice": "graded",
        "bob": "graded",
        "carol": "late",
        "dave": "refused: too large",
        "erin": "late, awaiting review",
        "fay": "not submitted",
        "gina": "not due yet (due 2030-02-07 23:59 UTC)",  # her extension runs on
    }
    gina = next(f for f in rows if f.student == "gina")
    assert gina.open_until == DUE + dt.timedelta(days=7) and gina.score == 0
    import io

    from rich.console import Console

    from grader.report.classes import finals_table

    out = io.StringIO()
    finals_table(rows, Console(file=out, width=160, color_system=None))
    (line,) = [ln for ln in out.getvalue().splitlines() if "│ gina" in ln]
    assert "– / 5" in line and "not due yet (due 2030-02-07 23:59 UTC)" in line
    assert "a1: 6 students" in out.getvalue()  # gina's open row is no 0 of the class
    after = finals(
        tries, {"a1": DUE}, {"a1": 5.0}, policies, students=["gina"], now=DUE + dt.timedelta(days=8)
    )
    assert [f.status for f in after if f.student == "gina"] == ["not submitted"]


def test_policies_in_course_yaml(write_course, tmp_path):
    (tmp_path / "extensions.csv").write_text(
        "student,assignment,due\nalice,a1,+2\nbob,a1,2030-02-05\n"
    )
    text = COURSE_YAML + (
        "policies:\n  late: {penalty: 10, per: hour, grace: 5, cutoff: 2}\n"
        "  attempts: best\n  extensions: extensions.csv\n"
    )
    course = load_course(write_course(tmp_path, course=text))
    p = course.policies
    assert p.late == LatePolicy(penalty=10, per="hour", grace_minutes=5, cutoff_days=2)
    assert p.attempts == "best"
    path = str(tmp_path / "extensions.csv")
    assert p.extensions == (
        Extension("alice", "a1", DUE + dt.timedelta(days=2), path, 2),
        Extension("bob", "a1", dt.datetime(2030, 2, 5, 23, 59, tzinfo=UTC), path, 3),
    )


@pytest.mark.parametrize(
    "policies,message",
    [
        ("  late: {per: week}\n", "policies.late.per: expected day or hour"),
        ("  late: {penalty: 150}\n", "policies.late.penalty: expected a percentage"),
        ("  attempts: first\n", "policies.attempts: expected best or last"),
        ("  extensions: nowhere.csv\n", "cannot read the extensions"),
        ("  lateness: {}\n", "policies.lateness: unknown field"),
    ],
)
def test_bad_policies_are_spec_errors(write_course, tmp_path, policies, message):
    text = COURSE_YAML + "policies:\n" + policies
    with pytest.raises(SpecError, match=message):
        load_course(write_course(tmp_path, course=text))
