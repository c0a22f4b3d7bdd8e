"""Executed steps + answer key -> one ExerciseResult per exercise (scores, statuses, hints)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .assemble import Assembled
from .compare import COMPARATORS, run_custom
from .execute import Executed, read_export
from .key import AnswerKey
from .results import CheckResult, ExerciseResult, StudentError
from .solutions import custom_check, reference_object
from .spec import Course, Exercise

HoldoutFn = Callable[[int], Any]


def judge(
    course: Course, assembled: Assembled, executed: Executed, key: AnswerKey, holdout: HoldoutFn
) -> tuple[ExerciseResult, ...]:
    """Score every exercise of the run.

    Args:
        course: the course (reference architectures and custom checks come from it).
        assembled: the steps that were run (answer and export steps per exercise).
        executed: their outcomes and the export folder.
        key: reference values.
        holdout: ``n -> (x, y)`` held-out samples for training checks.
    """
    results = []
    for i, step in enumerate(assembled.steps):
        if step.role != "answer":
            continue
        ex = course.exercises[step.exercise]
        outcome = executed.outcomes[i]
        if step.exercise in assembled.missing:
            results.append(
                _result(
                    ex, [], status="missing", message="no answer cell was found for this exercise"
                )
            )
        elif outcome.status != "ok":
            results.append(
                _result(
                    ex,
                    [],
                    error=outcome.error,
                    status="error",
                    message=_error_message(outcome.status, outcome.error),
                )
            )
        else:
            results.append(_judge_one(course, ex, executed.export_dir, key, holdout))
    return tuple(results)


def _judge_one(
    course: Course, ex: Exercise, export_dir: Path, key: AnswerKey, holdout: HoldoutFn
) -> ExerciseResult:
    payload = read_export(export_dir, ex.id)
    if payload is None:
        return _result(
            ex,
            [],
            status="error",
            message="the answer could not be exported "
            "(the export step failed: was a grader function or module replaced?)",
        )
    if not payload.get("ok"):
        return _result(ex, [], message=str(payload.get("error", "no answer")))
    answer = ex.answer
    weights = export_dir / f"{ex.id}.pt"
    checks: list[CheckResult]
    if answer.kind in COMPARATORS:
        checks = COMPARATORS[answer.kind](answer, _expected(key, ex), payload.get("value"))
    elif answer.kind == "custom":
        fn = custom_check(course, ex.topic, answer.check)
        checks = run_custom(fn, _expected(key, ex), payload.get("value"))
    else:
        from .modelcheck import check_module, check_training

        ref = reference_object(course, ex.id, answer.reference)
        if answer.kind == "module":
            checks = check_module(answer, payload, weights, ref)
        else:
            checks = check_training(answer, payload, weights, ref, holdout(answer.holdout))
    failed = [c for c in checks if not c.passed and c.weight > 0]
    return _result(ex, checks, message=failed[0].message if failed else "")


def _expected(key: AnswerKey, ex: Exercise) -> Any:
    from .errors import CompareError

    if ex.id not in key.values:
        raise CompareError(f"the answer key has no value for {ex.id!r}; run `grade build`")
    return key.values[ex.id]


def _error_message(status: str, error: StudentError | None) -> str:
    if status == "skipped":
        return error.evalue if error else "not run"
    if status in ("timeout", "died"):
        return error.evalue if error else status
    return f"your cell raised {error.summary}" if error else "your cell raised an error"


def _result(
    ex: Exercise,
    checks: list[CheckResult],
    *,
    status: str = "",
    message: str = "",
    error: StudentError | None = None,
) -> ExerciseResult:
    total = sum(c.weight for c in checks)
    earned = sum(c.weight for c in checks if c.passed)
    score = round(ex.points * earned / total, 4) if total else 0.0
    if not status:
        status = "passed" if score >= ex.points else "partial" if score > 0 else "failed"
    return ExerciseResult(
        id=ex.id,
        title=ex.title,
        points=ex.points,
        score=score,
        status=status,  # type: ignore[arg-type]
        checks=tuple(checks),
        message=message,
        hints=ex.hints if status != "passed" else (),
        error=error,
    )
