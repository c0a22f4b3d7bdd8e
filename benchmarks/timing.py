"""Timing whole processes, for the benchmarks: wall seconds, and failing loudly."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path


def timed(argv: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> float:
    """Wall seconds of one process (exits with its error output if it fails)."""
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=dict(env) if env is not None else None, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(map(str, argv))} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return seconds


def with_pythonpath(folder: Path) -> dict[str, str]:
    """This environment, importing ``grader`` from ``folder`` first."""
    return {**os.environ, "PYTHONPATH": str(folder)}
