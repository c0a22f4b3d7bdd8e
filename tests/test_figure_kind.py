"""The ``figure`` kind: the kernel's plain data of real matplotlib figures (lines, bars,
scatter, texts, scales, legend; a PNG for the report; subclasses that lie, artists that
raise, huge data), judging by data within tolerance and texts by rule, the report's two
PNGs, the hand-out's public checks, and a build + grade of a tiny course in a real kernel."""

from __future__ import annotations

import base64
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from shipped import with_answers

from grader.errors import CompareError, SpecError
from grader.execute.records import ExportRecord
from grader.handout_release import handout_data
from grader.inkernel.figures import MAX_PNG, MAX_POINTS
from grader.inkernel.plain import ExportError, to_plain
from grader.inkernel.public import describe
from grader.judge.figures import compare_figures
from grader.judge.public_context import PublicExpectations
from grader.judge.scoring import KeyExpectations, judge_export
from grader.key import AnswerKey
from grader.spec import Answer, load_course


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def plain(value):
    """What the kernel exports, through JSON as the grader reads it."""
    return json.loads(json.dumps(to_plain(value)))


def losses(y=(3.0, 2.0, 1.5), title="Loss", label="train", scale="linear", scatter=True):
    fig, ax = plt.subplots()
    ax.plot(range(len(y)), list(y), label=label)
    ax.bar(["a", "b"], [2, 5])
    if scatter:
        ax.scatter([1, 2, 3], [4, 5, 6])
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale(scale)
    ax.legend()
    return fig


# --- the kernel's plain data ---------------------------------------------------------------


def test_a_figure_is_exported_as_its_data_and_a_small_png():
    data = plain(losses(y=(3.0, np.nan, np.inf)))
    (ax,) = data["axes"]
    assert {k: ax[k] for k in ("title", "xlabel", "ylabel", "xscale", "yscale", "legend")} == {
        "title": "Loss", "xlabel": "epoch", "ylabel": "loss", "xscale": "linear",
        "yscale": "linear", "legend": ["train"],
    }  # fmt: skip
    assert ax["lines"] == [
        {"label": "train", "x": [0.0, 1.0, 2.0], "y": [3.0, None, {"float": "inf"}]}
    ]
    assert ax["bars"] == [{"label": "", "x": ["a", "b"], "width": [0.8, 0.8], "height": [2.0, 5.0]}]
    assert ax["scatter"] == [{"label": "", "offsets": [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]}]
    png = base64.b64decode(data["png"])
    assert png.startswith(b"\x89PNG") and len(png) <= MAX_PNG


def test_an_axes_is_exported_alone_with_its_figure_s_png():
    fig, (left, right) = plt.subplots(1, 2)
    left.plot([1, 2])
    right.set_title("right")
    data = plain(right)
    assert [a["title"] for a in data["axes"]] == ["right"] and data["png"]
    assert len(plain(fig)["axes"]) == 2


class LyingFigure(Figure):
    def get_axes(self):
        return []

    @property
    def axes(self):
        return []

    def __array__(self, *args, **kwargs):
        return np.zeros(3)

    def savefig(self, *args, **kwargs):
        raise RuntimeError("no picture")


class LyingAxes(Axes):
    def get_lines(self):
        return []

    def get_title(self, *args, **kwargs):
        return "Loss"


class LyingLine(Line2D):
    def get_ydata(self, orig=True):
        return np.array([3.0, 2.0, 1.5])

    def get_xdata(self, orig=True):
        raise RuntimeError("no data")


def test_a_figure_subclass_that_lies_is_exported_as_what_it_holds():
    fig = LyingFigure()
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8), axes_class=LyingAxes)
    ax.add_line(LyingLine([0, 1], [9.0, 9.0]))
    ax.set_title("mine")
    data = plain(fig)
    (exported,) = data["axes"]
    assert exported["title"] == "mine"
    assert exported["lines"][0]["x"] == [0.0, 1.0] and exported["lines"][0]["y"] == [9.0, 9.0]
    assert data["png"]  # the base class's savefig, not the subclass's


def test_artists_that_raise_and_huge_figures_are_said_so():
    fig, ax = plt.subplots()
    ax.plot(np.arange(MAX_POINTS), np.arange(MAX_POINTS))
    with pytest.raises(ExportError, match=r"more than 200,000 values"):
        to_plain(fig)
    fig, ax = plt.subplots()
    (line,) = ax.plot([1, 2])
    line.set_xdata(np.array([object(), object()], dtype=object))
    with pytest.raises(ExportError, match="the figure's data holds a object"):
        to_plain(fig)

    class Broken(Line2D):
        def draw(self, renderer):
            raise RuntimeError("cannot draw")

    fig, ax = plt.subplots()
    ax.add_line(Broken([0, 1], [1, 2]))
    data = plain(fig)
    assert data["png"] is None and data["axes"][0]["lines"][0]["y"] == [1.0, 2.0]


# --- judging -------------------------------------------------------------------------------

DEFAULT = Answer.of("figure", "fig")
REGEX = Answer.of("figure", "fig", match="regex", patterns={"title": "Loss( per epoch)?"})
REFERENCE = plain(losses())


def checks(answer, got, reference=REFERENCE):
    return {c.name: (c.passed, c.message) for c in compare_figures(answer, reference, got)}


def test_the_same_figure_passes_every_part():
    result = checks(DEFAULT, plain(losses()))
    assert set(result) == {
        "axes",
        "lines",
        "bars",
        "scatter",
        "title",
        "labels",
        "legend",
        "scales",
    }
    assert all(ok for ok, _ in result.values())


@pytest.mark.parametrize(
    "figure,answer,failed",
    [
        (losses(y=(3.0, 2.0, 1.50001)), DEFAULT, {}),
        (losses(y=(3.0, 2.0, 1.6)), DEFAULT, {"lines": "the axes, line 1 ('train'): y 1 of 3 "
         "values differ (rtol=1e-05, atol=1e-08); first at point 2: expected 1.5, got 1.6"}),
        (losses(y=(3.0, 2.0, 1.6)), Answer.of("figure", "fig", rtol=0.1), {}),
        (losses(y=(3.0, 2.0)), DEFAULT, {"lines": "the axes, line 1 ('train'): x 2 points, "
         "expected 3; the axes, line 1 ('train'): y 2 points, expected 3"}),
        (losses(title="  LOSS "), DEFAULT, {}),
        (losses(title="  LOSS "), Answer.of("figure", "fig", match="exact"),
         {"title": "the axes: the title is '  LOSS ', expected 'Loss'"}),
        (losses(title="Accuracy"), DEFAULT, {"title": "the axes: the title is 'Accuracy', "
         "expected 'Loss' (case and white space aside)"}),
        (losses(label="test"), DEFAULT, {"legend": "the axes: the legend is 'test', expected "
         "'train' (case and white space aside)"}),
        (losses(scale="log"), DEFAULT, {"scales": "the axes: the y scale is 'log', expected 'linear'"}),
        (losses(scatter=False), DEFAULT, {"scatter": "the axes: 0 scatters, expected 1"}),
        (losses(y=(3.0, 2.0, 1.6), scale="log"), Answer.of("figure", "fig", compare=["title"]), {}),
        (losses(title="Loss per epoch"), REGEX, {}),
        (losses(title="Accuracy"), REGEX, {"title": "the axes: the title is 'Accuracy', which "
         "does not match the pattern 'Loss( per epoch)?'"}),
        (losses(title="Loss " + "x" * 2000), Answer.of("figure", "fig", match="regex",
         patterns={"title": "Loss.*"}), {}),  # the kernel keeps the first 1,000 characters
    ],
)  # fmt: skip
def test_judging(figure, answer, failed):
    result = checks(answer, plain(figure))
    assert {k: m for k, (ok, m) in result.items() if not ok} == failed


def test_scatter_points_in_another_order_and_bars_by_height():
    fig, ax = plt.subplots()
    ax.scatter([3, 1, 2], [6, 4, 5])
    ref = plain(fig)
    fig, ax = plt.subplots()
    ax.scatter([1, 2, 3], [4, 5, 6])
    assert all(ok for ok, _ in checks(DEFAULT, plain(fig), ref).values())
    fig, ax = plt.subplots()
    ax.bar([0, 1], [1, 2])
    ref = plain(fig)
    fig, ax = plt.subplots()
    ax.bar([0, 1], [1, 3])
    assert checks(DEFAULT, plain(fig), ref)["bars"] == (
        False,
        "the axes, bar group 1: height 1 of 2 values differ (rtol=1e-05, atol=1e-08); first at "
        "point 1: expected 2.0, got 3.0",
    )


def test_bars_on_a_categorical_axis_are_judged_by_category():
    def bars(names, heights, horizontal=False):
        fig, ax = plt.subplots()
        (ax.barh if horizontal else ax.bar)(names, heights)
        return plain(fig)

    cats = [f"class {i}" for i in range(30)]
    ref = bars(cats, range(30))
    assert ref["axes"][0]["bars"][0]["x"] == cats
    assert checks(DEFAULT, bars(cats, range(30)), ref)["bars"] == (True, "")
    renamed = ["dog" if c == "class 3" else c for c in cats]
    assert checks(DEFAULT, bars(renamed, range(30)), ref)["bars"] == (
        False,
        "the axes, bar group 1: x 1 of 30 values differ (rtol=1e-05, atol=1e-08); first at "
        "point 3: expected 'class 3', got 'dog'",
    )
    sideways = bars(["a", "b"], [1, 4], horizontal=True)
    assert sideways["axes"][0]["bars"][0] == {
        "label": "", "x": ["a", "b"], "width": [0.8, 0.8], "height": [1.0, 4.0]
    }  # fmt: skip


def test_more_or_fewer_axes():
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        ax.plot([1, 2, 3])
    ref = plain(fig)
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    result = checks(DEFAULT, plain(fig), ref)
    assert result["axes"] == (False, "1 axes, expected 2")
    assert result["lines"] == (False, "axes 2 is missing")


@pytest.mark.parametrize(
    "got,message",
    [
        (None, "expected a matplotlib Figure (or Axes), got nothing"),
        ([1, 2], "expected a matplotlib Figure (or Axes), got a list of 2"),
        ({"matplotlib": "Figure", "axes": [{}]}, "expected a matplotlib Figure (or Axes), got data that is not one"),
        ({**REFERENCE, "axes": [{**REFERENCE["axes"][0], "lines": [{"label": 1, "x": [], "y": []}]}]},
         "expected a matplotlib Figure (or Axes), got data that is not one"),
    ],
)  # fmt: skip
def test_forged_or_wrong_data_fails_every_check(got, message):
    result = checks(DEFAULT, got)
    assert len(result) == 8 and all(not ok and m == message for ok, m in result.values())


def test_a_reference_that_is_not_a_figure_is_a_course_error():
    with pytest.raises(CompareError, match="the reference value is not a figure"):
        compare_figures(DEFAULT, [1, 2], REFERENCE)


def test_the_report_shows_both_pngs_and_drops_what_is_not_a_png():
    from grader.report.html import NOT_DRAWN, _check_view

    (axes, *_) = compare_figures(DEFAULT, REFERENCE, plain(losses(title="other")))
    view = _check_view(axes)
    (figure,) = view.figures
    assert [alt for alt, _ in figure.pngs] == ["your figure", "the reference's"]
    forged = {**plain(losses()), "png": base64.b64encode(b"<script>alert(1)</script>").decode()}
    (axes, *_) = compare_figures(DEFAULT, REFERENCE, forged)
    assert set(axes.details["figures"]) == {"reference"}
    (axes, *_) = compare_figures(DEFAULT, REFERENCE, {**forged, "png": 'not base64 " <'})
    assert set(axes.details["figures"]) == {"reference"}
    from grader.results import CheckResult

    stored = CheckResult("axes", True, details={"figures": {"student": '" onerror="alert(1)'}})
    (note,) = _check_view(stored).figures  # a stored result is shown only as base64
    assert (note.pngs, note.note) == ((), NOT_DRAWN)


# --- YAML, the hand-out, a real kernel ------------------------------------------------------

COURSE = "name: Plots\nassignments:\n  - id: p1\n    title: P\n    exercises: [p-loss]\n"
TOPIC = """\
topic: p
title: Plots
setup: |
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  history = [2.0, 1.2, 0.8, 0.5]
exercises:
  - id: p-loss
    title: The loss curve
    points: 3
    prompt: Plot `history` against the epoch, titled "Loss", with a log y scale.
    starter: fig = ...
    answer:
      kind: figure
      name: fig
      compare: [lines, title, scales]
"""
SOLUTION = """\
# %% p-loss
fig, ax = plt.subplots()
ax.plot(range(len(history)), history)
ax.set_title("Loss")
ax.set_yscale("log")
"""


@pytest.fixture
def course(write_course, tmp_path):
    return load_course(
        write_course(tmp_path, course=COURSE, exercises={"p": TOPIC}, solutions={"p": SOLUTION})
    )


def test_the_yaml_options(course, write_course, tmp_path):
    assert dict(course.exercises["p-loss"].answer.options) == {
        "compare": ("lines", "title", "scales"), "match": "normalised", "patterns": {},
        "rtol": 1e-5, "atol": 1e-8,
    }  # fmt: skip
    topic = TOPIC.replace("compare: [lines, title, scales]", "compare: [lines, colours]")
    path = write_course(
        tmp_path / "bad", course=COURSE, exercises={"p": topic}, solutions={"p": SOLUTION}
    )
    with pytest.raises(
        SpecError,
        match=r"p\.yaml:\d+: p-loss\.answer\.compare: expected a list of parts among: lines, bars",
    ):
        load_course(path)
    for options, message in [
        ("match: regex", "p-loss.answer.patterns: match: regex needs patterns"),
        (
            "patterns: {title: Loss}",
            "p-loss.answer.patterns: patterns are read with match: regex only",
        ),
        (
            "match: regex\n      patterns: {colour: red}",
            "'colour' is not one of: title, xlabel, ylabel",
        ),
        (
            "match: regex\n      patterns: {title: 'Loss(('}",
            "the pattern of title is not a regular expression",
        ),
    ]:
        topic = TOPIC.replace("compare: [lines, title, scales]", options)
        path = write_course(
            tmp_path / str(len(options)),
            course=COURSE,
            exercises={"p": topic},
            solutions={"p": SOLUTION},
        )
        with pytest.raises(SpecError, match=re.escape(message)):
            load_course(path)
    topic = TOPIC.replace(
        "compare: [lines, title, scales]", "match: regex\n      patterns: {title: 'Lo.*'}"
    )
    path = write_course(
        tmp_path / "regex", course=COURSE, exercises={"p": topic}, solutions={"p": SOLUTION}
    )
    assert load_course(path).exercises["p-loss"].answer["patterns"] == {"title": "Lo.*"}


def test_the_hand_out_checks_a_figure_and_its_axes(course):
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2, 3], [2.0, 1.2, 0.8, 0.5])
    ax.set_title("Loss")
    ax.set_yscale("log")
    key = AnswerKey("p1", course.fingerprint, {"p-loss": plain(fig)})
    data = handout_data(course, "p1", key)
    (spec,) = data["exercises"]
    assert spec["public"] == {"axes": 1} and "png" not in json.dumps(data)
    two = plt.subplots(1, 2)[0]
    for value, line in [
        (fig, "p-loss: a figure, 1 axis: OK; right answer: checked at grading"),
        (ax, "p-loss: a figure, 1 axis: OK"),
        (two, "p-loss: 1 axis were expected, the figure has 2"),
        ([1, 2], "p-loss: a matplotlib Figure or Axes was expected, you gave a list of 2"),
    ]:
        said, _ = describe(spec, {"fig": value})
        assert said.startswith(line), said
        ex, record = course.exercises["p-loss"], ExportRecord({"ok": True, "value": plain(value)})
        here = judge_export(ex, record, PublicExpectations(data))
        there = judge_export(ex, record, KeyExpectations(course, key))
        assert here.status == "pending" or (here.score, here.status) == (there.score, there.status)
        if any(not c.passed for c in here.checks):
            assert there.score < ex.points


@pytest.mark.kernel
def test_build_and_grade_a_course_with_a_figure_answer(course, tmp_path):
    from grader.build import build
    from grader.options import GradeOptions
    from grader.pipeline import grade
    from grader.report import render_html

    release = tmp_path / "release"
    options = GradeOptions(sandbox="optional", release=release)
    build(course, release, options)  # its self-check: the solution full marks, the starter 0
    answer = (
        "fig = plt.figure()\nplt.plot([0, 1, 2, 3], history)\nplt.title('loss')\n"
        "fig = plt.gca()  # an Axes will do"
    )
    student = with_answers(
        release / "student" / "p1.ipynb", {"p-loss": answer}, tmp_path / "mine.ipynb"
    )
    result = grade(student, course, options=options)
    (ex,) = result.exercises
    by_name = {c.name: c for c in ex.checks}
    assert {n: c.passed for n, c in by_name.items()} == {
        "axes": True, "lines": True, "title": True, "scales": False
    }  # fmt: skip
    assert by_name["scales"].message == "the axes: the y scale is 'linear', expected 'log'"
    page = render_html(result)
    assert len(re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="', page)) == 2


def test_the_kernel_side_imports_neither_pandas_nor_matplotlib_for_other_answers():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from grader.inkernel.exporter import to_plain\n"
        "import grader.inkernel.public, grader.inkernel.figures, grader.inkernel.frames\n"
        "assert to_plain({'a': [1, 2.5]}) == {'a': [1, 2.5]}\n"
        "print(sorted(m for m in ('pandas', 'matplotlib', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
