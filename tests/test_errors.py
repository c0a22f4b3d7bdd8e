"""Tests of grader.errors: one root, and every exception survives pickling (papermill-style)."""

from __future__ import annotations

import inspect
import pickle

import pytest

from grader import errors
from grader.errors import GraderError, SpecError

CLASSES = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, BaseException) and cls.__module__ == errors.__name__
]


def _example(cls):
    if cls is SpecError:
        return SpecError("points: expected a positive number", "exercises/t.yaml", 12, "points")
    return cls(f"{cls.__name__}: something went wrong")


def test_the_module_defines_the_expected_exceptions():
    assert sorted(c.__name__ for c in CLASSES) == [
        "BuildError",
        "CompareError",
        "ExecutionError",
        "GraderError",
        "RenderError",
        "ReportError",
        "SpecError",
        "SubmissionError",
    ]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_error_is_a_grader_error(cls):
    assert issubclass(cls, GraderError)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_exceptions_are_unpickleable(cls):
    err = _example(cls)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(err, protocol=protocol))
        assert type(copy) is cls
        assert str(copy) == str(err)
        assert copy.args == err.args


def test_spec_error_keeps_its_fields_through_pickle():
    err = _example(SpecError)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.message, copy.path, copy.line, copy.key) == (
        "points: expected a positive number",
        "exercises/t.yaml",
        12,
        "points",
    )
    assert str(copy) == "exercises/t.yaml:12: points: expected a positive number"


@pytest.mark.parametrize(
    "args,text",
    [
        (("bad", "course.yaml", 3, "name"), "course.yaml:3: bad"),
        (("bad", "course.yaml"), "course.yaml: bad"),
        (("bad", "course.yaml", None), "course.yaml: bad"),
        (("bad",), "bad"),
        (("bad", "", 3), "bad"),
    ],
)
def test_spec_error_text(args, text):
    err = SpecError(*args)
    assert str(err) == text
    assert err.message == "bad"
