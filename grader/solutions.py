"""Reference solutions: ``solutions/<topic>.py`` split into ``# %% <exercise id>`` sections.

The text before the first marker is the preamble (imports, trusted helpers such as custom
checks). Solutions are read in the grader process only; they never reach a student kernel
except as the answer cells of the solution notebook that ``grade build`` writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import SpecError
from .spec import Course, Exercise
from .spec.varying import varying_exercises

MARKER = re.compile(r"^# %%[ \t]+([A-Za-z0-9_-]+)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Solutions:
    """One topic's reference solutions."""

    topic: str
    path: str
    preamble: str
    sections: dict[str, str]
    lines: dict[str, int]  # exercise id -> line of its marker


def parse_solutions(text: str, topic: str, path: str) -> Solutions:
    """Split a solutions file into its preamble and per-exercise sections."""
    matches = list(MARKER.finditer(text))
    preamble = text[: matches[0].start()] if matches else text
    sections: dict[str, str] = {}
    lines: dict[str, int] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        eid = m.group(1)
        line = text.count("\n", 0, m.start()) + 1
        if eid in sections:
            raise SpecError(f"section {eid!r} appears twice", path, line)
        sections[eid] = text[m.end() : end].strip("\n") + "\n"
        lines[eid] = line
    return Solutions(topic=topic, path=path, preamble=preamble, sections=sections, lines=lines)


def load_solutions(course: Course, topic: str) -> Solutions:
    """Read and check ``solutions/<topic>.py``: one section per exercise of the topic."""
    path = course.solutions_dir / f"{topic}.py"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise SpecError("reference solutions not found", str(path)) from None
    sol = parse_solutions(text, topic, str(path))
    expected = course.topics[topic].exercises
    for eid in sol.sections:
        if eid not in expected:
            raise SpecError(
                f"section {eid!r} is not an exercise of topic {topic!r}", str(path), sol.lines[eid]
            )
    missing = [e for e in expected if e not in sol.sections]
    if missing:
        raise SpecError(f"no solution section for: {', '.join(missing)}", str(path))
    return sol


def reference_object(course: Course, exercise_id: str, reference: str) -> Any:
    """The object named by an answer's ``reference`` (``[exercise-id:]Name``), built in-process.

    Runs the topic's setup and the named exercise's solution section (trusted code) in a
    fresh namespace and returns the name it defines. The section must stand on its own after
    the setup: the sections before it are not run (they may train models).
    """
    section, _, name = reference.rpartition(":")
    ns = _namespace(course, "section", section or exercise_id)
    if name not in ns:
        raise SpecError(f"the solution of {section or exercise_id!r} does not define {name!r}")
    return ns[name]


def custom_check(course: Course, topic: str, name: str) -> Callable[..., Any]:
    """The custom check function ``name`` from the topic's solutions preamble."""
    return preamble_function(course, topic, name, "custom check")


def preamble_function(course: Course, topic: str, name: str, what: str) -> Callable[..., Any]:
    """The function ``name`` from the topic's solutions preamble (``what`` it is used as
    names it in the error)."""
    fn = preamble_namespace(course, topic).get(name)
    if not callable(fn):
        raise SpecError(f"{what} {name!r} is not defined in the preamble of {topic}.py")
    return fn  # type: ignore[no-any-return]


def setup_namespace(course: Course, topic: str) -> dict[str, Any]:
    """The variables a topic's setup defines, run in this process (trusted code)."""
    return _namespace(course, "setup", topic)


def preamble_namespace(course: Course, topic: str) -> dict[str, Any]:
    """What the preamble of ``solutions/<topic>.py`` defines (its helpers), run here."""
    return _namespace(course, "preamble", topic)


def with_values(exercise: Exercise, source: str) -> str:
    """A solution section preceded by the values of the exercise's own parameters, as the
    solution notebook's answer cell holds it (the section reads them as variables)."""
    own = exercise.own_values
    if not own:
        return source
    lines = "".join(f"{name} = {value!r}\n" for name, value in own.items())
    return f"# this variant's parameters\n{lines}\n{source}"


def reference_values(course: Course, assignment_id: str) -> dict[str, Any]:
    """The reference values of an assignment's exercises that vary with the parameters,
    computed in this process (trusted code) as the solution notebook computes them: the
    setup and the sections of each topic that varies, in the assignment's order, in one
    namespace, each value converted as the kernel's export converts it (a function answer:
    its results on the answer's cases, as ``grader.inkernel.calls`` exports them).

    Raises SpecError naming the exercise whose solution fails or defines no answer."""
    varying = {ex.topic for ex in varying_exercises(course, assignment_id)}
    return _reference(course, assignment_id, varying)


def reference_calls(course: Course, assignment_id: str) -> dict[str, Any]:
    """The expected results of the assignment's function answers: the reference function
    (its solution section) called in this process on each case, as ``reference_values``."""
    from .kinds import KINDS

    exercises = [course.exercises[e] for e in course.assignment(assignment_id).exercises]
    calls = [ex for ex in exercises if KINDS[ex.answer.kind].recipe == "calls"]
    if not calls:
        return {}
    values = _reference(course, assignment_id, {ex.topic for ex in calls})
    return {ex.id: values[ex.id] for ex in calls}


def reference_function(course: Course, exercise: Exercise) -> Any:
    """The function (or class) a function answer's solution defines, built in this process as
    the solution notebook builds it: the topic's setup, then its sections in order up to this
    exercise's, in one namespace (a section may call an earlier one's function). Kept while
    the course lives."""
    cache_key = (str(course.path), course.fingerprint, course.variant, "function", exercise.id)
    return course.memo.get("namespace", cache_key, lambda: _reference_function(course, exercise))


def _named_reference(course: Course, exercise: Exercise) -> Any:
    """The function a function answer's ``reference:`` names (its expected results come
    from it), from the topic's solutions preamble; None when it names none."""
    named = exercise.answer.options.get("reference")
    if not named:
        return None
    return preamble_function(course, exercise.topic, named, "reference function")


def _reference_function(course: Course, exercise: Exercise) -> Any:
    named = _named_reference(course, exercise)
    if named is not None:
        return named
    topic = course.topics[exercise.topic]
    sol = load_solutions(course, topic.id)
    ns: dict[str, Any] = {"__name__": "grader_reference"}
    seconds = course.limits.cell_timeout
    setup = f"the setup of topic {topic.id!r}"
    _run(topic.setup, f"<setup of {topic.id}>", ns, setup, topic.path, seconds)
    for eid in topic.exercises:
        ex = course.exercises[eid]
        what = f"the solution of {eid!r}"
        _run(with_values(ex, sol.sections[eid]), sol.path, ns, what, sol.path, seconds)
        if eid == exercise.id:
            break
    fn = ns.get(exercise.answer.name)
    if not callable(fn):
        raise SpecError(
            f"the solution of {exercise.id!r} does not define {exercise.answer.name!r}", sol.path
        )
    return fn


def _reference(course: Course, assignment_id: str, topics: set[str]) -> dict[str, Any]:
    from .inkernel.calls import call_all
    from .inkernel.exporter import ExportError, to_plain
    from .kinds import KINDS, export_spec

    assignment = course.assignment(assignment_id)
    exercises = [course.exercises[e] for e in assignment.exercises]
    ns: dict[str, Any] = {"__name__": "grader_reference"}
    seen: set[str] = set()
    values: dict[str, Any] = {}
    for ex in exercises:
        if ex.topic not in topics:
            continue
        sol = load_solutions(course, ex.topic)
        if KINDS[ex.answer.kind].recipe == "manual":  # a model answer a person reads, not run
            continue
        if ex.topic not in seen:
            seen.add(ex.topic)
            _run(
                course.topics[ex.topic].setup,
                f"<setup of {ex.topic}>",
                ns,
                f"the setup of topic {ex.topic!r}",
                course.topics[ex.topic].path,
                course.limits.cell_timeout,
            )
        _run(
            with_values(ex, sol.sections[ex.id]),
            sol.path,
            ns,
            f"the solution of {ex.id!r}",
            sol.path,
            course.limits.cell_timeout,
        )
        kind = KINDS[ex.answer.kind]
        if kind.recipe not in ("value", "calls") or not kind.keyed:
            continue
        name = ex.answer.name
        if name not in ns or ns[name] is Ellipsis:
            raise SpecError(f"the solution of {ex.id!r} does not define {name!r}", sol.path)
        try:
            if kind.recipe == "calls":
                spec = export_spec(ex.answer.kind, name, ex.answer.options)
                named = _named_reference(course, ex)
                fn = ns[name] if named is None else named
                values[ex.id] = call_all(fn, spec["cases"], spec["timeout"])
                _no_failed_call(ex, values[ex.id], spec, sol.path)
            else:
                values[ex.id] = to_plain(ns[name])
        except (ExportError, RecursionError) as e:
            raise SpecError(f"the solution of {ex.id!r}: {e}", sol.path) from None
    return values


def _run(
    source: str, filename: str, ns: dict[str, Any], what: str, path: str, seconds: float
) -> None:
    """Run trusted code within ``seconds`` (the course's cell time limit): an author's
    infinite loop ends ``grade build`` with one line, not a hang."""
    from .inkernel.calls import call_one

    try:
        code = compile(source, filename, "exec")
    except Exception as e:
        raise SpecError(f"{what} fails in the grader: {type(e).__name__}: {e}", path) from None
    out = call_one(lambda: exec(code, ns), [], {}, seconds)
    if "timeout" in out:
        raise SpecError(f"{what} runs past {seconds:g} s in the grader (cell_timeout)", path)
    if "raised" in out:
        raise SpecError(f"{what} fails in the grader: {out['raised']}: {out['message']}", path)
    if "error" in out:
        raise SpecError(f"{what} fails in the grader: {out['error']}", path)


def _no_failed_call(ex: Exercise, results: list[Any], spec: dict[str, Any], path: str) -> None:
    """A reference that gives no result on a case (past the case's time limit, or not
    exportable) is the author's error, said at ``grade build`` in one line."""
    for i, out in enumerate(results):
        if "timeout" in out:
            raise SpecError(
                f"the solution of {ex.id!r} gives no result within {out['timeout']:g} s on "
                f"case {i + 1} ({_call_text(ex.answer.name, spec['cases'][i])}); fix it or "
                "raise call_timeout",
                path,
            )
        if "error" in out:
            why = out["error"]
            raise SpecError(f"the solution of {ex.id!r} on case {i + 1}: {why}", path)


def _call_text(name: str, case: dict[str, Any]) -> str:
    args = [repr(a) for a in case.get("args", [])]
    args += [f"{k}={v!r}" for k, v in case.get("kwargs", {}).items()]
    text = f"{name}({', '.join(args)})"
    return text if len(text) <= 80 else text[:80] + "…"


def _namespace(course: Course, what: str, key: str) -> dict[str, Any]:
    """Run trusted code in a fresh namespace: a topic's solutions ``preamble``, a topic's
    ``setup``, or an exercise's ``section`` after its topic's setup. Namespaces are costly to
    build (they may import torch or make data): the course keeps them (``grader.memo``)."""
    variant = "" if what == "preamble" else course.variant  # the preamble has no parameters
    cache_key = (str(course.path), course.fingerprint, variant, what, key)
    return course.memo.get("namespace", cache_key, lambda: _run_namespace(course, what, key))


def _run_namespace(course: Course, what: str, key: str) -> dict[str, Any]:
    if what == "section":
        ex = course.exercises.get(key)
        if ex is None:
            raise SpecError(f"a reference names unknown exercise {key!r}", str(course.path))
        topic = ex.topic
    else:
        topic = key
    ns: dict[str, Any] = {"__name__": f"grader_solutions_{topic}"}
    if what == "preamble":
        sol = load_solutions(course, topic)
        source, filename, path = sol.preamble, sol.path, sol.path
    elif what == "setup":
        source, filename = course.topics[topic].setup, f"<setup of {topic}>"
        path = course.topics[topic].path
    else:  # the section runs after the setup: start from a copy of the setup's namespace
        ns.update(_namespace(course, "setup", topic))
        sol = load_solutions(course, topic)
        section = with_values(course.exercises[key], sol.sections[key])
        source, filename, path = section, sol.path, sol.path
    try:
        exec(compile(source, filename, "exec"), ns)
    except Exception as e:
        what_ran = {
            "preamble": "preamble",
            "setup": f"setup of topic {topic!r}",
            "section": f"section {key!r} (after the topic's setup)",
        }[what]
        raise SpecError(
            f"the {what_ran} does not run on its own in the grader: {type(e).__name__}: {e}",
            path,
        ) from None
    return ns
