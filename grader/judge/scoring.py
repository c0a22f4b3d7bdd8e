"""Executed steps + answer key -> one ExerciseResult per exercise (scores, statuses, hints).

A pure function of (course, assembled, executed, key): the exports are records in memory,
and whatever else a check needs comes from the course and the key (``JudgeContext``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..assemble import Assembled
from ..errors import CompareError
from ..execute.records import Executed, ExportRecord, StepOutcome
from ..key import AnswerKey
from ..kinds import KINDS
from ..results import CheckResult, ExerciseResult, Status, StudentError
from ..spec import Course, Exercise, Mistake
from .context import JudgeContext


def judge(
    course: Course, assembled: Assembled, executed: Executed, key: AnswerKey
) -> tuple[ExerciseResult, ...]:
    """Score every exercise of one run.

    Args:
        course: the course (reference architectures and custom checks come from it).
        assembled: the steps that were run (an answer and an export step per exercise).
        executed: their outcomes and the collected exports.
        key: reference values and the secret seed of held-out data.

    Raises:
        CompareError: a course error (a reference that cannot be compared, a custom check
            that fails, held-out data that cannot be loaded), naming the exercise.
    """
    context = JudgeContext(course, key)
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
            results.append(_judge_one(ex, export, export_outcome, key, context))
    return tuple(results)


def answer_steps(
    course: Course, assembled: Assembled, executed: Executed
) -> Iterator[tuple[int, Exercise, StepOutcome]]:
    """Each answer step of a run, in order: its index, its exercise and its outcome."""
    for i, step in enumerate(assembled.steps):
        if step.role == "answer":
            yield i, course.exercises[step.exercise], executed.outcomes[i]


def _judge_one(
    ex: Exercise,
    export: ExportRecord | None,
    export_outcome: StepOutcome | None,
    key: AnswerKey,
    context: JudgeContext,
) -> ExerciseResult:
    if export is None:
        why = export_outcome.error.summary if export_outcome and export_outcome.error else ""
        message = "the answer could not be exported (the export step failed" + (
            f": {why})" if why else ": was a grader function or module replaced?)"
        )
        return _result(ex, [], status="error", message=message)
    if not export.ok:
        return _result(ex, [], message=str(export.payload.get("error", "no answer")))
    kind = KINDS[ex.answer.kind]
    try:
        checks = kind.checker()(ex, _expected(key, ex) if kind.keyed else None, export, context)
        failed = [c for c in checks if not c.passed and c.weight > 0]
        mistake = known_mistake(ex, export, context) if failed and ex.mistakes else None
    except CompareError as e:
        raise CompareError(f"exercise {ex.id!r}: {e}") from None
    result = _result(ex, checks, message=failed[0].message if failed else "")
    if mistake is None:
        return result
    # The report names the misconception and gives its hint instead of the generic ones.
    return replace(
        result,
        message=f"a known mistake: {mistake.title}",
        hints=(mistake.hint,),
        mistake=mistake.title,
    )


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
) -> ExerciseResult:
    total = sum(c.weight for c in checks)
    earned = sum(c.weight for c in checks if c.passed)
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
        hints=ex.hints if status != "passed" else (),
        error=error,
    )
