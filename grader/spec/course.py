"""course.yaml and exercises/*.yaml -> a validated ``Course``.

Errors name the file, the line and the field (``exercises/shapes.yaml:12: answer.kind: ...``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..limits import LIMIT_FIELDS, Limits
from .answer_spec import read_answer, read_instant, read_mistakes, read_public, rubric_points
from .model import CIFAR10_ENV, Assignment, Course, Exercise, Param, Topic
from .params import read_constraints, read_params
from .policies import read_policies
from .yamlfields import Fields, Map, read_yaml


def load_course(path: str | Path = "course.yaml") -> Course:
    """Read course.yaml and every exercise file it points to; validate all references.

    The course as written: its texts are templates, not yet rendered with any parameter's
    values (``grader.load_course`` renders the default variant, as grading and builds use it).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "course.yaml"
    f = Fields(read_yaml(path), path)
    f.check_keys(
        ("name", "exercises", "solutions", "checks", "limits", "data", "policies", "assignments")
    )
    root = path.parent
    name = f.get("name", str)
    exercises_dir = root / f.get("exercises", str, "exercises")
    solutions_dir = root / f.get("solutions", str, "solutions")
    checks_dir = root / f.get("checks", str, "checks")
    limits = _limits(f)
    cifar10 = _cifar10_dir(f, root)

    topics, exercises = _load_exercises(exercises_dir)
    assignments = _assignments(f, exercises)
    return Course(
        name=name,
        root=root,
        path=path,
        solutions_dir=solutions_dir,
        checks_dir=checks_dir,
        limits=limits,
        cifar10_dir=cifar10,
        assignments=assignments,
        topics=topics,
        exercises=exercises,
        fingerprint=_fingerprint(f.data, topics, solutions_dir, checks_dir),
        policies=read_policies(f, root, assignments),
    )


NOT_MADE_OF = ("policies", "data")  # course.yaml fields no notebook, hand-out or key is made of


def _fingerprint(
    data: Map, topics: Mapping[str, Topic], solutions_dir: Path, checks_dir: Path
) -> str:
    """The version of what the release is made of: course.yaml without its policies, data
    folder and due dates (a notebook is the same after an edit of those), and every topic's
    exercises, solutions and public checks. Notebooks, hand-outs and keys carry it, and a
    grading records it: an edit that changes no notebook neither remakes the key nor says
    "another release"."""
    made_of = {k: v for k, v in data.items() if k not in NOT_MADE_OF}
    made_of["assignments"] = [
        {k: v for k, v in a.items() if k != "due"} if isinstance(a, dict) else a
        for a in data.get("assignments") or ()
    ]
    digest = hashlib.sha256(json.dumps(made_of, sort_keys=True, default=str).encode())
    for t in sorted(topics.values(), key=lambda t: t.id):
        digest.update(Path(t.path).read_bytes())
        for extra in (solutions_dir / f"{t.id}.py", checks_dir / f"{t.id}.py"):
            if extra.is_file():
                digest.update(extra.read_bytes())
    return digest.hexdigest()[:16]


def _cifar10_dir(f: Fields, root: Path) -> Path | None:
    """The one CIFAR-10 folder of the course, absolute: ``data.cifar10`` (relative to the
    course folder), else ``$GRADE_CIFAR10_DIR`` (relative to the current folder), else None."""
    value: Any = None
    if "data" in f.data and f.data["data"] is not None:
        d = Fields(f.data["data"], f.path, "data.", f.line_of("data"))
        d.check_keys(("cifar10",))
        value = d.data.get("cifar10")
        if value is not None and not isinstance(value, str):
            raise d.fail("cifar10", "expected a folder path or null")
        if value:
            folder = (root / value).resolve()
            if not folder.is_dir():
                raise d.fail("cifar10", f"folder not found: {folder}")
            return folder
    env = os.environ.get(CIFAR10_ENV, "")
    if env:
        folder = Path(env).resolve()
        if not folder.is_dir():
            raise SpecError(f"{CIFAR10_ENV}: folder not found: {folder}")
        return folder
    return None


def _limits(f: Fields) -> Limits:
    if "limits" not in f.data or f.data["limits"] is None:
        return Limits()
    lf = Fields(f.data["limits"], f.path, "limits.", f.line_of("limits"))
    lf.check_keys(LIMIT_FIELDS)
    values: dict[str, Any] = {}
    for limit in fields(Limits):
        if limit.name in lf.data and lf.data[limit.name] is not None:
            value = lf.number(limit.name, None, positive=True)
            if value < limit.metadata["min"]:
                raise lf.fail(limit.name, f"must be at least {limit.metadata['min']:g}")
            values[limit.name] = int(value) if isinstance(limit.default, int) else value
    return Limits(**values)


def _assignments(f: Fields, exercises: Mapping[str, Exercise]) -> tuple[Assignment, ...]:
    items = f.get("assignments", list)
    if not items:
        raise f.fail("assignments", "at least one assignment is required")
    out: list[Assignment] = []
    used: dict[str, str] = {}
    for i, item in enumerate(items):
        a = Fields(item, f.path, f"assignments[{i}].", f.line_of("assignments"))
        a.check_keys(("id", "title", "due", "exercises"))
        aid = a.ident("id")
        if any(x.id == aid for x in out):
            raise a.fail("id", f"duplicate assignment id {aid!r}")
        ids = a.get("exercises", list)
        if not ids:
            raise a.fail("exercises", "an assignment needs at least one exercise")
        for eid in ids:
            if not isinstance(eid, str) or eid not in exercises:
                raise a.fail("exercises", f"unknown exercise id {eid!r}")
            if eid in used:
                raise a.fail("exercises", f"exercise {eid!r} is already in {used[eid]}")
            used[eid] = aid
        out.append(
            Assignment(
                id=aid,
                title=a.get("title", str, aid),
                due=_due(a),
                exercises=tuple(ids),
            )
        )
    return tuple(out)


def _due(a: Fields) -> dt.datetime | None:
    value = a.data.get("due")
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, 23, 59, tzinfo=dt.timezone.utc)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise a.fail("due", f"{value!r} is not an ISO 8601 date") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    raise a.fail("due", "expected an ISO 8601 date or date-time")


def _load_exercises(folder: Path) -> tuple[dict[str, Topic], dict[str, Exercise]]:
    if not folder.is_dir():
        raise SpecError("exercises folder not found", str(folder))
    topics: dict[str, Topic] = {}
    exercises: dict[str, Exercise] = {}
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        raise SpecError("no exercise files (*.yaml) found", str(folder))
    for path in files:
        topic = _load_topic(path, exercises)
        if topic.id in topics:
            raise SpecError(
                f"topic {topic.id!r} is also defined in {topics[topic.id].path}", str(path)
            )
        topics[topic.id] = topic
    return topics, exercises


def _load_topic(path: Path, exercises: dict[str, Exercise]) -> Topic:
    f = Fields(read_yaml(path), path)
    f.check_keys(("topic", "title", "intro", "setup", "exercises", "params", "constraints"))
    tid = f.ident("topic")
    params = read_params(f)
    items = f.get("exercises", list)
    ids: list[str] = []
    for i, item in enumerate(items):
        ex = _exercise(Fields(item, path, f"exercises[{i}].", f.line_of("exercises")), tid, params)
        if ex.id in exercises:
            other = exercises[ex.id]
            raise SpecError(
                f"duplicate exercise id {ex.id!r} (first defined at {other.path}:{other.line})",
                str(path),
                ex.line,
            )
        exercises[ex.id] = ex
        ids.append(ex.id)
    return Topic(
        id=tid,
        title=f.get("title", str, tid),
        intro=f.get("intro", str, ""),
        setup=f.get("setup", str, ""),
        path=str(path),
        exercises=tuple(ids),
        params=params,
        constraints=read_constraints(f),
    )


def _exercise(e: Fields, topic: str, topic_params: tuple[Param, ...]) -> Exercise:
    e.check_keys(
        (
            "id",
            "title",
            "points",
            "prompt",
            "starter",
            "answer",
            "hints",
            "public",
            "instant",
            "mistakes",
            "params",
            "constraints",
        )
    )
    eid = e.ident("id")
    e.prefix = f"{eid}."
    params = read_params(e)
    clash = {p.name for p in params} & {p.name for p in topic_params}
    if clash:
        raise e.fail("params", f"{', '.join(sorted(clash))} is already a parameter of the topic")
    answer = read_answer(
        Fields(e.get("answer", Map), e.path, f"{eid}.answer.", e.line_of("answer"))
    )
    hints = e.get("hints", (list, str), [])
    hints = [hints] if isinstance(hints, str) else hints
    for h in hints:
        if not isinstance(h, str):
            raise e.fail("hints", "every hint must be text")
    starter = e.get("starter", str, f"{answer.name} = ...\n")
    points = e.number("points", None, positive=True)
    rubric = rubric_points(answer)
    if rubric is not None and abs(rubric - points) > 1e-9:
        raise e.fail("points", f"{points:g} points, but the rubric's items give {rubric:g}")
    return Exercise(
        id=eid,
        title=e.get("title", str),
        points=points,
        prompt=e.get("prompt", str),
        starter=starter,
        answer=answer,
        hints=tuple(hints),
        topic=topic,
        path=str(e.path),
        line=e.data.line,
        public=read_public(e, answer),
        instant=read_instant(e, answer),
        mistakes=read_mistakes(e, answer),
        params=params,
        constraints=read_constraints(e),
    )
