"""The one table of answer kinds: every kind is complete, and the spec, the exporter and the
judge all read it."""

from __future__ import annotations

import inspect
from typing import get_args

import pytest

from grader.inkernel.public import CHECKS, MODEL_CHECKS
from grader.inkernel.sealed import TRANSFORM_NAMES
from grader.kinds import KINDS, REQUIRED, UNKNOWN, OptionType, export_spec
from grader.spec import Answer

OPTION_TYPES = set(get_args(OptionType))  # every type the spec knows how to read


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS)
def test_every_kind_is_complete(kind):
    check = kind.checker()
    assert list(inspect.signature(check).parameters) == [
        "exercise",
        "expected",
        "export",
        "context",
    ]
    assert kind.recipe in ("value", "model", "calls", "manual") and kind.summary
    assert {o.type for o in kind.options} <= OPTION_TYPES
    names = [o.name for o in kind.options]
    assert len(names) == len(set(names)) and not {"kind", "name"} & set(names)
    # the value and function kinds are the ones whose reference values are kept in the key
    assert kind.keyed == (kind.recipe in ("value", "calls"))
    # its public checks are generic checks the hand-out knows (data, not code, in the kernel)
    known = MODEL_CHECKS if kind.recipe == "model" else tuple(CHECKS)
    assert set(kind.public) <= set(known), kind.public
    defaults = {o.name: o.default for o in kind.options if o.default is not REQUIRED}
    if kind.exact is not None:  # instant feedback: said in words, and a digest a kind can make
        assert kind.exact_when and kind.keyed
        assert set(kind.transforms(defaults)) <= set(TRANSFORM_NAMES)
        assert set(kind.transforms({**defaults, "multiple": True})) <= set(TRANSFORM_NAMES)
    assert kind.digest in ("value", "keys")
    # the report plots losses the export carries
    assert not kind.plots or "losses" in {o.name for o in kind.options if o.type == "variable"}


def test_the_instant_feedback_rule_is_the_table_s():
    assert KINDS["shape"].is_exact({}) and not KINDS["custom"].is_exact({"check": "f"})
    tolerant = {"rtol": 1e-5, "atol": 1e-8}
    assert KINDS["number"].is_exact(tolerant, UNKNOWN)  # decided by the build's reference
    assert KINDS["number"].is_exact(tolerant, 3) and not KINDS["number"].is_exact(tolerant, 3.0)
    assert not KINDS["array"].is_exact(tolerant) and KINDS["array"].is_exact({"rtol": 0, "atol": 0})


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
