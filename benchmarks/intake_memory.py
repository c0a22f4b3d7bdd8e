"""Memory of collecting one student's many files: intake alone, no kernel.

Writes --files notebooks of one student into a temporary folder (each a few bytes apart, so
every one is a new submission) and collects them with ``grader.intake.collect``, under
tracemalloc: the peak of Python's allocations while collecting, and the size of what
collect returned (the submissions and their notices). Run it against another copy of the
grader with ``--grader PATH`` (for the copy before the per-student cap: every file is read
there).

    python benchmarks/intake_memory.py [--files 4000] [--no-cap] [--grader PATH]
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--no-cap", action="store_true", help="read every file (cap 10**9)")
    parser.add_argument("--grader", type=Path, default=ROOT, help="folder holding grader/")
    args = parser.parse_args()
    sys.path.insert(0, str(args.grader))
    from grader.intake import collect

    nb = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    with tempfile.TemporaryDirectory(prefix="intake-memory-") as tmp:
        folder = Path(tmp) / "class" / "alice"
        folder.mkdir(parents=True)
        for i in range(args.files):
            (folder / f"{i:05}.ipynb").write_bytes(nb + b" " * (i % 50) + b"\n" * (i // 50))
        capped = "max_per_student" in inspect.signature(collect).parameters
        extra = {"max_per_student": 10**9} if capped and args.no_cap else {}
        started = time.perf_counter()
        tracemalloc.start()
        found = collect(folder.parent, Path(tmp) / "copies", **extra)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        seconds = time.perf_counter() - started
    notices = sum(len(n) for s in found for n in s.notices)
    print(
        f"{args.files} files of one student ({'capped' if capped and not extra else 'all read'}"
        f"): {len(found)} rows, peak {peak / 2**20:.1f} MiB, kept {current / 2**20:.1f} MiB, "
        f"notices {notices / 2**20:.2f} MiB, {seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
