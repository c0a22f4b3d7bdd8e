"""Where two forwards part: the stages of the student's model (traced in the kernel by
``grader.inkernel.stages``) against the reference's, traced the same way here.

Only wording comes from here, never a mark: the behaviour check has already failed when these
are compared. Styles of code trace to stages of different granularity (a ``ReLU`` module or
``F.relu``, ``nn.Flatten`` or ``.view``, ``AdaptiveAvgPool2d`` then ``Flatten`` or one
``.mean(dim=(2, 3))``), so the stages are grouped into segments: a segment starts where an
operation changes the shape of the data, and an operation that only reshapes it (``flatten``,
``view``, ``squeeze``: the same values in another shape) or moves it (``.to``) belongs to the
segment before it. The sequences of segment shapes are style-independent. They are aligned
(``difflib``, as a diff aligns lines), and what differs is named in this order: the first
segment the alignment replaces (other shapes at the same point), then the first paired
segments whose operations differ, then a segment only one side has. Only along one path: past
a stage that reads anything but the stage before it (a skip connection), the order of stages
is not the order of the data's path, and nothing is said from there on. Every sentence says
what each trace shows; where a side did not trace, nothing is said.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..inkernel.stages import MAX_STAGES

MAX_DIMS = 16
MAX_SIZE = 2**40  # a dimension larger than this is no real tensor's

# Operations that move values into another shape, memory or device and change none of them.
RESHAPES = frozenset(
    {"flatten", "view", "reshape", "squeeze", "unsqueeze", "contiguous", "identity", "unflatten"}
    | {"to", "float", "cpu", "cuda", "clone", "detach", "type_as"}
)
# Module types and functions that compute the same operation, under one name (keys: the
# name in snake case, as ``canonical`` first writes it).
CANONICAL = {
    "batch_norm1d": "batch_norm",
    "batch_norm2d": "batch_norm",
    "batch_norm3d": "batch_norm",
    "re_lu": "relu",
    "re_lu6": "relu6",
    "leaky_re_lu": "leaky_relu",
    "p_re_lu": "prelu",
    "si_lu": "silu",
    "iadd": "add",
    "imul": "mul",
    "mean": "adaptive_avg_pool2d",  # over the spatial dims, where the segments' shapes agree
}
_WORDS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class Stage:
    """One stage: its position in the forward (1-based), operation, module name (or ''),
    output shape and the positions of the stages it reads (0: the input)."""

    index: int
    op: str
    name: str
    shape: tuple[int, ...]
    inputs: tuple[int, ...]

    def label(self) -> str:
        return f"{self.op} `{self.name}`" if self.name else self.op


def read_stages(value: Any) -> list[Stage] | None:
    """The exported stages validated as plain data; None when they are missing or unusable."""
    if not isinstance(value, list) or len(value) > MAX_STAGES:
        return None
    out = []
    for index, item in enumerate(value, 1):
        if not isinstance(item, dict):
            return None
        op, name, shape = item.get("op"), item.get("name", ""), item.get("shape")
        inputs = item.get("inputs")
        if not (isinstance(op, str) and isinstance(name, str) and isinstance(shape, list)):
            return None
        if not (_dims(shape) and isinstance(inputs, list) and len(inputs) <= MAX_DIMS):
            return None
        if not all(_int(i) and 0 <= i < index for i in inputs):
            return None
        out.append(Stage(index, op[:60], name[:80], tuple(shape), tuple(inputs)))
    return out


def canonical(op: str) -> str:
    """The operation's name as a function: ``BatchNorm2d`` and ``batch_norm`` are one,
    ``ReLU``, ``relu`` and ``relu_`` too."""
    snake = _WORDS.sub("_", op).lower().strip("_")
    return CANONICAL.get(snake, snake)


@dataclass
class Segment:
    """Stages from one shape change to the next: the shape they end on, the stage that
    produced it (None: the input itself), and the stages in it."""

    shape: tuple[int, ...]
    producer: Stage | None = None
    stages: list[Stage] = field(default_factory=list)

    def ops(self) -> list[Stage]:
        """Its stages that compute (reshapes and moves left out)."""
        return [s for s in self.stages if canonical(s.op) not in RESHAPES]

    def key(self) -> tuple[tuple[int, ...], str]:
        """What aligns it with another forward's: its shape, and the operation that changed
        the shape (the first that computes), so that a shape reached by other means (a
        stride where the reference pools) is not taken for the same point."""
        ops = self.ops()
        return self.shape, canonical(ops[0].op) if ops else ""


def segments(stages: list[Stage], probe: tuple[int, ...]) -> list[Segment]:
    """The stages grouped by the shape changes of the data (see the module's docstring)."""
    out = [Segment(tuple(probe))]
    for stage in stages:
        last = out[-1]
        if stage.shape == last.shape:
            last.stages.append(stage)
        elif canonical(stage.op) in RESHAPES and math.prod(stage.shape) == math.prod(last.shape):
            last.stages.append(stage)
            last.shape, last.producer = stage.shape, stage
        else:
            out.append(Segment(stage.shape, stage, [stage]))
    return out


@dataclass(frozen=True)
class Comparison:
    """What the two traces establish: a shape difference, else an operation difference
    (both '' when there is none), and whether both traced to the same stages."""

    shapes: str = ""
    ops: str = ""
    same: bool = False


def compare(student: Any, reference: list[Stage], probe: tuple[int, ...]) -> Comparison:
    """The student's exported stages (unvalidated) against the reference's."""
    mine = read_stages(student)
    if mine is None:
        return Comparison()
    paths = _path(mine), _path(reference)  # the first stage off the path, on each side
    ours, theirs = (
        [seg for seg in segments(stages, probe) if _last(seg) < path]
        for stages, path in zip((mine, reference), paths, strict=True)
    )
    whole = paths == (len(mine) + 1, len(reference) + 1)
    matcher = difflib.SequenceMatcher(
        None, [seg.key() for seg in ours], [seg.key() for seg in theirs], autojunk=False
    )
    blocks = matcher.get_opcodes()
    for op, i1, i2, j1, j2 in blocks:
        for got, want in zip(ours[i1:i2], theirs[j1:j2], strict=False) if op == "replace" else ():
            if got.shape != want.shape:
                return Comparison(shapes=_shape_message(got, want))
            a, b = got.ops(), want.ops()
            if whole and [canonical(s.op) for s in a] != [canonical(s.op) for s in b]:
                return Comparison(ops=_ops_message(got, a, b))
    if not whole:
        return Comparison()  # a branching path: its operations have no order to compare
    for op, i1, i2, j1, _ in blocks:
        for got, want in zip(ours[i1:i2], theirs[j1:], strict=False) if op == "equal" else ():
            a, b = got.ops(), want.ops()
            if [canonical(s.op) for s in a] != [canonical(s.op) for s in b]:
                return Comparison(ops=_ops_message(got, a, b))
    for op, i1, _, j1, _ in blocks:
        if op == "insert":
            return Comparison(shapes=_missing(ours[i1 - 1] if i1 else None, theirs[j1]))
        if op == "delete":
            return Comparison(shapes=_extra(ours[i1]))
        if op == "replace":  # pairs alike in shapes and operations, of unequal numbers
            return Comparison()
    return Comparison(same=True)


def _extra(segment: Segment) -> str:
    """A segment only the student's forward has."""
    return (
        f"after {_where(segment)} the output is {list(segment.shape)}, a shape the "
        "reference's forward does not have there"
    )


def _missing(before: Segment | None, want: Segment) -> str:
    """A segment only the reference's forward has, where ``before`` is the student's."""
    theirs = f" after its {want.producer.op}" if want.producer else ""
    mine = f"after {_where(before)} (output {list(before.shape)})" if before else "at first"
    return (
        f"the reference's forward has an output of shape {list(want.shape)}{theirs}, "
        f"which the model's does not have {mine}"
    )


def _where(segment: Segment) -> str:
    if segment.producer is None:
        return "the input"
    return f"stage {segment.producer.index} ({segment.producer.label()})"


def _last(segment: Segment) -> int:
    """The position of the segment's last stage as far as its shape goes (0: the input)."""
    return segment.producer.index if segment.producer else 0


def _shape_message(got: Segment, want: Segment) -> str:
    theirs = f" (after its {want.producer.op})" if want.producer else ""
    return (
        f"after {_where(got)} the output is {list(got.shape)}, the reference's is "
        f"{list(want.shape)}{theirs}"
    )


def _ops_message(segment: Segment, mine: list[Stage], theirs: list[Stage]) -> str:
    if mine:
        first, last = mine[0].index, mine[-1].index
        where = f"at stage {first}" if first == last else f"at stages {first}-{last}"
        where += f" (output {list(segment.shape)})"
    elif segment.producer:
        where = f"after {_where(segment)}"
    else:
        where = f"on the input ({list(segment.shape)})"
    ops = ", ".join(s.op for s in mine) or "nothing"
    ref = ", ".join(s.op for s in theirs) or "nothing"
    same = sorted(canonical(s.op) for s in mine) == sorted(canonical(s.op) for s in theirs)
    return f"{where} the model computes {ops}, where the reference computes {ref}" + (
        " (the same operations in another order)" if same else ""
    )


def _path(stages: list[Stage]) -> int:
    """The position of the first stage that reads anything but the stage just before it
    (past the last stage when there is none): up to it, the forward is one path."""
    return next((s.index for s in stages if s.inputs != (s.index - 1,)), len(stages) + 1)


def _dims(value: list[Any]) -> bool:
    return len(value) <= MAX_DIMS and all(_int(d) and 0 <= d <= MAX_SIZE for d in value)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
