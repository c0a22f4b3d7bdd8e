"""Per-student variants: parameters drawn for one student, and the course rendered with them.

A topic or an exercise may declare ``params:`` (generators, ``grader.spec.Param``) and
``constraints:``. A *variant* is a name (``""`` is the default: every parameter's
``default``); the values of a variant are drawn from a random generator seeded with that
name, so the same variant always gets the same numbers, and a constraint that is false makes
a new draw (a bounded number of times: then the build fails, naming the exercise).

``specialize`` returns the course as one variant sees it: the topics' setup and intro, and
the exercises' starters, hints and known mistakes rendered (jinja2) with the values, and the
values themselves on each exercise for its prompt, its solution and its mistakes. Nothing
else changes, so every stage after it (render, assemble, judge, report, hand-out) works on a
variant as it does on the default course. ``load_default_course`` (``grader.load_course``)
reads a course and renders its default variant.
"""

from __future__ import annotations

import ast
import builtins
import copy
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .errors import GraderError, SpecError
from .frozen import thaw
from .spec import NO_DEFAULT, Constraint, Course, Exercise, Mistake, Param, Topic, load_course
from .spec.varying import DEFAULT

TRIES = 200  # draws of one topic's or one exercise's values before giving up
TOPIC_TRIES = 10  # new draws of a topic's values when an exercise's constraints fail


def load_default_course(path: str | Path = "course.yaml") -> Course:
    """The course at ``path`` as a student without a roster sees it: read and validated
    (``grader.spec.load_course``), its texts rendered with every parameter's default, its
    default values checked against the constraints (``grader.load_course``)."""
    return specialize(load_course(path), DEFAULT)


def default_variant(course: Course) -> Course:
    """The course's default variant: itself when its texts are rendered so (as
    ``load_default_course`` returns it), else rendered now (a course as written)."""
    if course.variant == DEFAULT and all(_rendered(course, a.id) for a in course.assignments):
        return course
    return specialize(course, DEFAULT)


def specialize(course: Course, variant: str, assignment: str | None = None) -> Course:
    """The course as ``variant`` sees it (all of it, or the topics and exercises of one
    assignment). Raises SpecError when the constraints cannot be met."""
    if assignment is None:
        topic_ids: Iterable[str] = course.topics
        wanted = set(course.exercises)
    else:
        wanted = set(course.assignment(assignment).exercises)
        topic_ids = sorted({course.exercises[e].topic for e in wanted})
    topics = dict(course.topics)
    exercises = dict(course.exercises)
    for tid in topic_ids:
        topic = _with_templates(course.topics[tid])
        mine = [exercises[e] for e in topic.exercises if e in wanted]
        if not topic.params and not any(ex.params for ex in mine):
            continue
        shared, own = _values(course, topic, mine, variant)
        topics[tid] = _render_topic(topic, shared)
        for ex in mine:
            exercises[ex.id] = _render_exercise(
                _with_templates(ex, templated=True), shared, own[ex.id]
            )
    return replace(course, topics=topics, exercises=exercises, variant=variant)


# --- drawing values ---------------------------------------------------------------------------


def draw(param: Param, rng: random.Random) -> Any:
    """One value of a parameter, from its generator."""
    if param.dims:
        return _fill(param, rng, [rng.randint(low, high) for low, high in param.dims])
    return _one(param, rng)


def _fill(param: Param, rng: random.Random, sizes: list[int]) -> Any:
    if not sizes:
        return _one(param, rng)
    return [_fill(param, rng, sizes[1:]) for _ in range(sizes[0])]


def _one(param: Param, rng: random.Random) -> Any:
    if param.draw == "int":
        return rng.randint(int(param.low), int(param.high))
    if param.draw == "float":
        return round(rng.uniform(param.low, param.high), param.digits)
    return copy.deepcopy(rng.choice(param.choices))


class _Unmet(Exception):
    def __init__(self, constraint: Constraint, failures: int, tries: int) -> None:
        super().__init__(constraint.expression)
        self.constraint, self.failures, self.tries = constraint, failures, tries


def _values(
    course: Course, topic: Topic, exercises: list[Exercise], variant: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The values of a topic's parameters and of each exercise's own, for one variant."""
    helpers = _helpers(course, topic, exercises)
    last: _Unmet | None = None
    for attempt in range(TOPIC_TRIES):
        seed = f"{variant}/{topic.id}/{attempt}"
        try:
            shared = _choose(topic.params, topic.constraints, {}, seed, variant, helpers)
        except _Unmet as e:
            raise _failure(e, f"topic {topic.id!r}", topic.path, None) from None
        try:
            own = {
                ex.id: _choose(
                    ex.params, ex.constraints, shared, f"{seed}/{ex.id}", variant, helpers
                )
                for ex in exercises
            }
        except _Unmet as e:
            last = e
            if not any(_drawn(p, variant) for p in topic.params):
                break  # nothing of the topic's would change: another try is the same
            continue
        return shared, own
    assert last is not None
    failing = next(ex for ex in exercises if any(c is last.constraint for c in ex.constraints))
    raise _failure(last, f"exercise {failing.id!r}", failing.path, failing.line)


def _choose(
    params: tuple[Param, ...],
    constraints: tuple[Constraint, ...],
    given: Mapping[str, Any],
    seed: str,
    variant: str,
    helpers: Mapping[str, Any],
) -> dict[str, Any]:
    """Values for ``params`` that meet ``constraints`` (with the ``given`` values too)."""
    failures: Counter[int] = Counter()
    random_ones = any(_drawn(p, variant) for p in params)
    tries = TRIES if random_ones else 1
    for attempt in range(tries):
        rng = random.Random(f"{seed}#{attempt}")
        values = {
            p.name: copy.deepcopy(p.default) if not _drawn(p, variant) else draw(p, rng)
            for p in params
        }
        broken = _broken(constraints, {**given, **values}, helpers)
        if broken is None:
            return values
        failures[broken] += 1
    worst, count = failures.most_common(1)[0]
    raise _Unmet(constraints[worst], count, tries)


def _drawn(param: Param, variant: str) -> bool:
    """Whether this variant draws the parameter (else it takes the default)."""
    return variant != DEFAULT or param.default is NO_DEFAULT


def _broken(
    constraints: tuple[Constraint, ...], values: Mapping[str, Any], helpers: Mapping[str, Any]
) -> int | None:
    """The index of the first constraint the values break, or None."""
    for i, c in enumerate(constraints):
        scope = {"__builtins__": builtins, **helpers, **thaw(dict(values))}  # a mutable copy
        try:
            ok = eval(compile(c.expression, f"<constraint {c.expression}>", "eval"), scope)
        except Exception as e:
            raise SpecError(
                f"the constraint {c.expression!r} raised {type(e).__name__}: {e}", c.path, c.line
            ) from None
        if not ok:
            return i
    return None


def _failure(e: _Unmet, where: str, path: str, line: int | None) -> SpecError:
    if e.tries == 1:
        return SpecError(
            f"{where}: the default values break the constraint {e.constraint.expression!r}",
            path,
            line,
        )
    return SpecError(
        f"{where}: the constraints cannot be met: {e.constraint.expression!r} was false in "
        f"{e.failures} of {e.tries} draws",
        path,
        line,
    )


def _helpers(course: Course, topic: Topic, exercises: list[Exercise]) -> dict[str, Any]:
    """What constraints may call besides the values: the topic's solutions preamble. A broken
    preamble is a SpecError (its file and line, its exception) when a constraint names
    something besides the values and the builtins; else the build reports it itself."""
    constraints = [*topic.constraints, *(c for ex in exercises for c in ex.constraints)]
    if not constraints:
        return {}
    path = course.solutions_dir / f"{topic.id}.py"
    if not path.is_file():
        return {}
    from .solutions import preamble_namespace

    try:
        return {k: v for k, v in preamble_namespace(course, topic.id).items() if k != "__name__"}
    except GraderError as e:
        known = {p.name for p in (*topic.params, *(p for ex in exercises for p in ex.params))}
        needing = [c for c in constraints if _free_names(c.expression) - known - set(dir(builtins))]
        if not needing:
            return {}
        c = needing[0]
        cause, line = e.__context__, getattr(e, "line", None)  # what the preamble raised
        if isinstance(cause, SyntaxError) and cause.filename == str(path):
            line = cause.lineno
        elif cause is not None:
            tb = cause.__traceback__
            while tb is not None:  # the innermost line of the preamble's own file
                if tb.tb_frame.f_code.co_filename == str(path):
                    line = tb.tb_lineno
                tb = tb.tb_next
        if cause is not None:
            what = f"{type(cause).__name__}: {cause}"
        else:
            what = e.message if isinstance(e, SpecError) else str(e)
        raise SpecError(
            f"the solutions preamble of topic {topic.id!r} is broken ({what}), and the "
            f"constraint {c.expression!r} ({c.path}:{c.line}) calls on it",
            str(path),
            line,
        ) from None


def _free_names(expression: str) -> set[str]:
    """The names an expression reads that it does not bind itself (in a comprehension, a
    lambda or with ``:=``)."""
    tree = ast.parse(expression, mode="eval")
    read: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return read - bound


# --- rendering the texts ----------------------------------------------------------------------


def _with_templates(item: Any, templated: bool = False) -> Any:
    """The topic or exercise with its raw texts kept aside (once: the default course keeps
    them for every later variant)."""
    if item.templates:
        return item
    if isinstance(item, Topic):
        if not item.params:
            return item
        return replace(item, templates={"setup": item.setup, "intro": item.intro})
    if not templated:
        return item
    return replace(
        item,
        templates={"starter": item.starter, "hints": item.hints, "mistakes": item.mistakes},
    )


def _render_topic(topic: Topic, values: Mapping[str, Any]) -> Topic:
    if not topic.templates:
        return replace(topic, values=dict(values))
    where = f"topic {topic.id!r} ({topic.path})"
    return replace(
        topic,
        setup=_text(topic.templates["setup"], f"the setup of {where}", values),
        intro=_text(topic.templates["intro"], f"the intro of {where}", values),
        values=dict(values),
    )


def _render_exercise(ex: Exercise, shared: Mapping[str, Any], own: Mapping[str, Any]) -> Exercise:
    values = {**shared, **own}
    where = f"{ex.id!r} ({ex.path}:{ex.line})"
    context = {**values, "id": ex.id, "title": ex.title, "points": f"{ex.points:g}"}
    raw = ex.templates
    return replace(
        ex,
        starter=_text(raw["starter"], f"the starter of {where}", context),
        hints=tuple(_text(h, f"a hint of {where}", context) for h in raw["hints"]),
        mistakes=tuple(
            Mistake(
                m.function,
                _text(m.title, f"a mistake of {where}", context),
                _text(m.hint, f"a mistake of {where}", context),
            )
            for m in raw["mistakes"]
        ),
        values=values,
    )


def _text(template: str, what: str, context: Mapping[str, Any]) -> str:
    from .render import render_text

    return render_text(template, what, **context)


def _rendered(course: Course, assignment: str) -> bool:
    """Whether the assignment's texts are rendered for the course's variant (a course as
    ``grader.spec.load_course`` read it has templates in them)."""
    for e in course.assignment(assignment).exercises:
        ex = course.exercises[e]
        topic = course.topics[ex.topic]
        if topic.params and not topic.templates:
            return False
        if (ex.params or topic.params) and not ex.templates:
            return False
    return True


def for_variant(course: Course, assignment: str, variant: str) -> Course:
    """``specialize`` for one assignment, kept while the course lives (a batch grades
    many submissions of one variant... and many variants)."""
    if variant == course.variant and _rendered(course, assignment):
        return course
    # what the fingerprint leaves out (no notebook is made of it) is part of the course too
    extra = (course.policies, course.assignments, course.cifar10_dir)
    cache_key = (str(course.path), course.fingerprint, assignment, variant, *extra)
    return course.memo.get("variant", cache_key, lambda: specialize(course, variant, assignment))
