"""The student hand-out: what a student gets, and grading on a student's own machine with it.

    release/handout/ps1/ps1.ipynb           the notebook, a check(...) cell after each answer
    release/handout/ps1/grade-handout.json  the assignment without its answers
    release/handout/ps1.zip                 the same two files

``grade-handout.json`` holds what running and checking the notebook needs, and nothing from
the solutions or the key: the topics' setup, the starters, the export recipes, the limits,
the hints, the public checks (the kind's own, such as an array's shape, and the exercise's
declared ones, with the code of the course's public check functions), for exercises
that ask for instant feedback, salted digests of their exact answers, and the known mistakes
whose wrong answer is exact, each title and hint sealed with a key derived from that answer
(``grader.inkernel.public.seal``): a student reads one only by giving its answer. ``grade`` in the
hand-out folder runs the notebook as official grading does (sandboxed when bubblewrap is
there), checks it with these only, and says what is decided here and what at grading.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from .assemble import Assembled, assemble, read_notebook
from .errors import BuildError, CompareError, GraderError, SpecError
from .execute import execute
from .execute.records import Executed, ExportRecord, StepOutcome
from .inkernel.public import (
    HANDOUT,
    ROUNDS,
    canonical,
    custom_checks,
    digest,
    digests_wanted,
    instant,
    known_mistake,
    public_checks,
    public_results,
    seal,
    summary,
    transform,
)
from .judge.context import JudgeContext
from .judge.scoring import answer_steps
from .key import AnswerKey
from .kinds import KINDS
from .limits import Limits
from .pipeline import GradeOptions
from .render import render_assignment
from .results import CheckResult, ExerciseResult, GradeResult, Status
from .spec import Answer, Assignment, Course, Exercise, Mistake, Topic

FORMAT = 2  # 2: public checks named by the kind's table entry (answer.checks)
# Options of an answer that running it needs; the others (reference classes, custom checks,
# accuracy thresholds...) stay with the course.
RUN_OPTIONS = ("arguments", "probe", "variable")
CALM = "no sandbox here: your notebook ran as your own code on your own machine"


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
        "format": FORMAT,
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
        "exercises": list(
            _POOL.map(
                lambda e: _exercise(e, key.values.get(e.id), checks, made, wrong[e.id]),
                exercises,
            )
        ),
    }
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
    answer: dict[str, Any] = {
        "kind": ex.answer.kind,
        "name": ex.answer.name,
        "recipe": kind.recipe,
        "checks": list(kind.public),
        "single": kind.single,
        "canon": list(kind.transforms(ex.answer.options)),
        **run_options,
    }
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


_POOL = ThreadPoolExecutor(thread_name_prefix="grade-digest")
Digests = dict[tuple[str, str, str], dict[str, Any]]  # (exercise, kind, answer) -> digest


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


# --- on the student's machine ---------------------------------------------------------------


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
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
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
    except (OSError, ValueError, KeyError, TypeError, GraderError) as e:
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
    notices: list[str] = []
    if declared not in (None, assignment.id):
        raise GraderError(
            f"{notebook.name} is assignment {declared!r}; this hand-out is {assignment.id!r}"
        )
    assembled = assemble(course, assignment.id, nb)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        executed = execute(assembled.steps, options.exec_options(course), Path(tmp))
    if options.sandbox == "optional" and progress is not None:
        from .execute.sandbox import bwrap

        if bwrap() is None:
            progress(CALM)
    started = time.monotonic()
    exercises = judge_public(course, data, assembled, executed)
    checked = sum(e.points for e in exercises if e.status != "pending")
    return GradeResult(
        course=course.name,
        assignment=assignment.id,
        submission=notebook.name,
        score=round(sum(e.score for e in exercises), 4),
        max_score=assignment.max_score(course),
        execution_time=round(executed.duration + time.monotonic() - started, 3),
        exercises=exercises,
        notices=tuple(notices) + assembled.notices,
        graded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        log=executed.log,
        checked=checked,
    )


def judge_public(
    course: Course, data: dict[str, Any], assembled: Assembled, executed: Executed
) -> tuple[ExerciseResult, ...]:
    """Every exercise's outcome as far as the hand-out can tell (``pending`` where it cannot)."""
    specs = {e["id"]: e for e in data["exercises"]}
    custom = custom_checks(data)
    wanted = [
        d
        for ex_id, export in executed.exports.items()
        if ex_id in specs and export.ok
        for d in digests_wanted(specs[ex_id], export.payload.get("value"))
    ]
    with ThreadPoolExecutor() as pool:  # each digest is slow by design: compute them at once
        list(pool.map(_warm, wanted))
    return tuple(
        _one(
            ex,
            specs[ex.id],
            outcome,
            executed.exports.get(ex.id),
            ex.id in assembled.missing,
            custom,
        )
        for _, ex, outcome in answer_steps(course, assembled, executed)
    )


def _warm(wanted: tuple[str, Any, int]) -> None:
    """Compute one digest ahead (remembered by ``digest``); a value that cannot be hashed is
    reported when its exercise is judged."""
    try:
        digest(*wanted)
    except Exception:
        pass


def _one(
    ex: Exercise,
    spec: dict[str, Any],
    outcome: StepOutcome,
    export: ExportRecord | None,
    missing: bool,
    custom: dict[str, Callable[[Any], Any]],
) -> ExerciseResult:
    def result(
        status: Status, score: float = 0.0, checks: tuple[CheckResult, ...] = (), message: str = ""
    ) -> ExerciseResult:
        return ExerciseResult(
            ex.id,
            ex.title,
            ex.points,
            score,
            status,
            checks,
            message,
            ex.hints if status in ("failed", "partial", "error") else (),
            outcome.error if status == "error" else None,
        )

    if missing:
        return result("missing", message="no answer cell was found for this exercise")
    if outcome.status != "ok":
        message = outcome.error.evalue if outcome.error else outcome.status
        if outcome.status == "error" and outcome.error:
            message = f"your cell raised {outcome.error.summary}"
        return result("error", message=message)
    if export is None or not export.ok:
        reason = export.payload.get("error") if export else "the answer could not be exported"
        return result("failed", message=str(reason))
    spec_answer = spec["answer"]
    model = spec_answer.get("recipe") == "model"
    value = export.payload.get("value")
    if model:
        named = _model_checks(export.payload, spec_answer.get("checks") or ())
        results = [(what, ok, problem, False) for what, ok, problem in named]
    else:
        results = public_results(spec, value, custom)
    plain = [(what, ok, problem) for what, ok, problem, _ in results]
    checks = tuple(CheckResult(what, ok, message=problem) for what, ok, problem in plain)
    # a known wrong answer (its seal opens): never the right one (grade build checks)
    mistake = known_mistake(spec, value) if not model else None
    if any(not ok for _, ok, _, _ in results):
        certain = any(not ok and sure for _, ok, _, sure in results)
        status: Status = "failed" if certain else "pending"
        judged = result(status, checks=checks, message=summary(plain, None))
    else:
        known = instant(spec, value) if not model else None
        if known is None and mistake is not None and spec_answer.get("single"):
            known = (0.0, "right answer: no")  # its one check fails at grading: no point
        if known is None:
            judged = result("pending", checks=checks, message=summary(plain, known))
        else:
            fraction = known[0]
            checks += (CheckResult("right answer", fraction == 1.0, message=known[1]),)
            status = "passed" if fraction == 1.0 else "partial" if fraction > 0 else "failed"
            judged = result(status, round(ex.points * fraction, 4), checks, summary(plain, known))
    if mistake is None or judged.status == "passed":
        return judged
    # as official grading says it: the misconception named, its hint instead of the generic ones
    return replace(
        judged, message=f"a known mistake: {mistake[0]}", hints=(mistake[1],), mistake=mistake[0]
    )


def _model_checks(payload: dict[str, Any], named: Sequence[str]) -> list[tuple[str, bool, str]]:
    """What a hand-out can say of an exported model: it is one, it runs, its losses are numbers."""
    results = [("an nn.Module", True, "")]
    probe = payload.get("probe")
    if isinstance(probe, dict) and "forward" in named:
        error = probe.get("error")
        results.append(("a forward pass", not error, str(error or "")))
    extras = payload.get("extras")
    if isinstance(extras, dict) and "losses" in extras and "losses" in named:
        losses = extras["losses"]
        ok = (
            isinstance(losses, list)
            and len(losses) >= 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in losses)
        )
        results.append(("losses", ok, "the losses must be a list of at least two finite floats"))
    return [(what, ok, "" if ok else problem) for what, ok, problem in results]
