"""Autograder tests -> the closest grade checks, read with ``ast`` (never run).

What is translated (each test cell's statements, in order):

- ``assert f(<literals>) == <literal>``: a case of the function kind (the expected result is
  the reference's, called at ``grade build``); otter's bare ``f(...) == value`` as the cell's
  last line is the same;
- ``try: f(<literals>) except E: pass else: raise ...``: a case with ``raises: E``;
- nbgrader's "uses g" pattern (``orig = g; del g; try: f(...) except NameError: pass else:
  raise ...; finally: g = orig``): ``calls: [g]``;
- ``assert x == <literal>`` on a variable: a number, text, array or mapping answer;
- ``isclose``/``allclose`` (math, numpy) in an assert, and numpy.testing's ``assert_allclose``
  and kin, as ``==`` (grade compares within the exercise's tolerances).

Anything else says why it is not translated, and the importer keeps it as a manual exercise.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Checks:
    """What one answer's tests translate to, or why they do not (``why``)."""

    function: str = ""
    cases: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    variable: str = ""
    kind: str = ""
    why: str = ""
    calls_points: float = 0.0  # the points of tests that only check whom the function calls


def defined_names(source: str) -> tuple[set[str], set[str]]:
    """The functions and the variables a cell defines at its top level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(), set()
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    variables = {
        t.id
        for n in tree.body
        if isinstance(n, (ast.Assign, ast.AnnAssign))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }
    return functions, variables


def translate(
    source: str, public: bool, functions: set[str], variables: set[str], bare_last: bool = False
) -> Checks:
    """One test's checks (its cases not yet given points); ``bare_last``: otter's rule that
    a cell's last expression is compared with its output."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        return Checks(why=f"the test cannot be read as Python ({e.msg}, line {e.lineno})")
    checks = Checks()
    aliases: dict[str, str] = {}  # saved name -> original (orig_squares = squares)
    deleted: set[str] = set()
    body = tree.body
    for i, node in enumerate(body):
        why = _statement(node, checks, public, aliases, deleted, bare_last and i == len(body) - 1)
        if why:
            return Checks(why=why)
    if checks.function and checks.function not in functions:
        return Checks(why=f"it calls {checks.function}, which the answer cell does not define")
    if checks.variable and checks.variable not in variables:
        return Checks(why=f"it reads {checks.variable}, which the answer cell does not assign")
    if not (checks.cases or checks.calls or checks.kind):
        return Checks(why="no check grade can translate was found in it")
    return checks


def _statement(
    node: ast.stmt,
    checks: Checks,
    public: bool,
    aliases: dict[str, str],
    deleted: set[str],
    last: bool,
) -> str:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return ""  # a docstring or a bare constant
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return ""  # the modules a test reads (np.isclose)
    if isinstance(node, ast.Assert):
        close = _closeness(node.test, _CLOSE)
        if close is not None:
            return _compared(close, checks, public)
        return _comparison(node.test, checks, public)
    if isinstance(node, ast.Expr):
        close = _closeness(node.value, _ASSERT_CLOSE)
        if close is None and last:
            close = _closeness(node.value, _CLOSE)
        if close is not None:
            return _compared(close, checks, public)
    if isinstance(node, ast.Expr) and last and isinstance(node.value, ast.Compare):
        return _comparison(node.value, checks, public)
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Name)
    ):
        aliases[node.targets[0].id] = node.value.id
        return ""
    if isinstance(node, ast.Delete) and all(
        isinstance(t, ast.Name) and t.id in aliases.values() for t in node.targets
    ):
        deleted.update(t.id for t in node.targets if isinstance(t, ast.Name))
        return ""
    if isinstance(node, ast.Try):
        return _try(node, checks, public, aliases, deleted)
    return f"line {node.lineno} ({ast.unparse(node).splitlines()[0]}) is not a pattern grade reads"


# Comparisons within a tolerance: read as `==` (grade compares numbers within the exercise's
# rtol/atol, by default numpy's isclose tolerances).
_CLOSE = {"math.isclose", "np.isclose", "numpy.isclose", "np.allclose", "numpy.allclose"}
_ASSERT_CLOSE = {
    f"{np}.testing.{name}"
    for np in ("np", "numpy")
    for name in ("assert_allclose", "assert_almost_equal", "assert_array_almost_equal",
                 "assert_array_equal", "assert_equal")
}  # fmt: skip


def _closeness(node: ast.expr, names: set[str]) -> tuple[ast.expr, ast.expr] | None:
    """(actual, expected) of ``isclose(actual, expected)`` and its kin, else None."""
    if (
        isinstance(node, ast.Call)
        and len(node.args) == 2
        and not node.keywords  # a tolerance of its own is not carried over
        and ast.unparse(node.func) in names
    ):
        return node.args[0], node.args[1]
    return None


def _compared(pair: tuple[ast.expr, ast.expr], checks: Checks, public: bool) -> str:
    test = ast.Compare(left=pair[0], ops=[ast.Eq()], comparators=[pair[1]])
    return _comparison(ast.copy_location(test, pair[0]), checks, public)


def _comparison(test: ast.expr, checks: Checks, public: bool) -> str:
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and _literal(test.comparators[0]) is not _NOT
    ):
        return f"line {test.lineno} ({ast.unparse(test)}) is not `call == value` or `name == value`"
    left, value = test.left, _literal(test.comparators[0])
    if isinstance(left, ast.Call):
        return _case(left, checks, public, "")
    if isinstance(left, ast.Name):
        kind = _value_kind(value)
        if not kind:
            return f"line {test.lineno}: no grade kind compares {type(value).__name__} values"
        if checks.function or (checks.variable and checks.variable != left.id):
            return f"line {test.lineno}: it checks more than one answer"
        if checks.kind and checks.kind != kind:
            return f"line {test.lineno}: it compares {left.id} with values of two kinds"
        checks.variable, checks.kind = left.id, kind
        return ""
    return f"line {test.lineno} ({ast.unparse(test)}) compares neither a call nor a name"


def _case(call: ast.Call, checks: Checks, public: bool, raises: str) -> str:
    where = f"line {call.lineno} ({ast.unparse(call)})"
    if not isinstance(call.func, ast.Name):
        return f"{where} does not call a function by its name"
    if checks.variable or (checks.function and checks.function != call.func.id):
        return f"{where}: it checks more than one answer"
    args = [_literal(a) for a in call.args]
    kwargs = {k.arg: _literal(k.value) for k in call.keywords if k.arg is not None}
    if _NOT in args or _NOT in kwargs.values() or len(kwargs) != len(call.keywords):
        return f"{where}: its arguments are not literal values"
    checks.function = call.func.id
    case: dict[str, Any] = {"args": args}
    if kwargs:
        case["kwargs"] = kwargs
    case["public"] = public
    if raises:
        case["raises"] = raises
    checks.cases.append(case)
    return ""


def _try(
    node: ast.Try, checks: Checks, public: bool, aliases: dict[str, str], deleted: set[str]
) -> str:
    where = f"line {node.lineno} (try ...)"
    call = (
        node.body[0].value
        if len(node.body) == 1
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Call)
        else None
    )
    handler = node.handlers[0] if len(node.handlers) == 1 else None
    if (
        call is None
        or handler is None
        or not isinstance(handler.type, ast.Name)
        or not all(isinstance(s, ast.Pass) for s in handler.body)
        or not _fails(node.orelse)
    ):
        return f"{where} is not `try: f(...) except E: pass else: raise ...`"
    restores = all(
        isinstance(s, ast.Assign)
        and isinstance(s.value, ast.Name)
        and aliases.get(s.value.id) in deleted
        for s in node.finalbody
    )
    if not restores:
        return f"{where}: its finally block does more than restore a name"
    if handler.type.id == "NameError" and deleted:
        if not isinstance(call.func, ast.Name):
            return f"{where} does not call a function by its name"
        if checks.variable or (checks.function and checks.function != call.func.id):
            return f"{where}: it checks more than one answer"
        checks.function = call.func.id
        checks.calls.extend(sorted(deleted - set(checks.calls)))
        deleted.clear()
        return ""
    if deleted:
        return f"{where} deletes a name but does not expect a NameError"
    return _case(call, checks, public, handler.type.id)


def _fails(orelse: list[ast.stmt]) -> bool:
    """An else block that makes the test fail: ``raise ...`` or ``assert False``."""
    if len(orelse) != 1:
        return False
    s = orelse[0]
    return isinstance(s, ast.Raise) or (
        isinstance(s, ast.Assert) and isinstance(s.test, ast.Constant) and not s.test.value
    )


_NOT: Any = object()  # not a literal


def _literal(node: ast.expr) -> Any:
    """A literal as plain YAML data (a tuple tagged as one), or _NOT."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT
    return _plain(value)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        items = [_plain(v) for v in value]
        return _NOT if any(v is _NOT for v in items) else items
    if isinstance(value, tuple):
        items = [_plain(v) for v in value]
        return _NOT if any(v is _NOT for v in items) else {"__input__": "tuple", "items": items}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        out = {k: _plain(v) for k, v in value.items()}
        return _NOT if any(v is _NOT for v in out.values()) else out
    return _NOT


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list) and _numbers(value):
        return "array"
    if isinstance(value, dict) and value and "__input__" not in value:
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values())
        return "mapping" if ok else ""
    return ""


def _numbers(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_numbers(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def merge(parts: list[tuple[Checks, float]]) -> Checks:
    """The checks of several test cells of one answer, each with its points: the cases
    share their cell's points, a cell that only says whom the function calls gives its points
    to that check (``calls_points``); all must check the same answer in the same way."""
    out = Checks()
    for checks, points in parts:
        if checks.why:
            return Checks(why=checks.why)
        if (out.kind and checks.function) or (out.function and checks.kind):
            return Checks(why="its tests check a function and a variable")
        if checks.function:
            if out.function and out.function != checks.function:
                return Checks(why=f"its tests call {out.function} and {checks.function}")
            out.function = checks.function
            share = points / len(checks.cases) if checks.cases else 0.0
            out.cases.extend({**c, "points": share} for c in checks.cases)
            out.calls.extend(c for c in checks.calls if c not in out.calls)
            if checks.calls and not checks.cases:
                out.calls_points += points
        else:
            if out.variable and (out.variable, out.kind) != (checks.variable, checks.kind):
                return Checks(why=f"its tests check {out.variable} and {checks.variable}")
            out.variable, out.kind = checks.variable, checks.kind
    if out.function and not out.cases:
        return Checks(why=f"its tests only say whom {out.function} calls, with no case to run")
    return out
