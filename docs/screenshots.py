"""Make the screenshots README shows: a student's report and the class dashboard.

Builds a copy of the shipped course in a temporary folder, grades a ps3 submission with a
padded first convolution (its model summary differs from the reference's) and the
reference training, and a ps1 submission with a known mistake; makes a class of generated
submissions' gradebook for the dashboard; and photographs the pages in headless Chromium.

    python docs/screenshots.py        # writes docs/report.png and docs/dashboard.png
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))

from shipped import copy_course, with_answers  # noqa: E402

from grader import load_course  # noqa: E402
from grader.build import build  # noqa: E402
from grader.pipeline import grade  # noqa: E402
from grader.report import write_reports  # noqa: E402


def report(work: Path) -> Path:
    """A ps1 report with a known mistake and a wrong cell, and its values plotted."""
    course = load_course(copy_course(work / "course"))
    build(course, course.root / "release")
    solution = course.root / "release" / "solution" / "ps1.ipynb"
    notebook = with_answers(
        solution,
        {
            "corr1d-same": "corr_same = [2, 5, 10, 15, 20, 25, 30, 35, 40]",
            "corr2d-valid": "corr2d_valid = [[-6, -6, -6], [-6, 6, -6], [-6, -6, -6]]",
        },
        work / "ada_ps1.ipynb",
    )
    result = grade(notebook, course)
    html = work / "ada_ps1.report.html"
    write_reports(result, html, work / "ada_ps1.results.json")
    return html


WRONG = {  # answers students give, by exercise: known mistakes and others
    "corr1d-same": [
        "corr_same = [10, 15, 20, 25, 30, 35, 40]",  # no padding
        "corr_same = [2, 5, 10, 15, 20, 25, 30, 35, 40]",  # padded on one side
        "corr_same = [5, 10, 15, 20, 25, 30, 35, 40, 26]",
    ],
    "corr1d-stride": ["corr_stride = [2, 5, 10, 15, 20, 25, 30, 35, 40, 25, 18]"],
    "conv1d-true": ["conv_true = [17, 34, 68]"],  # not flipped
    "corr2d-channels": ["out_multi = [[1, 4], [3, 0]]", "raise ValueError('stuck here')"],
}


def dashboard(work: Path) -> Path:
    """The dashboard of a class of 24 whose ps1 notebooks ``grade batch`` really graded."""
    import random

    from grader.cli import main as grade_main

    course_yaml = copy_course(work / "class")
    text = course_yaml.read_text(encoding="utf-8")
    course_yaml.write_text(text + "policies:\n  late: {penalty: 10, per: day}\n", "utf-8")
    course = load_course(course_yaml)
    build(course, course.root / "release")
    solution = course.root / "release" / "solution" / "ps1.ipynb"
    folder = work / "submissions"
    folder.mkdir()
    rng = random.Random(7)
    names = [
        "ada",
        "alan",
        "barbara",
        "claude",
        "donald",
        "edsger",
        "frances",
        "grace",
        "hedy",
        "ida",
        "john",
        "ken",
        "leslie",
        "margaret",
        "niklaus",
        "radia",
        "shafi",
        "sophie",
        "tim",
        "tony",
        "whitfield",
        "yoshua",
        "yann",
        "fei-fei",
    ]
    due = course.assignment("ps1").due
    assert due is not None
    for i, name in enumerate(names):
        answers = {ex: rng.choice(options) for ex, options in WRONG.items() if rng.random() < 0.3}
        path = with_answers(solution, answers, folder / f"{name}.ipynb")
        hours = rng.choice([-50, -20, -3]) if i % 6 else 4 + i
        handed_in = (due + dt.timedelta(hours=hours)).timestamp()
        os.utime(path, (handed_in, handed_in))  # batch takes a file's time as its hand-in time
    args = ["batch", str(folder), "--course", str(course_yaml), "--assignment", "ps1"]
    grade_main(args, standalone_mode=False)
    out = course.root / "dashboard.html"
    grade_main(
        ["dashboard", "--course", str(course_yaml), "--out", str(out)], standalone_mode=False
    )
    return out


def photograph(page_path: Path, out: Path, width: int, height: int) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(page_path.resolve().as_uri())
        page.screenshot(path=str(out), full_page=False)
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="grade-shots-") as tmp:
        html = report(Path(tmp))
        photograph(html, DOCS / "report.png", 1000, 1500)
        photograph(dashboard(Path(tmp)), DOCS / "dashboard.png", 1200, 1500)
    print(f"wrote {DOCS / 'report.png'} and {DOCS / 'dashboard.png'}")


if __name__ == "__main__":
    main()
