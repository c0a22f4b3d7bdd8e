"""Tests of one pandas Series read as the ``series`` kind (grader.importers.frame_tests): the
pattern of otter's tutorial q3 without its tests of ``data``, and what is not translated."""

from __future__ import annotations

import pytest

from grader.importers.frame_tests import series_answer

Q3 = [  # otter's tutorial, q3: its tests of price_by_flavor
    "assert type(price_by_flavor) == pd.Series",
    "assert len(price_by_flavor) == 4",
    '# HIDDEN\nnp.isclose(price_by_flavor["chocolate"], 3.33333333)',
    'np.isclose(price_by_flavor["mint"], 4.5)',
    'np.isclose(price_by_flavor["strawberry"], 3)',
    'np.isclose(price_by_flavor["vanilla"], 1.75)',
]
VARIABLES = {"data", "price_by_flavor"}


def test_a_series_pinned_label_by_label_is_a_series_exercise():
    answer, why = series_answer(Q3, VARIABLES)
    assert (answer, why) == ({"kind": "series", "name": "price_by_flavor", "check_like": True,
                              "check_names": False, "check_dtype": False}, "")  # fmt: skip
    other = ["assert isinstance(s, pd.Series)", "len(s) == 2", "s.loc[0] == 1", "s[1] == 2.5"]
    assert series_answer(other, {"s"})[0] == {**answer, "name": "s"}


@pytest.mark.parametrize(
    "tests,why",
    [
        (['len(data["flavor"].unique()) == 4', *Q3],
         "its tests read data and price_by_flavor, and a grade exercise judges one answer"),
        (Q3[1:], "no test says price_by_flavor is a Series (only a Series is translated)"),
        (Q3[:-1], "its tests do not give the value of each of price_by_flavor's labels"),
        (["assert type(df) == pd.DataFrame", "len(df) == 1", "df['a'] == 1"],
         "no test says df is a Series (only a Series is translated)"),
        ([*Q3[:-1], 'np.isclose(price_by_flavor["vanilla"], 1.75, atol=0.1)'],
         "np.isclose(price_by_flavor['vanilla'], 1.75, atol=0.1): a tolerance of its own is "
         "not carried over"),
        ([*Q3, "price_by_flavor.sum() > 0"],
         "price_by_flavor.sum() > 0 is not a pattern grade reads of a Series"),
        ([*Q3, "x = price_by_flavor"], "line 1 of a test is not an assert or an expression"),
        (["assert type(total) == pd.Series"],
         "its tests read total, which the answer cell does not assign"),
        (["assert (", *Q3], "a test cannot be read as Python ('(' was never closed)"),
    ],
)  # fmt: skip
def test_what_is_not_a_series_exercise_says_why(tests, why):
    assert series_answer(tests, VARIABLES | {"df", "s"}) == (None, why)
