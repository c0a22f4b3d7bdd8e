"""An exercise's ``answer:`` (a kind of ``grader.kinds`` and its options), its known
``mistakes:``, its ``public:`` checks and ``instant:`` feedback."""

from __future__ import annotations

import math
import re
from typing import Any

from ..inkernel.inputs import InputError, encode
from ..kinds import KINDS, REQUIRED, Option, exact_kinds
from .model import Answer, Mistake
from .yamlfields import Fields


def read_mistakes(e: Fields, answer: Answer) -> tuple[Mistake, ...]:
    """An exercise's known mistakes (``mistakes:``): function, title and hint each."""
    items = e.get("mistakes", list, [])
    if items and not KINDS[answer.kind].keyed:
        raise e.fail(
            "mistakes",
            f"known mistakes need an answer with a reference value, not kind {answer.kind!r}",
        )
    out = []
    for i, item in enumerate(items):
        m = Fields(item, e.path, f"{e.prefix}mistakes[{i}].", e.line_of("mistakes"))
        m.check_keys(("function", "title", "hint"))
        function = m.get("function", str)
        if not function.isidentifier():
            raise m.fail("function", f"{function!r} is not a function name")
        out.append(Mistake(function, m.get("title", str), m.get("hint", str)))
    if len({m.function for m in out}) < len(out):
        raise e.fail("mistakes", "a function is listed twice")
    return tuple(out)


def read_public(e: Fields, answer: Answer) -> dict[str, Any]:
    """An exercise's declared public checks (the kind's own come on top: its table entry)."""
    if e.data.get("public") is None:
        return {}
    p = Fields(e.data["public"], e.path, f"{e.prefix}public.", e.line_of("public"))
    p.check_keys(("finite", "integer", "shape", "range", "check"))
    out: dict[str, Any] = {}
    for flag in ("finite", "integer", "shape"):
        if p.data.get(flag) is not None:
            out[flag] = p.get(flag, bool)
    if p.data.get("range") is not None:
        bounds = p.get("range", list)
        if len(bounds) != 2 or not all(
            isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds
        ):
            raise p.fail("range", "expected [low, high], two numbers")
        if bounds[0] > bounds[1]:
            raise p.fail("range", "low is above high")
        out["range"] = [bounds[0], bounds[1]]
    if p.data.get("check") is not None:
        name = p.get("check", str)
        if not name.isidentifier():
            raise p.fail("check", f"{name!r} is not a function name")
        out["check"] = name
    return out


def read_instant(e: Fields, answer: Answer) -> bool:
    """``instant: true`` asks for right/wrong feedback in the hand-out: exact answers only."""
    if e.data.get("instant") is None:
        return False
    wanted: bool = e.get("instant", bool)
    if not wanted:
        return False
    # A number is exact when its reference is an int: `grade build` checks that one.
    if not KINDS[answer.kind].is_exact(answer.options):
        raise e.fail("instant", f"instant feedback is for exact answers only: {exact_kinds()}")
    return True


def read_answer(a: Fields) -> Answer:
    kind_name = a.get("kind", str)
    if kind_name not in KINDS:
        raise a.fail("kind", f"unknown kind {kind_name!r} (one of: {', '.join(KINDS)})")
    kind = KINDS[kind_name]
    a.check_keys(("kind", "name", *(o.name for o in kind.options)))
    name = a.get("name", str)
    if not name.isidentifier():
        raise a.fail("name", f"{name!r} is not a Python variable name")
    options = {o.name: _option(a, o) for o in kind.options}
    broken = kind.rule(options) if kind.rule is not None else None
    if broken is not None:
        raise a.fail(*broken)
    return Answer(kind=kind_name, name=name, options=options)


def _option(a: Fields, option: Option) -> Any:
    """Read and check one option of an answer spec: by its type, then by the kind's own
    ``allowed`` values and ``valid`` rule, if any (see grader.kinds)."""
    value = _typed(a, option)
    if option.type == "patterns":
        return value  # its allowed names are its keys: read by _patterns
    if option.allowed and value not in option.allowed:
        raise a.fail(option.name, f"{value!r} is not one of: {', '.join(option.allowed)}")
    problem = option.valid(value) if option.valid is not None else ""
    if problem:
        raise a.fail(option.name, problem)
    return value


def _typed(a: Fields, option: Option) -> Any:
    key, default = option.name, option.default
    if option.type in ("tolerance", "number", "fraction"):
        value = a.number(key, None if default is REQUIRED else default)
        if option.type == "fraction" and value > 1:
            raise a.fail(key, "expected a fraction between 0 and 1")
        return value
    if option.type == "holdout":
        count: int = a.get(key, int, None if default is REQUIRED else default)
        if count <= 0:
            raise a.fail(key, "expected a positive integer")
        return count
    if option.type == "shape":
        if default is not REQUIRED and a.data.get(key) is None:
            return tuple(default)
        shape = a.get(key, list)
        if not shape or not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape
        ):
            raise a.fail(key, "expected a list of positive integers (an input shape)")
        return tuple(shape)
    if option.type == "arguments":
        args = a.get(key, list, list(default))
        if not all(isinstance(v, (int, float, str, bool)) for v in args):
            raise a.fail(key, "expected a list of numbers, text or booleans")
        return tuple(args)
    if option.type == "names":
        names = a.get(key, list, list(default))
        if not all(
            isinstance(n, str) and all(p.isidentifier() for p in n.split(".")) for n in names
        ):
            raise a.fail(
                key, "expected a list of Python names (such as torch.nn.functional.conv1d)"
            )
        return tuple(names)
    if option.type == "flag":
        flag: bool = a.get(key, bool, None if default is REQUIRED else default)
        return flag
    if option.type == "choices":
        return _choices(a, key)
    if option.type == "patterns":
        return _patterns(a, option)
    if option.type == "cases":
        return _cases(a, key)
    if option.type == "generator":
        return _generator(a, key)
    if option.type == "properties":
        return _properties(a, key)
    if option.type == "rubric":
        return _rubric(a, key)
    text: str = a.get(key, str, None if default is REQUIRED else default)
    if option.type == "function" and default == "" and text == "":
        return text  # an optional function left out
    if option.type == "text":
        pass  # any string: the option's allowed values or valid rule say which
    elif option.type == "reference":
        if not re.match(r"^([a-z0-9][a-z0-9_-]*:)?[A-Za-z_][A-Za-z0-9_]*$", text):
            raise a.fail(key, f"{text!r} should be ClassName or exercise-id:ClassName")
    elif not text.isidentifier():  # function, variable, setup
        what = "function" if option.type == "function" else "Python variable"
        raise a.fail(key, f"{text!r} is not a {what} name")
    return text


def _rubric(a: Fields, key: str) -> tuple[dict[str, Any], ...]:
    """The ``rubric`` of a manual answer: what a reviewer checks, each item with its points
    and an optional comment for the reviewer."""
    items = a.get(key, list)
    if not items:
        raise a.fail(key, "expected a list of at least one rubric item")
    rubric = []
    for i, item in enumerate(items):
        r = Fields(item, a.path, f"{a.prefix}{key}[{i}].", getattr(item, "line", a.line_of(key)))
        r.check_keys(("item", "points", "comment"))
        text = r.get("item", str).strip()
        if not text:
            raise r.fail("item", "expected the text of the rubric item")
        points = r.number("points", None, positive=True)
        rubric.append({"item": text, "points": points, "comment": r.get("comment", str, "")})
    return tuple(rubric)


def rubric_points(answer: Answer) -> float | None:
    """The points of a manual answer's rubric (None for other kinds)."""
    rubric = answer.options.get("rubric") if answer.kind == "manual" else None
    return round(sum(r["points"] for r in rubric), 4) if rubric else None


def _choices(a: Fields, key: str) -> tuple[str, ...]:
    """A choice's options: at least two texts, distinct once case and white space are
    normalised (as answers are compared)."""
    items = a.get(key, list)
    if len(items) < 2:
        raise a.fail(key, "expected a list of at least two options")
    seen: dict[str, str] = {}
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise a.fail(
                key,
                f"option {i + 1} is {item!r} (a YAML {type(item).__name__}), not a text: "
                "quote it ('True', 'yes', '3')",
            )
        norm = " ".join(item.split()).casefold()
        if not norm:
            raise a.fail(key, f"option {i + 1} is empty")
        if norm in seen:
            raise a.fail(key, f"{item!r} and {seen[norm]!r} are the same option")
        seen[norm] = item
    return tuple(items)


def _patterns(a: Fields, option: Option) -> dict[str, str]:
    """Regular expressions by name (``patterns: {title: "Loss.*"}``): names among the
    option's ``allowed``, each a regular expression."""
    items = a.get(option.name, dict, dict(option.default))
    out = {}
    for name, pattern in items.items():
        if name not in option.allowed:
            raise a.fail(option.name, f"{name!r} is not one of: {', '.join(option.allowed)}")
        if not isinstance(pattern, str):
            raise a.fail(option.name, f"the pattern of {name} is not a text")
        try:
            re.compile(pattern)
        except re.error as e:
            problem = f"the pattern of {name} is not a regular expression: {e}"
            raise a.fail(option.name, problem) from None
        out[str(name)] = pattern
    return out


_CASE_KEYS = ("args", "kwargs", "public", "points", "raises")


def _cases(a: Fields, key: str) -> tuple[dict[str, Any], ...]:
    """The ``cases`` of a function answer: each a call's arguments as plain data, whether it
    is public, its points, and optionally the exception's type name it must raise."""
    items = a.get(key, list)
    if not items:
        raise a.fail(key, "expected a list of at least one case")
    cases = []
    for i, item in enumerate(items):
        c = Fields(item, a.path, f"{a.prefix}{key}[{i}].", getattr(item, "line", a.line_of(key)))
        c.check_keys(_CASE_KEYS)
        args = c.get("args", list, [])
        kwargs = c.get("kwargs", dict, {})
        for name in kwargs:
            if not isinstance(name, str) or not name.isidentifier():
                raise c.fail("kwargs", f"{name!r} is not a Python argument name")
        if not _plain(args) or not _plain(kwargs):
            raise c.fail(
                "args" if not _plain(args) else "kwargs",
                "expected plain data (numbers, text, booleans, null, lists, mappings)",
            )
        try:
            args, kwargs = encode(args), encode(kwargs)  # checks the tagged inputs
        except InputError as e:
            raise c.fail("args", str(e)) from None
        raises = c.get("raises", str, "")
        if raises and not raises.isidentifier():
            raise c.fail("raises", f"{raises!r} is not an exception's type name")
        cases.append(
            {
                "args": list(args),
                "kwargs": dict(kwargs),
                "public": bool(c.get("public", bool, False)),
                "points": c.number("points", 1.0, positive=True),
                "raises": raises,
            }
        )
    return tuple(cases)


def _generator(a: Fields, key: str) -> dict[str, Any] | None:
    """``generate:``: a function of the topic's solutions preamble that draws one case from a
    ``random.Random`` seeded per grading, how many cases it draws, and their points in all."""
    if a.data.get(key) is None:
        return None
    g = Fields(a.data[key], a.path, f"{a.prefix}{key}.", a.line_of(key))
    g.check_keys(("function", "count", "points"))
    function = g.get("function", str)
    if not function.isidentifier():
        raise g.fail("function", f"{function!r} is not a function name")
    count = g.get("count", int, 10)
    if not 0 < count <= 1000:
        raise g.fail("count", "expected a number of cases between 1 and 1000")
    return {"function": function, "count": count, "points": g.number("points", 1.0, positive=True)}


def _properties(a: Fields, key: str) -> dict[str, Any] | None:
    """``properties:``: Hypothesis strategies of the arguments (expressions over ``st``,
    ``hypothesis.strategies``), how many examples each grading draws, and their points."""
    if a.data.get(key) is None:
        return None
    p = Fields(a.data[key], a.path, f"{a.prefix}{key}.", a.line_of(key))
    p.check_keys(("args", "kwargs", "examples", "points"))
    args = p.get("args", list, [])
    kwargs = p.get("kwargs", dict, {})
    if not args and not kwargs:
        raise p.fail("args", "expected the strategy of at least one argument")
    for where, texts in (("args", args), ("kwargs", list(kwargs.values()))):
        for text in texts:
            if not isinstance(text, str):
                raise p.fail(where, f"expected strategies as text, got {text!r}")
            try:
                compile(text, "<strategy>", "eval")
            except SyntaxError as e:
                raise p.fail(where, f"{text!r} is not an expression: {e.msg}") from None
    for name in kwargs:
        if not isinstance(name, str) or not name.isidentifier():
            raise p.fail("kwargs", f"{name!r} is not a Python argument name")
    examples = p.get("examples", int, 100)
    if not 0 < examples <= 1000:
        raise p.fail("examples", "expected a number of examples between 1 and 1000")
    return {
        "args": list(args),
        "kwargs": dict(kwargs),
        "examples": examples,
        "points": p.number("points", 1.0, positive=True),
    }


def _plain(value: Any, depth: int = 0) -> bool:
    if depth > 32:
        return False
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False
