"""The student hand-out, written at build time: what a student gets.

    release/handout/ps1/ps1.ipynb           the notebook, a check(...) cell after each answer
    release/handout/ps1/grade-handout.json  the assignment without its answers
    release/handout/ps1.zip                 the same two files

``grade-handout.json`` holds what running and checking the notebook needs, and nothing from
the solutions or the key: the topics' setup, the starters, the export recipes, the limits,
the hints, the public checks (the kind's own, named by its table entry in ``grader.kinds``
with the facts of the reference they use, such as an array's shape, and the exercise's
declared ones, with the code of the course's public check functions), for exercises that ask
for instant feedback, salted digests of their exact answers, and the known mistakes whose
wrong answer is exact, each title and hint sealed with a key derived from that answer
(``grader.inkernel.sealed.seal``): a student reads one only by giving its answer. Grading
with it, in the hand-out folder, is ``grader.handout``.
"""

from __future__ import annotations

import json
import secrets
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .errors import BuildError, CompareError, SpecError
from .inkernel.public import HANDOUT, HANDOUT_FORMAT, custom_checks, public_checks
from .inkernel.sealed import ROUNDS, canonical, digest, instant, seal, transform
from .judge.context import JudgeContext
from .key import AnswerKey
from .kinds import KINDS
from .render import render_assignment
from .spec import Course, Exercise, Mistake

Digests = dict[tuple[str, str, str], dict[str, Any]]  # (exercise, kind, answer) -> digest


def handout_data(
    course: Course, assignment_id: str, key: AnswerKey, made: Digests | None = None
) -> dict[str, Any]:
    """The hand-out's description of one assignment (plain JSON data, no answer); ``made``
    keeps the digests of a build's hand-outs, to give the same answer the same one."""
    assignment = course.assignment(assignment_id)
    exercises = [course.exercises[e] for e in assignment.exercises]
    topics = sorted({e.topic for e in exercises})
    context = JudgeContext(course, key)
    wrong = {e.id: _sealable(e, context) for e in exercises}  # computed here: not thread-safe
    checks = {}
    for topic in topics:
        path = course.checks_dir / f"{topic}.py"
        if path.is_file():
            checks[topic] = path.read_text(encoding="utf-8")
    data = {
        "format": HANDOUT_FORMAT,
        "course": course.name,
        "version": course.fingerprint,
        "assignment": {
            "id": assignment.id,
            "title": assignment.title,
            "due": assignment.due.isoformat() if assignment.due else None,
        },
        "limits": {k: getattr(course.limits, k) for k in course.limits.__dataclass_fields__},
        "topics": {
            t: {"title": course.topics[t].title, "setup": course.topics[t].setup} for t in topics
        },
        "checks": checks,
        # the instant digests and the seals are slow by design, and release the GIL: side
        # by side
        "exercises": [],
    }
    with ThreadPoolExecutor(thread_name_prefix="grade-digest") as pool:
        data["exercises"] = list(
            pool.map(
                lambda e: _exercise(e, key.values.get(e.id), checks, made, wrong[e.id]),
                exercises,
            )
        )
    _agrees_with_key(data, key)
    return data


def _agrees_with_key(data: dict[str, Any], key: AnswerKey) -> None:
    """Refuse a hand-out whose public checks reject the reference answer: they would tell a
    student with the right answer that it is wrong."""
    custom = custom_checks(data)
    for ex in data["exercises"]:
        if ex["id"] not in key.values or ex["answer"]["recipe"] == "model":
            continue
        value = key.values[ex["id"]]
        name = ex["public"].get("check")
        if name is not None and name not in custom:
            raise BuildError(f"{ex['id']}: public check {name!r} is not in checks/{ex['topic']}.py")
        results = public_checks(ex, value, custom)
        known = instant(ex, value)
        if known is not None:
            results.append(("right answer", known[0] == 1.0, known[1]))
        for check, ok, message in results:
            if not ok:
                raise BuildError(
                    f"{ex['id']}: public check {check!r} rejects the reference ({message})"
                )


def _sealable(ex: Exercise, context: JudgeContext) -> list[tuple[Mistake, Any]]:
    """The known mistakes a hand-out can seal, with their wrong answers: those matched exactly
    at grading (a shape; an int, or any number with rtol and atol 0; an array or a mapping
    with rtol and atol 0), as for instant feedback. The others' hints are left out of the
    hand-out: a seal that opens on one value only would miss the answers near it."""
    out = []
    for m in ex.mistakes:
        try:
            value = context.mistake(ex, m)
        except CompareError:
            continue  # the build's check of the mistakes names it
        if KINDS[ex.answer.kind].is_exact(ex.answer.options, value):
            out.append((m, value))
    return out


def _exercise(
    ex: Exercise,
    reference: Any,
    checks: dict[str, str],
    made: Digests | None = None,
    wrong: Sequence[tuple[Mistake, Any]] = (),
) -> dict[str, Any]:
    kind = KINDS[ex.answer.kind]
    run_options = {
        o.name: ex.answer[o.name]
        for o in kind.options
        if o.type in ("arguments", "variable") or o.name == "probe"
    }
    public: dict[str, Any] = dict(ex.public)
    if "check" in public and ex.topic not in checks:
        raise SpecError(f"public check {public['check']!r}: no checks/{ex.topic}.py", ex.path)
    if public.pop("shape", True) and reference is not None and kind.facts is not None:
        public.update(kind.facts(reference))  # else the shape is part of the question
    for name in kind.shown:  # what the prompt shows anyway, as JSON data
        value = ex.answer[name]
        public[name] = list(value) if isinstance(value, tuple) else value
    answer: dict[str, Any] = {
        "kind": ex.answer.kind,
        "name": ex.answer.name,
        "recipe": kind.recipe,
        "checks": list(kind.public),
        "single": kind.single,
        "canon": list(kind.transforms(ex.answer.options)),
        **run_options,
    }
    calls = None
    if kind.recipe == "calls":
        calls = _public_calls(ex, reference)
        answer.update(calls.pop("options"))
    export = ex.answer.export_spec()
    if export.get("extras"):
        answer["extras"] = export["extras"]
    data: dict[str, Any] = {
        "id": ex.id,
        "title": ex.title,
        "points": ex.points,
        "topic": ex.topic,
        "starter": ex.starter,
        "hints": list(ex.hints),
        "answer": answer,
        "public": public,
        "instant": None,
        "mistakes": None,
    }
    if calls is not None:
        data["public_cases"] = calls
    if ex.instant:
        data["instant"] = _digests(ex, reference, made)
    if wrong:
        salt = data["instant"]["salt"] if ex.instant else _salt(ex, reference, made)
        data["mistakes"] = {
            "salt": salt,
            "rounds": ROUNDS,
            "seals": [_seal(ex, salt, m, value, made) for m, value in wrong],
        }
    return data


def _public_calls(ex: Exercise, reference: Any) -> dict[str, Any]:
    """A function answer's public cases (inputs and points), its tolerances and source rules
    (``options``), the reference's results on the public cases (``expected``; None without a
    key), and the number and points of the hidden cases, whose inputs and results are never
    in the hand-out."""
    a = ex.answer
    cases = list(a["cases"])
    shown = [i for i, c in enumerate(cases) if c["public"]]
    keyed = isinstance(reference, list) and len(reference) == len(cases)
    options = {
        "cases": [dict(cases[i]) for i in shown],
        "rtol": a["rtol"],
        "atol": a["atol"],
        "calls": list(a["calls"]),
        "calls_points": a["calls_points"],
        "forbids": list(a["forbids"]),
        "call_timeout": a["call_timeout"],
    }
    # Cases drawn for each grading (grader.draws) are hidden too: they do not exist yet.
    drawn = [d for d in (a["generate"], a["properties"]) if d]
    return {
        "options": options,
        "expected": [reference[i] for i in shown] if keyed else None,
        "hidden": len(cases) - len(shown),
        "drawn": len(drawn),
        "hidden_points": sum(c["points"] for i, c in enumerate(cases) if i not in shown)
        + sum(d["points"] for d in drawn),
    }


def _digests(ex: Exercise, reference: Any, made: Digests | None) -> dict[str, Any]:
    """The instant-feedback digest of an answer: salted anew, or the one ``made`` already
    holds for the same exercise and answer (a roster build gives every student whose answer
    is the same, such as the CIFAR10Model's shapes, the same digest)."""
    memo = (ex.id, ex.answer.kind, json.dumps(reference, sort_keys=True))
    return _memo(made, memo, lambda: _new_digests(ex, reference))  # type: ignore[no-any-return]


def _memo(made: Digests | None, memo: tuple[str, str, str], make: Callable[[], Any]) -> Any:
    if made is None:
        return make()
    if memo not in made:
        made[memo] = make()
    return made[memo]


def _salt(ex: Exercise, reference: Any, made: Digests | None) -> str:
    """The salt of an exercise's seals without instant feedback (the instant digest's salt
    where there is one: a student's answer then costs one slow digest, not two)."""
    memo = (ex.id, "salt", canonical(reference))
    return str(_memo(made, memo, lambda: {"salt": secrets.token_hex(16)})["salt"])


def _seal(ex: Exercise, salt: str, m: Mistake, value: Any, made: Digests | None) -> Any:
    """One known mistake's title and hint, sealed with its wrong answer (the same seal for
    every hand-out of a build with the same salt, answer and text)."""
    text = {"title": m.title, "hint": m.hint}
    value = transform(KINDS[ex.answer.kind].transforms(ex.answer.options), value)
    memo = (ex.id, "seal", canonical([salt, value, text]))
    return _memo(made, memo, lambda: seal(salt, value, text))


def _new_digests(ex: Exercise, reference: Any) -> dict[str, Any]:
    kind = KINDS[ex.answer.kind]
    if not kind.is_exact(ex.answer.options, reference):
        raise BuildError(
            f"{ex.id}: instant feedback needs an exact answer ({kind.exact_when or 'never'})"
        )
    salt = secrets.token_hex(16)
    names = kind.transforms(ex.answer.options)
    if kind.digest == "keys":
        keys = {k: digest(salt, transform(names, v)) for k, v in reference.items()}
        return {"salt": salt, "rounds": ROUNDS, "keys": keys}
    return {"salt": salt, "rounds": ROUNDS, "digest": digest(salt, transform(names, reference))}


def write_handout(
    course: Course,
    assignment_id: str,
    key: AnswerKey,
    release: Path,
    owner: dict[str, str] | None = None,
    made: Digests | None = None,
) -> Path:
    """Write ``release/handout/<id>/`` and ``release/handout/<id>.zip`` (for one student of
    a roster, ``owner``: ``release/handout/<id>/<student>/`` and ``<student>.zip`` beside
    it); returns the folder."""
    assignment = course.assignment(assignment_id)
    folder = release / "handout" / assignment.id
    archive = release / "handout" / f"{assignment.id}.zip"
    if owner:
        folder, archive = folder / owner["student"], folder / f"{owner['student']}.zip"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():  # a roster's students have folders of their own in the default's
            old.unlink()
    import nbformat

    files = [folder / f"{assignment.id}.ipynb", folder / HANDOUT]
    nbformat.write(render_assignment(course, assignment, "handout", owner=owner), str(files[0]))
    text = json.dumps(handout_data(course, assignment.id, key, made), indent=1)
    files[1].write_text(text + "\n", encoding="utf-8")
    with zipfile.ZipFile(archive.with_suffix(".zip.tmp"), "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            zf.write(path, f"{assignment.id}/{path.name}")
    archive.with_suffix(".zip.tmp").replace(archive)
    return folder
