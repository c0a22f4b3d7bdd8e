"""The one table of answer kinds: every kind is complete, and the spec, the exporter and the
judge all read it."""

from __future__ import annotations

import inspect

import pytest

from grader.kinds import KINDS, REQUIRED, export_spec
from grader.spec import Answer

OPTION_TYPES = {
    "tolerance",
    "number",
    "fraction",
    "holdout",
    "shape",
    "arguments",
    "reference",
    "function",
    "variable",
    "setup",
}


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS)
def test_every_kind_is_complete(kind):
    check = kind.checker()
    assert list(inspect.signature(check).parameters) == [
        "exercise",
        "expected",
        "export",
        "context",
    ]
    assert kind.recipe in ("value", "model") and kind.summary
    assert {o.type for o in kind.options} <= OPTION_TYPES
    names = [o.name for o in kind.options]
    assert len(names) == len(set(names)) and not {"kind", "name"} & set(names)
    # the value kinds are the ones whose reference values are kept in the key
    assert kind.keyed == (kind.recipe == "value")


def test_answer_of_fills_defaults_and_refuses_unknown_options():
    answer = Answer.of("training", "model", reference="Net")
    assert answer["holdout"] == 2000 and answer["losses"] == "losses"
    assert answer.options.keys() == {o.name for o in KINDS["training"].options}
    with pytest.raises(Exception, match="unknown"):
        Answer.of("number", "x", probe=(1,))
    with pytest.raises(Exception, match="missing"):
        Answer.of("module", "m", reference="Net")  # probe is required
    assert all(o.default is not REQUIRED for o in KINDS["number"].options)


def test_export_specs_say_only_what_the_kernel_needs():
    assert export_spec("number", "x", {"rtol": 0.1, "atol": 0.0}) == {
        "name": "x",
        "recipe": "value",
    }
    training = Answer.of(
        "training", "model", reference="cnn-model:Net", arguments=(3, 10), probe=(2, 3, 32, 32)
    )
    assert training.export_spec() == {
        "name": "model",
        "recipe": "model",
        "arguments": [3, 10],
        "probe": [2, 3, 32, 32],
        "extras": {"losses": "losses", "device": "device"},
    }
    overfit = Answer.of("overfit", "m", reference="Net", inputs="bx", targets="by", max_loss=0.5)
    # the setup's batch is read by the grader from its own run of the setup, never exported
    assert overfit.export_spec()["extras"] == {"losses": "losses"}
