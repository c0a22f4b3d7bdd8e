"""Shared fixtures: the shipped course, a writer for small throw-away courses, notebooks;
and the check that keeps the fast tier (``-m "not kernel"``) free of kernels, bubblewrap and
browsers."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Generator
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_COURSE = ROOT / "course.yaml"

# A small course: one assignment, one topic with a setup cell and two exercises.
COURSE_YAML = """\
name: Test course
assignments:
  - id: a1
    title: First
    due: 2030-01-31
    exercises: [t-num, t-arr]
"""

TOPIC_YAML = """\
topic: t
title: Test topic
intro: |
  Read this first.
setup: |
  import math
exercises:
  - id: t-num
    title: A number
    points: 2
    prompt: |
      Compute the answer.
    starter: |
      x = ...
    answer:
      kind: number
      name: x
    hints:
      - Think.
  - id: t-arr
    title: An array
    points: 3
    prompt: |
      Compute the array.
    starter: |
      arr = ...
    answer:
      kind: array
      name: arr
      rtol: 0.0
      atol: 0.5
    hints:
      - Look closer.
"""

SOLUTIONS_PY = """\
\"\"\"Reference solutions of topic t.\"\"\"


def half_right(expected, got):
    return 0.5, "half right"


# %% t-num
x = 6 * 7

# %% t-arr
arr = [1.0, 2.0]
"""


def _text(value: str | dict) -> str:
    return value if isinstance(value, str) else yaml.safe_dump(value, sort_keys=False)


def _write_course(
    tmp_path: Path,
    course: str | dict = COURSE_YAML,
    exercises: dict[str, str | dict] | None = None,
    solutions: dict[str, str] | None = None,
) -> Path:
    """Write course.yaml, exercises/<name>.yaml and solutions/<name>.py; return course.yaml."""
    exercises = {"t": TOPIC_YAML} if exercises is None else exercises
    solutions = {"t": SOLUTIONS_PY} if solutions is None else solutions
    (tmp_path / "exercises").mkdir(parents=True, exist_ok=True)
    (tmp_path / "solutions").mkdir(parents=True, exist_ok=True)
    path = tmp_path / "course.yaml"
    path.write_text(_text(course), encoding="utf-8")
    for name, text in exercises.items():
        (tmp_path / "exercises" / f"{name}.yaml").write_text(_text(text), encoding="utf-8")
    for name, text in solutions.items():
        (tmp_path / "solutions" / f"{name}.py").write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def write_course():
    """``write_course(tmp_path, course=..., exercises={name: yaml}, solutions={name: py})``.

    Values may be YAML text (written verbatim, so line numbers are under the test's control)
    or dicts (dumped). Defaults give the small course above. Returns the course.yaml path.
    """
    return _write_course


@pytest.fixture
def spec_path(tmp_path):
    """course.yaml of the default small course, written under tmp_path."""
    return _write_course(tmp_path)


@pytest.fixture
def small_course(spec_path):
    """The default small course, loaded."""
    from grader import load_course

    return load_course(spec_path)


@pytest.fixture(scope="session")
def shipped_course():
    """The course shipped in the repository (course.yaml, exercises/, solutions/)."""
    from grader import load_course

    return load_course(SHIPPED_COURSE)


def _make_notebook(cells=(), metadata=None):
    """A v4 notebook; cells are NotebookNodes or ``("code"|"markdown", source[, metadata])``."""
    built = []
    for cell in cells:
        if isinstance(cell, tuple):
            kind, source, *meta = cell
            maker = new_code_cell if kind == "code" else new_markdown_cell
            cell = maker(source, metadata=meta[0] if meta else {})
        built.append(cell)
    nb = new_notebook(cells=built, metadata=metadata or {})
    nbformat.validate(nb)
    return nb


@pytest.fixture
def make_notebook():
    """``make_notebook(cells=[("code", "x = 1", {"grader": {...}}), ...])`` (nbformat.v4)."""
    return _make_notebook


@pytest.fixture(scope="session")
def built_course(tmp_path_factory):
    """A copy of the shipped course, built once (release notebooks and keys) for the session."""
    from shipped import copy_course

    from grader import load_course
    from grader.build import build

    course = load_course(copy_course(tmp_path_factory.mktemp("course")))
    built = build(course, course.root / "release")
    return course, built


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (see tests/browser.py); skips without one."""
    from browser import CHROMIUM, launch

    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    with launch() as b:
        yield b


# --- the tiers -------------------------------------------------------------------------------
# A test that starts a kernel, runs bubblewrap or opens a browser carries the `kernel` mark, so
# that `python -m pytest -m "not kernel"` needs none of them. Around every unmarked test (its
# fixtures' set-up and tear-down included) the ways in are replaced by a refusal, in this
# process and in its Python children (tests/childguard/sitecustomize.py), and the test fails
# naming the missing mark, even where the code under test caught the refusal.

KERNEL_MARK = "kernel"
REAL_BWRAP = shutil.which("bwrap")
CHILD_GUARD = Path(__file__).resolve().parent / "childguard"
_VIOLATIONS = pytest.StashKey[list]()


class MissingKernelMark(Exception):
    """An unmarked test started a kernel, bubblewrap or a browser."""


def _message(item: pytest.Item, what: str) -> str:
    return (
        f"{item.nodeid} starts {what} but has no @pytest.mark.{KERNEL_MARK}: mark it (or its "
        f"module: pytestmark = pytest.mark.{KERNEL_MARK}) so that the fast tier "
        f'(-m "not {KERNEL_MARK}") needs no kernel, bubblewrap or browser'
    )


def _refuse(item: pytest.Item, what: str) -> None:
    message = _message(item, what)
    item.stash.setdefault(_VIOLATIONS, []).append(message)
    raise MissingKernelMark(message)


def _guarded(item: pytest.Item, report: Path) -> pytest.MonkeyPatch:
    """A MonkeyPatch that refuses, for ``item``, every start of a kernel, bwrap or browser;
    its Python children write what they refused to ``report``."""
    import browser
    from childguard import sitecustomize as child

    patch = pytest.MonkeyPatch()

    def launch(self, *args, **kwargs):
        _refuse(item, "a kernel (grader.execute.kernel.Kernel.launch)")

    real_execute_child = subprocess.Popen._execute_child  # type: ignore[attr-defined]

    def execute_child(self, args, *rest, **kwargs):
        what = child.refused(args, REAL_BWRAP)
        if what is not None:
            _refuse(item, what)
        return real_execute_child(self, args, *rest, **kwargs)

    def launch_browser(*args, **kwargs):
        _refuse(item, "a browser (tests/browser.py launch)")

    try:  # the earliest refusal; the command line of any kernel process is refused below
        from grader.execute.kernel import Kernel

        patch.setattr(Kernel, "launch", launch)
    except ImportError:
        pass
    patch.setattr(subprocess.Popen, "_execute_child", execute_child)
    patch.setattr(browser, "launch", launch_browser)
    path = os.environ.get("PYTHONPATH")
    patch.setenv("PYTHONPATH", os.pathsep.join([str(CHILD_GUARD), *([path] if path else [])]))
    patch.setenv(child.REPORT, str(report))
    patch.setenv(child.REAL_BWRAP, REAL_BWRAP or "")
    return patch


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _unless_marked(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _unless_marked(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _unless_marked(item))


def _unless_marked(item: pytest.Item) -> Generator[None, None, None]:
    """Run one phase of ``item``; unmarked, with the refusals in place, and failing with the
    refusal's message if one was met (also one the code under test caught, or that made the
    test fail some other way)."""
    if item.get_closest_marker(KERNEL_MARK) is not None:
        return (yield)
    fd, name = tempfile.mkstemp(prefix="grade-test-refused-")
    os.close(fd)
    report = Path(name)
    patch = _guarded(item, report)
    try:
        result = yield
    except BaseException as e:
        _fail_if_refused(item, report, e)
        raise
    finally:
        patch.undo()
    _fail_if_refused(item, report, None)
    return result


def _fail_if_refused(item: pytest.Item, report: Path, cause: BaseException | None) -> None:
    violations = item.stash.get(_VIOLATIONS, [])
    item.stash[_VIOLATIONS] = []
    if report.exists():
        violations += [_message(item, line) for line in report.read_text().splitlines()]
        report.unlink()
    if violations:
        raise pytest.fail.Exception(violations[0], pytrace=False) from cause
