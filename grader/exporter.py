"""Kernel side of grading: turn a student's answer into plain data on disk.

This module runs INSIDE the student's kernel, after each answer cell. It judges nothing:
it converts the named variable to plain JSON data (and, for models, a ``state_dict`` saved
with ``torch.save``) and writes it to the export folder. Whatever it writes is re-validated
by the grader process, so a patched exporter or a forged file can only ever submit a value,
which is what the student could have typed anyway. Imports stdlib only at module level.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

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
    kind = spec["kind"]
    if kind == "module":
        return _module(directory, exercise_id, value, tuple(spec["probe"]))
    if kind == "training":
        out = _module(directory, exercise_id, value, ())
        losses = ns.get(spec["losses"], None)
        if losses is None:
            raise ExportError(f"the training cell must record its losses in `{spec['losses']}`")
        out["losses"] = to_plain(losses)
        out["device"] = str(ns.get(spec["device"], "")) or None
        return out
    return {"value": to_plain(value)}


def _module(directory: str, exercise_id: str, value: Any, probe: tuple[int, ...]) -> dict[str, Any]:
    import torch  # only models need torch in the kernel

    model = value
    if isinstance(model, type) and issubclass(model, torch.nn.Module):
        model = model()
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
    out: dict[str, Any] = {
        "class": type(model).__name__,
        "num_params": sum(int(p.numel()) for p in model.parameters()),
        "layers": [
            [name, type(m).__name__, sum(int(p.numel()) for p in m.parameters(recurse=False))]
            for name, m in model.named_modules()
            if name and not list(m.children())
        ],
        "weights": os.path.basename(path),
    }
    if probe:
        out["probe"] = _probe(model, probe)
    return out


def _probe(model: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g)
    params = list(model.parameters())
    device = params[0].device if params else torch.device("cpu")
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            y = model(x.to(device))
    except Exception as e:
        return {"error": f"forward on an input of shape {list(shape)} raised {_message(e)}"}
    finally:
        model.train(was_training)
    if not isinstance(y, torch.Tensor):
        return {"error": f"forward returned a {type(y).__name__}, not a tensor"}
    return {"shape": list(y.shape), "values": to_plain(y.float())}


def _message(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}" if not isinstance(e, ExportError) else str(e)
    return text if len(text) < 500 else text[:500] + "…"


def _write_json(path: str, payload: dict[str, Any]) -> None:
    text = json.dumps(payload)  # serialise first: a failure leaves no file behind
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
