"""What judging will need, done ahead: while a kernel runs the submission, the grader's own
process imports the checks' libraries, builds the reference models, loads the custom checks,
the setup values and the held-out data, and runs a trained model's evaluation once."""

from __future__ import annotations

from ..key import AnswerKey
from ..kinds import KINDS
from ..spec import Course, Exercise
from .context import JudgeContext
from .source_rules import same_objects


def prepare(course: Course, key: AnswerKey, exercises: list[Exercise]) -> None:
    """Do now what checking these exercises will need (imports, reference models, custom
    checks, setup values, held-out data), e.g. while the kernel runs the submission.
    Raises the course errors that checking would raise."""
    context = JudgeContext(course, key)
    for ex in exercises:
        kind = KINDS[ex.answer.kind]
        kind.checker()  # imports what the check needs (numpy, torch)
        if kind.recipe == "calls":
            if ex.answer["generate"] or ex.answer["properties"]:
                context.reference_function(ex)  # called on this grading's draws, after the run
            for name in ex.answer["forbids"]:
                same_objects(name)  # imports the forbidden names' packages (torch: seconds)
        for option in kind.options:
            value = ex.answer[option.name]
            if option.type == "reference":
                context.reference_model(ex)
            elif option.type == "function" and option.name == "check":
                context.custom(ex)
            elif option.type == "setup":
                context.setup_value(ex, value)
            elif option.type == "holdout":
                from .models import warm_up  # torch: only for the kinds that need it

                warm_up(context, ex, value)
