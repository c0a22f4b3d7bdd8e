"""Tests of grader.judge.compare: table-driven edges of every comparator and of custom checks."""

from __future__ import annotations

import pytest

from grader.errors import CompareError
from grader.judge.compare import (
    MAX_MISMATCHES,
    compare_array,
    compare_custom,
    compare_mapping,
    compare_number,
    compare_shape,
)
from grader.results import CheckResult
from grader.spec import Answer


def run_custom(fn, expected, got):
    return compare_custom(fn, "my_check", expected, got)


NUMBER = Answer.of("number", "x")  # rtol=1e-5, atol=1e-8
EXACT_HALF = Answer.of("number", "x", rtol=0.0, atol=0.5)  # |got - exp| <= 0.5
QUARTER = Answer.of("number", "x", rtol=0.25, atol=0.0)  # |got - exp| <= |exp| / 4


# --- number ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer,expected,got,ok",
    [
        # ints are exact
        (NUMBER, 20234, 20234, True),
        (NUMBER, 20234, 20234.0, True),
        (NUMBER, 20234, 20235, False),
        (NUMBER, 20234, 20234.0001, False),
        (NUMBER, 0, 0.0, True),
        (NUMBER, 1, True, False),  # a bool is not a number
        (NUMBER, 0, False, False),
        # floats within atol + rtol * |expected|, edges included
        (EXACT_HALF, 2.0, 2.5, True),
        (EXACT_HALF, 2.0, 1.5, True),
        (EXACT_HALF, 2.0, 2.5000001, False),
        (EXACT_HALF, 2.0, 1.4999999, False),
        (QUARTER, 4.0, 5.0, True),
        (QUARTER, 4.0, 5.000001, False),
        (QUARTER, -4.0, -3.0, True),
        (QUARTER, -4.0, -2.999999, False),
        (NUMBER, 1.0, 1.0 + 1.0e-5, True),  # tolerance 1e-8 + 1e-5
        (NUMBER, 1.0, 1.0 + 1.002e-5, False),
        (NUMBER, 0.0, 1e-8, True),
        (NUMBER, 0.0, 1.1e-8, False),
        (NUMBER, 2.0, 2, True),  # an int for a float is fine
        # non-finite and non-numbers fail
        (NUMBER, 1.0, "nan", False),
        (NUMBER, 1.0, "inf", False),
        (NUMBER, 1.0, "-inf", False),
        (NUMBER, 5, "nan", False),
        (NUMBER, 1.0, None, False),
        (NUMBER, 1.0, "1.0", False),
        (NUMBER, 1.0, [1.0], False),
        (NUMBER, 1.0, {"value": 1.0}, False),
    ],
)
def test_number(answer, expected, got, ok):
    (check,) = compare_number(answer, expected, got)
    assert check.name == "value"
    assert check.passed is ok
    assert check.weight == 1.0
    assert (check.expected, check.got) == (expected, got)
    assert (check.message == "") is ok


@pytest.mark.parametrize(
    "expected,got,message",
    [
        (20234, 20235, "expected 20234 (exactly), got 20235"),
        (2.0, 3.0, "expected 2.0 (within rtol=0, atol=0.5), got 3.0"),
        (2.0, None, "expected a number, got nothing"),
        (2.0, True, "expected a number, got a bool"),
        (2.0, "two", "expected a number, got a str"),
        (2.0, [2.0], "expected a number, got a list"),
        (2.0, "nan", "expected 2.0 (within rtol=0, atol=0.5), got nan"),
    ],
)
def test_number_messages(expected, got, message):
    (check,) = compare_number(EXACT_HALF, expected, got)
    assert check.message == message


@pytest.mark.parametrize(
    "comparator,expected,got",
    [
        (compare_number, 20234, 10**400),
        (compare_number, 1.5, -(10**400)),
        (compare_array, [1.0, 2.0], [1.0, 10**400]),
        (compare_mapping, {"a": 1}, {"a": 10**400}),
    ],
    ids=["number-int", "number-float", "array", "mapping"],
)
def test_huge_int_fails_the_check_instead_of_crashing(comparator, expected, got):
    checks = comparator(NUMBER, expected, got)
    assert [c.passed for c in checks] == [False]


# --- array ----------------------------------------------------------------------------------------

ARRAY = Answer.of("array", "a")
ARRAY_HALF = Answer.of("array", "a", rtol=0.0, atol=0.5)
GRID = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


@pytest.mark.parametrize(
    "answer,expected,got,ok",
    [
        (ARRAY, GRID, GRID, True),
        (ARRAY, GRID, [[1, 2, 3], [4, 5, 6]], True),
        (ARRAY, [5, 10, 15], [5.0, 10.0, 15.0], True),
        (ARRAY, 3.0, 3.0, True),  # a 0-d array
        (ARRAY, [], [], True),
        (ARRAY_HALF, GRID, [[1.5, 2.0, 3.0], [4.0, 4.5, 6.0]], True),  # edges included
        (ARRAY_HALF, GRID, [[1.5000001, 2.0, 3.0], [4.0, 5.0, 6.0]], False),
        (ARRAY, [1.0], [1.0 + 1.0e-5], True),
        (ARRAY, [1.0], [1.0 + 1.002e-5], False),
        (ARRAY, [1.0, 2.0], [1.0, "nan"], False),
        (ARRAY, [1.0, 2.0], ["inf", 2.0], False),
        (ARRAY, [1.0, 2.0], [1.0, "2.0"], False),  # strings inside
        (ARRAY, [1.0, 2.0], ["a", "b"], False),
        (ARRAY, [1.0, 2.0], [1.0, None], False),
        (ARRAY, [1.0, 2.0], [True, 2.0], False),
        (ARRAY, [1.0, 2.0], [1.0, [2.0]], False),
        (ARRAY, [1.0, 2.0], None, False),
        (ARRAY, [1.0, 2.0], True, False),
        (ARRAY, [1.0, 2.0], "1, 2", False),
        (ARRAY, [1.0, 2.0], {"0": 1.0, "1": 2.0}, False),
        (ARRAY, GRID, [[1.0, 2.0, 3.0], [4.0, 5.0]], False),  # ragged
        (ARRAY, GRID, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], False),  # right values, wrong shape
        (ARRAY, GRID, [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]], False),  # transposed
    ],
)
def test_array(answer, expected, got, ok):
    (check,) = compare_array(answer, expected, got)
    assert check.name == "values"
    assert check.passed is ok
    assert (check.message == "") is ok
    assert (check.expected, check.got) == (expected, got)


def test_array_shape_mismatch_names_both_shapes():
    (check,) = compare_array(ARRAY, GRID, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert check.message == "shape (6,) differs from the expected (2, 3)"
    assert check.mismatches is None
    (check,) = compare_array(ARRAY, [1.0, 2.0], 1.0)
    assert check.message == "shape () differs from the expected (2,)"


def test_array_ragged_fails_cleanly():
    (check,) = compare_array(ARRAY, GRID, [[1.0, 2.0, 3.0], [4.0]])
    assert check.passed is False
    assert check.message == (
        "expected a list (or nested lists) of numbers of equal lengths, or an array/tensor"
    )


def test_array_deeply_nested_fails_cleanly():
    deep = 1.0
    for _ in range(5000):
        deep = [deep]
    (check,) = compare_array(ARRAY, [1.0], deep)
    assert check.passed is False


def test_array_one_wrong_cell_is_reported_by_index():
    got = [[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]]
    (check,) = compare_array(ARRAY, GRID, got)
    assert check.passed is False
    assert check.mismatches == [[1, 2]]
    assert check.message == "1 of 6 values differ (tolerance rtol=1e-05, atol=1e-08)"


def test_array_nan_cell_is_a_mismatch():
    (check,) = compare_array(ARRAY, [1.0, 2.0, 3.0], [1.0, "nan", "-inf"])
    assert check.mismatches == [[1], [2]]


def test_array_mismatches_are_capped():
    n = MAX_MISMATCHES + 500
    (check,) = compare_array(ARRAY, [0.0] * n, [1.0] * n)
    assert len(check.mismatches) == MAX_MISMATCHES
    assert check.mismatches[:2] == [[0], [1]]
    assert check.message.startswith(f"{n} of {n} values differ")


# --- shape ----------------------------------------------------------------------------------------

SHAPE = Answer.of("shape", "s")


@pytest.mark.parametrize(
    "expected,got,ok,message",
    [
        ([8, 32, 16, 16], [8, 32, 16, 16], True, ""),  # a tuple arrives as a list
        ([10], [10], True, ""),
        ([8, 32, 16, 16], [32, 8, 16, 16], False, "expected (8, 32, 16, 16), got (32, 8, 16, 16)"),
        ([8, 32, 16, 16], [8, 32, 16], False, "expected (8, 32, 16, 16), got (8, 32, 16)"),
        ([10], [10, 1], False, "expected (10,), got (10, 1)"),
        ([8, 32], [8.0, 32.0], False, "expected a tuple of whole numbers, e.g. (8, 32, 16, 16)"),
        ([1, 2], [True, 2], False, "expected a tuple of whole numbers, e.g. (8, 32, 16, 16)"),
        ([1, 2], ["1", "2"], False, "expected a tuple of whole numbers, e.g. (8, 32, 16, 16)"),
        ([1, 2], (1, 2), False, "expected a tuple of whole numbers, e.g. (8, 32, 16, 16)"),
        ([1, 2], 12, False, "expected a tuple of whole numbers, e.g. (8, 32, 16, 16)"),
        ([1, 2], None, False, "expected a tuple of whole numbers, e.g. (8, 32, 16, 16)"),
        ([1, 2], [[1, 2]], False, "expected a tuple of whole numbers, e.g. (8, 32, 16, 16)"),
    ],
)
def test_shape(expected, got, ok, message):
    (check,) = compare_shape(SHAPE, expected, got)
    assert check == CheckResult("shape", ok, message=message, expected=expected, got=got)


# --- mapping --------------------------------------------------------------------------------------

MAPPING = Answer.of("mapping", "m")
LAYERS = {"conv1": 896, "bn1": 64, "fc": 650}


def _failed(checks):
    return [c for c in checks if not c.passed]


def test_mapping_all_right():
    checks = compare_mapping(MAPPING, LAYERS, {"fc": 650, "bn1": 64.0, "conv1": 896})
    assert [(c.name, c.passed, c.weight) for c in checks] == [
        ("conv1", True, 1.0),
        ("bn1", True, 1.0),
        ("fc", True, 1.0),
    ]


def test_mapping_one_key_wrong_fails_exactly_one_check():
    checks = compare_mapping(MAPPING, LAYERS, {"conv1": 896, "bn1": 128, "fc": 650})
    assert len(checks) == 3
    (bad,) = _failed(checks)
    assert (bad.name, bad.expected, bad.got) == ("bn1", 64, 128)
    assert bad.message == "expected 64 (exactly), got 128"


def test_mapping_missing_key():
    checks = compare_mapping(MAPPING, LAYERS, {"conv1": 896, "fc": 650})
    (bad,) = _failed(checks)
    assert bad == CheckResult("bn1", False, message="key 'bn1' is missing", expected=64, got=None)


def test_mapping_extra_key_is_reported_with_weight_zero():
    checks = compare_mapping(MAPPING, LAYERS, {**LAYERS, "pool": 0, "bias": 1})
    assert [c.passed for c in checks] == [True, True, True, False]
    assert checks[-1] == CheckResult(
        "no extra keys",
        False,
        weight=0.0,
        message="unexpected keys: 'bias', 'pool'",
        got=["bias", "pool"],
    )


def test_mapping_values_within_tolerance():
    answer = Answer.of("mapping", "m", rtol=0.0, atol=0.5)
    checks = compare_mapping(answer, {"a": 1.0, "b": 2.0}, {"a": 1.5, "b": 2.5000001})
    assert [c.passed for c in checks] == [True, False]


@pytest.mark.parametrize("got", [None, [896, 64, 650], "conv1: 896", 896])
def test_mapping_not_a_dict_fails_every_check(got):
    checks = compare_mapping(MAPPING, LAYERS, got)
    assert [(c.name, c.passed, c.message) for c in checks] == [
        (k, False, "expected a dict") for k in LAYERS
    ]


# --- custom ---------------------------------------------------------------------------------------


def test_run_custom_fraction_0():
    checks = run_custom(lambda exp, got: (0, "all wrong"), 3, 4)
    assert checks == [
        CheckResult("custom", False, weight=1.0, message="all wrong", expected=3, got=4)
    ]


def test_run_custom_fraction_1():
    checks = run_custom(lambda exp, got: (1.0, "fine"), 3, 3)
    assert checks == [CheckResult("custom", True, weight=1.0, message="fine", expected=3, got=3)]


def test_run_custom_fraction_half_is_two_weighted_checks():
    """The passing half never carries the failure's wording: the failing half does."""
    checks = run_custom(lambda exp, got: (0.5, "2 of 4 ranks are wrong"), 3, 4)
    assert checks == [
        CheckResult("custom (partial)", True, weight=0.5),
        CheckResult(
            "custom", False, weight=0.5, message="2 of 4 ranks are wrong", expected=3, got=4
        ),
    ]
    earned = sum(c.weight for c in checks if c.passed) / sum(c.weight for c in checks)
    assert earned == 0.5


@pytest.mark.parametrize(
    "result,passed",
    [(1, True), (0.0, False), (7, True), (-2, False), ((1.5, "too much"), True)],
)
def test_run_custom_bare_numbers_and_clamping(result, passed):
    (check,) = run_custom(lambda exp, got: result, None, None)
    assert check.passed is passed and check.weight == 1.0


def test_run_custom_receives_expected_then_got():
    seen = []
    run_custom(lambda exp, got: seen.append((exp, got)) or 1, "E", "G")
    assert seen == [("E", "G")]


# --- course errors: one clear CompareError, never an internal error -------------------------------


def _raises(exp, got):
    raise KeyError("lookup")


@pytest.mark.parametrize(
    "fn,message",
    [
        (_raises, "the custom check 'my_check' raised KeyError: 'lookup'"),
        (lambda e, g: None, "the custom check 'my_check' returned None"),
        (lambda e, g: "1.0", "the custom check 'my_check' returned a str"),
        (lambda e, g: (None, "msg"), "returned a tuple"),
        (lambda e, g: True, "returned a bool"),
        (lambda e, g: float("nan"), "returned a float"),
    ],
    ids=["raises", "none", "text", "none-in-tuple", "bool", "nan"],
)
def test_a_broken_custom_check_is_a_course_error(fn, message):
    with pytest.raises(CompareError, match="custom check") as err:
        run_custom(fn, 1, 2)
    assert message in str(err.value)


@pytest.mark.parametrize("reference", [None, "text", [1, [2]], {"a": 1}])
def test_a_reference_that_is_no_array_is_a_course_error(reference):
    with pytest.raises(CompareError, match="the reference value is not a numeric array"):
        compare_array(ARRAY, reference, [1.0])
