"""The ``manual`` kind: YAML (cell, rubric, points equal to the rubric's), the hand-out (a
markdown or code answer cell, "reviewed by a person", no check cell), assembly (the answer
cell taken as text, never run), judging ("awaiting review", its points in neither the score
nor the maximum), and what the CLI table, results.json, JUnit and the report show."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from grader.assemble import assemble
from grader.errors import SpecError
from grader.execute.records import Executed, ExportRecord, StepOutcome
from grader.judge.record import judged
from grader.key import AnswerKey
from grader.render import render_assignment
from grader.report import render_html
from grader.report.formats import junit_xml, results_json, summary_text, terminal_table
from grader.results import GradeResult
from grader.spec import load_course

COURSE = "name: Proofs\nassignments:\n  - id: p1\n    title: P\n    exercises: [p-word, p-derive, p-use]\n"
TOPIC = """\
topic: p
title: Proofs
setup: ""
exercises:
  - id: p-word
    title: A word
    points: 1
    prompt: Write the word.
    starter: word = ...
    answer: {kind: text, name: word}
  - id: p-derive
    title: Derive the recurrence
    points: 3
    prompt: Derive it.
    starter: |
      YOUR ANSWER HERE
    answer:
      kind: manual
      name: derivation
      cell: markdown
      rubric:
        - {item: "States the recurrence T(n) = 2T(n/2) + n", points: 1}
        - {item: "Solves it", points: 2, comment: "Theta(n log n)"}
  - id: p-use
    title: A use case
    points: 2
    prompt: Write code that uses it.
    starter: "# your code"
    answer:
      kind: manual
      name: use_case
      cell: code
      rubric:
        - {item: "Calls it", points: 2}
"""
SOLUTION = """\
# %% p-word
word = "stride"

# %% p-derive
# T(n) = 2T(n/2) + n, so T(n) = n log n

# %% p-use
print(1)
"""
HOSTILE = "<script>alert('x')</script> $T(n) = 2T(n/2) + n$"


@pytest.fixture
def course(write_course, tmp_path):
    return load_course(
        write_course(tmp_path, course=COURSE, exercises={"p": TOPIC}, solutions={"p": SOLUTION})
    )


def test_the_yaml_is_read(course):
    derive = course.exercises["p-derive"].answer
    assert derive.kind == "manual" and derive["cell"] == "markdown"
    assert [r["points"] for r in derive["rubric"]] == [1.0, 2.0]
    assert derive["rubric"][1] == {"item": "Solves it", "points": 2.0, "comment": "Theta(n log n)"}
    assert derive["rubric"][0]["comment"] == ""
    assert course.exercises["p-use"].answer["cell"] == "code"


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("    points: 3\n", "    points: 4\n", "4 points, but the rubric's items give 3"),
        ("cell: markdown", "cell: latex", "'latex' is not one of: markdown, code"),
        ("{item: \"Solves it\", points: 2, comment: \"Theta(n log n)\"}",
         "{item: \"Solves it\", points: 0}", "expected a positive number"),
        ("{item: \"Solves it\", points: 2, comment: \"Theta(n log n)\"}",
         "{item: \"Solves it\", points: 2, weight: 1}", "unknown field"),
        ("      rubric:\n        - {item: \"Calls it\", points: 2}\n", "      rubric: []\n",
         "at least one rubric item"),
    ],
)  # fmt: skip
def test_a_wrong_rubric_is_refused(write_course, tmp_path, old, new, message):
    assert old in TOPIC
    path = write_course(
        tmp_path,
        course=COURSE,
        exercises={"p": TOPIC.replace(old, new, 1)},
        solutions={"p": SOLUTION},
    )
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_course(path)


def test_the_hand_out_asks_for_a_reviewed_answer(course):
    nb = render_assignment(course, course.assignment("p1"), flavor="handout")
    answers = {
        c.metadata["grader"]["id"]: c for c in nb.cells if c.metadata["grader"]["role"] == "answer"
    }
    assert answers["p-derive"].cell_type == "markdown"
    assert answers["p-derive"].source == "YOUR ANSWER HERE"
    assert answers["p-use"].cell_type == "code"
    checks = [c.source for c in nb.cells if c.metadata["grader"]["role"] == "check"]
    assert "check('p-word')" in checks and not any("p-derive" in c or "p-use" in c for c in checks)
    prompts = [c.source for c in nb.cells if c.metadata["grader"]["role"] == "prompt"]
    assert sum("reviewed by a person" in p for p in prompts) == 2


def test_check_in_the_hand_out_says_a_person_reviews_it(course, tmp_path):
    from grader.handout_release import handout_data
    from grader.inkernel.public import describe

    data = handout_data(course, "p1", AnswerKey("p1", course.fingerprint, {"p-word": "stride"}))
    derive = next(e for e in data["exercises"] if e["id"] == "p-derive")
    line, verdict = describe(derive, {})
    assert (line, verdict) == (
        "p-derive: reviewed by a person after grading: nothing to check here",
        None,
    )


def _submission(course, derive=HOSTILE, use="raise SystemExit  # never run", turn_code=False):
    nb = render_assignment(course, course.assignment("p1"), flavor="student")
    for cell in nb.cells:
        tag = cell.metadata["grader"]
        if tag["role"] == "answer" and tag["id"] == "p-derive":
            cell.source = derive
            if turn_code:
                cell.cell_type = "code"
                cell.outputs, cell.execution_count = [], None
        if tag["role"] == "answer" and tag["id"] == "p-use":
            cell.source = use
        if tag["role"] == "answer" and tag["id"] == "p-word":
            cell.source = 'word = "stride"'
    return nb


def _graded(course, nb):
    assembled = assemble(course, "p1", nb)
    ran = [s for s in assembled.steps]
    exports = {"p-word": ExportRecord({"ok": True, "value": "stride"})}
    executed = Executed(tuple(StepOutcome("ok") for _ in ran), exports)
    key = AnswerKey("p1", course.fingerprint, {"p-word": "stride"})
    return assembled, GradeResult.of(judged(course, "p1", "mine", assembled, executed, key))


def test_manual_answers_are_taken_as_text_never_run(course):
    assembled, result = _graded(course, _submission(course))
    assert {s.exercise for s in assembled.steps if s.role in ("answer", "export")} == {"p-word"}
    assert assembled.manual == {"p-derive": HOSTILE, "p-use": "raise SystemExit  # never run"}
    by_id = {e.id: e for e in result.exercises}
    assert [e.id for e in result.exercises] == ["p-word", "p-derive", "p-use"]
    assert (by_id["p-derive"].status, by_id["p-derive"].answer) == ("awaiting review", HOSTILE)
    assert by_id["p-use"].status == "awaiting review"
    # never counted as 0: neither earned nor possible until reviewed
    assert (result.score, result.max_score, result.awaiting) == (1.0, 1.0, 5.0)


def test_a_markdown_answer_turned_into_code_is_still_read(course):
    _, result = _graded(course, _submission(course, derive="T(n) = n log n", turn_code=True))
    assert result.exercises[1].answer == "T(n) = n log n"


def test_a_missing_manual_answer_is_unanswered(course):
    nb = _submission(course)
    nb.cells = [c for c in nb.cells if c.metadata["grader"].get("id") != "p-use"]
    _, result = _graded(course, nb)
    by_id = {e.id: e for e in result.exercises}
    assert (by_id["p-use"].status, by_id["p-use"].score) == ("missing", 0.0)
    assert (result.max_score, result.awaiting) == (3.0, 3.0)
    assert any("'p-use'" in n for n in result.notices)


def test_what_the_student_and_the_table_are_shown(course):
    _, result = _graded(course, _submission(course))
    out = io.StringIO()
    terminal_table(result, Console(file=out, width=120, color_system=None))
    table = out.getvalue()
    assert "awaiting review" in table and "– / 3" in table
    assert "Total: 1 / 1 + 5 awaiting review (100%)" in table
    assert "1 / 1 points + 5 awaiting review" in summary_text(result)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["awaiting"] == 5.0 and data["exercises"][1]["status"] == "awaiting review"
    assert GradeResult.from_dict(data) == result
    gradescope = results_json(result)
    assert (gradescope["score"], gradescope["max_score"]) == (1.0, 1.0)
    assert "+ 5 awaiting review" in gradescope["output"]
    assert gradescope["extra_data"] == {"awaiting_review": 5.0}
    test = gradescope["tests"][1]
    assert (test["score"], test["max_score"], test["status"]) == (0, 0, "passed")
    assert "reviewed by a person" in test["output"]
    assert junit_xml(result).count("awaiting review by a person") == 2
    from grader.ci import github_annotations, markdown_summary

    summary = markdown_summary(result)
    assert (
        "**1 / 1 points + 5 awaiting review**" in summary
        and "| awaiting review | – / 3 |" in summary
    )
    notes = github_annotations(result, "p1.ipynb")
    assert len(notes) == 1 and notes[0].endswith("::1 / 1 points + 5 awaiting review")
    page = render_html(result)
    assert "&lt;script&gt;alert(" in page and "<script>alert" not in page
    assert "+ 5 awaiting review" in page


@pytest.mark.kernel
def test_build_and_grade_a_course_with_manual_answers(course, tmp_path):
    from shipped import with_answers

    from grader.build import build
    from grader.handout import grade_with_handout
    from grader.options import GradeOptions
    from grader.pipeline import grade

    release = tmp_path / "release"
    options = GradeOptions(sandbox="optional", release=release)
    build(course, release, options)  # its self-check: a manual answer is no failure
    for folder in ("handout", "student"):  # the rubric's guidance is for the reviewer only
        texts = [p.read_bytes() for p in (release / folder).rglob("*") if p.is_file()]
        assert texts and not any(b"Theta(n log n)" in t for t in texts)
    answers = {
        "p-word": 'word = "stride"',
        "p-derive": HOSTILE,
        "p-use": "import os\nos._exit(3)  # would kill the kernel if it ran",
    }
    student = with_answers(release / "student" / "p1.ipynb", answers, tmp_path / "mine.ipynb")
    result = grade(student, course, options=options)
    assert [e.status for e in result.exercises] == ["passed", "awaiting review", "awaiting review"]
    assert (result.score, result.max_score, result.awaiting) == (1.0, 1.0, 5.0)
    assert result.exercises[2].answer.startswith("import os")
    handout = release / "handout" / "p1"
    mine = with_answers(handout / "p1.ipynb", answers, handout / "mine.ipynb")
    here = grade_with_handout(mine, handout / "grade-handout.json")
    assert [e.status for e in here.exercises][1:] == ["awaiting review", "awaiting review"]
    assert (here.checked, here.max_score, here.awaiting) == (0, 1.0, 5.0)  # p-word: pending


@pytest.mark.kernel
def test_a_class_graded_reviewed_and_regraded_shows_the_reviews(course, tmp_path):
    from shipped import with_answers

    from grader.batch import BatchOptions, grade_batch
    from grader.build import build
    from grader.gradebook import Gradebook
    from grader.intake import collect
    from grader.options import GradeOptions
    from grader.regrade import regrade
    from grader.report.formats import report_paths

    release = course.root / "release"
    build(course, release, GradeOptions(sandbox="optional", release=release))
    folder = tmp_path / "class"
    folder.mkdir()
    student = release / "student" / "p1.ipynb"
    with_answers(
        student, {"p-word": 'word = "stride"', "p-derive": HOSTILE}, folder / "alice.ipynb"
    )
    with_answers(student, {"p-derive": "T(n) = n log n"}, folder / "bob.ipynb")
    found = collect(folder, tmp_path / "copies")
    reports = tmp_path / "reports"
    batch = BatchOptions(workers=1, assignment="p1", reports=reports)
    with Gradebook(tmp_path / "gb.db") as gb:
        grade_batch(course, found, gb, GradeOptions(sandbox="optional"), batch)
        attempts = {a.student: a for a in gb.attempts("p1")}
        assert attempts["alice"].awaiting == ("p-derive", "p-use")
        gb.review(
            attempts["alice"].grading, "p-derive", points=3, based_on=0, reviewer="ta1",
            items=("Solves it",), comment="<b>neat</b>",
        )  # fmt: skip
        summary = regrade(course, gb, GradeOptions(sandbox="optional"), "p1", batch)
        assert (summary.rejudged, summary.changes) == (2, ())  # the review is kept
        alice = next(a for a in gb.attempts("p1") if a.student == "alice")
    assert (alice.score, alice.exercises["p-derive"], alice.awaiting) == (4.0, 3.0, ("p-use",))
    html, results = report_paths(reports, "p1", "alice", alice.sha256)
    page = html.read_text()
    assert (
        "✓ Solves it" in page
        and "&lt;b&gt;neat&lt;/b&gt;" in page
        and "+ 2 awaiting review" in page
    )
    data = json.loads(results.read_text())
    assert (data["score"], data["max_score"], data["extra_data"]) == (
        4.0,
        4.0,
        {"awaiting_review": 2.0},
    )
