"""Checks of exported models (answer kinds ``module`` and ``training``), in the grader process.

The student's kernel exported a ``state_dict`` (tensors only, read back with
``weights_only=True``) and a few plain facts. The grader builds its own reference model,
loads the student's weights into it and evaluates it itself: nothing the student's code
computed is trusted beyond being a value to compare.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import torch

from .results import CheckResult
from .spec import Answer

FORWARD_RTOL = 1e-3
FORWARD_ATOL = 1e-4


def load_weights(path: Path) -> dict[str, torch.Tensor] | str:
    """The exported state_dict, or a message saying why it cannot be used."""
    try:
        with warnings.catch_warnings():  # a student's odd file is not the operator's concern
            warnings.simplefilter("ignore")
            data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        return "no weights were exported"
    except Exception as e:
        return f"the exported weights cannot be read ({type(e).__name__})"
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()
    ):
        return "the exported weights are not a state_dict of tensors"
    return data


def fit_weights(reference: torch.nn.Module, weights: dict[str, torch.Tensor]) -> CheckResult:
    """Load the student's weights into the reference architecture (strict, shape by shape)."""
    ref = reference.state_dict()
    missing = [k for k in ref if k not in weights]
    unexpected = [k for k in weights if k not in ref]
    wrong = [
        f"{k} {tuple(weights[k].shape)} (expected {tuple(v.shape)})"
        for k, v in ref.items()
        if k in weights and weights[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing[:8]) + ("…" if len(missing) > 8 else ""))
    if unexpected:
        problems.append(
            "unexpected " + ", ".join(unexpected[:8]) + ("…" if len(unexpected) > 8 else "")
        )
    if wrong:
        problems.append("wrong shape " + "; ".join(wrong[:8]))
    if problems:
        return CheckResult(
            "structure",
            False,
            message="the weights do not fit the expected architecture: " + "; ".join(problems),
            expected=sorted(ref),
            got=sorted(weights)[:200],
        )
    reference.load_state_dict({k: weights[k].to(v.dtype) for k, v in ref.items()}, strict=True)
    return CheckResult("structure", True)


def probe_input(shape: tuple[int, ...]) -> torch.Tensor:
    """The probe input, generated exactly as grader.exporter generates it in the kernel."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(0))


def _fit(reference: torch.nn.Module, weights_path: Path) -> CheckResult:
    """The structure check: the exported weights, loaded into ``reference`` when they fit."""
    weights = load_weights(weights_path)
    if isinstance(weights, str):
        return CheckResult("structure", False, message=weights)
    return fit_weights(reference, weights)


def _equal(name: str, expected: Any, got: Any, message: str) -> CheckResult:
    ok = got == expected
    return CheckResult(name, ok, expected=expected, got=got, message="" if ok else message)


def check_module(
    answer: Answer,
    payload: dict[str, Any],
    weights_path: Path,
    reference_cls: type[torch.nn.Module],
) -> list[CheckResult]:
    """Structure, parameter count, output shape and forward pass of a built model."""
    reference = reference_cls()
    reference.eval()
    expected_params = sum(p.numel() for p in reference.parameters())
    with torch.no_grad():
        expected_out = reference(probe_input(answer.probe))
    structure = _fit(reference, weights_path)
    got_params = payload.get("num_params")
    params = _equal(
        "parameter count",
        expected_params,
        got_params,
        f"the model has {got_params} parameters, expected {expected_params:,}",
    )
    probe = payload.get("probe") if isinstance(payload.get("probe"), dict) else {}
    assert isinstance(probe, dict)
    exp_shape = list(expected_out.shape)
    if "error" in probe:
        shape = CheckResult("output shape", False, message=str(probe["error"]), expected=exp_shape)
    else:
        got_shape = probe.get("shape")
        shape = _equal(
            "output shape",
            exp_shape,
            got_shape,
            f"on an input of shape {list(answer.probe)} the output has shape {got_shape}, "
            f"expected {exp_shape}",
        )
    forward = _forward(answer, probe, reference, structure.passed)
    return [structure, params, shape, forward]


def _forward(
    answer: Answer, probe: dict[str, Any], reference: torch.nn.Module, fits: bool
) -> CheckResult:
    if not fits:
        return CheckResult(
            "forward pass", False, message="not checked: the weights do not fit the architecture"
        )
    with torch.no_grad():
        expected = reference(probe_input(answer.probe))
    try:
        got = torch.tensor(probe.get("values"), dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        return CheckResult("forward pass", False, message="the forward pass gave no output")
    ok = got.shape == expected.shape and bool(
        torch.allclose(got, expected.float(), rtol=FORWARD_RTOL, atol=FORWARD_ATOL)
    )
    return CheckResult(
        "forward pass",
        ok,
        message=""
        if ok
        else "with your weights, your forward() gives other outputs than "
        "the reference architecture: check the order of layers, activations and pooling",
    )


def check_training(
    answer: Answer,
    payload: dict[str, Any],
    weights_path: Path,
    reference_cls: type[torch.nn.Module],
    holdout: tuple[torch.Tensor, torch.Tensor],
) -> list[CheckResult]:
    """The loss went down, and the weights reach ``min_accuracy`` on held-out samples."""
    from .datasets import accuracy

    device = payload.get("device")
    trained_on = f" (trained on {device})" if isinstance(device, str) else ""
    losses = payload.get("losses")
    loss_check = _losses(losses)
    reference = reference_cls()
    fit = _fit(reference, weights_path)
    if not fit.passed:
        acc = CheckResult(
            "held-out accuracy", False, weight=2.0, message=f"not evaluated: {fit.message}"
        )
    else:
        value = accuracy(reference, *holdout)
        ok = value >= answer.min_accuracy
        acc = CheckResult(
            "held-out accuracy",
            ok,
            weight=2.0,
            expected=answer.min_accuracy,
            got=round(value, 4),
            message=f"accuracy {value:.1%} on {len(holdout[1])} held-out samples "
            f"(needs {answer.min_accuracy:.0%}){trained_on}",
        )
    return [loss_check, acc]


def _losses(losses: Any) -> CheckResult:
    if not isinstance(losses, list) or len(losses) < 2:
        return CheckResult(
            "loss went down", False, message="`losses` must be a list with at least two loss values"
        )
    values = [v for v in losses if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(values) != len(losses) or not all(math.isfinite(v) for v in values):
        return CheckResult(
            "loss went down",
            False,
            message="`losses` must hold finite numbers (got nan, inf or text)",
        )
    k = max(1, len(values) // 10)
    first, last = sum(values[:k]) / k, sum(values[-k:]) / k
    ok = last < first
    return CheckResult(
        "loss went down",
        ok,
        expected=f"< {first:.4f}",
        got=round(last, 4),
        message=f"mean loss went from {first:.4f} to {last:.4f}",
    )
