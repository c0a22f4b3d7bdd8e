"""A function case's inputs as plain data, and back: what the grader puts in an export step
and what the student's function is called with.

``encode`` runs in the grader (a generator's tensors and arrays become plain data); ``decode``
runs in the kernel (``grader.inkernel.calls``) and in the grader when it calls the reference,
so both sides are called with equal inputs. Besides plain JSON data, an input may be a
mapping tagged ``"__input__"``:

    {"__input__": "tensor", "data": [[1.0, 2.0]], "dtype": "float32"}   # torch.tensor
    {"__input__": "ndarray", "data": [1, 2], "dtype": "int64"}          # numpy.array
    {"__input__": "tuple", "items": [1, 2]}
    {"__input__": "expr", "source": "torch.nn.Linear(4, 2)", "name": "a linear layer"}
                                        # an object built by the author's code (``name``,
                                        # optional, is what reports call it)

An ``expr`` is the course author's (trusted) text, evaluated with ``math``, ``random`` and
``torch`` (when installed) after ``torch.manual_seed(0)`` and ``random.seed(0)``, so the kernel
and the grader build equal objects. Imports stdlib only at module level.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Mapping
from typing import Any

TAG = "__input__"
DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


class InputError(ValueError):
    """A case's input cannot be encoded or decoded (a course error)."""


def tensor(data: Any, dtype: str = "float32") -> dict[str, Any]:
    """A tensor input without torch in the grader: a case generator may return
    ``tensor([[1.0, 2.0]])`` (nested lists of numbers) for ``torch.tensor(...)``."""
    if dtype not in DTYPES:
        raise InputError(f"unknown dtype {dtype!r} (one of {', '.join(DTYPES)})")
    return {TAG: "tensor", "data": data, "dtype": dtype}


def encode(value: Any, _depth: int = 0) -> Any:
    """Plain data for ``value``: numbers, text, lists, mappings, tuples, tensors, arrays."""
    if _depth > 32:
        raise InputError("an input is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"an input is not a finite number: {value!r}")
        return float(value)
    if isinstance(value, tuple):
        return {TAG: "tuple", "items": [encode(v, _depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        if TAG in value:
            return _tagged(value)
        if not all(isinstance(k, str) for k in value):
            raise InputError("a mapping of an input must have text keys")
        return {k: encode(v, _depth + 1) for k, v in value.items()}
    module = type(value).__module__.split(".")[0]
    if module in ("torch", "numpy") and hasattr(value, "tolist") and hasattr(value, "dtype"):
        dtype = str(value.dtype).removeprefix("torch.")
        if dtype not in DTYPES:
            raise InputError(f"inputs of dtype {dtype} are not supported")
        data = value.detach().cpu().tolist() if module == "torch" else value.tolist()
        return {TAG: "tensor" if module == "torch" else "ndarray", "data": data, "dtype": dtype}
    raise InputError(f"cannot pass a value of type {type(value).__name__} as an input")


def _tagged(value: dict[str, Any]) -> dict[str, Any]:
    """A tagged mapping (written by the author in YAML), checked."""
    tag = value[TAG]
    if tag in ("tensor", "ndarray"):
        if value.get("dtype", "float32") not in DTYPES:
            raise InputError(f"unknown dtype {value.get('dtype')!r} (one of {', '.join(DTYPES)})")
        return {TAG: tag, "data": value.get("data"), "dtype": value.get("dtype", "float32")}
    if tag == "tuple":
        return {TAG: "tuple", "items": [encode(v) for v in value.get("items", [])]}
    if tag == "expr":
        source = value.get("source")
        if not isinstance(source, str):
            raise InputError("an expr input needs its source as text")
        try:
            compile(source, "<input>", "eval")
        except SyntaxError as e:
            raise InputError(f"the expr input {source!r} is not an expression: {e.msg}") from None
        name = value.get("name", "")
        if not isinstance(name, str) or len(name) > 60:
            raise InputError("an expr input's name must be a short text")
        return {TAG: "expr", "source": source, **({"name": name} if name else {})}
    raise InputError(f"unknown input tag {tag!r} (tensor, ndarray, tuple or expr)")


def decode(data: Any, _depth: int = 0) -> Any:
    """The value ``encode`` made plain data of (a fresh object at each call)."""
    if _depth > 32:
        raise InputError("an input is nested too deeply")
    if isinstance(data, list):
        return [decode(v, _depth + 1) for v in data]
    if not isinstance(data, dict):
        return data
    tag = data.get(TAG)
    if tag is None:
        return {k: decode(v, _depth + 1) for k, v in data.items()}
    if tag == "tuple":
        return tuple(decode(v, _depth + 1) for v in data.get("items", []))
    if tag == "tensor":
        import torch

        return torch.tensor(data.get("data"), dtype=getattr(torch, str(data.get("dtype"))))
    if tag == "ndarray":
        import numpy

        return numpy.array(data.get("data"), dtype=str(data.get("dtype")))
    if tag == "expr":
        return _evaluated(str(data.get("source")))
    raise InputError(f"unknown input tag {tag!r}")


def decode_all(case: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """A case's positional and keyword arguments, decoded."""
    args = decode(list(case.get("args", [])))
    kwargs = decode(dict(case.get("kwargs", {})))
    return args, kwargs


def _evaluated(source: str) -> Any:
    names: dict[str, Any] = {"math": math, "random": random}
    random.seed(0)
    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch
        except ImportError:
            torch = None
    if torch is not None:
        torch.manual_seed(0)
        names["torch"] = torch
    return eval(compile(source, "<input>", "eval"), names)  # the course author's text


# --- an input as the student would write it (reports, the hand-out's check()) --------------

SHOWN = 120  # characters of a call a message shows


def call_text(name: str, case: Mapping[str, Any]) -> str:
    """A call as the student would write it: ``squares(0)``, ``corr1d(tensor([1.0]), ...)``."""
    args = [shown(a) for a in case.get("args", ())]
    args += [f"{k}={shown(v)}" for k, v in case.get("kwargs", {}).items()]
    return cut(f"{name}({', '.join(args)})")


def shown(value: Any) -> str:
    """An encoded input as Python would show it, in short."""
    if isinstance(value, Mapping) and TAG in value:
        tag = value[TAG]
        if tag in ("tensor", "ndarray"):
            inner = cut(repr(_thawed(value.get("data"))))
            return f"tensor({inner})" if tag == "tensor" else f"array({inner})"
        if tag == "tuple":
            items = [shown(v) for v in value.get("items", ())]
            return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
        return str(value.get("name") or value.get("source", "?"))  # an expr: its name
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k!r}: {shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return repr(value)


def _thawed(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_thawed(v) for v in value]
    return value


def cut(text: str) -> str:
    """``text``, cut to what a message shows."""
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"
