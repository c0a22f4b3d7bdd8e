"""The course as records: answers, exercises, parameters, topics, assignments, the course.

Frozen dataclasses made by ``grader.spec.course`` from the YAML files, frozen all the way
down (every dict and list in them is a ``grader.frozen`` one, whoever makes them: they are
frozen in ``__post_init__``), so a course is hashable; stdlib only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..frozen import freeze, freeze_fields
from ..kinds import KINDS, REQUIRED, export_spec
from ..limits import Limits
from ..memo import Memo
from ..policies import Policies

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,55}$")  # "answer-" + id fits a 64-char nbformat cell id
CIFAR10_ENV = "GRADE_CIFAR10_DIR"


@dataclass(frozen=True)
class Answer:
    """How an exercise is answered and checked: a kind of ``grader.kinds.KINDS``, the variable
    the answer cell assigns, and the kind's options (every option present, defaults filled)."""

    kind: str
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze_fields(self, "options")

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
        return export_spec(self.kind, self.name, dict(self.options))


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
    # What a student may check on their own machine (see grader.inkernel.public): finite,
    # integer, shape (false: the length is part of the question), range, check (a function
    # of the topic's public checks file).
    public: Mapping[str, Any] = field(default_factory=dict)
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

    def __post_init__(self) -> None:
        freeze_fields(
            self, "hints", "public", "mistakes", "params", "constraints", "values", "templates"
        )

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

    def __post_init__(self) -> None:
        freeze_fields(self, "choices", "dims")
        object.__setattr__(self, "default", freeze(self.default))  # a list stays a list


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

    def __post_init__(self) -> None:
        freeze_fields(self, "exercises", "params", "constraints", "values", "templates")


@dataclass(frozen=True)
class Assignment:
    """An ordered list of exercises with a due date."""

    id: str
    title: str
    due: dt.datetime | None
    exercises: tuple[str, ...]

    def __post_init__(self) -> None:
        freeze_fields(self, "exercises")

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
    # What is computed from the course and kept while it lives (grader.memo): shared by the
    # courses made from it with dataclasses.replace (its variants), no part of its value.
    memo: Memo = field(default_factory=Memo, compare=False, repr=False)

    def __post_init__(self) -> None:
        freeze_fields(self, "assignments", "topics", "exercises")

    def assignment(self, assignment_id: str) -> Assignment:
        """The assignment with this id, or a SpecError listing the known ones."""
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        known = ", ".join(a.id for a in self.assignments)
        raise SpecError(f"unknown assignment {assignment_id!r} (known: {known})", str(self.path))
