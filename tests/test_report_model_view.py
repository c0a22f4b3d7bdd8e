"""The report's model view pairs the layers by what they hold (the layers with weights in
order), not by nesting or names: a model the check passes shows no marked row (issue 17)."""

from __future__ import annotations

import pytest
from test_models import Functional, Nested, Tutorial

from grader.inkernel.layers import probe_input, summary
from grader.judge.models import read_summary
from grader.report import render_html
from grader.report.html import _summary
from grader.results import CheckResult, ExerciseResult, GradeResult

PROBE = (2, 3, 32, 32)


def view(model):
    probe = probe_input(PROBE)
    return _summary(
        {
            "student": read_summary(summary(model, probe)),
            "reference": read_summary(summary(Tutorial(), probe)),
        }
    )


def marked(v):
    """(student layer, reference layer) of the marked rows."""
    return [
        (r.student and r.student["layer"], r.reference and r.reference["layer"])
        for r in v.rows
        if r.differs
    ]


@pytest.mark.parametrize(
    "model", [Tutorial, Functional, Nested], ids=["tutorial", "functional", "nested"]
)
def test_a_model_of_the_reference_architecture_shows_no_marked_row(model):
    v = view(model())
    assert marked(v) == []
    assert v.student_total == v.reference_total == 20_234 and not v.totals_differ
    paired = [
        (r.student["layer"], r.reference["layer"])
        for r in v.rows
        if r.student
        and r.reference
        and r.student["params"]
        and r.reference["params"]
        and r.student["layer"] in ("Conv2d", "BatchNorm2d", "Linear")
    ]
    assert paired == [(k, k) for k in ("Conv2d", "BatchNorm2d", "Conv2d", "BatchNorm2d", "Linear")]


def test_padding_marks_the_layers_whose_output_shape_differs():
    v = view(Tutorial(padding=1))
    same = ("Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d")
    assert marked(v) == [(k, k) for k in same + same]
    assert not v.totals_differ  # padding adds no parameter


def test_a_missing_batch_norm_marks_only_the_batch_norms_and_the_total():
    v = view(Nested(batch_norm=False))
    assert marked(v) == [(None, "BatchNorm2d"), (None, "BatchNorm2d")]
    assert v.totals_differ


def _page(model):
    probe = probe_input(PROBE)
    details = {
        "summaries": {
            "student": read_summary(summary(model, probe)),
            "reference": read_summary(summary(Tutorial(), probe)),
        }
    }
    check = CheckResult("structure", True, details=details)
    ex = ExerciseResult("cnn-model", "Model", 5.0, 5.0, "passed", checks=(check,))
    return render_html(GradeResult("course", "ps3", "s.ipynb", 5.0, 5.0, 1.0, (ex,)))


def test_the_page_marks_no_row_nor_the_total_of_a_functional_model():
    html = _page(Functional())
    table = html[html.index('<table class="model">') :]
    table = table[: table.index("</table>")]
    assert 'class="mis"' not in table
    assert "Total parameters</th>" in table and "the totals differ" not in table
    assert table[table.index("<tfoot>") :].count("20,234") == 2
