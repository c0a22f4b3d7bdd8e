"""Student hand-outs: nothing of the answers leaves the course, grading on a student's machine
with the hand-out only, instant feedback, ``check()`` in a kernel, and public checks that
never contradict official grading."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from shipped import with_answers

from grader import load_course
from grader.errors import BuildError, SpecError
from grader.execute.records import ExportRecord
from grader.handout import load_handout
from grader.handout_release import handout_data
from grader.inkernel.public import HANDOUT
from grader.inkernel.sealed import ROUNDS, digest, instant
from grader.judge.public_context import PublicExpectations
from grader.judge.scoring import KeyExpectations, judge_export
from grader.key import key_path, load_key
from grader.kinds import KINDS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _key(course, assignment_id):
    key = load_key(key_path(course.root / "release", assignment_id))
    assert key is not None
    return key


def _handout_texts(release: Path, assignment_id: str) -> dict[str, str]:
    """Every file of one hand-out (the folder and the zip's members), as text."""
    folder = release / "handout" / assignment_id
    texts = {f"{p.name}": p.read_text(encoding="utf-8") for p in folder.iterdir()}
    with zipfile.ZipFile(release / "handout" / f"{assignment_id}.zip") as zf:
        names = zf.namelist()
        assert sorted(names) == sorted(f"{assignment_id}/{n}" for n in texts)
        texts.update({f"zip:{n}": zf.read(n).decode("utf-8") for n in names})
    for name, text in list(texts.items()):  # JSON as parsed: lists on one line, no escapes
        parsed = json.loads(text)
        texts[f"{name} (parsed)"] = json.dumps(parsed)
        if name.endswith(".ipynb"):
            texts[f"{name} (cells)"] = "\n".join("".join(c["source"]) for c in parsed["cells"])
    return texts


def _printed_forms(value: Any) -> set[str]:
    """The ways a reference value may be written down: JSON, Python's and numpy's printing."""
    forms = {json.dumps(value), json.dumps(value, separators=(",", ":")), str(value)}
    if isinstance(value, list):
        forms.add(str(tuple(value)))
        try:
            array = np.array(value, dtype=float)
        except (TypeError, ValueError):
            array = None
        if array is not None:
            forms |= {str(array), repr(array), str(array.tolist())}
            if array.dtype.kind == "f" and np.all(array == np.round(array)):
                forms |= {str(array.astype(int)), str(array.astype(int).tolist())}
            for row in value:  # a row of a 2D answer is part of the answer
                if isinstance(row, list) and len(row) >= 3:
                    forms |= _printed_forms(row)
    if isinstance(value, dict):
        for k, v in value.items():
            forms |= {f'"{k}": {json.dumps(v)}', f"'{k}': {v!r}", f"{k}={v!r}"}
            forms |= {f for f in _printed_forms(v) if len(f) >= 4}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        forms |= {f"{value:,}", repr(value)}
    return {f for f in forms if len(f) >= 4}


def _occurs(needle: str, text: str) -> bool:
    """Whether needle occurs as a whole token (so a hex digest never "contains" 2023)."""
    return re.search(rf"(?<![\w.]){re.escape(needle)}(?![\w.])", text) is not None


@pytest.mark.kernel
def test_no_answer_leaves_the_course(built_course):
    course, built = built_course
    release = course.root / "release"
    public_text = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted((course.root / "exercises").glob("*.yaml"))
    )
    solution_lines = {
        line.strip()
        for p in (course.root / "solutions").glob("*.py")
        for line in p.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) > 20 and line.strip() not in public_text
    }
    assert len(solution_lines) > 30  # the scan has something to look for
    for b in built:
        key = _key(course, b.id)
        texts = _handout_texts(release, b.id)
        assert set(texts) >= {f"{b.id}.ipynb", HANDOUT}
        needles = {f"the key's seed {key.seed}": str(key.seed)}
        for ex_id, value in key.values.items():
            needles.update({f"{ex_id} as {form}": form for form in _printed_forms(value)})
        leaks = [
            (name, what)
            for name, text in texts.items()
            for what, needle in needles.items()
            if _occurs(needle, text)
        ]
        leaks += [
            (name, f"solution line {line!r}")
            for name, text in texts.items()
            for line in solution_lines
            if line in text
        ]
        # A known mistake's title and hint are sealed (or left out): never in clear.
        mistakes = [
            (ex_id, field, getattr(m, field))
            for ex_id in course.assignment(b.id).exercises
            for m in course.exercises[ex_id].mistakes
            for field in ("title", "hint")
        ]
        leaks += [
            (name, f"{ex_id}'s mistake {field} {said!r}")
            for name, text in texts.items()
            for ex_id, field, said in mistakes
            if said in text
        ]
        assert not leaks, leaks
        # The key and the solutions are somewhere else entirely.
        assert "solution" not in json.loads(texts[HANDOUT]).get("assignment", {})
        seals = [e["mistakes"] for e in json.loads(texts[HANDOUT])["exercises"] if e["mistakes"]]
        assert len(seals) == {"ps1": 0, "ps2": 16, "ps3": 0}[b.id]  # ps1's are not exact


@pytest.mark.kernel
def test_the_scan_finds_a_leak(built_course):
    """The scan's needles match what a leak would look like."""
    course, _ = built_course
    key = _key(course, "ps2")
    data = handout_data(course, "ps2", key)
    clean = json.dumps(data)
    assert not any(_occurs(f, clean) for v in key.values.values() for f in _printed_forms(v))
    data["exercises"][0]["public"]["shape"] = key.values["cifar-conv1"]
    leaked = json.dumps(json.loads(json.dumps(data, indent=1)))
    assert any(_occurs(f, leaked) for f in _printed_forms(key.values["cifar-conv1"]))
    params = key.values["params-cifar"]
    assert any(_occurs(f, f"x = {params}") for f in _printed_forms(params))
    assert any(_occurs(f, "# 18,496 weights") for f in _printed_forms(params))


@pytest.mark.kernel
def test_instant_feedback_carries_a_slow_salted_digest(built_course):
    course, _ = built_course
    key = _key(course, "ps2")
    data = handout_data(course, "ps2", key)
    spec = next(e for e in data["exercises"] if e["id"] == "params-total")
    known = spec["instant"]
    assert known["rounds"] == ROUNDS >= 100_000
    assert known["digest"] == digest(known["salt"], key.values["params-total"], known["rounds"])
    assert instant(spec, key.values["params-total"]) == (1.0, "right answer: yes")
    assert instant(spec, key.values["params-total"] + 1) == (0.0, "right answer: no")
    assert instant(spec, float(key.values["params-total"])) == (1.0, "right answer: yes")
    # A new build salts again: the same answer never gives the same digest twice.
    again = handout_data(course, "ps2", key)
    assert next(e for e in again["exercises"] if e["id"] == "params-total")["instant"] != known
    mapping = next(e for e in data["exercises"] if e["id"] == "params-cifar")
    wrong = {**key.values["params-cifar"], "bn1": 128}
    assert instant(mapping, wrong) == (0.8, "right answer: 4 of 5 (bn1 not yet)")


# --- a student's folder: the hand-out and an installed grade, no course ----------------------


@pytest.fixture(scope="module")
def student(built_course, tmp_path_factory):
    """``student(assignment)``: a folder holding only the extracted hand-out zip."""
    course, _ = built_course
    release = course.root / "release"
    made: dict[str, Path] = {}

    def make(assignment_id: str) -> Path:
        if assignment_id not in made:
            home = tmp_path_factory.mktemp(f"student-{assignment_id}")
            with zipfile.ZipFile(release / "handout" / f"{assignment_id}.zip") as zf:
                zf.extractall(home)
            folder = home / assignment_id
            assert not any((p / "course.yaml").exists() for p in (folder, *folder.parents))
            made[assignment_id] = folder
        return made[assignment_id]

    return make


def _grade(folder: Path, notebook: str, *args: str, python: list[str] | None = None):
    proc = subprocess.run(
        [*(python or [sys.executable, "-m", "grader"]), notebook, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    stem = Path(notebook).stem
    results = folder / f"{stem}.results.json"
    data = json.loads(results.read_text()) if results.exists() else None
    return proc, data


def _statuses(data) -> dict[str, str]:
    return {t["extra_data"]["id"]: t["extra_data"]["status"] for t in data["tests"]}


def _messages(data) -> dict[str, str]:
    return {t["extra_data"]["id"]: t["output"].split("\n")[0] for t in data["tests"]}


@pytest.mark.kernel
def test_reference_answers_pass_every_public_check(built_course, student):
    built = built_course[1]
    folder = student("ps2")
    solution = next(b.solution for b in built if b.id == "ps2")
    (folder / "submit.ipynb").write_bytes(solution.read_bytes())
    proc, data = _grade(folder, "submit.ipynb")
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert "17 of 21 points checked here" in out
    assert "the rest is checked when your notebook is graded" in out
    assert "Checked here: 17 / 17" in out
    statuses = _statuses(data)
    assert set(statuses.values()) == {"passed", "pending"}
    assert statuses["shape-dilation"] == statuses["params-linear"] == "pending"
    assert data["score"] == 17
    assert (folder / "submit.report.html").exists()
    html = (folder / "submit.report.html").read_text()
    assert "checked when your notebook is graded" in html
    for message in _messages(data).values():
        assert message.endswith(("right answer: yes", "right answer: checked at grading"))


@pytest.mark.kernel
def test_wrong_answers_get_the_right_messages(built_course, student):
    built = built_course[1]
    folder = student("ps2")
    nb = folder / "ps2.ipynb"
    wrong = with_answers(
        next(b.solution for b in built if b.id == "ps2"),
        {
            # Each keeps the solution's helpers, then gives a wrong answer.
            "shape-conv1d": lambda src: src + "\nshape_conv1d = (1, 4, 97)",
            "cifar-conv1": lambda src: src + "\nshape_conv1 = (4, 32, 30, 30)",
            "params-total": lambda src: src + "\nparams_total = 20234.5",
            "params-cifar": lambda src: src + "\ndel params_per_layer['bn2']",
            "shape-dilation": lambda src: src + "\nshape_dilated = (1, 2, 3)",
        },
        folder / "wrong.ipynb",
    )
    assert nb.exists()
    proc, data = _grade(folder, wrong.name)
    assert proc.returncode == 0, proc.stderr
    statuses, messages = _statuses(data), _messages(data)
    assert statuses["shape-conv1d"] == "failed"
    assert messages["shape-conv1d"].endswith("right answer: no")
    assert statuses["cifar-conv1"] == "failed"
    assert "the first entry is the batch size, N = 3 (you gave 4)" in messages["cifar-conv1"]
    assert statuses["params-total"] == "failed"
    assert "every value must be a whole number" in messages["params-total"]
    assert statuses["params-cifar"] == "pending"
    assert "missing 'bn2'" in messages["params-cifar"]
    assert statuses["shape-dilation"] == "failed"
    assert "a tuple of 4 whole numbers was expected, you gave 3" in messages["shape-dilation"]
    assert statuses["cifar-pool1"] == "passed"  # the others are untouched
    # 17 checked points before; shape-conv1d, cifar-conv1 and params-total lose theirs (1
    # each), and params-cifar (3) is now decided only at grading.
    assert data["score"] == 17 - 1 - 1 - 1 - 3


@pytest.mark.kernel
def test_a_list_of_the_wrong_length(built_course, student):
    built = built_course[1]
    folder = student("ps1")
    wrong = with_answers(
        next(b.solution for b in built if b.id == "ps1"),
        {"corr1d-same": "corr_same = [0.0] * 8"},
        folder / "short.ipynb",
    )
    proc, data = _grade(folder, wrong.name)
    assert proc.returncode == 0, proc.stderr
    messages = _messages(data)
    assert messages["corr1d-same"] == (
        "a list of 9 numbers was expected, you gave a list of 8 numbers"
    )
    assert _statuses(data)["corr1d-same"] == "failed"
    assert (
        messages["corr1d-valid"] == "a list of 7 numbers, all finite: OK; right answer: "
        "checked at grading"
    )
    # The wrong length is certain to cost corr1d-same's 2 points; the rest is pending.
    assert "2 of 30 points checked here" in " ".join(proc.stdout.split())


@pytest.mark.kernel
def test_the_blank_hand_out_notebook(student):
    folder = student("ps2")
    proc, data = _grade(folder, "ps2.ipynb")
    assert proc.returncode == 0, proc.stderr
    assert data["score"] == 0
    assert set(_statuses(data).values()) <= {"failed", "error"}


@pytest.mark.kernel
def test_a_notebook_of_another_assignment_is_refused(built_course, student):
    built = built_course[1]
    folder = student("ps1")
    other = folder / "other.ipynb"
    other.write_bytes(next(b.student for b in built if b.id == "ps2").read_bytes())
    proc, _ = _grade(folder, other.name)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "Error: other.ipynb is assignment 'ps2'; this hand-out is 'ps1'"
    ]


# --- no bubblewrap, no cgroup, no `resource` (macOS, Windows) --------------------------------

NO_LINUX = """\
import sys
for name in ("resource", "fcntl", "termios", "pwd", "grp"):
    sys.modules[name] = None  # importing one raises ImportError, as on Windows
from grader.execute import cgroup, sandbox
sandbox.bwrap = lambda: None
cgroup.Cgroup.create = classmethod(lambda cls, *a, **k: None)
from grader.cli import main
try:
    main(sys.argv[1:], prog_name="grade")
except SystemExit as e:
    sys.exit(e.code)
"""


@pytest.mark.kernel
def test_without_sandbox_cgroup_or_resource(built_course, student, tmp_path):
    course, built = built_course
    folder = student("ps2")
    (tmp_path / "no_linux.py").write_text(NO_LINUX)
    (folder / "mine.ipynb").write_bytes(
        next(b.solution for b in built if b.id == "ps2").read_bytes()
    )
    proc, data = _grade(
        folder, "mine.ipynb", python=[sys.executable, str(tmp_path / "no_linux.py")]
    )
    assert proc.returncode == 0, proc.stderr
    out = " ".join((proc.stdout + proc.stderr).split())
    assert "no sandbox here: your notebook ran as your own code on your own machine" in out
    assert "warning" not in (proc.stdout + proc.stderr).lower()
    assert data["score"] == 17
    # Official grading on such a machine still warns that nothing is sandboxed.
    proc = subprocess.run(
        [
            sys.executable,
            str(tmp_path / "no_linux.py"),
            "submit",
            "mine.ipynb",
            "--course",
            str(course.path),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" in proc.stdout + proc.stderr and "bubblewrap" in proc.stdout + proc.stderr


def test_the_kernel_alone_where_there_are_no_limits(tmp_path, monkeypatch):
    from grader.execute import kernel as kernel_module
    from grader.execute.options import ExecOptions

    with kernel_module.Kernel(ExecOptions(), tmp_path, sandboxed=False) as kernel:
        with_launcher = kernel._argv(tmp_path / "k.json")
        monkeypatch.setattr(kernel_module, "_have_rlimits", lambda: False)
        alone = kernel._argv(tmp_path / "k.json")
    assert "launch.py" in " ".join(with_launcher)
    assert alone[:4] == [sys.executable, "-m", "ipykernel_launcher", "-f"]
    assert "launch.py" not in " ".join(alone)


def test_a_windows_kernel_environment(tmp_path):
    from grader.execute.environment import kernel_environment
    from grader.execute.options import ExecOptions

    env = kernel_environment(
        ExecOptions(), tmp_path, {"SYSTEMROOT": r"C:\Windows", "SECRET": "x"}, system="nt"
    )
    assert env["SYSTEMROOT"] == r"C:\Windows"
    assert env["PATH"].endswith(r"C:\Windows\System32;C:\Windows")
    assert len(env["PYTHONPATH"].split(";")) == 2  # Windows separates paths with ';'
    assert all(Path(p).is_dir() for p in env["PYTHONPATH"].split(";"))
    assert env["USERPROFILE"] == env["TEMP"] == str(tmp_path)
    assert "SECRET" not in env


# --- check() inside the notebook --------------------------------------------------------------


@pytest.mark.kernel
def test_check_cells_in_a_kernel(student):
    from nbclient import NotebookClient

    folder = student("ps2")
    nb = nbformat.read(
        with_answers(
            folder / "ps2.ipynb",
            {
                "shape-conv1d": "shape_conv1d = (1, 4, 97)",
                "cifar-conv1": "shape_conv1 = (3, 32, 30, 30)",
                "params-linear": "params_linear = 23050",
                "params-total": "params_total = 20234.5",
                "cifar-pool2": "shape_pool2 = (3, 64, 7, 7)",  # a known mistake: rounded up
            },
            folder / "working.ipynb",
        ),
        as_version=4,
    )
    # What a student types in a cell of their own, anywhere in the notebook.
    nb.cells.append(nbformat.v4.new_code_cell('check("cifar-logits")\ncheck("no-such")'))
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(folder)}}).execute()
    printed, cells = {}, {}
    for cell in nb.cells:
        tag = cell.metadata.get("grader", {})
        if tag.get("role") == "check" or cell is nb.cells[-1]:
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            cells[tag.get("id")] = text
            for line in text.splitlines():
                printed[line.split(":")[0]] = line
            assert not [o for o in cell.outputs if o.output_type == "error"]
    # The hand-out's sealed hint opens for the student whose answer is that mistake.
    assert cells["cifar-pool2"] == (
        "cifar-pool2: a tuple of 4 whole numbers, batch of three: OK; right answer: no; "
        "a known mistake: the odd size was rounded up\n"
        "  hint: Pooling drops the last row and column that do not fill a window: "
        "floor((n - 2) / 2) + 1, not n / 2 rounded up.\n"
    )
    assert printed["shape-conv1d"].endswith("right answer: no")
    assert printed["cifar-conv1"] == (
        "cifar-conv1: a tuple of 4 whole numbers, batch of three: OK; right answer: yes"
    )
    assert printed["params-linear"].endswith("OK; right answer: checked at grading")
    assert printed["params-total"] == "params-total: every value must be a whole number"
    assert printed["cifar-pool1"] == (
        "cifar-pool1: `shape_pool1` is still `...`: the exercise is not answered yet"
    )
    assert printed["cifar-logits"].startswith("cifar-logits: `shape_logits` is still")
    assert (
        "'no-such' is not an exercise of ps2 (shape-conv1d, shape-conv2d-stride, "
        "shape-dilation, shape-pool, cifar-conv1, cifar-pool1, cifar-conv2, "
        "cifar-pool2, cifar-gap, cifar-flatten, cifar-logits, params-cifar, "
        "params-total, params-conv2d, params-conv1d, params-linear)"
    ) in printed


@pytest.mark.kernel
def test_official_grading_ignores_check(built_course, tmp_path):
    """The hand-out notebook, answered, with check() in the answer cells too, graded with the
    course: full marks, whatever check prints."""
    from grader.pipeline import grade

    course, built = built_course
    solution = nbformat.read(str(next(b.solution for b in built if b.id == "ps2")), as_version=4)
    answers = {
        c.metadata["grader"]["id"]: c.source
        for c in solution.cells
        if c.metadata.get("grader", {}).get("role") == "answer"
    }
    filled = with_answers(
        course.root / "release" / "handout" / "ps2" / "ps2.ipynb",
        {i: f"{src}\ncheck({i!r})\ncheck = print" for i, src in answers.items()},
        tmp_path / "ps2.ipynb",
    )
    result = grade(filled, course)
    assert result.score == result.max_score == 21, [
        (e.id, e.message) for e in result.exercises if e.score < e.points
    ]


def test_check_imports_nothing_heavy():
    code = textwrap.dedent(
        """
        import sys
        before = set(sys.modules)
        from grader.inkernel.public import check
        ok = check("x", {})
        new = set(sys.modules) - before
        heavy = sorted(m for m in new if m.split(".")[0] in
                       {"numpy", "torch", "nbformat", "click", "rich", "yaml", "jinja2",
                        "zmq", "jupyter_client", "nbclient"})
        print(heavy, ok)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert proc.stdout.splitlines()[-1] == "[] None", proc.stdout + proc.stderr
    assert "no grade-handout.json here" in proc.stdout


def test_check_never_raises(tmp_path, monkeypatch):
    from grader.inkernel.public import check

    (tmp_path / HANDOUT).write_text("{ not json")
    monkeypatch.chdir(tmp_path)
    assert check("corr1d-same", {}) is None


# --- public checks never contradict official grading ------------------------------------------


def _wrong_variants(value: Any) -> list[Any]:
    """Wrong answers of every sort a student gives, for one reference value: by what the value
    is (a number, a list, a dict, a text), so that a new kind needs no entry here."""
    others = ["12", None, 7, [], {}]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value + 1, value * 2, -value, value + 0.5, 0, float("nan"), [value], *others]
    if isinstance(value, str):
        return [value.upper(), f"  {value} ", value[:-1], value + "x", "", [value], *others]
    if isinstance(value, dict):
        some = next(iter(value))
        return [
            {k: v + 1 for k, v in value.items()},
            {k: v for k, v in value.items() if k != some},
            {**value, some: value[some] + 0.5},
            {**value, "extra": 1},
            {**value, some: value[some] * 2},
            list(value.values()),
            *others,
        ]
    assert isinstance(value, list), value
    array = np.array(value, dtype=float)
    flat = array.ravel().tolist()
    return [
        (array + 1).tolist(),
        (array * -1).tolist(),
        flat[:-1],
        [*flat, 1],
        [flat[0] + 1, *flat[1:]],
        [float(v) + 0.5 for v in flat],
        array[..., :-1].tolist(),
        np.full_like(array, np.nan).tolist(),
        [value, value],
        "nope",
        array.tolist()[::-1],
        *others,
    ]


def _official(ex, value, official) -> float:
    return judge_export(ex, ExportRecord({"ok": True, "value": value}), official).score


def _public(ex, value, public):
    return judge_export(ex, ExportRecord({"ok": True, "value": value}), public)


@pytest.mark.kernel
@pytest.mark.parametrize("assignment_id", ["ps1", "ps2", "ps3"])
def test_public_checks_never_contradict_official_grading(built_course, assignment_id):
    course, _ = built_course
    key = _key(course, assignment_id)
    data = handout_data(course, assignment_id, key)
    public, official = PublicExpectations(data), KeyExpectations(course, key)
    compared = 0
    for spec in data["exercises"]:
        ex = course.exercises[spec["id"]]
        if KINDS[ex.answer.kind].recipe in ("model", "calls"):
            continue  # a function's public cases against grading: test_function_handout
        reference = key.values[ex.id]
        assert _public(ex, reference, public).status in ("passed", "pending"), ex.id
        assert _official(ex, reference, official) == ex.points
        for value in [reference, *_wrong_variants(reference)]:
            here = _public(ex, value, public)
            there = _official(ex, value, official)
            what = f"{ex.id} with {value!r}: public {here.status} {here.score}, official {there}"
            if here.status != "pending":  # decided here: the same score as at grading
                assert here.score == there, what
            if any(not c.passed for c in here.checks):  # a problem shown: points are lost
                assert there < ex.points, what
            compared += 1
    assert compared >= 10


# --- what a build refuses ----------------------------------------------------------------------

TOPIC = """\
topic: t
title: T
setup: ""
exercises:
  - id: t-count
    title: A count
    points: 1
    prompt: Count.
    starter: n = ...
    answer: {kind: number, name: n}
    public: {integer: true, range: [0, 10]}
  - id: t-arr
    title: An array
    points: 1
    prompt: Compute.
    starter: arr = ...
    answer: {kind: array, name: arr, rtol: 0.0, atol: 0.5}
"""

COURSE = "name: C\nassignments:\n  - id: a1\n    title: A\n    exercises: [t-count, t-arr]\n"
SOLUTION = """\
# %% t-count
n = 42

# %% t-arr
arr = [1.0, 2.0]
"""


@pytest.mark.kernel
def test_a_public_check_that_rejects_the_reference_fails_the_build(write_course, tmp_path):
    from grader.build import build

    course = load_course(
        write_course(
            tmp_path,
            exercises={"t": TOPIC},
            solutions={"t": SOLUTION},
            course=COURSE,
        )
    )
    with pytest.raises(
        BuildError,
        match=r"t-count: public check 'between 0 and 10' rejects the "
        r"reference \(every value must be between 0 and 10\)",
    ):
        build(course, tmp_path / "release")


def test_instant_feedback_is_refused_for_answers_compared_with_a_tolerance(write_course, tmp_path):
    topic = TOPIC.replace("rtol: 0.0, atol: 0.5}", "rtol: 0.0, atol: 0.5}\n    instant: true")
    path = write_course(
        tmp_path,
        exercises={"t": topic},
        solutions={"t": SOLUTION},
        course=COURSE,
    )
    with pytest.raises(SpecError, match="instant"):
        load_course(path)


@pytest.mark.kernel
def test_a_hand_out_loads_as_a_course_without_answers(built_course):
    course, _ = built_course
    loaded, data = load_handout(course.root / "release" / "handout" / "ps1" / HANDOUT)
    assert [a.id for a in loaded.assignments] == ["ps1"]
    assert not loaded.solutions_dir.exists()
    assert loaded.assignments[0].max_score(loaded) == course.assignment("ps1").max_score(course)
    bad = course.root / "bad" / HANDOUT
    bad.parent.mkdir(exist_ok=True)
    bad.write_text(json.dumps({**data, "format": 1}))
    with pytest.raises(SpecError, match=r"another version of grade \(format 1; .* wheel"):
        load_handout(bad)
    bad.write_text(json.dumps({**data, "topics": None}))
    with pytest.raises(SpecError, match="not a usable hand-out"):
        load_handout(bad)


def test_grading_with_the_hand_out_is_the_official_judge_s_result(
    write_course, tmp_path, monkeypatch
):
    """The hand-out's GradeResult is made as official grading makes it: the run's warnings in
    its notices, the grader's version (they were dropped by a second judge)."""
    import grader.handout as handout
    from grader import __version__
    from grader.execute.records import Executed, StepOutcome
    from grader.handout_release import write_handout
    from grader.key import AnswerKey
    from grader.runners import ran

    course = load_course(
        write_course(tmp_path, exercises={"t": TOPIC}, solutions={"t": SOLUTION}, course=COURSE)
    )
    key = AnswerKey("a1", course.fingerprint, {"t-count": 4, "t-arr": [1.0, 2.0]})
    folder = write_handout(course, "a1", key, tmp_path / "release")

    def fake_kernel(options):  # a run as the kernel would report it
        def runner(steps, follow_up=None):
            exports = {"t-count": ExportRecord({"ok": True, "value": 4.5})}
            warnings = ("the kernel used more memory than it may",)
            executed = Executed((StepOutcome("ok"),) * len(steps), exports, 0.5, warnings)
            return ran(executed)(steps)

        return runner

    monkeypatch.setattr(handout, "fresh_kernel", fake_kernel)
    result = handout.grade_with_handout(folder / "a1.ipynb", folder / HANDOUT)
    assert result.grader_version == __version__
    assert "the kernel used more memory than it may" in result.notices
    count, arr = result.exercises
    assert (count.status, count.message) == ("failed", "every value must be a whole number")
    assert result.checked == 2.0  # both decided here: a wrong count, a failed export
    assert arr.status == "error" and "could not be exported" in arr.message


FAILURE_WORDS = re.compile(r"fail|wrong|expected|must|missing|not |right answer: no")


def test_a_hand_out_report_is_out_of_the_points_checked_there(write_course, tmp_path, monkeypatch):
    """The headline of a hand-out's report and results.json is the points checked there (1 of
    2 here: the count has instant feedback, the array is decided at grading); the pending
    exercise is neither failed nor counted as possible; passing checks say nothing wrong."""
    import grader.handout as handout
    from grader.execute.records import Executed, StepOutcome
    from grader.handout_release import write_handout
    from grader.key import AnswerKey
    from grader.report import render_html, results_json
    from grader.runners import ran

    topic = TOPIC.replace("range: [0, 10]}", "range: [0, 10]}\n    instant: true")
    course = load_course(
        write_course(tmp_path, exercises={"t": topic}, solutions={"t": SOLUTION}, course=COURSE)
    )
    key = AnswerKey("a1", course.fingerprint, {"t-count": 4, "t-arr": [1.0, 2.0]})
    folder = write_handout(course, "a1", key, tmp_path / "release")

    def fake_kernel(options):  # the right count, an array only official grading decides
        def runner(steps, follow_up=None):
            exports = {
                "t-count": ExportRecord({"ok": True, "value": 4}),
                "t-arr": ExportRecord({"ok": True, "value": [1.0, 2.5]}),
            }
            return ran(Executed((StepOutcome("ok"),) * len(steps), exports, 0.5))(steps)

        return runner

    monkeypatch.setattr(handout, "fresh_kernel", fake_kernel)
    result = handout.grade_with_handout(folder / "a1.ipynb", folder / HANDOUT)
    assert [e.status for e in result.exercises] == ["passed", "pending"]
    assert (result.score, result.checked, result.max_score) == (1.0, 1.0, 2.0)
    html = render_html(result)
    assert "<strong>1</strong> / 1 checked here</p>" in html
    assert "<title>a1 · a1.ipynb · 1 / 1 checked here</title>" in html
    assert "/ 2</p>" not in html and "/ 2</td>" not in html  # never "1 / 2"
    data = results_json(result)
    assert (data["score"], data["max_score"]) == (1.0, 1.0)
    assert data["extra_data"] == {"checked_here": 1.0, "assignment_max_score": 2.0}
    assert data["output"].startswith("a1 (C), a1.ipynb: 1 / 1 points checked here (of 2 points")
    count, arr = data["tests"]
    assert count["status"] == "passed"
    assert "status" not in arr and arr["max_score"] == 0  # not failed: decided at grading
    assert arr["extra_data"]["status"] == "pending" and arr["extra_data"]["points"] == 1.0
    passing = [c for e in result.exercises for c in e.checks if c.passed]
    assert len(passing) >= 5
    assert not [c for c in passing if FAILURE_WORDS.search(c.message)]


def test_no_thread_pool_is_made_at_import():
    """The digests' pool is made where the digests are made, not at import (it was a module
    global of handout.py)."""
    from concurrent.futures import Executor

    import grader.handout
    import grader.handout_release
    import grader.judge.public_context

    for module in (grader.handout, grader.handout_release, grader.judge.public_context):
        assert not [k for k, v in vars(module).items() if isinstance(v, Executor)], module
