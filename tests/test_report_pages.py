"""Student reports as a person sees them, in headless Chromium: the reference's, a partial and
a hostile submission's; plots, model summaries, known mistakes, and no script from a student."""

from __future__ import annotations

import pytest
from browser import open_page
from shipped import with_answers

from grader.pipeline import grade
from grader.report import write_reports

pytestmark = pytest.mark.kernel
HOSTILE = "<img src=x onerror=\"alert('pwned')\"><script>alert('pwned')</script>"


def _report(course, notebook, folder):
    result = grade(notebook, course)
    html = folder / f"{notebook.stem}.report.html"
    write_reports(result, html, folder / f"{notebook.stem}.results.json")
    return result, html


@pytest.fixture(scope="module")
def reports(built_course, tmp_path_factory):
    """The reports of the ps3 reference, a partial ps1 and a hostile ps3 submission."""
    course, _ = built_course
    folder = tmp_path_factory.mktemp("reports")
    solution = course.root / "release" / "solution"
    reference = _report(course, solution / "ps3.ipynb", folder)
    partial = with_answers(
        solution / "ps1.ipynb",
        {
            # padding on one side: a known mistake of corr1d-same
            "corr1d-same": "corr_same = [2, 5, 10, 15, 20, 25, 30, 35, 40]",
            "corr2d-valid": "corr2d_valid = [[-6, -6, -6], [-6, 6, -6], [-6, -6, -6]]",
        },
        folder / "partial.ipynb",
    )
    hostile_class = (
        "import torch\nfrom torch import nn\n"
        f"Net = type({HOSTILE!r}, (nn.Module,), {{}})\n"
        "def _init(self):\n"
        "    nn.Module.__init__(self)\n"
        "    self.fc = nn.Linear(3 * 32 * 32, 10)\n"
        "Net.__init__ = _init\n"
        "Net.forward = lambda self, x: self.fc(x.flatten(1))\n"
    )
    hostile = with_answers(
        solution / "ps3.ipynb",
        {
            "cnn-model": hostile_class + "model = Net()",
            "cnn-receptive-field": f"raise ValueError({HOSTILE!r})",
            "cnn-overfit": hostile_class + "overfit_model = Net()\noverfit_losses = [2.0, 1.0]",
            "cnn-train": hostile_class + "model = Net()\nlosses = [2.0, 1.9]\n"
            f"device = {HOSTILE!r}",
        },
        folder / "hostile.ipynb",
    )
    return {
        "reference": reference,
        "partial": _report(course, partial, folder),
        "hostile": _report(course, hostile, folder),
    }


def test_the_reference_report(browser, reports):
    _, html = reports["reference"]
    with open_page(browser, html) as (page, problems):
        assert " ".join(page.inner_text(".total .points").split()) == "Total score: 19 / 19"
        assert "grade 0.1.0" in page.inner_text(".meta")
        assert "cpu" in page.inner_text(".meta")  # the device it trained on
        train = page.locator("#ex-cnn-train")
        # The loss curve (the student's, and the reference's dashed) and the per-class bars.
        captions = train.locator("figure.plot figcaption").all_inner_texts()
        assert captions == [
            "Your losses and the reference run's (dashed)",
            "Held-out accuracy per class (red: below the pass mark)",
        ]
        assert train.locator("figure.plot svg").count() == 2
        assert train.locator("figure.plot svg path").count() > 10
        assert train.locator("figure.plot svg").first.bounding_box()["width"] > 200
        assert "held-out samples (needs 60%) (trained on cpu)" in train.inner_text()
        # The model summary: the tutorial's layers, the same on both sides, 20,234 in all.
        model = page.locator("#ex-cnn-model table.model")
        rows = model.locator("tbody tr")
        assert rows.count() == 14
        assert model.locator("tbody tr.mis").count() == 0
        first_conv = rows.nth(2).locator("td").all_inner_texts()
        assert first_conv[0] == "Conv2d 3→32 k3 (0)" and first_conv[2] == "896"
        assert first_conv[1].endswith("32 × 30 × 30")
        assert model.locator("tfoot").inner_text().count("20,234") == 2
        assert problems == []


def test_a_partial_report(browser, reports):
    result, html = reports["partial"]
    assert result.score < result.max_score
    with open_page(browser, html) as (page, problems):
        same = page.locator("#ex-corr1d-same")
        assert "Known mistake: both zeros of padding on one side" in same.inner_text()
        assert "Padding p adds p zeros at each end" in same.locator(".hints").inner_text()
        assert same.locator("figure.plot svg").count() == 1  # yours against the expected
        valid = page.locator("#ex-corr2d-valid")
        marked = valid.locator("td.mis")
        assert marked.count() == 2  # the differing cell, in the expected and the got grid
        assert marked.first.is_visible()
        assert marked.first.get_attribute("data-index") == "1,1"
        assert valid.locator("figure.plot svg").count() == 1  # two heatmaps, one marked
        # A link target per exercise, and a readable page on a phone.
        assert page.locator("a[href='#ex-corr2d-valid']").count() >= 1
        assert problems == []
    with open_page(browser, html, width=390, height=800) as (page, problems):
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, f"the page scrolls sideways on a phone ({width}px)"
        page.emulate_media(media="print")
        assert page.locator("#ex-corr2d-valid td.mis").first.is_visible()
        assert problems == []


def test_a_hostile_report_shows_student_text_as_text(browser, reports):
    _, html = reports["hostile"]
    with open_page(browser, html) as (page, problems):
        assert page.title().startswith("ps3 · hostile.ipynb")
        body = page.inner_text("body")
        assert HOSTILE in body  # shown, as text
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("script").count() == 0
        model = page.locator("#ex-cnn-model table.model")
        assert model.locator("tbody tr.mis").count() > 0  # its rows differ from the reference's
        assert problems == []  # no alert, no console error, no request


def test_a_batch_report_says_whose_it_is_and_what_lateness_cost(browser, write_course, tmp_path):
    """The header of a report ``grade batch`` writes: the student, the late note, the final."""
    import datetime as dt

    from conftest import COURSE_YAML

    from grader import load_course
    from grader.batch import report_view
    from grader.intake import Submission
    from grader.report import render_html
    from grader.results import ExerciseResult, GradeResult

    course = load_course(
        write_course(tmp_path, course=COURSE_YAML + "policies:\n  late: {penalty: 10, per: day}\n")
    )
    due = course.assignment("a1").due
    result = GradeResult(
        "Test course",
        "a1",
        "alice.ipynb",
        4.0,
        5.0,
        1.0,
        (
            ExerciseResult("t-num", "A number", 2.0, 2.0, "passed"),
            ExerciseResult("t-arr", "An array", 3.0, 2.0, "partial"),
        ),
    )
    late = Submission(HOSTILE, "alice.ipynb", submitted_at=due + dt.timedelta(hours=30))
    shown = report_view(course, result, late, {})
    assert (shown.student, shown.final_score) == (HOSTILE, 3.2)
    assert shown.late == "late by 1 d 6 h: -20% (2 days)"
    page = tmp_path / "alice.report.html"
    page.write_text(render_html(shown), encoding="utf-8")
    with open_page(browser, page) as (view, problems):
        meta = view.inner_text(".meta")
        assert HOSTILE in meta and "late by 1 d 6 h: -20% (2 days)" in meta
        assert " ".join(view.inner_text(".points").split()) == (  # the headline
            "Final score, after the late penalty: 3.2 / 5"
        )
        assert " ".join(view.inner_text(".final").split()) == (
            "Final, after the late penalty; raw score 4 / 5"
        )
        assert problems == []
    on_time = report_view(course, result, Submission("bob", "bob.ipynb", submitted_at=due), {})
    assert (on_time.late, on_time.final_score) == ("", 4.0)


def test_a_plot_that_fails_is_left_out_with_a_note(monkeypatch):
    from grader.report import plots, render_html
    from grader.results import CheckResult, ExerciseResult, GradeResult

    def broken(*args):
        raise MemoryError

    monkeypatch.setattr(plots, "loss_curve", broken)
    losses = CheckResult("loss went down", True, details={"losses": [2.0, 1.0]})
    accuracy = CheckResult(
        "held-out accuracy",
        True,
        2.0,
        expected=0.6,
        got=0.8,
        details={"per_class": [0.8, 0.7], "device": "cpu"},
    )
    ex = ExerciseResult("t", "Train", 6.0, 6.0, "passed", (losses, accuracy))
    page = render_html(GradeResult("C", "ps3", "mine.ipynb", 6.0, 6.0, 1.0, (ex,)))
    assert "The plot could not be drawn (MemoryError)." in page
    assert page.count("<svg") == 1  # the per-class bars are still there
    assert "<dt>Device</dt><dd>cpu</dd>" in page
