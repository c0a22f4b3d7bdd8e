"""Tests of grader.report: HTML, Gradescope JSON, JUnit XML, terminal table, atomic writes."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from rich.console import Console

from grader.report import (
    clean_text,
    junit_xml,
    render_html,
    results_json,
    short_traceback,
    terminal_table,
    write_reports,
)
from grader.results import CheckResult, ExerciseResult, GradeResult, StudentError

SCRIPT = "<script>alert(1)</script>"
ANSI_TRACEBACK = "\n".join(
    [
        "\x1b[0;31m" + "-" * 75 + "\x1b[0m",
        "\x1b[0;31mZeroDivisionError\x1b[0m          Traceback (most recent call last)",
        "Cell \x1b[0;32mIn[4], line 3\x1b[0m",
        "      1 def f(x):",
        "      2     return helper(x)",
        "\x1b[0;32m----> 3\x1b[0m answer = f(0)",
        "",
        *[
            f"File \x1b[0;32m/usr/lib/python3/site-packages/lib{i}.py:{i}\x1b[0m, in g{i}(x)\n"
            f"   {i} def g{i}(x):\n-> {i + 1}     return g{i + 1}(x)\n"
            for i in range(10)
        ],
        "Cell \x1b[0;32mIn[3], line 2\x1b[0m, in helper(x)",
        "      1 def helper(x):",
        "\x1b[0;32m----> 2\x1b[0m     return 1 / x",
        "",
        "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero",
    ]
)


def ex(id, status, score, points=2.0, **kw):
    return ExerciseResult(
        id=id, title=kw.pop("title", id.title()), points=points, score=score, status=status, **kw
    )


def make_result(*exercises, **kw):
    exercises = exercises or (ex("a", "passed", 2.0, checks=(CheckResult("values", True),)),)
    fields = {
        "course": "CNN course",
        "assignment": "ps1",
        "submission": "alice.ipynb",
        "score": sum(e.score for e in exercises),
        "max_score": sum(e.points for e in exercises),
        "execution_time": 3.14159,
        "exercises": exercises,
        "graded_at": "2026-01-02T03:04:05+00:00",
    }
    return GradeResult(**{**fields, **kw})


def mixed_result():
    """11.5 / 24: passed, partial (array), failed (shape), error, missing, partial (mapping).

    Every exercise's score is what its checks earn: 4.5 = 6 * 3/4 (weights 3 of 4), 3 = 6 / 2.
    """
    return make_result(
        ex("conv", "passed", 4, 4, checks=(CheckResult("values", True),)),
        ex(
            "corr2d",
            "partial",
            4.5,
            6,
            message="Some values are wrong.",
            checks=(
                CheckResult("shape", True, weight=3.0, expected=[3, 3], got=[3, 3]),
                CheckResult(
                    "values",
                    False,
                    message="2 of 9 values differ",
                    expected=[[1, 2, 3], [4, 5, 6], [7, 8, 9]],
                    got=[[1, 2, 3], [4, 0, 6], [7, 8, 10]],
                    mismatches=[[1, 1], [2, 2]],
                ),
            ),
            hints=("Do not flip the kernel.",),
        ),
        ex(
            "full",
            "failed",
            0,
            2,
            checks=(
                CheckResult(
                    "values",
                    False,
                    message="wrong shape",
                    expected=[[1, 2, 3, 4]] * 4,
                    got=[[1, 2], [3, 4]],
                ),
            ),
        ),
        ex(
            "forward",
            "error",
            0,
            4,
            error=StudentError("ZeroDivisionError", "division by zero", ANSI_TRACEBACK),
        ),
        ex("valid", "missing", 0, 2, message="No answer cell found."),
        ex(
            "params",
            "partial",
            3,
            6,
            checks=(
                CheckResult("total", True),
                CheckResult(
                    "per layer",
                    False,
                    message="conv2 is wrong",
                    expected={"conv1": 448, "conv2": 4640, "fc": 10250},
                    got={"conv1": 448, "conv2": 4608, "fc": 10250},
                ),
            ),
        ),
        max_score=24,
        notices=("answer cell for 'valid' is missing; the starter was used",),
    )


class Cells(HTMLParser):
    """Collects mismatching grid cells (their data-index), all grid cells, marked mapping rows."""

    def __init__(self):
        super().__init__()
        self.marked: list[str] = []
        self.cells = 0
        self.marked_rows = 0
        self.in_grid = self.in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.in_grid = self.in_grid or (tag == "table" and attrs.get("class") == "grid")
        self.in_body = self.in_grid and (self.in_body or tag == "tbody")
        if tag == "td" and self.in_body:
            self.cells += 1
            if "mis" in (attrs.get("class") or "").split():
                self.marked.append(attrs["data-index"])
        if tag == "tr" and attrs.get("class") == "mis":
            self.marked_rows += 1

    def handle_endtag(self, tag):
        self.in_grid = self.in_grid and tag != "table"
        self.in_body = self.in_body and tag != "tbody"


def parse(html):
    cells = Cells()
    cells.feed(html)
    return cells


def test_all_passed():
    result = make_result(
        ex("a", "passed", 2, checks=(CheckResult("values", True),)), ex("b", "passed", 1, 1)
    )
    html = render_html(result)
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<strong>3</strong> / 3" in html and "100%" in html
    assert "<script" not in html and "http" not in html.split("<body>")[0]  # no external resources
    assert parse(html).marked == []
    data = results_json(result)
    assert [t["status"] for t in data["tests"]] == ["passed", "passed"]
    assert data["tests"][0]["output"] == "All checks passed."
    suite = ET.fromstring(junit_xml(result)).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")


def test_array_mismatch_marks_exactly_the_mismatching_cells():
    html = render_html(mixed_result())
    cells = parse(html)
    # expected and got grid both mark [1, 1] and [2, 2], nothing else
    assert sorted(cells.marked) == ["1,1", "1,1", "2,2", "2,2"]
    assert 'title="[1, 1]: expected 5, got 0"' in html
    assert "2 of 9 values differ (first at [1, 1])" in html


def test_shape_mismatch_shows_both_grids_without_marks():
    result = make_result(mixed_result().exercises[2])
    html = render_html(result)
    assert "Shapes differ: expected (4, 4), got (2, 2)." in html
    cells = parse(html)
    assert cells.marked == [] and cells.cells == 16 + 4


def test_mapping_marks_the_wrong_key():
    html = render_html(make_result(mixed_result().exercises[5]))
    cells = parse(html)
    assert cells.marked_rows == 1
    row = html[html.index('<tr class="mis">') :].split("</tr>")[0]
    assert "conv2" in row and "4640" in row and "4608" in row


def test_error_traceback_is_short_and_has_no_ansi():
    result = make_result(mixed_result().exercises[3])
    outputs = [render_html(result), json.dumps(results_json(result)), junit_xml(result)]
    for out in outputs:
        assert "\x1b" not in out and "[0;31m" not in out
    html = outputs[0]
    assert "ZeroDivisionError: division by zero" in html
    tb = short_traceback(ANSI_TRACEBACK)
    lines = tb.splitlines()
    assert len(lines) <= 15
    assert lines[-1] == "ZeroDivisionError: division by zero"
    assert "Cell In[4], line 3" in tb and "Cell In[3], line 2, in helper(x)" in tb
    assert "library frames hidden" in tb and "lib3.py" not in tb and "lib9.py" not in tb
    assert "Traceback (most recent call last)" not in tb
    assert tb in html.replace("&gt;", ">")


def test_short_traceback_keeps_the_last_lines():
    tb = short_traceback("\n".join(f"line {i}" for i in range(100)), max_lines=10)
    lines = tb.splitlines()
    assert len(lines) == 10 and lines[0].startswith("... 91 earlier lines omitted")
    assert lines[-1] == "line 99"


@pytest.mark.parametrize("where", ["got", "evalue", "title", "message", "hint", "notice"])
def test_student_html_is_escaped(where):
    check = CheckResult(
        "values",
        False,
        expected=[1],
        got=[SCRIPT] if where == "got" else [2],
        mismatches=[[0]],
        message=SCRIPT if where == "message" else "",
    )
    error = StudentError("ValueError", SCRIPT if where == "evalue" else "bad", SCRIPT)
    exercise = ex(
        "a",
        "error",
        0,
        title=SCRIPT if where == "title" else "A",
        checks=(check,),
        error=error,
        hints=(SCRIPT,) if where == "hint" else (),
    )
    result = make_result(exercise, notices=(SCRIPT,) if where == "notice" else ())
    html = render_html(result)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    xml = junit_xml(result)
    ET.fromstring(xml)
    assert "<script" not in xml


def test_nan_and_inf_are_json_safe():
    exercise = ex(
        "a",
        "failed",
        0,
        checks=(
            CheckResult(
                "values",
                False,
                expected=[1.0, 2.0, 3.0],
                got=[float("nan"), float("inf"), -math.inf],
                mismatches=[[0], [1], [2]],
            ),
            CheckResult("loss", False, expected=0.5, got=float("nan")),
            CheckResult("params", False, expected={"w": 1.0}, got={"w": float("inf")}),
        ),
    )
    result = make_result(exercise, execution_time=float("nan"))
    text = json.dumps(results_json(result), allow_nan=False)
    data = json.loads(text)
    assert data["execution_time"] == "NaN"
    assert "at [1]: expected 2.0, got inf" in data["tests"][0]["output"]
    html = render_html(result)
    assert ">nan<" in html and ">-inf<" in html
    assert sorted(parse(html).marked) == ["0", "0", "1", "1", "2", "2"]


def test_results_json_schema_and_statuses():
    data = results_json(mixed_result())
    assert set(data) == {"score", "max_score", "execution_time", "output", "visibility", "tests"}
    assert (data["score"], data["max_score"], data["execution_time"]) == (11.5, 24, 3.1416)
    assert data["visibility"] == "visible"
    assert data["output"].startswith("ps1 (CNN course), alice.ipynb: 11.5 / 24 points (48%).")
    assert "1 of 6 exercises passed, 2 partial, 1 failed, 1 error, 1 missing" in data["output"]
    assert "answer cell for 'valid' is missing" in data["output"]
    fields = {"name", "number", "score", "max_score", "status", "output", "extra_data"}
    assert all(set(t) == fields for t in data["tests"])
    assert [t["number"] for t in data["tests"]] == ["1", "2", "3", "4", "5", "6"]
    assert [t["status"] for t in data["tests"]] == ["passed"] + ["failed"] * 5
    partial = data["tests"][1]
    assert partial["name"] == "corr2d: Corr2D"
    assert (partial["score"], partial["max_score"]) == (4.5, 6)
    assert partial["extra_data"] == {
        "id": "corr2d",
        "status": "partial",
        "checks": {"shape": True, "values": False},
    }
    assert partial["output"] == (
        "Some values are wrong.\n"
        "FAILED values: 2 of 9 values differ\n"
        "    at [1, 1]: expected 5, got 0\n"
        "    at [2, 2]: expected 9, got 10\n"
        "Hints:\n"
        "  - Do not flip the kernel."
    )
    assert data["tests"][3]["output"] == "Error: ZeroDivisionError: division by zero"
    json.dumps(data, allow_nan=False)


def test_scores_are_rounded():
    result = make_result(
        ex("a", "partial", 2 / 3, 1), ex("b", "passed", 1, 1), score=5 / 3, max_score=2
    )
    data = results_json(result)
    assert data["score"] == 1.6667 and data["tests"][0]["score"] == 0.6667


def test_junit_xml_counts_and_control_characters():
    result = mixed_result()
    bad = ex(
        "ctl",
        "failed",
        0,
        title="bell\x07 nul\x00 esc\x1b[31mred",
        checks=(CheckResult("c", False, message="form\x0cfeed", got="\udcff"),),
    )
    result = make_result(*result.exercises, bad)
    root = ET.fromstring(junit_xml(result).encode("utf-8"))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("7", "4", "2")
    cases = suite.findall("testcase")
    assert {c.get("classname") for c in cases} == {"ps1"}
    assert cases[-1].get("name") == "ctl: bell nul esc" + "red"
    assert cases[1].find("failure").get("message") == "2 of 9 values differ"
    assert cases[3].find("error").get("type") == "ZeroDivisionError"
    assert cases[4].find("error").get("message") == "No answer cell found."
    assert cases[0].find("failure") is None and cases[0].find("error") is None
    assert root.get("tests") == "7"


def test_junit_xml_several_submissions():
    root = ET.fromstring(junit_xml([mixed_result(), make_result()]))
    assert [s.get("name") for s in root.findall("testsuite")] == ["alice.ipynb"] * 2
    assert root.get("tests") == "7" and root.get("failures") == "3"


def test_large_array_is_truncated_around_the_first_mismatch():
    expected = [[float(i * 30 + j) for j in range(30)] for i in range(30)]
    got = [row[:] for row in expected]
    got[25][28] = -1.0
    check = CheckResult("values", False, expected=expected, got=got, mismatches=[[25, 28]])
    html = render_html(make_result(ex("big", "failed", 0, checks=(check,))))
    cells = parse(html)
    assert cells.marked == ["25,28", "25,28"]
    assert cells.cells <= 2 * 12 * 12
    assert "Large array (30 × 30, 900 values): showing rows 18–29, columns 18–29." in html


def test_1d_array_is_one_row_and_wraps_when_long():
    short = CheckResult("v", False, expected=[1, 2, 3], got=[1, 2, 4], mismatches=[[2]])
    html = render_html(make_result(ex("a", "failed", 0, checks=(short,))))
    grid = html[html.index('<table class="grid">') :].split("</table>")[0]
    assert grid.count("<tr>") == 2  # header + one row
    long = CheckResult("v", False, expected=list(range(45)), got=list(range(45)))
    html = render_html(make_result(ex("a", "failed", 0, checks=(long,))))
    grid = html[html.index('<table class="grid">') :].split("</table>")[0]
    assert grid.count("<tr>") == 1 + 5 and ">+9<" in grid


def test_scalars_tuples_and_3d_arrays():
    checks = (
        CheckResult("shape", False, expected=(2, 16, 15, 15), got=(2, 16, 16, 16)),
        CheckResult("n", False, expected=448, got="448"),
        CheckResult(
            "cube",
            False,
            expected=[[[0] * 3] * 3] * 2,
            got=[[[0] * 3] * 3] * 2,
            mismatches=[[1, 2, 0]],
        ),
    )
    html = render_html(make_result(ex("a", "failed", 0, checks=checks)))
    assert "(2, 16, 15, 15)" in html and "(2, 16, 16, 16)" in html
    assert "&#39;448&#39;" in html
    assert "<caption>[1, :, :]</caption>" in html
    assert parse(html).marked == ["1,2,0", "1,2,0"]


@pytest.mark.parametrize(
    "status,score,shown",
    [
        ("passed", 2, False),
        ("partial", 1, True),
        ("failed", 0, True),
        ("error", 0, True),
        ("missing", 0, False),
    ],
)
def test_hints_only_for_failed_partial_and_error(status, score, shown):
    checks = {"passed": (True,), "partial": (True, False), "failed": (False,)}.get(status, ())
    result = make_result(
        ex(
            "a",
            status,
            score,
            hints=("HINT-A",),
            checks=tuple(CheckResult(f"c{i}", ok) for i, ok in enumerate(checks)),
            error=StudentError("ValueError", "x") if status == "error" else None,
        )
    )
    assert 0 <= result.score <= result.max_score
    outputs = {
        "html": render_html(result),
        "results.json": json.dumps(results_json(result)),
        "junit": junit_xml(result),
    }
    for name, out in outputs.items():
        assert ("HINT-A" in out) is shown, (name, status)


def test_write_reports(tmp_path):
    html_path, json_path = tmp_path / "out" / "a.report.html", tmp_path / "out" / "a.results.json"
    write_reports(mixed_result(), html_path, json_path)
    assert sorted(p.name for p in html_path.parent.iterdir()) == ["a.report.html", "a.results.json"]
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert json.loads(json_path.read_text(encoding="utf-8"))["score"] == 11.5
    write_reports(make_result(), html_path, json_path)  # replaces
    assert json.loads(json_path.read_text(encoding="utf-8"))["score"] == 2


def test_terminal_table():
    console = Console(record=True, width=80)
    terminal_table(mixed_result(), console)
    text = console.export_text()
    assert "Total: 11.5 / 24 (48%)" in text
    assert "4.5 / 6" in text and "partial" in text
    assert "2. 2 of 9 values differ" in text
    assert "4. ZeroDivisionError: division by zero" in text
    assert "Notice: answer cell for 'valid' is missing; the starter was used" in text
    assert "\x1b" not in text


@pytest.mark.parametrize("width", [10, 30])
def test_terminal_table_narrow_and_not_a_tty(width, tmp_path):
    with open(tmp_path / "out.txt", "w", encoding="utf-8") as handle:
        console = Console(file=handle, width=width)
        long = ex(
            "a",
            "failed",
            0,
            title="x" * 200,
            checks=(CheckResult("c", False, message="m" * 500 + "[red]"),),
        )
        terminal_table(make_result(long, notices=("n" * 300,)), console)
    text = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert "Total" in text and "\x1b" not in text


def test_clean_text():
    assert clean_text("\x1b[1;31mred\x1b[0m\x00 a\r\nb\x07") == "red a\nb"


def test_two_different_2d_answers_cut_short_never_read_alike():
    """Wrong 2-D answers whose one-line renderings are cut at the same place say their
    shape and where they differ (text report), and the HTML grids mark where they differ
    even when the comparator gave no mismatches."""
    expected = [[float(i * 30 + j) for j in range(30)] for i in range(30)]
    fewer = expected[:29]  # the same first rows, one row short
    check = CheckResult("values", False, message="wrong shape", expected=expected, got=fewer)
    [test] = results_json(make_result(ex("big", "failed", 0, checks=(check,))))["tests"]
    lines = test["output"].splitlines()
    [want] = [ln for ln in lines if ln.startswith("    expected: ")]
    [gave] = [ln for ln in lines if ln.startswith("    got: ")]
    assert want.startswith("    expected: (30 × 30) [[0.0, 1.0")
    assert gave.startswith("    got:      (29 × 30) [[0.0, 1.0")
    assert want.endswith("; at [29]: [870.0, 871.0, 872.0, 873.0, 874.0, 875…")
    assert gave.endswith("; at [29]: nothing")
    got = [row[:] for row in expected]
    got[25][28] = -1.0
    same_shape = CheckResult("values", False, expected=expected, got=got)  # no mismatches
    html = render_html(make_result(ex("big", "failed", 0, checks=(same_shape,))))
    assert parse(html).marked == ["25,28", "25,28"]
    assert "They first differ at [25, 28]" in html


def test_a_late_reports_headline_is_the_final_score_with_the_raw_score_beside_it():
    result = make_result(
        ex("a", "passed", 2.0),
        ex("b", "partial", 2.0, points=3.0),
        late="late by 1 d 6 h: -20% (2 days)",
        final_score=3.2,
    )
    html = render_html(result)
    headline = html.split('<p class="points">')[1].split("</p>")[0]
    assert "<strong>3.2</strong> / 5" in headline and "Final score" in headline
    beside = html.split('<p class="final">')[1].split("</p>")[0]
    assert beside == "Final, after the late penalty; raw score <strong>4</strong> / 5"
    assert '<p class="pct">64%</p>' in html and "<title>ps1 · alice.ipynb · 3.2 / 5</title>" in html
    assert "final after the late penalty: 3.2" in results_json(result)["output"]
    on_time = render_html(replace(result, late="", final_score=4.0))
    assert '<p class="final">' not in on_time and "<strong>4</strong> / 5" in on_time


def test_a_hand_out_check_that_decided_nothing_has_no_score_in_its_headline():
    result = make_result(
        ex("a", "pending", 0.0, message="a number: OK; right answer: checked at grading"),
        checked=0.0,
    )
    html = render_html(result)
    assert "<strong>–</strong> / 2</p>" in html
    assert "none of the 2 points is checked here" in html
    assert results_json(result)["output"].startswith("ps1 (CNN course), alice.ipynb: – / 2 points")
