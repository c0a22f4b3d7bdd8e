"""`grade import nbgrader`: nbgrader's documentation problem set (tests/data/nbgrader, copied
from jupyter/nbgrader) read into a grade course, the test patterns it translates and those it
keeps as manual, nbgrader-made notebooks graded by their grade_ids, and the command."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.assemble import _answer_cells, assemble, nbgrader_exercise_id
from grader.errors import GraderError
from grader.grading import which_assignment
from grader.importers.draft import write
from grader.importers.nbgrader import import_nbgrader, strip_solution
from grader.importers.notebook_cells import Cell
from grader.importers.translate import Checks, translate
from grader.spec import load_course

DATA = Path(__file__).parent / "data" / "nbgrader"
SOURCE = DATA / "source"
SUBMITTED = DATA / "submitted"
HACKER = SUBMITTED / "hacker" / "problem1.ipynb"
RELEASE_NB = DATA / "release" / "ps1" / "problem1.ipynb"
EXAMPLE = Path(__file__).parent.parent / "examples" / "nbgrader-ps1"


@pytest.fixture(scope="module")
def draft():
    return import_nbgrader(SOURCE)


def _exercises(draft):
    return {e["id"]: e for t in draft.topics.values() for e in t.exercises}


def test_ps1_becomes_the_course_written_by_hand_in_test_function_kind(draft, tmp_path):
    ex = _exercises(draft)
    squares, sos = ex["squares"]["answer"], ex["sum_of_squares"]["answer"]
    assert (squares["kind"], squares["name"]) == ("function", "squares")
    # correct_squares (1 point, four asserts) and squares_invalid_input (1 point, two raises)
    assert [(c["args"], c.get("raises", ""), c["points"]) for c in squares["cases"]] == [
        ([1], "", 0.25), ([2], "", 0.25), ([10], "", 0.25), ([11], "", 0.25),
        ([0], "ValueError", 0.5), ([-4], "ValueError", 0.5),
    ]  # fmt: skip
    assert all(c["public"] for c in squares["cases"])  # nbgrader's tests are in the release
    assert (sos["name"], sos["calls"], [c["args"] for c in sos["cases"]]) == (
        "sum_of_squares",
        ["squares"],
        [[1], [2], [10], [11]],
    )
    # correct_sum_of_squares (0.5: four cases) and sum_of_squares_uses_squares (0.5: calls)
    assert ([c["points"] for c in sos["cases"]], sos["calls_points"]) == ([0.125] * 4, 0.5)
    assert (ex["squares"]["points"], ex["sum_of_squares"]["points"]) == (2, 1)
    write(draft, tmp_path / "course", manual=False)  # problem2, all manual, is left out whole
    course = load_course(tmp_path / "course" / "course.yaml")
    assert [(a.id, a.exercises) for a in course.assignments] == [
        ("ps1-problem1", ("squares", "sum_of_squares"))
    ]
    solutions = (tmp_path / "course" / "solutions" / "problem1.py").read_text()
    assert "### BEGIN SOLUTION" not in solutions and "return sum(squares(n))" in solutions


def test_the_starters_are_what_nbgrader_hands_out(draft):
    release = nbformat.read(str(DATA / "release" / "ps1" / "problem1.ipynb"), as_version=4)
    handed_out = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    ex = _exercises(draft)
    assert set(handed_out) <= set(ex)
    for grade_id, source in handed_out.items():
        # YAML block scalars drop trailing blanks: compare line by line without them
        want = [line.rstrip() for line in source.rstrip().split("\n")]
        got = [line.rstrip() for line in ex[grade_id]["starter"].rstrip().split("\n")]
        assert got == want, grade_id


def test_what_is_kept_as_manual_is_listed_cell_by_cell(draft, tmp_path):
    assert draft.notes == [
        "header.ipynb: a notebook beside the assignments (a header?): not carried over",
        "problem1.ipynb cell 15 (grade_id: sum_of_squares_equation): kept as manual: "
        "nbgrader grades it by hand",
        "problem1.ipynb cell 17 (grade_id: sum_of_squares_application): kept as manual: "
        "nbgrader grades it by hand",
        "problem1.ipynb cell 18 (grade_id: cell-938593c4a215c6cc): kept as manual: a task, "
        "graded by hand",
        "problem2.ipynb cell 3 (grade_id: part-a): kept as manual: nbgrader grades it by hand",
        "problem2.ipynb cell 5 (grade_id: part-b): kept as manual: nbgrader grades it by hand",
        "ps1/jupyter.png: not carried over (put it beside the notebooks you hand out if a "
        "prompt shows it)",
    ]
    write(draft, tmp_path / "course")
    topic = yaml.safe_load((tmp_path / "course" / "exercises" / "problem1.yaml").read_text())
    by_id = {e["id"]: e for e in topic["exercises"]}
    equation = by_id["sum_of_squares_equation"]
    assert equation["answer"] == {
        "kind": "manual", "name": "sum_of_squares_equation", "cell": "markdown",
        "rubric": [{"item": "Part C", "points": 1,
                    "comment": "nbgrader's reference answer:\n$\\sum_{i=1}^n i^2$\n"}],
    }  # fmt: skip
    assert equation["starter"] == "YOUR ANSWER HERE\n"
    task = by_id["cell-938593c4a215c6cc"]
    assert (
        task["points"] == 4
        and "arithmetic and geometric sum" in task["answer"]["rubric"][0]["item"]
    )
    for ex in topic["exercises"]:  # a manual exercise's points are its rubric's
        if ex["answer"]["kind"] == "manual":
            assert ex["points"] == sum(i["points"] for i in ex["answer"]["rubric"])


FUNCS, VARS = {"f", "g"}, {"x", "name", "xs", "d"}


@pytest.mark.parametrize(
    "test,expected",
    [
        ("assert f(1, 'a', [2, 3], k=None) == 4", Checks("f", [
            {"args": [1, "a", [2, 3]], "kwargs": {"k": None}, "public": True}])),
        ("assert f((1, 2)) == 3", Checks("f", [
            {"args": [{"__input__": "tuple", "items": [1, 2]}], "public": True}])),
        ("try:\n    f(-1)\nexcept KeyError:\n    pass\nelse:\n    assert False\n",
         Checks("f", [{"args": [-1], "public": True, "raises": "KeyError"}])),
        ("o = g\ndel g\ntry:\n    f(1)\nexcept NameError:\n    pass\nelse:\n    raise "
         "AssertionError('no')\nfinally:\n    g = o\n", Checks("f", [], ["g"])),
        ("assert f(2) == 4\no = g\ndel g\ntry:\n    f(1)\nexcept NameError:\n    pass\nelse:\n"
         "    raise AssertionError\n", Checks("f", [{"args": [2], "public": True}], ["g"])),
        ("assert x == 3.5", Checks(variable="x", kind="number")),
        ("import numpy as np\nassert np.isclose(f(0.5), 0.25)",
         Checks("f", [{"args": [0.5], "public": True}])),
        ("assert math.isclose(f(2), 4.0)", Checks("f", [{"args": [2], "public": True}])),
        ("np.testing.assert_allclose(f([1, 2]), [1, 4])",
         Checks("f", [{"args": [[1, 2]], "public": True}])),
        ("assert np.allclose(xs, [[1, 2], [3, 4]])", Checks(variable="xs", kind="array")),
        ("assert name == 'Ada'", Checks(variable="name", kind="text")),
        ("assert xs == [[1, 2], [3, 4.5]]", Checks(variable="xs", kind="array")),
        ("assert d == {'a': 1, 'b': 2.5}", Checks(variable="d", kind="mapping")),
    ],
)  # fmt: skip
def test_the_patterns_translated(test, expected):
    assert translate(test, True, FUNCS, VARS) == expected


@pytest.mark.parametrize(
    "test,why",
    [
        ("assert f(x) == 1", "its arguments are not literal values"),
        ("assert f(1) > 0", "is not `call == value` or `name == value`"),
        ("assert h(1) == 1", "it calls h, which the answer cell does not define"),
        ("assert y == 1", "it reads y, which the answer cell does not assign"),
        ("assert f(1) == 1\nassert x == 1", "it checks more than one answer"),
        ("assert x == True", "no grade kind compares bool values"),
        ("with open('x') as fh:\n    pass", "line 1 (with open('x') as fh:) is not a pattern"),
        ("assert np.isclose(f(1), 2, rtol=0.5)", "is not `call == value`"),
        ("f(1) == 1", "line 1 (f(1) == 1) is not a pattern"),  # no assert: nbgrader passes it
        ("assert f(1 == 1", "the test cannot be read as Python"),
        ('"""only a docstring"""', "no check grade can translate"),
    ],
)  # fmt: skip
def test_what_is_not_translated_says_why(test, why):
    got = translate(test, True, FUNCS, VARS)
    assert why in got.why and not got.cases


def _notebook(tmp_path, cells, name="hw.ipynb", folder="hw1"):
    nb = nbformat.v4.new_notebook()
    for kind, source, meta in cells:
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(new(source, metadata={"nbgrader": meta} if meta else {}))
    (tmp_path / "src" / folder).mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(tmp_path / "src" / folder / name))
    return tmp_path / "src"


def _answer(gid):
    return {"grade": False, "solution": True, "grade_id": gid, "locked": False}


def _test(gid, points):
    return {"grade": True, "solution": False, "grade_id": gid, "points": points}


def test_hidden_tests_make_hidden_cases_and_an_untranslatable_test_a_manual_exercise(tmp_path):
    source = _notebook(tmp_path, [
        ("markdown", "## Q1 (3 points)\nWrite double(x).", None),
        ("code", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
         _answer("Double It")),
        ("code", "assert double(1) == 2\n### BEGIN HIDDEN TESTS\nassert double(5) == 10\n"
         "### END HIDDEN TESTS", _test("t1", 3)),
        ("markdown", "## Q2\nSet total.", None),
        ("code", "total = 3 ### BEGIN SOLUTION\n### END SOLUTION", _answer("total")),
        ("code", "assert 0 < total < 9", _test("t2", 1)),
    ])  # fmt: skip
    draft = import_nbgrader(source)
    ex = _exercises(draft)
    assert list(ex) == ["double-it", "total"]  # grade_ids normalised as assemble reads them
    double = ex["double-it"]
    assert (double["title"], double["points"]) == ("Q1", 3)
    assert [(c["args"], c["public"], c["points"]) for c in double["answer"]["cases"]] == [
        ([1], True, 1.5),
        ([5], False, 1.5),
    ]
    total = ex["total"]
    assert total["answer"]["kind"] == "manual" and total["answer"]["cell"] == "code"
    assert total["answer"]["rubric"] == [
        {"item": "passes nbgrader's test t2:\nassert 0 < total < 9\n", "points": 1}
    ]
    assert draft.notes == [
        "hw.ipynb cell 6 (grade_id: t2): kept as manual: line 1 (0 < total < 9) is not "
        "`call == value` or `name == value`"
    ]


def test_nbgrader_s_solution_regions_are_stripped_as_nbgrader_does():
    cell = Cell(1, "code", "x = 1\nif x:\n    ### BEGIN SOLUTION\n    y = 2\n    ### END SOLUTION\n"
                "z = 3", {})  # fmt: skip
    assert strip_solution(cell, "c") == (
        "x = 1\nif x:\n    # YOUR CODE HERE\n    raise NotImplementedError()\nz = 3\n",
        "x = 1\nif x:\n    y = 2\nz = 3",
    )
    assert strip_solution(Cell(1, "markdown", "The answer", {}), "c")[0] == "YOUR ANSWER HERE\n"
    with pytest.raises(GraderError, match="c: a ### BEGIN SOLUTION with no ### END SOLUTION"):
        strip_solution(Cell(1, "code", "### BEGIN SOLUTION\nx = 1", {}), "c")


@pytest.mark.parametrize(
    "content,message",
    [
        (b"{not json", "not a readable notebook"),
        (b'{"nbformat": 3, "cells": []}', "not a notebook of nbformat 4"),
        (b'{"nbformat": 4, "cells": [7]}', "cell 1 is not a notebook cell"),
    ],
)
def test_a_broken_notebook_is_one_clear_error(tmp_path, content, message):
    (tmp_path / "ps1").mkdir()
    (tmp_path / "ps1" / "bad.ipynb").write_bytes(content)
    with pytest.raises(GraderError, match=message) as err:
        import_nbgrader(tmp_path)
    assert "\n" not in str(err.value) and "bad.ipynb" in str(err.value)


@pytest.mark.parametrize(
    "grade_id,eid",
    [("squares", "squares"), ("Part A", "part-a"), ("cell-938593c4a215c6cc", "cell-938593c4a215c6cc"),
     ("--x--", "x"), ("é", None), (3, None)],
)  # fmt: skip
def test_grade_ids_become_exercise_ids(grade_id, eid):
    assert nbgrader_exercise_id(grade_id) == eid


def test_an_nbgrader_made_notebook_s_answer_cells_are_found_by_grade_id():
    nb = nbformat.read(str(DATA / "submitted" / "bitdiddle" / "problem1.ipynb"), as_version=4)
    found, notices = _answer_cells(nb, ("squares", "sum_of_squares"), set(), otter=False)
    assert found["squares"].startswith("def squares(n):") and "range(n)" in found["squares"]
    assert "s = squares(n)" in found["sum_of_squares"]
    # the manually graded answers are no exercise of this (autograded-only) assignment
    assert notices == [
        "cell 18 is tagged as the answer to 'sum_of_squares_equation', which is not an "
        "exercise of this assignment; it was ignored",
        "cell 20 is tagged as the answer to 'sum_of_squares_application', which is not an "
        "exercise of this assignment; it was ignored",
        "cell 21 is tagged as the answer to 'cell-938593c4a215c6cc', which is not an "
        "exercise of this assignment; it was ignored",
    ]


def test_an_nbgrader_made_notebook_is_graded_as_the_assignment_its_answer_cells_answer():
    course = load_course(EXAMPLE / "course.yaml")
    for path, chosen in [
        (SUBMITTED / "hacker" / "problem1.ipynb", "ps1-problem1"),
        (DATA / "release" / "ps1" / "problem2.ipynb", "ps1-problem2"),
    ]:
        nb = nbformat.read(str(path), as_version=4)
        assert which_assignment(course, nb, path, None) == (
            chosen,
            [
                f"the notebook does not say which assignment it is; graded as {chosen} "
                "(from its answer cells)"
            ],
        )


def test_an_nbgrader_task_s_answer_is_what_the_student_wrote_after_it():
    """nbgrader gives a task (Part E) no answer cell: the cells after it are its answer, for a
    reviewer; none is an empty answer awaiting review, never a missing one."""
    course = load_course(EXAMPLE / "course.yaml")
    hacker = assemble(course, "ps1-problem1", nbformat.read(str(HACKER), as_version=4))
    assert hacker.manual["cell-938593c4a215c6cc"] == "$\\sum x^i = \\frac{1}{1-x}$"
    assert hacker.manual["sum_of_squares_equation"] == "$\\sum_{i=1}^n i^2$"
    assert hacker.manual["sum_of_squares_application"].startswith("import math\n\ndef hypotenuse")
    assert (hacker.missing, hacker.notices) == (frozenset(), ())
    blank = assemble(course, "ps1-problem1", nbformat.read(str(RELEASE_NB), as_version=4))
    assert blank.manual["cell-938593c4a215c6cc"] == "" and not blank.missing
    # code after the task is shown as code; a cell nbgrader made ends the answer
    nb = nbformat.read(str(HACKER), as_version=4)
    nb.cells += [
        nbformat.v4.new_code_cell("print('``` <b>')"),
        nbformat.v4.new_markdown_cell("not it", metadata={"nbgrader": {"locked": True}}),
        nbformat.v4.new_markdown_cell("nor this"),
    ]
    answer = assemble(course, "ps1-problem1", nb).manual["cell-938593c4a215c6cc"]
    assert answer == "$\\sum x^i = \\frac{1}{1-x}$\n\n````python\nprint('``` <b>')\n````"


# --- the command ----------------------------------------------------------------------------


def test_the_command_writes_the_course_and_lists_what_is_manual(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    out = tmp_path / "course"
    result = CliRunner().invoke(main, ["import", "nbgrader", str(SOURCE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == (
        "problem1.ipynb cell 15 (grade_id: sum_of_squares_equation): kept as manual: "
        "nbgrader grades it by hand"
    )
    assert lines[-1] == f"wrote {out}: 7 exercises, 5 of them manual"
    assert sorted(p.name for p in out.iterdir()) == ["course.yaml", "exercises", "solutions"]

    again = CliRunner().invoke(main, ["import", "nbgrader", str(SOURCE), "--out", str(out)])
    assert (again.exit_code, again.output) == (
        1, f"Error: {out} is not empty: pass --force to write into it\n"
    )  # fmt: skip
    forced = ["import", "nbgrader", str(SOURCE), "--out", str(out), "--force", "--no-manual"]
    result = CliRunner().invoke(main, forced)
    assert result.output.splitlines()[-1] == (
        f"wrote {out}: 7 exercises, 5 of them manual (left out)"
    )
    assert load_course(out / "course.yaml").assignment("ps1-problem1").exercises == (
        "squares", "sum_of_squares"
    )  # fmt: skip


def test_the_command_says_in_one_line_which_notebook_is_broken(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    folder = tmp_path / "src" / "ps1"
    shutil.copytree(SOURCE / "ps1", folder)
    (folder / "problem2.ipynb").write_text('{"cells": [], "nbformat": 4', encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["import", "nbgrader", str(tmp_path / "src"), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        f"Error: {folder / 'problem2.ipynb'}: not a readable notebook ("
    )
    assert len(result.output.splitlines()) == 1 and not out.exists()


def test_calls_points_make_the_uses_squares_test_a_check_of_its_own(tmp_path):
    """nbgrader scores "sum_of_squares uses squares" (0.5) apart from its values (0.5): with
    calls_points, a closed formula earns the values' half, a wrong squares the other half."""
    from grader.execute.records import ExportRecord
    from grader.judge.scoring import KeyExpectations, judge_export
    from grader.key import AnswerKey
    from grader.solutions import reference_calls

    write(import_nbgrader(SOURCE), tmp_path / "c", manual=False)
    course = load_course(tmp_path / "c" / "course.yaml")
    key = AnswerKey("ps1-problem1", course.fingerprint, reference_calls(course, "ps1-problem1"))
    sos, expect = course.exercises["sum_of_squares"], KeyExpectations(course, key)
    right = ExportRecord({"ok": True, "calls": [{"value": v} for v in (1, 5, 385, 506)]})
    wrong = ExportRecord({"ok": True, "calls": [{"value": v} for v in (0, 1, 285, 385)]})
    closed = "def sum_of_squares(n):\n    return n * (n + 1) * (2 * n + 1) // 6\n"
    uses = "def sum_of_squares(n):\n    return sum(squares(n))\n"
    assert judge_export(sos, right, expect, source=uses).score == 1
    result = judge_export(sos, right, expect, source=closed)
    assert (result.score, result.status) == (0.5, "partial")
    assert "sum_of_squares must call squares" in [c.message for c in result.checks]
    assert judge_export(sos, wrong, expect, source=uses).score == 0.5


# --- the example, built and graded ---------------------------------------------------------


def test_the_example_is_what_the_command_makes_of_the_saved_source(tmp_path):
    draft = import_nbgrader(SOURCE)
    draft.name = "nbgrader's documentation problem set"
    write(draft, tmp_path / "course")
    made = sorted(p.relative_to(tmp_path / "course") for p in (tmp_path / "course").rglob("*.*"))
    shipped = sorted(p.relative_to(EXAMPLE) for p in EXAMPLE.rglob("*.*") if p.name != "README.md")
    assert made == shipped
    for name in made:
        assert (tmp_path / "course" / name).read_text() == (EXAMPLE / name).read_text(), name


def _nbgrader_notebook(source, out, answers=None, tests=None):
    """A copy of an nbgrader-made notebook with some cells (by grade_id) rewritten."""
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers and gid in answers:
            cell.source = answers[gid]
        if tests and gid in tests:
            cell.source = tests[gid]
            cell.metadata["nbgrader"]["points"] = 100
    nbformat.write(nb, str(out))
    return out


# What nbgrader's autograde gives, by its rule: a test cell's points are earned iff the cell
# runs without an error (its tests restored from the source first, whatever the student did
# to them). Tests: correct_squares 1, squares_invalid_input 1, correct_sum_of_squares 0.5,
# sum_of_squares_uses_squares 0.5; grade's squares = the first two, sum_of_squares = the others.
NBGRADER_SCORES = {
    # hacker: every test passes. nbgrader's own feedback for this notebook says 3.0.
    "hacker": {"squares": 2, "sum_of_squares": 1},
    # bitdiddle: squares uses range(n), so squares(1) == [0]: correct_squares fails (0); it
    # raises ValueError for n < 1 (1); sum_of_squares sums his squares, sum_of_squares(1) == 0
    # (0); it calls squares, so with squares deleted it raises NameError (0.5). nbgrader's own
    # feedback for this notebook says 1.5.
    "bitdiddle": {"squares": 1, "sum_of_squares": 0.5},
    # the same notebook with its test cells replaced by `pass` and their points set to 100:
    # nbgrader restores test cells from the source before running them, grade never reads
    # them: 1.5 again
    "bitdiddle-edited-tests": {"squares": 1, "sum_of_squares": 0.5},
    # nbgrader's blank release notebook: every test raises NotImplementedError
    "blank": {"squares": 0, "sum_of_squares": 0},
    # no ValueError (squares(0) == []: squares_invalid_input fails, correct_squares passes),
    # a closed formula (correct_sum_of_squares passes; with squares deleted it still runs, so
    # sum_of_squares_uses_squares raises AssertionError)
    "wrong": {"squares": 1, "sum_of_squares": 0.5},
}
WRONG = {
    "squares": "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n",
    "sum_of_squares": "def sum_of_squares(n):\n    return n * (n + 1) * (2 * n + 1) // 6\n",
}
PROBLEM1_MANUAL = {"sum_of_squares_equation", "sum_of_squares_application", "cell-938593c4a215c6cc"}
LIAR = {  # an int that equals anything: nbgrader's `assert sum_of_squares(1) == 1` passes
    "sum_of_squares": "class Big(int):\n    def __eq__(self, other):\n        return True\n"
    "    __hash__ = int.__hash__\n\ndef sum_of_squares(n):\n    squares(n)\n    return Big(0)\n"
}


@pytest.mark.kernel
def test_nbgrader_made_notebooks_score_as_nbgrader_s_autograde(tmp_path):
    from grader.build import build
    from grader.options import GradeOptions
    from grader.pipeline import grade

    write(import_nbgrader(SOURCE), tmp_path / "course")  # with the manual exercises
    course = load_course(tmp_path / "course" / "course.yaml")
    options = GradeOptions(sandbox="optional", release=tmp_path / "release")
    build(course, tmp_path / "release", options)  # the solution full marks, the starter 0
    bitdiddle = SUBMITTED / "bitdiddle" / "problem1.ipynb"
    edited = {"correct_squares": "pass", "correct_sum_of_squares": "pass"}
    notebooks = {
        "hacker": HACKER,
        "bitdiddle": bitdiddle,
        "bitdiddle-edited-tests": _nbgrader_notebook(bitdiddle, tmp_path / "e.ipynb", tests=edited),
        "blank": RELEASE_NB,
        "wrong": _nbgrader_notebook(RELEASE_NB, tmp_path / "w.ipynb", answers=WRONG),
    }
    for name, path in notebooks.items():
        result = grade(path, course, "ps1-problem1", options)
        by_id = {e.id: e for e in result.exercises}
        auto = {i: e.score for i, e in by_id.items() if i not in PROBLEM1_MANUAL}
        assert auto == NBGRADER_SCORES[name], name
        # Parts C, D and E (the task) await a reviewer: counted neither earned nor possible
        assert {i: by_id[i].status for i in PROBLEM1_MANUAL} == dict.fromkeys(
            PROBLEM1_MANUAL, "awaiting review"
        ), name
        assert (result.score, result.max_score, result.awaiting) == (sum(auto.values()), 3, 7)
        assert not any("no answer cell" in n for n in result.notices), name

    # Where grade and nbgrader differ, on purpose: an answer that lies about equality passes
    # nbgrader's assert (0.5 + 0.5 for calling squares: 1); grade exports Big(0) as 0, so only
    # the calls check's half is earned.
    liar = _nbgrader_notebook(notebooks["hacker"], tmp_path / "l.ipynb", answers=LIAR)
    by_id = {e.id: e for e in grade(liar, course, "ps1-problem1", options).exercises}
    assert (by_id["squares"].score, by_id["sum_of_squares"].score) == (2, 0.5)


def test_one_grade_id_in_two_notebooks_is_refused(tmp_path):
    cells = [
        ("code", "def f(x):\n    return x", _answer("f")),
        ("code", "assert f(1) == 1", _test("t", 1)),
    ]
    _notebook(tmp_path, cells, name="a.ipynb")
    source = _notebook(tmp_path, cells, name="b.ipynb")
    with pytest.raises(
        GraderError, match=r"grade_id .f. is also in .*a\.ipynb: exercise ids are unique"
    ):
        import_nbgrader(source)


def test_code_given_to_students_is_the_setup_and_scratch_code_is_shown(tmp_path):
    locked = {"grade": False, "solution": False, "locked": True, "grade_id": "given"}
    source = _notebook(tmp_path, [
        ("code", "import math", None),
        ("code", "def f(x):\n    return math.sqrt(x)", _answer("f")),
        ("code", "assert f(4) == 2", _test("t", 1)),
        ("code", "f(9)", None),
        ("code", "def helper(y):\n    return y + 1", locked),
        ("code", "def g(y):\n    return helper(y)", _answer("g")),
        ("code", "assert g(1) == 2", _test("u", 1)),
    ])  # fmt: skip
    (topic,) = import_nbgrader(source).topics.values()
    assert topic.setup == "import math\ndef helper(y):\n    return y + 1\n"
    assert topic.exercises[1]["prompt"] == "```python\nf(9)\n```\n"


PS1 = [
    ("ps1-problem1", "ps1, problem1", ["problem1"]),
    ("ps1-problem2", "ps1, problem2", ["problem2"]),
]


def test_the_course_root_or_one_assignment_s_folder_will_do(tmp_path):
    shutil.copytree(SOURCE, tmp_path / "course" / "source")
    root = import_nbgrader(tmp_path / "course")
    assert (root.name, root.assignments) == ("course", PS1)
    single = import_nbgrader(SOURCE / "ps1")
    assert single.assignments == PS1 and single.name == "ps1"


def test_a_folder_of_several_notebooks_is_an_assignment_a_notebook(tmp_path):
    """A student hands in one notebook a file: each notebook of a folder is an assignment of its
    own, so that problem1.ipynb is not missing problem2's parts; a folder of one keeps its id."""

    def cells(name):
        return [
            ("code", f"def {name}(x):\n    return x", _answer(name)),
            ("code", f"assert {name}(1) == 1", _test(f"t-{name}", 1)),
        ]

    _notebook(tmp_path, cells("f"), name="only.ipynb", folder="hw1")
    _notebook(tmp_path, cells("g"), name="Part A.ipynb", folder="hw2")
    source = _notebook(tmp_path, cells("h"), name="b.ipynb", folder="hw2")
    draft = import_nbgrader(source)
    assert draft.assignments == [
        ("hw1", "hw1", ["only"]), ("hw2-part-a", "hw2, Part A", ["part-a"]), ("hw2-b", "hw2, b", ["b"])
    ]  # fmt: skip
    write(draft, tmp_path / "course")
    course = load_course(tmp_path / "course" / "course.yaml")
    assert [(a.id, a.title, a.exercises) for a in course.assignments] == [
        ("hw1", "hw1", ("f",)), ("hw2-part-a", "hw2, Part A", ("g",)), ("hw2-b", "hw2, b", ("h",))
    ]  # fmt: skip
    _notebook(tmp_path, cells("k"), name="x.ipynb", folder="hw2-b")  # a second 'hw2-b'
    with pytest.raises(GraderError, match="two assignments would be 'hw2-b'"):
        import_nbgrader(source)


def test_no_code_of_the_source_runs(tmp_path):
    marker = tmp_path / "ran"
    run = f"n = open({str(marker)!r}, 'w').write('x')"
    source = _notebook(tmp_path, [
        ("code", run, None),  # becomes the setup: written, not run
        ("code", f"def f(x):\n    ### BEGIN SOLUTION\n    {run}\n    return x\n    ### END SOLUTION",
         _answer("f")),
        ("code", f"{run}\nassert f(1) == 1", _test("t", 1)),
    ])  # fmt: skip
    draft = import_nbgrader(source)
    write(draft, tmp_path / "course")
    assert not marker.exists()
    assert draft.topics["hw"].setup == run + "\n"
