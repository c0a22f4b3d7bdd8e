"""The answer kinds, in one table: what each accepts in YAML, what the kernel exports for it,
whether the reference run fills the answer key, and which function checks it.

Adding a kind is one entry in ``KINDS`` plus its check function (in ``grader.judge``); the
spec, the exporter and the judge read everything else from here. Checks are named as
``"module:function"`` and imported when first used, so that reading a course never imports
numpy or torch. Stdlib only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

OptionType = Literal[
    "tolerance",  # a finite number >= 0
    "number",  # a finite number >= 0
    "fraction",  # a number in [0, 1]
    "holdout",  # a number (> 0) of held-out samples the grader draws
    "shape",  # a list of integers > 0 (an input shape)
    "arguments",  # a list of plain values (numbers, text, booleans): constructor arguments
    "reference",  # a class defined by a solution section: "[exercise-id:]ClassName"
    "function",  # a function of the topic's solutions preamble
    "variable",  # a variable of the student's namespace, exported beside the answer
    "setup",  # a variable that the topic's (trusted) setup defines, read by the grader
]
Recipe = Literal["value", "model"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Option:
    """One YAML field of an answer spec, beside ``kind`` and ``name``."""

    name: str
    type: OptionType
    default: Any = REQUIRED


@dataclass(frozen=True)
class Kind:
    """An answer kind: its options, its export recipe, its check."""

    name: str
    options: tuple[Option, ...]
    recipe: (
        Recipe  # "value": the variable as plain data; "model": an nn.Module's weights and layers
    )
    keyed: bool  # the reference solution's exported value is stored in the answer key
    check: str  # "module:function", called as check(answer, expected, export, context)
    summary: str

    def checker(self) -> Callable[..., Any]:
        """The check function (imported on first use)."""
        module, _, name = self.check.partition(":")
        fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return fn


_TOLERANCES = (Option("rtol", "tolerance", 1e-5), Option("atol", "tolerance", 1e-8))
_MODEL = (Option("reference", "reference"), Option("arguments", "arguments", ()))
# A model trained by the student's loop: the probe only orders its layers; its losses.
_TRAINED = (*_MODEL, Option("probe", "shape", ()), Option("losses", "variable", "losses"))

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "number",
            _TOLERANCES,
            "value",
            True,
            "grader.judge.compare:check_number",
            "an int exactly, a float within atol + rtol * |expected|",
        ),
        Kind(
            "array",
            _TOLERANCES,
            "value",
            True,
            "grader.judge.compare:check_array",
            "same shape, then every value within tolerance; the differing cells are reported",
        ),
        Kind(
            "shape",
            (),
            "value",
            True,
            "grader.judge.compare:check_shape",
            "a tuple of whole numbers, exactly equal",
        ),
        Kind(
            "mapping",
            _TOLERANCES,
            "value",
            True,
            "grader.judge.compare:check_mapping",
            "one check per expected key (partial credit); extra keys are pointed out",
        ),
        Kind(
            "custom",
            (Option("check", "function"),),
            "value",
            True,
            "grader.judge.compare:check_custom",
            "check(expected, got) from the solutions preamble returns a fraction (and a message)",
        ),
        Kind(
            "module",
            (*_MODEL, Option("probe", "shape")),
            "model",
            False,
            "grader.judge.models:check_module",
            "layer sequence, parameter count, output shape, and the forward pass with the "
            "student's weights in the reference architecture",
        ),
        Kind(
            "training",
            (
                *_TRAINED,
                Option("device", "variable", "device"),
                Option("min_accuracy", "fraction", 0.0),
                Option("holdout", "holdout", 2000),
            ),
            "model",
            False,
            "grader.judge.models:check_training",
            "the loss went down; the grader's accuracy of the exported weights on held-out "
            "samples the student never saw (counts double)",
        ),
        Kind(
            "overfit",
            (
                *_TRAINED,
                Option("inputs", "setup"),
                Option("targets", "setup"),
                Option("max_loss", "number"),
            ),
            "model",
            False,
            "grader.judge.models:check_overfit",
            "the loss went down; the grader's cross-entropy of the exported weights on the "
            "setup's fixed batch is at most max_loss (counts double)",
        ),
    )
}


def export_spec(kind: str, name: str, options: dict[str, Any]) -> dict[str, Any]:
    """What the export step passes to ``grader.inkernel.exporter`` (plain JSON data)."""
    k = KINDS[kind]
    spec: dict[str, Any] = {"name": name, "recipe": k.recipe}
    if k.recipe == "model":
        spec["arguments"] = list(options.get("arguments", ()))
        spec["probe"] = list(options.get("probe", ()))
    extras = {o.name: options[o.name] for o in k.options if o.type == "variable"}
    if extras:
        spec["extras"] = extras
    return spec
