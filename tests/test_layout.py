"""The package's layout: no import cycle, nothing imports upward, no module over 500 lines.

The import graph is read from the source (an AST walk over grader/), so every import counts:
top-level ones, function-level ones (often written to hide a cycle) and those under
``if TYPE_CHECKING:``. ``from . import x`` is an import of the submodule ``x`` when there is
one (else of the package), and relative imports are resolved against the importing
module's package. String-based lazy imports (the package root's ``__getattr__`` table) are
out of scope: they are the public API's doorway, not a dependency of any stage.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "grader"

# The pipeline's stages, in order: a module may import its own stage and those before it.
STAGES = (
    "foundation",
    "spec",
    "render",
    "assemble/intake",
    "execute",
    "judge",
    "report",
    "gradebook",
    "orchestration",
    "cli",
)

# The stage of every module: a package's entry is the stage of all its modules unless one
# of them has its own entry (the longest name wins). A new module needs a row here.
STAGE_OF = {
    # leaves: they import nothing above them (records, ids, limits, the version, the kinds)
    "grader.errors": "foundation",
    "grader.limits": "foundation",
    "grader.distribution": "foundation",
    "grader.flags": "foundation",
    "grader.students": "foundation",
    "grader.ids": "foundation",  # ids made from other graders' names
    "grader.nofollow": "foundation",
    "grader.sanitize": "foundation",
    "grader.kinds": "foundation",
    "grader.kind_hooks": "foundation",  # the newer kinds' rules, facts and prompt hooks
    "grader.results": "foundation",
    "grader.key": "foundation",
    "grader.datasets": "foundation",
    "grader.policies": "foundation",
    "grader.inkernel": "foundation",  # runs inside the student's kernel: stdlib only
    "grader.frozen": "foundation",  # immutable containers of the records
    "grader.memo": "foundation",  # the bounded caches a course owns
    "grader.workers": "foundation",  # how many kernels, and threads for each
    # the course as written
    "grader.spec": "spec",
    "grader.solutions": "spec",
    "grader.roster": "spec",
    # the course rendered: notebooks, a variant's texts, what the release's texts say
    "grader.render": "render",
    "grader.variants": "render",
    "grader.leaks": "render",
    # a submission: read, attributed, assembled into steps
    "grader.notebooks": "assemble/intake",
    "grader.assemble": "assemble/intake",
    "grader.otter_cells": "assemble/intake",  # the answers of a notebook otter made
    "grader.draws": "assemble/intake",  # what each grading draws afresh (seeds, cases)
    "grader.intake": "assemble/intake",
    "grader.identity": "assemble/intake",
    "grader.extensions": "assemble/intake",
    "grader.repos": "assemble/intake",
    "grader.fetchlog": "assemble/intake",
    "grader.gradescope.submission": "assemble/intake",
    "grader.gradescope.submitter": "assemble/intake",
    # running the steps, here or on a cluster
    "grader.execute": "execute",
    "grader.backends": "execute",
    "grader.options": "execute",  # GradeOptions: the execution options and the release
    "grader.runners": "execute",  # how a grading gets its run (a kernel, a stored run)
    # judging the exports
    "grader.judge": "judge",
    "grader.copying": "judge",
    # results -> reports
    "grader.report": "report",
    "grader.ci": "report",
    # the store of gradings, and what is read from it
    "grader.gradebook": "gradebook",
    "grader.finals": "gradebook",
    "grader.gradebook_exports": "gradebook",  # CSV, Gradescope, JUnit from the gradebook
    "grader.reviews": "gradebook",  # reviews of manual answers, overrides (the gradebook's)
    "grader.review_queue": "gradebook",  # the review page's answers, from the gradebook
    "grader.review_app": "orchestration",  # grade review: the review page (Flask)
    "grader.dashboard_data": "gradebook",  # the dashboard's records from the gradebook
    "grader.report.dashboard": "gradebook",  # the class dashboard reads the gradebook
    # one grading path and its callers
    "grader.grading": "orchestration",
    "grader.keymaker": "orchestration",
    "grader.pipeline": "orchestration",
    "grader.batch": "orchestration",
    "grader.batch_watch": "orchestration",  # a running batch's state: who runs, the rate
    "grader.regrade": "orchestration",
    "grader.build": "orchestration",
    "grader.handout": "orchestration",  # grading in the hand-out folder
    "grader.handout_release": "orchestration",  # the hand-out's data, written by the build
    "grader.wheel": "orchestration",
    "grader.gradescope": "orchestration",
    "grader.locations": "orchestration",
    "grader.importers": "orchestration",  # nbgrader and otter courses -> a grade course  # where the course, hand-out, gradebook are found
    # the command line, and the package root (it exposes the public API)
    "grader.cli": "cli",
    "grader.cli_options": "cli",
    "grader.cli_class": "cli",
    "grader.cli_review": "cli",
    "grader.cli_output": "cli",
    "grader.cli_import": "cli",
    "grader.__main__": "cli",
    "grader": "cli",
}

MAX_LINES = 500


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> dict[str, int]:
    """The package's modules that ``name`` imports, each with the line of its first import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, int] = {}

    def add(target: str, line: int) -> None:
        if target in known and target != name:
            found.setdefault(target, line)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                add(submodule if submodule in known else source, node.lineno)
    return found


def graph() -> dict[str, dict[str, int]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def find_cycle(edges: dict[str, dict[str, int]]) -> list[str] | None:
    """One cycle of the graph (its modules in import order, the first repeated at the end),
    or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def stage(name: str) -> str:
    """The stage of a module: its own row, else its closest package's (not the root's: the
    root's row is the package root's own)."""
    parts = name.split(".")
    for n in range(len(parts), 1 if len(parts) > 1 else 0, -1):
        if ".".join(parts[:n]) in STAGE_OF:
            return STAGE_OF[".".join(parts[:n])]
    raise KeyError(name)


def test_the_walk_sees_hidden_and_relative_imports(tmp_path):
    """The walk itself: a function-level, a TYPE_CHECKING and a ``from . import`` import
    each make an edge, and a cycle through them is found."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import c\n"
    )
    (pkg / "c.py").write_text("from .a import f\n")
    known = {f"pkg.{m}": pkg / f"{m}.py" for m in "abc"} | {"pkg": pkg / "__init__.py"}
    edges = {name: imports_of(name, path, known) for name, path in known.items()}
    assert edges["pkg.a"] == {"pkg.b": 2}
    assert edges["pkg.b"] == {"pkg.c": 3}  # the submodule, not the package
    assert find_cycle(edges) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    del edges["pkg.c"]["pkg.a"]
    assert find_cycle(edges) is None


def test_no_import_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "an import cycle: " + " -> ".join(cycle or ())


def test_every_module_has_a_stage():
    unknown = []
    for name in modules():
        try:
            stage(name)
        except KeyError:
            unknown.append(name)
    assert not unknown, f"give these modules a stage in STAGE_OF: {unknown}"
    assert set(STAGE_OF.values()) <= set(STAGES)


def test_nothing_imports_upward():
    upward = [
        f"{name} ({stage(name)}) imports {target} ({stage(target)}) at line {line}"
        for name, targets in sorted(graph().items())
        for target, line in sorted(targets.items())
        if STAGES.index(stage(target)) > STAGES.index(stage(name))
    ]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_module_is_over_500_lines():
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
