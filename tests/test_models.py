"""Model checks (grader.judge.models) without a kernel: the exporter runs in-process on models
built here, and the checks judge its records against the shipped course's reference."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from torch import nn

from grader.execute.records import ExportRecord
from grader.inkernel.exporter import export
from grader.inkernel.layers import describe, probe_input
from grader.judge.context import JudgeContext
from grader.judge.models import check_module, check_overfit, check_training, compare_layers
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


def exported(tmp_path, ex, model, **extras):
    ns = {ex.answer.name: model, **extras}
    export(str(tmp_path), ex.id, ex.answer.export_spec(), ns)
    payload = json.loads((tmp_path / f"{ex.id}.json").read_text())
    weights = tmp_path / f"{ex.id}.pt"
    return ExportRecord(payload, weights.read_bytes() if weights.exists() else None)


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


def test_flattening_with_a_function_fails_the_structure_check_only(
    shipped_course, context, tmp_path
):
    checks = module_checks(shipped_course, context, tmp_path, Renamed(flatten=torch.flatten))
    assert {name: c.passed for name, c in checks.items()} == {
        "structure": False,
        "parameter count": True,
        "output shape": True,
        "forward pass": True,
    }
    # torch.flatten is a function, not a layer: the one difference the structure sees
    assert checks["structure"].message == (
        "the layers differ from the expected architecture: "
        "layer 10: a Linear where flatten 1 (Flatten) was expected"
    )


def test_the_padded_variant_fails_naming_the_layer(shipped_course, context, tmp_path):
    checks = module_checks(shipped_course, context, tmp_path, Tutorial(padding=1))
    structure = checks["structure"]
    assert not structure.passed
    assert structure.message.endswith("conv 1: padding 1, expected 0")
    assert checks["parameter count"].passed and checks["output shape"].passed
    assert not checks["forward pass"].passed  # same weights, other outputs


def test_another_layer_type_is_named(shipped_course, context, tmp_path):
    checks = module_checks(shipped_course, context, tmp_path, Tutorial(pool=nn.AvgPool2d))
    assert checks["structure"].message.endswith(
        "layer 4: a AvgPool2d where max-pool 1 (MaxPool2d) was expected"
    )


def test_a_missing_layer_is_named(shipped_course, context, tmp_path):
    model = Tutorial()
    del model.feature_extractor[8]  # no global average pooling
    checks = module_checks(shipped_course, context, tmp_path, model)
    assert "layer 9: a Flatten where adaptive avg-pool 1 (AdaptiveAvgPool2d)" in (
        checks["structure"].message
    )
    assert not checks["output shape"].passed


def test_a_forged_layer_list_earns_no_forward_pass(shipped_course, context, tmp_path):
    """Claiming the tutorial's layers while exporting a padded model's weights and outputs:
    the claim passes the structure check, the grader's own forward pass does not."""
    ex = exercise(shipped_course, "cnn-model")
    record = exported(tmp_path, ex, Tutorial(padding=1))
    honest_layers, _ = describe(Tutorial(), probe_input((2, 3, 32, 32)))
    forged = ExportRecord({**record.payload, "layers": honest_layers}, record.weights)
    checks = {c.name: c for c in check_module(ex, None, forged, context)}
    assert checks["structure"].passed
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


def test_compare_layers_messages():
    ref, _ = describe(Tutorial(), probe_input((1, 3, 32, 32)))
    assert compare_layers(ref, ref) == ""
    assert compare_layers(ref[:-2], ref) == "2 layer(s) missing at the end: flatten 1, linear 1"
    assert compare_layers([*ref, ref[2]], ref) == ("1 layer(s) more than expected at the end: ReLU")
    stride = json.loads(json.dumps(ref))
    stride[0]["config"]["stride"] = [2, 1]
    assert compare_layers(stride, ref) == "conv 1: stride [2, 1], expected 1"


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
