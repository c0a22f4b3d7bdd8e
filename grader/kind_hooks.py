"""The hooks of the choice, dataframe, series and figure kinds' entries in ``grader.kinds``:
their option rules, what their hand-outs may state of the reference, the text a choice adds to
its prompt, and its transforms. Stdlib only; a leaf (it imports nothing of the package)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any


def choice_canon(options: Mapping[str, Any]) -> tuple[str, ...]:
    """A choice's transforms (``grader.inkernel.sealed``): a bool as its text (``tf = True``
    answers the option "True"), case and white space aside, a multiple answer as a set."""
    words = ("bools", "casefold", "spaces")
    return (*words, "set") if options["multiple"] else words


def choice_prompt(options: Mapping[str, Any], variant: str) -> str:
    """The options as a list, in the author's order or (``shuffle``) in one stable order for
    each variant: the answer is an option's text, so the order changes nothing else."""
    shown = list(options["options"])
    if options["shuffle"]:
        random.Random(f"choice/{variant}/{'|'.join(shown)}").shuffle(shown)
    how = (
        "a list of the texts of every option that applies"
        if options["multiple"]
        else "the text of one option (a str)"
    )
    items = "\n".join(f"- {_code(o)}" for o in shown)
    return f"Options (answer with {how}):\n\n{items}"


def _code(text: str) -> str:
    """Markdown inline code of any text (a text with backticks in longer fences)."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if fence != "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def frame_facts(ref: Any) -> dict[str, Any]:
    """What a DataFrame's hand-out may say: its columns' labels (``public: {shape: false}``
    keeps them out, as for an array's shape)."""
    try:
        return {"columns": list(ref["columns"]["labels"])}
    except (KeyError, TypeError):
        return {}


def series_facts(ref: Any) -> dict[str, Any]:
    """What a Series' hand-out may say: its length."""
    try:
        return {"rows": int(ref["shape"][0])}
    except (KeyError, TypeError, IndexError, ValueError):
        return {}


# What a figure's check may compare (its ``compare`` option), all by default.
FIGURE_PARTS = ("lines", "bars", "scatter", "title", "labels", "legend", "scales")


def figure_parts(names: Any) -> str:
    """What is wrong with a figure's ``compare`` ("" when it names known parts)."""
    unknown = [n for n in names if n not in FIGURE_PARTS]
    if unknown or not names:
        return f"expected a list of parts among: {', '.join(FIGURE_PARTS)}"
    return ""


# The texts of an axes a figure's ``patterns`` may give a regular expression for.
FIGURE_TEXTS = ("title", "xlabel", "ylabel")


def patterns_with_regex(options: Mapping[str, Any]) -> tuple[str, str] | None:
    """A figure's ``patterns`` go with ``match: regex``, and it needs them."""
    if options["match"] == "regex" and not options["patterns"]:
        return "patterns", "match: regex needs patterns (e.g. {title: 'Loss.*'})"
    if options["match"] != "regex" and options["patterns"]:
        return "patterns", "patterns are read with match: regex only"
    return None


def figure_facts(ref: Any) -> dict[str, Any]:
    """What a figure's hand-out may say: its number of axes."""
    try:
        return {"axes": len(ref["axes"])}
    except (KeyError, TypeError):
        return {}
