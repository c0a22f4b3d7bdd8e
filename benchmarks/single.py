"""The cost of one cold submission, timed as whole processes, the way users run them.

For each assignment, in one run, round by round (the order rotates every round):

    python    plain `python` running the solution's code: each topic's setup, then every
              answer cell, in one script (the floor of the work itself)
    nbclient  a bare nbclient run of the solution notebook, in a fresh process
              (the floor of any Jupyter-based grader)
    grade     `grade release/solution/<a>.ipynb --out DIR` in a fresh process: cold
              interpreter, cold kernel, sandboxed when bubblewrap is installed

    hand-out  (with --handout) `grade submit.ipynb` in a folder holding only the extracted
              student hand-out (release/handout/<a>.zip) and the solution notebook: what a
              student runs on their own machine (public checks, instant feedback)

and `grade --help`. Prints the medians and the ratios grade / nbclient and grade / python
(and hand-out / grade).
The release (notebooks and answer keys) is built, and the grader package byte-compiled (as
a regular install is), first and not timed. ``--repo`` times
another checkout (e.g. an older commit in a git worktree) with the same method, so a
before/after table comes from one machine and one run.

    python benchmarks/single.py [--repeat 5] [--repo PATH] [--handout] [ps1 ps2 ps3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

from timing import timed as run
from timing import with_pythonpath

ROOT = Path(__file__).resolve().parent.parent

NBCLIENT = """\
import sys
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=900, kernel_name="python3").execute()
"""


def timed(argv: list[str], repo: Path, cwd: Path) -> float:
    """Wall seconds of one process that imports ``grader`` from ``repo``."""
    return run(argv, cwd, with_pythonpath(repo))


def solution_code(notebook: Path) -> str:
    """The code cells of a solution notebook, as one plain Python script."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return "\n\n".join("".join(c["source"]) for c in cells) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=["ps1", "ps3"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout to time")
    parser.add_argument("--handout", action="store_true", help="also time a student's hand-out")
    args = parser.parse_args()
    repo = args.repo.resolve()
    grade = [sys.executable, "-m", "grader"]
    with tempfile.TemporaryDirectory(prefix="grade-bench-") as tmp:
        work = Path(tmp)
        release = repo / "release"  # where `grade` looks for the answer keys
        print(f"building the release of {repo} ...", file=sys.stderr)
        # Byte-compiled, as a regular (non-editable) install is: the same for every side.
        timed([sys.executable, "-m", "compileall", "-q", str(repo / "grader")], repo, repo)
        timed([*grade, "build"], repo, repo)
        script = work / "nbclient_run.py"
        script.write_text(NBCLIENT)
        commands: dict[str, dict[str, list[str]]] = {}
        for aid in args.assignments:
            notebook = release / "solution" / f"{aid}.ipynb"
            (work / f"{aid}.py").write_text(solution_code(notebook))
            out = work / f"out-{aid}"
            commands[aid] = {
                "python": [sys.executable, str(work / f"{aid}.py")],
                "nbclient": [sys.executable, str(script), str(notebook)],
                "grade": [*grade, str(notebook), "--out", str(out)],
            }
            if args.handout:
                with zipfile.ZipFile(release / "handout" / f"{aid}.zip") as zf:
                    zf.extractall(work / "student")
                (work / "student" / aid / "submit.ipynb").write_bytes(notebook.read_bytes())
                commands[aid]["hand-out"] = [*grade, "submit.ipynb"]
        cwd = {"hand-out": lambda aid: work / "student" / aid}
        help_times: list[float] = []
        times = {aid: {k: [] for k in cmds} for aid, cmds in commands.items()}
        for round_ in range(args.repeat):
            help_times.append(timed([*grade, "--help"], repo, work))
            for aid, cmds in commands.items():
                names = list(cmds)
                shift = round_ % len(names)
                for name in names[shift:] + names[:shift]:
                    folder = cwd[name](aid) if name in cwd else repo
                    times[aid][name].append(timed(cmds[name], repo, folder))
            print(f"round {round_ + 1}/{args.repeat} done", file=sys.stderr)
    print(f"\n{repo} (median of {args.repeat}, whole processes)\n")
    columns = (
        "assignment",
        "python s",
        "bare nbclient s",
        "grade s",
        "grade / nbclient",
        "grade / python",
    )
    if args.handout:
        columns += ("hand-out s", "hand-out / grade")
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    for aid, t in times.items():
        py, nbc, gr = (statistics.median(t[k]) for k in ("python", "nbclient", "grade"))
        row = f"| {aid} | {py:.2f} | {nbc:.2f} | {gr:.2f} | {gr / nbc:.2f} | {gr / py:.2f} |"
        if args.handout:
            ho = statistics.median(t["hand-out"])
            row += f" {ho:.2f} | {ho / gr:.2f} |"
        print(row)
    print(f"\n`grade --help`: {statistics.median(help_times):.3f} s")


if __name__ == "__main__":
    main()
