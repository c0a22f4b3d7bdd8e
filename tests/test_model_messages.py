"""What the structure check says when a model computes another function (issue 17): the first
difference the grader can establish, in order: parameter shapes (``grader.judge.fitting``),
output shapes per stage of a ``torch.fx`` trace, then the operations of a stage
(``grader.judge.stages``); written the same for a model of modules and one of functional
calls, and nothing at all about stages where a model does not trace or its export is forged."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from test_models import (
    Functional,
    Nested,
    Renamed,
    SharedPool,
    Tutorial,
    exercise,
    exported,
    module_checks,
)
from torch import nn

from grader.execute.records import ExportRecord
from grader.inkernel.stages import MAX_STAGES, stages
from grader.judge.behaviour import SAME_PARAMETERS, SAME_STAGES
from grader.judge.context import JudgeContext
from grader.judge.models import check_module
from grader.judge.stages import canonical, compare, read_stages, segments
from grader.key import AnswerKey

PROBE = (2, 3, 32, 32)
PREFIX = "the model does not compute what the expected architecture computes: "


class Modules(nn.Module):
    """The CIFAR10Model in modules, in a Sequential of other names; the settings make wrong
    variants of its first block (the second block is always right)."""

    def __init__(self, padding=0, stride=1, kernel=3, pool="max", order="conv-bn-relu"):
        super().__init__()
        first = {
            "conv": nn.Conv2d(3, 32, kernel, stride=stride, padding=padding),
            "bn": nn.BatchNorm2d(32),
            "relu": nn.ReLU(),
        }
        second = {"conv": nn.Conv2d(32, 64, 3), "bn": nn.BatchNorm2d(64), "relu": nn.ReLU()}
        down = nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2)
        keys = order.split("-")
        self.features = nn.Sequential(
            *[first[k] for k in keys],
            down,
            *[second[k] for k in keys],
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.features(x))


class Calls(nn.Module):
    """The same in the official tutorial's style: F.relu, F.max_pool2d, ``.mean`` for the
    global average."""

    def __init__(self, padding=0, stride=1, kernel=3, pool="max", order="conv-bn-relu"):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel, stride=stride, padding=padding)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, 10)
        self.pool, self.order = pool, order.split("-")

    def forward(self, x):
        for step in self.order:
            x = {"conv": self.conv1, "bn": self.bn1, "relu": F.relu}[step](x)
        x = F.max_pool2d(x, 2) if self.pool == "max" else F.avg_pool2d(x, 2)
        for step in self.order:
            x = {"conv": self.conv2, "bn": self.bn2, "relu": F.relu}[step](x)
        x = F.max_pool2d(x, 2)
        return self.fc(x.mean(dim=(2, 3)))


class Styled(nn.Module):
    """Functional style with a few habits of real code (``moves``: ``x.to("cpu")`` first;
    ``twice``: the global average as two ``.mean`` calls) and wrong variants (``order``,
    ``pool``; ``extra``: one more max-pool before the global average; ``first``: no first
    max-pool)."""

    def __init__(
        self, moves=False, twice=False, order="conv-bn-relu", pool="max", extra=False, first=True
    ):
        super().__init__()
        self.calls = Calls(order=order, pool=pool)
        self.moves, self.twice, self.extra, self.first = moves, twice, extra, first

    def forward(self, x):
        c = self.calls
        if self.moves:
            x = x.to("cpu")
        for step in c.order:
            x = {"conv": c.conv1, "bn": c.bn1, "relu": F.relu}[step](x)
        if self.first:
            x = F.max_pool2d(x, 2) if c.pool == "max" else F.avg_pool2d(x, 2)
        for step in c.order:
            x = {"conv": c.conv2, "bn": c.bn2, "relu": F.relu}[step](x)
        x = F.max_pool2d(x, 2)
        if self.extra:
            x = F.max_pool2d(x, 2)
        x = x.mean(-1).mean(-1) if self.twice else x.mean(dim=(2, 3))
        return c.fc(x)


@pytest.fixture(scope="module")
def context(shipped_course):
    return JudgeContext(shipped_course, AnswerKey("ps3", shipped_course.fingerprint, {}, seed=7))


def structure(shipped_course, context, tmp_path, model):
    return module_checks(shipped_course, context, tmp_path, model)["structure"]


def shapes(conv, stage, got, expected):
    return (
        f"after stage 1 ({conv}) the output is {got}, the reference's is {expected} "
        f"(after its Conv2d) (its layers, as listed by its forward: conv 1: {stage})"
    )


@pytest.mark.parametrize(
    "model,message",
    [
        (
            Modules(padding=1),
            shapes(
                "Conv2d `features.0`", "padding 1, expected 0", [2, 32, 32, 32], [2, 32, 30, 30]
            ),
        ),
        (
            Calls(padding=1),
            shapes("Conv2d `conv1`", "padding 1, expected 0", [2, 32, 32, 32], [2, 32, 30, 30]),
        ),
        (
            Modules(stride=2),
            shapes("Conv2d `features.0`", "stride 2, expected 1", [2, 32, 15, 15], [2, 32, 30, 30]),
        ),
        (
            Calls(stride=2),
            shapes("Conv2d `conv1`", "stride 2, expected 1", [2, 32, 15, 15], [2, 32, 30, 30]),
        ),
        (
            Modules(kernel=5),
            "layer with weights 1 (Conv2d `features.0`): weight of shape (32, 3, 5, 5), expected "
            "(32, 3, 3, 3) (a 5×5 kernel, expected 3×3) (its layers, as listed by its forward: "
            "conv 1: kernel_size 5, expected 3)",
        ),
        (
            Calls(kernel=5),
            "layer with weights 1 (Conv2d `conv1`): weight of shape (32, 3, 5, 5), expected "
            "(32, 3, 3, 3) (a 5×5 kernel, expected 3×3) (its layers, as listed by its forward: "
            "conv 1: kernel_size 5, expected 3)",
        ),
        (
            Modules(pool="avg"),
            "at stage 4 (output [2, 32, 15, 15]) the model computes AvgPool2d, where the "
            "reference computes MaxPool2d",
        ),
        (
            Calls(pool="avg"),
            "at stage 4 (output [2, 32, 15, 15]) the model computes avg_pool2d, where the "
            "reference computes MaxPool2d",
        ),
        (
            Modules(order="conv-relu-bn"),
            "at stages 1-3 (output [2, 32, 30, 30]) the model computes Conv2d, ReLU, "
            "BatchNorm2d, where the reference computes Conv2d, BatchNorm2d, ReLU (the same "
            "operations in another order)",
        ),
        (
            Calls(order="conv-relu-bn"),
            "at stages 1-3 (output [2, 32, 30, 30]) the model computes Conv2d, relu, "
            "BatchNorm2d, where the reference computes Conv2d, BatchNorm2d, ReLU (the same "
            "operations in another order)",
        ),
    ],
    ids=[
        "padding-modules",
        "padding-calls",
        "stride-modules",
        "stride-calls",
        "kernel5-modules",
        "kernel5-calls",
        "avgpool-modules",
        "avgpool-calls",
        "relu-before-bn-modules",
        "relu-before-bn-calls",
    ],
)
def test_a_wrong_model_is_told_its_first_established_difference(
    shipped_course, context, tmp_path, model, message
):
    check = structure(shipped_course, context, tmp_path, model)
    assert not check.passed
    assert check.message == PREFIX + message


@pytest.mark.parametrize(
    "model",
    [Modules, Calls, lambda: Styled(moves=True, twice=True)],
    ids=["modules", "calls", "moved-two-means"],
)
def test_both_styles_of_the_right_model_pass(shipped_course, context, tmp_path, model):
    assert structure(shipped_course, context, tmp_path, model()).passed


RIGHT = [
    Tutorial,
    Renamed,
    lambda: Renamed(flatten=torch.flatten),
    Functional,
    lambda: Functional(flatten="view"),
    lambda: Functional(flatten="mean"),
    SharedPool,
    Nested,
    Modules,
    Calls,
    lambda: Styled(moves=True),
]


@pytest.mark.parametrize("model", RIGHT)
def test_every_right_style_traces_to_the_references_segments(model):
    """Stages of differing granularity (a ReLU module or F.relu, Flatten or .view, the global
    average as a pool then a flatten or as one .mean) group into the same segments: the same
    shapes, the same operations."""
    probe = torch.randn(PROBE)
    mine, ours = read_stages(stages(model(), probe)), read_stages(stages(Tutorial(), probe))
    assert mine is not None and ours is not None
    assert compare(stages(model(), probe), ours, PROBE).same
    got, want = segments(mine, PROBE), segments(ours, PROBE)
    assert (
        [s.shape for s in got]
        == [s.shape for s in want]
        == [
            (2, 3, 32, 32),
            (2, 32, 30, 30),
            (2, 32, 15, 15),
            (2, 64, 13, 13),
            (2, 64, 6, 6),
            (2, 64),
            (2, 10),
        ]
    )


def test_operations_have_one_name_in_every_style():
    names = {
        "ReLU": "relu",
        "relu_": "relu",
        "BatchNorm2d": "batch_norm",
        "MaxPool2d": "max_pool2d",
        "AdaptiveAvgPool2d": "adaptive_avg_pool2d",
        "LeakyReLU": "leaky_relu",
        "Conv2d": "conv2d",
    }
    assert {op: canonical(op) for op in names} == names
    assert canonical("AvgPool2d") != canonical("MaxPool2d")


class Untraceable(nn.Module):
    """Padding 1, and Python control flow on a value: torch.fx cannot trace it."""

    def __init__(self):
        super().__init__()
        self.net = Modules(padding=1)

    def forward(self, x):
        if float(x.abs().sum()) < 0:  # never true, but a traced value cannot decide it
            return x
        return self.net(x)


def test_a_model_that_does_not_trace_is_told_only_what_is_established(
    shipped_course, context, tmp_path
):
    ex = exercise(shipped_course, "cnn-model")
    record = exported(tmp_path, ex, Untraceable())
    assert "untraced" in record.payload["behaviour"] and "stages" not in record.payload["behaviour"]
    check = check_module(ex, None, record, context)[0]
    assert check.message == (
        PREFIX + SAME_PARAMETERS + " (its layers, as listed by its forward: conv 1: padding 1, "
        "expected 0)"
    )


class TraceAware(nn.Module):
    """Padding 1, except when torch.fx traces it: then it claims the reference's path."""

    def __init__(self):
        super().__init__()
        self.net = Calls(padding=1)

    def forward(self, x):
        if isinstance(x, torch.fx.Proxy):
            c = self.net
            x = F.conv2d(x, c.conv1.weight, c.conv1.bias)  # no padding, for the tracer only
            x = F.max_pool2d(F.relu(c.bn1(x)), 2)
            x = F.max_pool2d(F.relu(c.bn2(c.conv2(x))), 2)
            return c.fc(x.mean(dim=(2, 3)))
        return self.net(x)


def test_a_model_that_traces_otherwise_than_it_runs_has_no_stages(
    shipped_course, context, tmp_path
):
    """Its trace would claim the reference's shapes at every stage: it is told nothing of
    stages, only what the parameters and outputs establish."""
    ex = exercise(shipped_course, "cnn-model")
    record = exported(tmp_path, ex, TraceAware())
    assert record.payload["behaviour"]["untraced"] == (
        "the traced forward computes other outputs than the model's forward"
    )
    check = check_module(ex, None, record, context)[0]
    assert check.message == PREFIX + SAME_PARAMETERS + (
        " (its layers, as listed by its forward: conv 1: padding 1, expected 0)"
    )


@pytest.mark.parametrize(
    "forged",
    [
        "nonsense",
        [{"op": "Conv2d", "shape": "big"}],
        [{"op": "Conv2d", "shape": [2, True], "inputs": [0]}],
        [{"op": "Conv2d", "shape": [2, 3], "inputs": [5]}],  # reads a stage not yet computed
        [{"op": "x", "shape": [1] * 17, "inputs": [0]}],
        [{"op": "relu", "shape": [2, 10], "inputs": [0]}] * (MAX_STAGES + 1),
        None,  # an export older than the stages
    ],
    ids=["text", "shape-text", "bool-dim", "later-input", "many-dims", "too-many", "missing"],
)
def test_forged_stages_say_nothing_about_stages(shipped_course, context, tmp_path, forged):
    ex = exercise(shipped_course, "cnn-model")
    record = exported(tmp_path, ex, Modules(pool="avg"))
    behaviour = {k: v for k, v in record.payload["behaviour"].items() if k != "stages"}
    if forged is not None:
        behaviour["stages"] = forged
    lying = ExportRecord({**record.payload, "behaviour": behaviour}, record.weights, record.drawn)
    check = check_module(ex, None, lying, context)[0]
    assert check.message == PREFIX + SAME_PARAMETERS


def test_same_shapes_and_operations_name_a_setting_that_keeps_the_shapes(
    shipped_course, context, tmp_path
):
    """A max-pool of window 3, stride 2 and padding 1 keeps every shape of the reference's
    window 2: the traces agree everywhere, and the message says so, no more."""
    model = Modules()
    model.features[3] = nn.MaxPool2d(3, stride=2, padding=1)
    check = structure(shipped_course, context, tmp_path, model)
    assert check.message == (
        PREFIX + SAME_STAGES + " (its layers, as listed by its forward: max-pool 1: "
        "kernel_size 3, expected 2; padding 1, expected 0)"
    )


def test_a_linear_layer_of_another_size_names_its_features(shipped_course, context, tmp_path):
    model = Modules()
    del model.features[8]  # no global average: the head reads 64 x 6 x 6 features
    model.head[1] = nn.Linear(64 * 6 * 6, 10)
    checks = module_checks(shipped_course, context, tmp_path, model)
    assert checks["structure"].message == PREFIX + (
        "layer with weights 5 (Linear `head.1`): weight of shape (10, 2304), expected (10, 64) "
        "(2304 input features, expected 64) (its layers, as listed by its forward: linear 1: "
        "in_features 2304, expected 64)"
    )


def chain(*ops_and_shapes, branch_at=None):
    """Stages as the kernel exports them: each reads the one before, except ``branch_at``,
    which also reads the input (a skip connection)."""
    out = []
    for i, (op, shape) in enumerate(ops_and_shapes, 1):
        out.append({"op": op, "shape": shape, "inputs": [i - 1] + ([0] if i == branch_at else [])})
    return out


REFERENCE = chain(
    ("Conv2d", [2, 8, 30, 30]), ("ReLU", [2, 8, 30, 30]), ("MaxPool2d", [2, 8, 15, 15])
)
PADDED_STAGES = [
    ("Conv2d", [2, 8, 32, 32]),
    ("ReLU", [2, 8, 32, 32]),
    ("MaxPool2d", [2, 8, 16, 16]),
]
SWAPPED = [("Conv2d", [2, 8, 30, 30]), ("MaxPool2d", [2, 8, 15, 15]), ("ReLU", [2, 8, 15, 15])]


@pytest.mark.parametrize(
    "student,found",
    [
        (
            chain(*PADDED_STAGES),
            "after stage 1 (Conv2d) the output is [2, 8, 32, 32], the reference's is "
            "[2, 8, 30, 30] (after its Conv2d)",
        ),
        (  # the path branches after the first difference: it is still established
            chain(*PADDED_STAGES, branch_at=2),
            "after stage 1 (Conv2d) the output is [2, 8, 32, 32], the reference's is "
            "[2, 8, 30, 30] (after its Conv2d)",
        ),
        (chain(*PADDED_STAGES, branch_at=1), ""),  # it branches before: nothing is paired
        (
            chain(*SWAPPED),
            "at stage 1 (output [2, 8, 30, 30]) the model computes Conv2d, where the reference "
            "computes Conv2d, ReLU",
        ),
        (chain(*SWAPPED, branch_at=3), ""),  # operations of a branching path: no order
    ],
    ids=["chain", "branch-after", "branch-before", "ops", "ops-branching"],
)
def test_stages_are_paired_only_along_one_path(student, found):
    reference = read_stages(REFERENCE)
    result = compare(student, reference, (2, 3, 32, 32))
    assert (result.shapes or result.ops) == found and not result.same


def test_the_probe_forwards_run_on_one_thread_and_restore_the_count():
    from grader.inkernel.threads import one_thread

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), one_thread():
            torch.zeros(2) @ torch.zeros(3)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    "model,message",
    [
        (  # two .mean calls where the reference pools then flattens: a style, not the cause
            Styled(twice=True, order="conv-relu-bn"),
            "at stages 1-3 (output [2, 32, 30, 30]) the model computes Conv2d, relu, "
            "BatchNorm2d, where the reference computes Conv2d, BatchNorm2d, ReLU (the same "
            "operations in another order)",
        ),
        (  # x.to("cpu") is stage 1: it moves the data and computes nothing
            Styled(moves=True, pool="avg"),
            "at stage 5 (output [2, 32, 15, 15]) the model computes avg_pool2d, where the "
            "reference computes MaxPool2d",
        ),
        (
            Styled(extra=True),
            "after stage 9 (max_pool2d) the output is [2, 64, 3, 3], a shape the reference's "
            "forward does not have there",
        ),
        (  # the stride-free second conv reads 30 x 30: every later shape differs
            Styled(first=False),
            "after stage 4 (Conv2d `calls.conv2`) the output is [2, 64, 28, 28], the "
            "reference's is [2, 32, 15, 15] (after its MaxPool2d)",
        ),
    ],
    ids=["two-means", "moved", "extra-pool", "no-first-pool"],
)
def test_real_habits_of_code_do_not_misplace_the_difference(
    shipped_course, context, tmp_path, model, message
):
    check = structure(shipped_course, context, tmp_path, model)
    assert check.message == PREFIX + message


PADDED_FUNCTIONAL = """\
import torch.nn.functional as F


class CIFAR10Model(nn.Module):
    def __init__(self, in_channels, output_dim):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(in_channels, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.conv2, self.bn2 = nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, output_dim)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(x.mean(dim=(2, 3)))


model = CIFAR10Model(3, 10)
"""


@pytest.mark.kernel
def test_the_sandboxed_kernel_traces_the_students_model(built_course, tmp_path):
    """The stages come from the student's own kernel, under the sandbox: a padded model in
    the official tutorial's style is told where its shapes part from the reference's."""
    from shipped import with_answers

    from grader.pipeline import grade

    course, _ = built_course
    sub = with_answers(
        course.root / "release" / "solution" / "ps3.ipynb",
        {"cnn-model": PADDED_FUNCTIONAL, "cnn-train": "model = ...\nlosses = []\ndevice = 'cpu'"},
        tmp_path / "ps3.ipynb",
    )
    ex = next(e for e in grade(sub, course).exercises if e.id == "cnn-model")
    structure = next(c for c in ex.checks if c.name == "structure")
    assert structure.message == PREFIX + (
        "after stage 1 (Conv2d `conv1`) the output is [2, 32, 32, 32], the reference's is "
        "[2, 32, 30, 30] (after its Conv2d) (its layers, as listed by its forward: conv 1: "
        "padding 1, expected 0)"
    )
