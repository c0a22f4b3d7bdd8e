"""The ``function`` kind's source checks: the answer cell's text, read with ``ast`` in the
grader (the kernel is never asked, except for evidence that can only fail a check).

``calls: [squares]``: the answer's function must call ``squares`` in code that can run: a
call in a string or a comment, a name that is only mentioned (``g = squares``), a call after
a ``return``/``raise``/``break``/``continue`` of the same block, under a constant false test
(``if False:``, ``x if 0 else y``, ``False and ...``), inside a nested function, lambda or
class, or to a local name of the function that hides the global one (a parameter or a
variable called ``squares``) does not count. A call that runs but whose result is not used
does count: the cases judge what the function returns.

``forbids: [torch.nn.functional.conv1d]``: the cell must not use the name, under any alias
the grader can establish: ``import ... as``/``from ... import`` bindings; every public name
of the same object in its package, found in the grader's own process (``torch.conv1d`` is
``torch.nn.functional.conv1d``); and its last part anywhere as an attribute, an imported
name, a free name, a ``match`` attribute or a word in a text (``x.conv1d`` whatever ``x``
is; ``getattr(F, "conv1d")``). Since a name can also be reached by computing it, a cell of
an answer with ``forbids`` may not use dynamic access at all: ``getattr`` with a computed
name, ``vars``/``globals``/``locals``/``__dict__`` and other dunder attributes,
``eval``/``exec``/``compile``, ``__import__`` and ``importlib``, ``sys.modules``, private
attributes (``torch._C``), the name-resolving gadgets of the libraries (``operator.
attrgetter``, ``pickle``, ``torch.jit``, ``torch.ops``, ``torch.load``, ...); and it may
import only modules that cannot do such things (maths, containers, ``numpy``, ``torch``, and
the packages of the forbidden names). A second line, at run time: the kernel replaces each
forbidden function by a recorder during the calls (``grader.inkernel.calls``); a call that
called it fails the check.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
import symtable
import sys
import types
from collections.abc import Iterator
from typing import Any

from ..results import CheckResult
from ..spec import Answer

# Names of builtins that reach objects or code by computed names or text.
DYNAMIC_NAMES = frozenset(
    {
        "getattr", "vars", "globals", "locals", "eval", "exec", "compile", "__import__",
        "breakpoint", "get_ipython", "__builtins__", "__loader__", "__spec__", "open",
    }
)  # fmt: skip
# Dunder attributes an answer may use with forbidden names: none reaches a namespace.
SAFE_DUNDERS = frozenset({"__init__", "__name__", "__qualname__", "__doc__"})
# Attributes of libraries that resolve names or code from data.
GADGETS = frozenset(
    {
        "attrgetter", "methodcaller", "import_module", "get_field", "locate", "modules",
        "load", "loads", "jit", "ops", "library", "package", "hub", "cpp_extension",
        "CompilationUnit", "fx", "compiler", "ctypeslib", "f_globals", "f_locals",
        "f_builtins", "gi_frame", "cr_frame", "tb_frame",
    }
)  # fmt: skip
# Modules a cell of an answer with forbidden names may import (with their submodules, but
# not private or gadget ones), beside the packages of the forbidden names.
SAFE_MODULES = frozenset(
    {
        "__future__", "math", "cmath", "numbers", "fractions", "decimal", "statistics",
        "random", "itertools", "functools", "collections", "typing", "dataclasses", "enum",
        "abc", "heapq", "bisect", "array", "copy", "operator", "warnings", "time", "numpy",
        "torch",
    }
)  # fmt: skip


def check_source(
    answer: Answer, source: str, payload: dict[str, Any] | None = None
) -> list[CheckResult]:
    """The ``calls`` and ``forbids`` of the answer, read from the answer cell's text, and
    the kernel's evidence of forbidden calls in the export (``payload``, when given)."""
    if not answer["calls"] and not answer["forbids"]:
        return []
    try:
        tree = ast.parse(source)
        table = symtable.symtable(source, "<answer cell>", "exec")
    except (SyntaxError, ValueError, RecursionError) as e:
        why = f"the answer cell cannot be read: {e}"
        return [CheckResult("source", False, weight=0, message=why)]
    problems: list[str] = []
    if answer["forbids"]:
        seen = forbidden_uses(tree, tuple(answer["forbids"]))
        called = _called_while_graded(payload, answer["forbids"])
        problems += seen + [p for p in called if p.rpartition(" (")[0] not in seen]
    missing = [
        f"{answer.name} must call {name}"
        for name in answer["calls"]
        if not calls_in_reachable_code(tree, table, answer.name, name)
    ]
    # (a hand-out written before calls_points has none: the rule, as then)
    weighted = answer.options.get("calls_points", 0) > 0 and answer["calls"]
    if not weighted:
        problems += missing
    problems = list(dict.fromkeys(problems))[:3]  # the first few: enough to act on
    # Weight 0: a passed source check earns nothing by itself; a failed one scores 0.
    checks = [CheckResult("source", not problems, weight=0, message="; ".join(problems))]
    if weighted:  # `calls` as a check of its own points (scoring.judge_export)
        checks.append(
            CheckResult(
                "calls", not missing, weight=answer["calls_points"], message="; ".join(missing)
            )
        )
    return checks


# --- forbids ---------------------------------------------------------------------------------


def forbidden_uses(tree: ast.AST, forbids: tuple[str, ...]) -> list[str]:
    """What the cell does that an answer with these forbidden names must not do."""
    problems: list[str] = []
    aliases = _aliases(tree)
    # Each forbidden name as itself; another name of the same object as the first that has it.
    names = {name: name for name in forbids}
    for name in forbids:
        for alias in same_objects(name):
            names.setdefault(alias, name)
    parts: dict[str, str] = {}
    for alias, name in names.items():
        parts.setdefault(alias.rpartition(".")[2], name)
    bound = _bound_names(tree)
    tops = {name.split(".")[0] for name in forbids}
    for dotted in sorted(_names_used(tree, aliases)):
        for alias, name in names.items():
            if dotted == alias or dotted.startswith(alias + "."):
                problems.append(f"the answer must not use {name}")
    docstrings = _docstrings(tree)
    constant = {  # getattr(x, "name"): read as x.name
        id(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _constant_getattr(node) is not None
    }
    for node in ast.walk(tree):
        for word, what in _words(node, docstrings, bound):
            if word in parts:
                problems.append(f"the answer must not use {parts[word]}" + what)
        if id(node) not in constant:
            problems += _dynamic(node, tops)
    return problems


def _words(node: ast.AST, docstrings: set[int], bound: set[str]) -> Iterator[tuple[str, str]]:
    """The identifiers a node may reach an object by, with how (for the message)."""
    if isinstance(node, ast.Attribute):
        yield node.attr, ""
    elif isinstance(node, ast.Name) and node.id not in bound:
        yield node.id, ""
    elif isinstance(node, ast.ImportFrom):
        for a in node.names:
            yield a.name, ""
    elif isinstance(node, ast.MatchClass):
        for attr in node.kwd_attrs:
            yield attr, ""
    elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        if id(node) not in docstrings:
            text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
                yield word, " (named in a text)"


def _dynamic(node: ast.AST, tops: set[str]) -> list[str]:
    """Dynamic access, private names, gadgets and imports the rule does not allow."""
    if isinstance(node, ast.Call) and (name := _constant_getattr(node)) is not None:
        return _attribute(name, None)
    if isinstance(node, ast.Name) and node.id in DYNAMIC_NAMES:
        what = "getattr with a computed name" if node.id == "getattr" else node.id
        return [_dynamic_message(what)]
    if isinstance(node, ast.Attribute):
        return _attribute(node.attr, node.value)
    if isinstance(node, ast.Import):
        return [p for a in node.names if (p := _import(a.name, tops))]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return [
                "imports from a relative module, which an answer with forbidden names may not use"
            ]
        module = node.module or ""
        out = [p for p in [_import(module, tops)] if p]
        for a in node.names:
            if a.name == "*":
                out.append(f"imports * from {module}; import the names it uses one by one")
            else:
                out += _attribute(a.name, None) or [_import(f"{module}.{a.name}", tops)]
        return [p for p in out if p]
    return []


def _dynamic_message(what: str) -> str:
    return f"uses dynamic access ({what}); write the computation directly"


def _attribute(attr: str, owner: ast.AST | None) -> list[str]:
    if attr.startswith("__") and attr.endswith("__"):
        return [] if attr in SAFE_DUNDERS else [_dynamic_message(attr)]
    if attr.startswith("_"):
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            return []
        return [f"uses a private name ({attr}), which an answer with forbidden names may not use"]
    if attr in GADGETS:
        return [_dynamic_message(attr)]
    return []


def _import(module: str, tops: set[str]) -> str:
    parts = module.split(".")
    if parts[0] not in SAFE_MODULES and parts[0] not in tops:
        return f"imports {module}, which an answer with forbidden names may not use"
    for p in parts[1:]:
        if p.startswith("_") or p in GADGETS:
            return f"imports {module}, which an answer with forbidden names may not use"
    return ""


def _constant_getattr(call: ast.Call) -> str | None:
    """The name of ``getattr(x, "name")`` (a constant), else None."""
    if not (isinstance(call.func, ast.Name) and call.func.id == "getattr"):
        return None
    if len(call.args) >= 2 and isinstance(call.args[1], ast.Constant):
        value = call.args[1].value
        return value if isinstance(value, str) else None
    return None


def _called_while_graded(payload: dict[str, Any] | None, forbids: tuple[str, ...]) -> list[str]:
    """The kernel's recorders' evidence: untrusted, so it can only fail the check."""
    calls = payload.get("calls") if isinstance(payload, dict) else None
    if not isinstance(calls, list):
        return []
    used = {
        name
        for result in calls
        if isinstance(result, dict) and isinstance(result.get("used"), list)
        for name in result["used"]
        if isinstance(name, str)
    }
    why = "(it was called while graded)"
    return [f"the answer must not use {n} {why}" for n in forbids if n in used]


@functools.lru_cache(maxsize=256)
def same_objects(name: str) -> frozenset[str]:
    """The name, and every public name of the same object in its package (imported here, in
    the grader: the author's trusted names); only the name when it cannot be imported."""
    obj = _import_object(name)
    if obj is None or isinstance(obj, (types.ModuleType, int, float, str, bool)):
        return frozenset({name})
    top = name.split(".")[0]
    out = {name}
    for module_name, module in list(sys.modules.items()):
        if module_name != top and not module_name.startswith(top + "."):
            continue
        if any(p.startswith("_") for p in module_name.split(".")):
            continue
        d = getattr(module, "__dict__", None)
        if isinstance(d, dict):
            out.update(f"{module_name}.{k}" for k, v in list(d.items()) if v is obj and k[0] != "_")
    return frozenset(out)


def _import_object(name: str) -> Any:
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:n]))
        except Exception:
            continue
        for part in parts[n:]:
            obj = getattr(obj, part, None)
        return obj
    return None


# --- names and bindings ------------------------------------------------------------------------


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local names bound by imports: ``F`` -> ``torch.nn.functional``."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _names_used(tree: ast.AST, aliases: dict[str, str]) -> set[str]:
    """Every dotted name the code refers to (called or not), and every name it imports."""
    used = set(aliases.values())
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)):
            name = _dotted(node, aliases)
            if name:
                used.add(name)
        elif isinstance(node, ast.Import):
            used.update(a.name for a in node.names)
    return used


def _bound_names(tree: ast.AST) -> set[str]:
    """Names the cell itself binds (definitions, assignments, parameters, imports)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                out.add(id(value))
    return out


# --- calls ------------------------------------------------------------------------------------


def calls_in_reachable_code(
    tree: ast.Module, table: symtable.SymbolTable, function: str, name: str
) -> bool:
    """Whether the answer's function calls ``name`` in code that can run (see the module's
    docstring); the whole cell when the answer is bound otherwise (``f = ...``)."""
    aliases = _aliases(tree)
    node = _definition(tree, function)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        local = _locals(table, function)
        calls = _block(node.body)
    elif isinstance(node, ast.ClassDef):  # a class: its methods' bodies
        local = set()
        calls = [
            c
            for m in node.body
            if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
            for c in _block(m.body)
        ]
    else:
        local, calls = set(), _block(tree.body)
    for call in calls:
        called = _dotted(call.func, aliases)
        if called is None or called.split(".")[0] in local:
            continue
        if called == name or called.endswith("." + name):
            return True
    return False


def _definition(tree: ast.Module, name: str) -> ast.AST | None:
    """The (last) top-level definition of the answer's name, else the last nested one."""
    found = [
        n
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == name
    ]
    if found:
        return found[-1]
    nested = [
        n
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == name
    ]
    return nested[-1] if nested else None


def _locals(table: symtable.SymbolTable, function: str) -> set[str]:
    """The names the (last) top-level function ``function`` binds itself."""
    tables = [t for t in table.get_children() if t.get_name() == function]
    if not tables or tables[-1].get_type() != "function":
        return set()
    return {s.get_name() for s in tables[-1].get_symbols() if s.is_local() and not s.is_global()}


TERMINAL = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def _block(statements: list[ast.stmt]) -> list[ast.Call]:
    out: list[ast.Call] = []
    for statement in statements:
        out += _statement(statement)
        if isinstance(statement, TERMINAL):
            break  # what follows in this block never runs
    return out


def _statement(node: ast.stmt) -> list[ast.Call]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []  # a nested definition's body runs only if it is called
    if isinstance(node, (ast.If, ast.While)):
        truth = _truth(node.test)
        out = _expression(node.test)
        if truth is not False:
            out += _block(node.body)
        if truth is not True or isinstance(node, ast.While):
            out += _block(node.orelse)
        return out
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return _expression(node.iter) + _block(node.body) + _block(node.orelse)
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [c for i in node.items for c in _expression(i.context_expr)] + _block(node.body)
    if isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
        handlers = [c for h in node.handlers for c in _block(h.body)]  # type: ignore[attr-defined]
        return _block(node.body) + handlers + _block(node.orelse) + _block(node.finalbody)  # type: ignore[attr-defined]
    if isinstance(node, ast.Match):
        return _expression(node.subject) + [c for case in node.cases for c in _block(case.body)]
    return [c for child in ast.iter_child_nodes(node) for c in _expression(child)]


def _expression(node: ast.AST) -> list[ast.Call]:
    if isinstance(node, ast.Lambda):
        return []
    if isinstance(node, ast.IfExp):
        truth = _truth(node.test)
        out = _expression(node.test)
        if truth is not False:
            out += _expression(node.body)
        if truth is not True:
            out += _expression(node.orelse)
        return out
    if isinstance(node, ast.BoolOp):
        out = []
        for value in node.values:
            out += _expression(value)
            truth = _truth(value)
            if truth is not None and truth is isinstance(node.op, ast.Or):
                break  # a constant that decides: the rest never runs
        return out
    out = [node] if isinstance(node, ast.Call) else []
    return out + [c for child in ast.iter_child_nodes(node) for c in _expression(child)]


def _truth(node: ast.AST) -> bool | None:
    """The truth of a constant test (``False``, ``0``, ``not True``), else None."""
    if isinstance(node, ast.Constant):
        return bool(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _truth(node.operand)
        return None if inner is None else not inner
    return None
