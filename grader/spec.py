"""YAML course and exercise files -> validated, frozen dataclasses.

Errors name the file, the line and the field (``exercises/shapes.yaml:12: answer.kind: ...``).
Only ``yaml.SafeLoader`` is used; duplicate keys are errors, not silent overrides.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,55}$")  # fits an nbformat cell id with a prefix
KINDS = ("number", "array", "shape", "mapping", "module", "training", "custom")
TOLERANT_KINDS = ("number", "array", "mapping")


@dataclass(frozen=True)
class Answer:
    """How an exercise is answered and checked."""

    kind: str
    name: str
    rtol: float = 1e-5
    atol: float = 1e-8
    reference: str = ""  # module/training: "[exercise-id:]ClassName"
    probe: tuple[int, ...] = ()
    losses: str = "losses"
    device: str = "device"
    min_accuracy: float = 0.0
    holdout: int = 2000
    check: str = ""  # custom: function name in the topic's solutions preamble


@dataclass(frozen=True)
class Exercise:
    """One exercise: its prompt, starter cell, answer spec, points and hints."""

    id: str
    title: str
    points: float
    prompt: str
    starter: str
    answer: Answer
    hints: tuple[str, ...]
    topic: str
    path: str
    line: int


@dataclass(frozen=True)
class Topic:
    """One exercises/<topic>.yaml file."""

    id: str
    title: str
    intro: str
    setup: str
    path: str
    exercises: tuple[str, ...]


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Defaults fit the shipped course with room to spare."""

    cell_timeout: float = 120.0  # seconds one cell may run
    timeout: float = 900.0  # seconds the whole notebook may run
    memory: int = 4096  # MiB, the kernel and every process it starts
    processes: int = 64  # processes and threads at once
    output: int = 1024  # KiB one cell may print
    total_output: int = 8192  # KiB the whole notebook may print
    disk: int = 256  # MiB written in the work dir (and /tmp)


LIMIT_FIELDS = ("cell_timeout", "timeout", "memory", "processes", "output", "total_output", "disk")


@dataclass(frozen=True)
class Assignment:
    """An ordered list of exercises with a due date."""

    id: str
    title: str
    due: dt.datetime | None
    exercises: tuple[str, ...]

    def max_score(self, course: Course) -> float:
        """Sum of the points of this assignment's exercises."""
        return sum(course.exercises[e].points for e in self.exercises)


@dataclass(frozen=True)
class Course:
    """A whole course: assignments, topics and exercises, with the folders they came from."""

    name: str
    root: Path
    path: Path
    solutions_dir: Path
    limits: Limits
    cifar10_dir: str | None
    assignments: tuple[Assignment, ...]
    topics: Mapping[str, Topic]
    exercises: Mapping[str, Exercise]
    fingerprint: str = field(default="", compare=False)

    def assignment(self, assignment_id: str) -> Assignment:
        """The assignment with this id, or a SpecError listing the known ones."""
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        known = ", ".join(a.id for a in self.assignments)
        raise SpecError(f"unknown assignment {assignment_id!r} (known: {known})", str(self.path))


# --- YAML with line numbers ------------------------------------------------------------------


class _Map(dict[str, Any]):
    """A mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise SpecError(f"keys must be strings, got {key!r}", node.start_mark.name, line)
        if key in out:
            raise SpecError(f"duplicate key {key!r}", node.start_mark.name, line, key)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as e:
        line = node.start_mark.line + 1
        raise SpecError(
            f"{node.value!r} is not a valid date ({e})", node.start_mark.name, line
        ) from None


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _read_yaml(path: Path) -> _Map:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("file not found", str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"cannot read: {e}", str(path)) from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except SpecError as e:
        raise SpecError(e.message, str(path), e.line, e.key) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise SpecError(f"invalid YAML: {e.problem or e.context}", str(path), line) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", str(path)) from None
    if not isinstance(data, _Map):
        raise SpecError("expected a mapping at the top level", str(path), 1)
    return data


class _Fields:
    """Typed access to one YAML mapping, with errors that name file, line and key."""

    def __init__(self, data: Any, path: Path, prefix: str = "", line: int = 1) -> None:
        if not isinstance(data, _Map):
            raise SpecError(f"{prefix or 'value'}: expected a mapping", str(path), line)
        self.data, self.path, self.prefix = data, path, prefix

    def fail(self, key: str, message: str) -> SpecError:
        line = self.data.key_lines.get(key, self.data.line)
        return SpecError(f"{self.prefix}{key}: {message}", str(self.path), line, self.prefix + key)

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.fail(key, f"unknown field (allowed: {', '.join(allowed)})")

    def get(self, key: str, types: type | tuple[type, ...], default: Any = None) -> Any:
        if key not in self.data or self.data[key] is None:
            if default is None:
                raise SpecError(
                    f"{self.prefix}{key}: required field is missing",
                    str(self.path),
                    self.data.line,
                    self.prefix + key,
                )
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in (
            types if isinstance(types, tuple) else (types,)
        ):
            raise self.fail(key, f"expected {_type_names(types)}, got {value!r}")
        if not isinstance(value, types):
            raise self.fail(key, f"expected {_type_names(types)}, got {type(value).__name__}")
        return value

    def ident(self, key: str) -> str:
        value: str = self.get(key, str)
        if not ID_RE.match(value):
            raise self.fail(
                key, f"{value!r} is not a valid id (up to 56 lowercase letters, digits, - and _)"
            )
        return value

    def number(self, key: str, default: float | None, *, positive: bool = False) -> float:
        """A finite non-negative number; ``default=None`` makes the field required."""
        try:
            value = float(self.get(key, (int, float), default))
        except OverflowError:
            value = math.inf
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise self.fail(key, f"expected a {'positive' if positive else 'non-negative'} number")
        return value

    def line_of(self, key: str) -> int:
        return self.data.key_lines.get(key, self.data.line)


def _type_names(types: type | tuple[type, ...]) -> str:
    names = {
        "str": "text",
        "int": "an integer",
        "float": "a number",
        "list": "a list",
        "_Map": "a mapping",
    }
    ts = types if isinstance(types, tuple) else (types,)
    return " or ".join(names.get(t.__name__, t.__name__) for t in ts)


# --- course and exercises ---------------------------------------------------------------------


def load_course(path: str | Path = "course.yaml") -> Course:
    """Read course.yaml and every exercise file it points to; validate all references."""
    path = Path(path)
    if path.is_dir():
        path = path / "course.yaml"
    f = _Fields(_read_yaml(path), path)
    f.check_keys(("name", "exercises", "solutions", "limits", "data", "assignments"))
    root = path.parent
    name = f.get("name", str)
    exercises_dir = root / f.get("exercises", str, "exercises")
    solutions_dir = root / f.get("solutions", str, "solutions")
    limits = _limits(f)
    cifar10 = None
    if "data" in f.data and f.data["data"] is not None:
        d = _Fields(f.data["data"], path, "data.", f.line_of("data"))
        d.check_keys(("cifar10",))
        cifar10 = d.data.get("cifar10")
        if cifar10 is not None and not isinstance(cifar10, str):
            raise d.fail("cifar10", "expected a folder path or null")

    topics, exercises = _load_exercises(exercises_dir)
    assignments = _assignments(f, exercises)
    digest = hashlib.sha256(path.read_bytes())
    for t in sorted(topics.values(), key=lambda t: t.id):
        digest.update(Path(t.path).read_bytes())
        sol = solutions_dir / f"{t.id}.py"
        if sol.is_file():
            digest.update(sol.read_bytes())
    return Course(
        name=name,
        root=root,
        path=path,
        solutions_dir=solutions_dir,
        limits=limits,
        cifar10_dir=cifar10,
        assignments=assignments,
        topics=topics,
        exercises=exercises,
        fingerprint=digest.hexdigest()[:16],
    )


def _limits(f: _Fields) -> Limits:
    if "limits" not in f.data or f.data["limits"] is None:
        return Limits()
    lf = _Fields(f.data["limits"], f.path, "limits.", f.line_of("limits"))
    lf.check_keys(LIMIT_FIELDS)
    values: dict[str, Any] = {}
    for name in LIMIT_FIELDS:
        default = getattr(Limits, name)
        value = lf.number(name, default, positive=True)
        values[name] = int(value) if isinstance(default, int) else value
    return Limits(**values)


def _assignments(f: _Fields, exercises: Mapping[str, Exercise]) -> tuple[Assignment, ...]:
    items = f.get("assignments", list)
    if not items:
        raise f.fail("assignments", "at least one assignment is required")
    out: list[Assignment] = []
    used: dict[str, str] = {}
    for i, item in enumerate(items):
        a = _Fields(item, f.path, f"assignments[{i}].", f.line_of("assignments"))
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


def _due(a: _Fields) -> dt.datetime | None:
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
    f = _Fields(_read_yaml(path), path)
    f.check_keys(("topic", "title", "intro", "setup", "exercises"))
    tid = f.ident("topic")
    items = f.get("exercises", list)
    ids: list[str] = []
    for i, item in enumerate(items):
        ex = _exercise(_Fields(item, path, f"exercises[{i}].", f.line_of("exercises")), tid)
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
    )


def _exercise(e: _Fields, topic: str) -> Exercise:
    e.check_keys(("id", "title", "points", "prompt", "starter", "answer", "hints"))
    eid = e.ident("id")
    e.prefix = f"{eid}."
    answer = _answer(_Fields(e.get("answer", _Map), e.path, f"{eid}.answer.", e.line_of("answer")))
    hints = e.get("hints", (list, str), [])
    hints = [hints] if isinstance(hints, str) else hints
    for h in hints:
        if not isinstance(h, str):
            raise e.fail("hints", "every hint must be text")
    starter = e.get("starter", str, f"{answer.name} = ...\n")
    return Exercise(
        id=eid,
        title=e.get("title", str),
        points=e.number("points", None, positive=True),
        prompt=e.get("prompt", str),
        starter=starter,
        answer=answer,
        hints=tuple(hints),
        topic=topic,
        path=str(e.path),
        line=e.data.line,
    )


_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "number": ("rtol", "atol"),
    "array": ("rtol", "atol"),
    "shape": (),
    "mapping": ("rtol", "atol"),
    "module": ("reference", "probe"),
    "training": ("reference", "losses", "device", "min_accuracy", "holdout"),
    "custom": ("check",),
}


def _answer(a: _Fields) -> Answer:
    kind = a.get("kind", str)
    if kind not in KINDS:
        raise a.fail("kind", f"unknown kind {kind!r} (one of: {', '.join(KINDS)})")
    a.check_keys(("kind", "name", *_KIND_FIELDS[kind]))
    name = a.get("name", str)
    if not name.isidentifier():
        raise a.fail("name", f"{name!r} is not a Python variable name")
    kw: dict[str, Any] = {}
    if kind in TOLERANT_KINDS:
        kw["rtol"] = a.number("rtol", Answer.rtol)
        kw["atol"] = a.number("atol", Answer.atol)
    if kind in ("module", "training"):
        ref = a.get("reference", str)
        if not re.match(r"^([a-z0-9][a-z0-9_-]*:)?[A-Za-z_][A-Za-z0-9_]*$", ref):
            raise a.fail("reference", f"{ref!r} should be ClassName or exercise-id:ClassName")
        kw["reference"] = ref
    if kind == "module":
        probe = a.get("probe", list)
        if not probe or not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in probe
        ):
            raise a.fail("probe", "expected a list of positive integers (an input shape)")
        kw["probe"] = tuple(probe)
    if kind == "training":
        for var in ("losses", "device"):
            value = a.get(var, str, getattr(Answer, var))
            if not value.isidentifier():
                raise a.fail(var, f"{value!r} is not a Python variable name")
            kw[var] = value
        kw["min_accuracy"] = a.number("min_accuracy", 0.0)
        if kw["min_accuracy"] > 1:
            raise a.fail("min_accuracy", "expected a fraction between 0 and 1")
        holdout = a.get("holdout", int, Answer.holdout)
        if holdout <= 0:
            raise a.fail("holdout", "expected a positive integer")
        kw["holdout"] = holdout
    if kind == "custom":
        check = a.get("check", str)
        if not check.isidentifier():
            raise a.fail("check", f"{check!r} is not a function name")
        kw["check"] = check
    return Answer(kind=kind, name=name, **kw)
