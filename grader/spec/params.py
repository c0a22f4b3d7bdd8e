"""``params:`` and ``constraints:`` of a topic or an exercise: the generators of per-student
values and the conditions they must meet (drawn by ``grader.variants``)."""

from __future__ import annotations

from typing import Any

from .model import Constraint, Param
from .yamlfields import Fields, Map

GENERATORS = ("int", "float", "choice")
RESERVED = ("id", "title", "points", "answer", "loop", "self")
PARAM_KEYS = (*GENERATORS, "list", "matrix", "digits", "default")


def read_params(f: Fields) -> tuple[Param, ...]:
    """``params:``: name -> generator (``int: [low, high]``, ``float: [low, high]`` with
    ``digits``, or ``choice: [...]``; ``list: n`` or ``matrix: [rows, cols]`` make a list or
    a matrix of them, a size may be a ``[min, max]`` range) and its ``default``."""
    if f.data.get("params") is None:
        return ()
    items = Fields(f.get("params", Map), f.path, f"{f.prefix}params.", f.line_of("params"))
    out = []
    for name in items.data:
        if not name.isidentifier() or name.startswith("_"):
            raise items.fail(name, "a parameter name must be a Python variable name")
        if name in RESERVED:
            raise items.fail(name, f"{name!r} is taken (prompts already use it)")
        p = Fields(items.data[name], f.path, f"{items.prefix}{name}.", items.line_of(name))
        p.check_keys(PARAM_KEYS)
        draws = [g for g in GENERATORS if p.data.get(g) is not None]
        if len(draws) != 1:
            raise items.fail(name, f"give exactly one of {', '.join(GENERATORS)}")
        draw = draws[0]
        low = high = 0.0
        choices: tuple[Any, ...] = ()
        if draw == "choice":
            choices = tuple(p.get("choice", list))
            if not choices:
                raise p.fail("choice", "expected a non-empty list")
        else:
            bounds = p.get(draw, list)
            kind = int if draw == "int" else (int, float)
            if len(bounds) != 2 or not all(
                isinstance(b, kind) and not isinstance(b, bool) for b in bounds
            ):
                raise p.fail(
                    draw, f"expected [low, high], two {'integers' if draw == 'int' else 'numbers'}"
                )
            low, high = bounds
            if low > high:
                raise p.fail(draw, "low is above high")
        digits = int(p.number("digits", 1)) if draw == "float" else 0
        if p.data.get("list") is not None and p.data.get("matrix") is not None:
            raise p.fail("matrix", "give list or matrix, not both")
        dims: tuple[tuple[int, int], ...] = ()
        if p.data.get("list") is not None:
            dims = (_size(p, "list", p.data["list"]),)
        elif p.data.get("matrix") is not None:
            sizes = p.get("matrix", list)
            if len(sizes) != 2:
                raise p.fail("matrix", "expected [rows, columns]")
            dims = tuple(_size(p, "matrix", n) for n in sizes)
        param = Param(name, draw, low, high, digits, choices, dims)
        if "default" in p.data:
            default = p.data["default"]
            problem = _unlike(param, default)
            if problem:
                raise p.fail("default", problem)
            param = Param(name, draw, low, high, digits, choices, dims, default)
        out.append(param)
    return tuple(out)


def _size(p: Fields, key: str, value: Any) -> tuple[int, int]:
    """A list length or matrix size: ``n`` or ``[min, max]``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return (value, value)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value)
        and value[0] <= value[1]
    ):
        return (value[0], value[1])
    raise p.fail(key, "a size is a positive integer or [min, max]")


def _unlike(param: Param, value: Any, depth: int = 0) -> str:
    """Why ``value`` is not of the parameter's form (its type, and its sizes), or ''."""
    if depth < len(param.dims):
        low, high = param.dims[depth]
        if not isinstance(value, list) or not low <= len(value) <= high:
            size = str(low) if low == high else f"{low} to {high}"
            return f"expected a list of {size} items, like the generator makes"
        return next((why for v in value if (why := _unlike(param, v, depth + 1))), "")
    if param.draw == "int" and (not isinstance(value, int) or isinstance(value, bool)):
        return f"expected an integer, got {value!r}"
    if param.draw == "float" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        return f"expected a number, got {value!r}"
    return ""


def read_constraints(f: Fields) -> tuple[Constraint, ...]:
    """``constraints:``: Python expressions the drawn values must make true."""
    items = f.get("constraints", list, [])
    out = []
    for text in items:
        if not isinstance(text, str):
            raise f.fail("constraints", "every constraint is a Python expression, as text")
        try:
            compile(text, "<constraint>", "eval")
        except SyntaxError as e:
            raise f.fail("constraints", f"{text!r} is not a Python expression ({e.msg})") from None
        out.append(Constraint(text, str(f.path), f.line_of("constraints")))
    return tuple(out)
