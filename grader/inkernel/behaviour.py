"""What a model computes, independently of how its code is written: its outputs with fresh
parameters.

Runs in the student's kernel (the exporter, on a copy of the student's model) and in the
grader (on its reference architecture, once the same fresh parameters are loaded into it by
position), so both sides compute the same thing the same way. The fresh parameters are a pure
function of a seed and the state_dict's keys, shapes and dtypes (``fresh_state``): the grader
derives them itself from the student's exported weights and never trusts a state the kernel
sends. Every value is non-trivial (random weights and biases, BatchNorm running statistics and
affine parameters, a positive running variance), and the probe runs in eval mode and in train
mode, so that an untrained BatchNorm is no identity and ReLU before BatchNorm is told apart.
Imports torch only when called.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from .stages import stages
from .threads import one_thread

# How far the student's outputs may be from the reference's (float32, other summation orders).
RTOL = 1e-3
ATOL = 1e-4


def fresh_state(state: dict[str, Any], seed: int) -> dict[str, Any]:
    """New values for every floating tensor of ``state`` (others are kept), from ``seed`` and
    each entry's key, shape and dtype, in the state's order."""
    import torch

    generator = torch.Generator().manual_seed(int(seed) % 2**63)
    out: dict[str, Any] = {}
    for key, tensor in state.items():
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            out[key] = tensor
            continue
        attr = key.rpartition(".")[2]
        shape = tuple(tensor.shape)
        if attr == "running_var":
            value = 0.5 + 1.5 * torch.rand(shape, generator=generator)
        elif attr == "weight" and len(shape) >= 2:
            fan_in = max(1, math.prod(shape[1:]))
            value = torch.randn(shape, generator=generator) * math.sqrt(2.0 / fan_in)
        elif attr == "weight":  # an affine scale (BatchNorm, LayerNorm): around 1, both signs
            value = 1.0 + 0.5 * torch.randn(shape, generator=generator)
        else:  # biases, running means, anything else
            value = 0.5 * torch.randn(shape, generator=generator)
        out[key] = value.to(tensor.dtype)
    return out


def probe_batch(shape: tuple[int, ...], seed: int) -> Any:
    """The probe input of the behaviour check, drawn from ``seed``."""
    import torch

    return torch.randn(shape, generator=torch.Generator().manual_seed(int(seed) % 2**63 ^ 1))


def outputs(model: Any, shape: tuple[int, ...], seed: int) -> dict[str, Any]:
    """The outputs of ``model`` (already holding its fresh state, on the CPU) on the probe
    batch, in eval mode then in train mode: ``{"eval": tensor, "train": tensor}``. Raises what
    the model's forward raises."""
    import torch

    x = probe_batch(shape, seed)
    out: dict[str, Any] = {}
    with torch.no_grad(), torch.random.fork_rng(devices=[]), one_thread():
        torch.manual_seed(int(seed) % 2**63)  # dropout draws the same masks on both sides
        for mode in ("eval", "train"):
            model.train(mode == "train")
            out[mode] = model(x)
    return out


def student_outputs(model: Any, shape: tuple[int, ...], seed: int) -> dict[str, Any]:
    """In the kernel: a CPU copy of the student's model with fresh parameters and buffers, and
    its outputs on the probe batch (plain lists) and the stages of its forward
    (``grader.inkernel.stages``: ``"stages"``, or why not in ``"untraced"``), or
    ``{"error": ...}``."""
    import torch

    try:
        twin = copy.deepcopy(model).to("cpu")
        state = {k: v for k, v in twin.state_dict().items() if isinstance(v, torch.Tensor)}
        twin.load_state_dict(fresh_state(state, seed), strict=False)
        got = outputs(twin, shape, seed)
    except Exception as e:  # the student's model: its failure is data
        return {"error": f"{type(e).__name__}: {str(e)[:300]}"}
    result: dict[str, Any] = {}
    for mode, value in got.items():
        if not isinstance(value, torch.Tensor):
            return {"error": f"forward returned a {type(value).__name__}, not a tensor"}
        result[mode] = value.detach().float().tolist()
    with one_thread():
        traced = stages(twin, probe_batch(shape, seed))  # words a difference, never judged
    result["stages" if isinstance(traced, list) else "untraced"] = traced
    return result
