"""Shared helpers for the Gradescope tests: an autograder zip unpacked the way Gradescope
lays it out (``source/``, ``submission/``, ``results/``), with the virtual environment
setup.sh would make (here from this Python's packages: nothing is downloaded), and a run of
its ``run_autograder``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path


def unpack(archive: Path, root: Path) -> Path:
    """Unzip an autograder into ``root/source`` and make ``root/venv``; return ``root``."""
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "venv",
            "--system-site-packages",
            "--without-pip",
            str(root / "venv"),
        ],
        check=True,
        timeout=120,
    )
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path, timeout: float = 300) -> dict:
    """Run ``root/source/run_autograder`` as Gradescope does; return its results.json."""
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    env.pop("GRADE_SECRET", None)
    env.pop("PYTHONPATH", None)  # run_autograder sets its own: the grader in the zip
    done = subprocess.run(
        [str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())
