"""Shared helpers for the kernel tests: a built copy of the shipped course."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def copy_course(dest: Path) -> Path:
    """Copy course.yaml, exercises/, solutions/ and checks/ into ``dest``; return course.yaml."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "course.yaml", dest / "course.yaml")
    shutil.copytree(ROOT / "exercises", dest / "exercises")
    shutil.copytree(ROOT / "solutions", dest / "solutions")
    shutil.copytree(ROOT / "checks", dest / "checks")
    return dest / "course.yaml"


def with_answers(nb_path: Path, answers: dict[str, Any], out: Path) -> Path:
    """Write a copy of a notebook whose answer cells for some exercises are replaced.

    A value is the new source, or a function of the old source that returns the new one.
    """
    nb = nbformat.read(str(nb_path), as_version=4)
    seen = set()
    for cell in nb.cells:
        tag = cell.metadata.get("grader", {})
        if tag.get("role") == "answer" and tag.get("id") in answers:
            new = answers[tag["id"]]
            cell.source = new(cell.source) if callable(new) else new
            seen.add(tag["id"])
    assert seen == set(answers), f"no answer cells for {set(answers) - seen}"
    nbformat.write(nb, str(out))
    return out
