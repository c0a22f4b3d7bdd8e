"""The class dashboard: a generated class of 1,000 in a real gradebook, its page in headless
Chromium as a person sees it (charts, wrong answers, lists, sorting, filtering, links),
hostile student text, and the command's errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import time
from dataclasses import dataclass, field, replace

import pytest
from browser import open_page
from click.testing import CliRunner
from shipped import copy_course

from grader import load_course
from grader.cli import main
from grader.execute.records import Executed, ExportRecord, StepOutcome
from grader.gradebook import Gradebook, Graded
from grader.intake import Submission
from grader.report.formats import report_paths
from grader.results import CheckResult, ExerciseResult, GradeResult, StudentError

UTC = dt.timezone.utc
DUE = dt.datetime(2026, 12, 7, 23, 59, tzinfo=UTC)  # ps1's due date in the shipped course
CLASS = 1000
POLICY = "policies:\n  late:\n    penalty: 10\n    per: day\n"
HOSTILE = [
    '<script>alert("id")</script>',
    '"><img src=x onerror=alert(1)>',
    "\x1b]0;title\x07\x1b[31mred\x1b[0m",
    "</script><script>alert(2)</script>&amp;",
]
# The wrong answer each exercise's first known mistake gives (corr1d-same: no padding).
NO_PADDING = [10, 15, 20, 25, 30, 35, 40]
MAX = 30


@dataclass
class Plan:
    """What the generator made of one student of ps1."""

    student: str
    late: bool = False
    refused: bool = False
    absent: bool = False  # handed in nothing for ps1
    outcomes: dict[str, str] = field(default_factory=dict)  # exercise -> what happened
    score: float = 0.0
    report: bool = False

    @property
    def final(self):
        return round(self.score * 0.8, 4) if self.late else self.score


def outcomes(i, exercises):
    """What student i did on each exercise: seeded, most students do well; a wrong answer is
    most often the exercise's first known mistake; a few cells raise, a few answers have no
    value (as a model's export)."""
    rng = random.Random(i)
    ability = rng.betavariate(5, 2)
    done = {}
    for ex in exercises:
        x = rng.random()
        if x < 0.02:
            done[ex.id] = "error"
        elif x < 0.03:
            done[ex.id] = "model"
        elif x < ability:
            done[ex.id] = "passed"
        else:
            what = rng.choice(["partial", "mistake", "mistake", "wrong"])
            done[ex.id] = "wrong" if what == "mistake" and not ex.mistakes else what
    return done


def exercise_result(ex, what, wrong, said="division by zero"):
    """A realistic ExerciseResult of one exercise, and its export's payload (None when the
    cell raised, ``said``: nothing was exported). ``wrong``: the value of a wrong answer."""
    value = {
        "passed": [1, 2],
        "partial": [1, 3],
        "mistake": NO_PADDING if ex.id == "corr1d-same" else [ord(c) for c in ex.id[:4]],
        "wrong": wrong,
    }.get(what)
    payload = {"ok": True, "value": value} if value else {"ok": True, "class": "Net"}
    checks = (CheckResult("values", what == "passed", got=value),)
    failed = ExerciseResult(ex.id, ex.title, ex.points, 0.0, "failed", checks, "values differ")
    if what == "passed":
        return replace(failed, score=ex.points, status="passed", message=""), payload
    if what == "partial":
        checks = (CheckResult("shape", True), *checks)
        return replace(failed, score=ex.points / 2, status="partial", checks=checks), payload
    if what == "mistake":
        m = ex.mistakes[0]
        message = f"a known mistake: {m.title}"
        return replace(failed, message=message, hints=(m.hint,), mistake=m.title), payload
    if what == "error":
        error = StudentError("ZeroDivisionError", said, "Traceback...")
        message = f"your cell raised ZeroDivisionError: {said}"
        return replace(failed, status="error", checks=(), message=message, error=error), None
    return failed, payload  # a wrong value, or a model's export (no value)


def record_attempt(gb, course, student, done, when, wrong=(0, 0, 0), said="division by zero"):
    """Record a graded attempt at ps1 through the gradebook's API (``done``: exercise id ->
    what the student did); returns its score and content hash."""
    results, exports = [], {}
    for eid, what in done.items():
        result, payload = exercise_result(course.exercises[eid], what, list(wrong), said)
        results.append(result)
        if payload is not None:
            exports[eid] = ExportRecord(payload)
    score = sum(r.score for r in results)
    source = f"{student}.ipynb"
    result = GradeResult(course.name, "ps1", source, score, MAX, 1.2, tuple(results))
    executed = Executed(tuple(StepOutcome("ok") for _ in results), exports)
    sha = hashlib.sha256(f"{student}/ps1".encode()).hexdigest()
    submission = Submission(student, source, None, sha, 100, when)
    gb.record(submission, "ps1", Graded(result, executed, course.fingerprint, "run"))
    return score, sha


def make_class(course, db, reports, n=CLASS):
    """A gradebook of ``n`` students of ps1, written through the gradebook's own API."""
    plans = []
    exercises = [course.exercises[e] for e in course.assignment("ps1").exercises]
    with Gradebook(db) as gb:
        for i in range(n):
            student = f"s{i:04d}" if i % 100 != 42 else f"{HOSTILE[i // 100 % 4]}{i}"
            plan = Plan(student, late=i % 10 == 3, refused=i % 50 == 7, absent=i % 100 == 99)
            plans.append(plan)
            if plan.absent or plan.refused:  # an absent student handed in ps2 only
                pdf = Submission(student, f"{student}.pdf", problem="not a notebook (.pdf)")
                gb.record(pdf, "ps2" if plan.absent else "ps1", pdf.problem)
                continue
            plan.outcomes = outcomes(i, exercises)
            when = DUE + dt.timedelta(hours=30) if plan.late else DUE - dt.timedelta(hours=1)
            plan.score, sha = record_attempt(gb, course, student, plan.outcomes, when, [i % 3] * 3)
            if i % 7 and i % 100 != 42:  # batch wrote most reports (and no hostile names)
                html, _ = report_paths(reports, "ps1", student, sha)
                html.parent.mkdir(parents=True, exist_ok=True)
                html.write_text(f"<!DOCTYPE html><title>report of {student}</title>")
                plan.report = True
        # rows of an older gradebook have no "mistake" field: their answers still count, and
        # the known mistake their group matches is what the newer rows say
        for grading, text in gb.db.execute("SELECT id, result FROM gradings").fetchall()[:50]:
            if text:
                data = json.loads(text)
                for e in data["exercises"]:
                    e.pop("mistake", None)
                gb.db.execute(
                    "UPDATE gradings SET result=? WHERE id=?", (json.dumps(data), grading)
                )
    return plans


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """The generated class, its gradebook and the dashboard written by the command."""
    root = tmp_path_factory.mktemp("class")
    course_path = copy_course(root / "course")
    course_path.write_text(course_path.read_text() + POLICY)
    course = load_course(course_path)
    db, reports, page = root / "gradebook.db", root / "reports", root / "out" / "class.html"
    started = time.perf_counter()
    plans = make_class(course, db, reports)
    print(f"\n{CLASS} students written to the gradebook in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    options = ["--course", course_path, "--db", db, "--reports", reports]
    result = run("dashboard", *options, "--assignment", "ps1", "--out", page)
    print(f"grade dashboard took {time.perf_counter() - started:.2f} s")
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {page}\n"
    return course_path, db, page, plans


def seen(page, locator):
    """Scroll to ``locator`` and wait for the next frames: the students table is laid out
    only once it is on screen (CSS content-visibility)."""
    locator.scroll_into_view_if_needed()
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return locator


def graded(plans):
    return [p for p in plans if not (p.refused or p.absent)]


def percent(count, total):
    return math.floor(100 * count / total + 0.5)


@pytest.mark.kernel
def test_a_class_of_1000_is_one_small_file_whose_table_is_laid_out_once_seen(klass, browser):
    """What makes the page open fast, without timing it: one file under 2 MiB that loads
    nothing else, and 1,000 table rows that the browser lays out only when scrolled to."""
    _, _, page_path, plans = klass
    size = page_path.stat().st_size
    print(f"\ndashboard of {CLASS} students: {size / 1024:.0f} KiB")
    assert size < 2 * 1024 * 1024
    laid_out = "e => e.checkVisibility({contentVisibilityAuto: true})"
    with open_page(browser, page_path) as (page, problems):
        # the document is the one request (any other would be a resource entry and, leaving
        # the file, a problem)
        assert page.evaluate("performance.getEntriesByType('resource').length") == 0
        rows = page.locator("#a-ps1 table.students tbody tr")
        assert rows.count() == len(plans) == CLASS
        assert not rows.first.evaluate(laid_out)  # below the fold: skipped at first
        counts = [int(c) for c in page.locator("#a-ps1 .histogram .bin .count").all_inner_texts()]
        assert len(counts) == 10 and sum(counts) == CLASS
        bars = page.locator("#a-ps1 .histogram .bar")
        tallest = max(b.bounding_box()["height"] for b in bars.all())
        assert tallest > 100  # drawn, in pixels
        assert page.locator("#a-ps1 .rates tbody tr").count() == 13  # one per exercise
        assert seen(page, rows.first).evaluate(laid_out)
        assert problems == []


@pytest.mark.kernel
def test_success_rates_and_the_most_common_wrong_answer(klass, browser):
    _, _, page_path, plans = klass
    mine = graded(plans)
    full = sum(p.outcomes["corr1d-same"] == "passed" for p in mine)
    partial = sum(p.outcomes["corr1d-same"] == "partial" for p in mine)
    mistaken = sum(p.outcomes["corr1d-same"] == "mistake" for p in mine)
    with open_page(browser, page_path) as (page, problems):
        row = page.locator('#a-ps1 .rates tr[data-exercise="corr1d-same"]')
        assert row.locator(".full-rate").inner_text() == (
            f"{percent(full, len(mine))}% ({full} of {len(mine)})"
        )
        assert row.locator(".partial-rate").inner_text() == (
            f"{percent(partial, len(mine))}% ({partial})"
        )
        width = row.locator(".track .full").evaluate("e => e.style.width")
        assert float(width.rstrip("%")) == pytest.approx(100 * full / len(mine), abs=0.1)

        wrong = page.locator('#a-ps1 .wrong[data-exercise="corr1d-same"] tbody tr')
        top = wrong.first.locator("td").all_inner_texts()
        assert top == [
            "[10, 15, 20, 25, 30, 35, 40]",
            str(mistaken),
            "no padding ('valid' instead of 'same')",
        ]
        # then the partial answer and three other wrong values, no known mistake; answers
        # without a value are left out
        others = [row.split("\t") for row in wrong.all_inner_texts()[1:]]
        assert sorted(value for value, _, _ in others) == [
            "[0, 0, 0]",
            "[1, 1, 1]",
            "[1, 3]",
            "[2, 2, 2]",
        ]
        assert {mistake for _, _, mistake in others} == {"—"}
        assert "Net" not in page.locator("#a-ps1 .wrong").first.inner_text()
        assert problems == []


@pytest.mark.kernel
def test_late_and_errored_submissions_are_listed(klass, browser):
    _, _, page_path, plans = klass
    late = [p for p in graded(plans) if p.late]
    refused = [p for p in plans if p.refused]
    with_errors = [p for p in graded(plans) if "error" in p.outcomes.values()]
    with open_page(browser, page_path) as (page, problems):
        assert page.locator("#a-ps1 .late h3").inner_text() == f"Late ({len(late)})"
        first = page.locator("#a-ps1 .late tbody tr").first.locator("td").all_inner_texts()
        assert first == ["s0003", "s0003.ipynb", "late by 1 d 6 h: -20% (2 days)"]
        errored = page.locator("#a-ps1 .errored")
        assert errored.locator("h3").inner_text() == (
            f"Errored ({len(refused) + len(with_errors)})"
        )
        texts = errored.locator("tbody tr").all_inner_texts()
        assert "s0007\ts0007.pdf\trefused: not a notebook (.pdf)" in texts
        p = with_errors[0]
        ids = ", ".join(e for e, what in p.outcomes.items() if what == "error")
        assert (
            f"{p.student}\t{p.student}.ipynb\terror in {ids}: your cell raised "
            "ZeroDivisionError: division by zero"
        ) in texts
        assert problems == []


@pytest.mark.kernel
def test_the_table_sorts_by_a_column_and_filters_by_text(klass, browser):
    _, _, page_path, plans = klass
    finals = sorted(p.final for p in plans)  # refused and absent students score 0
    with open_page(browser, page_path) as (page, problems):
        table = seen(page, page.locator("#a-ps1 table.students"))

        def first_final():
            return float(table.locator("tbody tr").first.locator("td").nth(3).inner_text())

        header = table.locator("thead th", has_text="Final / 30")
        header.click()  # numbers: highest first
        assert first_final() == finals[-1]
        assert header.get_attribute("aria-sort") == "descending"
        header.click()
        assert first_final() == finals[0] == 0
        table.locator("thead th", has_text="Student").click()
        assert (
            table.locator("tbody tr").first.locator("td").first.inner_text()
            == '"><img src=x onerror=alert(1)>142'
        )

        box = page.locator("#a-ps1 input.filter")
        assert box.is_visible()
        box.fill("s001")
        assert table.locator("tbody tr:visible").count() == 10
        assert page.locator("#a-ps1 .shown").inner_text() == f"10 of {CLASS} students"
        box.fill("late")
        assert table.locator("tbody tr:visible").count() == sum(p.late for p in graded(plans))
        box.fill("")
        assert table.locator("tbody tr:visible").count() == CLASS
        assert problems == []


WIDTHS = """() => {
  const table = document.querySelector("#a-ps1 table.students");
  const box = table.parentElement;
  return {table: table.getBoundingClientRect().width, box: box.clientWidth,
          inside: box.scrollWidth, page: document.documentElement.scrollWidth};
}"""


@pytest.mark.kernel
def test_the_students_table_fits_1400_px_and_scrolls_in_its_box_when_narrower(klass, browser):
    """Every column of ps1 (13 exercises, late notes, long student ids) is seen in a window
    1400 px wide; in a narrower one the table scrolls inside its own box, not the page."""
    page_path = klass[2]
    with open_page(browser, page_path, width=1400) as (page, problems):
        seen(page, page.locator("#a-ps1 table.students"))
        wide = page.evaluate(WIDTHS)
        assert wide["table"] <= wide["box"] and wide["inside"] <= wide["box"], wide
        assert wide["page"] <= 1400, wide
        assert problems == []
    with open_page(browser, page_path, width=800) as (page, problems):
        seen(page, page.locator("#a-ps1 table.students"))
        narrow = page.evaluate(WIDTHS)
        assert narrow["inside"] > narrow["box"] and narrow["page"] <= 800, narrow
        assert problems == []


@pytest.mark.kernel
def test_each_student_links_to_the_report_batch_wrote(klass, browser):
    _, _, page_path, plans = klass
    with open_page(browser, page_path) as (page, problems):
        rows = seen(page, page.locator("#a-ps1 table.students")).locator("tbody tr")
        linked = rows.locator("a", has_text="report")
        assert linked.count() == sum(p.report for p in plans)
        row = rows.filter(has=page.locator("td", has_text="s0001"))
        href = row.locator("a").get_attribute("href")
        assert href.startswith("../reports/ps1/s0001-") and href.endswith(".report.html")
        assert (page_path.parent / href).is_file()
        row.locator("a").click()
        page.wait_for_load_state()
        assert page.title() == "report of s0001"
        assert problems == []


@pytest.mark.kernel
def test_hostile_student_ids_are_text(klass, browser):
    page_path = klass[2]
    with open_page(browser, page_path) as (page, problems):
        title = page.title()
        table = seen(page, page.locator("#a-ps1 table.students"))
        cells = table.locator("tbody td:first-child").all_inner_texts()
        assert '<script>alert("id")</script>42' in cells
        assert '"><img src=x onerror=alert(1)>142' in cells
        assert "red242" in cells  # terminal escapes removed
        assert "</script><script>alert(2)</script>&amp;342" in cells
        assert page.locator("main img, main script").count() == 0
        assert page.locator("script").count() == 1  # the page's own
        assert title == "Convolutional networks · class dashboard"
        assert problems == []
    html = page_path.read_text()
    assert "<script>alert" not in html and "\x1b" not in html and "\x07" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


@pytest.mark.kernel
def test_hostile_answers_and_messages_are_text(tmp_path, browser):
    course_path = copy_course(tmp_path / "course")
    course = load_course(course_path)
    evil = '</script><img src=x onerror="alert(3)">\x1b[2J\u202e'
    done = dict.fromkeys(course.assignment("ps1").exercises, "passed")
    with Gradebook(tmp_path / "gb.db") as gb:
        for name in ("ann", "bob"):
            mine = {**done, "corr1d-same": "wrong", "corr1d-valid": "error"}
            record_attempt(gb, course, name, mine, DUE, wrong=[evil], said=evil)
        gb.record(Submission("cy", evil, problem=evil), "ps1", evil)
    page_path = tmp_path / "d.html"
    options = ["--course", course_path, "--db", tmp_path / "gb.db", "--out", page_path]
    assert run("dashboard", *options).exit_code == 0
    shown = '</script><img src=x onerror="alert(3)">'  # escape sequence and bidi override removed
    with open_page(browser, page_path) as (page, problems):
        wrong = page.locator('.wrong[data-exercise="corr1d-same"] tbody tr td')
        assert wrong.all_inner_texts() == [f"[{evil!r}]", "2", "—"]  # a value, as Python
        errored = page.locator(".errored tbody tr").all_inner_texts()
        assert f"cy\t{shown}\trefused: {shown}" in errored
        message = f"error in corr1d-valid: your cell raised ZeroDivisionError: {shown}"
        assert f"ann\tann.ipynb\t{message}" in errored
        assert page.locator("main img, main script").count() == 0
        assert problems == []


@pytest.mark.kernel
def test_without_javascript_the_table_is_plain_html(klass, browser):
    page_path = klass[2]
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(page_path.resolve().as_uri())
        assert page.locator("#a-ps1 table.students tbody tr:visible").count() == CLASS
        assert not page.locator("#a-ps1 input.filter").is_visible()  # it needs the script
        assert page.locator("#a-ps1 .histogram .bin").count() == 10
    finally:
        context.close()


def test_every_assignment_with_submissions_when_none_is_given(tmp_path):
    # a class of 100 has what this needs (ps1 attempts; student 99 handed in ps2 only), and
    # spares the fast tier the class of 1,000
    course_path = copy_course(tmp_path / "course")
    db = tmp_path / "gradebook.db"
    make_class(load_course(course_path), db, tmp_path / "reports", n=100)
    out = tmp_path / "all.html"
    result = run("dashboard", "--course", course_path, "--db", db, "--out", out)
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert 'id="a-ps1"' in html and 'id="a-ps2"' in html and 'id="a-ps3"' not in html


@pytest.mark.parametrize("case", ["missing", "junk", "unknown assignment"])
def test_command_errors_are_one_line_and_exit_1(tmp_path, case):
    course_path = copy_course(tmp_path / "course")
    db = tmp_path / "gradebook.db"
    args = ["dashboard", "--course", course_path, "--db", db, "--out", tmp_path / "d.html"]
    if case == "junk":
        db.write_bytes(b"not sqlite at all" * 64)
    elif case == "unknown assignment":
        Gradebook(db).close()
        args += ["--assignment", "ps9"]
    result = run(*args)
    assert result.exit_code == 1
    expected = {
        "missing": f"Error: {db}: no gradebook yet (grade a batch first, or pass --db)\n",
        "junk": f"Error: {db}: not a usable gradebook (file is not a database)\n",
        "unknown assignment": f"Error: {course_path}: unknown assignment 'ps9' "
        "(known: ps1, ps2, ps3)\n",
    }[case]
    assert result.output == expected
    assert not (tmp_path / "d.html").exists()
