"""Tests of one pandas Series -> the ``series`` kind, read with ``ast`` (never run).

Such tests ask for the answer's type, its length and its values at labels:
``assert type(s) == pd.Series``, ``len(s) == 4``, ``np.isclose(s["mint"], 4.5)``. When every
test of a question reads only that one variable, one says it is a Series, and the values
tested are as many labels as the length tested, the whole Series compared with the
reference's (``assert_series_equal``'s semantics, within numpy's ``isclose`` tolerances) asks
what they ask: its labels and their values. Names and dtypes, which such tests never read,
are not compared (``check_names`` and ``check_dtype`` false). A DataFrame's tests pin its
values only cell by cell, which tests of this kind seldom do: they stay manual. Anything else
says why it is not translated.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

_TYPES = {"pd.Series": "series", "pandas.Series": "series",
          "pd.DataFrame": "dataframe", "pandas.DataFrame": "dataframe"}  # fmt: skip
_CLOSE = {"np.isclose", "numpy.isclose", "math.isclose"}
_MODULES = {"pd", "pandas", "np", "numpy", "math"}


def series_answer(tests: list[str], variables: set[str]) -> tuple[dict[str, Any] | None, str]:
    """The ``series`` answer that a question's tests (their code) amount to, or why none."""
    trees = []
    for source in tests:
        try:
            trees.append(ast.parse(source))
        except SyntaxError as e:
            return None, f"a test cannot be read as Python ({e.msg})"
    read = sorted(set().union(*(_read(t) for t in trees)))
    if len(read) != 1:
        names = " and ".join([", ".join(read[:-1]), read[-1]] if read[1:] else read) or "nothing"
        return None, f"its tests read {names}, and a grade exercise judges one answer"
    name = read[0]
    if name not in variables:
        return None, f"its tests read {name}, which the answer cell does not assign"
    kinds: set[str] = set()
    lengths: set[int] = set()
    labels: set[Any] = set()
    for tree in trees:
        for node in tree.body:
            expr = node.test if isinstance(node, ast.Assert) else getattr(node, "value", None)
            if not isinstance(node, (ast.Assert, ast.Expr)) or expr is None:
                return None, f"line {node.lineno} of a test is not an assert or an expression"
            why = _fact(expr, name, kinds, lengths, labels)
            if why:
                return None, why
    if kinds != {"series"}:
        return None, f"no test says {name} is a Series (only a Series is translated)"
    if len(lengths) != 1 or len(labels) != next(iter(lengths)):
        return None, f"its tests do not give the value of each of {name}'s labels"
    answer = {"kind": "series", "name": name, "check_like": True}
    return {**answer, "check_names": False, "check_dtype": False}, ""


def _read(tree: ast.Module) -> set[str]:
    """The variables a test reads: not modules, builtins or names the test binds itself."""
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not _loads(n)}
    return {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and _loads(n)
        if n.id not in _MODULES and n.id not in bound and not hasattr(builtins, n.id)
    }


def _loads(node: ast.Name) -> bool:
    return isinstance(node.ctx, ast.Load)


def _fact(expr: ast.expr, name: str, kinds: set[str], lengths: set[int], labels: set[Any]) -> str:
    """Record what one checked expression asks of the answer, or say why it is not read."""
    text = ast.unparse(expr)
    called = ast.unparse(expr.func) if isinstance(expr, ast.Call) else ""
    if isinstance(expr, ast.Call) and called == "isinstance" and len(expr.args) == 2:
        of_type = ast.Call(ast.Name("type"), [expr.args[0]], [])
        expr = ast.Compare(of_type, [ast.Eq()], [expr.args[1]])  # isinstance as type() ==
    elif isinstance(expr, ast.Call) and called in _CLOSE and len(expr.args) == 2:
        if expr.keywords:
            return f"{text}: a tolerance of its own is not carried over"
        expr = ast.Compare(expr.args[0], [ast.Eq()], [expr.args[1]])
    if not (isinstance(expr, ast.Compare) and len(expr.ops) == 1
            and isinstance(expr.ops[0], (ast.Eq, ast.Is))):  # fmt: skip
        return f"{text} is not a pattern grade reads of a Series"
    left, right = expr.left, expr.comparators[0]
    if _call_of(left, "type", name) and ast.unparse(right) in _TYPES:
        kinds.add(_TYPES[ast.unparse(right)])
        return ""
    value = _literal(right)
    if _call_of(left, "len", name) and isinstance(value, int) and not isinstance(value, bool):
        lengths.add(value)
        return ""
    label = _label(left, name)
    if label is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        labels.add(label)
        return ""
    return f"{text} is not a pattern grade reads of a Series"


def _call_of(node: ast.expr, function: str, name: str) -> bool:
    """``function(name)``."""
    return (
        isinstance(node, ast.Call)
        and ast.unparse(node.func) == function
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == name
    )


def _label(node: ast.expr, name: str) -> str | int | float | None:
    """The label of ``name[<label>]`` or ``name.loc[<label>]`` (a literal string or number)."""
    if not isinstance(node, ast.Subscript) or ast.unparse(node.value) not in (name, f"{name}.loc"):
        return None
    label = _literal(node.slice)
    if isinstance(label, bool) or not isinstance(label, (str, int, float)):
        return None
    return label


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
