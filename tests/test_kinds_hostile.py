"""The hostile corpus of the choice, dataframe, series, figure and manual kinds.

Whole classes of attack, each on every kind it applies to: objects that lie (``__array__``,
``__eq__``, ``__len__``, ``__iter__``, subclasses with overridden accessors, ``__class__``
spoofing), objects that raise on access or on export, recursive structures, huge objects
(bounded time and memory, a clear message), answers of the wrong type or outside the
options, answers that are never pickled; then what the hand-out states (never the reference),
hostile text in the report and the review page, and a manual answer that tries to set its own
score. The kernel side runs here in this process (the same code runs in the kernel); one
notebook of hostile answers to a small course of these kinds is then graded in a real kernel.
"""

from __future__ import annotations

import base64
import copy
import gc
import io
import json
import pickle
import time
from contextlib import contextmanager
from html.parser import HTMLParser

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from pandas.api.extensions import ExtensionArray, ExtensionDtype
from test_figure_kind import _close_figures, plain  # noqa: F401 (an autouse fixture)

import grader.inkernel.exporter as exporter
import grader.inkernel.figures as figures
from grader.handout_release import handout_data
from grader.inkernel.plain import ExportError, to_plain
from grader.inkernel.public import describe
from grader.judge.choice import compare_choice
from grader.judge.figures import compare_figures
from grader.judge.frames import compare_frames
from grader.key import AnswerKey
from grader.kinds import KINDS, export_spec
from grader.spec import Answer, load_course

# Seconds a refusal of a huge answer may take here: the work is bounded before it starts
# (unbounded, these took 5 s to minutes); loose, for a loaded machine.
FAST = 1.0


@contextmanager
def quickly():
    """The block takes less than FAST seconds of its own: no collection of the garbage of
    earlier answers runs in it (collecting it all before each block took 0.4 s a test)."""
    gc.disable()
    started = time.monotonic()
    try:
        yield
    finally:
        gc.enable()
    assert time.monotonic() - started < FAST


def refused(value, message):
    """The export refuses ``value`` with ``message``, quickly, as an ExportError."""
    with quickly(), pytest.raises(ExportError, match=message):
        to_plain(value)


FRAME = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
SERIES = pd.Series([1.5, 2.5], name="v")


def figure(y=(1.0, 2.0), title="t"):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], list(y))
    ax.set_title(title)
    return fig


# --- lies: what an object claims is never what is exported ------------------------------------


class LyingFrame(pd.DataFrame):
    """Claims other values by every accessor a converter could call."""

    @property
    def _constructor(self):
        return LyingFrame

    def __array__(self, *a, **k):
        return np.array([[9, "z"], [9, "z"]], dtype=object)

    def __eq__(self, other):
        return True

    __hash__ = None

    def __len__(self):
        return 7

    def __iter__(self):
        return iter(["p", "q"])

    def to_dict(self, *a, **k):
        return {"x": {0: 9}}

    def to_numpy(self, *a, **k):
        return self.__array__()

    @property
    def values(self):
        return self.__array__()

    @property
    def dtypes(self):
        return pd.Series(["float64", "float64"])

    def __getitem__(self, key):
        return pd.Series([9, 9])


class LyingSeries(pd.Series):
    @property
    def _constructor(self):
        return LyingSeries

    def __array__(self, *a, **k):
        return np.array([9.0, 9.0])

    def tolist(self):
        return [9.0, 9.0]

    def __iter__(self):
        return iter([9.0, 9.0])

    def __len__(self):
        return 5

    def __eq__(self, other):
        return True

    __hash__ = None


class LyingAxes(Axes):
    def get_lines(self):
        return []

    def get_title(self, *a, **k):
        return "claimed"

    def __array__(self, *a, **k):
        return np.zeros(2)


class LyingStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__

    def casefold(self):
        return "paris"

    def __str__(self):
        return "Paris"


class LyingList(list):
    def __iter__(self):
        return iter(["Paris"])

    def __len__(self):
        return 1

    def __getitem__(self, i):
        return "Paris"


def _spoof(cls):
    class Spoof:
        @property
        def __class__(self):
            return cls

        def __eq__(self, other):
            return True

        def __array__(self, *a, **k):
            return np.zeros(2)

    return Spoof()


def _axes_that_lie():
    fig = Figure(figsize=(2, 2))
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8), axes_class=LyingAxes)
    ax.plot([0, 1], [5.0, 6.0])
    ax.set_title("held")
    return fig


@pytest.mark.parametrize(
    "make,exported",
    [
        (lambda: LyingFrame(FRAME), plain(FRAME)),
        (lambda: LyingSeries(SERIES), plain(SERIES)),
        (lambda: LyingList(["Rome", "Oslo"]), ["Rome", "Oslo"]),  # a choice: multiple
        (lambda: (LyingList(["Rome"]),), [["Rome"]]),
    ],
    ids=["dataframe", "series", "choice list", "nested"],
)
def test_an_object_that_lies_is_exported_as_what_it_holds(make, exported):
    assert plain(make()) == exported


def test_a_figure_whose_axes_lie_is_exported_as_what_they_hold():
    (ax,) = plain(_axes_that_lie())["axes"]
    assert ax["title"] == "held" and [line["y"] for line in ax["lines"]] == [[5.0, 6.0]]


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: LyingStr("Rome"), "cannot export a value of type LyingStr"),
        (lambda: _spoof(str), "cannot export a value of type Spoof"),
        (lambda: _spoof(list), "cannot export a value of type Spoof"),
        (lambda: _spoof(int), "cannot export a value of type Spoof"),
        (lambda: _spoof(pd.DataFrame), "cannot export a value of type Spoof"),
        (lambda: _spoof(pd.Series), "cannot export a value of type Spoof"),
        (lambda: _spoof(Figure), "cannot export a value of type Spoof"),
        (lambda: _spoof(Axes), "cannot export a value of type Spoof"),
        (lambda: {"k": _spoof(float)}, "cannot export a value of type Spoof"),
        (lambda: pd.Series([_spoof(int)], dtype=object), "a cell or label holds a value of type"),
        (lambda: pd.DataFrame({"x": [_spoof(str)]}), "a cell or label holds a value of type"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_class_spoofed_or_a_str_that_lies_is_refused_by_its_real_type(make, message):
    refused(make(), message)


class Claims:
    """Claims to be a numpy scalar; its ``item`` gives itself back."""

    __module__ = "numpy"

    def item(self):
        return self

    def tolist(self):
        return self


class TextDtype(ExtensionDtype):
    """An extension dtype that names itself int64 and holds text."""

    name = "int64"
    type = str

    @classmethod
    def construct_array_type(cls):
        return TextArray


class TextArray(ExtensionArray):
    def __init__(self, values):
        self.values = np.asarray(values, dtype=object)

    @classmethod
    def _from_sequence(cls, scalars, dtype=None, copy=False):
        return cls(scalars)

    dtype = TextDtype()

    def __getitem__(self, i):
        return self.values[i] if np.isscalar(i) else TextArray(self.values[i])

    def __len__(self):
        return len(self.values)

    def isna(self):
        return np.zeros(len(self.values), dtype=bool)

    def copy(self):
        return TextArray(self.values.copy())

    def take(self, indices, allow_fill=False, fill_value=None):
        return TextArray(self.values.take(indices))


class ForgedModule(TextDtype):
    __module__ = "pandas"

    @classmethod
    def construct_array_type(cls):
        return ForgedArray


class ForgedArray(TextArray):
    dtype = ForgedModule()

    def copy(self):
        return ForgedArray(self.values.copy())


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: pd.Series([Claims()], dtype=object), "a cell or label holds a value of type"),
        (lambda: pd.Series(TextArray(["a", "b"])), "a dtype of type TextDtype"),
        (lambda: pd.DataFrame({"n": TextArray(["a", "b"])}), "a dtype of type TextDtype"),
        (lambda: pd.Series([1], index=pd.Index(TextArray(["a"]))), "a dtype of type TextDtype"),
    ],
    ids=["numpy claim", "series dtype", "column dtype", "index dtype"],
)
def test_a_claim_to_be_numpy_s_or_pandas_is_refused(make, message):
    refused(make(), message)


def test_a_dtype_class_that_claims_pandas_as_its_module_is_refused():
    refused(pd.Series(ForgedArray(["a"])), r"ForgedModule \(from pandas\)")


# --- raising on access or on export, recursion ---------------------------------------------


class Raises:
    def __getattribute__(self, name):
        raise RuntimeError("no")

    def __repr__(self):
        raise RuntimeError("no")


class RaisesLater:
    """A label pandas can hold (it hashes) that raises on anything else."""

    def __getattr__(self, name):
        raise RuntimeError("no")

    def __repr__(self):
        raise RuntimeError("no")

    __str__ = __bool__ = __len__ = __repr__

    def __eq__(self, other):
        raise RuntimeError("no")

    __hash__ = object.__hash__


class RaisingFrame(pd.DataFrame):
    @property
    def _constructor(self):
        return RaisingFrame

    def __getattr__(self, name):
        raise RuntimeError(f"no {name}")

    def __reduce_ex__(self, protocol):
        raise RuntimeError("never pickled")

    def __repr__(self):
        raise RuntimeError("no")


def _raise(self, *a, **k):
    raise RuntimeError("no")


class RaisingEverywhere(RaisingFrame):
    """Every accessor a converter could call raises (given its class once built: pandas
    itself would call them while building it)."""

    values = shape = dtypes = index = columns = T = iloc = loc = property(_raise)
    __array__ = __iter__ = __len__ = __getitem__ = to_dict = to_numpy = _raise


def _raising_frame():
    frame = FRAME.copy()
    frame.__class__ = RaisingEverywhere
    return frame


class RaisingFigure(Figure):
    def __reduce__(self):
        raise RuntimeError("never pickled")

    def get_axes(self):
        raise RuntimeError("no")

    def savefig(self, *a, **k):
        raise RuntimeError("no")


class RaisingArtist(matplotlib.artist.Artist):
    def draw(self, renderer):
        raise RuntimeError("cannot draw")


def _unrenderable():
    fig = Figure(figsize=(2, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [2.0, 3.0])
    ax.add_artist(RaisingArtist())
    fig.__class__ = RaisingFigure  # once built: its own get_axes would break matplotlib
    return fig


def test_objects_that_raise_on_access_are_read_through_their_base_class():
    assert plain(RaisingFrame(FRAME)) == plain(_raising_frame()) == plain(FRAME)
    data = plain(_unrenderable())  # data read; the drawing raised: no picture, no error
    assert data["axes"][0]["lines"][0]["y"] == [2.0, 3.0] and data["png"] is None


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: pd.Series([Raises()], dtype=object), "a cell or label holds a value of type"),
        (lambda: pd.DataFrame({RaisesLater(): [1]}), "a cell or label holds a value of type"),
        (lambda: pd.Series([1], name=Raises()), "a cell or label holds a value of type"),
    ],
    ids=["cell", "label", "name"],
)
def test_a_cell_or_label_that_raises_on_access_is_refused(make, message):
    refused(make(), message)


def _recursive_list():
    out = ["Paris"]
    out.append(out)
    return out


def _frame_in_itself():
    frame = pd.DataFrame({"x": [0]}, dtype=object)
    frame.iat[0, 0] = frame
    return frame


@pytest.mark.parametrize(
    "make,message",
    [
        (_recursive_list, "nested too deeply"),
        (_frame_in_itself, "a cell or label holds a value of type DataFrame"),
    ],
    ids=["choice list", "frame"],
)
def test_a_recursive_answer_is_refused(make, message):
    refused(make(), message)


@pytest.mark.parametrize(
    "value",
    [RaisingFrame(FRAME), pd.Series([1.0], name="v"), "Paris", ["Rome", "Oslo"]],
    ids=["dataframe", "series", "choice", "choices"],
)
def test_an_answer_is_exported_as_plain_json_never_pickled(value, tmp_path, monkeypatch):
    def no_pickle(*a, **k):
        raise AssertionError("pickled")

    monkeypatch.setattr(pickle, "dumps", no_pickle)
    monkeypatch.setattr(pickle, "dump", no_pickle)
    monkeypatch.setattr(copy, "deepcopy", no_pickle)
    exporter.export(str(tmp_path), "e", {"name": "v", "recipe": "value"}, {"v": value}, "n")
    assert [p.name for p in tmp_path.iterdir()] == ["e.json"]
    written = json.loads((tmp_path / "e.json").read_text())
    assert written["ok"] and written["value"] == json.loads(json.dumps(to_plain(value)))


def test_a_figure_that_refuses_pickling_is_exported(tmp_path):
    fig = _unrenderable()
    exporter.export(str(tmp_path), "g", {"name": "g", "recipe": "value"}, {"g": fig}, "n")
    assert json.loads((tmp_path / "g.json").read_text())["ok"]


def test_every_new_kind_goes_the_plain_data_path():
    for kind in ("choice", "dataframe", "series", "figure"):
        assert KINDS[kind].recipe == "value"
        assert export_spec(kind, "v", {o.name: o.default for o in KINDS[kind].options}) == {
            "name": "v",
            "recipe": "value",
        }
    assert KINDS["manual"].recipe == "manual"  # never run, never exported


# --- huge: refused or bounded before the work, with a clear message -----------------------------


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: pd.DataFrame(np.zeros((0, 1_000_000))), "more than 200,000 cells and labels"),
        (lambda: pd.DataFrame({"a": np.zeros(1_000_000)}), "more than 200,000 cells and labels"),
        (lambda: pd.Series(np.zeros(10_000_000)), "more than 200,000 cells and labels"),
        (lambda: pd.DataFrame({"x" * 3_000_000: [1]}), "texts have more than 2,000,000"),
        (lambda: pd.Series(["y" * 1_000_000] * 3), "texts have more than 2,000,000"),
    ],
    ids=["no rows, a million columns", "a million rows", "ten million", "label", "cells"],
)
def test_a_huge_frame_is_refused_before_it_is_read(make, message):
    refused(make(), message)


def _longer_block(frame):
    """A frame (or series) whose block's values are replaced by many more than its index."""

    def make():
        out = frame.copy()
        block = out._mgr.blocks[0]
        block.values = np.zeros((*block.values.shape[:-1], 5_000_000))
        return out

    return make


@pytest.mark.parametrize("kind", ["dataframe", "series"])
def test_a_block_longer_than_its_index_is_refused(kind):
    make = _longer_block(pd.DataFrame({"x": [1.0, 2.0]}) if kind == "dataframe" else SERIES)
    refused(make(), "a block holds 5000000 rows, its index 2")


def _scatter():
    fig, ax = plt.subplots()
    ax.scatter(np.zeros(1_000_000), np.zeros(1_000_000))
    return fig


def _empty_lines():
    fig, ax = plt.subplots()
    line = ax.plot([], [])[0]
    ax._children.extend([line] * 300_000)
    return fig


def _long_legend():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="l" * 1000)
    legend = ax.legend()
    legend.texts.extend(legend.texts * 3000)  # 3000 texts of 1000 characters
    return fig


def _categories():
    fig, ax = plt.subplots()
    ax.bar(["a"], [1])
    ax.xaxis.units._mapping.update((str(i), i) for i in range(300_000))
    return fig


def _bars():
    fig, ax = plt.subplots()
    bars = ax.bar([0], [1])
    ax.containers[0] = type(bars)(list(bars) * 1_000_000)
    return fig


def _many_axes():
    fig = plt.figure()
    for _ in range(51):
        fig.add_axes((0, 0, 1, 1))
    return fig


@pytest.mark.parametrize(
    "make,message",
    [
        (_scatter, "more than 200,000 values"),
        (_empty_lines, "more than 200,000 values"),
        (_many_axes, "the figure has 51 axes: at most 50"),
        (_long_legend, "texts have more than 2,000,000 characters"),
        (_categories, "more than 200,000 values"),
        (_bars, "more than 200,000 values"),
    ],
    ids=["1M points", "300000 empty lines", "51 axes", "legend", "categories", "bars"],
)
def test_a_huge_figure_is_refused_before_it_is_read(make, message):
    refused(make(), message)


def _segments():
    fig = figure()
    segments = LineCollection([[(0, 0), (1, 1)]])
    segments._paths = segments._paths * 250_000  # drawn in one call no time limit stops
    fig.axes[0].add_collection(segments, autolim=False)
    return fig


def _long_title():
    return figure(title="W" * 5_000_000)


def _canvas(inches):
    def make():
        fig = figure()
        fig.set_size_inches(inches, inches)  # 900: 64800 x 64800 pixels at 72 dpi
        return fig

    return make


def test_a_png_too_large_is_drawn_smaller_within_its_cap():
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(np.random.default_rng(0).random((400, 400)))  # noise: PNG does not compress it
    ax.plot([0, 1], [1.0, 2.0])
    data = plain(fig)
    png = base64.b64decode(data["png"])
    assert png.startswith(b"\x89PNG") and len(png) <= figures.MAX_PNG


@pytest.mark.parametrize(
    "make,png",
    [(_segments, False), (_long_title, False), (_canvas(900), False), (_canvas(100), True)],
    ids=["250000 segments", "a title of 5M characters", "900 inches", "100 inches"],
)
def test_a_figure_too_big_to_draw_is_judged_by_its_data_without_a_picture(make, png):
    fig = make()
    with quickly():
        data = plain(fig)
    (ax,) = data["axes"]
    assert ax["lines"][0]["y"] == [1.0, 2.0] and len(ax["title"]) <= figures.MAX_TEXT
    assert (data["png"] is not None) == png


def test_a_figure_slow_to_draw_is_drawn_within_its_limit_or_not_at_all(monkeypatch):
    class Slow(matplotlib.artist.Artist):
        def draw(self, renderer):
            try:
                time.sleep(10)
            except BaseException:  # the first interruption swallowed: the next one lands
                time.sleep(10)

    monkeypatch.setattr(figures, "DRAW_SECONDS", 0.1)
    fig = figure()
    fig.axes[0].add_artist(Slow())
    started = time.monotonic()
    data = plain(fig)
    assert time.monotonic() - started < FAST and data["png"] is None
    assert data["axes"][0]["lines"][0]["y"] == [1.0, 2.0]


# --- in the grader: forged payloads, wrong types, options ------------------------------------

CHOICE = Answer.of("choice", "c", options=["Paris", "Rome", "<b>Oslo</b>"])
CHOICES = Answer.of("choice", "c", options=["Paris", "Rome", "<b>Oslo</b>"], multiple=True)


@pytest.mark.parametrize(
    "answer,got,message",
    [
        (CHOICE, "<script>alert(1)</script>", "'<script>alert(1)</script>' is not one of the"),
        (CHOICE, "Pa ris", "'Pa ris' is not one of the options"),
        (CHOICE, ["Paris"], "expected one option's text (a str), got a list of 1"),
        (CHOICE, 3, "expected one option's text (a str), got a int"),
        (CHOICE, None, "expected one option's text (a str), got nothing"),
        (CHOICE, {"Paris": True}, "expected one option's text (a str), got a dict"),
        (CHOICE, "x" * 10**6, "'" + "x" * 80 + "…' is not one of the options"),
        (CHOICES, "Paris", "expected a list of the options' texts, got a str"),
        (CHOICES, ["Paris", 1], "expected a list of the options' texts, got a list of 2"),
        (CHOICES, ["Paris", "Lima"], "'Lima' is not one of the options"),
        (CHOICES, ["Paris", ["Paris"]], "expected a list of the options' texts"),
    ],
)
def test_a_choice_outside_the_options_or_of_the_wrong_type_scores_nothing(answer, got, message):
    (check,) = compare_choice(answer, "Paris" if answer is CHOICE else ["Paris"], got)
    assert not check.passed and check.message.startswith(message), check.message


FORGED = [
    {"pandas": "DataFrame", "shape": [1, 1], "index": [], "columns": {}, "data": "x"},
    {"pandas": "DataFrame", "index": {"names": [None], "dtype": "int64", "labels": [0]},
     "columns": {"names": [None], "dtype": "str", "labels": ["x"]}, "dtypes": ["int64"],
     "data": [[{"__class__": "int"}]]},
    {"pandas": "DataFrame", "index": {"names": [None], "dtype": "int64", "labels": [0, 1]},
     "columns": {"names": [None], "dtype": "str", "labels": ["x"]}, "dtypes": ["int64"],
     "data": [[1]]},  # fewer cells than rows
    {"matplotlib": "Figure", "axes": [{"title": ["t"]}]},
    {"matplotlib": "Figure", "axes": "all"},
]  # fmt: skip


@pytest.mark.parametrize("got", FORGED)
def test_a_forged_payload_fails_every_check_without_an_error(got):
    if "pandas" in got:
        checks = compare_frames(Answer.of("dataframe", "d"), plain(FRAME), got, "DataFrame")
    else:
        checks = compare_figures(Answer.of("figure", "g"), plain(figure()), got)
    assert checks and not any(c.passed for c in checks)


def test_huge_frames_are_compared_in_linear_time():
    def payload(n):  # what a patched exporter may send: past the kernel's caps
        index = {"names": [None], "dtype": "int64", "labels": list(range(n))}
        return {"pandas": "Series", "index": index, "name": None, "dtype": "int64",
                "data": list(range(n))}  # fmt: skip

    n = 60_000
    big, other = payload(n), payload(n - 1)
    started = time.monotonic()
    checks = compare_frames(Answer.of("series", "s"), big, other, "Series")
    assert time.monotonic() - started < 1.0
    index = next(c for c in checks if c.name == "index")
    assert index.message.startswith(f"{n - 1} rows, expected {n}; missing {n - 1}")


# --- the hand-out: its public checks never state the reference --------------------------------

COURSE = (
    "name: Hostile kinds\nlimits:\n  cell_timeout: 20\nassignments:\n  - id: k1\n    title: K\n"
    "    exercises: [c-one, c-many, c-type, c-lie, f-lie, f-html, f-huge, s-raise, g-lie, g-huge,"
    " m-own, m-code]\n"
)
TOPIC = """\
topic: k
title: Hostile kinds
setup: |
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  import numpy as np
  import pandas as pd
  prices = pd.DataFrame({"item": ["tea", "jam"], "price": [2.5, 4.0]})
exercises:
  - id: c-one
    title: One
    points: 1
    prompt: The capital.
    starter: capital = ...
    answer: {kind: choice, name: capital, options: [Paris, Rome, "<b>Oslo</b>"]}
  - id: c-many
    title: Many
    points: 1
    prompt: The capitals.
    starter: capitals = ...
    answer: {kind: choice, name: capitals, options: [Paris, Rome, Lima], multiple: true}
  - id: c-type
    title: Type
    points: 1
    prompt: True or false.
    starter: tf = ...
    answer: {kind: choice, name: tf, options: ["True", "False"]}
  - id: c-lie
    title: Lie
    points: 1
    prompt: The capital again.
    starter: again = ...
    answer: {kind: choice, name: again, options: [Paris, Rome]}
  - id: f-lie
    title: Frame lie
    points: 2
    prompt: Prices doubled.
    starter: doubled = ...
    answer: {kind: dataframe, name: doubled}
  - id: f-html
    title: Frame text
    points: 2
    prompt: The prices.
    starter: table = ...
    answer: {kind: dataframe, name: table}
    public: {shape: false}
  - id: f-huge
    title: Frame huge
    points: 2
    prompt: The prices again.
    starter: again_table = ...
    answer: {kind: dataframe, name: again_table}
  - id: s-raise
    title: Series
    points: 2
    prompt: The price column.
    starter: price = ...
    answer: {kind: series, name: price}
  - id: g-lie
    title: Figure lie
    points: 3
    prompt: Plot the prices, titled Prices.
    starter: fig = ...
    answer: {kind: figure, name: fig, compare: [lines, title]}
  - id: g-huge
    title: Figure huge
    points: 3
    prompt: Plot the prices again, titled Prices.
    starter: fig2 = ...
    answer: {kind: figure, name: fig2, compare: [lines, title]}
  - id: m-own
    title: Explain
    points: 2
    prompt: Explain.
    starter: YOUR ANSWER HERE
    answer:
      kind: manual
      name: explain
      rubric: [{item: "Explains", points: 2, comment: "s3cr3t-rubric"}]
  - id: m-code
    title: Code read by a person
    points: 1
    prompt: Write code that uses it.
    starter: "# your code"
    answer:
      kind: manual
      name: use
      cell: code
      rubric: [{item: "Uses it", points: 1}]
"""
SOLUTION = """\
# %% c-one
capital = "Paris"

# %% c-many
capitals = ["Paris", "Lima"]

# %% c-type
tf = "True"

# %% c-lie
again = "Paris"

# %% f-lie
doubled = prices.assign(price=prices["price"] * 2)

# %% f-html
table = prices

# %% f-huge
again_table = prices

# %% s-raise
price = prices["price"]

# %% g-lie
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], prices["price"].tolist())
ax.set_title("Prices")

# %% g-huge
fig2, ax2 = plt.subplots(figsize=(2, 2))
ax2.plot([0, 1], prices["price"].tolist())
ax2.set_title("Prices")

# %% m-own
# It is the mean.

# %% m-code
print(1)
"""


@pytest.fixture
def course(write_course, tmp_path):
    return load_course(
        write_course(tmp_path, course=COURSE, exercises={"k": TOPIC}, solutions={"k": SOLUTION})
    )


NEEDLES = {  # values only the reference holds
    "frame": 987654.25,
    "cell": "s3cr3t-cell",
    "label": "s3cr3t-row",
    "y": 123456.75,
    "title": "s3cr3t-title",
}


OTHERS = {"frame": 1.5, "cell": "other", "label": "row", "y": 7.0, "title": "other"}


def _key(course, capital="Paris", capitals=("Paris", "Lima"), needles=NEEDLES):
    frame = pd.DataFrame(
        {"item": [needles["cell"], "jam"], "price": [needles["frame"], 4.0]},
        index=[needles["label"], "b"],
    )
    fig = figure(y=(needles["y"], 2.0), title=needles["title"])
    values = {
        "c-one": capital, "c-many": list(capitals), "c-type": "True", "c-lie": "Paris",
        "f-lie": plain(frame), "f-html": plain(frame), "f-huge": plain(frame),
        "s-raise": plain(frame["price"]), "g-lie": plain(fig), "g-huge": plain(fig),
    }  # fmt: skip
    return AnswerKey("k1", course.fingerprint, values, seed=4242424242)


def test_the_hand_out_states_no_reference_value_of_any_new_kind(course):
    data = handout_data(course, "k1", _key(course))
    shown = json.dumps(data)
    for needle in [*map(str, NEEDLES.values()), "s3cr3t-rubric", "4242424242", "iVBOR"]:
        assert needle not in shown, needle
    public = {e["id"]: e["public"] for e in data["exercises"]}
    assert public["f-lie"]["columns"] == ["item", "price"] and "columns" not in public["f-html"]
    assert public["s-raise"]["rows"] == 2 and public["g-lie"]["axes"] == 1
    assert public["c-one"] == {"options": ["Paris", "Rome", "<b>Oslo</b>"], "multiple": False}
    # the hand-out is the same whichever option is right and whatever the reference holds
    # beyond what may be stated (a frame's columns, a series' length, a figure's axes)
    assert handout_data(course, "k1", _key(course, "Rome", ("Rome",), OTHERS)) == data


HOSTILE_VALUES = [
    ("c-one", lambda: LyingStr("Paris"), "cannot export a value of type LyingStr"),
    ("c-one", lambda: _spoof(str), "cannot export a value of type Spoof"),
    ("c-one", lambda: "<b>Oslo</b> " * 100_000, "is not one of the options"),
    ("c-many", _recursive_list, "nested too deeply"),
    ("c-many", lambda: LyingList(["Rome", "Lima"]), "a list of options: OK"),
    ("f-lie", lambda: LyingFrame(FRAME), "were expected, you gave ['x', 'y']"),
    ("f-lie", lambda: pd.DataFrame(np.zeros((0, 1_000_000))), "more than 200,000 cells"),
    ("f-lie", lambda: _spoof(pd.DataFrame), "cannot export a value of type Spoof"),
    ("s-raise", lambda: LyingSeries(SERIES), "2 values: OK"),
    ("g-lie", _axes_that_lie, "a figure, 1 axis: OK"),
    ("g-lie", _many_axes, "the figure has 51 axes"),
]


@pytest.mark.parametrize("eid,make,said", HOSTILE_VALUES)
def test_the_hand_out_s_check_reads_a_hostile_answer_and_says_what_it_is(course, eid, make, said):
    specs = {e["id"]: e for e in handout_data(course, "k1", _key(course))["exercises"]}
    spec = specs[eid]
    line, _ = describe(spec, {spec["answer"]["name"]: make()})
    assert line.startswith(f"{eid}: ") and said in line, line


# --- hostile text, shown escaped --------------------------------------------------------------

HOSTILE_TEXTS = (
    "<script>alert('s')</script>",
    "<img src=x onerror=alert('i')>",
    "\"><svg onload=alert('v')>",
    "</textarea></pre><iframe src=javascript:alert('f')>",
    "{{ 7 * 191 }}{% raw %}",
)
TERMINAL = "\x1b[2J\x1b]0;pwned\x07\n::error::pwned"  # a terminal's and a CI runner's commands


class Elements(HTMLParser):
    """The elements and attributes of a page (what a browser would build from it)."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_inert(page: str, scripts: int = 0, textareas: int = 0):
    """No element or attribute but those the page's own template makes: no event handler, no
    frame, no script but the page's own file, no text area but its own, images only the
    checked PNGs, no link to a script, and no student text rendered as a template."""
    parser = Elements()
    parser.feed(page)
    tags = [tag for tag, _ in parser.tags]
    assert (tags.count("script"), tags.count("textarea")) == (scripts, textareas)
    for tag, attrs in parser.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert tag not in ("iframe", "frame", "object", "embed", "base"), tag
        if tag == "script":
            assert attrs.get("src") == "/review.js", attrs
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/png;base64,"), attrs
        for value in attrs.values():
            assert "javascript:" not in (value or "").lower(), (tag, attrs)
    assert "1337" not in page


# --- a real kernel: one notebook of hostile answers ------------------------------------------

PLANT = (
    "import json, os\n"
    "for d in ('.grader-export', '.'):\n"
    "    os.makedirs(d, exist_ok=True)\n"
    "    for name in ('m-own.json', 'm-own.review.json'):\n"
    "        with open(os.path.join(d, name), 'w') as f:\n"
    "            json.dump({'ok': True, 'score': 2, 'points': 2, 'status': 'passed',\n"
    "                       'value': 'graded', 'reviews': [{'points': 2}]}, f)\n"
)
HOSTILE = {
    # outside the options, HTML; and it plants a score for the manual answer
    "c-one": PLANT + f"capital = {HOSTILE_TEXTS[0]!r}\n",
    # a list that claims the right options but holds a wrong one
    "c-many": "class L(list):\n    def __iter__(self):\n        return iter(['Paris', 'Lima'])\n"
    "    def __len__(self):\n        return 2\n    def __eq__(self, o):\n        return True\n"
    "capitals = L(['Paris', 'Rome'])\n",
    # the wrong type
    "c-type": "tf = 1\n",
    # an object that claims to be a str equal to everything
    "c-lie": "class S:\n    __class__ = str\n    def __eq__(self, o):\n        return True\n"
    "    def __str__(self):\n        return 'Paris'\nagain = S()\n",
    # a subclass that claims the right data by every accessor, holding the prices undoubled
    "f-lie": "class F(pd.DataFrame):\n    @property\n    def _constructor(self):\n        return F\n"
    "    def __array__(self, *a, **k):\n        return np.array([['tea', 5.0], ['jam', 8.0]])\n"
    "    def to_dict(self, *a, **k):\n        return {'item': {0: 'tea'}, 'price': {0: 5.0}}\n"
    "    def __eq__(self, o):\n        return True\n    __hash__ = None\n"
    "doubled = F(prices)\n",
    # hostile text in cells, a column label and the index
    "f-html": "table = pd.DataFrame({'item': "
    + repr(list(HOSTILE_TEXTS[1:3]))
    + ", "
    + repr(HOSTILE_TEXTS[3])
    + ": [2.5, 4.0]}, index="
    + repr([HOSTILE_TEXTS[4], "<b>b</b>"])
    + ")\n",
    # no rows and a million columns, then a million rows: refused at once
    "f-huge": "again_table = pd.DataFrame(np.zeros((0, 1_000_000)))\n",
    # the right data, in a subclass that raises on every other access and on pickling
    "s-raise": "class R(pd.Series):\n    @property\n    def _constructor(self):\n        return R\n"
    "    def __getattr__(self, name):\n        if not name.startswith('_'):\n"
    "            raise RuntimeError(name)\n        return super().__getattr__(name)\n"
    "    def __array__(self, *a, **k):\n        raise RuntimeError('array')\n"
    "    def tolist(self):\n        raise RuntimeError('tolist')\n"
    "    def __iter__(self):\n        raise RuntimeError('iter')\n"
    "    def __reduce_ex__(self, p):\n        raise RuntimeError('pickle')\n"
    "    def __repr__(self):\n        raise RuntimeError('repr')\n"
    "price = R(prices['price'])\n",
    # axes that claim the reference's line and title, holding others; a hostile title
    "g-lie": "from matplotlib.axes import Axes\nclass A(Axes):\n"
    "    def get_title(self, *a, **k):\n        return 'Prices'\n"
    "    def get_lines(self):\n        return []\n"
    "fig = plt.figure(figsize=(2, 2))\nax = fig.add_axes((0.1, 0.1, 0.8, 0.8), axes_class=A)\n"
    "ax.plot([0, 1], [9.0, 9.0])\nax.set_title(" + repr(HOSTILE_TEXTS[2] + TERMINAL) + ")\n",
    # the right line and title, on a canvas of 900 x 900 inches, with 300000 segments
    "g-huge": "from matplotlib.collections import LineCollection\n"
    "fig2, ax2 = plt.subplots(figsize=(2, 2))\nax2.plot([0, 1], [2.5, 4.0])\n"
    "ax2.set_title('Prices')\nfig2.set_size_inches(900, 900)\n"
    "segments = LineCollection([[(0, 0), (1, 1)]])\nsegments._paths = segments._paths * 300_000\n"
    "ax2.add_collection(segments, autolim=False)\n",
    # never run: it would plant a score, then end the kernel
    "m-code": PLANT.replace("m-own", "m-code") + "import os\nos._exit(0)\n",
    "m-own": "\n".join(HOSTILE_TEXTS) + "\n[x](javascript:alert('l')) <javascript:alert('a')>\n",
}


def _claims_a_score(nb):
    """The manual answer's cell claims its score in its metadata, an output and attachments."""
    for cell in nb.cells:
        tag = cell.metadata.get("grader", {})
        if tag.get("id") == "m-own" and tag.get("role") == "answer":
            tag.update(score=2, points=2, status="passed", reviewed=True)
            cell.metadata["nbgrader"] = {"grade": True, "points": 2, "score": 2, "grade_id": "m"}
            cell["attachments"] = {"s.png": {"text/plain": "score: 2/2"}}
        if tag.get("id") == "m-code" and tag.get("role") == "answer":
            tag.update(score=1, status="passed")
            cell.cell_type, cell.execution_count = "code", 3
            cell.outputs = [
                {"output_type": "execute_result", "execution_count": 3, "metadata": {},
                 "data": {"text/plain": "score: 1/1 (reviewed)"}}
            ]  # fmt: skip


@pytest.mark.kernel
def test_a_notebook_of_hostile_answers_to_the_new_kinds_in_a_real_kernel(course, tmp_path):
    import nbformat
    from rich.console import Console
    from shipped import with_answers
    from test_reviews import submission

    from grader.build import build
    from grader.execute.records import Executed, StepOutcome
    from grader.gradebook import Gradebook, Graded
    from grader.handout import grade_with_handout
    from grader.options import GradeOptions
    from grader.pipeline import grade
    from grader.report import render_html
    from grader.report.formats import summary_text, terminal_table
    from grader.report.html import NOT_DRAWN
    from grader.review_app import create_app
    from grader.reviews import pseudonym_key, submission_token

    release = tmp_path / "release"
    options = GradeOptions(sandbox="optional", release=release)
    build(course, release, options)  # the self-check: the solution full marks, the starter 0
    key = json.loads((release / "key" / "k1.json").read_text())
    shown = b"".join(p.read_bytes() for p in (release / "handout").rglob("*") if p.is_file())
    assert shown and b"s3cr3t-rubric" not in shown
    path = with_answers(release / "student" / "k1.ipynb", HOSTILE, tmp_path / "hostile.ipynb")
    nb = nbformat.read(str(path), as_version=4)
    _claims_a_score(nb)
    path.write_text(json.dumps(nb), encoding="utf-8")
    started = time.monotonic()
    result = grade(path, course, options=options)
    took = time.monotonic() - started
    ex = {e.id: e for e in result.exercises}
    failed = {e: {c.name: c.message for c in ex[e].checks if not c.passed} for e in ex}

    assert ex["c-one"].score == 0 and "is not one of the options" in ex["c-one"].message
    assert ex["c-many"].score == 0 and failed["c-many"]["choice"] == (
        "missing 'Lima'; not an answer: 'Rome'"
    )
    assert ex["c-type"].score == 0 and "got a int" in ex["c-type"].message
    assert ex["c-lie"].score == 0 and "cannot export a value of type S" in ex["c-lie"].message
    assert ex["f-lie"].score < ex["f-lie"].points and "values" in failed["f-lie"]
    assert "expected 5.0, got 2.5" in failed["f-lie"]["values"]
    assert ex["f-html"].score < ex["f-html"].points
    assert ex["f-huge"].score == 0 and "more than 200,000 cells" in ex["f-huge"].message
    assert (ex["s-raise"].score, ex["s-raise"].status) == (2, "passed"), ex["s-raise"].message
    assert set(failed["g-lie"]) == {"lines", "title"}, failed["g-lie"]
    assert (ex["g-huge"].score, ex["g-huge"].status) == (3, "passed"), ex["g-huge"].message
    pngs = next(c for c in ex["g-huge"].checks if c.name == "axes").details["figures"]
    assert set(pngs) == {"reference"}  # 300000 segments: not drawn, judged by the data
    own = ex["m-own"]  # metadata, attachments and planted files claim a score: ignored
    assert (own.status, own.score) == ("awaiting review", 0) and own.answer.startswith("<script>")
    code = ex["m-code"]  # its outputs and metadata claim a score; it was never run
    assert (code.status, code.score) == ("awaiting review", 0) and "(reviewed)" not in code.answer
    assert result.awaiting == 3 and result.max_score == sum(e.points for e in ex.values()) - 3
    assert str(key["seed"]) not in json.dumps(result.to_dict())
    assert took < 30, f"graded in {took:.1f} s"

    page = render_html(result)
    assert_inert(page)
    for text in HOSTILE_TEXTS[:4]:
        assert text not in page
    assert "&lt;script&gt;alert(&#39;s&#39;)&lt;/script&gt;" in page
    assert page.count(NOT_DRAWN) == 1  # g-huge's: said, not left out silently
    console = Console(file=io.StringIO(), color_system=None, width=300)
    terminal_table(result, console)
    said = console.file.getvalue() + summary_text(result)
    assert not set(said) & {"\x1b", "\x07"} and "::error" not in said

    # the student's own check, with the hand-out only: never kinder than official grading
    handout = release / "handout" / "k1"
    mine = with_answers(handout / "k1.ipynb", HOSTILE, handout / "mine.ipynb")
    here = {e.id: e for e in grade_with_handout(mine, handout / "grade-handout.json").exercises}
    assert {e: here[e].status for e in ("m-own", "m-code")} == dict.fromkeys(
        ("m-own", "m-code"), "awaiting review"
    )
    for eid, official in ex.items():
        assert here[eid].status != "passed" or official.score == official.points, eid
        assert here[eid].status != "failed" or official.score < official.points, eid
    failed_here = {e for e, r in here.items() if r.status == "failed"}
    assert failed_here == {"c-one", "c-type", "c-lie", "f-huge"}  # the rest: decided at grading

    db = tmp_path / "gb.db"
    with Gradebook(db) as gb:
        run = Graded(result, Executed((StepOutcome("ok"),)), course.fingerprint, "run")
        gb.record(submission(tmp_path, "mallory<img src=x onerror=alert(9)>", b"m"), "k1", run)
        (attempt,) = gb.attempts("k1")
        assert set(attempt.awaiting) == {"m-own", "m-code"}  # a planted score is no review
        token = submission_token(
            pseudonym_key(gb.db), attempt.student, attempt.assignment, attempt.sha256
        )
    app = create_app(course, db, ["k1"], "ta1", True)
    app.testing = True
    review = app.test_client().get(f"/review/{token}/m-own").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in review and "Explains" in review
    assert "mallory&lt;img src=x onerror=alert(9)&gt;" in review  # the student's name, too
    assert_inert(review, scripts=1, textareas=1)
    scores = app.test_client().get(f"/submission/{token}").get_data(as_text=True)
    assert "<code>c-one</code>" in scores  # the automatic scores, to override
    assert_inert(scores)
