"""A model's layers as plain data: type and hyperparameters of every leaf module, in the order
``forward`` calls them.

Runs in the student's kernel (the exporter describes the student's model) and in the grader
(on its own reference model), so both sides describe a network the same way. A layer's
hyperparameters are the module's ``__constants__`` (what PyTorch itself treats as a layer's
configuration), normalised so that equal layers compare equal: ``kernel_size=3`` on a 2d
layer is ``[3, 3]``, ``padding="valid"`` is ``[0, 0]``, and whether there is a bias is said.
Imports torch only when called.
"""

from __future__ import annotations

import math
from typing import Any

from .threads import one_thread

SPATIAL = ("kernel_size", "stride", "padding", "dilation", "output_padding", "output_size")
IGNORED = ("inplace", "return_indices")  # change nothing about what the layer computes


def probe_input(shape: tuple[int, ...]) -> Any:
    """The probe input of a model check: the same tensor in the kernel and in the grader."""
    import torch

    return torch.randn(shape, generator=torch.Generator().manual_seed(0))


def leaves(model: Any) -> list[tuple[str, Any]]:
    """(qualified name, module) of every module without children, in registration order."""
    return [(name, m) for name, m in model.named_modules() if not list(m.children())]


def config(module: Any) -> dict[str, Any]:
    """A leaf's hyperparameters as plain, comparable data."""
    dims = _dims(type(module).__name__)
    out: dict[str, Any] = {}
    for name in sorted(getattr(type(module), "__constants__", ())):
        if name in IGNORED or not hasattr(module, name):
            continue
        out[name] = _plain(getattr(module, name), dims if name in SPATIAL else 0)
    padding = out.get("padding")
    if isinstance(padding, str) and "kernel_size" in out:
        out["padding"] = _resolve_padding(padding, out)
    if hasattr(module, "bias") and "bias" not in out:
        out["bias"] = getattr(module, "bias", None) is not None
    return out


def describe(model: Any, probe: Any = None) -> tuple[list[dict[str, Any]], Any]:
    """The layers of ``model`` and its output on ``probe``.

    With a probe input, layers are listed in the order ``forward`` calls them (a layer used
    twice is listed twice); without one, or when forward raises, in registration order.
    Returns the layers and the output (a tensor), or the exception forward raised, or None.
    """
    named = leaves(model)
    if probe is None:
        return [_layer(name, m) for name, m in named], None
    import torch

    calls: list[dict[str, Any]] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o, name=name: calls.append(_layer(name, m)))
        for name, m in named
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad(), one_thread():
            output = model(probe)
    except Exception as e:  # the student's forward: its error is data
        return [_layer(name, m) for name, m in named], e
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return calls, output


SUMMARY_ROWS = 200  # a summary longer than this is cut (a student's model may be huge)


def summary(model: Any, probe: Any) -> dict[str, Any]:
    """The model's torchinfo summary on ``probe`` as plain data: a row per module (class,
    attribute name, depth, output shape, parameters; for a leaf, the shapes of what it holds
    and its settings) and the total, or ``{"error": ...}``."""
    try:
        import torchinfo

        with one_thread():
            stats = torchinfo.summary(
                model, input_data=[probe], verbose=0, depth=8, device=probe.device
            )
    except Exception as e:  # the student's model: its failure is data
        return {"error": f"{type(e).__name__}: {str(e)[:300]}"}
    rows = [
        {
            "layer": str(info.class_name)[:80],
            "name": str(info.var_name)[:80],
            "depth": int(info.depth),
            "shape": [int(d) for d in info.output_size] if info.output_size else [],
            "params": int(info.num_params) if info.is_leaf_layer else int(info.trainable_params),
            **(_holds(info.module) if info.is_leaf_layer else {}),
        }
        for info in stats.summary_list[: SUMMARY_ROWS + 1]
    ]
    return {
        "rows": rows[:SUMMARY_ROWS],
        "cut": len(rows) > SUMMARY_ROWS,
        "total": int(stats.total_params),
    }


ROW_TENSORS = 16  # a leaf holding more parameters and buffers than this lists none


def _holds(module: Any) -> dict[str, Any]:
    """A leaf's own parameter and buffer shapes (name -> shape, in the module's order) and
    its settings (``config``, the small ones), for the report to pair and describe layers;
    nothing for a leaf that cannot be described (a student's module is anything)."""
    try:
        tensors = [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
        shapes = {
            str(name)[:40]: [int(d) for d in tensor.shape]
            for name, tensor in tensors[:ROW_TENSORS]
            if tensor is not None
        }
        settings = {str(k)[:40]: v for k, v in config(module).items() if _small(v)}
    except Exception:
        return {}
    return {"shapes": shapes if len(tensors) <= ROW_TENSORS else {}, "config": settings}


def _small(value: Any) -> bool:
    """Whether a setting is a scalar, a short text, or a short list of them."""
    if isinstance(value, list):
        return len(value) <= 8 and all(_small(v) and not isinstance(v, list) for v in value)
    if isinstance(value, str):
        return len(value) <= 200
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int):
        return -(2**62) < value < 2**62
    return value is None


def _layer(name: str, module: Any) -> dict[str, Any]:
    own = sum(int(p.numel()) for p in module.parameters(recurse=False))
    return {"name": name, "type": type(module).__name__, "config": config(module), "params": own}


def _dims(type_name: str) -> int:
    for d in (1, 2, 3):
        if type_name.endswith(f"{d}d"):
            return d
    return 0


def _plain(value: Any, dims: int) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return [value] * dims if dims else value
    if isinstance(value, float):
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(v, 0) for v in value]
    return str(value)


def _resolve_padding(padding: str, out: dict[str, Any]) -> Any:
    """'valid' is no padding; 'same' pads d * (k - 1) / 2 on each side (odd kernels)."""
    kernel = out["kernel_size"] if isinstance(out["kernel_size"], list) else [out["kernel_size"]]
    dilation = out.get("dilation", [1] * len(kernel))
    if padding == "valid":
        return [0] * len(kernel)
    spans = [d * (k - 1) for k, d in zip(kernel, dilation, strict=False)]
    if padding == "same" and all(span % 2 == 0 for span in spans):
        return [span // 2 for span in spans]
    return padding
