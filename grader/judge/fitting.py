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
    they fit; else why not, and the reference is left as it was)."""
    ours = _by_layer(ref_layers, reference.state_dict(), strict=False)
    theirs = _by_layer(layers, weights)
    if isinstance(theirs, str):
        return theirs
    if len(ours) != len(theirs):
        return (
            f"the model has {len(theirs)} layers with weights, the reference {len(ours)} "
            f"({', '.join(t for t, _ in ours)})"
        )
    state: dict[str, torch.Tensor] = {}
    for n, ((kind, expected), (got_kind, got)) in enumerate(zip(ours, theirs, strict=True), 1):
        where = f"layer with weights {n} ({got_kind}, expected {kind})"
        if sorted(expected) != sorted(got):
            return f"{where}: has {', '.join(sorted(got)) or 'nothing'}"
        for attr, (name, tensor) in expected.items():
            value = got[attr][1]
            if value.shape != tensor.shape:
                return (
                    f"{where}: {attr} of shape {tuple(value.shape)}, expected {tuple(tensor.shape)}"
                )
            state[name] = value.to(tensor.dtype)
    reference.load_state_dict(state, strict=True)
    return ""


def _by_layer(layers: Layers, state: dict[str, torch.Tensor], strict: bool = True) -> Any:
    """The state grouped by layer, in the order layers were first called, as a list of
    (layer type, {attribute: (state key, tensor)}). ``strict``: a tensor of no listed layer
    makes it unusable (a message); else such tensors come last, in state order."""
    order: dict[str, str] = {}
    for layer in layers:
        order.setdefault(layer["name"], layer["type"])
    groups: dict[str, dict[str, tuple[str, torch.Tensor]]] = {}
    for key, tensor in state.items():
        owner, _, attr = key.rpartition(".")
        if owner not in order:
            if strict:
                return f"the weights hold {key}, which belongs to no layer the model calls"
            order[owner] = "?"
        groups.setdefault(owner, {})[attr] = (key, tensor)
    return [(order[name], groups[name]) for name in order if name in groups]
