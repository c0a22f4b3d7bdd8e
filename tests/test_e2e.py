"""End to end, with real kernels: build the shipped course, then grade notebooks against it."""

from __future__ import annotations

import json

import nbformat
import pytest
from shipped import with_answers

from grader import load_course
from grader.options import GradeOptions
from grader.pipeline import grade

pytestmark = pytest.mark.kernel


def by_id(result):
    return {e.id: e for e in result.exercises}


def test_build_writes_release_and_self_checks(built_course):
    course, built = built_course
    assert [b.id for b in built] == ["ps1", "ps2", "ps3"]
    for b in built:
        assert b.solution_score == b.max_score > 0
        assert b.starter_score == 0
        assert b.problems == ()
        student = nbformat.read(str(b.student), as_version=4)
        nbformat.validate(student)
        answers = [c for c in student.cells if c.metadata.get("grader", {}).get("role") == "answer"]
        assert len(answers) == len(course.assignment(b.id).exercises)
        key = json.loads((course.root / "release" / "key" / f"{b.id}.json").read_text())
        assert key["fingerprint"] == course.fingerprint
    key1 = json.loads((course.root / "release" / "key" / "ps1.json").read_text())["values"]
    assert key1["corr1d-same"] == [5, 10, 15, 20, 25, 30, 35, 40, 25]
    assert key1["corr1d-stride"] == [2, 10, 20, 30, 40, 18]
    key2 = json.loads((course.root / "release" / "key" / "ps2.json").read_text())["values"]
    assert key2["params-cifar"] == {
        "conv1": 896,
        "bn1": 64,
        "conv2": 18496,
        "bn2": 128,
        "classifier": 650,
    }
    assert key2["params-total"] == 20234
    # the tutorial's torchinfo summary, for a batch of 3
    assert [
        key2[e]
        for e in (
            "cifar-conv1",
            "cifar-pool1",
            "cifar-conv2",
            "cifar-pool2",
            "cifar-gap",
            "cifar-flatten",
            "cifar-logits",
        )
    ] == [
        [3, 32, 30, 30],
        [3, 32, 15, 15],
        [3, 64, 13, 13],
        [3, 64, 6, 6],
        [3, 64, 1, 1],
        [3, 64],
        [3, 10],
    ]
    assert key2["params-linear"] == (64 * 6 * 6 + 1) * 10
    key3 = json.loads((course.root / "release" / "key" / "ps3.json").read_text())["values"]
    train = key3.pop("train-function")  # the reference loop's mean losses per epoch, per case
    assert [len(r["value"]) for r in train] == [3, 2, 1]
    assert key3 == {"cnn-receptive-field": 10, "cnn-macs": 32 * 30 * 30 * 27}


@pytest.mark.parametrize("assignment", ["ps1", "ps2", "ps3"])
def test_reference_solution_scores_full_marks(built_course, assignment):
    course, _ = built_course
    result = grade(course.root / "release" / "solution" / f"{assignment}.ipynb", course)
    assert result.score == result.max_score
    assert all(e.status == "passed" for e in result.exercises)


def test_blank_starter_scores_zero(built_course):
    course, _ = built_course
    result = grade(course.root / "release" / "student" / "ps1.ipynb", course)
    assert result.score == 0
    assert {e.status for e in result.exercises} == {"failed"}
    assert "not answered yet" in result.exercises[0].message


def test_known_wrong_answers_get_exact_partial_score(built_course, tmp_path):
    course, _ = built_course
    sub = with_answers(
        course.root / "release" / "solution" / "ps2.ipynb",
        {
            # one key of five wrong (the bias forgotten): 3 points * 4/5 = 2.4
            "params-cifar": lambda src: src + '\nparams_per_layer["conv1"] = 864',
            "cifar-gap": "shape_gap = (3, 64)",  # 1 point lost
            "params-total": "params_total = 20234.0",  # an integral float is still right
        },
        tmp_path / "ps2.ipynb",
    )
    result = grade(sub, course)
    ex = by_id(result)
    assert ex["params-cifar"].score == pytest.approx(2.4)
    assert ex["params-cifar"].status == "partial"
    assert [c.name for c in ex["params-cifar"].checks if not c.passed] == ["conv1"]
    assert ex["cifar-gap"].score == 0 and ex["cifar-gap"].hints
    assert ex["params-total"].status == "passed"
    assert result.score == pytest.approx(21 - 0.6 - 1)


def test_array_mismatch_is_located(built_course, tmp_path):
    course, _ = built_course
    sub = with_answers(
        course.root / "release" / "solution" / "ps1.ipynb",
        {
            "corr2d-valid": "corr2d_valid = [[-6, -6, -6], [-6, 6, -6], [-6, -6, -6]]",
            "corr1d-same": "import numpy as np\ncorr_same = np.array([5, 10, 15, 20, 25, 30, 35, 40, 25])",
        },
        tmp_path / "ps1.ipynb",
    )
    ex = by_id(grade(sub, course))
    (check,) = ex["corr2d-valid"].checks
    assert check.mismatches == [[1, 1]]
    assert ex["corr2d-valid"].score == 0
    assert ex["corr1d-same"].status == "passed"


def test_a_raising_cell_loses_only_its_exercise(built_course, tmp_path):
    course, _ = built_course
    sub = with_answers(
        course.root / "release" / "solution" / "ps1.ipynb",
        {
            "corr1d-valid": "corr_valid = [1, 2, 3]\nraise ValueError('my bug')",
        },
        tmp_path / "ps1.ipynb",
    )
    result = grade(sub, course)
    ex = by_id(result)
    assert ex["corr1d-valid"].status == "error"
    assert ex["corr1d-valid"].error.summary == "ValueError: my bug"
    assert "my bug" in ex["corr1d-valid"].error.traceback
    assert result.score == result.max_score - ex["corr1d-valid"].points


def test_lying_objects_and_patched_libraries_earn_nothing(built_course, tmp_path):
    course, _ = built_course
    liar = (
        "class Liar(list):\n"
        "    def __eq__(self, other): return True\n"
        "    def __len__(self): return 9\n"
        "import builtins, numpy, torch\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "torch.allclose = lambda *a, **k: True\n"
        "torch.equal = lambda *a, **k: True\n"
        "_isinstance = builtins.isinstance\n"
        "builtins.isinstance = lambda o, t: type(o).__name__ == 'Liar' or _isinstance(o, t)\n"
    )
    sub = with_answers(
        course.root / "release" / "solution" / "ps1.ipynb",
        {
            "corr1d-same": liar + "corr_same = Liar()\nassert corr_same == [5, 10]",
            "corr1d-valid": "class F(float):\n    def __eq__(self, o): return True\n"
            "corr_valid = [F(0)] * 7",
        },
        tmp_path / "ps1.ipynb",
    )
    result = grade(sub, course, options=GradeOptions(limits={"cell_timeout": 20}))
    ex = by_id(result)
    # Refused because the grader compared the plain data itself, not because the kernel
    # broke: both cells ran, both answers were exported, and both were judged wrong.
    for eid in ("corr1d-same", "corr1d-valid"):
        assert ex[eid].score == 0 and ex[eid].status == "failed", ex[eid]
        assert ex[eid].error is None and "ran past" not in ex[eid].message
    assert ex["corr1d-valid"].checks[0].got == [0.0] * 7
    # the liar claims to be an int: the exporter reads the real value, which it has not
    assert "Liar" in ex["corr1d-same"].message or "differ" in ex["corr1d-same"].message
    # the patched builtins stay in the kernel: later exercises are still graded right
    assert ex["corr1d-stride"].status == "passed"


def test_edited_trusted_cells_change_nothing(built_course, tmp_path):
    course, _ = built_course
    nb = nbformat.read(str(course.root / "release" / "solution" / "ps3.ipynb"), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("grader", {}).get("role") == "setup":
            cell.source = "raise SystemExit('tampered')"
    nb.cells.insert(0, nbformat.v4.new_code_cell("import os; os.environ['X'] = '1'"))
    path = tmp_path / "ps3.ipynb"
    nbformat.write(nb, str(path))
    result = grade(path, course)
    assert result.score == result.max_score


def _model_source(course):
    sol = nbformat.read(str(course.root / "release" / "solution" / "ps3.ipynb"), as_version=4)
    return next(
        c.source
        for c in sol.cells
        if c.metadata.get("grader", {}).get("id") == "cnn-model"
        and c.metadata["grader"]["role"] == "answer"
    )


def test_wrong_architecture_gets_partial_module_credit(built_course, tmp_path):
    course, _ = built_course
    model_src = _model_source(course)
    # the classifier without bias: structure and parameter count fail; output shape is right
    wrong = model_src.replace("nn.Linear(64, output_dim)", "nn.Linear(64, output_dim, bias=False)")
    assert wrong != model_src
    sub = with_answers(
        course.root / "release" / "solution" / "ps3.ipynb",
        {"cnn-model": wrong, "cnn-train": "model = ...\nlosses = []\ndevice = 'cpu'"},
        tmp_path / "ps3.ipynb",
    )
    ex = by_id(grade(sub, course))
    checks = {c.name: c.passed for c in ex["cnn-model"].checks}
    assert checks == {
        "structure": False,
        "parameter count": False,
        "output shape": True,
        "forward pass": False,
    }
    assert ex["cnn-model"].score == pytest.approx(ex["cnn-model"].points / 4)
    assert "linear 1: bias False, expected True" in ex["cnn-model"].message
    assert ex["cnn-train"].score == 0


RENAMED_MODEL = """\
class CIFAR10Model(nn.Module):
    def __init__(self, in_channels, output_dim):
        super().__init__()
        self.head = nn.Linear(64, output_dim)  # registered first, called last
        self.c1, self.n1, self.a1 = nn.Conv2d(in_channels, 32, 3), nn.BatchNorm2d(32), nn.ReLU()
        self.c2, self.n2, self.a2 = nn.Conv2d(32, 64, (3, 3)), nn.BatchNorm2d(64), nn.ReLU()
        self.p1, self.p2 = nn.MaxPool2d(2, 2), nn.MaxPool2d(2)
        self.gap, self.flat = nn.AdaptiveAvgPool2d(1), nn.Flatten()

    def forward(self, x):
        x = self.p1(self.a1(self.n1(self.c1(x))))
        x = self.p2(self.a2(self.n2(self.c2(x))))
        return self.head(self.flat(self.gap(x)))


model = CIFAR10Model(3, 10)
"""


FUNCTIONAL_MODEL = """\
import torch.nn.functional as F


class CIFAR10Model(nn.Module):
    def __init__(self, in_channels, output_dim):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(in_channels, 32, 3), nn.BatchNorm2d(32)
        self.conv2, self.bn2 = nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, output_dim)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(x.mean(dim=(2, 3)))


model = CIFAR10Model(3, 10)
"""


@pytest.mark.parametrize("source", [RENAMED_MODEL, FUNCTIONAL_MODEL], ids=["renamed", "functional"])
def test_an_equivalent_model_with_other_names_gets_full_marks(built_course, tmp_path, source):
    """Structure is what the model computes, not attribute names nor style: the renamed class
    and the functional one (F.relu, F.max_pool2d, mean) pass, and their weights are moved into
    the reference layer by layer, so training them passes too."""
    course, _ = built_course
    sub = with_answers(
        course.root / "release" / "solution" / "ps3.ipynb",
        {"cnn-model": source},
        tmp_path / "ps3.ipynb",
    )
    result = grade(sub, course)
    assert result.score == result.max_score, [(e.id, e.message) for e in result.exercises]


def test_timeout_and_kernel_death_are_contained(built_course, tmp_path):
    course, _ = built_course
    sub = with_answers(
        course.root / "release" / "solution" / "ps1.ipynb",
        {
            "corr1d-same": "import time\nwhile True:\n    time.sleep(0.1)",
            "corr1d-stride": "import os\nos._exit(3)",
        },
        tmp_path / "ps1.ipynb",
    )
    result = grade(sub, course, options=GradeOptions(limits={"cell_timeout": 3}))
    ex = by_id(result)
    assert ex["corr1d-same"].status == "error"
    assert "ran past 3 s" in ex["corr1d-same"].message
    assert ex["corr1d-stride"].status == "error"
    assert "kernel died" in ex["corr1d-stride"].message
    others = [e for e in result.exercises if e.id not in ("corr1d-same", "corr1d-stride")]
    assert all(e.status == "passed" for e in others)


def test_stale_key_is_rebuilt(built_course, tmp_path):
    course, _ = built_course
    key_file = course.root / "release" / "key" / "ps1.json"
    data = json.loads(key_file.read_text())
    data["fingerprint"] = "stale"
    data["values"]["corr1d-same"] = [0]
    other = tmp_path / "release"
    (other / "key").mkdir(parents=True)
    (other / "key" / "ps1.json").write_text(json.dumps(data))
    result = grade(
        course.root / "release" / "solution" / "ps1.ipynb",
        course,
        options=GradeOptions(release=other),
    )
    assert result.score == result.max_score
    assert json.loads((other / "key" / "ps1.json").read_text())["fingerprint"] == course.fingerprint


def test_submission_file_is_never_modified(built_course, tmp_path):
    course, _ = built_course
    src = course.root / "release" / "solution" / "ps2.ipynb"
    before = src.read_bytes()
    grade(src, course)
    assert src.read_bytes() == before
    assert load_course(course.path).fingerprint == course.fingerprint
