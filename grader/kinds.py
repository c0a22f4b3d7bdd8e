"""The answer kinds, in one table: everything a kind is, in one entry of ``KINDS``.

An entry holds what the kind accepts in YAML (its options, and a rule across them), what the
kernel exports for it (its recipe), whether the reference run fills the answer key (which is
also what a per-student variant computes again, ``grader.solutions.reference_values``), the
check that judges it, what the student's hand-out checks by itself (names of the generic
public checks of ``grader.inkernel.public``, written into the hand-out's data by the build),
when its answers are exact enough for instant feedback and sealed mistakes, what the hand-out
may state of the reference (an array's shape, a mapping's keys), and what its report shows
(a plot of the losses). The spec, the exporter, the judge, the hand-out and the report read
everything from here: adding a kind is one entry plus its check module. Checks are named as
``"module:function"`` and imported when first used, so that reading a course never imports
numpy or torch. Stdlib only.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import kind_hooks as hooks
from .kind_hooks import FIGURE_PARTS, FIGURE_TEXTS

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
    "text",  # any string (an option's ``allowed`` and ``valid`` may say which)
    "cases",  # a list of calls: {args: [...], kwargs: {...}, public, points, raises}, plain data
    "names",  # a list of (dotted) Python names: functions a source must or must not call
    "generator",  # {function, count, points}: cases a solutions function draws per grading
    "properties",  # {args, kwargs, examples, points}: Hypothesis strategies (expressions)
    "rubric",  # a list of {item, points, comment}: what a reviewer checks (manual answers)
    "choices",  # a list of at least two texts, distinct once case and white space are normalised
    "flag",  # true or false
    "patterns",  # a mapping of names (the option's ``allowed``) to regular expressions
]
# "manual": nothing is run or exported; the answer cell's text is kept for a reviewer.
Recipe = Literal["value", "model", "calls", "manual"]
# How the hand-out's instant digest covers an answer: the whole value, or one digest a key.
Digest = Literal["value", "keys"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


# The reference value when it is not known yet (reading the YAML, before the build).
UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Option:
    """One YAML field of an answer spec, beside ``kind`` and ``name``."""

    name: str
    type: OptionType
    default: Any = REQUIRED
    allowed: tuple[Any, ...] = ()  # the value is one of these (any type of option)
    # What is wrong with a value once read by its type ("" when it is fine).
    valid: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class Kind:
    """An answer kind: its options, export recipe, check, public checks and hooks."""

    name: str
    options: tuple[Option, ...]
    recipe: (
        Recipe  # "value": the variable as plain data; "model": an nn.Module's weights and layers
    )
    keyed: bool  # the reference solution's exported value is stored in the answer key
    check: str  # "module:function", called as check(answer, expected, export, context)
    summary: str
    # Generic public checks (grader.inkernel.public.CHECKS) the hand-out runs, in order.
    public: tuple[str, ...] = ()
    # One value judged by one check: a failed public check means no point at grading.
    single: bool = False
    # Whether the check matches answers with these options exactly (for this reference, or
    # UNKNOWN before the build): instant feedback and sealed mistakes need it. None: never.
    exact: Callable[[Mapping[str, Any], Any], bool] | None = None
    exact_when: str = ""  # the rule of ``exact`` in words, for the author
    digest: Digest = "value"
    # Transforms (grader.inkernel.sealed.TRANSFORMS) applied to an answer before it is
    # digested or sealed: two answers the check finds equal give the same digest.
    canon: Callable[[Mapping[str, Any]], tuple[str, ...]] | None = None
    # What the hand-out may state of the reference: public facts its checks use.
    facts: Callable[[Any], dict[str, Any]] | None = None
    # A rule across the options: (option, problem) when they do not fit together.
    rule: Callable[[Mapping[str, Any]], tuple[str, str] | None] | None = None
    plots: bool = False  # the report draws the exported losses
    # A check of the answer cell's text (in the grader), "module:function", called as
    # source(answer, text, export payload) -> list of CheckResult; a failed one scores the
    # exercise 0 (the payload is the kernel's word: it may only fail a check).
    source: str = ""
    # Options the hand-out's public checks read (in its ``public`` data): what the prompt
    # shows anyway, such as a choice's options.
    shown: tuple[str, ...] = ()
    # Text added to the prompt from the options, for one variant (its name seeds an order).
    prompt: Callable[[Mapping[str, Any], str], str] | None = None

    def checker(self) -> Callable[..., Any]:
        """The check function (imported on first use)."""
        module, _, name = self.check.partition(":")
        fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return fn

    def source_checker(self) -> Callable[..., Any] | None:
        """The source check function (imported on first use), if the kind has one."""
        if not self.source:
            return None
        module, _, name = self.source.partition(":")
        fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return fn

    def is_exact(self, options: Mapping[str, Any], reference: Any = UNKNOWN) -> bool:
        """Whether answers of these options are matched exactly (see ``exact``)."""
        return self.exact is not None and self.exact(options, reference)

    def transforms(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The transforms applied to an answer before it is digested (see ``canon``)."""
        return self.canon(options) if self.canon is not None else ()


def _exact_tolerance(options: Mapping[str, Any], reference: Any) -> bool:
    return bool(options["rtol"] == 0 and options["atol"] == 0)


def _nested_shape(value: Any) -> list[int]:
    shape: list[int] = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return shape


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as e:
        return f"not a regular expression: {e}"
    return ""


def _pattern_with_regex(options: Mapping[str, Any]) -> tuple[str, str] | None:
    if options["match"] == "regex" and not options["pattern"]:
        return "pattern", "match: regex needs a pattern"
    if options["match"] != "regex" and options["pattern"]:
        return "pattern", "a pattern is read with match: regex only"
    return None


def _positive(value: Any) -> str:
    return "" if value > 0 else "expected a positive number (seconds)"


_TOLERANCES = (Option("rtol", "tolerance", 1e-5), Option("atol", "tolerance", 1e-8))
_MODEL = (Option("reference", "reference"), Option("arguments", "arguments", ()))
# A model trained by the student's loop: the probe only orders its layers; its losses.
_TRAINED = (*_MODEL, Option("probe", "shape", ()), Option("losses", "variable", "losses"))
_NUMBERS = "numbers"  # the public checks of numbers: finite, and integer and range if declared


# assert_frame_equal's options (and check_index, of assert_series_equal), with its defaults
_FRAMES = (
    Option("check_dtype", "flag", True),
    Option("check_like", "flag", False),
    Option("check_names", "flag", True),
    Option("check_index", "flag", True),
    *_TOLERANCES,
)

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
            public=("a_number", _NUMBERS),
            single=True,
            exact=lambda o, ref: _exact_tolerance(o, ref) or ref is UNKNOWN or type(ref) is int,
            exact_when="a number with an int reference (or rtol: 0 and atol: 0)",
        ),
        Kind(
            "array",
            _TOLERANCES,
            "value",
            True,
            "grader.judge.compare:check_array",
            "same shape, then every value within tolerance; the differing cells are reported",
            public=("an_array", _NUMBERS),
            single=True,
            exact=_exact_tolerance,
            exact_when="an array compared with rtol: 0 and atol: 0",
            facts=lambda ref: {"shape": _nested_shape(ref)},
        ),
        Kind(
            "shape",
            (),
            "value",
            True,
            "grader.judge.compare:check_shape",
            "a tuple of whole numbers, exactly equal",
            public=("a_shape",),
            single=True,
            exact=lambda o, ref: True,
            exact_when="a shape",
            facts=lambda ref: {"shape": [len(ref)]},
        ),
        Kind(
            "mapping",
            _TOLERANCES,
            "value",
            True,
            "grader.judge.compare:check_mapping",
            "one check per expected key (partial credit); extra keys are pointed out",
            public=("a_dict", _NUMBERS),
            exact=_exact_tolerance,
            exact_when="a mapping compared with rtol: 0 and atol: 0",
            digest="keys",
            facts=lambda ref: {"keys": list(ref)} if isinstance(ref, dict) else {},
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
            "text",
            (
                Option("match", "text", "exact", allowed=("exact", "normalised", "regex")),
                Option("pattern", "text", "", valid=_compiles),
            ),
            "value",
            True,
            "grader.judge.text:check_text",
            "a str: equal to the reference (exact), equal once case and white space are "
            "normalised (normalised), or matching the pattern whole (regex)",
            public=("a_string",),
            single=True,
            exact=lambda o, ref: o["match"] != "regex",
            exact_when="a text with match: exact or normalised",
            canon=lambda o: ("casefold", "spaces") if o["match"] == "normalised" else (),
            rule=_pattern_with_regex,
        ),
        Kind(
            "choice",
            (
                Option("options", "choices"),
                Option("multiple", "flag", False),
                Option("shuffle", "flag", False),
            ),
            "value",
            True,
            "grader.judge.choice:check_choice",
            "an option's text (or, with multiple: true, a list of them, in any order; a bool "
            "is its text), equal to the reference's once case and white space are normalised",
            public=("one_of_options",),
            single=True,
            exact=lambda o, ref: True,
            exact_when="a choice",
            canon=hooks.choice_canon,
            shown=("options", "multiple"),
            prompt=hooks.choice_prompt,
        ),
        Kind(
            "dataframe",
            _FRAMES,
            "value",
            True,
            "grader.judge.frames:check_dataframe",
            "a pandas DataFrame, as pandas.testing.assert_frame_equal compares: its columns, "
            "its index, its dtypes and its values (numbers within tolerance), each a check; "
            "the differing cells are named",
            public=("a_dataframe", "the_columns"),
            facts=hooks.frame_facts,
            shown=("check_like",),
        ),
        Kind(
            "series",
            _FRAMES,
            "value",
            True,
            "grader.judge.frames:check_series",
            "a pandas Series, as pandas.testing.assert_series_equal compares: its name, its "
            "index, its dtype and its values (numbers within tolerance), each a check",
            public=("a_series",),
            facts=hooks.series_facts,
        ),
        Kind(
            "figure",
            (
                Option("compare", "names", FIGURE_PARTS, valid=hooks.figure_parts),
                Option("match", "text", "normalised", allowed=("exact", "normalised", "regex")),
                Option("patterns", "patterns", {}, allowed=FIGURE_TEXTS),
                *_TOLERANCES,
            ),
            "value",
            True,
            "grader.judge.figures:check_figure",
            "a matplotlib Figure or Axes, judged by its data: the number of axes, then each "
            "part compared (lines, bars, scatter offsets within tolerance; title, axis labels "
            "and legend by the text rule; scales), each a check; the report shows the PNGs",
            public=("a_figure",),
            facts=hooks.figure_facts,
            rule=hooks.patterns_with_regex,
        ),
        Kind(
            "function",
            (
                Option("cases", "cases"),
                # where the expected results come from: a function of the topic's solutions
                # preamble ("": the function the solution section defines)
                Option("reference", "function", ""),
                Option("generate", "generator", None),
                Option("properties", "properties", None),
                *_TOLERANCES,
                Option("calls", "names", ()),
                # > 0: `calls` is a check of these points (nbgrader's "uses squares" test), not
                # a rule whose failure scores the exercise 0
                Option("calls_points", "number", 0.0),
                Option("forbids", "names", ()),
                Option("call_timeout", "number", 1.0, valid=_positive),
            ),
            "calls",
            True,
            "grader.judge.function:check_function",
            "called in the kernel on each case; each result (or the exception's type) against "
            "the reference's, numbers within tolerance, partial credit by cases; the answer "
            "cell must call what `calls` names and must not call what `forbids` names",
            source="grader.judge.source_rules:check_source",
        ),
        Kind(
            "module",
            (*_MODEL, Option("probe", "shape")),
            "model",
            False,
            "grader.judge.models:check_module",
            "the same function as the reference architecture (with fresh parameters from a "
            "seed of the grading, in eval and train mode), parameter count, output shape, and "
            "the forward pass with the student's weights in the reference architecture",
            public=("a_module", "forward"),
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
            public=("a_module", "forward", "losses"),
            plots=True,
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
            public=("a_module", "forward", "losses"),
            plots=True,
        ),
        Kind(
            "manual",
            (
                Option("cell", "text", "markdown", allowed=("markdown", "code")),
                Option("rubric", "rubric"),
            ),
            "manual",
            False,
            "grader.judge.manual:check_manual",
            "reviewed by a person (`grade review`): the answer cell's text (never run) is "
            "scored by the rubric's items; awaiting review until then, never counted as 0",
        ),
    )
}


def is_manual(kind: str) -> bool:
    """Whether answers of this kind are scored by a reviewer (never run, never exported)."""
    return KINDS[kind].recipe == "manual"


def exact_kinds() -> str:
    """The answers instant feedback is for, in words (from the table)."""
    return "; ".join(k.exact_when for k in KINDS.values() if k.exact is not None)


def export_spec(kind: str, name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """What the export step passes to ``grader.inkernel.exporter`` (plain JSON data)."""
    k = KINDS[kind]
    spec: dict[str, Any] = {"name": name, "recipe": k.recipe}
    if k.recipe == "model":
        spec["arguments"] = list(options.get("arguments", ()))
        spec["probe"] = list(options.get("probe", ()))
    if k.recipe == "calls":
        cases = options.get("cases", ())
        spec["cases"] = [{"args": c["args"], "kwargs": c["kwargs"]} for c in cases]
        spec["timeout"] = options.get("call_timeout", 1.0)
        if options.get("forbids"):  # replaced by recorders during the calls
            spec["forbids"] = list(options["forbids"])
    extras = {o.name: options[o.name] for o in k.options if o.type == "variable"}
    if extras:
        spec["extras"] = extras
    return spec
