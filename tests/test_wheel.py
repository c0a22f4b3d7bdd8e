"""The grader as students get it: a wheel (from ``grade build`` or setuptools) and a source
archive holding the ``grader`` package only, installable on its own; and a README that
installs students from that wheel and tells no answer of the course."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from test_handout import _occurs, _printed_forms

from grader import __version__, distribution
from grader.gradescope import requirements as gradescope_requirements
from grader.key import key_path, load_key
from grader.wheel import wheel_name, write_wheel

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DIST_INFO = f"grade_notebooks-{distribution.VERSION}.dist-info"
COURSE_PARTS = (
    "course.yaml",
    "exercises",
    "solutions",
    "checks",
    "tests",
    "benchmarks",
    "docs",
    "release",
    ".grade-secret",
    "README.md",
)


# --- what would show an answer --------------------------------------------------------------


def _solution_lines(course_root: Path) -> set[str]:
    """Lines of the solutions a student must not see (as tests/test_handout.py scans them)."""
    exercises = sorted((course_root / "exercises").glob("*.yaml"))
    public = "\n".join(p.read_text(encoding="utf-8") for p in exercises)
    lines = {
        line.strip()
        for p in (course_root / "solutions").glob("*.py")
        for line in p.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) > 20 and line.strip() not in public
    }
    assert len(lines) > 30  # the scan has something to look for
    return lines


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def _needles(values: dict[str, Any]) -> dict[str, str]:
    """What would give an answer away: each value as printed, and each number of 3 or more
    digits in it, plain or with separators of thousands."""
    needles = {}
    for ex_id, value in values.items():
        needles.update({f"{ex_id} as {form}": form for form in _printed_forms(value)})
        for n in _numbers(value):
            if abs(n) >= 100 and n == int(n):
                n = int(n)
                needles.update({f"{ex_id}'s {n}": str(n), f"{ex_id}'s {n:,}": f"{n:,}"})
    return needles


def _sequences(values: dict[str, Any]) -> list[list[float]]:
    """Answers read in order: each list flattened, each mapping's values, and each entry of
    consecutive shapes of one length (32 -> 30 -> 15 ..., a layer-by-layer walk)."""
    seqs = [_numbers(v) for v in values.values() if isinstance(v, (list, dict))]
    shapes = [
        v
        for v in values.values()
        if isinstance(v, list) and v and all(isinstance(x, int) for x in v)
    ]
    run: list[list[int]] = []
    for shape in [*shapes, []]:
        if run and len(shape) != len(run[-1]):
            seqs += [[s[i] for s in run] for i in range(len(run[0]))]
            run = []
        run.append(shape)
    return [s for s in seqs if len(s) >= 3 and len(set(s)) > 1]


_NUMBER = r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?![\w.])|(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])"


def _runs(text: str) -> list[list[float]]:
    """Runs of numbers a text writes one after another (``[3, 32, 30]``, ``30 -> 15``,
    ``3 x 32``), each run as its numbers."""
    runs, run, end = [], [], 0
    for m in re.finditer(_NUMBER, text):
        if run and not re.fullmatch(r"[\s,;:()\[\]x×\-–>→/|]{1,6}", text[end : m.start()]):
            runs.append(run)
            run = []
        run.append(float(m.group().replace(",", "")))
        end = m.end()
    return [*runs, run] if run else runs


def _walks_through(text: str, values: dict[str, Any]) -> list[tuple[list[float], list[float]]]:
    """Where the text writes three or more consecutive numbers of an answer read in order."""
    windows = {
        tuple(seq[i : i + 3]): seq for seq in _sequences(values) for i in range(len(seq) - 2)
    }
    return [
        (run, windows[tuple(run[i : i + 3])])
        for run in _runs(text)
        for i in range(len(run) - 2)
        if tuple(run[i : i + 3]) in windows
    ]


def _leaks(texts: dict[str, str], values: dict[str, Any], lines: set[str]) -> list[tuple[str, str]]:
    needles = _needles(values)
    found = [
        (name, what)
        for name, text in texts.items()
        for what, needle in needles.items()
        if needle in text and _occurs(needle, text)
    ]  # `in` first: the regex is slow
    found += [
        (name, f"solution line {line!r}")
        for name, text in texts.items()
        for line in lines
        if line in text
    ]
    # A function's results on its cases (public ones are public by definition) are runs of
    # everyday numbers (0.0, 0.0, 0.0; 1.0, 2.0, 3.0): held to the exact needles only.
    walked = {k: v for k, v in values.items() if not _call_results(v)}
    found += [
        (name, f"{run} walks through {seq}")
        for name, text in texts.items()
        for run, seq in _walks_through(text, walked)
    ]
    return found


def _call_results(value: Any) -> bool:
    """Whether a key's value is a function answer's results, one per case."""
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(r, dict) and ("value" in r or "raised" in r) for r in value)
    )


def _keys(course) -> dict[str, Any]:
    """The reference values of every assignment, from the keys the build wrote."""
    values = {}
    for a in course.assignments:
        key = load_key(key_path(course.root / "release", a.id))
        assert key is not None
        values.update(key.values)
    return values


def test_the_scan_finds_answers_written_as_readme_wrote_them():
    """The scan catches the tour as it was: ps2's per-layer counts, total and shapes."""
    values = {
        "params-cifar": {"conv1": 896, "bn1": 64, "conv2": 18496, "bn2": 128, "classifier": 650},
        "params-total": 20234,
        "cifar-conv1": [3, 32, 30, 30],
        "cifar-pool1": [3, 32, 15, 15],
        "cifar-conv2": [3, 64, 13, 13],
        "cifar-pool2": [3, 64, 6, 6],
        "cifar-gap": [3, 64, 1, 1],
        "cifar-flatten": [3, 64],
    }
    old = (
        "layer by layer for a batch of 3 (32 -> 30 -> 15 -> 13 -> 6 -> 1 pixels), and "
        "parameter counts, the CIFAR10Model's per layer (896, 64, 18496, 128, 650; "
        "20,234 in all)"
    )
    found = {what for _, what in _leaks({"old": old}, values, set())}
    assert {"params-cifar's 896", "params-cifar's 18496", "params-total's 20,234"} <= found
    assert any("walks through [30, 15, 13, 6, 1]" in w for w in found), found
    assert any("walks through [896, 64, 18496, 128, 650]" in w for w in found), found
    harmless = "a batch of 3, 10 epochs, lr 0.01, the signal [1, 2, 3, 4, 5, 6, 7, 8, 9]"
    assert not _leaks({"new": harmless}, values, set())


def _members(archive: Path) -> dict[str, bytes]:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}
    with tarfile.open(archive) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


def _texts(members: dict[str, bytes]) -> dict[str, str]:
    """The archive's files as one text (one scan, not one a file), each under its name."""
    return {
        "all files": "\n".join(
            f"--- {n}\n{d.decode('utf-8', 'replace')}" for n, d in sorted(members.items())
        )
    }


def _metadata(members: dict[str, bytes]) -> dict[str, Any]:
    meta = Parser().parsestr(members[f"{DIST_INFO}/METADATA"].decode())
    return {
        "name": meta["Name"],
        "version": meta["Version"],
        "summary": meta["Summary"],
        "python": meta["Requires-Python"],
        "license": meta["License-Expression"] or meta["License"],
        "requires": sorted(
            str(Requirement(r)) for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r
        ),
        "scripts": members[f"{DIST_INFO}/entry_points.txt"].decode().split(),
    }


# --- the grader's own wheel, as grade build writes it ----------------------------------------


def test_the_wheel_is_the_package_quickly_and_the_same_each_time(tmp_path):
    folder = tmp_path / "handout"
    folder.mkdir()
    (folder / "ps1.zip").write_bytes(b"a hand-out")
    (folder / "grade_notebooks-0.0.1-py3-none-any.whl").write_bytes(b"an older grader")
    start = time.perf_counter()
    path = write_wheel(folder)
    took = time.perf_counter() - start
    assert path.name == wheel_name() == f"grade_notebooks-{__version__}-py3-none-any.whl"
    assert path.parent == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted([path.name, "ps1.zip"])
    first = path.read_bytes()
    assert write_wheel(folder).read_bytes() == first  # fixed times: a rebuild is the same wheel
    print(f"write_wheel: {took * 1000:.0f} ms, {len(first) // 1024} KiB")
    assert took < 1.0

    members = _members(path)
    assert all(n.startswith(("grader/", f"{DIST_INFO}/")) for n in members), sorted(members)
    assert {
        "grader/__init__.py",
        "grader/inkernel/public.py",
        "grader/templates/report.html.j2",
        "grader/py.typed",
        "grader/requirements.txt",
    } <= set(members)
    assert not [n for n in members if "__pycache__" in n or n.endswith(".pyc")]
    package = ROOT / "grader"
    for name, data in members.items():
        if name.startswith("grader/"):
            assert data == (package / name.removeprefix("grader/")).read_bytes(), name
    record = members[f"{DIST_INFO}/RECORD"].decode().splitlines()
    assert sorted(r.split(",")[0] for r in record) == sorted(members)
    assert _metadata(members)["requires"] == sorted(
        str(Requirement(r)) for r in distribution.requirements()
    )


def test_a_stray_file_in_the_package_folder_stays_out(tmp_path, monkeypatch):
    """Only modules and the package data go in: a key left in a checkout's grader/ does not,
    nor a file linked from outside the package."""
    import grader.wheel

    package = tmp_path / "grader"
    shutil.copytree(ROOT / "grader", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "ps1.json").write_text('{"values": {"params-total": 20234}}')
    (package / "templates" / "notes").mkdir()
    (package / "templates" / "notes" / "answers.txt").write_text("20234")
    (package / "inkernel" / "scratch.ipynb").write_text("{}")
    solutions = tmp_path / "solutions.py"
    solutions.write_text("corr_same = [5, 10, 15]\n")
    (package / "templates" / "ci" / "planted.yml").symlink_to(solutions)
    (package / "linked.py").symlink_to(solutions)
    monkeypatch.setattr(grader.wheel, "PACKAGE", package)
    members = _members(write_wheel(tmp_path / "out"))
    assert "grader/ps1.json" not in members
    assert not [n for n in members if "answers" in n or n.endswith(".ipynb")]
    assert not [n for n in members if "planted" in n or "linked" in n]
    assert "grader/templates/ci/github.yml" in members


# --- the distribution's own metadata ------------------------------------------------------------


def test_pyproject_builds_the_distribution_the_package_describes():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    assert project["name"] == distribution.NAME == "grade-notebooks"
    assert project["description"] == distribution.SUMMARY
    assert project["requires-python"] == distribution.REQUIRES_PYTHON
    assert project["license"] == distribution.LICENSE
    assert project["scripts"] == distribution.SCRIPTS == {"grade": "grader.cli:run"}
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]
    assert dynamic["version"] == {"attr": "grader.distribution.VERSION"}
    assert dynamic["dependencies"] == {"file": [f"grader/{distribution.REQUIREMENTS}"]}
    assert "readme" not in project  # README.md is the instructors' guide: not for students
    data = pyproject["tool"]["setuptools"]["package-data"]["grader"]
    from grader.wheel import PACKAGE_DATA

    assert sorted(data) == sorted(PACKAGE_DATA)


def test_version_and_requirements_need_no_installed_distribution(tmp_path):
    """Without site-packages (no installed distribution at all), the package still knows
    its version, its requirements and its --version."""
    shutil.copytree(
        ROOT / "grader", tmp_path / "grader", ignore=shutil.ignore_patterns("__pycache__")
    )
    code = (
        "import grader, grader.distribution as d, importlib.metadata as m\n"
        "print(grader.__version__, len(d.requirements()))\n"
        "print(sorted(x.name for x in m.distributions()))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    ).stdout.splitlines()
    assert out[0] == f"{distribution.VERSION} {len(distribution.requirements())}"
    assert out[1] == "[]"  # nothing installed to ask
    assert gradescope_requirements() == [
        r for r in distribution.requirements() if not r.startswith("torch>")
    ]
    assert any(r.startswith("torchinfo") for r in gradescope_requirements())


# --- README ---------------------------------------------------------------------------------


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    return README[start : README.index("\n## ", start + 1)]


def test_readme_installs_students_from_the_wheel():
    students = _section("For students")
    assert f"pip install {wheel_name()}" in students
    assert "download.pytorch.org/whl/cpu" in students  # the torch note stays
    for wording in (
        "copy of this project",
        "./grade",
        "clone",
        "source archive",
        "this project",
        "this README",
    ):
        assert wording not in students, wording
    assert f"release/handout/{wheel_name()}" in _section("A tour")
    assert (
        'pip install -e ".[test]" && grade build && grade release/solution/ps1.ipynb '
        "release/solution/ps2.ipynb release/solution/ps3.ipynb"
    ) in README


@pytest.mark.kernel
def test_readme_gives_no_answer_of_the_course(built_course):
    """No reference value of 3 or more digits, no list or shape, no layer-by-layer walk of
    the shipped course's answers is written in README (checked against the build's keys)."""
    course, _ = built_course
    values = _keys(course)
    assert {"params-total", "cifar-conv1", "corr1d-same"} <= set(values)
    assert not _leaks({"README.md": README}, values, set())


# --- installing it --------------------------------------------------------------------------


def _venv(tmp_path: Path) -> Path:
    """A fresh environment that sees the installed requirements (torch and all) but has no
    grader of its own, and no PYTHONPATH to find this checkout by."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
    )
    return venv


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


@pytest.mark.kernel
def test_grade_build_puts_a_grader_students_can_install_beside_the_handouts(built_course, tmp_path):
    course, _ = built_course
    wheel = course.root / "release" / "handout" / wheel_name()
    assert wheel.is_file()
    members = _members(wheel)
    assert all(n.startswith(("grader/", f"{DIST_INFO}/")) for n in members), sorted(members)
    assert not _leaks(_texts(members), _keys(course), _solution_lines(course.root))

    venv = _venv(tmp_path)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        env=_clean_env(),
    )
    grade = venv / "bin" / "grade"
    env = _clean_env()
    version = subprocess.run(
        [str(grade), "--version"], capture_output=True, text=True, env=env, cwd=tmp_path, check=True
    )
    assert version.stdout.strip() == f"grade, version {distribution.VERSION}"
    helped = subprocess.run(
        [str(grade), "--help"], capture_output=True, text=True, env=env, cwd=tmp_path, check=True
    )
    assert "build" in helped.stdout and "submit" in helped.stdout
    where = subprocess.run(
        [str(python), "-c", "import grader; print(grader.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert where.stdout.strip().startswith(str(venv)), where.stdout
    shown = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('grade-notebooks'))"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert shown.stdout.strip() == distribution.VERSION
    # The grader installed from the wheel writes the same wheel again (no checkout needed).
    again = tmp_path / "again"
    subprocess.run(
        [
            str(python),
            "-c",
            "import sys; from pathlib import Path; "
            "from grader.wheel import write_wheel; write_wheel(Path(sys.argv[1]))",
            str(again),
        ],
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert (again / wheel.name).read_bytes() == wheel.read_bytes()


@pytest.fixture(scope="module")
def built_by_setuptools(tmp_path_factory):
    """``python -m build`` (sdist, then the wheel from the sdist) run on a copy of this
    checkout that also holds a release (a key) and a course secret, as an instructor's does."""
    src = tmp_path_factory.mktemp("checkout") / "grade"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git", "__pycache__", "build", "dist", "*.egg-info", ".*_cache", "release", ".venvs"
        ),
    )
    (src / "release" / "key").mkdir(parents=True)
    (src / "release" / "key" / "ps2.json").write_text('{"values": {"params-total": 20234}}')
    (src / ".grade-secret").write_text("0123456789abcdef" * 4)
    out = src.parent / "dist"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "-o", str(out), str(src)],
        check=True,
        capture_output=True,
        env=_clean_env(),
    )
    print(f"python -m build: {time.perf_counter() - start:.1f} s")
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


@pytest.mark.kernel
def test_python_m_build_makes_a_wheel_and_sdist_of_the_grader_only(
    built_course, built_by_setuptools
):
    course, _ = built_course
    wheel, sdist = built_by_setuptools
    assert wheel.name == wheel_name()
    assert sdist.name == f"grade_notebooks-{distribution.VERSION}.tar.gz"
    top = sdist.name.removesuffix(".tar.gz")
    members = {"wheel": _members(wheel), "sdist": _members(sdist)}
    assert all(n.startswith(("grader/", f"{DIST_INFO}/")) for n in members["wheel"])
    inside = {n.removeprefix(f"{top}/") for n in members["sdist"]}
    assert all(
        n.startswith(("grader/", "grade_notebooks.egg-info/"))
        or n in ("pyproject.toml", "setup.cfg", "PKG-INFO", "MANIFEST.in")
        for n in inside
    ), sorted(inside)
    assert not [n for n in inside if n.split("/")[0] in COURSE_PARTS]
    lines = _solution_lines(course.root)
    for kind, found in members.items():
        assert not _leaks(_texts(found), _keys(course), lines), kind


@pytest.mark.kernel
def test_grade_build_writes_the_wheel_setuptools_makes(built_course, built_by_setuptools):
    """The same files (byte for byte) and the same metadata as setuptools' wheel, but the
    extras (test, dask, dev: not for students)."""
    course, _ = built_course
    theirs = _members(built_by_setuptools[0])
    ours = _members(course.root / "release" / "handout" / wheel_name())
    package = sorted(n for n in theirs if n.startswith("grader/"))
    assert sorted(n for n in ours if n.startswith("grader/")) == package
    assert all(ours[n] == theirs[n] for n in package)
    assert _metadata(ours) == _metadata(theirs)
