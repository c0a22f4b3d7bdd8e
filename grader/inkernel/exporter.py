"""Kernel side of grading: turn a student's answer into plain data on disk.

This module runs INSIDE the student's kernel, after each answer cell. It judges nothing:
it follows the answer's export recipe (``grader.kinds``): ``value`` converts the named
variable to plain JSON data; ``model`` saves an ``nn.Module``'s ``state_dict`` with
``torch.save`` and describes its layers (``grader.inkernel.layers``) and its output on a probe
input; ``calls`` calls a function on the answer's cases (``grader.inkernel.calls``). Named
``extras`` (a training loop's losses, its device) are exported beside it. The grader
re-validates whatever is written, so a patched exporter or a forged file can only ever submit
a value, which is what the student could have typed anyway. Imports stdlib only at module
level.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .plain import MAX_DEPTH, MAX_ITEMS, ExportError, to_plain

# The format of what the exporter writes: a run stored in another one is run again, not judged
# again (2: a model's behaviour with fresh parameters, ``grader.inkernel.behaviour``; 3: the
# grader's draws, ``grader.draws``, kept with the run; 4: a model's stages from a torch.fx
# trace and its layers' parameter shapes).
FORMAT = 4

__all__ = ["MAX_DEPTH", "MAX_ITEMS", "ExportError", "export", "to_plain"]


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
    elif spec["recipe"] == "calls":
        from .calls import call_all

        cases, timeout = spec.get("cases", []), spec.get("timeout", 1.0)
        out = {"calls": call_all(value, cases, timeout, spec.get("forbids", []))}
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
