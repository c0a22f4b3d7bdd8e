"""Per-student variants: parameters, constraints, a roster build, grading each student against
their own numbers, and copying made visible (in the report, the gradebook, the dashboard)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader import load_course
from grader.copying import References, canonical, copied_from
from grader.errors import GraderError, SpecError
from grader.execute.records import ExportRecord
from grader.results import ExerciseResult, GradeResult
from grader.roster import (
    SECRET_FILE,
    checked_secret,
    course_secret,
    load_roster,
    read_roster,
    signature,
    variant_of,
)
from grader.spec.varying import DEFAULT
from grader.variants import default_variant, draw, for_variant, specialize

COURSE = """\
name: Variant course
assignments:
  - id: a1
    title: Variants
    exercises: [v-corr, v-shape]
  - id: a2
    title: No parameters
    exercises: [plain]
"""

TOPIC = """\
topic: v
title: Variants
intro: |
  The signal is {{ signal }}.
params:
  signal: {list: 5, int: [0, 9], default: [1, 2, 3, 4, 5]}
  kernel: {list: 3, int: [-2, 2], default: [1, 0, -1]}
constraints:
  - "kernel != kernel[::-1]"
  - "len(set(signal)) > 2"
setup: |
  signal = {{ signal }}
  kernel = {{ kernel }}
exercises:
  - id: v-corr
    title: Correlate
    points: 2
    prompt: |
      Correlate $x = {{ signal }}$ with $w = {{ kernel }}$ ('valid').
    starter: |
      corr = ...  # {{ signal | length - kernel | length + 1 }} numbers
    answer: {kind: array, name: corr, rtol: 0, atol: 0.000001}
    mistakes:
      - function: flipped
        title: the kernel was flipped
        hint: "Use {{ kernel }} as it is."
    hints:
      - "The first output starts with {{ signal[0] }} times {{ kernel[0] }}."
  - id: v-shape
    title: A shape
    points: 1
    params:
      n: {int: [10, 40], default: 32}
      k: {choice: [3, 5], default: 3}
    constraints:
      - "n > k"
    prompt: |
      `Conv1d(4, 16, kernel_size={{ k }})` on `(1, 4, {{ n }})`: the output shape?
    starter: |
      shape = ...
    answer: {kind: shape, name: shape}
    instant: true
    mistakes:
      - function: padded
        title: as if padded
        hint: "Without padding the length shrinks by {{ k - 1 }}."
"""

PLAIN = """\
topic: p
title: Plain
exercises:
  - id: plain
    title: Plain
    points: 1
    prompt: Six times seven.
    answer: {kind: number, name: answer}
"""

SOLUTIONS = """\
def _corr(x, w):
    return [sum(w[j] * x[i + j] for j in range(len(w))) for i in range(len(x) - len(w) + 1)]


def flipped(signal, kernel):
    return _corr(signal, kernel[::-1])


def padded(n):
    return (1, 16, n)

# %% v-corr
corr = [sum(kernel[j] * signal[i + j] for j in range(3)) for i in range(len(signal) - 2)]

# %% v-shape
shape = (1, 16, n - k + 1)
"""

ROSTER = (
    "id,name,email\nalice,Alice A,alice@example.org\nbob,Bob B,bob@example.org\ncarol,Carol C,\n"
)


def write(tmp_path: Path, topic: str = TOPIC) -> Path:
    (tmp_path / "exercises").mkdir(parents=True, exist_ok=True)
    (tmp_path / "solutions").mkdir(exist_ok=True)
    (tmp_path / "course.yaml").write_text(COURSE)
    (tmp_path / "exercises" / "v.yaml").write_text(topic)
    (tmp_path / "exercises" / "p.yaml").write_text(PLAIN)
    (tmp_path / "solutions" / "v.py").write_text(SOLUTIONS)
    (tmp_path / "solutions" / "p.py").write_text("# %% plain\nanswer = 42\n")
    (tmp_path / "roster.csv").write_text(ROSTER)
    return tmp_path / "course.yaml"


# --- parameters and constraints, without kernels -------------------------------------------


def test_without_a_roster_every_text_has_the_defaults(tmp_path):
    course = load_course(write(tmp_path))
    assert course.variant == DEFAULT
    assert course.topics["v"].setup == "signal = [1, 2, 3, 4, 5]\nkernel = [1, 0, -1]\n"
    assert course.topics["v"].intro == "The signal is [1, 2, 3, 4, 5].\n"
    ex = course.exercises["v-corr"]
    assert ex.starter == "corr = ...  # 3 numbers\n"
    assert ex.hints == ("The first output starts with 1 times 1.",)
    assert ex.mistakes[0].hint == "Use [1, 0, -1] as it is."
    assert course.exercises["v-shape"].own_values == {"n": 32, "k": 3}
    assert course.exercises["v-shape"].values["signal"] == [1, 2, 3, 4, 5]


def test_reading_a_course_renders_nothing_and_grading_renders_it(tmp_path, monkeypatch):
    """grader.spec.load_course reads the course as written (no jinja, no solutions preamble);
    grader.load_course is its default variant, and for_variant renders a course as written."""
    import grader.solutions
    from grader.spec import load_course as read_course

    def no_preamble(*args):
        raise AssertionError("reading a course runs no solutions preamble")

    monkeypatch.setattr(grader.solutions, "preamble_namespace", no_preamble)
    raw = read_course(write(tmp_path))
    assert raw.topics["v"].setup.startswith("signal = {{ signal }}")
    monkeypatch.undo()
    rendered = load_course(tmp_path / "course.yaml")
    assert rendered.topics["v"].setup.startswith("signal = [1, 2, 3, 4, 5]")
    assert for_variant(raw, "a1", DEFAULT).topics["v"].setup == rendered.topics["v"].setup
    assert default_variant(raw).topics["v"].setup == rendered.topics["v"].setup  # grade build
    assert default_variant(rendered) is rendered


def test_a_variant_is_deterministic_differs_and_meets_its_constraints(tmp_path):
    course = load_course(write(tmp_path))
    one = specialize(course, "variant-one", "a1")
    assert specialize(course, "variant-one", "a1").topics == one.topics
    two = specialize(course, "variant-two", "a1")
    assert one.topics["v"].setup != two.topics["v"].setup
    for name in ("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"):
        mine = specialize(course, name, "a1")
        values = mine.topics["v"].values
        assert values["kernel"] != values["kernel"][::-1]
        assert len(set(values["signal"])) > 2
        assert all(0 <= v <= 9 for v in values["signal"]) and len(values["signal"]) == 5
        assert f"signal = {values['signal']}" in mine.topics["v"].setup
        shape = mine.exercises["v-shape"].own_values
        assert 10 <= shape["n"] <= 40 and shape["k"] in (3, 5)
    # the assignment without parameters is the same object for every variant
    assert specialize(course, "s1", "a2").exercises["plain"] is course.exercises["plain"]


def test_generators_make_lists_matrices_and_rounded_floats():
    from grader.spec import Param

    rng = random.Random(1)
    matrix = draw(Param("m", "int", -2, 2, dims=((2, 2), (3, 3))), rng)
    assert len(matrix) == 2 and all(len(row) == 3 for row in matrix)
    assert all(-2 <= v <= 2 for row in matrix for v in row)
    lengths = {len(draw(Param("l", "int", 0, 1, dims=((2, 4),)), rng)) for _ in range(50)}
    assert lengths == {2, 3, 4}
    x = draw(Param("x", "float", 0.1, 0.9, digits=2), rng)
    assert 0.1 <= x <= 0.9 and round(x, 2) == x
    assert draw(Param("c", "choice", choices=("a", "b")), rng) in ("a", "b")


def test_constraints_that_cannot_be_met_name_the_exercise(tmp_path):
    # the default meets the constraint, no drawn value does: a roster build cannot be made
    topic = TOPIC.replace(
        "n: {int: [10, 40], default: 32}", "n: {float: [10, 40], digits: 6, default: 32}"
    )
    topic = topic.replace('- "n > k"', '- "n == 32"')
    course = load_course(write(tmp_path, topic))
    with pytest.raises(SpecError) as err:
        specialize(course, "someone", "a1")
    assert "exercise 'v-shape'" in str(err.value) and "'n == 32' was false in 200 of 200" in str(
        err.value
    )
    # a default that breaks its constraint is an error when the course is read
    bad = TOPIC.replace('- "n > k"', '- "n > 100"')
    with pytest.raises(SpecError, match="exercise 'v-shape': the default values break"):
        load_course(write(tmp_path / "bad", bad))
    # without a default, even the course without a roster draws: it cannot be read
    nodefault = TOPIC.replace("default: 32}", "}").replace('- "n > k"', '- "n > 100"')
    with pytest.raises(SpecError, match="exercise 'v-shape': the constraints cannot be met"):
        load_course(write(tmp_path / "nodefault", nodefault))


@pytest.mark.parametrize(
    "broken, line, error",
    [
        ("import math\nLIMIT = math.nope\n", 2, "AttributeError: module 'math' has no attribute"),
        ("def _oops():\n    return 1 / 0\n\n\nX = _oops()\n", 2, "ZeroDivisionError"),
        ("def f(:\n", 1, "SyntaxError"),
    ],
)
def test_a_broken_preamble_a_constraint_calls_on_is_said_to_be_broken(
    tmp_path, broken, line, error
):
    # the constraint calls _corr, a helper of the preamble: the preamble's own error, at its
    # line, not "the constraint raised NameError"
    topic = TOPIC.replace('- "len(set(signal)) > 2"', '- "len(_corr(signal, kernel)) == 3"')
    path = write(tmp_path, topic)
    solutions = tmp_path / "solutions" / "v.py"
    solutions.write_text(broken + "\n\n" + SOLUTIONS)
    with pytest.raises(SpecError) as err:
        load_course(path)
    assert (err.value.path, err.value.line) == (str(solutions), line)
    message = str(err.value)
    assert "the solutions preamble of topic 'v' is broken" in message and error in message
    assert "'len(_corr(signal, kernel)) == 3'" in message and "NameError" not in message
    # constraints that need nothing of the preamble are met as before (the build reports it)
    write(tmp_path, TOPIC)
    assert load_course(path).topics["v"].values["signal"] == [1, 2, 3, 4, 5]


def test_the_command_line_says_which_exercise_in_one_line(tmp_path):
    nodefault = TOPIC.replace("default: 32}", "}").replace('- "n > k"', '- "n > 100"')
    path = write(tmp_path, nodefault)
    done = subprocess.run(
        [sys.executable, "-m", "grader", "build", "--course", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "v-shape" in lines[0]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("n: {int: [1, 2], list: 2, matrix: [2, 2]}", "give list or matrix, not both"),
        ("n: {int: [1, 2], choice: [1]}", "give exactly one of int, float, choice"),
        ("n: {int: [5, 2]}", "low is above high"),
        ("n: {int: [1, 2], list: 3, default: [1, 2]}", "a list of 3 items"),
        ("n: {int: [1, 2], default: 1.5}", "expected an integer"),
        ("n: {int: [1, 2], colour: red}", "unknown field"),
        ("points: {int: [1, 2]}", "'points' is taken"),
        ("signal: {int: [1, 2]}", "already a parameter of the topic"),
    ],
)
def test_parameter_mistakes_are_errors_with_a_line(tmp_path, params, message):
    topic = TOPIC.replace("n: {int: [10, 40], default: 32}", params).replace(
        '- "n > k"', '- "k > 0"'
    )
    with pytest.raises(SpecError, match=message) as err:
        load_course(write(tmp_path, topic))
    assert err.value.line is not None


def test_a_roster_csv_with_or_without_a_header(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("Email,Name,Student\nann@x.org,Ann,ann\nben@x.org,Ben,ben\n")
    assert [(s.id, s.name, s.email) for s in read_roster(path)] == [
        ("ann", "Ann", "ann@x.org"),
        ("ben", "Ben", "ben@x.org"),
    ]
    path.write_text("ann,Ann\nben\n")
    assert [(s.id, s.name) for s in read_roster(path)] == [("ann", "Ann"), ("ben", "")]
    path.write_text("id,name\nann,Ann\nann,Ann again\n")
    with pytest.raises(SpecError, match="also on line 2") as err:
        read_roster(path)
    assert err.value.line == 3
    path.write_text("id\n../../etc\n")
    with pytest.raises(SpecError, match="not a usable student id"):
        read_roster(path)


def test_variants_and_signatures_come_from_the_secret(tmp_path):
    course = load_course(write(tmp_path))
    a = variant_of(b"secret", course, "a1", "alice")
    assert a == variant_of(b"secret", course, "a1", "alice") and len(a) == 12
    assert a != variant_of(b"secret", course, "a1", "bob")
    assert a != variant_of(b"another", course, "a1", "alice")
    assert variant_of(b"secret", course, "a2", "alice") == DEFAULT  # nothing varies there
    sig = signature(b"secret", course, "a1", "alice", a)
    assert sig != signature(b"secret", course, "a1", "bob", a)
    assert sig != signature(b"secret", course, "a1", "alice", "0" * 12)


def test_canonical_values_and_the_copying_index():
    assert canonical(25) == canonical(25.0) == canonical(25.0000001)
    assert canonical([1, 2]) != canonical([1, 3])
    refs = References(
        {
            "e1": {canonical([1, 2]): ("alice",), canonical([3, 4]): ("bob",)},
            "e2": {canonical(7): ("alice",), canonical(8): ("bob",)},
        },
        2,
    )

    def result(scores):
        exercises = tuple(
            ExerciseResult(e, e, 1, s, "passed" if s else "failed") for e, s in scores.items()
        )
        return GradeResult("c", "a1", "x.ipynb", sum(scores.values()), 2, 0, exercises)

    bobs = {
        "e1": ExportRecord({"ok": True, "value": [3, 4]}),
        "e2": ExportRecord({"ok": True, "value": 8}),
    }
    flag, whose = copied_from(result({"e1": 0, "e2": 0}), bobs, "alice", refs)
    assert whose == "bob" and "another student's numbers, not alice's: 2 of 2" in flag
    assert "bob" not in flag  # a student may read the flag: it names nobody
    one = {
        "e1": ExportRecord({"ok": True, "value": [3, 4]}),
        "e2": ExportRecord({"ok": True, "value": 9}),
    }
    assert copied_from(result({"e1": 0, "e2": 0}), one, "alice", refs) == ("", "")  # one match
    assert copied_from(result({"e1": 1, "e2": 1}), bobs, "bob", refs) == ("", "")  # right answers


# --- a roster build and grading, with kernels ------------------------------------------------


def fill(notebook: Path, values: dict, out: Path, edit=None) -> Path:
    """A copy of a notebook whose answer cells assign the given values."""
    nb = nbformat.read(str(notebook), as_version=4)
    names = {"v-corr": "corr", "v-shape": "shape", "plain": "answer"}
    for cell in nb.cells:
        tag = cell.metadata.get("grader", {})
        if tag.get("role") == "answer" and tag.get("id") in values:
            value = values[tag["id"]]
            value = tuple(value) if tag["id"] == "v-shape" else value
            cell.source = f"{names[tag['id']]} = {value!r}"
    if edit:
        edit(nb)
    nbformat.write(nb, str(out))
    return out


def answers(course, secret: bytes, student: str) -> list[list[int]]:
    """The right answers of v-corr and v-shape for one student, from their drawn values."""
    mine = specialize(course, variant_of(secret, course, "a1", student), "a1").exercises
    x, w = mine["v-corr"].values["signal"], mine["v-corr"].values["kernel"]
    n, k = mine["v-shape"].values["n"], mine["v-shape"].values["k"]
    corr = [sum(w[j] * x[i + j] for j in range(len(w))) for i in range(len(x) - len(w) + 1)]
    return [corr, [1, 16, n - k + 1]]


def distinct(course, secret: bytes) -> bool:
    """Whether alice's and bob's answers differ on every exercise under this secret."""
    return all(
        a != b
        for a, b in zip(
            answers(course, secret, "alice"), answers(course, secret, "bob"), strict=True
        )
    )


@pytest.fixture(scope="module")
def roster_build(tmp_path_factory):
    from grader.build import build

    root = tmp_path_factory.mktemp("variants")
    course = load_course(write(root))
    # a course secret under which alice's and bob's answers differ on every exercise (a
    # random one makes them equal now and then: bob's numbers would then score for alice)
    secret = next(s for s in (f"variants-{i}".encode() for i in range(100)) if distinct(course, s))
    (root / SECRET_FILE).write_bytes(secret + b"\n")
    built = build(course, root / "release", roster=read_roster(root / "roster.csv"))
    return course, built


def release_of(course):
    return course.root / "release"


def student_notebook(course, student, assignment="a1"):
    return release_of(course) / "student" / assignment / f"{student}.ipynb"


def key_values(course, student, assignment="a1"):
    meta = nbformat.read(str(student_notebook(course, student, assignment)), 4).metadata["grader"]
    name = f"{meta['variant']}.json" if meta["variant"] else f"{assignment}.json"
    folder = release_of(course) / "key" / (assignment if meta["variant"] else "")
    return json.loads((folder / name).read_text())["values"]


kernel = pytest.mark.kernel


@kernel
def test_every_student_gets_their_own_numbers_and_a_signed_notebook(roster_build):
    course, built = roster_build
    a1, a2 = built
    assert (a1.students, a1.variants_checked, a1.problems) == (3, 3, ())
    assert (a2.students, a2.variants_checked) == (3, 0)  # nothing varies in a2
    notebooks = {s: nbformat.read(str(student_notebook(course, s)), 4) for s in ("alice", "bob")}
    setups = {
        s: next(c.source for c in nb.cells if c.metadata["grader"]["role"] == "setup")
        for s, nb in notebooks.items()
    }
    assert setups["alice"] != setups["bob"]
    prompts = {
        s: [c.source for c in nb.cells if c.metadata["grader"]["role"] == "prompt"]
        for s, nb in notebooks.items()
    }
    assert prompts["alice"] != prompts["bob"]
    signal = json.loads(setups["alice"].splitlines()[0].split("=", 1)[1])
    assert f"$x = {signal}$" in prompts["alice"][0]
    meta = notebooks["alice"].metadata["grader"]
    assert meta["student"] == "alice" and len(meta["variant"]) == 12 and meta["signature"]
    assert "made for `alice`" in notebooks["alice"].cells[0].source
    # another student's numbers appear nowhere in alice's notebook or hand-out
    bob_signal = json.loads(setups["bob"].splitlines()[0].split("=", 1)[1])
    handout = release_of(course) / "handout" / "a1" / "alice"
    for path in [student_notebook(course, "alice"), *handout.iterdir()]:
        assert f"signal = {bob_signal}" not in path.read_text()
    assert (release_of(course) / "handout" / "a1" / "alice.zip").is_file()
    assert (release_of(course) / "student" / "a2" / "carol.ipynb").is_file()
    assert load_roster(release_of(course)).ids() == ["alice", "bob", "carol"]


@kernel
def test_a_rebuild_gives_every_student_the_same_notebook(roster_build, tmp_path):
    from grader.build import build

    course, _ = roster_build
    before = {p.name: p.read_bytes() for p in (release_of(course) / "student" / "a1").iterdir()}
    build(course, release_of(course), check_variants=0)  # the stored roster, no kernel runs
    after = {p.name: p.read_bytes() for p in (release_of(course) / "student" / "a1").iterdir()}
    assert before == after and len(after) == 3


@kernel
def test_own_answers_full_marks_swapped_answers_zero_and_flagged(roster_build, tmp_path):
    from grader.pipeline import grade

    course, _ = roster_build
    alice, bob = key_values(course, "alice"), key_values(course, "bob")
    assert [alice["v-corr"], alice["v-shape"]] == list(
        answers(course, course_secret(course), "alice")
    )
    own = grade(fill(student_notebook(course, "alice"), alice, tmp_path / "own.ipynb"), course)
    assert (own.score, own.max_score, own.student, own.flags) == (3, 3, "alice", ())
    swapped = grade(fill(student_notebook(course, "alice"), bob, tmp_path / "swap.ipynb"), course)
    assert swapped.score == 0 and swapped.copied_from == "bob"
    assert any("copying?" in f and "not alice's: 2 of 2" in f for f in swapped.flags)
    # the hints are alice's own numbers
    setup = next(
        c.source
        for c in nbformat.read(str(student_notebook(course, "alice")), 4).cells
        if c.metadata["grader"]["role"] == "setup"
    )
    signal, kernel = (json.loads(line.split("=", 1)[1]) for line in setup.splitlines())
    hint = next(e for e in swapped.exercises if e.id == "v-corr").hints[0]
    assert hint == f"The first output starts with {signal[0]} times {kernel[0]}."


@kernel
def test_an_edited_claim_and_another_students_notebook_are_flagged(roster_build, tmp_path):
    from grader.options import GradeOptions
    from grader.pipeline import grade

    course, _ = roster_build
    alice, bob = key_values(course, "alice"), key_values(course, "bob")

    def to_bob(nb):
        nb.metadata["grader"]["student"] = "bob"  # the signature was made for alice

    edited = fill(student_notebook(course, "alice"), alice, tmp_path / "edited.ipynb", to_bob)
    result = grade(edited, course)
    assert result.student == "bob" and result.score == 0  # graded with bob's numbers
    assert any("signature does not match" in f for f in result.flags)
    assert result.copied_from == "alice"
    # bob's own notebook, right for bob, handed in for alice
    bobs = fill(student_notebook(course, "bob"), bob, tmp_path / "handed.ipynb")
    result = grade(bobs, course, options=GradeOptions(student="alice"))
    assert result.student == "alice" and result.score == 0
    assert "this notebook was made for student bob, not for alice" in result.flags

    # the command line: the flags are printed and the report shows them, naming nobody (the
    # terminal of `grade FILE`, the report and results.json are what a student may read)
    def grade_cli(notebook, *student):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                str(notebook),
                "--course",
                str(course.path),
                *student,
                "--out",
                str(tmp_path / "out"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        stem = tmp_path / "out" / notebook.stem
        html = Path(f"{stem}.report.html").read_text()
        return done.stdout, html, json.loads(Path(f"{stem}.results.json").read_text())

    stdout, html, results = grade_cli(bobs, "--student", "alice")
    assert "Flagged: this notebook was made for another student" in stdout
    assert "Flagged for the instructor" in html and "made for another student" in html
    hidden = [t for t in results["tests"] if t.get("visibility") == "hidden"]
    assert hidden and "made for another student" in hidden[0]["output"]
    for view in (stdout, html, json.dumps(results)):
        assert "bob" not in view.lower()

    # a notebook that says whose it is nowhere, graded without --student: flagged, and the
    # terminal says that it is no real grade
    def no_claim(nb):
        del nb.metadata["grader"]["student"]

    nobody = fill(student_notebook(course, "alice"), alice, tmp_path / "nobody.ipynb", no_claim)
    stdout, html, _ = grade_cli(nobody)
    assert "Flagged: the notebook does not say whose it is" in stdout
    assert "Not a real grade" in stdout and "pass --student ID" in stdout
    assert "the notebook does not say whose it is" in html


@kernel
def test_a_batch_grades_each_student_against_their_numbers(roster_build, tmp_path):
    from grader.batch import BatchOptions, grade_batch
    from grader.dashboard_data import class_dashboard
    from grader.gradebook import Gradebook
    from grader.intake import collect
    from grader.options import GradeOptions
    from grader.report.dashboard import PER_STUDENT, render_dashboard

    course, _ = roster_build
    folder = tmp_path / "class"
    folder.mkdir()
    values = {s: key_values(course, s) for s in ("alice", "bob", "carol")}
    fill(student_notebook(course, "alice"), values["alice"], folder / "alice.ipynb")
    fill(student_notebook(course, "bob"), values["alice"], folder / "bob.ipynb")  # copied
    (folder / "carol.ipynb").write_bytes(student_notebook(course, "carol").read_bytes())
    found = collect(folder, tmp_path / "copies")
    with Gradebook(tmp_path / "gb.db") as gb:
        summary = grade_batch(course, found, gb, GradeOptions(), BatchOptions(workers=2))
        attempts = {a.student: a for a in gb.attempts("a1")}
        board = class_dashboard(course, gb, ["a1"], tmp_path / "reports", tmp_path / "d.html")
    assert summary.count("graded") == 3
    assert {s: a.score for s, a in attempts.items()} == {"alice": 3, "bob": 0, "carol": 0}
    assert attempts["alice"].flags == () and attempts["carol"].flags == ()
    assert attempts["bob"].copied_from == "alice" and "copying?" in attempts["bob"].flags[0]
    # a regrade finds each student's numbers again: nothing moves, the flags stay
    from grader.regrade import regrade

    with Gradebook(tmp_path / "gb.db") as gb:
        again = regrade(course, gb, GradeOptions())
        assert again.changes == () and again.rejudged == 3
        assert {a.student: a.flags for a in gb.attempts("a1")}["bob"] == attempts["bob"].flags
    view = board.assignments[0]
    assert [(f.student, "alice" in f.what) for f in view.flagged] == [("bob", True)]
    # wrong answers differ student by student: the dashboard groups them by known mistake
    corr = next(e for e in view.exercises if e.id == "v-corr")
    assert [(w.value, w.count, w.mistake) for w in corr.wrong] == [(PER_STUDENT, 1, "")]
    page = render_dashboard(board)
    assert "Flagged (1)" in page and "the numbers of: alice" in page


@kernel
def test_each_students_hand_out_checks_their_own_numbers(roster_build, tmp_path):
    from grader.handout import grade_with_handout

    course, _ = roster_build
    folder = release_of(course) / "handout" / "a1" / "alice"
    alice, bob = key_values(course, "alice"), key_values(course, "bob")
    mine = fill(folder / "a1.ipynb", alice, tmp_path / "a1.ipynb")
    result = grade_with_handout(mine, folder / "grade-handout.json")
    assert next(e for e in result.exercises if e.id == "v-shape").status == "passed"
    # roster_build's secret gives bob other numbers than alice: his answers fail her checks
    assert alice["v-shape"] != bob["v-shape"]
    theirs = fill(folder / "a1.ipynb", bob, tmp_path / "b.ipynb")
    result = grade_with_handout(theirs, folder / "grade-handout.json")
    assert next(e for e in result.exercises if e.id == "v-shape").status == "failed"


def test_without_the_secret_a_roster_release_cannot_grade(tmp_path, monkeypatch):
    from grader.roster import save_roster

    monkeypatch.delenv("GRADE_SECRET", raising=False)
    course = load_course(write(tmp_path))
    roster = save_roster(tmp_path / "release", read_roster(tmp_path / "roster.csv"), b"one")
    with pytest.raises(GraderError, match="course secret is missing"):
        checked_secret(course, roster)
    (tmp_path / SECRET_FILE).write_text("two\n")
    with pytest.raises(GraderError, match="not the one the release was built with"):
        checked_secret(course, roster)
    monkeypatch.setenv("GRADE_SECRET", "one")
    assert checked_secret(course, roster) == b"one"


@kernel
def test_the_gradescope_autograder_grades_the_submitter(roster_build, tmp_path):
    import zipfile

    from autograder import run_autograder, unpack
    from click.testing import CliRunner

    from grader.cli import main

    course, _ = roster_build
    archive = tmp_path / "autograder.zip"
    made = CliRunner().invoke(
        main, ["gradescope", "a1", "--course", str(course.path), "--out", str(archive)]
    )
    assert made.exit_code == 0, made.output
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert "course/release/key/roster.json" in names and "course/.grade-secret" in names
        assert sum(n.startswith("course/release/key/a1/") for n in names) == 3
    root = unpack(archive, tmp_path / "autograder")
    alice = key_values(course, "alice")
    fill(student_notebook(course, "alice"), alice, root / "submission" / "a1.ipynb")

    def run_as(email, uid):
        (root / "submission_metadata.json").write_text(
            json.dumps({"users": [{"email": email, "name": "X", "sid": "", "id": uid}]})
        )
        return run_autograder(root)

    assert run_as("Alice@Example.org", 1)["score"] == 3
    as_bob = run_as("bob@example.org", 2)  # alice's notebook, handed in by bob
    assert as_bob["score"] == 0
    hidden = next(t for t in as_bob["tests"] if t.get("visibility") == "hidden")
    assert "made for student alice, not for bob" in hidden["output"]
    # a submitter not on the roster gets the numbers of their Gradescope id, not alice's
    stranger = run_as("someone@else.org", 4242)
    hidden = next(t for t in stranger["tests"] if t.get("visibility") == "hidden")
    assert "not on the roster: graded against the numbers of gradescope-4242" in hidden["output"]
    secret = (course.root / SECRET_FILE).read_text().strip().encode()
    theirs = variant_of(secret, course, "a1", "gradescope-4242")
    key = root / "source" / "course" / "release" / "key" / "a1" / f"{theirs}.json"
    values = json.loads(key.read_text())["values"]
    points = {"v-corr": 2, "v-shape": 1}
    assert stranger["score"] == sum(p for e, p in points.items() if values[e] == alice[e])
