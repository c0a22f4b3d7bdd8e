"""The cost of property-based examples and shrinking, timed as whole `grade` processes.

Two courses that differ only in one option: nbgrader's first example (`squares(n)`, which
must raise ValueError for n < 1) with its fixed cases, and the same with ``properties``: 200
examples of ``n`` drawn with Hypothesis in the grader for each grading, called in the
student's kernel, and, when some fail, the failure shrunk to a minimal one (in the grader,
with one kernel call per new input). The submission is wrong for n >= 100 only (it stops at
99 squares), so shrinking has to ask the kernel: the report says "fails for n = 100: ...".

Each course is built (`grade build`, not timed); then, round by round (the order of the two
sides alternates), `grade wrong.ipynb --course COURSE --out DIR` runs in a fresh process
with the grader as a user has it (``installed.py``: the checkout installed by pip into an
environment of its own, no PYTHONPATH), sandboxed when bubblewrap works. Prints the medians,
the difference (the target: at most 0.3 s), the ratio, the same taken round by round, and
the message the report gave (so that the shrinking is seen to have happened).

    python benchmarks/function_cases.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from installed import install
from timing import timed, with_pythonpath

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.3  # seconds the examples and the shrinking may add

COURSE = "name: Squares\nassignments:\n  - id: sq\n    title: S\n    exercises: [squares]\n"
TOPIC = """\
topic: sq
title: Squares
setup: ""
exercises:
  - id: squares
    title: Squares
    points: 4
    prompt: Write squares(n), the list [1, 4, ..., n*n]; it raises ValueError for n < 1.
    starter: |
      def squares(n):
          ...
    answer:
      kind: function
      name: squares
      cases:
        - {args: [1], public: true}
        - {args: [3], public: true}
        - {args: [0]}
        - {args: [10]}
"""
PROPERTIES = """\
      properties:
        args: ["st.integers(min_value=-50, max_value=300)"]
        examples: 200
        points: 1
"""
SOLUTION = """\
# %% squares
def squares(n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return [i * i for i in range(1, n + 1)]
"""
WRONG = (  # right for n < 100 only: the property fails, and shrinks to n = 100
    "def squares(n):\n"
    "    if n < 1:\n"
    "        raise ValueError('too small')\n"
    "    return [i * i for i in range(1, min(n, 99) + 1)]\n"
)


def write_course(folder: Path, properties: bool) -> Path:
    """A course folder: course.yaml, its topic (with ``properties`` or not), its solution."""
    (folder / "exercises").mkdir(parents=True)
    (folder / "solutions").mkdir()
    (folder / "course.yaml").write_text(COURSE)
    (folder / "exercises" / "sq.yaml").write_text(TOPIC + (PROPERTIES if properties else ""))
    (folder / "solutions" / "sq.py").write_text(SOLUTION)
    return folder / "course.yaml"


def wrong_notebook(release: Path, out: Path) -> Path:
    """The course's student notebook with the wrong answer in its answer cell."""
    nb = json.loads((release / "student" / "sq.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        tag = cell.get("metadata", {}).get("grader", {})
        if tag.get("role") == "answer" and tag.get("id") == "squares":
            cell["source"] = WRONG
    out.write_text(json.dumps(nb), encoding="utf-8")
    return out


def message(out: Path) -> str:
    """What the report said of the exercise (results.json)."""
    found = next(out.glob("*.results.json"))
    data = json.loads(found.read_text(encoding="utf-8"))
    test = next(t for t in data["tests"] if t["extra_data"]["id"] == "squares")
    said = " ".join(str(test["output"]).split())
    return f"{test['score']:g}/{test['max_score']:g}: {said[:90]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="grade-bench-fn-") as tmp:
        work = Path(tmp)
        built: dict[str, tuple[Path, Path]] = {}
        for name, properties in (("fixed cases", False), ("+ properties", True)):
            folder = work / name.replace(" ", "-").strip("+-")
            course = write_course(folder, properties)
            build = [sys.executable, "-m", "grader", "build", "--course", str(course)]
            timed([*build, "--out", str(folder / "release")], folder, with_pythonpath(ROOT))
            built[name] = folder, course
        # the build wrote the checkout's grader as a wheel (release/handout/): install it
        installed = install(built["fixed cases"][0])
        sides: dict[str, tuple[list[str], Path]] = {}
        for name, (folder, course) in built.items():
            notebook = wrong_notebook(folder / "release", folder / "wrong.ipynb")
            out = folder / "out"
            argv = [str(installed.grade), str(notebook), "--course", str(course), "--out", str(out)]
            sides[name] = (argv, out)
        times: dict[str, list[float]] = {name: [] for name in sides}
        order = list(sides)
        for round_ in range(args.repeat):
            for name in order if round_ % 2 == 0 else order[::-1]:
                argv, _ = sides[name]
                times[name].append(timed(argv, work, installed.env))
            print(f"round {round_ + 1}/{args.repeat} done", file=sys.stderr)
        said = {name: message(out) for name, (_, out) in sides.items()}
    after = os.getloadavg()
    plain, props = (statistics.median(times[n]) for n in order)
    rounds = [p - f for f, p in zip(times[order[0]], times[order[1]], strict=True)]
    print(
        f"\nmedian of {args.repeat} whole `grade` processes; load {before[0]:.2f} before, "
        f"{after[0]:.2f} after, {os.cpu_count()} cores\n"
    )
    print("| notebook | grade s | report |")
    print("|---|---|---|")
    for name in order:
        print(f"| {name} | {statistics.median(times[name]):.3f} | {said[name]} |")
    print(
        f"\nadded by 200 examples and shrinking: {props - plain:+.3f} s "
        f"(round by round {statistics.median(rounds):+.3f} s, {min(rounds):+.3f} to "
        f"{max(rounds):+.3f}); ratio {props / plain:.3f}; target <= {TARGET} s: "
        f"{'met' if props - plain <= TARGET else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
