"""The cost of one cold submission, timed as whole processes, the way users run them.

The grader timed is the one a user has after ``pip install``: the checkout's own wheel,
installed by pip into an environment of its own (``installed.py``: pip byte-compiles it as
it installs, nothing else is compiled or warmed), its ``grade`` console script run from the
course folder with no PYTHONPATH. For each assignment, in one run, round by round (the
order of the sides rotates every round):

    python    plain `python` running the solution's code: each topic's setup, then every
              answer cell, in one script (the floor of the work itself)
    nbclient  a bare nbclient run of the solution notebook, in a fresh process
              (the floor of any Jupyter-based grader)
    grade     `grade release/solution/<a>.ipynb --out DIR` in a fresh process: cold
              interpreter, cold kernel, sandboxed when bubblewrap is installed

    hand-out  (with --handout) `grade submit.ipynb` in a folder holding only the extracted
              student hand-out (release/handout/<a>.zip) and the solution notebook: what a
              student runs on their own machine (public checks, instant feedback)

and `grade --help`. Every side runs with the same interpreter (the environment's python).
Prints, per checkout, the medians, the ratios of the medians grade / nbclient and grade /
python (and hand-out / grade), the spread of the same ratio taken round by round (the two
sides of a round ran seconds apart, under the same load), the load average before and
after, and the command line of one timed `grade`, to type in a shell.

Each ``--repo`` (default: this checkout) is built (`grade build` of that checkout, its
release/ and its wheel; not timed) and installed; with several, every round times each of
them against the same references, so a before/after table comes from one machine and one
run (e.g. ``--repo /tmp/old --repo .`` with an older commit exported to /tmp/old).

    python benchmarks/single.py [--repeat 5] [--repo PATH ...] [--handout] [ps1 ps2 ps3]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

from installed import Installed, install
from timing import timed, with_pythonpath

ROOT = Path(__file__).resolve().parent.parent

NBCLIENT = """\
import sys
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=900, kernel_name="python3").execute()
"""


def solution_code(notebook: Path) -> str:
    """The code cells of a solution notebook, as one plain Python script."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return "\n\n".join("".join(c["source"]) for c in cells) + "\n"


def build(repo: Path) -> Installed:
    """Build ``repo``'s release with that checkout (the instructor's step), then install the
    grader the way users do."""
    print(f"building the release of {repo} ...", file=sys.stderr)
    timed([sys.executable, "-m", "grader", "build"], repo, with_pythonpath(repo))
    return install(repo)


def load() -> str:
    """The load averages (1, 5, 15 minutes) and the number of cores."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def spread(ratios: list[float]) -> str:
    """Round-by-round ratios: their median and range."""
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=["ps1", "ps3"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--repo", type=Path, action="append", help="checkout to time (repeatable)")
    parser.add_argument("--handout", action="store_true", help="also time a student's hand-out")
    args = parser.parse_args()
    repos = [r.resolve() for r in (args.repo or [ROOT])]
    envs = {repo: build(repo) for repo in repos}
    reference = envs[repos[0]]  # its python runs the references (the same interpreter)
    before = load()
    with tempfile.TemporaryDirectory(prefix="grade-bench-") as tmp:
        work = Path(tmp)
        script = work / "nbclient_run.py"
        script.write_text(NBCLIENT)
        # (name, assignment, repo or None for a reference) -> argv, cwd, env
        sides: dict[tuple[str, str, Path | None], tuple[list[str], Path, dict[str, str]]] = {}
        for aid in args.assignments:
            notebook = repos[0] / "release" / "solution" / f"{aid}.ipynb"
            (work / f"{aid}.py").write_text(solution_code(notebook))
            py = str(reference.python)
            sides["python", aid, None] = ([py, str(work / f"{aid}.py")], work, reference.env)
            sides["nbclient", aid, None] = ([py, str(script), str(notebook)], work, reference.env)
            for n, repo in enumerate(repos):
                env = envs[repo]
                mine = repo / "release" / "solution" / f"{aid}.ipynb"
                out = work / f"out-{n}-{aid}"
                sides["grade", aid, repo] = (
                    [str(env.grade), str(mine), "--out", str(out)],
                    repo,
                    env.env,
                )
                if args.handout:
                    student = work / f"student-{n}"
                    with zipfile.ZipFile(repo / "release" / "handout" / f"{aid}.zip") as zf:
                        zf.extractall(student)
                    (student / aid / "submit.ipynb").write_bytes(mine.read_bytes())
                    sides["hand-out", aid, repo] = (
                        [str(env.grade), "submit.ipynb"],
                        student / aid,
                        env.env,
                    )
        for repo in repos:
            sides["help", "", repo] = ([str(envs[repo].grade), "--help"], work, envs[repo].env)
        order = list(sides)
        times: dict[tuple[str, str, Path | None], list[float]] = {side: [] for side in order}
        for round_ in range(args.repeat):
            shift = round_ % len(order)
            for side in order[shift:] + order[:shift]:
                argv, cwd, env = sides[side]
                times[side].append(timed(argv, cwd, env))
            print(f"round {round_ + 1}/{args.repeat} done", file=sys.stderr)
    after = load()
    median = {side: statistics.median(t) for side, t in times.items()}
    print(f"\nmedian of {args.repeat}, whole processes; {before} before, {after} after\n")
    for repo in repos:
        env = envs[repo]
        columns = ["assignment", "python s", "bare nbclient s", "grade s", "grade / nbclient"]
        columns += ["(round by round)", "grade / python", "(round by round)"]
        if args.handout:
            columns += ["hand-out s", "hand-out / grade"]
        print(f"{repo} (installed in {env.folder})\n")
        print("| " + " | ".join(columns) + " |")
        print("|---" * len(columns) + "|")
        for aid in args.assignments:
            py, nbc = median["python", aid, None], median["nbclient", aid, None]
            gr = median["grade", aid, repo]
            mine = times["grade", aid, repo]
            by_nbc = [g / r for g, r in zip(mine, times["nbclient", aid, None], strict=True)]
            by_py = [g / r for g, r in zip(mine, times["python", aid, None], strict=True)]
            row = f"| {aid} | {py:.2f} | {nbc:.2f} | {gr:.2f} | {gr / nbc:.2f} | {spread(by_nbc)}"
            row += f" | {gr / py:.2f} | {spread(by_py)} |"
            if args.handout:
                ho = median["hand-out", aid, repo]
                row += f" {ho:.2f} | {ho / gr:.2f} |"
            print(row)
        print(f"\n`grade --help`: {median['help', '', repo]:.3f} s")
        aid = args.assignments[0]
        argv, cwd, _ = sides["grade", aid, repo]
        print(
            f"one timed `grade`, by hand: cd {shlex.quote(str(cwd))} && env -u PYTHONPATH "
            f"{shlex.join(argv)}\n"
        )


if __name__ == "__main__":
    main()
