"""Reading a model's export, and moving its tensors into the grader's reference model.

The kernel exported a ``state_dict`` (tensors only, read back with ``weights_only=True``) and
the layers its forward called (``grader.inkernel.layers``). Tensors are moved into the
reference layer by layer, by position and shape, never by attribute name: any naming and
any nesting of the student's modules fit.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import torch

Layers = list[dict[str, Any]]


def load_weights(data: bytes | None) -> dict[str, torch.Tensor] | str:
    """The exported state_dict, or a message saying why it cannot be used."""
    if data is None:
        return "no weights were exported"
    try:
        with warnings.catch_warnings():  # a student's odd file is not the operator's concern
            warnings.simplefilter("ignore")
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:
        return f"the exported weights cannot be read ({type(e).__name__})"
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        return "the exported weights are not a state_dict of tensors"
    return state


def read_layers(value: Any) -> Layers | None:
    """The exported layer list, validated as plain data; None when it is unusable."""
    if not isinstance(value, list) or len(value) > 10_000:
        return None
    layers = []
    for item in value:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("type"), str)
            and isinstance(item.get("config"), dict)
        ):
            return None
        layers.append({"name": item["name"], "type": item["type"], "config": item["config"]})
    return layers


def fit_weights(
    reference: torch.nn.Module, ref_layers: Layers, weights: dict[str, torch.Tensor], layers: Layers
) -> str:
    """Load the student's weights into ``reference``, layer by layer in call order ('' when
    they fit; else the first layer whose parameters differ from the reference's, and the
    reference is left as it was)."""
    ours = _by_layer(ref_layers, reference.state_dict(), strict=False)
    theirs = _by_layer(layers, weights)
    if isinstance(theirs, str):
        return theirs
    if len(ours) != len(theirs):
        return (
            f"the model has {len(theirs)} layers with weights ({_kinds(theirs)}), "
            f"the reference {len(ours)} ({_kinds(ours)})"
        )
    state: dict[str, torch.Tensor] = {}
    for n, ((_, kind, expected), (owner, got_kind, got)) in enumerate(
        zip(ours, theirs, strict=True), 1
    ):
        other = "" if got_kind == kind else f", where the reference has a {kind}"
        where = f"layer with weights {n} ({got_kind} `{owner[:80]}`{other})"
        if sorted(expected) != sorted(got):
            missing = [f"no {a}, the reference's has one" for a in expected if a not in got]
            extra = [f"a {a[:40]}, the reference's has none" for a in got if a not in expected]
            return f"{where}: " + "; ".join(missing + extra)
        for attr, (name, tensor) in expected.items():
            value = got[attr][1]
            if value.shape != tensor.shape:
                reading = _reading(kind, attr, tuple(value.shape), tuple(tensor.shape))
                return (
                    f"{where}: {attr} of shape {tuple(value.shape)}, expected "
                    f"{tuple(tensor.shape)}" + (f" ({reading})" if reading else "")
                )
            state[name] = value.to(tensor.dtype)
    reference.load_state_dict(state, strict=True)
    return ""


def _kinds(groups: list[tuple[str, str, Any]]) -> str:
    kinds = [kind[:40] for _, kind, _ in groups[:20]]
    return ", ".join(kinds) + (", …" if len(groups) > 20 else "")


def _reading(kind: str, attr: str, got: tuple[int, ...], expected: tuple[int, ...]) -> str:
    """What a weight's other shape says about the layer, for the layers whose weight shape
    PyTorch documents (convolutions, linear layers): '' for any other."""
    if attr != "weight" or len(got) != len(expected):
        return ""
    if kind.startswith("Conv") and len(got) >= 3:
        names = ("output channels", "input channels")
        parts = [
            f"{g} {name}, expected {e}"
            for name, g, e in zip(names, got[:2], expected[:2], strict=True)
            if g != e
        ]
        if got[2:] != expected[2:]:
            parts.append(f"a {_by(got[2:])} kernel, expected {_by(expected[2:])}")
        return "; ".join(parts)
    if kind == "Linear" and len(got) == 2:
        names = ("output features", "input features")
        return "; ".join(
            f"{g} {name}, expected {e}"
            for name, g, e in zip(names, got, expected, strict=True)
            if g != e
        )
    return ""


def _by(dims: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in dims)


def _by_layer(layers: Layers, state: dict[str, torch.Tensor], strict: bool = True) -> Any:
    """The state grouped by layer, in the order layers were first called, as a list of
    (layer name, layer type, {attribute: (state key, tensor)}). ``strict``: a tensor of no
    listed layer makes it unusable (a message); else such tensors come last, in state order."""
    order: dict[str, str] = {}
    for layer in layers:
        order.setdefault(layer["name"], layer["type"])
    groups: dict[str, dict[str, tuple[str, torch.Tensor]]] = {}
    for key, tensor in state.items():
        owner, _, attr = key.rpartition(".")
        if owner not in order:
            if strict:
                return f"the weights hold {key[:120]}, which belongs to no layer the model calls"
            order[owner] = "?"
        groups.setdefault(owner, {})[attr] = (key, tensor)
    return [(name, order[name], groups[name]) for name in order if name in groups]
