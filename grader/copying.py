"""Copying, seen through the variants: a wrong answer that is right for another student.

With a roster every student's numbers differ, so an answer copied from a classmate is wrong
for the student who hands it in, and equal to the classmate's reference. For each exercise
that varies, the references of the whole roster (and of the default numbers) are indexed by
their value, rounded to 6 significant digits; a submission whose wrong answers are the
references of one other student, on at least two exercises, is flagged. The flag names
nobody (a student may read it); the instructor's views (the gradebook, the dashboard, the
terminal) also get the other student's id. A value that many students share (a small
answer space) proves nothing and is not counted.

A known mistake (``mistakes:``) can give one student's numbers another student's right
answer (a shape rounded up on one image is the shape of a slightly larger one). An honest
student who makes it must not look like a copier, so two rules: an answer that is a known
mistake of the student's own numbers is never evidence, and a reference that equals a known
mistake of any student's numbers is left out of the index (whoever gives it may have made
that mistake).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CompareError
from .execute.records import ExportRecord
from .judge.context import JudgeContext
from .key import AnswerKey
from .results import Attribution, GradeResult, Judged
from .roster import checked_secret, load_roster, variant_of
from .spec import Course
from .spec.varying import DEFAULT, varying_exercises

if TYPE_CHECKING:
    from .identity import Identity

KeyOf = Callable[[Course], AnswerKey]  # the answer key of a variant (the course as it sees it)


@dataclass(frozen=True)
class References:
    """An assignment's varying references, by exercise and value: who has each."""

    by_value: dict[str, dict[str, tuple[str, ...]]]  # exercise -> canonical value -> students
    students: int  # how many variants were indexed


def canonical(value: Any) -> str:
    """A value as comparable text: numbers rounded to 6 significant digits (an int and the
    equal float are the same), lists and dicts element by element."""
    return json.dumps(_rounded(value), sort_keys=True)


def _rounded(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        x = float(value)
        return float(f"{x:.6g}") + 0.0 if math.isfinite(x) else repr(x)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    return repr(value)


def index_references(
    course: Course,
    assignment: str,
    keys: Mapping[str, AnswerKey],
    mistaken: Mapping[str, set[str]] | None = None,
) -> References:
    """Index the varying references of ``keys`` (student id -> that student's key; the
    default numbers under ``""``), leaving out the values ``mistaken`` lists (exercise ->
    canonical values that are a known mistake of some student's numbers)."""
    exercises = [ex.id for ex in varying_exercises(course, assignment)]
    mistaken = mistaken or {}
    found: dict[str, dict[str, list[str]]] = {e: {} for e in exercises}
    for student, key in keys.items():
        for e in exercises:
            if e in key.values:
                value = canonical(key.values[e])
                if value not in mistaken.get(e, ()):
                    found[e].setdefault(value, []).append(student)
    by_value = {e: {v: tuple(s) for v, s in values.items()} for e, values in found.items()}
    return References(by_value, len(keys))


def mistaken_values(course: Course, assignment: str, key: AnswerKey) -> dict[str, set[str]]:
    """The known mistakes of one variant's varying exercises, as canonical values (a mistake
    that cannot be computed is left out: the build reports it)."""
    context = JudgeContext(course, key)
    out: dict[str, set[str]] = {}
    for ex in varying_exercises(course, assignment):
        for mistake in ex.mistakes:
            try:
                value = context.mistake(ex, mistake)
            except CompareError:
                continue
            out.setdefault(ex.id, set()).add(canonical(value))
    return out


def copied_from(
    result: Judged | GradeResult,
    exports: Mapping[str, ExportRecord],
    student: str,
    references: References,
) -> tuple[str, str]:
    """Whose references this submission's wrong answers are: a flag a student may read (it
    names nobody) and, for the instructor, the other student ids (``-`` for the default
    numbers); ``("", "")`` when they are nobody's in particular."""
    varying = references.by_value
    common = max(2, references.students // 20)  # a value this many share proves nothing
    matches: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for ex in result.exercises:
        export = exports.get(ex.id)
        if ex.id not in varying or ex.score >= ex.points or export is None or not export.ok:
            continue
        if ex.mistake:  # a known mistake of the student's own numbers: an honest one
            continue
        if "value" not in export.payload:
            continue
        owners = varying[ex.id].get(canonical(export.payload["value"]), ())
        if student in owners or not owners or len(owners) > common:
            continue
        for other in owners:
            matches[other] += 1
            where.setdefault(other, []).append(ex.id)
    best = max(matches.values(), default=0)
    if best == 0 or best < min(2, len(varying)):
        return "", ""
    others = sorted(s for s, n in matches.items() if n == best)
    ids = where[others[0]]
    listed = ", ".join(ids[:6]) + ("…" if len(ids) > 6 else "")
    whose = (
        "the default numbers (of the notebook made for nobody)"
        if others == [DEFAULT]
        else ("another student's numbers")
    )
    flag = (
        f"copying? the answers match {whose}, not {student}'s: {best} of {len(varying)} "
        f"exercises with per-student numbers ({listed})"
    )
    return flag, ", ".join(s or "-" for s in others[:3])


def class_references(course: Course, assignment: str, release: Path, key_of: KeyOf) -> References:
    """The varying references of every student of the release's roster and of the default
    numbers, indexed without the values that are someone's known mistake (``key_of`` gives
    each variant's key: read from the release, or computed and stored there once); kept while
    the course lives."""
    from .variants import for_variant

    roster = load_roster(release)
    if roster is None:
        return References({}, 0)
    cache_key = (str(release), course.fingerprint, assignment, roster.secret_check)

    def compute() -> References:
        secret = checked_secret(course, roster)
        base = for_variant(course, assignment, DEFAULT)
        keys = {DEFAULT: key_of(base)}
        mistaken = mistaken_values(base, assignment, keys[DEFAULT])
        for student in roster.ids():
            variant = variant_of(secret, course, assignment, student)
            mine = for_variant(base, assignment, variant)
            keys[student] = key_of(mine)
            for e, values in mistaken_values(mine, assignment, keys[student]).items():
                mistaken.setdefault(e, set()).update(values)
        return index_references(base, assignment, keys, mistaken)

    return course.memo.get("references", cache_key, compute)


def attributed(
    judged: Judged,
    exports: Mapping[str, ExportRecord],
    identity: Identity,
    references: References | None,
    student: str = "",
    flags: tuple[str, ...] = (),
) -> Attribution:
    """Whose a submission is (the identity's student, else ``student``, whom it was handed in
    for), its variant, and the flags for the instructor: intake's (``flags``), the
    identity's own and, with the class's ``references`` (a roster), copying."""
    found, matches = "", ""
    if references is not None and identity.student:
        found, matches = copied_from(judged, exports, identity.student, references)
    return Attribution(
        student=identity.student or student,
        variant=identity.variant,
        flags=(*flags, *identity.flags, *((found,) if found else ())),
        copied_from=matches,
    )
