"""README's "What can be graded": a row for every answer kind, and each row's example is an
``answer:`` the course format reads as that kind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from grader.kinds import KINDS
from grader.spec.answer_spec import read_answer
from grader.spec.yamlfields import Fields, Loader

README = Path(__file__).resolve().parent.parent / "README.md"


def _rows() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## What can be graded\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            for kind in re.findall(r"`(\w+)`", cells[0]):
                rows[kind] = cells[2].strip("`")
    return rows


def test_every_kind_has_a_row():
    assert sorted(_rows()) == sorted(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_row_s_example_reads_as_its_kind(kind, tmp_path):
    example = yaml.load(_rows()[kind], Loader=Loader)  # the course format's loader
    if kind == "series":  # the row of dataframe and series shows a dataframe
        example["kind"] = "series"
    answer = read_answer(Fields(example, tmp_path / "README.md", "answer."))
    assert answer.kind == kind
