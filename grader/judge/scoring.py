"""Executed steps + expectations -> one ExerciseResult per exercise (scores, statuses, hints).

The one judge: a pure function of (course, assembled, executed, expectations). Official
grading's expectations are the answer key (the kind's check against its reference value,
with ``JudgeContext`` for what else a check needs); grading in a hand-out folder uses the same
judge with a public context (``grader.judge.public_context``: public checks, instant digests,
sealed mistakes), which may leave an exercise ``pending``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..assemble import Assembled
from ..errors import CompareError
from ..execute.records import Executed, ExportRecord, StepOutcome
from ..key import AnswerKey
from ..kinds import KINDS
from ..results import CheckResult, ExerciseResult, Status, StudentError
from ..spec import Course, Exercise, Mistake
from .context import JudgeContext
from .manual import awaiting_review


@dataclass(frozen=True)
class Verdict:
    """What an exercise's expectations say of one exported answer."""

    checks: tuple[CheckResult, ...]
    mistake: tuple[str, str] | None = None  # a known mistake matched: its title and hint
    status: Status | None = None  # None: from the score
    fraction: float | None = None  # of the points; None: from the checks' weights
    message: str | None = None  # None: the first failed check's


class Expectations(Protocol):
    """Where a judge's expectations of an answer come from: the answer key (official
    grading) or a hand-out's public data (``grader.judge.public_context``)."""

    def verdict(self, exercise: Exercise, export: ExportRecord) -> Verdict:
        """The checks of one exported answer (raises CompareError for a course error)."""
        ...


class KeyExpectations:
    """Official grading: the kind's check against the key's reference value."""

    def __init__(self, course: Course, key: AnswerKey) -> None:
        self.key = key
        self.context = JudgeContext(course, key)

    def verdict(self, exercise: Exercise, export: ExportRecord) -> Verdict:
        """The kind's check, and the known mistake the answer matches when it fails."""
        kind = KINDS[exercise.answer.kind]
        expected = _expected(self.key, exercise) if kind.keyed else None
        checks = tuple(kind.checker()(exercise, expected, export, self.context))
        failed = [c for c in checks if not c.passed and c.weight > 0]
        if not failed or not exercise.mistakes:
            return Verdict(checks)
        mistake = known_mistake(exercise, export, self.context)
        return Verdict(checks, (mistake.title, mistake.hint) if mistake else None)


def judge(
    course: Course,
    assembled: Assembled,
    executed: Executed,
    key: AnswerKey | Expectations,
) -> tuple[ExerciseResult, ...]:
    """Score every exercise of one run.

    Args:
        course: the course (reference architectures and custom checks come from it).
        assembled: the steps that were run (an answer and an export step per exercise).
        executed: their outcomes and the collected exports.
        key: reference values and the secret seed of held-out data; or other expectations
            (a hand-out's public context, which may leave an exercise ``pending``).

    Raises:
        CompareError: a course error (a reference that cannot be compared, a custom check
            that fails, held-out data that cannot be loaded), naming the exercise.
    """
    expectations = KeyExpectations(course, key) if isinstance(key, AnswerKey) else key
    results = []
    for i, ex, outcome in answer_steps(course, assembled, executed):
        if ex.id in assembled.missing:
            message = "no answer cell was found for this exercise"
            results.append(_result(ex, [], status="missing", message=message))
        elif outcome.status != "ok":
            message = _error_message(outcome)
            results.append(_result(ex, [], status="error", message=message, error=outcome.error))
        else:
            export_outcome = executed.outcomes[i + 1] if i + 1 < len(executed.outcomes) else None
            export = executed.exports.get(ex.id)
            if export is not None:  # what the grader drew for it, from the assembly
                export = replace(
                    export,
                    drawn=assembled.draws.get(ex.id, {}),
                    follow_ups=follow_ups(executed, ex.id),
                )
            source = assembled.steps[i].source
            results.append(judge_export(ex, export, expectations, export_outcome, source))
    for eid in assembled.order:  # manual answers: no steps; missing ones as unanswered
        ex = course.exercises[eid]
        if eid in assembled.manual:
            results.append(awaiting_review(ex, assembled.manual[eid]))
        elif eid in assembled.missing and not any(r.id == eid for r in results):
            message = "no answer cell was found for this exercise"
            results.append(_result(ex, [], status="missing", message=message))
    if assembled.order:
        place = {eid: n for n, eid in enumerate(assembled.order)}
        results.sort(key=lambda r: place.get(r.id, len(place)))
    return tuple(results)


def follow_ups(executed: Executed, exercise_id: str) -> dict[str, Any]:
    """The payloads the run's follow-ups kept for an exercise (keys ``"<exercise>:<name>"``,
    which no export step can write), by name."""
    prefix = exercise_id + ":"
    return {
        key.removeprefix(prefix): record.payload
        for key, record in executed.exports.items()
        if key.startswith(prefix)
    }


def answer_steps(
    course: Course, assembled: Assembled, executed: Executed
) -> Iterator[tuple[int, Exercise, StepOutcome]]:
    """Each answer step of a run, in order: its index, its exercise and its outcome."""
    for i, step in enumerate(assembled.steps):
        if step.role == "answer":
            yield i, course.exercises[step.exercise], executed.outcomes[i]


def judge_export(
    ex: Exercise,
    export: ExportRecord | None,
    expectations: Expectations,
    export_outcome: StepOutcome | None = None,
    source: str | None = None,
) -> ExerciseResult:
    """One exercise whose answer cell ran: its export against the expectations, and its
    answer cell's text (``source``, when given) by the kind's source check: a failed source
    check scores the exercise 0 with its message."""
    if export is None:
        why = export_outcome.error.summary if export_outcome and export_outcome.error else ""
        message = "the answer could not be exported (the export step failed" + (
            f": {why})" if why else ": was a grader function or module replaced?)"
        )
        return _result(ex, [], status="error", message=message)
    if not export.ok:
        return _result(ex, [], message=str(export.payload.get("error", "no answer")))
    try:
        verdict = expectations.verdict(ex, export)
    except CompareError as e:
        raise CompareError(f"exercise {ex.id!r}: {e}") from None
    source_check = KINDS[ex.answer.kind].source_checker()
    if source is not None and source_check is not None:
        checks = tuple(source_check(ex.answer, source, export.payload))
        if any(not c.passed and c.weight == 0 for c in checks):  # a rule: the exercise is 0
            message = next(c.message for c in checks if not c.passed and c.weight == 0)
            return _result(ex, [*checks, *verdict.checks], message=message, fraction=0.0)
        verdict = replace(verdict, checks=(*checks, *verdict.checks))
    failed = [c for c in verdict.checks if not c.passed and c.weight > 0]
    message = (
        verdict.message if verdict.message is not None else (failed[0].message if failed else "")
    )
    result = _result(
        ex, list(verdict.checks), status=verdict.status, message=message, fraction=verdict.fraction
    )
    if verdict.mistake is None or result.status == "passed":
        return result
    # The report names the misconception and gives its hint instead of the generic ones.
    title, hint = verdict.mistake
    return replace(result, message=f"a known mistake: {title}", hints=(hint,), mistake=title)


def known_mistake(ex: Exercise, export: ExportRecord, context: JudgeContext) -> Mistake | None:
    """The first of the exercise's known mistakes whose wrong answer this export matches (by
    the kind's own comparison, with the exercise's tolerances), if any."""
    check = KINDS[ex.answer.kind].checker()
    for mistake in ex.mistakes:
        checks = check(ex, context.mistake(ex, mistake), export, context)
        if all(c.passed for c in checks if c.weight > 0):
            return mistake
    return None


def mistake_problems(course: Course, assignment_id: str, key: AnswerKey) -> list[str]:
    """What is wrong with an assignment's known mistakes: one that cannot be computed, or
    one that the reference answer matches (it would call the right answer a mistake)."""
    context = JudgeContext(course, key)
    problems = []
    for eid in course.assignment(assignment_id).exercises:
        ex = course.exercises[eid]
        if not ex.mistakes or eid not in key.values:
            continue
        reference = ExportRecord({"ok": True, "value": key.values[eid]})
        try:
            for m in ex.mistakes:
                context.mistake(ex, m)
            matched = known_mistake(ex, reference, context)
        except CompareError as e:
            problems.append(f"{assignment_id}/{eid}: {e}")
            continue
        if matched is not None:
            problems.append(
                f"{assignment_id}/{eid}: the known mistake {matched.function!r} gives the "
                "reference answer"
            )
    return problems


def _expected(key: AnswerKey, ex: Exercise) -> Any:
    if ex.id not in key.values:
        # unprefixed: _judge_one names the exercise, once
        raise CompareError("the answer key has no value; run `grade build`")
    return key.values[ex.id]


def _error_message(outcome: StepOutcome) -> str:
    error = outcome.error
    if outcome.status in ("skipped", "timeout", "died", "output"):
        return error.evalue if error else "not run"
    return f"your cell raised {error.summary}" if error else "your cell raised an error"


def _result(
    ex: Exercise,
    checks: list[CheckResult],
    *,
    status: Status | None = None,
    message: str = "",
    error: StudentError | None = None,
    fraction: float | None = None,
) -> ExerciseResult:
    total = sum(c.weight for c in checks)
    earned = sum(c.weight for c in checks if c.passed)
    if fraction is not None:
        score = round(ex.points * fraction, 4)
    else:
        score = round(ex.points * earned / total, 4) if total else 0.0
    if status is None:
        status = "passed" if score >= ex.points else "partial" if score > 0 else "failed"
    return ExerciseResult(
        id=ex.id,
        title=ex.title,
        points=ex.points,
        score=score,
        status=status,
        checks=tuple(checks),
        message=message,
        hints=ex.hints if status not in ("passed", "pending") else (),
        error=error,
    )
