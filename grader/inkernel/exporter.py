"""Kernel side of grading: turn a student's answer into plain data on disk.

This module runs INSIDE the student's kernel, after each answer cell. It judges nothing:
it follows the answer's export recipe (``grader.kinds``): ``value`` converts the named
variable to plain JSON data; ``model`` saves an ``nn.Module``'s ``state_dict`` with
``torch.save`` and describes its layers (``grader.inkernel.layers``) and its output on a probe
input. Named ``extras`` (a training loop's losses, its device) are exported beside it. The
grader re-validates whatever is written, so a patched exporter or a forged file can only
ever submit a value, which is what the student could have typed anyway. Imports stdlib only
at module level.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

# The format of what the exporter writes: a run stored in another one is run again, not judged
# again (2: a model's behaviour with fresh parameters, ``grader.inkernel.behaviour``).
FORMAT = 2
MAX_ITEMS = 1_000_000
MAX_DEPTH = 32


class ExportError(Exception):
    """The answer cannot be exported as plain data; the message is shown to the student."""


def export(
    directory: str,
    exercise_id: str,
    spec: dict[str, Any],
    namespace: dict[str, Any],
    nonce: str = "",
) -> None:
    """Export the answer of one exercise; never raises for an ordinary error (it is recorded)."""
    payload: dict[str, Any]
    try:
        payload = {"ok": True, **_answer(directory, exercise_id, spec, namespace)}
    except Exception as e:  # any failure is the student's to read, not ours
        payload = {"ok": False, "error": _message(e)}
    path = os.path.join(directory, f"{exercise_id}.json")
    tag = {"nonce": nonce} if nonce else {}  # proves to the grader which step wrote the file
    try:
        _write_json(path, {**payload, **tag})
    except (ValueError, TypeError, RecursionError) as e:  # e.g. an int of 5000 digits
        _write_json(path, {"ok": False, "error": _message(e), **tag})


def to_plain(value: Any, _depth: int = 0, _count: list[int] | None = None) -> Any:
    """Convert numbers, sequences, dicts, numpy arrays and tensors to JSON-ready data."""
    count = _count if _count is not None else [0]
    count[0] += 1
    if count[0] > MAX_ITEMS:
        raise ExportError(f"the answer has more than {MAX_ITEMS} items")
    if _depth > MAX_DEPTH:
        raise ExportError("the answer is nested too deeply")
    if value is None or type(value) is bool or type(value) is str:
        return value
    if isinstance(value, int):
        return int.__int__(value)  # the real value, whatever a subclass claims
    if isinstance(value, float):
        return _float(float.__float__(value))
    if isinstance(value, (list, tuple)):
        return [to_plain(v, _depth + 1, count) for v in list(value)]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in dict.items(value):
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise ExportError(f"dictionary keys must be text, got {type(k).__name__}")
            out[str.__str__(k) if isinstance(k, str) else str(int.__int__(k))] = to_plain(
                v, _depth + 1, count
            )
        return out
    torch = sys.modules.get("torch")
    if torch is not None and type(value) is torch.device:
        return str(value)
    module = type(value).__module__.split(".")[0]
    if module in ("numpy", "torch") and hasattr(value, "tolist"):
        if module == "torch" and getattr(value, "requires_grad", False):
            value = value.detach()
        if module == "torch" and getattr(value, "device", None) is not None:
            value = value.cpu()
        return to_plain(value.tolist(), _depth + 1, count)
    raise ExportError(f"cannot export a value of type {type(value).__name__}")


def _float(x: float) -> float | str:
    # JSON has no NaN/inf; keep them recognisable so the grader can say "got nan".
    return x if math.isfinite(x) else repr(x)


def _answer(
    directory: str, exercise_id: str, spec: dict[str, Any], ns: dict[str, Any]
) -> dict[str, Any]:
    name = spec["name"]
    if name not in ns:
        raise ExportError(f"the answer cell must assign `{name}`, which is not defined")
    value = ns[name]
    if value is Ellipsis:
        raise ExportError(f"`{name}` is still `...`: the exercise is not answered yet")
    if spec["recipe"] == "model":
        out = _model(directory, exercise_id, value, spec)
    else:
        out = {"value": to_plain(value)}
    extras = spec.get("extras") or {}
    if extras:
        # A missing extra is exported as None: its own check says what is missing.
        out["extras"] = {key: to_plain(ns.get(var)) for key, var in extras.items()}
    return out


def _model(directory: str, exercise_id: str, value: Any, spec: dict[str, Any]) -> dict[str, Any]:
    import torch  # only models need torch in the kernel

    from .behaviour import student_outputs
    from .layers import describe, probe_input, summary

    model = value
    if isinstance(model, type) and issubclass(model, torch.nn.Module):
        model = model(*spec.get("arguments", ()))
    if not isinstance(model, torch.nn.Module):
        raise ExportError(f"expected an nn.Module instance, got {type(value).__name__}")
    state = {
        k: v.detach().to("cpu").clone()
        for k, v in model.state_dict().items()
        if isinstance(v, torch.Tensor)
    }
    path = os.path.join(directory, f"{exercise_id}.pt")
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)
    probe = tuple(spec.get("probe") or ())
    x = None
    if probe:
        params = list(model.parameters())
        device = params[0].device if params else torch.device("cpu")
        x = probe_input(probe).to(device)
    layers, output = describe(model, x)
    out: dict[str, Any] = {
        "class": type(model).__name__,
        "num_params": sum(int(p.numel()) for p in model.parameters()),
        "layers": layers,
        "weights": os.path.basename(path),
    }
    seed = spec.get("seed")
    if probe and isinstance(seed, int):  # what the model computes, whatever its style
        out["behaviour"] = {"seed": seed, **student_outputs(model, probe, seed)}
    if probe:
        out["probe"] = _probe_output(output, probe)
        out["summary"] = summary(model, x)  # for the report only: never judged
    return out


def _probe_output(output: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    import torch

    if isinstance(output, BaseException):
        return {"error": f"forward on an input of shape {list(shape)} raised {_message(output)}"}
    if not isinstance(output, torch.Tensor):
        return {"error": f"forward returned a {type(output).__name__}, not a tensor"}
    return {"shape": list(output.shape), "values": to_plain(output.float())}


def _message(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}" if not isinstance(e, ExportError) else str(e)
    return text if len(text) < 500 else text[:500] + "…"


def _write_json(path: str, payload: dict[str, Any]) -> None:
    text = json.dumps(payload)  # serialise first: a failure leaves no file behind
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
