"""``policies.reveal_hidden: after_due``: a report names a function's hidden cases once the
assignment is closed to everyone (its due date, every extension and the late cutoff past),
and never before, nor when late work earns points with no cutoff."""

from __future__ import annotations

import datetime as dt

import pytest
from test_function_kind import SOLUTION, TOPIC

from grader.errors import SpecError
from grader.execute.records import ExportRecord
from grader.frozen import freeze
from grader.inkernel.calls import call_all
from grader.judge.context import JudgeContext
from grader.judge.function import check_function
from grader.key import AnswerKey
from grader.kinds import export_spec
from grader.solutions import reference_calls
from grader.spec import load_course

PAST = "2020-01-01T00:00:00+00:00"
FUTURE = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).isoformat()


def _course(write_course, tmp_path, due, policies="", extensions=None):
    text = (
        f"name: Squares\nassignments:\n  - id: sq\n    title: S\n    due: {due}\n"
        f"    exercises: [squares, sos]\n{policies}"
    )
    path = write_course(tmp_path, course=text, exercises={"sq": TOPIC}, solutions={"sq": SOLUTION})
    if extensions is not None:
        (path.parent / "extensions.csv").write_text(extensions)
    return load_course(path)


def _message(course):
    """The message of a squares that never raises, judged now."""
    ex = course.exercises["squares"]
    spec = export_spec(ex.answer.kind, ex.answer.name, ex.answer.options)
    calls = call_all(lambda n: [i * i for i in range(1, n + 1)], spec["cases"], 1.0)
    key = AnswerKey("sq", course.fingerprint, freeze(reference_calls(course, "sq")))
    checks = check_function(
        ex, key.values["squares"], ExportRecord({"calls": calls}), JudgeContext(course, key)
    )
    return next(c.message for c in checks if not c.passed)


HIDDEN = "fails for a hidden case: expected ValueError (n must be at least 1), got []"
SHOWN = "fails for the hidden case squares(0): expected ValueError (n must be at least 1), got []"


@pytest.mark.parametrize(
    "due,policies,extensions,message",
    [
        (PAST, "", None, HIDDEN),  # the course did not ask
        (PAST, "policies:\n  reveal_hidden: after_due\n", None, SHOWN),
        (FUTURE, "policies:\n  reveal_hidden: after_due\n", None, HIDDEN),
        # one student may still hand it in: an extension
        (PAST, "policies:\n  reveal_hidden: after_due\n  extensions: extensions.csv\n",
         f"student,assignment,due\nann,sq,{FUTURE}\n", HIDDEN),
        (PAST, "policies:\n  reveal_hidden: after_due\n  extensions: extensions.csv\n",
         "student,assignment,due\nann,sq,2020-01-03\n", SHOWN),
        # late work earns points for ever: never closed
        (PAST, "policies:\n  reveal_hidden: after_due\n  late: {penalty: 10}\n", None, HIDDEN),
        (PAST, "policies:\n  reveal_hidden: after_due\n  late: {penalty: 10, cutoff: 3}\n",
         None, SHOWN),
    ],
)  # fmt: skip
def test_hidden_cases_are_named_once_the_assignment_is_closed(
    write_course, tmp_path, due, policies, extensions, message
):
    assert _message(_course(write_course, tmp_path, due, policies, extensions)) == message


def test_a_cutoff_still_ahead_keeps_them_hidden(write_course, tmp_path):
    recent = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat()
    policies = "policies:\n  reveal_hidden: after_due\n  late: {penalty: 10, cutoff: 3}\n"
    assert _message(_course(write_course, tmp_path, recent, policies)) == HIDDEN


def test_an_unknown_reveal_rule_is_refused(write_course, tmp_path):
    with pytest.raises(SpecError, match="expected never or after_due"):
        _course(write_course, tmp_path, PAST, "policies:\n  reveal_hidden: always\n")
