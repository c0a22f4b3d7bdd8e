"""The ``dataframe`` and ``series`` kinds: the kernel's plain data of real pandas objects
(dtypes, NaN, a MultiIndex, a string index; subclasses that lie, objects that raise, huge
frames), judging with ``assert_frame_equal`` / ``assert_series_equal`` semantics (checked
against pandas itself), the report's differing cells, the hand-out's public checks, and a
build + grade of a tiny course in a real kernel."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from shipped import with_answers

from grader.errors import CompareError
from grader.execute.records import ExportRecord
from grader.handout_release import handout_data
from grader.inkernel.frames import MAX_CELLS
from grader.inkernel.plain import ExportError, to_plain
from grader.inkernel.public import describe
from grader.judge.frames import compare_frames
from grader.judge.public_context import PublicExpectations
from grader.judge.scoring import KeyExpectations, judge_export
from grader.key import AnswerKey
from grader.spec import Answer, load_course


def plain(value):
    """What the kernel exports, through JSON as the grader reads it."""
    return json.loads(json.dumps(to_plain(value)))


def frame(**options):
    return Answer.of("dataframe", "df", **options)


def series(**options):
    return Answer.of("series", "s", **options)


PRICES = pd.DataFrame(
    {"item": ["tea", "jam", "oat"], "price": [2.5, 4.0, np.nan], "qty": [1, 2, 3]},
    index=pd.Index(["a", "b", "c"], name="code"),
)


# --- the kernel's plain data ---------------------------------------------------------------


def test_a_frame_is_exported_as_columns_dtypes_index_and_values():
    data = plain(PRICES)
    assert data["pandas"] == "DataFrame" and data["shape"] == [3, 3]
    assert data["columns"]["labels"] == ["item", "price", "qty"]
    assert data["dtypes"][1:] == ["float64", "int64"]
    assert data["index"] == {
        "names": ["code"],
        "dtype": data["index"]["dtype"],
        "labels": ["a", "b", "c"],
    }
    assert data["data"] == [["tea", "jam", "oat"], [2.5, 4.0, None], [1, 2, 3]]


def test_a_series_with_a_multiindex_infinities_and_missing_values():
    index = pd.MultiIndex.from_tuples([("x", 1), ("x", 2), ("y", 1)], names=["group", "n"])
    s = pd.Series([1.5, np.inf, None], index=index, name="score")
    data = plain(s)
    assert data["pandas"] == "Series" and data["name"] == "score" and data["dtype"] == "float64"
    assert data["index"]["names"] == ["group", "n"]
    assert data["index"]["labels"] == [["x", 1], ["x", 2], ["y", 1]]
    assert data["data"] == [1.5, {"float": "inf"}, None]
    times = plain(pd.Series(pd.to_datetime(["2024-01-02", None]), dtype="datetime64[ns]"))
    assert times["data"] == ["2024-01-02 00:00:00", None] and times["dtype"] == "datetime64[ns]"
    nullable = plain(pd.Series([1, None], dtype="Int64"))
    assert (nullable["dtype"], nullable["data"]) == ("Int64", [1, None])
    assert plain(pd.Series(["a", "b", "a"], dtype="category"))["dtype"] == "category"


class LyingFrame(pd.DataFrame):
    """Claims other values through every accessor a converter might call."""

    @property
    def _constructor(self):
        return LyingFrame

    @property
    def values(self):
        return np.zeros((3, 3))

    def to_dict(self, *args, **kwargs):
        return {"price": {"a": 0}}

    def __array__(self, *args, **kwargs):
        return np.zeros((3, 3))

    def __eq__(self, other):
        return True

    def __iter__(self):
        return iter(["price"])

    def to_numpy(self, *args, **kwargs):
        return np.zeros((3, 3))

    def astype(self, *args, **kwargs):
        raise RuntimeError("no")


class LyingSeries(pd.Series):
    @property
    def _constructor(self):
        return LyingSeries

    def tolist(self):
        return [0, 0, 0]

    def __array__(self, *args, **kwargs):
        return np.zeros(3)

    @property
    def values(self):
        return np.zeros(3)


def test_a_subclass_is_exported_as_what_it_holds():
    assert plain(LyingFrame(PRICES)) == plain(PRICES)
    s = pd.Series([1.0, 2.0, 3.0], name="v")
    assert plain(LyingSeries(s)) == plain(s)


class RaisingFrame(pd.DataFrame):
    @property
    def _constructor(self):
        return RaisingFrame

    def __getattribute__(self, name):
        if name not in ("__class__", "__dict__"):
            raise RuntimeError("no data for you")
        return super().__getattribute__(name)


def test_objects_that_raise_on_access_are_read_or_said_so():
    assert plain(RaisingFrame({"a": [1]})) == plain(pd.DataFrame({"a": [1]}))  # never asked
    forged = pd.DataFrame({"a": [1]})
    object.__setattr__(forged, "_mgr", "a fake manager")
    with pytest.raises(ExportError, match=r"cannot read the DataFrame's data .*its data is a str"):
        to_plain(forged)
    with pytest.raises(
        ExportError, match="a cell or label holds a value of type object: not exported"
    ):
        to_plain(pd.DataFrame({"a": [object()]}))
    with pytest.raises(ExportError, match="holds a value of type list"):
        to_plain(pd.Series([[1, 2]]))


def test_a_huge_frame_is_refused_with_a_clear_message():
    huge = pd.DataFrame(np.zeros((MAX_CELLS // 10 + 1, 10)))
    with pytest.raises(ExportError, match=r"more than 200,000 cells .* df.head\(100\)"):
        to_plain(huge)
    with pytest.raises(ExportError, match="more than 2,000,000 characters"):
        to_plain(pd.Series(["x" * 1_000_000] * 3))


# --- judging: pandas' semantics, checked against pandas itself -----------------------------

BASE = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "b", "c"]}, index=[10, 20, 30])
OTHER_INDEX = BASE.set_axis(["p", "q", "r"])
PAIRS = [
    ("the same", BASE, BASE.copy(), {}),
    ("within rtol", BASE, BASE.assign(x=[1.0 + 1e-7, 2.0, 3.0]), {}),
    ("beyond rtol", BASE, BASE.assign(x=[1.1, 2.0, 3.0]), {}),
    ("wider rtol", BASE, BASE.assign(x=[1.1, 2.0, 3.0]), {"rtol": 0.2}),
    ("atol", BASE, BASE.assign(x=[1.05, 2.0, 3.0]), {"atol": 0.1, "rtol": 0}),
    ("a text differs", BASE, BASE.assign(y=["a", "B", "c"]), {}),
    ("int vs float", BASE.assign(x=[1, 2, 3]), BASE, {}),
    ("int vs float, no dtype", BASE.assign(x=[1, 2, 3]), BASE, {"check_dtype": False}),
    ("reordered columns", BASE, BASE[["y", "x"]], {}),
    ("reordered columns, like", BASE, BASE[["y", "x"]], {"check_like": True}),
    ("reordered rows", BASE, BASE.iloc[[2, 0, 1]], {}),
    ("reordered rows, like", BASE, BASE.iloc[[2, 0, 1]], {"check_like": True}),
    ("another index", BASE, OTHER_INDEX, {}),
    ("a missing column", BASE, BASE[["x"]], {}),
    ("an extra row", BASE, pd.concat([BASE, BASE.iloc[:1].set_axis([40])]), {}),
    ("NaN equals NaN", BASE.assign(x=[np.nan, 2.0, 3.0]), BASE.assign(x=[np.nan, 2.0, 3.0]), {}),
    ("NaN vs a number", BASE.assign(x=[np.nan, 2.0, 3.0]), BASE, {}),
    ("index named", BASE.rename_axis("k"), BASE, {}),
    ("index named, no names", BASE.rename_axis("k"), BASE, {"check_names": False}),
    (
        "a MultiIndex",
        BASE.set_axis(pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)])),
        BASE.set_axis(pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)])),
        {},
    ),
    (
        "a MultiIndex differs",
        BASE.set_axis(pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)])),
        BASE.set_axis(pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 2)])),
        {},
    ),
    ("infinities", BASE.assign(x=[np.inf, 2.0, 3.0]), BASE.assign(x=[np.inf, 2.0, 3.0]), {}),
    ("a float index", BASE, BASE.set_axis([10.0, 20.0, 30.0]), {}),
    ("a RangeIndex", BASE.reset_index(drop=True), BASE.set_axis(pd.Index([0, 1, 2])), {}),
    (
        "object vs str labels",
        BASE.set_axis(pd.Index(["a", "b", "c"], dtype=object)),
        BASE.set_axis(pd.Index(["a", "b", "c"])),
        {},
    ),
]


@pytest.mark.parametrize("name,expected,got,options", PAIRS, ids=[p[0] for p in PAIRS])
def test_a_frame_passes_exactly_when_assert_frame_equal_does(name, expected, got, options):
    pandas_options = {k: v for k, v in options.items() if k != "check_index"}
    try:
        pd.testing.assert_frame_equal(got, expected, **pandas_options)
        agrees = True
    except AssertionError:
        agrees = False
    checks = compare_frames(frame(**options), plain(expected), plain(got), "DataFrame")
    assert all(c.passed for c in checks) is agrees, [c.message for c in checks]


SERIES_PAIRS = [
    ("the same", pd.Series([1.0, 2.0], name="v"), pd.Series([1.0, 2.0], name="v"), {}),
    ("renamed", pd.Series([1.0, 2.0], name="v"), pd.Series([1.0, 2.0], name="w"), {}),
    (
        "renamed, no names",
        pd.Series([1.0, 2.0], name="v"),
        pd.Series([1.0, 2.0], name="w"),
        {"check_names": False},
    ),
    (
        "a string index",
        pd.Series([1, 2], index=["a", "b"]),
        pd.Series([1, 2], index=["a", "c"]),
        {},
    ),
    (
        "no index",
        pd.Series([1, 2], index=["a", "b"]),
        pd.Series([1, 2], index=["a", "c"]),
        {"check_index": False},
    ),
    (
        "reordered, like",
        pd.Series([1, 2], index=["a", "b"]),
        pd.Series([2, 1], index=["b", "a"]),
        {"check_like": True},
    ),
    ("a value", pd.Series([1, 2]), pd.Series([1, 3]), {}),
    ("nullable ints", pd.Series([1, None], dtype="Int64"), pd.Series([1, None], dtype="Int64"), {}),
]


@pytest.mark.parametrize(
    "name,expected,got,options", SERIES_PAIRS, ids=[p[0] for p in SERIES_PAIRS]
)
def test_a_series_passes_exactly_when_assert_series_equal_does(name, expected, got, options):
    try:
        pd.testing.assert_series_equal(got, expected, **options)
        agrees = True
    except AssertionError:
        agrees = False
    checks = compare_frames(series(**options), plain(expected), plain(got), "Series")
    assert all(c.passed for c in checks) is agrees, [c.message for c in checks]


def messages(answer, expected, got, kind="DataFrame"):
    return {
        c.name: c.message
        for c in compare_frames(answer, plain(expected), plain(got), kind)
        if not c.passed
    }


def test_the_report_names_the_differing_cells():
    got = PRICES.assign(price=[2.0, 4.0, np.nan], qty=[1, 2, 4])
    assert messages(frame(), PRICES, got) == {
        "values": "2 of 9 values differ (rtol=1e-05, atol=1e-08): row 'a', column 'price': "
        "expected 2.5, got 2.0; row 'c', column 'qty': expected 3, got 4"
    }
    many = pd.DataFrame({"v": range(10)})
    assert messages(frame(), many, many + 1)["values"].endswith(
        "row 4, column 'v': expected 4, got 5; and 5 more"
    )
    assert messages(frame(check_index=False), PRICES, got)["values"].startswith(
        "2 of 9 values differ (rtol=1e-05, atol=1e-08): row 0, column 'price'"
    )


@pytest.mark.parametrize(
    "got,options,wanted",
    [
        (PRICES[["qty", "item", "price"]], {}, {
            "columns": "the same columns in another order: 'qty', 'item', 'price', expected 'item', "
                       "'price', 'qty' (the order counts: check_like is false)",
        }),
        (PRICES[["qty", "item", "price"]], {"check_like": True}, {}),
        (PRICES.drop(columns="qty").assign(total=1), {}, {
            "columns": "column 2's label is 'total', expected 'qty'",
            "values": "not compared: the columns differ", "dtypes": "not compared: the columns differ",
        }),
        (PRICES[["item", "price"]], {}, {
            "columns": "2 columns, expected 3; missing 'qty'",
            "values": "not compared: the columns differ", "dtypes": "not compared: the columns differ",
        }),
        (PRICES.rename_axis("id"), {}, {"index": "the index's names are 'id', expected 'code'"}),
        (PRICES.iloc[:2], {}, {"index": "2 rows, expected 3; missing 'c'",
                               "values": "not compared: the rows differ"}),
        (PRICES.astype({"qty": "float64"}), {}, {
            "dtypes": "dtype column 'qty': float64, expected int64 (check_dtype is true)"}),
    ],
)  # fmt: skip
def test_each_part_is_its_own_check_with_its_message(got, options, wanted):
    if "dtypes" in wanted and "str" in wanted["dtypes"]:  # pandas 2 names text columns object
        wanted["dtypes"] = wanted["dtypes"].replace("str", str(PRICES["item"].dtype))
    assert messages(frame(**options), PRICES, got) == wanted


@pytest.mark.parametrize(
    "got,message",
    [
        (None, "expected a DataFrame, got nothing"),
        ([[1, 2]], "expected a DataFrame, got a list of 1"),
        ({"pandas": "Series"}, "expected a DataFrame, got a Series"),
        ({"pandas": "DataFrame", "index": {}}, "expected a DataFrame, got data that is not one"),
        ({**plain(PRICES), "data": [[1], [2], [3]]}, "expected a DataFrame, got data that is not one"),
        ({**plain(PRICES), "dtypes": ["int64"]}, "expected a DataFrame, got data that is not one"),
        ({**plain(PRICES), "data": [[{"x": 1}] * 3] * 3}, "expected a DataFrame, got data that is not one"),
    ],
)  # fmt: skip
def test_forged_or_wrong_data_fails_every_check(got, message):
    checks = compare_frames(frame(), plain(PRICES), got, "DataFrame")
    assert [c.name for c in checks] == ["columns", "index", "dtypes", "values"]
    assert all(not c.passed and c.message == message for c in checks)


def test_a_reference_that_is_not_a_frame_is_a_course_error():
    with pytest.raises(CompareError, match="the reference value is not a DataFrame"):
        compare_frames(frame(), [1, 2], plain(PRICES), "DataFrame")
    with pytest.raises(CompareError, match="the reference value is not a Series"):
        compare_frames(series(), plain(PRICES), plain(PRICES), "Series")


def test_partial_credit_values_count_double():
    checks = compare_frames(frame(), plain(PRICES), plain(PRICES.rename_axis("id")), "DataFrame")
    assert {c.name: (c.passed, c.weight) for c in checks} == {
        "columns": (True, 1.0), "index": (False, 1.0), "dtypes": (True, 1.0), "values": (True, 2.0)
    }  # fmt: skip


# --- a tiny course: YAML, the hand-out, a real kernel --------------------------------------

COURSE = "name: Frames\nassignments:\n  - id: f1\n    title: F\n    exercises: [f-table, f-mean]\n"
TOPIC = """\
topic: f
title: Frames
setup: |
  import pandas as pd
  sales = pd.DataFrame({"shop": ["n", "s", "n", "e"], "amount": [2.5, 4.0, 1.5, 3.0]})
exercises:
  - id: f-table
    title: Per shop
    points: 2
    prompt: A DataFrame of each shop's total and count, by shop.
    starter: table = ...
    answer: {kind: dataframe, name: table, check_like: true}
  - id: f-mean
    title: Mean per shop
    points: 1
    prompt: The mean amount per shop, a Series named amount.
    starter: means = ...
    answer: {kind: series, name: means, rtol: 0.001}
"""
SOLUTION = """\
# %% f-table
table = sales.groupby("shop")["amount"].agg(["sum", "count"])

# %% f-mean
means = sales.groupby("shop")["amount"].mean()
"""


@pytest.fixture
def course(write_course, tmp_path):
    return load_course(
        write_course(tmp_path, course=COURSE, exercises={"f": TOPIC}, solutions={"f": SOLUTION})
    )


def test_the_yaml_options_are_read_with_their_defaults(course):
    assert dict(course.exercises["f-table"].answer.options) == {
        "check_dtype": True, "check_like": True, "check_names": True, "check_index": True,
        "rtol": 1e-5, "atol": 1e-8,
    }  # fmt: skip
    assert course.exercises["f-mean"].answer["rtol"] == 0.001


def _values():
    sales = pd.DataFrame({"shop": ["n", "s", "n", "e"], "amount": [2.5, 4.0, 1.5, 3.0]})
    return {
        "f-table": plain(sales.groupby("shop")["amount"].agg(["sum", "count"])),
        "f-mean": plain(sales.groupby("shop")["amount"].mean()),
    }, sales


def test_the_hand_out_states_the_columns_and_its_checks_agree_with_grading(course):
    values, sales = _values()
    key = AnswerKey("f1", course.fingerprint, values)
    data = handout_data(course, "f1", key)
    specs = {e["id"]: e for e in data["exercises"]}
    assert specs["f-table"]["public"] == {"columns": ["sum", "count"], "check_like": True}
    assert specs["f-mean"]["public"] == {"rows": 3}
    shown = json.dumps(data["exercises"])
    assert "labels" not in shown and "pandas" not in shown  # no reference frame, only its columns
    table = sales.groupby("shop")["amount"].agg(["sum", "count"])
    for exercise, value, line in [
        (
            "f-table",
            table[["count", "sum"]],
            "f-table: a DataFrame, the 2 columns 'sum', 'count': OK",
        ),
        (
            "f-table",
            table[["sum"]],
            "f-table: the 2 columns 'sum', 'count' were expected, you gave ['sum']",
        ),
        ("f-table", [1], "f-table: a pandas DataFrame was expected, you gave a list of 1"),
        ("f-mean", table["sum"], "f-mean: a Series, 3 values: OK"),
        ("f-mean", table, "f-mean: a pandas Series was expected, you gave a DataFrame"),
        ("f-mean", table["sum"].iloc[:2], "f-mean: 3 values were expected, you gave 2"),
    ]:
        said, _ = describe(specs[exercise], {specs[exercise]["answer"]["name"]: value})
        assert said.startswith(line), said
        ex, record = course.exercises[exercise], ExportRecord({"ok": True, "value": plain(value)})
        here = judge_export(ex, record, PublicExpectations(data))
        there = judge_export(ex, record, KeyExpectations(course, key))
        assert here.status == "pending" or (here.score, here.status) == (there.score, there.status)
        if any(not c.passed for c in here.checks):
            assert there.score < ex.points


@pytest.mark.kernel
def test_build_and_grade_a_course_with_pandas_answers(course, tmp_path):
    from grader.build import build
    from grader.options import GradeOptions
    from grader.pipeline import grade
    from grader.report import render_html

    release = tmp_path / "release"
    options = GradeOptions(sandbox="optional", release=release)
    build(course, release, options)  # its self-check: the solution full marks, the starter 0
    answers = {
        # the columns in another order: check_like is true
        "f-table": 't = sales.groupby("shop")["amount"]\ntable = t.agg(["count", "sum"])',
        # a wrong mean for one shop
        "f-mean": 'means = sales.groupby("shop")["amount"].mean()\nmeans["n"] = 2.1',
    }
    student = with_answers(release / "student" / "f1.ipynb", answers, tmp_path / "mine.ipynb")
    result = grade(student, course, options=options)
    by_id = {e.id: e for e in result.exercises}
    assert by_id["f-table"].status == "passed"
    mean = {c.name: c for c in by_id["f-mean"].checks}
    assert not mean["values"].passed and mean["index"].passed
    assert "row 'n': expected 2.0, got 2.1" in mean["values"].message
    page = render_html(result)
    assert (
        "row &#39;n&#39;: expected 2.0, got 2.1" in page or "row 'n': expected 2.0, got 2.1" in page
    )
