"""A class of 30 on the shipped course: every student their own ps1 and ps2, each variant
checked (5 of each assignment's run: solution full marks, blank 0), and a batch where copying
is caught."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from grader import load_course
from grader.batch import BatchOptions, grade_batch
from grader.build import build_students
from grader.gradebook import Gradebook
from grader.intake import collect
from grader.keymaker import answer_key, solution_notebook
from grader.options import GradeOptions
from grader.roster import Student, save_roster
from grader.spec.varying import varying_exercises
from grader.variants import for_variant

pytestmark = pytest.mark.kernel

CLASS = tuple(Student(f"s{i:02d}", f"Student {i}", f"s{i:02d}@example.org") for i in range(30))
SECRET = b"a course secret for the tests"


@pytest.fixture(scope="module")
def class_of_30(built_course, tmp_path_factory):
    """A copy of the built shipped course with a roster of 30 and their ps1 and ps2."""
    course, _ = built_course
    root = tmp_path_factory.mktemp("class30")
    for name in ("course.yaml", "exercises", "solutions", "checks", "release"):
        source = course.root / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, root / name)
    (root / ".grade-secret").write_text(SECRET.decode())
    mine = load_course(root / "course.yaml")
    save_roster(root / "release", CLASS, SECRET)
    options = GradeOptions(release=root / "release")
    # each assignment's 30 variants are built and checked in this process, and 5 of them run
    # (solution and blank: a kernel each; benchmarks/roster.py runs the whole class of both)
    built = {
        a: build_students(mine, a, CLASS, SECRET, root / "release", options, 5)
        for a in ("ps1", "ps2")
    }
    return mine, built


def test_thirty_variants_build_and_check_themselves(class_of_30):
    course, built = class_of_30
    for assignment, (students, _, problems) in built.items():
        assert (students, problems) == (30, []), assignment
    assert (built["ps1"][1], built["ps2"][1]) == (5, 5)  # 5 of the 30 variants run twice each
    varying = {a: {ex.id for ex in varying_exercises(course, a)} for a in ("ps1", "ps2")}
    assert len(varying["ps1"]) == 13  # every ps1 exercise (its topic has parameters)
    assert {"shape-conv1d", "shape-conv2d-stride", "shape-dilation", "shape-pool"} <= varying["ps2"]
    assert {"params-conv2d", "params-conv1d", "params-linear"} <= varying["ps2"]
    assert not {"cifar-conv1", "params-cifar", "params-total"} & varying["ps2"]
    setups = set()
    for student in CLASS:
        nb = nbformat.read(
            str(course.root / "release" / "student" / "ps1" / f"{student.id}.ipynb"), 4
        )
        setups.add(next(c.source for c in nb.cells if c.metadata["grader"]["role"] == "setup"))
    assert len(setups) == 30


def test_a_class_of_30_grades_with_copying_caught(class_of_30, tmp_path):
    course, _ = class_of_30
    release = course.root / "release"
    folder = tmp_path / "class"
    folder.mkdir()
    options = GradeOptions(release=release, limits={"cell_timeout": 30})
    answers, variants = {}, {}
    for student in CLASS:
        nb = nbformat.read(str(release / "student" / "ps1" / f"{student.id}.ipynb"), 4)
        variant = variants[student.id] = nb.metadata["grader"]["variant"]
        solved = solution_notebook(for_variant(course, "ps1", variant), "ps1")
        answers[student.id] = {
            c.metadata["grader"]["id"]: c.source
            for c in solved.cells
            if c.metadata["grader"]["role"] == "answer"
        }
    # s03 hands in s04's numbers (the values, as a classmate would pass them on) in s03's own
    # notebook; the others their own solution
    copied = {"s03": "s04", "s10": "s11"}
    for student in CLASS:
        nb = nbformat.read(str(release / "student" / "ps1" / f"{student.id}.ipynb"), 4)
        source = answers[student.id]
        if student.id in copied:
            other = variants[copied[student.id]]
            values = answer_key(for_variant(course, "ps1", other), "ps1", options).values
            source = {e: f"{course.exercises[e].answer.name} = {values[e]!r}" for e in source}
        for cell in nb.cells:
            if cell.metadata["grader"]["role"] == "answer":
                cell.source = source[cell.metadata["grader"]["id"]]
        nbformat.write(nb, str(folder / f"{student.id}.ipynb"))
    # s20 hands in the default notebook (no student in it), with the default numbers' values
    default = answer_key(for_variant(course, "ps1", ""), "ps1", options).values
    nb = nbformat.read(str(release / "student" / "ps1.ipynb"), 4)
    for cell in nb.cells:
        if cell.metadata["grader"]["role"] == "answer":
            eid = cell.metadata["grader"]["id"]
            cell.source = f"{course.exercises[eid].answer.name} = {default[eid]!r}"
    nbformat.write(nb, str(folder / "s20.ipynb"))
    found = collect(folder, tmp_path / "copies")
    with Gradebook(tmp_path / "gb.db") as gb:
        summary = grade_batch(course, found, gb, options, BatchOptions(workers=2))
        attempts = {a.student: a for a in gb.attempts("ps1")}
    assert summary.count("graded") == 30
    cheats = {"s03", "s10", "s20"}
    assert {s for s, a in attempts.items() if a.score == 30} == {s.id for s in CLASS} - cheats
    assert all(attempts[s].score == 0 for s in cheats)
    assert {s: a.copied_from for s, a in attempts.items() if a.copied_from} == {
        "s03": "s04",
        "s10": "s11",
        "s20": "-",
    }
    assert {s for s, a in attempts.items() if a.flags} == cheats
    assert "carries no student id" in " ".join(attempts["s20"].flags)
