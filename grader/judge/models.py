"""Checks of exported models (kinds ``module``, ``training``, ``overfit``), in the grader.

The student's kernel exported a ``state_dict`` (tensors only, read back with
``weights_only=True``), the layers its forward called (``grader.inkernel.layers``), its outputs
with fresh parameters and the stages of its forward (``grader.inkernel.behaviour``,
``grader.inkernel.stages``) and a few plain facts. The architecture is judged by what the
model computes (``grader.judge.behaviour``), in any style of code; the stages and the layer
list only word a difference. The weights are moved into the grader's own reference
model layer by layer, by position (``grader.judge.fitting``), and evaluated there. Nothing the
student's code computed is trusted beyond being a value to compare.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

import torch

from ..errors import CompareError
from ..inkernel.layers import SUMMARY_ROWS, describe, probe_input, summary
from ..key import MAX_LOSSES
from ..results import CheckResult
from ..spec import Exercise
from .behaviour import same_function
from .fitting import Layers, fit_weights, load_weights, read_layers

if TYPE_CHECKING:
    from ..execute.records import ExportRecord
    from .context import JudgeContext

EVAL_BATCH = 100  # with channels-last tensors, several times faster than larger batches
FORWARD_RTOL = 1e-3
FORWARD_ATOL = 1e-4
NAMES = {
    "Conv1d": "conv",
    "Conv2d": "conv",
    "Conv3d": "conv",
    "BatchNorm1d": "batch norm",
    "BatchNorm2d": "batch norm",
    "BatchNorm3d": "batch norm",
    "MaxPool1d": "max-pool",
    "MaxPool2d": "max-pool",
    "AvgPool2d": "avg-pool",
    "AdaptiveAvgPool2d": "adaptive avg-pool",
    "AdaptiveMaxPool2d": "adaptive max-pool",
    "Linear": "linear",
    "Flatten": "flatten",
    "Dropout": "dropout",
}

# --- structure ------------------------------------------------------------------------------------


def layer_label(layers: Layers, index: int) -> str:
    """``conv 1``, ``max-pool 2``: a layer named by its kind and its rank among that kind."""
    kind = layers[index]["type"]
    rank = sum(1 for layer in layers[: index + 1] if layer["type"] == kind)
    return f"{NAMES.get(kind, kind)} {rank}"


def config_difference(got: Layers, expected: Layers) -> str:
    """The first setting in which the n-th layer of a type differs from the reference's n-th
    layer of that type (``conv 1: padding 1, expected 0``), or ''. Only layers of a type both
    models have as many of are compared: the order of types and functional calls are styles."""
    kinds: dict[str, tuple[list[int], list[int]]] = {}
    for side, layers in enumerate((got, expected)):
        seen: set[str] = set()
        for i, layer in enumerate(layers):
            if layer["name"] in seen:
                continue  # a module called twice is one layer
            seen.add(layer["name"])
            kinds.setdefault(layer["type"], ([], []))[side].append(i)
    for i, exp in enumerate(expected):
        mine, theirs = kinds[exp["type"]]
        if len(mine) != len(theirs) or i not in theirs:
            continue
        layer = got[mine[theirs.index(i)]]
        diffs = [
            f"{key} {_show(layer['config'].get(key))}, expected {_show(value)}"
            for key, value in exp["config"].items()
            if layer["config"].get(key) != value
        ]
        if diffs:
            return f"{layer_label(expected, i)}: " + "; ".join(diffs)
    return ""


def _show(value: Any) -> str:
    if isinstance(value, list) and value and all(v == value[0] for v in value):
        return str(value[0])  # [0, 0] reads as 0, the way the layer was written
    return "nothing" if value is None else str(value)


def fast(model: torch.nn.Module) -> torch.nn.Module:
    """The model with channels-last weights: the same values, a faster forward on the CPU
    for the channels-last images of ``JudgeContext.holdout``."""
    model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return model


# --- the checks -----------------------------------------------------------------------------------


class _Model:
    """The reference model, its layers, and the student's weights loaded into it."""

    def __init__(self, exercise: Exercise, export: ExportRecord, context: JudgeContext) -> None:
        probe = exercise.answer["probe"]
        self.reference = context.reference_model(exercise)
        self.ref_layers, self.ref_output = describe(
            self.reference, probe_input(probe) if probe else None
        )
        if isinstance(self.ref_output, BaseException):
            raise CompareError(
                f"the reference model fails on an input of shape {list(probe)}: "
                f"{type(self.ref_output).__name__}: {self.ref_output}"
            )
        self.layers = read_layers(export.payload.get("layers"))
        weights = load_weights(export.weights)
        self.behaviour = export.payload.get("behaviour")
        self.seed = export.drawn.get("seed")  # the grader's draw (grader.draws), not the kernel's
        self.weights = weights
        if self.layers is None:
            self.fit = "the exported description of the model's layers is unusable"
        elif isinstance(weights, str):
            self.fit = weights
        else:
            self.fit = fit_weights(self.reference, self.ref_layers, weights, self.layers)

    def structure(self, summary: Any, probe: tuple[int, ...]) -> CheckResult:
        """Whether the model computes the reference's function (``grader.judge.behaviour``);
        its details are both models' summaries for the report."""
        details = {
            "summaries": {
                "student": read_summary(summary),
                "reference": self.reference_summary(probe),
            }
        }
        difference = same_function(
            self.reference,
            self.ref_layers,
            self.weights,
            self.layers,
            self.behaviour,
            probe,
            self.seed,
        )
        if not difference:
            return CheckResult("structure", True, details=details)
        message = "the model does not compute what the expected architecture computes: " + (
            difference
        )
        hint = config_difference(self.layers or [], self.ref_layers)
        if hint:
            message += f" (its layers, as listed by its forward: {hint})"
        got = self.layers or []
        return CheckResult(
            "structure",
            False,
            message=message,
            expected=[layer_label(self.ref_layers, i) for i in range(len(self.ref_layers))],
            got=[layer_label(got, i) for i in range(min(len(got), 200))],
            details=details,
        )

    def reference_summary(self, probe: tuple[int, ...]) -> dict[str, Any]:
        """The reference's torchinfo summary (computed on a fresh copy: the reference may
        hold the student's weights by now, and its BatchNorm statistics must not move)."""
        if not probe:
            return {"error": "no probe input"}
        model = copy.deepcopy(self.reference)
        return summary(model, probe_input(probe))


def check_module(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """Structure (the sequence of layers), parameter count, output shape, and the forward
    pass of the reference architecture with the student's weights."""
    answer = exercise.answer
    model = _Model(exercise, export, context)
    payload = export.payload
    expected_params = sum(p.numel() for p in model.reference.parameters())
    got_params = payload.get("num_params")
    params = _equal(
        "parameter count",
        expected_params,
        got_params,
        f"the model has {got_params} parameters, expected {expected_params:,}",
    )
    probe = payload.get("probe") if isinstance(payload.get("probe"), dict) else {}
    assert isinstance(probe, dict)
    exp_shape = list(model.ref_output.shape)
    if "error" in probe:
        shape = CheckResult("output shape", False, message=str(probe["error"]), expected=exp_shape)
    else:
        got_shape = probe.get("shape")
        shape = _equal(
            "output shape",
            exp_shape,
            got_shape,
            f"on an input of shape {list(answer['probe'])} the output has shape {got_shape}, "
            f"expected {exp_shape}",
        )
    structure = model.structure(payload.get("summary"), tuple(answer["probe"]))
    return [structure, params, shape, _forward(answer["probe"], probe, model)]


def _equal(name: str, expected: Any, got: Any, message: str) -> CheckResult:
    ok = got == expected
    return CheckResult(name, ok, expected=expected, got=got, message="" if ok else message)


def _forward(shape: tuple[int, ...], probe: dict[str, Any], model: _Model) -> CheckResult:
    if model.fit:
        return CheckResult("forward pass", False, message=f"not checked: {model.fit}")
    model.reference.eval()
    with torch.no_grad():
        expected = model.reference(probe_input(shape)).float()
    try:
        got = torch.tensor(probe.get("values"), dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return CheckResult("forward pass", False, message="the forward pass gave no output")
    ok = got.shape == expected.shape and bool(
        torch.allclose(got, expected, rtol=FORWARD_RTOL, atol=FORWARD_ATOL)
    )
    return CheckResult(
        "forward pass",
        ok,
        message=""
        if ok
        else "with your weights, the reference architecture computes other outputs than your "
        "forward(): check the order of layers, activations and pooling, and their settings",
    )


def check_training(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """The loss went down, and the weights reach ``min_accuracy`` on held-out samples."""
    from ..datasets import predict

    answer = exercise.answer
    extras = _extras(export)
    device = extras.get("device")
    device = str(device)[:40] if isinstance(device, str) else None
    trained_on = f" (trained on {device})" if device else ""
    model = _Model(exercise, export, context)
    if model.fit:
        acc = CheckResult(
            "held-out accuracy", False, weight=2.0, message=f"not evaluated: {model.fit}"
        )
    else:
        x, y = context.holdout(answer["holdout"])
        predicted = predict(fast(model.reference), x, batch_size=EVAL_BATCH)
        value = float((predicted == y.cpu()).float().mean())
        acc = CheckResult(
            "held-out accuracy",
            value >= answer["min_accuracy"],
            weight=2.0,
            expected=answer["min_accuracy"],
            got=round(value, 4),
            message=f"accuracy {value:.1%} on {len(y)} held-out samples "
            f"(needs {answer['min_accuracy']:.0%}){trained_on}",
            details={"device": device, **_per_class(predicted, y.cpu())},
        )
    reference = context.key.extras.get(exercise.id, {}).get("losses")
    return [_losses(extras.get("losses"), answer["losses"], reference), acc]


def _per_class(predicted: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    """Accuracy per true class and the confusion matrix (rows: true, columns: predicted)."""
    n = int(max(int(labels.max()), int(predicted.max()))) + 1 if len(labels) else 0
    confusion = torch.bincount(labels * n + predicted, minlength=n * n).reshape(n, n)
    totals = confusion.sum(dim=1)
    per_class = [
        round(float(confusion[c, c]) / float(totals[c]), 4) if totals[c] else None for c in range(n)
    ]
    return {"per_class": per_class, "confusion": confusion.tolist()}


def check_overfit(
    exercise: Exercise, expected: Any, export: ExportRecord, context: JudgeContext
) -> list[CheckResult]:
    """The loss went down, and the grader's own cross-entropy of the exported weights on the
    setup's fixed batch (BatchNorm on the batch's statistics, as in training) is at most
    ``max_loss``."""
    answer = exercise.answer
    extras = _extras(export)
    model = _Model(exercise, export, context)
    limit = answer["max_loss"]
    if model.fit:
        fit = CheckResult(
            "fits the batch", False, weight=2.0, message=f"not evaluated: {model.fit}"
        )
    else:
        x = context.setup_value(exercise, answer["inputs"])
        y = context.setup_value(exercise, answer["targets"])
        model.reference.train()
        with torch.no_grad():
            loss = float(torch.nn.functional.cross_entropy(model.reference(x), y))
        fit = CheckResult(
            "fits the batch",
            math.isfinite(loss) and loss <= limit,
            weight=2.0,
            expected=f"<= {limit:g}",
            got=round(loss, 4),
            message=f"the grader's loss of your trained weights on the {len(y)} fixed examples "
            f"is {loss:.4f} (needs at most {limit:g})",
        )
    reference = context.key.extras.get(exercise.id, {}).get("losses")
    return [_losses(extras.get("losses"), answer["losses"], reference), fit]


def _extras(export: ExportRecord) -> dict[str, Any]:
    extras = export.payload.get("extras")
    return extras if isinstance(extras, dict) else {}


def _losses(losses: Any, name: str, reference: Any = None) -> CheckResult:
    if not isinstance(losses, list) or len(losses) < 2:
        return CheckResult(
            "loss went down", False, message=f"`{name}` must be a list of at least two losses"
        )
    values = [v for v in losses if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(values) != len(losses) or not all(math.isfinite(v) for v in values):
        return CheckResult(
            "loss went down",
            False,
            message=f"`{name}` must hold finite numbers (got nan, inf or text)",
        )
    k = max(1, len(values) // 10)
    first, last = sum(values[:k]) / k, sum(values[-k:]) / k
    details: dict[str, Any] = {"losses": _thin(values)}
    if isinstance(reference, list) and all(isinstance(v, (int, float)) for v in reference):
        details["reference_losses"] = _thin(reference)
    return CheckResult(
        "loss went down",
        last < first,
        expected=f"< {first:.4f}",
        got=round(last, 4),
        message=f"mean loss went from {first:.4f} to {last:.4f}",
        details=details,
    )


def _thin(values: list[Any]) -> list[float]:
    """At most MAX_LOSSES evenly spaced values (the first and last kept), for a plot."""
    if len(values) <= MAX_LOSSES:
        return [float(v) for v in values]
    step = (len(values) - 1) / (MAX_LOSSES - 1)
    return [float(values[round(i * step)]) for i in range(MAX_LOSSES)]


def read_summary(value: Any) -> dict[str, Any]:
    """A model summary exported by the kernel (``grader.inkernel.layers.summary``), validated
    as plain data for display; anything else is reported as unusable."""
    if isinstance(value, dict) and isinstance(value.get("error"), str):
        return {"error": value["error"][:300]}
    rows = value.get("rows") if isinstance(value, dict) else None
    if not isinstance(rows, list):
        return {"error": "no summary was exported"}
    out = []
    for row in rows[:SUMMARY_ROWS]:
        if not isinstance(row, dict):
            return {"error": "the exported summary is unusable"}
        shape = row.get("shape")
        shapes, settings = _shapes(row.get("shapes")), _settings(row.get("config"))
        out.append(
            {
                "layer": str(row.get("layer"))[:80],
                "name": str(row.get("name"))[:80],
                "depth": _int(row.get("depth")),
                "shape": [_int(d) for d in shape[:8]] if isinstance(shape, list) else [],
                "params": _int(row.get("params")),
                **({"shapes": shapes} if shapes is not None else {}),
                **({"config": settings} if settings is not None else {}),
            }
        )
    return {"rows": out, "cut": bool(value.get("cut")), "total": _int(value.get("total"))}


ROW_ITEMS = 24  # parameters, buffers or settings of one layer: more makes the entry unusable


def _shapes(value: Any) -> dict[str, list[int]] | None:
    """A row's parameter and buffer shapes (older exports have none: None)."""
    if not isinstance(value, dict) or len(value) > ROW_ITEMS:
        return None
    out = {}
    for name, shape in value.items():
        if not (isinstance(name, str) and isinstance(shape, list) and len(shape) <= 8):
            return None
        if not all(type(d) is int and 0 <= d < 2**40 for d in shape):
            return None
        out[name[:40]] = list(shape)
    return out


def _settings(value: Any) -> dict[str, Any] | None:
    """A row's settings (``grader.inkernel.layers.config``): plain scalars and short lists."""
    if not isinstance(value, dict) or len(value) > ROW_ITEMS:
        return None
    out: dict[str, Any] = {}
    for name, setting in value.items():
        items = setting if isinstance(setting, list) and len(setting) <= 8 else [setting]
        if not isinstance(name, str) or not all(_scalar(v) for v in items):
            return None
        out[name[:40]] = setting[:40] if isinstance(setting, str) else setting
    return out


def _scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return (
        value is None
        or isinstance(value, (bool, int))
        or (isinstance(value, str) and len(value) <= 200)
    )


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def warm_up(context: JudgeContext, exercise: Exercise, n: int) -> None:
    """Load the held-out data, and run the reference model on one batch of it, so that the
    real evaluation finds its kernels compiled and its memory allocated."""
    from ..datasets import accuracy

    x, y = context.holdout(n)
    model = fast(context.reference_model(exercise))
    accuracy(model, x[:EVAL_BATCH], y[:EVAL_BATCH], batch_size=EVAL_BATCH)
