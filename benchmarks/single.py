"""Single-submission overhead: `grade` on a reference solution vs plain `python` on the same code.

Both sides run the same cells (each topic's setup, then every answer cell) on the same
machine in one run; the ratios are grade's wall time over python's, without the sandbox
and with it (bubblewrap, cgroups, size-limited work dir), so the difference of the two
columns is what the sandbox adds. The answer key is made first (not timed), as it would be
after `grade build`.

    python benchmarks/single.py [--course course.yaml] [--repeat 3] [ps1 ps2 ps3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from grader.assemble import assemble
from grader.pipeline import GradeOptions, answer_key, grade_notebook, solution_notebook
from grader.spec import load_course


def plain_python_seconds(code: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "solution.py"
        script.write_text(code)
        start = time.perf_counter()
        subprocess.run([sys.executable, str(script)], check=True, cwd=tmp,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=["ps1", "ps2", "ps3"])
    parser.add_argument("--course", default="course.yaml")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    course = load_course(args.course)
    with tempfile.TemporaryDirectory() as release:
        options = GradeOptions(release=Path(release))
        print(f"{'assignment':<11} {'python s':>9} {'grade s':>9} {'ratio':>6} "
              f"{'sandboxed s':>12} {'ratio':>6} {'sandbox adds s':>15}  (median of {args.repeat})")
        sandboxed = replace(options, sandbox="require")
        for aid in args.assignments:
            key = answer_key(course, aid, options)
            nb = solution_notebook(course, aid)
            code = "\n\n".join(s.source for s in assemble(course, aid, nb).steps
                               if s.role != "export")
            py: list[float] = []
            times: dict[str, list[float]] = {"off": [], "require": []}
            for _ in range(args.repeat):
                py.append(plain_python_seconds(code))
                for opts in (replace(options, sandbox="off"), sandboxed):
                    start = time.perf_counter()
                    result = grade_notebook(course, aid, nb, "solution", key, opts)
                    times[opts.sandbox].append(time.perf_counter() - start)
                    assert result.score == result.max_score, result
            p = statistics.median(py)
            g, s = (statistics.median(times[m]) for m in ("off", "require"))
            print(f"{aid:<11} {p:>9.2f} {g:>9.2f} {g / p:>6.2f} {s:>12.2f} {s / p:>6.2f} "
                  f"{s - g:>15.2f}")


if __name__ == "__main__":
    main()
