"""`grade import otter`: otter-grader's tutorial master notebook (tests/data/otter, copied
from ucbds-infra/otter-grader) read into a grade course: questions, otter's solution
removal, tests with # HIDDEN and otter's points, manual questions, and broken notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.errors import GraderError
from grader.importers.draft import write
from grader.importers.otter import import_otter, strip_solution
from grader.spec import load_course

DEMO = Path(__file__).parent / "data" / "otter" / "demo.ipynb"


@pytest.fixture(scope="module")
def draft():
    return import_otter(DEMO)


def test_the_tutorial_becomes_a_course(draft, tmp_path):
    (topic,) = draft.topics.values()
    ex = {e["id"]: e for e in topic.exercises}
    assert list(ex) == ["q1", "q2", "q3", "q4", "q5"]
    q1 = ex["q1"]
    assert (q1["title"], q1["points"], q1["starter"]) == (
        "Question 1",
        1,
        "def square(x):\n    ...\n",
    )
    # three test cells, no points given: the question's 1 point shared; the third is # HIDDEN
    assert q1["answer"] == {
        "kind": "function", "name": "square",
        "cases": [{"args": [1], "public": True, "points": 1 / 3},
                  {"args": [0], "public": True, "points": 1 / 3},
                  {"args": [2.5], "public": False, "points": 1 / 3}],
    }  # fmt: skip
    assert topic.solutions["q1"] == "def square(x):\n    return x**2"
    assert topic.setup == "import pandas as pd\nimport numpy as np\n"  # %matplotlib left out
    assert ex["q3"]["starter"] == "data = ...\nprice_by_flavor = ...\nprice_by_flavor\n"
    assert [ex[q]["answer"]["kind"] for q in ex] == ["function", *["manual"] * 4]
    assert ex["q5"]["answer"]["cell"] == "markdown" and ex["q4"]["answer"]["cell"] == "code"
    write(draft, tmp_path / "course", manual=False)
    assert load_course(tmp_path / "course" / "course.yaml").assignment("demo").exercises == ("q1",)


def test_what_is_kept_as_manual_is_listed(draft):
    assert (
        draft.notes[0] == "demo.ipynb cell 3: IPython magics (% and ! lines) left out of the setup"
    )
    assert draft.notes[1] == (
        "demo.ipynb cell 21 (question q2): kept as manual: line 1 (f = fiberator()) is not a "
        "pattern grade reads"
    )
    # q4 and q5 have no points: 0 in otter (otter 7's determine_question_point_value gives a
    # manual question its `points or 0`), which a grade exercise cannot be
    unscored = (
        "worth 1 point here, 0 in otter (a manual question without points, scored where its "
        "PDF is graded): set its points and its rubric item's in exercises/demo.yaml"
    )
    assert draft.notes[-4:] == [
        "demo.ipynb cell 41 (question q4): kept as manual: a manual question",
        f"demo.ipynb cell 41 (question q4): {unscored}",
        "demo.ipynb cell 47 (question q5): kept as manual: a manual question",
        f"demo.ipynb cell 47 (question q5): {unscored}",
    ]
    q3 = [n for n in draft.notes if "(question q3)" in n]
    assert len(q3) == 9  # why it is no series exercise, then one note per test cell
    assert q3[0] == (
        "demo.ipynb cell 25 (question q3): not a series exercise: its tests read data and "
        "price_by_flavor, and a grade exercise judges one answer"
    )


def test_a_manual_question_s_rubric_holds_the_tests_or_the_reference(draft, tmp_path):
    write(draft, tmp_path / "course")
    topic = yaml.safe_load((tmp_path / "course" / "exercises" / "demo.yaml").read_text())
    ex = {e["id"]: e for e in topic["exercises"]}
    q2 = ex["q2"]["answer"]["rubric"]
    assert [i["points"] for i in q2] == [0.5, 0.5]
    assert (
        q2[0]["item"]
        == "passes otter's test 1:\nf = fiberator()\nassert next(f) == 0\nassert next(f) == 1\n"
    )
    assert ex["q4"]["answer"]["rubric"] == [
        {"item": "Question 4", "points": 1,
         "comment": "otter's reference answer:\nprice_by_flavor.plot.bar();\n"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    "source,starter,solution",
    [
        ("def square(x):\n    y = x * x # SOLUTION NO PROMPT\n    return y # SOLUTION\n\n"
         "nine = square(3) # SOLUTION",
         "def square(x):\n    ...\n\nnine = ...\n",
         "def square(x):\n    y = x * x\n    return y\n\nnine = square(3)"),
        ("pi = 3.14\nif True:\n    # BEGIN SOLUTION\n    radius = 3\n    # END SOLUTION\n"
         "    print(radius)\n\ndef c(r):\n    # BEGIN SOLUTION NO PROMPT\n    return 2 * pi * r\n"
         "    # END SOLUTION\n    \"\"\" # BEGIN PROMPT\n    pass\n    \"\"\"; # END PROMPT",
         "pi = 3.14\nif True:\n    ...\n    print(radius)\n\ndef c(r):\n    pass\n",
         "pi = 3.14\nif True:\n    radius = 3\n    print(radius)\n\ndef c(r):\n    return 2 * pi * r"),
        ("rng = seed(42) # SEED\nx = rng() # SOLUTION", "x = ...\n", "rng = seed(42)\nx = rng()"),
    ],
)  # fmt: skip
def test_otter_s_solution_removal(source, starter, solution):
    assert strip_solution(source) == (starter, solution)


def _master(tmp_path, cells):
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        maker = {"raw": nbformat.v4.new_raw_cell, "code": nbformat.v4.new_code_cell,
                 "markdown": nbformat.v4.new_markdown_cell}[kind]  # fmt: skip
        nb.cells.append(maker(source))
    path = tmp_path / "hw.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_points_and_a_value_answer(tmp_path):
    path = _master(tmp_path, [
        ("raw", "# BEGIN QUESTION\nname: q1\npoints: 4"), ("markdown", "## Total\nSet `total`."),
        ("raw", "# BEGIN SOLUTION"), ("code", "total = 7 # SOLUTION"), ("raw", "# END SOLUTION"),
        ("raw", "# BEGIN TESTS"),
        ("code", '""" # BEGIN TEST CONFIG\npoints: 3\nhidden: true\n""" # END TEST CONFIG\n'
                 "assert total == 7"),
        ("code", "total == 7"),
        ("raw", "# END TESTS"), ("raw", "# END QUESTION"),
    ])  # fmt: skip
    (topic,) = import_otter(path).topics.values()
    (ex,) = topic.exercises
    assert (ex["title"], ex["points"], ex["starter"]) == ("Total", 4, "total = ...\n")
    assert ex["answer"] == {"kind": "number", "name": "total"}


def _square_question(points, configs=("", "", "")):
    """q1 of otter's tutorial with ``points`` in its config and a test config on each test."""
    tests = ["square(1) == 1", "square(0) == 0", "# HIDDEN\nsquare(2.5) == 6.25"]
    return [
        ("raw", f"# BEGIN QUESTION\nname: q1\npoints: {points}"), ("markdown", "Square it."),
        ("raw", "# BEGIN SOLUTION"), ("code", "def square(x):\n    return x**2 # SOLUTION"),
        ("raw", "# END SOLUTION"), ("raw", "# BEGIN TESTS"),
        *[("code", f'""" # BEGIN TEST CONFIG\n{c}\n""" # END TEST CONFIG\n{t}' if c else t)
          for c, t in zip(configs, tests, strict=True)],
        ("raw", "# END TESTS"), ("raw", "# END QUESTION"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "points,configs,total,each",
    [
        # otter's {each: N}: the question worth N a test (its test generate-otter.ipynb's q1,
        # `each: .75` over 5 tests, is written as `points: 3.75`), shared as a total is
        ("{each: 0.75}", ("", "", ""), 2.25, [0.75, 0.75, 0.75]),
        ("{each: 2}", ("points: 1", "", ""), 6, [1, 2.5, 2.5]),
        ("{}", ("", "", ""), 3, [1, 1, 1]),  # each defaults to 1
        ("[1, 2, 0.5]", ("", "", ""), 3.5, [1, 2, 0.5]),
    ],
)
def test_otter_s_forms_of_points(tmp_path, points, configs, total, each):
    (topic,) = import_otter(_master(tmp_path, _square_question(points, configs))).topics.values()
    (q1,) = topic.exercises
    assert q1["points"] == total
    assert [c["points"] for c in q1["answer"]["cases"]] == each
    assert [c["public"] for c in q1["answer"]["cases"]] == [True, True, False]


@pytest.mark.parametrize(
    "points,configs,message",
    [
        ("{each: 1, total: 4}", ("", "", ""), r"as a mapping must be \{each: <number>\}"),
        ("{each: lots}", ("", "", ""), r"as a mapping must be \{each: <number>\}"),
        ("[1, two, 3]", ("", "", ""), "must be a number, a list or"),
        ("[1, 2]", ("", "", ""), "2 points for 3 tests"),
        ("{each: 1}", ("points: 4", "", ""), r"the tests' points \(4\) exceed the question's \(3\)"),
        ("1", ("points: half", "", ""), r"hw\.ipynb cell 7: a test's points must be a number"),
        ("1", ("points: [1", "", ""), r"hw\.ipynb cell 7: the test's config is not YAML"),
    ],
)  # fmt: skip
def test_points_otter_refuses_are_one_clear_error(tmp_path, points, configs, message):
    with pytest.raises(GraderError, match=message):
        import_otter(_master(tmp_path, _square_question(points, configs)))


@pytest.mark.parametrize(
    "config,points,note",
    [
        ("manual: true", 1, "0 in otter (a manual question without points, scored where"),
        ("manual: true\npoints: 0", 1, "0 in otter (points: 0)"),
        ("manual: true\npoints: {each: 2}", 1, "0 in otter ({each: N} points a test, and no"),
        ("manual: true\npoints: 2.5", 2.5, None),
        ("manual: false", 1, None),  # no tests: otter's default, 1
    ],
)
def test_points_of_a_question_without_tests(tmp_path, config, points, note):
    path = _master(tmp_path, [
        ("raw", f"# BEGIN QUESTION\nname: essay\n{config}"), ("markdown", "Why?"),
        ("raw", "# BEGIN SOLUTION"), ("markdown", "Because."), ("raw", "# END SOLUTION"),
        ("raw", "# END QUESTION"),
    ])  # fmt: skip
    draft = import_otter(path)
    (ex,) = draft.topics["hw"].exercises
    assert (ex["points"], [r["points"] for r in ex["answer"]["rubric"]]) == (points, [points])
    said = [n for n in draft.notes if " in otter " in n]  # one note, when otter gives 0
    assert [note in n for n in said] == ([] if note is None else [True]), said
    write(draft, tmp_path / "course")  # a course grade reads: its points are positive
    assert load_course(tmp_path / "course" / "course.yaml").exercises["essay"].points == points


def _without_tests_of_data(tmp_path):
    """The tutorial's q3 alone, less its two tests of ``data``: all its tests read the
    Series price_by_flavor, label by label."""
    nb = nbformat.read(str(DEMO), as_version=4)
    nb.cells = nb.cells[:3] + [
        c for i, c in enumerate(nb.cells) if 24 <= i <= 39 and i not in (30, 31)
    ]
    path = tmp_path / "prices.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_tests_of_one_series_label_by_label_are_a_series_exercise(tmp_path):
    (topic,) = import_otter(_without_tests_of_data(tmp_path)).topics.values()
    (q3,) = topic.exercises
    assert (
        q3["points"] == 1
        and q3["starter"] == "data = ...\nprice_by_flavor = ...\nprice_by_flavor\n"
    )
    assert q3["answer"] == {"kind": "series", "name": "price_by_flavor", "check_like": True,
                            "check_names": False, "check_dtype": False}  # fmt: skip


@pytest.mark.parametrize(
    "cells,message",
    [
        ([("markdown", "no questions")], "no # BEGIN QUESTION cell"),
        ([("raw", "# BEGIN QUESTION\nname: q1")], "question q1 has no # END QUESTION"),
        ([("raw", "# BEGIN QUESTION\npoints: 1"), ("raw", "# END QUESTION")], "has no name"),
        ([("raw", "# BEGIN QUESTION\nname: [q"), ("raw", "# END QUESTION")], "not YAML"),
    ],
)
def test_a_broken_master_notebook_is_one_clear_error(tmp_path, cells, message):
    with pytest.raises(GraderError, match=message) as err:
        import_otter(_master(tmp_path, cells))
    assert "hw.ipynb" in str(err.value)


def test_a_file_that_is_not_a_notebook(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps({"nbformat": 4}))
    with pytest.raises(GraderError, match=r"x\.ipynb: not a notebook of nbformat 4"):
        import_otter(path)


def test_the_command(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    out = tmp_path / "course"
    result = CliRunner().invoke(main, ["import", "otter", str(DEMO), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"wrote {out}: 5 exercises, 4 of them manual"
    assert "demo.ipynb cell 41 (question q4): kept as manual: a manual question" in result.output


# --- the example, built and graded ---------------------------------------------------------

EXAMPLE = Path(__file__).parent.parent / "examples" / "otter-tutorial"


def test_the_example_is_what_the_command_makes_of_the_saved_notebook(draft, tmp_path):
    write(draft, tmp_path / "course")
    made = sorted(p.relative_to(tmp_path / "course") for p in (tmp_path / "course").rglob("*.*"))
    shipped = sorted(p.relative_to(EXAMPLE) for p in EXAMPLE.rglob("*.*") if p.name != "README.md")
    assert made == shipped
    for name in made:
        assert (tmp_path / "course" / name).read_text() == (EXAMPLE / name).read_text(), name


# Otter's scores by its rules: each of q1's three tests (1 point, none given, so 1/3 each) is
# passed iff the cell's output equals the solution's (True); the hidden square(2.5) counts.
# otter-grader 7.0.0's `otter run` (with otter assign's autograder zip of demo.ipynb) gave these
# q1 scores on the otter-made notebooks below (_otter_made), the tampered one included (2/3).
OTTER_SCORES = {
    "right": ("def square(x):\n    return x ** 2\n", 1),
    "wrong": ("def square(x):\n    return x * 2\n", 1 / 3),  # only square(0) == 0
    # the public tests' outputs hard-coded: the hidden square(2.5) == 6.25 fails
    "tampering": ("def square(x):\n    return {1: 1, 0: 0}.get(x, 0)\n", 2 / 3),
    "blank": ("def square(x):\n    ...\n", 0),
}


@pytest.mark.kernel
def test_the_tutorial_s_autograded_question_scores_as_otter_does(draft, tmp_path):
    from shipped import with_answers

    from grader.build import build
    from grader.options import GradeOptions
    from grader.pipeline import grade

    # Only the autograded part (q1), as `--no-manual` imports it.
    write(draft, tmp_path / "course", manual=False)
    course = load_course(tmp_path / "course" / "course.yaml")
    options = GradeOptions(sandbox="optional", release=tmp_path / "release")
    build(course, tmp_path / "release", options)
    student = tmp_path / "release" / "student" / "demo.ipynb"
    for name, (answer, score) in OTTER_SCORES.items():
        path = with_answers(student, {"q1": answer}, tmp_path / f"{name}.ipynb")
        (q1,) = grade(path, course, options=options).exercises
        assert q1.score == pytest.approx(score, abs=1e-4), name


# --- notebooks otter made, graded as they are ----------------------------------------------

OTTER_MADE = Path(__file__).parent / "data" / "otter" / "demo-student.ipynb"  # otter assign's
RIGHT = {
    "q2": "def fiberator():\n    x, y = 0, 1\n    while True:\n        yield x\n"
    "        x, y = y, x + y\n",
    "q3": 'data = pd.DataFrame({"flavor": ["mint"], "scoops": [1], "price": [4]})\n'
    'price_by_flavor = data.groupby("flavor")["price"].mean()\nprice_by_flavor\n',
    "q4": "price_by_flavor.plot.bar();",
    "q5": "Mint is the <b>dearest</b>.",
}


def _otter_made(out, q1, edit=None):
    """otter-grader's own student notebook of the tutorial with answers written in its
    answer cells (tagged otter_answer_cell, one a question, q1 to q5), then ``edit``."""
    nb = nbformat.read(str(OTTER_MADE), as_version=4)
    tagged = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    for qid, cell in zip(["q1", "q2", "q3", "q4", "q5"], tagged, strict=True):
        cell.source = {**RIGHT, "q1": q1}[qid]
    if edit is not None:
        edit(nb)
    nbformat.write(nb, str(out))
    return out


def _tamper(nb):
    # otter's init cell defines the right square (never run: not an answer); q1's answer
    # imports otter and calls grader.check (otter is not in the kernel: an inert client is);
    # q2's locked check cell renamed to q3: q3 has two answers, its own (the last) graded
    nb.cells[0].source += "\ndef square(x):\n    return x ** 2\n"
    nb.cells[4].source = "import otter\n" + nb.cells[4].source + '\ngrader.check("q1")\n'
    assert nb.cells[8].source == 'grader.check("q2")'
    nb.cells[8].source = 'grader.check("q3")'


@pytest.mark.kernel
def test_otter_made_notebooks_score_as_otter_does(tmp_path):
    from grader.build import build
    from grader.options import GradeOptions
    from grader.pipeline import grade

    course = load_course(EXAMPLE / "course.yaml")  # the shipped example, manual parts too
    options = GradeOptions(sandbox="optional", release=tmp_path / "release")
    build(course, tmp_path / "release", options)
    blank = grade(OTTER_MADE, course, "demo", options)  # as otter hands it out
    q1 = blank.exercises[0]
    assert (q1.id, q1.status, q1.score) == ("q1", "failed", 0)
    assert not any("no answer cell" in n for n in blank.notices), blank.notices
    for name, (answer, score) in OTTER_SCORES.items():
        path = _otter_made(tmp_path / f"{name}.ipynb", answer)
        result = grade(path, course, "demo", options)
        by_id = {e.id: e for e in result.exercises}
        assert by_id["q1"].score == pytest.approx(score, abs=1e-4), name
        assert list(result.notices) == [], (name, result.notices)
        assert [by_id[q].status for q in RIGHT] == ["awaiting review"] * 4, name
        assert by_id["q5"].answer == RIGHT["q5"] and by_id["q4"].answer == RIGHT["q4"]
        assert (result.max_score, result.awaiting) == (1, 4), name

    path = _otter_made(tmp_path / "tampered.ipynb", OTTER_SCORES["tampering"][0], _tamper)
    result = grade(path, course, "demo", options)
    by_id = {e.id: e for e in result.exercises}
    assert by_id["q1"].score == pytest.approx(2 / 3, abs=1e-4)  # the hard-coded answer's
    assert (by_id["q2"].status, by_id["q3"].answer) == ("missing", RIGHT["q3"])
    assert list(result.notices) == [
        "2 cells answer 'q3'; the last one was graded",
        "no answer cell for 'q2' was found; it was graded as unanswered",
    ]


PRICES = {  # q3 answers -> the series exercise's score (its name, index and values checks)
    "right": 'data = pd.DataFrame({"flavor": ["mint", "mint", "vanilla", "chocolate", '
    '"strawberry"], "price": [4, 5, 1.75, 10 / 3, 3]})\n'
    'price_by_flavor = data.groupby("flavor")["price"].mean()\n',
    # another order, no names, ints: otter's label-by-label tests pass, and so does grade
    "by hand": 'price_by_flavor = pd.Series({"vanilla": 1.75, "mint": 4.5, "chocolate": 10 / 3, '
    '"strawberry": 3})\n',
    "rounded": 'price_by_flavor = pd.Series({"chocolate": 3, "mint": 4, "strawberry": 3, '
    '"vanilla": 2})\n',
    "a frame": 'price_by_flavor = pd.DataFrame({"price": [1.0]})\n',
}
PRICE_SCORES = {"right": 1, "by hand": 1, "rounded": 0.5, "a frame": 0}


@pytest.mark.kernel
def test_a_translated_series_question_builds_and_grades(tmp_path):
    from shipped import with_answers

    from grader.build import build
    from grader.options import GradeOptions
    from grader.pipeline import grade

    write(import_otter(_without_tests_of_data(tmp_path)), tmp_path / "course")
    course = load_course(tmp_path / "course" / "course.yaml")
    options = GradeOptions(sandbox="optional", release=tmp_path / "release")
    build(course, tmp_path / "release", options)  # the reference full marks, the starter 0
    student = tmp_path / "release" / "student" / "prices.ipynb"
    for name, answer in PRICES.items():
        path = with_answers(student, {"q3": answer}, tmp_path / f"{name}.ipynb")
        (q3,) = grade(path, course, options=options).exercises
        assert q3.score == pytest.approx(PRICE_SCORES[name]), name
