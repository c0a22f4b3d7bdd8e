"""Grading on a student's own machine, with the hand-out only (``grader.handout_release``
writes it).

``grade`` in the hand-out folder runs the notebook as official grading does (sandboxed when
bubblewrap is there) and judges it with the one judge (``grader.judge.scoring``) and a public
context (``grader.judge.public_context``): the hand-out's public checks, instant digests and
sealed mistakes; it says what is decided here and what at grading (``pending``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .assemble import assemble
from .errors import GraderError, SpecError
from .execute.records import Executed
from .grading import Judge, Submitted, grade_one
from .identity import Identity
from .inkernel.public import HANDOUT, HANDOUT_FORMAT
from .judge.public_context import PublicExpectations
from .judge.record import judged
from .limits import Limits
from .notebooks import read_notebook
from .options import GradeOptions
from .results import AWAITING, GradeResult, Judged
from .runners import fresh_kernel
from .spec import Answer, Assignment, Course, Exercise, Topic

CALM = "no sandbox here: your notebook ran as your own code on your own machine"


def find_handout(near: Path) -> Path | None:
    """The hand-out file beside a notebook, or in or above the current folder."""
    for start in (near.resolve().parent, Path.cwd()):
        for folder in (start, *start.parents):
            if (folder / HANDOUT).is_file():
                return folder / HANDOUT
    return None


def load_handout(path: Path) -> tuple[Course, dict[str, Any]]:
    """A hand-out as a course of one assignment (no solutions, no key) and its data."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != HANDOUT_FORMAT:
            raise SpecError(
                f"this hand-out was made by another version of grade (format "
                f"{data.get('format')!r}; this grade reads format {HANDOUT_FORMAT}): install "
                "the grader wheel (.whl) that came with the hand-out, or get the hand-out again",
                str(path),
            )
        a = data["assignment"]
        topics = {
            t: Topic(
                t,
                info["title"],
                "",
                info["setup"],
                str(path),
                tuple(e["id"] for e in data["exercises"] if e["topic"] == t),
            )
            for t, info in data["topics"].items()
        }
        exercises = {e["id"]: _exercise_from(e, path) for e in data["exercises"]}
        due = dt.datetime.fromisoformat(a["due"]) if a.get("due") else None
        assignment = Assignment(a["id"], a["title"], due, tuple(exercises))
        limits = Limits().override(data.get("limits", {}))
    except SpecError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, GraderError) as e:
        raise SpecError(f"not a usable hand-out ({e})", str(path)) from None
    course = Course(
        name=data["course"],
        root=path.parent,
        path=path,
        solutions_dir=path.parent / "(no solutions in a hand-out)",
        checks_dir=path.parent,
        limits=limits,
        cifar10_dir=None,
        assignments=(assignment,),
        topics=topics,
        exercises=exercises,
        fingerprint=data.get("version", ""),
    )
    return course, data


def _exercise_from(e: dict[str, Any], path: Path) -> Exercise:
    answer = dict(e["answer"])
    kind, name = answer.pop("kind"), answer.pop("name")
    for built in ("recipe", "checks", "single", "canon"):  # the public checks' data
        answer.pop(built, None)
    extras = answer.pop("extras", {}) or {}
    options = {**answer, **extras}
    return Exercise(
        e["id"],
        e["title"],
        float(e["points"]),
        "",
        e["starter"],
        Answer(kind, name, options),
        tuple(e.get("hints", ())),
        e["topic"],
        str(path),
        0,
        dict(e.get("public") or {}),
        bool(e.get("instant")),
    )


def grade_with_handout(
    notebook: Path,
    handout: Path,
    options: GradeOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> GradeResult:
    """Run a notebook as official grading does and check it with the hand-out only.

    The sandbox is bubblewrap's when it is installed, else none (``sandbox="optional"``):
    on a student's machine the code is the student's own."""
    options = options or GradeOptions(sandbox="optional")
    course, data = load_handout(handout)
    nb = read_notebook(notebook)
    assignment = course.assignments[0]
    meta = nb.metadata.get("grader", {})
    declared = meta.get("assignment") if isinstance(meta, dict) else None
    if declared not in (None, assignment.id):
        raise GraderError(
            f"{notebook.name} is assignment {declared!r}; this hand-out is {assignment.id!r}"
        )
    submitted = Submitted(
        course, assignment.id, notebook.name, Identity(), assemble(course, assignment.id, nb)
    )
    runner = fresh_kernel(options.exec_options(course))
    graded = grade_one(submitted, options, runner, PublicChecks(data))
    if options.sandbox == "optional" and progress is not None:
        from .execute.sandbox import bwrap

        if bwrap() is None:
            progress(CALM)
    return graded.result


@dataclass(frozen=True)
class PublicChecks:
    """Judging in the hand-out folder: the one judge with the hand-out's public context
    (``grader.judge.public_context``) instead of the answer key; ``checked`` is the points
    decided here (the rest is ``pending``, decided at official grading)."""

    data: Mapping[str, Any]

    def ahead(self, submitted: Submitted, warm: bool) -> Judge:
        """The judge of the run (the slow digests are computed side by side, then)."""
        s = submitted
        expectations = PublicExpectations(self.data)

        def judge(executed: Executed) -> Judged:
            expectations.warm(executed.exports)
            verdict = judged(s.course, s.assignment, s.name, s.assembled, executed, expectations)
            checked = sum(
                e.points for e in verdict.exercises if e.status not in ("pending", AWAITING)
            )
            return replace(verdict, checked=checked)

        return judge
