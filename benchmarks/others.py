"""The graders an instructor would pick instead, on the same assignments: nbgrader (autograde)
and otter-grader (``otter run``, no Docker), each in a virtual environment of its own that
this module creates with pip (their code is installed, never copied in).

Each assignment of the course is written in their formats: the same setup and solution
code, and tests that compare every answer with the answer key's value, within the course's
tolerance (for models: the parameter count and output shape; the sanity check's loss on its
batch; the trained model's accuracy on held-out samples). Like any notebook-level grader,
those tests run inside the student's kernel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell
from timing import timed

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / "benchmarks" / ".venvs"
PACKAGES = {"nbgrader": ["nbgrader"], "otter": ["otter-grader"]}
COMMON = ["torch==2.13.0", "numpy", "torchinfo", "ipykernel"]

CLOSE = """\
def _close(got, expected, rtol, atol):
    def walk(x):
        x = x.tolist() if hasattr(x, "tolist") else x
        if isinstance(x, (list, tuple)):
            parts = [walk(v) for v in x]
            values = [v for found, _ in parts for v in found]
            return values, [len(x)] + (parts[0][1] if parts else [])
        return [x], []
    (g, gs), (e, es) = walk(got), walk(expected)
    return gs == es and all(
        abs(float(a) - float(b)) <= atol + rtol * abs(float(b)) for a, b in zip(g, e))
"""


def venv(name: str) -> Path:
    """The python of a side environment holding ``name`` (made on first use)."""
    folder = VENVS / name
    python = folder / "bin" / "python"
    if not python.exists():
        print(f"creating the {name} environment (pip) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *COMMON, *PACKAGES[name]], check=True
        )
    return python


def test_source(course, ex, expected) -> str:
    """An assertion a notebook grader runs in the kernel to check one exercise."""
    a = ex.answer
    name = a.name
    if a.kind in ("number", "array", "mapping"):
        rtol, atol = a["rtol"], a["atol"]
        if a.kind == "mapping":
            return (
                CLOSE + f"assert set({name}) == set({expected!r})\n"
                f"assert all(_close({name}[k], v, {rtol}, {atol}) for k, v in "
                f"{expected!r}.items())"
            )
        return CLOSE + f"assert _close({name}, {expected!r}, {rtol}, {atol})"
    if a.kind == "shape":
        return f"assert tuple({name}) == {tuple(expected)!r}"
    if a.kind == "module":
        return (
            f"import torch\nassert sum(p.numel() for p in {name}.parameters()) == 20234\n"
            f"_ = {name}.eval()\n_out = {name}(torch.zeros({list(a['probe'])})).detach()\n"
            f"assert tuple(_out.shape) == (2, 10)"
        )
    if a.kind == "overfit":
        return (
            f"import torch\n_ = {name}.train()\n"
            f"_loss = torch.nn.functional.cross_entropy({name}({a['inputs']}), "
            f"{a['targets']}).item()\nassert _loss <= {a['max_loss']}\n"
            f"assert {a['losses']}[-1] < {a['losses']}[0]"
        )
    if a.kind == "training":
        return (
            f"from grader.datasets import holdout_data, accuracy\n"
            f"_x, _y = holdout_data({a['holdout']}, 12345)\n"
            f"assert accuracy({name}.cpu(), _x, _y) >= {a['min_accuracy']}\n"
            f"assert {a['losses']}[-1] < {a['losses']}[0]"
        )
    raise ValueError(f"no test for kind {a.kind}")


def _parts(course, assignment_id):
    """(setup, exercise, solution source, test source) in notebook order."""
    from grader.key import key_path, load_key
    from grader.keymaker import solution_notebook  # noqa: F401  (sections below)
    from grader.solutions import load_solutions

    key = load_key(key_path(ROOT / "release", assignment_id))
    seen = set()
    for eid in course.assignment(assignment_id).exercises:
        ex = course.exercises[eid]
        setup = ""
        if ex.topic not in seen:
            seen.add(ex.topic)
            setup = course.topics[ex.topic].setup
        solution = load_solutions(course, ex.topic).sections[eid]
        yield setup, ex, solution, test_source(course, ex, key.values.get(eid))


def nbgrader_course(course, assignment_id, root: Path) -> Path:
    """An nbgrader course folder with the assignment as its source notebook."""
    cells = []
    for n, (setup, ex, solution, test) in enumerate(_parts(course, assignment_id)):
        if setup:
            cells.append(_nbg(new_code_cell(setup), f"setup{n}", locked=True))
        cells.append(_nbg(new_markdown_cell(ex.prompt), f"prompt-{ex.id}", locked=True))
        body = f"### BEGIN SOLUTION\n{solution}### END SOLUTION"
        cells.append(_nbg(new_code_cell(body), ex.id, solution=True))
        cells.append(
            _nbg(new_code_cell(test), f"test-{ex.id}", grade=True, points=ex.points, locked=True)
        )
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    source = root / "source" / assignment_id / f"{assignment_id}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(nb, str(source))
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        "c.ExecutePreprocessor.timeout = 900\n"
    )
    return source


def _nbg(cell, grade_id, *, solution=False, grade=False, locked=False, points=0.0):
    meta = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if grade:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def otter_master(course, assignment_id, path: Path) -> Path:
    """An otter-grader master notebook of the assignment."""
    config = (
        f"# ASSIGNMENT CONFIG\nname: {assignment_id}\ninit_cell: false\n"
        "check_all_cell: false\nexport_cell: false\nrun_tests: false\ngenerate: true\n"
    )
    cells = [new_raw_cell(config)]
    for setup, ex, solution, test in _parts(course, assignment_id):
        if setup:
            cells.append(new_code_cell(setup))
        name = ex.id.replace("-", "_")
        cells += [
            new_raw_cell(f"# BEGIN QUESTION\nname: {name}\npoints: {ex.points:g}"),
            new_markdown_cell(ex.prompt),
            new_raw_cell("# BEGIN SOLUTION"),
            new_code_cell(solution),
            new_raw_cell("# END SOLUTION"),
            new_raw_cell("# BEGIN TESTS"),
            new_code_cell(test),
            new_raw_cell("# END TESTS"),
            new_raw_cell("# END QUESTION"),
        ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _env(python: Path) -> dict[str, str]:
    # their kernels import grader.datasets (the course's data), as ours do
    return {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{python.parent}:{os.environ['PATH']}"}


def time_nbgrader(course, assignment_id, work: Path, students: int) -> tuple[float, float, float]:
    """One student autograded cold, and a class of ``students``; returns (one, class, score of
    the first student as nbgrader recorded it)."""
    python = venv("nbgrader")
    env = _env(python)
    root = work / f"nbgrader-{assignment_id}"
    source = nbgrader_course(course, assignment_id, root)
    nbgrader = [str(python.parent / "nbgrader")]
    timed([*nbgrader, "db", "assignment", "add", assignment_id], root, env)
    timed([*nbgrader, "generate_assignment", assignment_id, "--force"], root, env)
    for i in range(students + 1):  # student 0 is graded alone first
        target = root / "submitted" / f"s{i:03d}" / assignment_id / f"{assignment_id}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes(source.read_bytes())
    one = timed([*nbgrader, "autograde", assignment_id, "--create", "--student", "s000"], root, env)
    (root / "submitted" / "s000").rename(root / "graded-alone")
    everyone = timed([*nbgrader, "autograde", assignment_id, "--create"], root, env)
    score = subprocess.run(
        [
            str(python),
            "-c",
            "from nbgrader.api import Gradebook\n"
            f"gb = Gradebook('sqlite:///{root}/gradebook.db')\n"
            f"print(gb.find_submission({assignment_id!r}, 's001').score)",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return one, everyone, float(score or "nan")


def time_otter(
    course, assignment_id, work: Path, students: int, workers: int, notebook: Path
) -> tuple[float, float, float]:
    """``otter run`` on one submission cold, and on a class, ``workers`` at a time (otter grades
    a class in parallel only in Docker: ``otter run`` is one submission a process)."""
    python = venv("otter")
    env = _env(python)
    root = work / f"otter-{assignment_id}"
    master = otter_master(course, assignment_id, root / "master.ipynb")
    otter = [str(python.parent / "otter")]
    timed([*otter, "assign", str(master), str(root / "dist")], root, env)
    zip_file = next((root / "dist" / "autograder").glob("*.zip"))
    solution = root / "dist" / "autograder" / f"{master.stem}.ipynb"
    submission = solution if solution.exists() else notebook
    (root / "out-one").mkdir()
    one = timed(
        [*otter, "run", "-a", str(zip_file), "-o", str(root / "out-one"), str(submission)],
        root,
        env,
    )
    started = time.perf_counter()
    running: list[subprocess.Popen[bytes]] = []
    for i in range(students):
        while len(running) >= workers:
            running.pop(0).wait()
        out = root / f"out-{i:03d}"
        out.mkdir()
        running.append(
            subprocess.Popen(
                [*otter, "run", "-a", str(zip_file), "-o", str(out), str(submission)],
                cwd=root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    for p in running:
        p.wait()
    everyone = time.perf_counter() - started
    results = json.loads((root / "out-one" / "results.json").read_text())
    score = sum(t.get("score", 0) for t in results.get("tests", []))
    return one, everyone, float(score)
