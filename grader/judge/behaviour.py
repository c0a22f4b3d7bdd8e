"""Whether the student's model computes the same function as the reference architecture.

The kernel ran a copy of the student's model with fresh parameters and buffers drawn from a
seed (``grader.inkernel.behaviour``) on a probe batch, in eval and in train mode, and exported
the outputs. Here the grader derives the same fresh state itself, from the seed and the keys and
shapes of the student's exported weights (a state sent by the kernel is never used), loads it
into its own reference architecture by position and shape (``grader.judge.fitting``), runs the
same probe, and compares. Any style of code computing the same function passes; a difference
is described only as far as the grader can establish it.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from ..inkernel.behaviour import ATOL, RTOL, fresh_state, outputs, probe_batch
from ..inkernel.stages import stages
from ..inkernel.threads import one_thread
from .fitting import Layers, fit_weights
from .stages import Comparison, compare, read_stages

SAME_PARAMETERS = (
    "same parameters, different computation (order, activation, padding, stride or pooling)"
)
SAME_STAGES = (
    "same parameters, and operations of the same names with the same output shapes at every "
    "stage, yet other outputs: something that keeps the shapes differs, such as a setting (a "
    "pooling window, padding with dilation, an activation's slope, eps)"
)


def same_function(
    reference: torch.nn.Module,
    ref_layers: Layers,
    weights: dict[str, torch.Tensor] | str,
    layers: Layers | None,
    behaviour: Any,
    shape: tuple[int, ...],
    seed: Any = None,
) -> str:
    """'' when the student's model computes what ``reference`` computes on the probe batch,
    with fresh parameters drawn from ``seed`` (the grader's draw for this grading); else what
    differs first (``reference`` itself is left as it was)."""
    if layers is None:
        return "the exported description of the model's layers is unusable"
    if isinstance(weights, str):
        return weights
    if not isinstance(behaviour, dict):
        return "the model's behaviour was not exported"
    error = behaviour.get("error")
    if isinstance(error, str):
        where = f"an input of shape {list(shape)}"
        return f"with fresh parameters, forward on {where} raised {error[:300]}"
    if not isinstance(seed, int) or isinstance(seed, bool):
        return "the grader drew no seed for the behaviour check; grade the notebook again"
    if behaviour.get("seed") != seed:
        return "the model's behaviour was exported for another seed than the grader gave"
    model = copy.deepcopy(reference).to("cpu")
    # The exported weights' shapes are checked against the reference's before any fresh value
    # is drawn for them: a tensor of stride 0 can claim any shape in a few bytes.
    misfit = fit_weights(model, ref_layers, weights, layers) or fit_weights(
        model, ref_layers, fresh_state(weights, seed), layers
    )
    if misfit:
        return misfit  # parameter shapes, layer by layer
    expected = outputs(model, shape, seed)
    for mode in ("eval", "train"):
        try:
            got = torch.tensor(behaviour.get(mode), dtype=torch.float32)
        except (TypeError, ValueError, RuntimeError, OverflowError):
            return f"the {mode}-mode output was not exported as numbers"
        want = expected[mode].float()
        if got.shape != want.shape or not torch.allclose(got, want, rtol=RTOL, atol=ATOL):
            return _difference(model, behaviour, shape, seed, mode, got, want)
    return ""


def _difference(
    model: torch.nn.Module,
    behaviour: dict[str, Any],
    shape: tuple[int, ...],
    seed: int,
    mode: str,
    got: torch.Tensor,
    want: torch.Tensor,
) -> str:
    """The first difference the stages establish (``grader.judge.stages``), once the
    parameters fit and the outputs differ: shapes, then the output's shape, then operations."""
    with one_thread():
        traced = stages(model, probe_batch(shape, seed))
    ours = read_stages(traced)  # None when the reference does not trace: nothing to compare
    found = compare(behaviour.get("stages"), ours, shape) if ours is not None else Comparison()
    if found.shapes:
        return found.shapes
    if got.shape != want.shape:
        return (
            f"with fresh parameters, the {mode}-mode output has shape {list(got.shape)}, "
            f"expected {list(want.shape)}"
        )
    if found.ops:
        return found.ops
    return SAME_STAGES if found.same else SAME_PARAMETERS
