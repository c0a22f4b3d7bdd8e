"""The HTML report in a real browser (headless Chromium): it renders, and student text stays text."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from grader.report import render_html
from grader.results import CheckResult, ExerciseResult, GradeResult, StudentError

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.kernel,  # a browser
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
]
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"


def dump_dom(path, tmp_path):
    out = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout


def test_report_renders_and_student_text_never_runs(tmp_path):
    result = GradeResult(
        course="CNN",
        assignment="ps1",
        submission=HOSTILE,
        score=1.5,
        max_score=4.0,
        execution_time=1.0,
        graded_at="2026-11-25T14:00:00+00:00",
        exercises=(
            ExerciseResult(
                "a",
                "Grid",
                2.0,
                1.5,
                "partial",
                checks=(
                    CheckResult(
                        "values",
                        False,
                        expected=[[1, 2], [3, 4]],
                        got=[[1, 2], [3, 5]],
                        mismatches=[[1, 1]],
                        message=HOSTILE,
                    ),
                ),
            ),
            ExerciseResult(
                "b",
                HOSTILE,
                2.0,
                0.0,
                "error",
                error=StudentError("ValueError", HOSTILE, f"Traceback\n{HOSTILE}"),
            ),
        ),
    )
    page = tmp_path / "report.html"
    page.write_text(render_html(result), encoding="utf-8")
    dom = dump_dom(page, tmp_path)
    title = dom.split("<title>")[1].split("</title>")[0]
    assert title.startswith("ps1 · ")  # no script set it to 'pwned'
    assert title.endswith(" · 1.5 / 4")
    assert "<script>document.title" not in dom  # shown as text, escaped
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "1.5" in dom and "Grid" in dom
