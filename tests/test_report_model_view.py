"""The report's model view pairs the layers by what they hold (the layers with weights in
order), not by nesting or names: a model the check passes shows no marked row (issue 17)."""

from __future__ import annotations

import json

import pytest
import torch
from test_models import Functional, Nested, Tutorial
from torch import nn

from grader.inkernel.layers import probe_input, summary
from grader.judge.models import read_summary
from grader.report import render_html
from grader.report.model_view import model_view, setting
from grader.results import CheckResult, ExerciseResult, GradeResult

PROBE = (2, 3, 32, 32)


def view(model):
    probe = probe_input(PROBE)
    return model_view(
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


# --- parameter shapes and settings (issue 17) --------------------------------------------------


def shown(row):
    return row and f"{row['layer']} {row['setting']}".strip()


def test_a_differing_kernel_and_stride_show_in_the_marked_rows():
    from test_model_messages import Calls, Modules

    first = next(r for r in view(Modules(kernel=5)).rows if r.differs)
    assert (shown(first.student), shown(first.reference)) == ("Conv2d 3→32 k5", "Conv2d 3→32 k3")
    first = next(r for r in view(Calls(stride=2)).rows if r.differs)
    assert (shown(first.student), shown(first.reference)) == (
        "Conv2d 3→32 k3 s2",
        "Conv2d 3→32 k3",
    )
    settings = [shown(r.reference) for r in view(Tutorial()).rows]
    assert settings[2:5] == ["Conv2d 3→32 k3", "BatchNorm2d 32", "ReLU"]
    assert "MaxPool2d k2 s2" in settings and "AdaptiveAvgPool2d →1" in settings
    assert settings[-1] == "Linear 64→10"
    same = {"padding": "same", "stride": [2, 2], "dilation": [1, 1], "groups": 1}
    row = {"layer": "Conv2d", "shapes": {"weight": [32, 3, 5, 5]}, "config": same}
    assert setting(row) == "3→32 k5 s2 p=same"
    grouped = {"layer": "Conv2d", "shapes": {"weight": [64, 16, 3, 3]}, "config": {"groups": 2}}
    assert setting(grouped) == "32→64 k3"


def rows(*layers):
    """Summary rows of leaf layers: (type, parameter count, weight shape or None)."""
    out = [{"layer": "Net", "name": "", "depth": 0, "shape": [2, 10], "params": 0}]
    for kind, params, weight in layers:
        row = {"layer": kind, "name": "", "depth": 1, "shape": [2, 10], "params": params}
        if weight is not None:
            row["shapes"] = {"weight": weight, "bias": [weight[0]]}
        out.append(row)
    return {"rows": out, "total": sum(p for _, p, _ in layers)}


def test_layers_are_paired_by_their_parameter_shapes():
    """Two linear layers of 650 parameters each (12 -> 50 and 64 -> 10) and the reference's one
    (64 -> 10): by shapes, the reference's pairs with the second; an export without shapes
    falls back to type and count, and pairs it with the first."""
    mine = rows(("Linear", 650, [50, 12]), ("Linear", 650, [10, 64]))
    ref = rows(("Linear", 650, [10, 64]))
    v = model_view({"student": mine, "reference": ref})
    paired = [(shown(r.student), shown(r.reference), r.differs) for r in v.rows[1:] if r.student]
    assert paired == [("Linear 12→50", None, True), ("Linear 64→10", "Linear 64→10", False)]
    for row in mine["rows"]:
        row.pop("shapes", None)
    old = model_view({"student": mine, "reference": ref})
    paired = [(shown(r.student), shown(r.reference), r.differs) for r in old.rows[1:] if r.student]
    assert paired == [("Linear", "Linear 64→10", False), ("Linear", None, True)]


def test_an_export_without_shapes_is_paired_as_before():
    probe = probe_input(PROBE)
    student = summary(Functional(), probe)
    for row in student["rows"]:
        row.pop("shapes", None)
        row.pop("config", None)
    v = model_view(
        {"student": read_summary(student), "reference": read_summary(summary(Tutorial(), probe))}
    )
    assert marked(v) == []


HUGE = 10**6


@pytest.mark.parametrize(
    "row",
    [
        {"shapes": {f"w{i}": [1] for i in range(HUGE)}},
        {"shapes": {"weight": [1] * HUGE}},
        {"shapes": {"weight": [True, 3]}},
        {"shapes": {"weight": "32x3"}},
        {"shapes": ["weight"]},
        {"shapes": {"weight": [-1]}},
        {"config": {"kernel_size": [[3]]}},
        {"config": {"p": float("nan")}},
        {"config": {"padding": "x" * HUGE}},
        {"config": {f"k{i}": 1 for i in range(HUGE)}},
    ],
    ids=[
        "many-tensors",
        "many-dims",
        "bool-dim",
        "text-shape",
        "list",
        "negative",
        "nested",
        "nan",
        "long-text",
        "many-settings",
    ],
)
def test_forged_shapes_and_settings_are_dropped(row):
    forged = {"layer": "Conv2d", "name": "c", "depth": 1, "shape": [2], "params": 896, **row}
    value = read_summary({"rows": [forged], "total": 896})
    assert set(value["rows"][0]) == {"layer", "name", "depth", "shape", "params"}


@pytest.mark.parametrize(
    "side",
    [
        {"rows": [{"layer": ["x"], "depth": "1", "params": 1.5, "shape": {"a": 1}}], "total": "x"},
        {"rows": [{"layer": "Conv2d", "params": 3, "shapes": {"weight": [3, "a", 1]}}]},
        {"rows": [{"layer": "Conv2d", "params": 3, "shapes": {"weight": [3, 1, 3]}, "config": 7}]},
        {
            "rows": [
                {
                    "layer": "Conv2d",
                    "params": 3,
                    "shapes": {"weight": [3, 1, 3]},
                    "config": {"groups": "x", "stride": {"a": 1}, "padding": [None]},
                }
            ]
        },
        {"rows": [{"layer": "MaxPool2d", "config": {"kernel_size": 10**100}}] * 5000},
        {"rows": "nonsense", "error": ["not text"]},
        {"rows": [{"layer": "Dropout", "config": {"p": True}}, 5, None]},
    ],
    ids=["types", "shape-text", "config-int", "config-types", "many-rows", "text", "mixed"],
)
def test_a_forged_stored_summary_never_breaks_the_page(side):
    """A stored result is read again by the report: whatever its summaries hold, the view is
    drawn, the page renders."""
    reference = read_summary(summary(Tutorial(), probe_input(PROBE)))
    v = model_view({"student": side, "reference": reference})
    assert len(v.rows) <= 1000 + len(reference["rows"])
    check = CheckResult("structure", False, details={"summaries": {"student": side}})
    ex = ExerciseResult("cnn-model", "Model", 0.0, 5.0, "failed", checks=(check,))
    html = render_html(GradeResult("course", "ps3", "s.ipynb", 0.0, 5.0, 1.0, (ex,)))
    assert '<table class="model">' in html


class Lying:
    def __str__(self):
        raise RuntimeError("no text for you")


class Odd(nn.Module):
    """A leaf whose settings are a 5000-digit int and an object that cannot be written."""

    __constants__ = ("big", "bad")

    def __init__(self, bad):
        super().__init__()
        self.big = 10**5000
        self.bad = bad
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x * self.scale


@pytest.mark.parametrize("bad", [Lying(), "fine"], ids=["unwritable", "text"])
def test_a_leaf_with_odd_settings_still_has_a_summary(bad):
    model = nn.Sequential(Tutorial(), Odd(bad))
    value = summary(model, probe_input(PROBE))
    json.dumps(value)  # it can be exported: no 5000-digit int in it
    odd = value["rows"][-1]
    assert odd["layer"] == "Odd" and "error" not in value
    if isinstance(bad, str):
        assert odd["config"] == {"bad": "fine"} and odd["shapes"] == {"scale": [1]}
    else:
        assert "config" not in odd and "shapes" not in odd
