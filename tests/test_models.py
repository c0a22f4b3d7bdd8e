"""Model checks (grader.judge.models) without a kernel: the exporter runs in-process on models
built here, and the checks judge its records against the shipped course's reference."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.execute.records import ExportRecord
from grader.inkernel.exporter import export
from grader.inkernel.layers import describe, probe_input
from grader.judge.context import JudgeContext
from grader.judge.models import check_module, check_overfit, check_training, config_difference
from grader.key import AnswerKey
from grader.spec import Answer


class Tutorial(nn.Module):
    """The tutorial's CIFAR10Model, written again here."""

    def __init__(self, in_channels=3, output_dim=10, padding=0, pool=nn.MaxPool2d):
        super().__init__()
        self.feature_extractor = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=3, padding=padding),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            pool(kernel_size=2),
            nn.Conv2d(32, 64, kernel_size=3, padding=padding),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),
            nn.AdaptiveAvgPool2d(output_size=(1, 1)),
        )
        self.flatten = nn.Flatten(start_dim=1)
        self.classifier = nn.Sequential(nn.Linear(64, output_dim))

    def forward(self, x):
        return self.classifier(self.flatten(self.feature_extractor(x)))


class Renamed(nn.Module):
    """The same network with other names, registered in another order, one pooling layer
    called twice; ``flatten``: what flattens (a Flatten layer, or a function such as
    torch.flatten)."""

    def __init__(self, flatten=None):
        super().__init__()
        self.out = nn.Linear(64, 10)
        self.b2 = nn.Sequential(nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64), nn.ReLU())
        self.b1 = nn.Sequential(nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32), nn.ReLU())
        self.pool = nn.MaxPool2d(2)  # called twice
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten(1) if flatten is None else None
        self.flatten = flatten

    def forward(self, x):
        x = self.gap(self.pool(self.b2(self.pool(self.b1(x)))))
        return self.out(self.flat(x) if self.flat is not None else self.flatten(x, 1))


@pytest.fixture(scope="module")
def context(shipped_course):
    return JudgeContext(shipped_course, AnswerKey("ps3", shipped_course.fingerprint, {}, seed=7))


def exercise(course, eid, **options):
    ex = course.exercises[eid]
    if options:
        answer = Answer.of(ex.answer.kind, ex.answer.name, **{**ex.answer.options, **options})
        ex = dataclasses.replace(ex, answer=answer)
    return ex


def exported(tmp_path, ex, model, seed=12345, **extras):
    """What the kernel exports for ``model``, with the seed a grading's assembly gives."""
    ns = {ex.answer.name: model, **extras}
    export(str(tmp_path), ex.id, {**ex.answer.export_spec(), "seed": seed}, ns)
    payload = json.loads((tmp_path / f"{ex.id}.json").read_text())
    weights = tmp_path / f"{ex.id}.pt"
    data = weights.read_bytes() if weights.exists() else None
    return ExportRecord(payload, data, drawn={"seed": seed})  # the grader's draw


def module_checks(shipped_course, context, tmp_path, model):
    ex = exercise(shipped_course, "cnn-model")
    checks = check_module(ex, None, exported(tmp_path, ex, model), context)
    return {c.name: c for c in checks}


def test_the_tutorials_model_passes_every_check(shipped_course, context, tmp_path):
    torch.manual_seed(1)
    checks = module_checks(shipped_course, context, tmp_path, Tutorial())
    assert {name: c.passed for name, c in checks.items()} == {
        "structure": True,
        "parameter count": True,
        "output shape": True,
        "forward pass": True,
    }
    assert checks["parameter count"].expected == 20234


def test_an_equivalent_model_with_other_names_passes_every_check(shipped_course, context, tmp_path):
    checks = module_checks(shipped_course, context, tmp_path, Renamed())
    assert {name: c.passed for name, c in checks.items()} == {
        "structure": True,
        "parameter count": True,
        "output shape": True,
        "forward pass": True,
    }


class Functional(nn.Module):
    """The official tutorial's style: layers with weights only, everything else functional."""

    def __init__(self, flatten="flatten", padding=0, pool="max"):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=padding)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=padding)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, 10)
        self.how, self.pool = flatten, pool

    def forward(self, x):
        down = F.max_pool2d if self.pool == "max" else F.avg_pool2d
        x = down(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        if self.how == "mean":
            return self.fc(x.mean(dim=(2, 3)))
        x = F.adaptive_avg_pool2d(x, 1)
        x = torch.flatten(x, 1) if self.how == "flatten" else x.view(x.size(0), -1)
        return self.fc(x)


class SharedPool(nn.Module):
    """Modules, one MaxPool called twice, a bare Linear head, torch.flatten."""

    def __init__(self):
        super().__init__()
        self.c1, self.n1 = nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32)
        self.c2, self.n2 = nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64)
        self.act, self.pool = nn.ReLU(inplace=True), nn.MaxPool2d(2, 2)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool(self.act(self.n1(self.c1(x))))
        x = self.pool(self.act(self.n2(self.c2(x))))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))


def block(c_in, c_out, order="conv-bn-relu", batch_norm=True):
    layers = {"conv": nn.Conv2d(c_in, c_out, 3), "relu": nn.ReLU()}
    if batch_norm:
        layers["bn"] = nn.BatchNorm2d(c_out)
    return nn.Sequential(*[layers[k] for k in order.split("-") if k in layers], nn.MaxPool2d(2))


class Nested(nn.Module):
    """Nested Sequentials with other names; ``order`` and ``batch_norm``: wrong variants."""

    def __init__(self, order="conv-bn-relu", batch_norm=True):
        super().__init__()
        self.body = nn.Sequential(
            nn.Sequential(block(3, 32, order, batch_norm), block(32, 64, order, batch_norm)),
            nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        )
        self.logits = nn.Linear(64, 10)

    def forward(self, x):
        return self.logits(self.body(x))


ALL_PASS = {"structure": True, "parameter count": True, "output shape": True, "forward pass": True}


@pytest.mark.parametrize(
    "model",
    [
        Tutorial,  # modules in Sequentials, as the reference
        Renamed,  # other names, registered in another order, one pool called twice
        lambda: Renamed(flatten=torch.flatten),
        Functional,  # F.relu, F.max_pool2d, torch.flatten
        lambda: Functional(flatten="view"),  # x.view(x.size(0), -1)
        lambda: Functional(flatten="mean"),  # x.mean(dim=(2, 3)) for the global average
        SharedPool,
        Nested,
    ],
    ids=["tutorial", "renamed", "torch-flatten", "functional", "view", "mean", "shared", "nested"],
)
def test_every_style_of_the_right_model_passes_every_check(
    shipped_course, context, tmp_path, model
):
    torch.manual_seed(3)
    checks = module_checks(shipped_course, context, tmp_path, model())
    assert {name: c.passed for name, c in checks.items()} == ALL_PASS, [
        c.message for c in checks.values()
    ]


PREFIX = "the model does not compute what the expected architecture computes: "
PADDED = (
    "the output is [2, 32, 32, 32], the reference's is [2, 32, 30, 30] (after its Conv2d) "
    "(its layers, as listed by its forward: conv 1: padding 1, expected 0)"
)
ORDER = "Conv2d, BatchNorm2d, ReLU (the same operations in another order)"


@pytest.mark.parametrize(
    "model,message",
    [
        (lambda: Tutorial(padding=1), "after stage 1 (Conv2d `feature_extractor.0`) " + PADDED),
        (lambda: Functional(padding=1), "after stage 1 (Conv2d `conv1`) " + PADDED),
        (  # ReLU before BatchNorm
            lambda: Nested(order="conv-relu-bn"),
            "at stages 1-3 (output [2, 32, 30, 30]) the model computes Conv2d, ReLU, "
            "BatchNorm2d, where the reference computes " + ORDER,
        ),
        (
            lambda: Tutorial(pool=nn.AvgPool2d),
            "at stage 4 (output [2, 32, 15, 15]) the model computes AvgPool2d, where the "
            "reference computes MaxPool2d",
        ),
        (
            lambda: Functional(pool="avg"),
            "at stage 4 (output [2, 32, 15, 15]) the model computes avg_pool2d, where the "
            "reference computes MaxPool2d",
        ),
    ],
    ids=["padded", "functional-padded", "relu-before-bn", "avg-pool", "functional-avg-pool"],
)
def test_a_wrong_model_fails_the_structure_with_a_true_message(
    shipped_course, context, tmp_path, model, message
):
    checks = module_checks(shipped_course, context, tmp_path, model())
    assert not checks["structure"].passed
    assert checks["structure"].message == PREFIX + message
    assert checks["parameter count"].passed


def test_relu_before_batch_norm_passed_the_old_eval_mode_forward_check(
    shipped_course, context, tmp_path
):
    """An untrained BatchNorm in eval mode is the identity: the student's own weights in the
    reference give the student's outputs, so only the behaviour check tells the orders apart."""
    checks = module_checks(shipped_course, context, tmp_path, Nested(order="conv-relu-bn"))
    assert checks["forward pass"].passed and not checks["structure"].passed


def test_weights_claiming_a_huge_shape_fail_without_drawing_it(shipped_course, context, tmp_path):
    """A stride-0 tensor claims 10^12 values in a few bytes: the grader refuses its shape
    before it draws fresh values of that shape."""
    ex = exercise(shipped_course, "cnn-model")
    record = exported(tmp_path, ex, Tutorial())
    state = torch.load(io.BytesIO(record.weights), weights_only=True)
    state["classifier.0.weight"] = torch.zeros(1).expand(10**6, 10**6)
    data = io.BytesIO()
    torch.save(state, data)
    checks = check_module(
        ex, None, ExportRecord(record.payload, data.getvalue(), record.drawn), context
    )
    assert checks[0].message == PREFIX + (
        "layer with weights 5 (Linear `classifier.0`): weight of shape (1000000, 1000000), "
        "expected (10, 64) (1000000 output features, expected 10; 1000000 input features, "
        "expected 64)"
    )


def test_no_batch_norm_names_the_parameters(shipped_course, context, tmp_path):
    checks = module_checks(shipped_course, context, tmp_path, Nested(batch_norm=False))
    assert not checks["structure"].passed
    assert checks["structure"].message == (
        "the model does not compute what the expected architecture computes: "
        "the model has 3 layers with weights (Conv2d, Conv2d, Linear), the reference 5 "
        "(Conv2d, BatchNorm2d, Conv2d, BatchNorm2d, Linear)"
    )


def test_the_fresh_parameters_come_from_the_seed(shipped_course, context, tmp_path):
    """The same model exported with two seeds: other outputs, both right; outputs of one seed
    judged with another seed's claim fail."""
    ex = exercise(shipped_course, "cnn-model")
    one = exported(tmp_path, ex, Tutorial(), seed=1).payload["behaviour"]
    two = exported(tmp_path, ex, Tutorial(), seed=2).payload["behaviour"]
    assert one["eval"] != two["eval"] and one["train"] != one["eval"]
    record = exported(tmp_path, ex, Tutorial(), seed=1)
    lying = {**record.payload, "behaviour": {**one, "seed": 2}}
    checks = check_module(ex, None, ExportRecord(lying, record.weights, record.drawn), context)
    assert not checks[0].passed


def test_the_seed_is_the_graders_not_the_kernels(shipped_course, context, tmp_path):
    """A kernel that ran the behaviour check with a seed of its own choice (and says so) is
    judged against the seed the grader drew: it fails; with no draw, nothing is trusted."""
    ex = exercise(shipped_course, "cnn-model")
    own = exported(tmp_path, ex, Tutorial(), seed=2)
    assert check_module(ex, None, own, context)[0].passed
    chosen = ExportRecord(own.payload, own.weights, drawn={"seed": 1})
    first = check_module(ex, None, chosen, context)[0]
    assert not first.passed and "another seed than the grader gave" in first.message
    undrawn = ExportRecord(own.payload, own.weights)
    assert "drew no seed" in check_module(ex, None, undrawn, context)[0].message


def test_a_missing_layer_is_a_failing_forward(shipped_course, context, tmp_path):
    model = Tutorial()
    del model.feature_extractor[8]  # no global average pooling
    checks = module_checks(shipped_course, context, tmp_path, model)
    assert checks["structure"].message == (
        "the model does not compute what the expected architecture computes: with fresh "
        "parameters, forward on an input of shape [2, 3, 32, 32] raised RuntimeError: "
        "mat1 and mat2 shapes cannot be multiplied (2x2304 and 64x10)"
    )
    assert not checks["output shape"].passed


def test_a_forged_layer_list_earns_no_forward_pass(shipped_course, context, tmp_path):
    """Claiming the tutorial's layers while exporting a padded model's weights and outputs:
    neither the behaviour check nor the grader's own forward pass believes the claim."""
    ex = exercise(shipped_course, "cnn-model")
    record = exported(tmp_path, ex, Tutorial(padding=1))
    honest_layers, _ = describe(Tutorial(), probe_input((2, 3, 32, 32)))
    forged = ExportRecord({**record.payload, "layers": honest_layers}, record.weights, record.drawn)
    checks = {c.name: c for c in check_module(ex, None, forged, context)}
    assert not checks["structure"].passed
    assert not checks["forward pass"].passed


@pytest.mark.parametrize(
    "layers,weights",
    [("nonsense", None), ([{"name": 1}], None), (None, b"not a torch file"), ([], b"")],
)
def test_garbage_exports_fail_cleanly(shipped_course, context, layers, weights):
    ex = exercise(shipped_course, "cnn-model")
    record = ExportRecord({"ok": True, "layers": layers, "num_params": "x", "probe": "y"}, weights)
    checks = check_module(ex, None, record, context)
    assert [c.passed for c in checks] == [False, False, False, False]


def test_config_difference_compares_layers_of_a_type_in_order():
    ref, _ = describe(Tutorial(), probe_input((1, 3, 32, 32)))
    assert config_difference(ref, ref) == ""
    shared, _ = describe(SharedPool(), probe_input((1, 3, 32, 32)))
    assert config_difference(shared, ref) == ""  # another order of types, a pool called twice
    stride = json.loads(json.dumps(ref))
    stride[4]["config"]["stride"] = [2, 1]
    assert config_difference(stride, ref) == "conv 2: stride [2, 1], expected 1"
    functional, _ = describe(Functional(padding=1), probe_input((1, 3, 32, 32)))
    assert config_difference(functional, ref) == "conv 1: padding 1, expected 0"
    fewer = [layer for layer in ref if layer["type"] != "Conv2d" or layer["name"].endswith(".4")]
    assert config_difference(fewer, ref) == ""  # one conv of two: no conv is compared


# --- training and the sanity check -------------------------------------------------------------


def test_training_is_judged_on_the_graders_held_out_data(shipped_course, context, tmp_path):
    ex = exercise(shipped_course, "cnn-train", holdout=300, min_accuracy=0.0)
    torch.manual_seed(0)
    model = Renamed(flatten=torch.flatten).eval()
    record = exported(tmp_path, ex, model, losses=[2.0, 1.0, 0.5], device="cpu")
    loss, acc = check_training(ex, None, record, context)
    assert loss.passed and acc.passed and acc.weight == 2.0
    # the weights were moved into the reference by position: same predictions
    from grader.datasets import accuracy

    x, y = context.holdout(300)
    assert acc.got == round(accuracy(model, x.contiguous(), y), 4)
    assert "(trained on cpu)" in acc.message


def test_an_untrained_model_misses_the_accuracy(shipped_course, context, tmp_path):
    ex = exercise(shipped_course, "cnn-train", holdout=300)
    record = exported(tmp_path, ex, Tutorial(), losses=[1.0, 2.0], device="cpu")
    loss, acc = check_training(ex, None, record, context)
    assert not loss.passed and not acc.passed
    assert acc.message.startswith("accuracy ") and "needs 60%" in acc.message


def _fit_batch(context, ex, steps):
    x, y = context.setup_value(ex, "batch_x"), context.setup_value(ex, "batch_y")
    torch.manual_seed(0)
    model = Tutorial()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return model, losses


def test_the_sanity_check_recomputes_the_loss_itself(shipped_course, context, tmp_path):
    ex = exercise(shipped_course, "cnn-overfit")
    model, losses = _fit_batch(context, ex, 10)
    record = exported(tmp_path, ex, model, overfit_losses=losses)
    fell, fits = check_overfit(ex, None, record, context)
    assert fell.passed and fits.passed and fits.got < 0.1
    # an untrained model with a made-up falling loss history: the grader's loss says no
    liar = exported(tmp_path, ex, Tutorial(), overfit_losses=[2.0, 0.001])
    fell, fits = check_overfit(ex, None, liar, context)
    assert fell.passed and not fits.passed and fits.got > 1.0


def test_held_out_data_that_cannot_be_read_is_a_course_error(shipped_course, tmp_path):
    from grader.assemble import Assembled, Step
    from grader.errors import CompareError
    from grader.execute.records import Executed, StepOutcome
    from grader.judge import judge

    course = dataclasses.replace(shipped_course, cifar10_dir=tmp_path)  # no test_batch there
    ex = exercise(course, "cnn-train", holdout=10)
    course = dataclasses.replace(course, exercises={**course.exercises, ex.id: ex})
    (tmp_path / "out").mkdir()
    record = exported(tmp_path / "out", ex, Tutorial(), losses=[1.0, 0.5], device="cpu")
    assembled = Assembled(
        (Step("answer", ex.id, "..."), Step("export", ex.id, spec={})), (), frozenset()
    )
    executed = Executed((StepOutcome("ok"), StepOutcome("ok")), {ex.id: record})
    with pytest.raises(CompareError) as err:
        judge(course, assembled, executed, AnswerKey("ps3", "f", {}, seed=1))
    assert str(err.value).startswith(
        "exercise 'cnn-train': the held-out data cannot be loaded: CIFAR-10 batch file not found"
    )


def test_a_missing_bias_names_the_layer_and_its_setting(shipped_course, context, tmp_path):
    model = Tutorial()
    model.classifier[0] = nn.Linear(64, 10, bias=False)
    checks = module_checks(shipped_course, context, tmp_path, model)
    assert checks["structure"].message == (
        "the model does not compute what the expected architecture computes: layer with "
        "weights 5 (Linear `classifier.0`): no bias, the reference's has one (its layers, as "
        "listed by its forward: linear 1: bias False, expected True)"
    )
