"""YAML course and exercise files -> validated, frozen dataclasses.

Errors name the file, the line and the field (``exercises/shapes.yaml:12: answer.kind: ...``).
Only ``yaml.SafeLoader`` is used; duplicate keys are errors, not silent overrides.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError
from .kinds import KINDS, REQUIRED, Option, export_spec
from .limits import LIMIT_FIELDS, Limits
from .policies import Extension, LatePolicy, Policies

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,55}$")  # "answer-" + id fits a 64-char nbformat cell id
CIFAR10_ENV = "GRADE_CIFAR10_DIR"


@dataclass(frozen=True)
class Answer:
    """How an exercise is answered and checked: a kind of ``grader.kinds.KINDS``, the variable
    the answer cell assigns, and the kind's options (every option present, defaults filled)."""

    kind: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: str, name: str, **options: Any) -> Answer:
        """An answer spec in code: unknown options are errors, defaults are filled in."""
        declared = {o.name: o for o in KINDS[kind].options}
        unknown = sorted(set(options) - set(declared))
        missing = [n for n, o in declared.items() if o.default is REQUIRED and n not in options]
        if unknown or missing:
            raise SpecError(f"answer of kind {kind}: unknown {unknown}, missing {missing}")
        filled = {n: options.get(n, o.default) for n, o in declared.items()}
        return cls(kind, name, filled)

    def __getitem__(self, option: str) -> Any:
        """An option's value; prompt templates may also write ``answer.<option>``."""
        return self.options[option]

    def export_spec(self) -> dict[str, Any]:
        """What the kernel's export step needs to know (plain data)."""
        return export_spec(self.kind, self.name, self.options)


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
    # What a student may check on their own machine (see grader.kernel.public): finite,
    # integer, shape (false: the length is part of the question), range, check (a function
    # of the topic's public checks file).
    public: dict[str, Any] = field(default_factory=dict)
    instant: bool = False  # the hand-out says right or wrong now (exact answers only)
    # Wrong answers that common misconceptions produce, each with its own hint.
    mistakes: tuple[Mistake, ...] = ()
    # Per-student variants (grader.variants): the exercise's own parameters and constraints,
    # the values of this variant (the topic's and its own: what the prompt sees), and the
    # raw templates of the starter, hints and mistakes when they use the values.
    params: tuple[Param, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    templates: Mapping[str, Any] = field(default_factory=dict)

    @property
    def own_values(self) -> dict[str, Any]:
        """The values of the exercise's own parameters (its solution and mistakes see them)."""
        return {p.name: self.values[p.name] for p in self.params if p.name in self.values}


NO_DEFAULT = object()


@dataclass(frozen=True)
class Param:
    """A parameter drawn for each student (``params:``): ``draw`` one value (an ``int`` or a
    ``float`` from ``low`` to ``high``, or one of ``choices``), or a list or a matrix of them
    (``dims``: the length, or the rows and columns, each a ``(min, max)`` range). Without a
    roster, every student gets ``default``."""

    name: str
    draw: str  # "int", "float" or "choice"
    low: float = 0.0
    high: float = 0.0
    digits: int = 1  # floats: decimal places
    choices: tuple[Any, ...] = ()
    dims: tuple[tuple[int, int], ...] = ()
    default: Any = NO_DEFAULT


@dataclass(frozen=True)
class Constraint:
    """A condition the drawn values must meet: a Python expression over them (and the
    helpers of the topic's solutions preamble), as written in the YAML."""

    expression: str
    path: str
    line: int


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``function`` (in the preamble of solutions/<topic>.py, its
    parameters named after variables of the topic's setup) computes it; a student whose
    answer matches it is told ``title`` and given ``hint``."""

    function: str
    title: str
    hint: str


@dataclass(frozen=True)
class Topic:
    """One exercises/<topic>.yaml file."""

    id: str
    title: str
    intro: str
    setup: str
    path: str
    exercises: tuple[str, ...]
    params: tuple[Param, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    templates: Mapping[str, Any] = field(default_factory=dict)  # raw setup and intro


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
    checks_dir: Path  # public checks (checks/<topic>.py): they go into the hand-outs
    limits: Limits
    cifar10_dir: Path | None  # resolved: data.cifar10 (beside course.yaml) or $GRADE_CIFAR10_DIR
    assignments: tuple[Assignment, ...]
    topics: Mapping[str, Topic]
    exercises: Mapping[str, Exercise]
    fingerprint: str = field(default="", compare=False)
    policies: Policies = field(default_factory=Policies)
    variant: str = ""  # the per-student variant the texts were rendered for ("": the default)

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


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
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
    course = Course(
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
        policies=_policies(f, root, assignments),
    )
    from .variants import DEFAULT, specialize  # the texts of the default variant

    return specialize(course, DEFAULT)


NOT_MADE_OF = ("policies", "data")  # course.yaml fields no notebook, hand-out or key is made of


def _fingerprint(
    data: _Map, topics: Mapping[str, Topic], solutions_dir: Path, checks_dir: Path
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


def _policies(f: _Fields, root: Path, assignments: tuple[Assignment, ...]) -> Policies:
    """course.yaml ``policies:``: late penalty, extensions (a CSV), which attempt counts."""
    if f.data.get("policies") is None:
        return Policies()
    p = _Fields(f.data["policies"], f.path, "policies.", f.line_of("policies"))
    p.check_keys(("late", "extensions", "attempts"))
    late = LatePolicy()
    if p.data.get("late") is not None:
        lf = _Fields(p.data["late"], f.path, "policies.late.", p.line_of("late"))
        lf.check_keys(("penalty", "per", "grace", "cutoff"))
        per = lf.get("per", str, "day")
        if per not in ("day", "hour"):
            raise lf.fail("per", f"expected day or hour, got {per!r}")
        penalty = lf.number("penalty", 0.0)
        if penalty > 100:
            raise lf.fail("penalty", "expected a percentage from 0 to 100")
        cutoff = lf.number("cutoff", None) if lf.data.get("cutoff") is not None else None
        late = LatePolicy(
            penalty=penalty,
            per=per,
            grace_minutes=lf.number("grace", 0.0),
            cutoff_days=cutoff,
        )
    attempts = p.get("attempts", str, "last")
    if attempts not in ("best", "last"):
        raise p.fail("attempts", f"expected best or last, got {attempts!r}")
    extensions: tuple[Extension, ...] = ()
    source = ""
    if p.data.get("extensions") is not None:
        source = p.get("extensions", str)
        extensions = _extensions(root / source, assignments)
    return Policies(late=late, attempts=attempts, extensions=extensions, extensions_file=source)


def _extensions(path: Path, assignments: tuple[Assignment, ...]) -> tuple[Extension, ...]:
    """``student,assignment,due`` rows (a header line first): a later due date for the student
    a line names (an id, an e-mail or an LMS id; ``grader.policies`` matches it), an ISO date
    or date-time, or ``+N`` days after the assignment's own."""
    import csv

    due = {a.id: a.due for a in assignments}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SpecError(f"cannot read the extensions ({e})", str(path)) from None
    out = []
    for line, row in enumerate(rows, 1):
        if not row or not any(c.strip() for c in row) or (line == 1 and row[0] == "student"):
            continue
        if len(row) != 3:
            raise SpecError("expected student,assignment,due", str(path), line)
        student, assignment, when = (c.strip() for c in row)
        if not student:
            raise SpecError("the line names no student", str(path), line)
        if assignment not in due:
            raise SpecError(f"unknown assignment {assignment!r}", str(path), line)
        try:
            if when.startswith("+"):
                base = due[assignment]
                if base is None:
                    raise ValueError("the assignment has no due date to add days to")
                new = base + dt.timedelta(days=float(when[1:]))
            else:
                new = dt.datetime.fromisoformat(when)
                if "T" not in when and " " not in when:
                    new = new.replace(hour=23, minute=59)
                new = new if new.tzinfo else new.replace(tzinfo=dt.timezone.utc)
        except ValueError as e:
            raise SpecError(f"{when!r} is not a date or +days ({e})", str(path), line) from None
        out.append(Extension(student, assignment, new, str(path), line))
    return tuple(out)


def _cifar10_dir(f: _Fields, root: Path) -> Path | None:
    """The one CIFAR-10 folder of the course, absolute: ``data.cifar10`` (relative to the
    course folder), else ``$GRADE_CIFAR10_DIR`` (relative to the current folder), else None."""
    value: Any = None
    if "data" in f.data and f.data["data"] is not None:
        d = _Fields(f.data["data"], f.path, "data.", f.line_of("data"))
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


def _limits(f: _Fields) -> Limits:
    if "limits" not in f.data or f.data["limits"] is None:
        return Limits()
    lf = _Fields(f.data["limits"], f.path, "limits.", f.line_of("limits"))
    lf.check_keys(LIMIT_FIELDS)
    values: dict[str, Any] = {}
    for limit in fields(Limits):
        if limit.name in lf.data and lf.data[limit.name] is not None:
            value = lf.number(limit.name, None, positive=True)
            if value < limit.metadata["min"]:
                raise lf.fail(limit.name, f"must be at least {limit.metadata['min']:g}")
            values[limit.name] = int(value) if isinstance(limit.default, int) else value
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
    f.check_keys(("topic", "title", "intro", "setup", "exercises", "params", "constraints"))
    tid = f.ident("topic")
    params = _params(f)
    items = f.get("exercises", list)
    ids: list[str] = []
    for i, item in enumerate(items):
        ex = _exercise(_Fields(item, path, f"exercises[{i}].", f.line_of("exercises")), tid, params)
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
        constraints=_constraints(f),
    )


def _exercise(e: _Fields, topic: str, topic_params: tuple[Param, ...]) -> Exercise:
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
    params = _params(e)
    clash = {p.name for p in params} & {p.name for p in topic_params}
    if clash:
        raise e.fail("params", f"{', '.join(sorted(clash))} is already a parameter of the topic")
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
        public=_public(e, answer),
        instant=_instant(e, answer),
        mistakes=_mistakes(e, answer),
        params=params,
        constraints=_constraints(e),
    )


GENERATORS = ("int", "float", "choice")
RESERVED = ("id", "title", "points", "answer", "loop", "self")
PARAM_KEYS = (*GENERATORS, "list", "matrix", "digits", "default")


def _params(f: _Fields) -> tuple[Param, ...]:
    """``params:``: name -> generator (``int: [low, high]``, ``float: [low, high]`` with
    ``digits``, or ``choice: [...]``; ``list: n`` or ``matrix: [rows, cols]`` make a list or
    a matrix of them, a size may be a ``[min, max]`` range) and its ``default``."""
    if f.data.get("params") is None:
        return ()
    items = _Fields(f.get("params", _Map), f.path, f"{f.prefix}params.", f.line_of("params"))
    out = []
    for name in items.data:
        if not name.isidentifier() or name.startswith("_"):
            raise items.fail(name, "a parameter name must be a Python variable name")
        if name in RESERVED:
            raise items.fail(name, f"{name!r} is taken (prompts already use it)")
        p = _Fields(items.data[name], f.path, f"{items.prefix}{name}.", items.line_of(name))
        p.check_keys(PARAM_KEYS)
        draws = [g for g in GENERATORS if p.data.get(g) is not None]
        if len(draws) != 1:
            raise items.fail(name, f"give exactly one of {', '.join(GENERATORS)}")
        draw = draws[0]
        low = high = 0.0
        choices: tuple[Any, ...] = ()
        if draw == "choice":
            choices = tuple(p.get("choice", list))
            if not choices:
                raise p.fail("choice", "expected a non-empty list")
        else:
            bounds = p.get(draw, list)
            kind = int if draw == "int" else (int, float)
            if len(bounds) != 2 or not all(
                isinstance(b, kind) and not isinstance(b, bool) for b in bounds
            ):
                raise p.fail(
                    draw, f"expected [low, high], two {'integers' if draw == 'int' else 'numbers'}"
                )
            low, high = bounds
            if low > high:
                raise p.fail(draw, "low is above high")
        digits = int(p.number("digits", 1)) if draw == "float" else 0
        if p.data.get("list") is not None and p.data.get("matrix") is not None:
            raise p.fail("matrix", "give list or matrix, not both")
        dims: tuple[tuple[int, int], ...] = ()
        if p.data.get("list") is not None:
            dims = (_size(p, "list", p.data["list"]),)
        elif p.data.get("matrix") is not None:
            sizes = p.get("matrix", list)
            if len(sizes) != 2:
                raise p.fail("matrix", "expected [rows, columns]")
            dims = tuple(_size(p, "matrix", n) for n in sizes)
        param = Param(name, draw, low, high, digits, choices, dims)
        if "default" in p.data:
            default = p.data["default"]
            problem = _unlike(param, default)
            if problem:
                raise p.fail("default", problem)
            param = Param(name, draw, low, high, digits, choices, dims, default)
        out.append(param)
    return tuple(out)


def _size(p: _Fields, key: str, value: Any) -> tuple[int, int]:
    """A list length or matrix size: ``n`` or ``[min, max]``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return (value, value)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value)
        and value[0] <= value[1]
    ):
        return (value[0], value[1])
    raise p.fail(key, "a size is a positive integer or [min, max]")


def _unlike(param: Param, value: Any, depth: int = 0) -> str:
    """Why ``value`` is not of the parameter's form (its type, and its sizes), or ''."""
    if depth < len(param.dims):
        low, high = param.dims[depth]
        if not isinstance(value, list) or not low <= len(value) <= high:
            size = str(low) if low == high else f"{low} to {high}"
            return f"expected a list of {size} items, like the generator makes"
        return next((why for v in value if (why := _unlike(param, v, depth + 1))), "")
    if param.draw == "int" and (not isinstance(value, int) or isinstance(value, bool)):
        return f"expected an integer, got {value!r}"
    if param.draw == "float" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        return f"expected a number, got {value!r}"
    return ""


def _constraints(f: _Fields) -> tuple[Constraint, ...]:
    """``constraints:``: Python expressions the drawn values must make true."""
    items = f.get("constraints", list, [])
    out = []
    for text in items:
        if not isinstance(text, str):
            raise f.fail("constraints", "every constraint is a Python expression, as text")
        try:
            compile(text, "<constraint>", "eval")
        except SyntaxError as e:
            raise f.fail("constraints", f"{text!r} is not a Python expression ({e.msg})") from None
        out.append(Constraint(text, str(f.path), f.line_of("constraints")))
    return tuple(out)


def _mistakes(e: _Fields, answer: Answer) -> tuple[Mistake, ...]:
    """An exercise's known mistakes (``mistakes:``): function, title and hint each."""
    items = e.get("mistakes", list, [])
    if items and not KINDS[answer.kind].keyed:
        raise e.fail(
            "mistakes",
            f"known mistakes need an answer with a reference value, not kind {answer.kind!r}",
        )
    out = []
    for i, item in enumerate(items):
        m = _Fields(item, e.path, f"{e.prefix}mistakes[{i}].", e.line_of("mistakes"))
        m.check_keys(("function", "title", "hint"))
        function = m.get("function", str)
        if not function.isidentifier():
            raise m.fail("function", f"{function!r} is not a function name")
        out.append(Mistake(function, m.get("title", str), m.get("hint", str)))
    if len({m.function for m in out}) < len(out):
        raise e.fail("mistakes", "a function is listed twice")
    return tuple(out)


def _public(e: _Fields, answer: Answer) -> dict[str, Any]:
    """An exercise's declared public checks (the kind's own come on top, see handout.py)."""
    if e.data.get("public") is None:
        return {}
    p = _Fields(e.data["public"], e.path, f"{e.prefix}public.", e.line_of("public"))
    p.check_keys(("finite", "integer", "shape", "range", "check"))
    out: dict[str, Any] = {}
    for flag in ("finite", "integer", "shape"):
        if p.data.get(flag) is not None:
            out[flag] = p.get(flag, bool)
    if p.data.get("range") is not None:
        bounds = p.get("range", list)
        if len(bounds) != 2 or not all(
            isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds
        ):
            raise p.fail("range", "expected [low, high], two numbers")
        if bounds[0] > bounds[1]:
            raise p.fail("range", "low is above high")
        out["range"] = [bounds[0], bounds[1]]
    if p.data.get("check") is not None:
        name = p.get("check", str)
        if not name.isidentifier():
            raise p.fail("check", f"{name!r} is not a function name")
        out["check"] = name
    return out


def _instant(e: _Fields, answer: Answer) -> bool:
    """``instant: true`` asks for right/wrong feedback in the hand-out: exact answers only."""
    if e.data.get("instant") is None:
        return False
    wanted: bool = e.get("instant", bool)
    if not wanted:
        return False
    # A number is exact when its reference is an int: `grade build` checks that one.
    exact = answer.kind in ("shape", "number") or (
        answer.kind in ("array", "mapping") and answer["rtol"] == 0 and answer["atol"] == 0
    )
    if not exact:
        raise e.fail(
            "instant",
            "instant feedback is for exact answers only: a shape, a number with an int "
            "reference, or an array or mapping compared with rtol: 0 and atol: 0",
        )
    return True


def _answer(a: _Fields) -> Answer:
    kind_name = a.get("kind", str)
    if kind_name not in KINDS:
        raise a.fail("kind", f"unknown kind {kind_name!r} (one of: {', '.join(KINDS)})")
    kind = KINDS[kind_name]
    a.check_keys(("kind", "name", *(o.name for o in kind.options)))
    name = a.get("name", str)
    if not name.isidentifier():
        raise a.fail("name", f"{name!r} is not a Python variable name")
    return Answer(kind=kind_name, name=name, options={o.name: _option(a, o) for o in kind.options})


def _option(a: _Fields, option: Option) -> Any:
    """Read and check one option of an answer spec, by its type (see grader.kinds)."""
    key, default = option.name, option.default
    if option.type in ("tolerance", "number", "fraction"):
        value = a.number(key, None if default is REQUIRED else default)
        if option.type == "fraction" and value > 1:
            raise a.fail(key, "expected a fraction between 0 and 1")
        return value
    if option.type == "holdout":
        count: int = a.get(key, int, None if default is REQUIRED else default)
        if count <= 0:
            raise a.fail(key, "expected a positive integer")
        return count
    if option.type == "shape":
        if default is not REQUIRED and a.data.get(key) is None:
            return tuple(default)
        shape = a.get(key, list)
        if not shape or not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape
        ):
            raise a.fail(key, "expected a list of positive integers (an input shape)")
        return tuple(shape)
    if option.type == "arguments":
        args = a.get(key, list, list(default))
        if not all(isinstance(v, (int, float, str, bool)) for v in args):
            raise a.fail(key, "expected a list of numbers, text or booleans")
        return tuple(args)
    text: str = a.get(key, str, None if default is REQUIRED else default)
    if option.type == "reference":
        if not re.match(r"^([a-z0-9][a-z0-9_-]*:)?[A-Za-z_][A-Za-z0-9_]*$", text):
            raise a.fail(key, f"{text!r} should be ClassName or exercise-id:ClassName")
    elif not text.isidentifier():  # function, variable, setup
        what = "function" if option.type == "function" else "Python variable"
        raise a.fail(key, f"{text!r} is not a {what} name")
    return text
