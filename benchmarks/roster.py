"""Per-student numbers: what a roster costs, timed as whole processes, in one run.

In two copies of the shipped course, one built without a roster and one with a class of
--students:

    build           `grade build` (no roster)
    build roster    `grade build --roster roster.csv`: every student's notebooks, hand-outs
                    and keys, and every variant's solution and blank notebook run
    build no runs   `grade build --check-variants 0` (the stored roster, no variant run)
    batch           `grade batch` of a class of ps1 notebooks: without a roster, copies of
                    the solution; with one, each student's own notebook with their own right
                    answers (so each is graded against its variant and checked for copying)

and the ratios roster / no roster. The classes are generated here, untimed.

    python benchmarks/roster.py [--students 30] [--workers 2]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from timing import timed

ROOT = Path(__file__).resolve().parent.parent
GRADE = [sys.executable, "-m", "grader"]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def copy_course(dest: Path) -> Path:
    from shipped import copy_course as copy

    return copy(dest).parent


def own_answers(course_dir: Path, students: list[str], folder: Path) -> None:
    """Each student's ps1 notebook, its answer cells replaced by the student's solution."""
    from grader import load_course
    from grader.keymaker import solution_notebook
    from grader.variants import for_variant

    course = load_course(course_dir / "course.yaml")
    folder.mkdir(parents=True)
    for student in students:
        mine = nbformat.read(
            str(course_dir / "release" / "student" / "ps1" / f"{student}.ipynb"), 4
        )
        variant = mine.metadata["grader"]["variant"]
        solved = solution_notebook(for_variant(course, "ps1", variant), "ps1")
        answers = {
            c.metadata["grader"]["id"]: c.source
            for c in solved.cells
            if c.metadata["grader"]["role"] == "answer"
        }
        for cell in mine.cells:
            if cell.metadata["grader"]["role"] == "answer":
                cell.source = answers[cell.metadata["grader"]["id"]]
        nbformat.write(mine, str(folder / f"{student}.ipynb"))


def solution_copies(course_dir: Path, students: list[str], folder: Path) -> None:
    folder.mkdir(parents=True)
    solution = (course_dir / "release" / "solution" / "ps1.ipynb").read_bytes()
    for student in students:
        (folder / f"{student}.ipynb").write_bytes(solution)


def batch(course_dir: Path, folder: Path, workers: int) -> float:
    return timed(
        [
            *GRADE,
            "batch",
            str(folder),
            "--assignment",
            "ps1",
            "--workers",
            str(workers),
            "--db",
            str(folder.parent / f"{folder.name}.db"),
            "--out",
            str(folder.parent / "out"),
        ],
        course_dir,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    students = [f"s{i:03d}" for i in range(args.students)]
    with tempfile.TemporaryDirectory(prefix="grade-roster-bench-") as tmp:
        work = Path(tmp)
        plain, rostered = copy_course(work / "plain"), copy_course(work / "roster")
        with (rostered / "roster.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "name", "email"])
            writer.writerows([s, f"Student {s}", f"{s}@example.org"] for s in students)
        print("building...", file=sys.stderr)
        t_build = timed([*GRADE, "build"], plain)
        t_roster = timed([*GRADE, "build", "--roster", "roster.csv"], rostered)
        t_no_runs = timed([*GRADE, "build", "--check-variants", "0"], rostered)
        own_answers(rostered, students, work / "class-roster")
        solution_copies(plain, students, work / "class-plain")
        print("grading...", file=sys.stderr)
        t_plain_batch = batch(plain, work / "class-plain", args.workers)
        t_roster_batch = batch(rostered, work / "class-roster", args.workers)
        shutil.rmtree(work / "out", ignore_errors=True)
    n = args.students
    print(f"\nThe shipped course, a class of {n}, {args.workers} workers (wall seconds)\n")
    print("| step | no roster | roster | roster / no roster |")
    print("|---|---|---|---|")
    print(f"| grade build | {t_build:.1f} | {t_roster:.1f} | {t_roster / t_build:.2f} |")
    print(
        f"| grade build, no variant run | {t_build:.1f} | {t_no_runs:.1f} | "
        f"{t_no_runs / t_build:.2f} |"
    )
    print(
        f"| grade batch ps1 | {t_plain_batch:.1f} | {t_roster_batch:.1f} | "
        f"{t_roster_batch / t_plain_batch:.2f} |"
    )
    print(
        f"\nper ps1 submission in the batch: {t_plain_batch / n:.2f} s without a roster, "
        f"{t_roster_batch / n:.2f} s with one"
    )


if __name__ == "__main__":
    main()
