"""Tests of grader.assemble: only answer cells come from a submission; read_notebook errors."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from grader import notebooks as notebooks_module
from grader.assemble import CHECK_IMPORT, Step, assemble
from grader.errors import SpecError, SubmissionError
from grader.notebooks import read_notebook
from grader.render import render_assignment


def student(course):
    return render_assignment(course, course.assignments[0], "student")


def answer_cell(nb, eid):
    (cell,) = [c for c in nb.cells if c.metadata.get("grader") == {"id": eid, "role": "answer"}]
    return cell


def answered(course, x="x = 42", arr="arr = [1, 2]"):
    nb = student(course)
    answer_cell(nb, "t-num").source = x
    answer_cell(nb, "t-arr").source = arr
    return nb


def sources(assembled, role="answer"):
    return {s.exercise: s.source for s in assembled.steps if s.role == role}


# --- assemble ---------------------------------------------------------------------------------


def test_steps_of_a_complete_submission(small_course):
    result = assemble(small_course, "a1", answered(small_course))
    spec_num = small_course.exercises["t-num"].answer.export_spec()
    spec_arr = small_course.exercises["t-arr"].answer.export_spec()
    assert spec_num == {"name": "x", "recipe": "value"}
    assert result.steps == (
        Step("setup", "a1", CHECK_IMPORT),
        Step("setup", "t", "import math\n"),
        Step("answer", "t-num", "x = 42"),
        Step("export", "t-num", spec=spec_num),
        Step("answer", "t-arr", "arr = [1, 2]"),
        Step("export", "t-arr", spec=spec_arr),
    )
    assert result.notices == ()
    assert result.missing == frozenset()


def test_only_answer_cells_are_taken(small_course):
    nb = answered(small_course)
    nb.cells.insert(5, new_code_cell("import os; os.system('rm -rf /')"))  # a student's own cell
    nb.cells.append(new_code_cell("x = 'overwritten'"))
    result = assemble(small_course, "a1", nb)
    assert [s.source for s in result.steps if s.role != "export"] == [
        CHECK_IMPORT,
        "import math\n",
        "x = 42",
        "arr = [1, 2]",
    ]
    assert result.notices == ()


def test_edited_setup_and_prompt_cells_are_ignored(small_course):
    nb = answered(small_course)
    setup = next(c for c in nb.cells if c.metadata["grader"]["role"] == "setup")
    setup.source = "import math\nmath.pi = 3"  # e.g. to change what the checks see
    for cell in nb.cells:
        if cell.metadata["grader"]["role"] in ("prompt", "header", "intro"):
            cell.source = "x = 0"
    result = assemble(small_course, "a1", nb)
    (setup_step,) = [s for s in result.steps if s.role == "setup" and s.exercise == "t"]
    assert setup_step.source == small_course.topics["t"].setup == "import math\n"
    assert sources(result) == {"t-num": "x = 42", "t-arr": "arr = [1, 2]"}


def test_missing_answer_cell_uses_the_starter(small_course):
    nb = answered(small_course)
    nb.cells.remove(answer_cell(nb, "t-num"))
    result = assemble(small_course, "a1", nb)
    assert sources(result) == {"t-num": "x = ...\n", "t-arr": "arr = [1, 2]"}
    assert result.missing == frozenset({"t-num"})
    assert result.notices == ("no answer cell for 't-num' was found; it was graded as unanswered",)


def test_duplicated_answer_cell_last_one_wins(small_course):
    nb = answered(small_course)
    first = answer_cell(nb, "t-num")
    copy = new_code_cell("x = 43", metadata={"grader": {"id": "t-num", "role": "answer"}})
    nb.cells.append(copy)
    assert first.source == "x = 42"
    result = assemble(small_course, "a1", nb)
    assert sources(result)["t-num"] == "x = 43"
    assert result.notices == ("2 cells answer 't-num'; the last one was graded",)
    assert result.missing == frozenset()


def test_answer_cell_tagged_with_unknown_id(small_course):
    nb = answered(small_course)
    nb.cells.append(new_code_cell("y = 1", metadata={"grader": {"id": "zz", "role": "answer"}}))
    result = assemble(small_course, "a1", nb)
    assert sources(result) == {"t-num": "x = 42", "t-arr": "arr = [1, 2]"}
    assert result.notices == (
        f"cell {len(nb.cells)} is tagged as the answer to 'zz', which is not an exercise of "
        "this assignment; it was ignored",
    )


def test_answer_cell_turned_into_markdown_is_ignored(small_course):
    nb = answered(small_course)
    cell = answer_cell(nb, "t-arr")
    index = nb.cells.index(cell)
    nb.cells[index] = new_markdown_cell("arr = [1, 2]", metadata=dict(cell.metadata))
    result = assemble(small_course, "a1", nb)
    assert sources(result) == {"t-num": "x = 42", "t-arr": "arr = ...\n"}
    assert result.missing == frozenset({"t-arr"})
    assert result.notices == (
        "the answer cell for 't-arr' was turned into a markdown cell; it was ignored",
        "no answer cell for 't-arr' was found; it was graded as unanswered",
    )


def test_stripped_metadata_still_matches_by_cell_id(small_course):
    nb = answered(small_course)
    for cell in nb.cells:
        cell.metadata = {}
    assert answer_cell_ids(nb) == ["answer-t-num", "answer-t-arr"]
    result = assemble(small_course, "a1", nb)
    assert sources(result) == {"t-num": "x = 42", "t-arr": "arr = [1, 2]"}
    assert result.notices == () and result.missing == frozenset()


def answer_cell_ids(nb):
    return [c.id for c in nb.cells if c.id.startswith("answer-")]


def test_metadata_tag_wins_over_cell_id(small_course):
    nb = answered(small_course)
    cell = answer_cell(nb, "t-num")
    cell.metadata["grader"] = {"id": "t-arr", "role": "answer"}  # id still answer-t-num
    result = assemble(small_course, "a1", nb)
    assert sources(result) == {"t-num": "x = ...\n", "t-arr": "arr = [1, 2]"}  # last t-arr
    assert result.missing == frozenset({"t-num"})
    assert result.notices == (
        "2 cells answer 't-arr'; the last one was graded",
        "no answer cell for 't-num' was found; it was graded as unanswered",
    )


def test_list_source_is_joined(small_course, make_notebook):
    nb = make_notebook(
        cells=[
            ("code", "x = 1\n", {"grader": {"id": "t-num", "role": "answer"}}),
            ("code", "arr = [1]", {"grader": {"id": "t-arr", "role": "answer"}}),
        ]
    )
    nb.cells[0].source = ["x = 1\n", "x += 1\n"]
    assert sources(assemble(small_course, "a1", nb))["t-num"] == "x = 1\nx += 1\n"


def test_every_answer_step_is_followed_by_its_export(shipped_course):
    for a in shipped_course.assignments:
        result = assemble(shipped_course, a.id, render_assignment(shipped_course, a, "student"))
        steps = result.steps
        answers = [i for i, s in enumerate(steps) if s.role == "answer"]
        assert [steps[i].exercise for i in answers] == list(a.exercises)
        for i in answers:
            export = steps[i + 1]
            assert (export.role, export.exercise, export.source) == (
                "export",
                steps[i].exercise,
                "",
            )
            answer = shipped_course.exercises[steps[i].exercise].answer
            spec = dict(export.spec)
            if spec["recipe"] == "model":  # a seed fresh for this grading: behaviour check
                assert isinstance(spec.pop("seed"), int)
            expected = dict(answer.export_spec())
            if spec["recipe"] == "calls":  # the cases drawn for this grading follow the fixed
                drawn = result.draws.get(steps[i].exercise, {})
                fresh = [*drawn.get("generated", ()), *drawn.get("examples", ())]
                assert len(fresh) == (10 if answer["generate"] else 0)
                expected["cases"] = [*expected["cases"], *fresh]
            assert spec == expected
        assert len([s for s in steps if s.role == "export"]) == len(answers)
        assert result.notices == () and result.missing == frozenset()


def test_a_model_export_gets_a_fresh_seed_per_grading(shipped_course):
    a = next(a for a in shipped_course.assignments if "cnn-model" in a.exercises)
    nb = render_assignment(shipped_course, a, "student")
    seeds = [
        next(s.spec["seed"] for s in assemble(shipped_course, a.id, nb).steps if s.spec.get("seed"))
        for _ in range(2)
    ]
    assert seeds[0] != seeds[1]


def test_empty_notebook_everything_missing(small_course, make_notebook):
    result = assemble(small_course, "a1", make_notebook())
    assert result.missing == frozenset({"t-num", "t-arr"})
    assert sources(result) == {"t-num": "x = ...\n", "t-arr": "arr = ...\n"}


def test_unknown_assignment_is_a_spec_error(small_course, make_notebook):
    with pytest.raises(SpecError, match="unknown assignment 'zz'"):
        assemble(small_course, "zz", make_notebook())


# --- read_notebook ----------------------------------------------------------------------------


def test_read_notebook_round_trip(tmp_path, small_course):
    path = tmp_path / "a1.ipynb"
    nb = answered(small_course)
    nbformat.write(nb, str(path))
    before = path.read_bytes()
    assert read_notebook(path) == nb
    assert path.read_bytes() == before


def test_read_notebook_utf8_bom(tmp_path, small_course):
    path = tmp_path / "a1.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + nbformat.writes(answered(small_course)).encode())
    assert answer_cell(read_notebook(path), "t-num").source == "x = 42"


def test_read_notebook_refuses_nbformat_3(tmp_path):
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": "old"},
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "input": "x = 42",
                        "language": "python",
                        "outputs": [],
                        "metadata": {},
                    },
                    {"cell_type": "markdown", "source": "notes", "metadata": {}},
                ],
                "metadata": {},
            }
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    before = path.read_bytes()
    with pytest.raises(SubmissionError) as err:
        read_notebook(path)
    assert str(err.value) == (
        "old.ipynb: an nbformat 3 notebook; this course's notebooks are nbformat 4 "
        "(start from the released notebook, or save it again in Jupyter)"
    )
    assert path.read_bytes() == before


def _valid_notebook_bytes():
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]))


BAD_FILES = {
    "not-json": (b"hello, grader", "not a notebook (invalid JSON at line 1, column 1)"),
    "truncated": (_valid_notebook_bytes()[:40].encode(), "not a notebook (invalid JSON at line"),
    "empty": (b"", "the file is empty"),
    "blank": (b"  \n\n ", "the file is empty"),
    "binary": (bytes(range(256)) * 4, "not a notebook (not UTF-8 text)"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a notebook (not UTF-8 text)"),
    "latin-1": (
        '{"cells": [], "metadata": {"author": "Zoë"}}'.encode("latin-1"),
        "not a notebook (not UTF-8 text)",
    ),
    "json-list": (b"[1, 2, 3]", "not a notebook (no list of cells)"),
    "json-string": (b'"cells"', "not a notebook (no list of cells)"),
    "cells-not-a-list": (b'{"cells": "x = 1"}', "not a notebook (no list of cells)"),
    "no-cells": (b'{"metadata": {}}', "not a notebook (no list of cells)"),
    "future-nbformat": (
        b'{"cells": [], "metadata": {}, "nbformat": 9, "nbformat_minor": 0}',
        "an nbformat 9 notebook; this course's notebooks are nbformat 4",
    ),
}


@pytest.mark.parametrize("content,message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_read_notebook_rejects_with_one_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "alice.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError) as err:
        read_notebook(path)
    text = str(err.value)
    assert text.startswith("alice.ipynb: ")
    assert message in text
    assert "\n" not in text
    assert path.read_bytes() == content


def test_read_notebook_over_size(tmp_path, monkeypatch):
    monkeypatch.setattr(notebooks_module, "MAX_NOTEBOOK_BYTES", 2 * 2**20)
    path = tmp_path / "big.ipynb"
    content = b" " * (3 * 2**20) + _valid_notebook_bytes().encode()
    path.write_bytes(content)
    with pytest.raises(SubmissionError) as err:
        read_notebook(path)
    assert str(err.value) == "big.ipynb: 3.0 MiB is more than the 2 MiB a notebook may be"
    assert path.read_bytes() == content


def test_read_notebook_missing_file_and_folder(tmp_path):
    with pytest.raises(SubmissionError) as err:
        read_notebook(tmp_path / "nope.ipynb")
    assert str(err.value) == f"{tmp_path / 'nope.ipynb'}: no such file"
    (tmp_path / "dir.ipynb").mkdir()
    with pytest.raises(SubmissionError) as err:
        read_notebook(tmp_path / "dir.ipynb")
    assert str(err.value) == f"{tmp_path / 'dir.ipynb'}: is a folder, not a notebook"


def test_read_notebook_deeply_nested_json(tmp_path):
    path = tmp_path / "deep.ipynb"
    content = b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    path.write_bytes(content)
    with pytest.raises(SubmissionError) as err:
        read_notebook(path)
    assert str(err.value).startswith("deep.ipynb: not a notebook")
    assert path.read_bytes() == content
