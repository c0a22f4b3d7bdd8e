"""Notebooks otter-grader made for students, graded as they are: the answer of each question
found from otter's cells (grader.otter_cells), as `grade import otter` names the exercises.
The notebook is otter-grader 7.0.0's own (tests/data/otter/demo-student.ipynb); tampered
copies are edited here."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from grader.assemble import OTTER_CLIENT, assemble
from grader.errors import SubmissionError
from grader.otter_cells import (
    ANSWER_TAG,
    is_otter_notebook,
    otter_assignment,
    otter_claims,
    otter_exercise_id,
)
from grader.spec import load_course

DATA = Path(__file__).parent / "data" / "otter"
STUDENT = DATA / "demo-student.ipynb"
EXAMPLE = Path(__file__).parent.parent / "examples" / "otter-tutorial" / "course.yaml"
ORDER = ["q1", "q2", "q3", "q4", "q5"]


@pytest.fixture(scope="module")
def otter_nb():
    return nbformat.read(str(STUDENT), as_version=4)


@pytest.fixture(scope="module")
def course():
    return load_course(EXAMPLE)


def _edited(nb, edits=(), inserts=()):
    """A copy of the notebook: ``edits`` (index, source) replace sources, then ``inserts``
    (index, cell) go in, from the last index to the first."""
    nb = copy.deepcopy(nb)
    for index, source in edits:
        nb.cells[index].source = source
    for index, cell in sorted(inserts, key=lambda x: -x[0]):
        nb.cells.insert(index, cell)
    return nb


def _claims(nb):
    claims, notices = otter_claims(nb.cells, ORDER)
    return {c.exercise: c.cells for c in claims}, notices


def test_what_otter_writes_is_found_question_by_question(otter_nb):
    # cell 4 answers q1 (cell 5: grader.check("q1")), 7 q2, 10 q3; 13 and 15 lie between
    # <!-- BEGIN QUESTION --> and <!-- END QUESTION -->: q4 and q5, by their order after q3
    assert is_otter_notebook(otter_nb)
    assert _claims(otter_nb) == ({"q1": (4,), "q2": (7,), "q3": (10,), "q4": (13,),
                                  "q5": (15,)}, [])  # fmt: skip
    # otter's own cells: its init (0), the setup (2), the checks and the export (18) are none
    assert otter_nb.cells[0].source.startswith("# Initialize Otter")
    assert otter_nb.cells[18].source.endswith("grader.export(run_tests=True)")


def test_the_assembled_notebook_runs_answers_only_with_an_inert_otter(otter_nb, course):
    nb = _edited(otter_nb, [(4, "def square(x):\n    return x ** 2"),
                            (15, "Mint costs the most.")])  # fmt: skip
    done = assemble(course, "demo", nb)
    assert (done.notices, done.missing) == ((), frozenset())
    answers = {s.exercise: s.source for s in done.steps if s.role == "answer"}
    assert answers == {"q1": "def square(x):\n    return x ** 2"}
    assert done.manual["q5"] == "Mint costs the most." and done.manual["q4"] == "..."
    assert done.steps[1].source == OTTER_CLIENT
    otter_s = ("otter.Notebook(", "grader.check(", "grader.export(", "%matplotlib")
    assert not any(call in s.source for s in done.steps for call in otter_s)


def test_a_grade_notebook_is_not_otter_s(course):
    from grader.render import render_assignment

    nb = render_assignment(course, course.assignment("demo"), "student")
    assert not is_otter_notebook(nb)
    assert OTTER_CLIENT not in [s.source for s in assemble(course, "demo", nb).steps]


def test_cells_a_student_added_around_the_answer(otter_nb):
    code = nbformat.v4.new_code_cell
    nb = _edited(otter_nb, inserts=[
        (3, code("def helper(): ...")),  # before q1's prompt: no answer of q1
        (5, code("square(3)  # trying it")),  # between the answer and the check: part of it
        (17, code("extra = 1")),  # after q5's END comment, tagged by no one: nobody's
    ])  # fmt: skip
    found, notices = _claims(nb)
    assert (found["q1"], found["q5"], notices) == ((5, 6), (17,), [])


def test_otter_s_own_cells_edited_are_not_answers(otter_nb):
    # the init and export cells with code added are no longer otter's, and still no answer
    nb = _edited(otter_nb, [(0, "import otter\ngrader = otter.Notebook('demo.ipynb')\n"
                                "def square(x):\n    return x ** 2"),
                            (18, "square = lambda x: x ** 2\ngrader.export()")])  # fmt: skip
    found, notices = _claims(nb)
    assert (found["q1"], notices) == ((4,), [])
    assert not any(0 in cells or 18 in cells for cells in found.values())


def test_a_check_cell_renamed_to_another_question(otter_nb, course):
    # q1's check now names q2: q2 has two answers, the last (its own) graded; q1 has none
    nb = _edited(otter_nb, [(5, 'grader.check("q2")'), (4, "def square(x):\n    return 1"),
                            (7, "def fiberator():\n    yield 0")])  # fmt: skip
    done = assemble(course, "demo", nb)
    assert done.manual["q2"] == "def fiberator():\n    yield 0"
    assert "q1" in done.missing
    assert list(done.notices) == [
        "2 cells answer 'q2'; the last one was graded",
        "no answer cell for 'q1' was found; it was graded as unanswered",
    ]


def test_two_check_cells_for_one_question_the_last_is_graded(otter_nb, course):
    code = nbformat.v4.new_code_cell
    nb = _edited(otter_nb, [(4, "def square(x):\n    return 0")], inserts=[
        (6, code('grader.check("q1")')), (6, code("def square(x):\n    return x * x"))])  # fmt: skip
    done = assemble(course, "demo", nb)
    answers = {s.exercise: s.source for s in done.steps if s.role == "answer"}
    assert answers["q1"] == "def square(x):\n    return x * x"
    assert list(done.notices) == ["2 cells answer 'q1'; the last one was graded"]


@pytest.mark.parametrize(
    "source,notice",
    [
        ('grader.check("q9")', "cell 6 checks 'q9', which is not an exercise of this "
                               "assignment; the cells before it were ignored"),
        ('grader.check("q1")\ngrader.check("q2")', "cell 6 checks 2 questions ('q1', 'q2'); "
                                                   "the cells before it answer none of them"),
    ],
)  # fmt: skip
def test_a_check_cell_that_names_no_single_exercise(otter_nb, source, notice):
    found, notices = _claims(_edited(otter_nb, [(5, source)]))
    assert "q1" not in found and notices == [notice]
    assert found["q2"] == (7,)  # the next question is not shifted


def test_nameless_answers_that_cannot_be_told_apart(otter_nb):
    # q4's END comment deleted (and q5's BEGIN with it): one pair for q4 and q5
    nb = _edited(otter_nb, [(14, "**Question 5:** What do you notice about the bar plot?")])
    found, notices = _claims(nb)
    assert "q4" not in found and "q5" not in found
    assert notices == ["1 answers without a check cell (from cells 14) for 2 questions "
                       "(q4, q5): which is which cannot be told; they were ignored"]  # fmt: skip


def test_a_check_call_inside_the_answer_and_otter_s_test_metadata():
    # otter's other ways to name an answer: `metadata.otter.tests` on a question's last cell
    # (check_cell: false), and a student's own grader.check in the answer cell
    locked = {"editable": False, "deletable": False}
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("**Q1**", metadata=locked),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": [ANSWER_TAG],
                                                      "otter": {"tests": ["q1"]}}),
        nbformat.v4.new_markdown_cell("**Q2**", metadata=locked),
        nbformat.v4.new_code_cell("y = 2\ngrader.check('q2')"),
        nbformat.v4.new_markdown_cell("<!-- BEGIN QUESTION -->\n\n**Q3** (manual, tested)",
                                      metadata=locked),
        nbformat.v4.new_markdown_cell("my text", metadata={"tags": [ANSWER_TAG]}),
        nbformat.v4.new_code_cell("z = 3"),
        nbformat.v4.new_code_cell('grader.check("q3")', metadata=locked),
        nbformat.v4.new_markdown_cell("<!-- END QUESTION -->", metadata=locked),
        nbformat.v4.new_markdown_cell("**Q4**", metadata=locked),
        nbformat.v4.new_code_cell("w = 4", metadata={"tags": [ANSWER_TAG]}),  # no tests
        nbformat.v4.new_code_cell("scratch = 0"),
        nbformat.v4.new_markdown_cell("**Q5**", metadata=locked),
        nbformat.v4.new_code_cell("v = 5", metadata={"tags": [ANSWER_TAG]}),
        nbformat.v4.new_code_cell('grader.check("q5")', metadata=locked),
    ])  # fmt: skip
    claims, notices = otter_claims(nb.cells, ORDER)
    assert [(c.exercise, c.cells) for c in claims] == [
        ("q1", (1,)),
        ("q2", (3,)),
        ("q3", (5, 6)),
        ("q4", (10, 11)),
        ("q5", (13,)),
    ]
    assert notices == []


def test_a_question_name_is_the_exercise_id_the_importer_gives(tmp_path):
    from grader.importers.otter import import_otter

    master = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: Part 1.a"),
        nbformat.v4.new_raw_cell("# BEGIN SOLUTION"), nbformat.v4.new_code_cell("x = 2 # SOLUTION"),
        nbformat.v4.new_raw_cell("# END SOLUTION"), nbformat.v4.new_raw_cell("# BEGIN TESTS"),
        nbformat.v4.new_code_cell("x == 2"), nbformat.v4.new_raw_cell("# END TESTS"),
        nbformat.v4.new_raw_cell("# END QUESTION"),
    ])  # fmt: skip
    nbformat.write(master, str(tmp_path / "hw.ipynb"))
    (topic,) = import_otter(tmp_path / "hw.ipynb").topics.values()
    assert [e["id"] for e in topic.exercises] == [otter_exercise_id("Part 1.a")] == ["part-1-a"]
    student = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 2", metadata={"tags": [ANSWER_TAG]}),
        nbformat.v4.new_code_cell('grader.check("Part 1.a")'),
    ])  # fmt: skip
    claims, _ = otter_claims(student.cells, ["part-1-a"])
    assert [(c.exercise, c.cells) for c in claims] == [("part-1-a", (0,))]


def test_the_assignment_is_the_one_otter_s_init_cell_names(otter_nb, course):
    from grader.grading import which_assignment

    assert otter_assignment(otter_nb) == "demo"  # otter.Notebook("demo.ipynb")
    assert which_assignment(course, otter_nb, Path("alice.ipynb"), None) == (
        "demo", ["graded as demo, the assignment otter's init cell names"])  # fmt: skip
    assert which_assignment(course, otter_nb, Path("alice.ipynb"), "demo") == ("demo", [])
    other = _edited(otter_nb, [(0, 'import otter\ngrader = otter.Notebook("hw9.ipynb")')])
    assert otter_assignment(other) == "hw9"
    with pytest.raises(SubmissionError, match="does not say which assignment it is"):
        which_assignment(course, other, Path("alice.ipynb"), None)
