"""Student text made safe for terminals, CI logs, HTML and XML."""

from __future__ import annotations

import pytest

from grader.sanitize import clean_text, one_line


@pytest.mark.parametrize(
    "text,clean",
    [
        ("\x1b[1;31mred\x1b[0m\x00 a\r\nb\x07", "red a\nb"),
        ("\x1b]0;title\x07ok", "ok"),
        ("::error file=a.py::boom", ": :error file=a.py::boom"),
        ("  ::warning::x", "  : :warning::x"),
        ("fine\n::set-output name=x::y", "fine\n: :set-output name=x::y"),
        ("##vso[task.setvariable variable=x]1", "# #vso[task.setvariable variable=x]1"),
        ("text ##[group]x", "text # #[group]x"),
        ("a::b", "a::b"),  # not a command: kept as written
        # bidirectional overrides and isolates reorder what is shown; other text stays
        ("alice\u202egnp.exe", "alicegnp.exe"),
        ("x\u2066y\u2069z \u05d0\u05d1 é", "xyz \u05d0\u05d1 é"),
    ],
)
def test_clean_text(text, clean):
    assert clean_text(text) == clean


@pytest.mark.parametrize(
    "text",
    ["a ::error::x", "::error::x\n::warning::y", "\x1b[2J::x::", "a:::b", "x\r::stop-commands::y"],
)
def test_one_line_leaves_no_command_a_runner_could_obey(text):
    line = one_line(text)
    assert "\n" not in line and "\x1b" not in line and "::" not in line
