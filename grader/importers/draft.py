"""A course being imported, and how it is written as course.yaml, exercises/ and solutions/.

Exercises are plain mappings in the YAML's own shape (``grader.spec`` reads them back); the
draft keeps what the import could not translate, one line per cell, for the command to list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import GraderError
from ..ids import slug as slug_of


@dataclass
class Topic:
    """One source notebook: a topic of the course, and its reference solutions."""

    id: str
    title: str
    intro: str = ""
    setup: str = ""
    exercises: list[dict[str, Any]] = field(default_factory=list)
    solutions: dict[str, str] = field(default_factory=dict)  # exercise id -> section


@dataclass
class Draft:
    """A whole imported course, and what the import says about it."""

    name: str
    # id, title, topic ids
    assignments: list[tuple[str, str, list[str]]] = field(default_factory=list)
    topics: dict[str, Topic] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # "<file> cell N (...): kept as manual: why"


def identifier(text: str) -> str:
    """A Python identifier made from an exercise id (a manual answer's name)."""
    name = re.sub(r"\W", "_", text)
    return name if name and not name[0].isdigit() else f"_{name}"


def slug(text: str) -> str:
    """An assignment or topic id made from a file or folder name."""
    out = slug_of(text)
    return out if out else "topic"


class _Dumper(yaml.SafeDumper):
    """Block scalars for multi-line text: the YAML an author would write."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    if style:  # a block scalar keeps no trailing blanks on lines: strip them
        value = "\n".join(line.rstrip() for line in value.split("\n"))
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    flat = all(v is None or isinstance(v, (bool, int, float, str)) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(list, _list)


def dump(data: Any) -> str:
    """YAML text of plain data, keys in the order given."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def write(draft: Draft, out: Path, force: bool = False, manual: bool = True) -> None:
    """Write the course under ``out``: refused when ``out`` holds anything, unless ``force``
    (then its exercises/*.yaml and solutions/*.py are replaced by the import's).

    With ``manual=False`` the manual exercises are left out (the autograded part alone).
    """
    if out.exists() and not out.is_dir():
        raise GraderError(f"{out} is not a folder")
    if out.exists() and any(out.iterdir()) and not force:
        raise GraderError(f"{out} is not empty: pass --force to write into it")
    (out / "exercises").mkdir(parents=True, exist_ok=True)
    (out / "solutions").mkdir(parents=True, exist_ok=True)
    # A course written over: an old topic file left beside the new ones would be read too.
    for old in [*(out / "exercises").glob("*.yaml"), *(out / "solutions").glob("*.py")]:
        old.unlink()
    kept = {
        t.id: [e for e in t.exercises if manual or e["answer"]["kind"] != "manual"]
        for t in draft.topics.values()
    }
    assignments = []
    for aid, title, topics in draft.assignments:
        ids = [e["id"] for t in topics for e in kept[t]]
        if ids:
            assignments.append({"id": aid, "title": title, "exercises": ids})
    course = {"name": draft.name, "assignments": assignments}
    (out / "course.yaml").write_text(dump(course), encoding="utf-8")
    for topic in draft.topics.values():
        if not kept[topic.id]:
            continue
        data: dict[str, Any] = {"topic": topic.id, "title": topic.title}
        if topic.intro.strip():
            data["intro"] = topic.intro.strip() + "\n"
        data["setup"] = topic.setup.strip() + "\n" if topic.setup.strip() else ""
        data["exercises"] = kept[topic.id]
        (out / "exercises" / f"{topic.id}.yaml").write_text(dump(data), encoding="utf-8")
        sections = [f'"""Reference solutions: {topic.title} (imported)."""\n']
        for ex in kept[topic.id]:
            sections.append(f"# %% {ex['id']}\n{topic.solutions[ex['id']].rstrip()}\n")
        (out / "solutions" / f"{topic.id}.py").write_text("\n".join(sections), encoding="utf-8")
