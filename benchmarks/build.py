"""`grade build` of the shipped course, timed as whole processes, round by round, against the
floor of any tool that self-checks a course: the three solution notebooks run by a bare
nbclient (one kernel each, no sandbox, nothing else).

    build      `grade build` in a fresh copy of the course (no release, no roster): renders the
               notebooks and hand-outs, runs every solution and blank notebook, makes the keys
    bare       `python -c` running release/solution/ps{1,2,3}.ipynb with nbclient, in turn

Each round times both in a fresh copy; the table gives each one's min, median and max seconds
and the ratio build / bare per round.

    python benchmarks/build.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from timing import timed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

BARE = """\
import sys
import nbformat
from nbclient import NotebookClient
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3").execute()
"""


def one_round(scratch: Path) -> tuple[float, float]:
    """(build seconds, bare seconds) in a fresh copy of the course under ``scratch``."""
    from shipped import copy_course

    course = copy_course(scratch / "course").parent
    build = timed([sys.executable, "-m", "grader", "build"], course)
    notebooks = [str(course / "release" / "solution" / f"ps{i}.ipynb") for i in (1, 2, 3)]
    bare = timed([sys.executable, "-c", BARE, *notebooks], course)
    return build, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    builds, bares, ratios = [], [], []
    for index in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
            build, bare = one_round(Path(tmp))
        builds.append(build)
        bares.append(bare)
        ratios.append(build / bare)
        ratio = build / bare
        print(f"round {index + 1}: build {build:.1f} s, bare {bare:.1f} s, ratio {ratio:.2f}")
    print(f"{'':6} {'min':>7} {'median':>7} {'max':>7}")
    for name, values in (("build", builds), ("bare", bares)):
        print(f"{name:6} {min(values):6.1f}s {statistics.median(values):6.1f}s {max(values):6.1f}s")
    print(f"{'ratio':6} {min(ratios):7.2f} {statistics.median(ratios):7.2f} {max(ratios):7.2f}")


if __name__ == "__main__":
    main()
