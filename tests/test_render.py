"""Tests of grader.render: student and solution notebooks from the spec, no kernel."""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import COURSE_YAML, TOPIC_YAML

from grader import load_course
from grader.errors import RenderError
from grader.render import answer_cell_id, render_assignment
from grader.solutions import load_solutions

SHIPPED_IDS = ["ps1", "ps2", "ps3"]


def grader_meta(nb, role):
    return [c for c in nb.cells if c.metadata.get("grader", {}).get("role") == role]


def sections_of(course, assignment):
    sections = {}
    for topic in {course.exercises[e].topic for e in assignment.exercises}:
        sections.update(load_solutions(course, topic).sections)
    return sections


# --- the shipped course ---------------------------------------------------------------------------


@pytest.mark.parametrize("aid", SHIPPED_IDS)
def test_shipped_student_notebook_is_valid_with_one_answer_cell_per_exercise(shipped_course, aid):
    a = shipped_course.assignment(aid)
    nb = render_assignment(shipped_course, a, "student")
    nbformat.validate(nb)
    again = nbformat.reads(nbformat.writes(nb), as_version=4)  # survives a disk round trip
    nbformat.validate(again)
    answers = [c for c in nb.cells if c.metadata.get("grader", {}).get("role") == "answer"]
    assert [c.metadata["grader"] for c in answers] == [
        {"id": e, "role": "answer"} for e in a.exercises
    ]
    for cell, eid in zip(answers, a.exercises, strict=True):
        assert cell.cell_type == "code"
        assert cell.id == f"answer-{eid}"
        assert cell.source == shipped_course.exercises[eid].starter.rstrip("\n")
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids))
    assert nb.metadata["grader"] == {
        "course": "Convolutional networks",
        "assignment": aid,
        "version": shipped_course.fingerprint,
        "flavor": "student",
    }
    assert nb.metadata["kernelspec"]["name"] == "python3"


def _solution_lines(course, assignment, sections):
    """Non-trivial lines of the reference answers that the spec itself does not show."""
    shown = []
    for eid in assignment.exercises:
        ex = course.exercises[eid]
        topic = course.topics[ex.topic]
        shown += [ex.prompt, ex.starter, topic.setup, topic.intro]
    shown_text = "\n".join(shown)
    lines = set()
    for eid in assignment.exercises:
        for line in sections[eid].splitlines():
            line = line.strip()
            if len(line) >= 10 and not line.startswith("#") and line not in shown_text:
                lines.add(line)
    return lines


@pytest.mark.parametrize("aid", SHIPPED_IDS)
def test_shipped_student_notebook_contains_no_reference_solution(shipped_course, aid):
    a = shipped_course.assignment(aid)
    sections = sections_of(shipped_course, a)
    secret = _solution_lines(shipped_course, a, sections)
    assert len(secret) >= len(a.exercises)  # enough lines to make the check meaningful
    student = "\n".join(c.source for c in render_assignment(shipped_course, a, "student").cells)
    solution = "\n".join(
        c.source for c in render_assignment(shipped_course, a, "solution", sections).cells
    )
    assert sorted(line for line in secret if line in student) == []
    assert sorted(line for line in secret if line not in solution) == []  # the check can fail


@pytest.mark.parametrize("aid", SHIPPED_IDS)
def test_shipped_solution_notebook_answer_cells_are_the_sections(shipped_course, aid):
    a = shipped_course.assignment(aid)
    sections = sections_of(shipped_course, a)
    sol = render_assignment(shipped_course, a, "solution", sections)
    student = render_assignment(shipped_course, a, "student")
    nbformat.validate(sol)
    answers = grader_meta(sol, "answer")
    assert [c.metadata["grader"]["id"] for c in answers] == list(a.exercises)
    assert [c.source for c in answers] == [sections[e].rstrip("\n") for e in a.exercises]
    assert sol.metadata["grader"]["flavor"] == "solution"
    # everything but the answer cells is the same as in the student notebook
    rest = [(c.id, c.source) for c in sol.cells if c.metadata["grader"]["role"] != "answer"]
    assert rest == [
        (c.id, c.source) for c in student.cells if c.metadata["grader"]["role"] != "answer"
    ]


# --- a small course -------------------------------------------------------------------------------


def test_cells_in_order_with_roles_ids_and_lock_flags(small_course):
    nb = render_assignment(small_course, small_course.assignments[0], "student")
    assert [(c.cell_type, c.id, c.metadata["grader"]) for c in nb.cells] == [
        ("markdown", "header-a1", {"id": "a1", "role": "header"}),
        ("markdown", "intro-t", {"id": "t", "role": "intro"}),
        ("code", "setup-t", {"id": "t", "role": "setup"}),
        ("markdown", "prompt-t-num", {"id": "t-num", "role": "prompt"}),
        ("code", "answer-t-num", {"id": "t-num", "role": "answer"}),
        ("markdown", "prompt-t-arr", {"id": "t-arr", "role": "prompt"}),
        ("code", "answer-t-arr", {"id": "t-arr", "role": "answer"}),
    ]
    for cell in nb.cells:
        locked = cell.metadata["grader"]["role"] != "answer"
        assert ("editable" in cell.metadata) is locked
        if locked:
            assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
    assert nb.cells[1].source == "## Test topic\n\nRead this first.\n"
    assert nb.cells[2].source == "import math"
    assert nb.cells[3].source == (
        "### 1. A number (2 points)\n\nCompute the answer.\n\n"
        "*✏️ Your answer:* assign it to `x` in the cell below."
    )
    assert nb.cells[4].source == "x = ..."
    assert nb.cells[5].source.startswith("### 2. An array (3 points)\n")


def test_header_names_course_assignment_due_date_and_command(small_course):
    nb = render_assignment(small_course, small_course.assignments[0], "student")
    header = nb.cells[0].source
    assert header.startswith("# Test course — First\n")
    assert "**Assignment `a1`**" in header
    assert "· due 2030-01-31 23:59 UTC" in header
    assert "    grade a1.ipynb\n" in header


def test_no_due_date_no_due_text(write_course, tmp_path):
    course = load_course(
        write_course(tmp_path, course=COURSE_YAML.replace("    due: 2030-01-31\n", ""))
    )
    header = render_assignment(course, course.assignments[0], "student").cells[0].source
    assert "due" not in header


def test_notebook_metadata(small_course):
    nb = render_assignment(small_course, small_course.assignments[0], "student")
    assert nb.metadata["grader"] == {
        "course": "Test course",
        "assignment": "a1",
        "version": small_course.fingerprint,
        "flavor": "student",
    }
    assert nb.metadata["kernelspec"] == {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    assert nb.metadata["language_info"] == {"name": "python"}


def test_prompt_jinja2_variables_render(write_course, tmp_path):
    topic = TOPIC_YAML.replace(
        "      Compute the answer.\n",
        (
            "      {{ id }} is worth {{ points }}: assign `{{ answer.name }}` "
            "({{ answer.kind }}, {{ title }}).\n"
            "      {% for i in range(3) %}{{ i }}{% endfor %}\n"
        ),
    ).replace("    points: 2\n", "    points: 2.5\n")
    course = load_course(write_course(tmp_path, exercises={"t": topic}))
    nb = render_assignment(course, course.assignments[0], "student")
    assert nb.cells[3].source == (
        "### 1. A number (2.5 points)\n\n"
        "t-num is worth 2.5: assign `x` (number, A number).\n012\n\n"
        "*✏️ Your answer:* assign it to `x` in the cell below."
    )


def test_one_point_is_singular(write_course, tmp_path):
    topic = TOPIC_YAML.replace("    points: 2\n", "    points: 1\n")
    course = load_course(write_course(tmp_path, exercises={"t": topic}))
    nb = render_assignment(course, course.assignments[0], "student")
    assert nb.cells[3].source.startswith("### 1. A number (1 point)\n")


@pytest.mark.parametrize(
    "template,problem",
    [
        ("Use {{ nope }}.", "'nope' is undefined"),
        ("Use {{ answer.nope }}.", "has no attribute 'nope'"),
        ("Use {% if %}.", "Expected an expression"),
        ("Use {{ points ", "unexpected end of template"),
    ],
)
def test_broken_prompt_template_names_the_exercise(write_course, tmp_path, template, problem):
    topic = TOPIC_YAML.replace("      Compute the array.\n", f"      {template}\n")
    course = load_course(write_course(tmp_path, exercises={"t": topic}))
    with pytest.raises(RenderError) as err:
        render_assignment(course, course.assignments[0], "student")
    message = str(err.value)
    where = f"{tmp_path / 'exercises' / 't.yaml'}:20"
    assert message.startswith(f"cannot render the prompt of 't-arr' ({where}): ")
    assert problem in message


def test_solution_flavor_needs_solutions(small_course):
    with pytest.raises(RenderError, match="no reference solution for: t-num, t-arr"):
        render_assignment(small_course, small_course.assignments[0], "solution")


def test_solution_flavor_uses_the_sections(small_course):
    sections = load_solutions(small_course, "t").sections
    nb = render_assignment(small_course, small_course.assignments[0], "solution", sections)
    assert [c.source for c in grader_meta(nb, "answer")] == ["x = 6 * 7", "arr = [1.0, 2.0]"]
    assert "half_right" not in "\n".join(c.source for c in nb.cells)  # the preamble is not shown
    student = render_assignment(small_course, small_course.assignments[0], "student")
    text = "\n".join(c.source for c in student.cells)
    assert "6 * 7" not in text and "[1.0, 2.0]" not in text


def test_two_topics_get_intro_and_setup_once_before_their_first_exercise(write_course, tmp_path):
    other = (
        "topic: u\ntitle: Other\nexercises:\n  - id: u-one\n    title: One\n"
        "    points: 1\n    prompt: One.\n    answer: {kind: shape, name: s}\n"
    )
    course_yaml = COURSE_YAML.replace("[t-num, t-arr]", "[t-num, u-one, t-arr]")
    course = load_course(
        write_course(tmp_path, course=course_yaml, exercises={"t": TOPIC_YAML, "u": other})
    )
    nb = render_assignment(course, course.assignments[0], "student")
    assert [c.id for c in nb.cells] == [
        "header-a1",
        "intro-t",
        "setup-t",
        "prompt-t-num",
        "answer-t-num",
        "intro-u",
        "prompt-u-one",
        "answer-u-one",  # u has no setup: no setup cell
        "prompt-t-arr",
        "answer-t-arr",
    ]
    assert re.match(r"### 2\. One \(1 point\)", nb.cells[6].source)
    assert re.match(r"### 3\. An array \(3 points\)", nb.cells[8].source)
    assert grader_meta(nb, "answer")[1].source == "s = ..."  # the default starter


def test_answer_cell_id():
    assert answer_cell_id("t-num") == "answer-t-num"


def test_longest_ids_keep_unique_stable_valid_answer_cell_ids(write_course, tmp_path):
    """Ids are at most 56 characters (the spec refuses longer ones, see test_spec), so
    "answer-" + id always fits nbformat's 64-character cell ids: no cut, no collision."""
    long = "a" * 54
    assert len(f"{long}-x") == 56
    topic = (
        f"topic: t\nexercises:\n"
        f"  - id: {long}-x\n    title: X\n    points: 1\n    prompt: p\n"
        f"    answer: {{kind: number, name: x}}\n"
        f"  - id: {long}-y\n    title: Y\n    points: 1\n    prompt: p\n"
        f"    answer: {{kind: number, name: y}}\n"
    )
    course_yaml = f"name: C\nassignments:\n  - id: a1\n    exercises: [{long}-x, {long}-y]\n"
    path = write_course(tmp_path, course=course_yaml, exercises={"t": topic}, solutions={})
    course = load_course(path)
    nb = render_assignment(course, course.assignments[0], "student")
    nbformat.validate(nb)
    answer_ids = [c.id for c in grader_meta(nb, "answer")]
    assert answer_ids == [f"answer-{long}-x", f"answer-{long}-y"]
    assert all(len(i) == 63 for i in answer_ids)
    again = render_assignment(course, course.assignments[0], "student")
    assert [c.id for c in grader_meta(again, "answer")] == answer_ids


def test_an_assignment_and_a_topic_of_one_name_give_cells_of_distinct_ids(write_course, tmp_path):
    """Assignment ``t`` of topic ``t`` with an exercise ``t``: every cell id is unique and the
    same on every build (nbformat made a repeated id random, with a warning)."""
    import warnings

    course_yaml = "name: C\nassignments:\n  - id: t\n    exercises: [t]\n"
    topic = (
        "topic: t\nsetup: x = 1\nexercises:\n  - id: t\n    title: T\n    points: 1\n"
        "    prompt: p\n    answer: {kind: number, name: v}\n"
    )
    course = load_course(
        write_course(
            tmp_path, course=course_yaml, exercises={"t": topic}, solutions={"t": "# %% t\nv = 1\n"}
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = render_assignment(course, course.assignment("t"), "handout")
        again = render_assignment(course, course.assignment("t"), "handout")
    ids = [c.id for c in first.cells]
    assert len(ids) == len(set(ids)), ids
    assert ids == [c.id for c in again.cells]
    assert "answer-t" in ids and "check-t" in ids and "check-t-2" in ids
