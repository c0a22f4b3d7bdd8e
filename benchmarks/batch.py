"""A whole class at once: `grade batch` against one cold `grade`, timed as whole processes.

For each assignment, in one run:

    cold    `grade <solution>.ipynb` in a fresh process (median of --repeat)
    batch   `grade batch <folder> --workers N` of a generated class (copies of the solution,
            each with a comment of its own, so every file is a new submission), into a new
            gradebook; the time per submission is its wall time over the class size

and the ratio batch-per-submission / cold, with the targets of issue 8 (ps1 <= 0.25,
ps3 <= 0.75). With --memory, the peak memory of the whole process tree (the grader and
its kernels, sampled every 50 ms) for two class sizes, to show it does not grow with the
class. The release is built, and the package byte-compiled, first.

With --others, the same assignments in nbgrader (autograde) and otter-grader (`otter run`,
no Docker), installed by pip in environments of their own (benchmarks/others.py), side by
side with `grade`: one cold submission, and a class of --others-class students.

    python benchmarks/batch.py [--ps1 100] [--ps3 10] [--workers 2] [--memory 20,100]
                               [--others] [--others-class 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from installed import install
from timing import timed, with_pythonpath

ROOT = Path(__file__).resolve().parent.parent
GRADE: list[str] = []  # the installed `grade` (set by main)
ENV: dict[str, str] = {}  # the environment it runs in


def run(argv: list[str], cwd: Path = ROOT) -> float:
    """Wall seconds of one process; fails loudly if it fails."""
    return timed(argv, cwd, ENV or None)


def class_batch(solution: Path, work: Path, name: str, size: int, workers: int) -> list[str]:
    """The `grade batch` command line of a generated class of ``size`` (made here)."""
    folder = work / f"class-{name}"
    make_class(solution, folder, size)
    assignment = solution.stem
    return [
        *GRADE,
        "batch",
        str(folder),
        "--assignment",
        assignment,
        "--workers",
        str(workers),
        "--db",
        str(work / f"{name}.db"),
        "--out",
        str(work / f"out-{name}"),
    ]


def cold(solution: Path, work: Path, repeat: int) -> float:
    """The median wall time of one cold `grade` of ``solution``."""
    out = work / f"cold-{solution.stem}"
    return statistics.median(run([*GRADE, str(solution), "--out", str(out)]) for _ in range(repeat))


def peak_memory(argv: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall seconds and the peak resident memory (MiB) of a process and all its children."""
    start = time.perf_counter()
    process = psutil.Popen(
        argv, cwd=cwd, env=ENV or None, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                tree = [process, *process.children(recursive=True)]
                total = 0
                for p in tree:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, total)
            except psutil.Error:
                pass
            time.sleep(0.05)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    process.wait()
    done.set()
    watcher.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{process.stderr.read().decode()[-3000:]}")
    return time.perf_counter() - start, peak / 2**20


def make_class(solution: Path, folder: Path, size: int) -> None:
    """``size`` students, each handing in the solution with a comment of their own."""
    folder.mkdir(parents=True)
    nb = json.loads(solution.read_text(encoding="utf-8"))
    answers = [c for c in nb["cells"] if c["metadata"].get("grader", {}).get("role") == "answer"]
    original = answers[0]["source"]
    for i in range(size):
        text = "".join(original) if isinstance(original, list) else original
        answers[0]["source"] = f"# student {i:04d}\n{text}"
        (folder / f"student{i:04d}.ipynb").write_text(json.dumps(nb), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ps1", type=int, default=100, help="class size for ps1")
    parser.add_argument("--ps3", type=int, default=10, help="class size for ps3")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3, help="cold runs (median)")
    parser.add_argument("--memory", default="", help="class sizes of ps1 for peak memory: 20,100")
    parser.add_argument("--others", action="store_true", help="also time nbgrader and otter")
    parser.add_argument("--others-class", type=int, default=10)
    args = parser.parse_args()
    timed([sys.executable, "-m", "grader", "build"], ROOT, with_pythonpath(ROOT))
    installed = install(ROOT)
    GRADE[:] = [str(installed.grade)]
    ENV.update(installed.env)
    release = ROOT / "release" / "solution"
    rows = []
    with tempfile.TemporaryDirectory(prefix="grade-batch-bench-") as tmp:
        work = Path(tmp)
        for assignment, size, target in (("ps1", args.ps1, 0.25), ("ps3", args.ps3, 0.75)):
            if size <= 0:
                continue
            solution = release / f"{assignment}.ipynb"
            one = cold(solution, work, args.repeat)
            print(f"{assignment}: grading a class of {size} ...", file=sys.stderr)
            batch = run(class_batch(solution, work, assignment, size, args.workers))
            per = batch / size
            rows.append((assignment, size, one, batch, per, per / one, target))
        memory = []
        for size in [int(s) for s in args.memory.split(",") if s]:
            argv = class_batch(release / "ps1.ipynb", work, f"memory-{size}", size, args.workers)
            seconds, peak = peak_memory(argv)
            memory.append((size, seconds, peak))
        side = []
        if args.others:
            from others import time_nbgrader, time_otter

            from grader import load_course

            course = load_course(ROOT / "course.yaml")
            k = args.others_class
            for assignment in ("ps1", "ps3"):
                solution = release / f"{assignment}.ipynb"
                one = cold(solution, work, args.repeat)
                everyone = run(class_batch(solution, work, f"side-{assignment}", k, args.workers))
                print(f"{assignment}: otter and nbgrader ...", file=sys.stderr)
                otter = time_otter(course, assignment, work, k, 1, solution)
                nbgrader = time_nbgrader(course, assignment, work, k)
                side.append((assignment, one, everyone, otter, nbgrader))
    print(f"\nworkers: {args.workers}, cold: median of {args.repeat}, whole processes\n")
    print(
        "| assignment | class | one cold grade s | batch s | per submission s | "
        "per submission / cold | target |"
    )
    print("|---|---|---|---|---|---|---|")
    for assignment, size, one, batch, per, ratio, target in rows:
        print(
            f"| {assignment} | {size} | {one:.2f} | {batch:.1f} | {per:.3f} | "
            f"{ratio:.2f} | <= {target} |"
        )
    if side:
        k = args.others_class
        print(
            f"\nside by side: one cold submission, and a class of {k} (grade with "
            f"{args.workers} workers; otter one process at a time; nbgrader autograde)\n"
        )
        print(
            "| assignment | grade one s | grade class s | otter one s | otter class s | "
            "nbgrader one s | nbgrader class s | scores (grade / otter / nbgrader) |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for assignment, one, everyone, otter, nbgrader in side:
            print(
                f"| {assignment} | {one:.2f} | {everyone:.1f} | {otter[0]:.2f} | "
                f"{otter[1]:.1f} | {nbgrader[0]:.2f} | {nbgrader[1]:.1f} | full / "
                f"{otter[2]:g} / {nbgrader[2]:g} |"
            )
    if memory:
        print("\n| ps1 class | batch s | peak memory of grader and kernels, MiB |")
        print("|---|---|---|")
        for size, seconds, peak in memory:
            print(f"| {size} | {seconds:.1f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
