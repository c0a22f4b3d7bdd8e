"""The ``function`` kind's source checks: the answer cell's text, read with ``ast`` in the
grader: the answer's function must call each name of ``calls``, and the cell must not use any
name of ``forbids`` (resolving ``import ... as`` aliases). The kernel is never asked.
"""

from __future__ import annotations

import ast

from ..results import CheckResult
from ..spec import Answer


def check_source(answer: Answer, source: str) -> list[CheckResult]:
    """The ``calls`` and ``forbids`` of the answer, read from the answer cell's text."""
    if not answer["calls"] and not answer["forbids"]:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError) as e:
        why = f"the answer cell cannot be read: {e}"
        return [CheckResult("source", False, weight=0, message=why)]
    problems = []
    used = _names_used(tree, _aliases(tree))
    for name in answer["forbids"]:
        if any(u == name or u.startswith(name + ".") for u in used):
            problems.append(f"the answer must not use {name}")
    body = _function(tree, answer.name)
    called = _names_called(body, _aliases(tree)) if body is not None else set()
    for name in answer["calls"]:
        if not any(c == name or c.endswith("." + name) for c in called):
            problems.append(f"{answer.name} must call {name}")
    # Weight 0: a passed source check earns nothing by itself; a failed one scores 0.
    return [CheckResult("source", not problems, weight=0, message="; ".join(problems))]


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


def _names_called(tree: ast.AST, aliases: dict[str, str]) -> set[str]:
    return {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (name := _dotted(node.func, aliases))
    }


def _function(tree: ast.AST, name: str) -> ast.AST | None:
    """The (last) definition of the answer's function, or the whole cell if it binds the
    name otherwise (``name = ...``)."""
    found: ast.AST | None = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                found = node
    return found if found is not None else tree
