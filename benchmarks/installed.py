"""The grader as a user has it after ``pip install``, for the benchmarks to time.

A checkout's ``grade build`` writes the grader's wheel (``release/handout/*.whl``: the
package's files, the same as ``pip install .`` installs; students install exactly it). It
is installed here by pip, with no index and no dependencies, into a virtual environment of
its own, ``benchmarks/.venvs/installed-<digest of the wheel>``, made on first use and kept
(the same wheel, the same environment). pip byte-compiles the package as it installs it,
as it does for every user, and nothing else is compiled or warmed. The environment sees
the system's site-packages (nbclient, ipykernel, torch...), so every side of a benchmark
runs with the same interpreter and libraries: that environment's ``python``, and its
``grade`` console script, run with no PYTHONPATH (nothing of the checkout is imported).

A checkout whose build writes no wheel (older commits) is installed by ``pip install
--no-deps --no-build-isolation CHECKOUT`` (not editable) instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / "benchmarks" / ".venvs"


class Installed:
    """One installed grader: its environment's programs, and the environment to run them in."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.python = folder / "bin" / "python"
        self.grade = folder / "bin" / "grade"

    @property
    def env(self) -> dict[str, str]:
        """This process's environment without PYTHONPATH (the installed package is used)."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["PATH"] = f"{self.folder / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.folder)
        return env

    def where(self) -> str:
        """Where this environment's ``grader`` is imported from (checked, not assumed)."""
        done = subprocess.run(
            [str(self.python), "-c", "import grader; print(grader.__file__)"],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()


def install(repo: Path) -> Installed:
    """The grader of checkout ``repo`` (whose release is built), installed with pip."""
    wheels = sorted((repo / "release" / "handout").glob("*.whl"))
    source = wheels[-1] if wheels else repo
    digest = _digest(source)
    installed = Installed(VENVS / f"installed-{digest}")
    if installed.grade.exists():
        return installed
    print(f"installing {source} into {installed.folder} (pip) ...", file=sys.stderr)
    shutil.rmtree(installed.folder, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(installed.folder)],
        check=True,
    )
    pip = [str(installed.python), "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    if source == repo:
        pip.append("--no-build-isolation")
    subprocess.run([*pip, str(source)], check=True, env=installed.env)
    found = Path(installed.where())
    if not found.is_relative_to(installed.folder):
        raise SystemExit(f"{installed.folder}: grader is imported from {found}, not from it")
    return installed


def _digest(source: Path) -> str:
    """A short digest of a wheel's bytes, or of a checkout's package files."""
    h = hashlib.sha256()
    if source.is_file():
        h.update(source.read_bytes())
    else:
        for path in sorted((source / "grader").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(source).as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:12]
