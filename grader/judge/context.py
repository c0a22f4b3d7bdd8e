"""What checks need beyond a student's export, from the course and the key alone.

Reference classes (built by running a solution section, trusted code, in this process), an
author's custom checks, values the topic's setup defines, and held-out data drawn with the
key's secret seed. Everything is computed on first use and kept while the course lives (in
its memo, ``grader.memo``, keyed by variant and seed), so that ``grader.judge.warmup.prepare``
can do the slow
parts while a kernel is still running the submission.
"""

from __future__ import annotations

import copy
import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any

from ..errors import CompareError
from ..frozen import freeze
from ..inkernel.exporter import to_plain
from ..key import AnswerKey
from ..solutions import (
    custom_check,
    preamble_function,
    reference_function,
    reference_object,
    setup_namespace,
)
from ..spec import Course, Exercise, Mistake


class JudgeContext:
    """Lazy, cached access to trusted objects for the checks of one course and key."""

    def __init__(self, course: Course, key: AnswerKey) -> None:
        self.course = course
        self.key = key

    def reference_class(self, exercise: Exercise) -> Any:
        """The class the answer's ``reference`` names (a solution section defines it)."""
        return reference_object(self.course, exercise.id, exercise.answer["reference"])

    def reference_model(self, exercise: Exercise) -> Any:
        """A fresh instance of the reference class, built with the answer's ``arguments``."""
        import torch

        cls = self.reference_class(exercise)
        try:
            model = cls(*exercise.answer["arguments"])
        except Exception as e:
            raise CompareError(
                f"the reference {exercise.answer['reference']} cannot be built with arguments "
                f"{list(exercise.answer['arguments'])}: {type(e).__name__}: {e}"
            ) from None
        if not isinstance(model, torch.nn.Module):
            raise CompareError(f"the reference {exercise.answer['reference']} is not an nn.Module")
        return model

    def reference_function(self, exercise: Exercise) -> Any:
        """The function a function answer's solution defines (built once per course)."""
        return reference_function(self.course, exercise)

    def reference_results(self, exercise: Exercise, cases: list[dict[str, Any]]) -> Any:
        """The reference function's results on cases drawn for this grading (``grader.draws``),
        called here as the kernel calls the student's (``grader.inkernel.calls``), frozen as
        the key's results are (the comparison is type for type)."""
        from ..inkernel.calls import call_all

        timeout = max(10.0, 10 * float(exercise.answer["call_timeout"]))
        return freeze(call_all(self.reference_function(exercise), cases, timeout))

    def reveals_hidden(self, exercise: Exercise) -> bool:
        """Whether a report may show the inputs of the exercise's hidden cases now: the
        course says so (``policies.reveal_hidden: after_due``) and every assignment holding
        the exercise is closed to everyone (its latest due date and late cutoff are past)."""
        policies = self.course.policies
        if policies.reveal_hidden != "after_due":
            return False
        now = dt.datetime.now(dt.timezone.utc)
        holding = [a for a in self.course.assignments if exercise.id in a.exercises]
        closes = [policies.closes(a.id, a.due) for a in holding]
        return bool(closes) and all(c is not None and c <= now for c in closes)

    def custom(self, exercise: Exercise) -> Callable[..., Any]:
        """The custom check function the answer names."""
        return custom_check(self.course, exercise.topic, exercise.answer["check"])

    def mistake(self, exercise: Exercise, mistake: Mistake) -> Any:
        """The wrong answer a known mistake gives, as plain data: its function, called with
        (copies of) the setup variables its parameters name. Computed once per course."""
        course = self.course
        cache_key = (
            str(course.path),
            course.fingerprint,
            course.variant,
            exercise.id,
            mistake.function,
        )

        def compute() -> Any:
            fn = preamble_function(course, exercise.topic, mistake.function, "known mistake")
            # the setup's variables and the exercise's own parameters
            ns = {**setup_namespace(course, exercise.topic), **exercise.own_values}
            try:
                names = list(inspect.signature(fn).parameters)
            except (TypeError, ValueError):
                names = []
            unknown = [n for n in names if n not in ns]
            if unknown:
                raise CompareError(
                    f"known mistake {mistake.function!r}: neither the setup of topic "
                    f"{exercise.topic!r} nor the exercise's parameters define "
                    f"{', '.join(map(repr, unknown))}"
                )
            try:
                value = fn(**{n: copy.deepcopy(ns[n]) for n in names})
                return to_plain(value)
            except Exception as e:
                raise CompareError(
                    f"known mistake {mistake.function!r} raised {type(e).__name__}: {e}"
                ) from None

        return course.memo.get("mistake", cache_key, compute)

    def setup_value(self, exercise: Exercise, name: str) -> Any:
        """A variable defined by the exercise's topic setup (run in this process)."""
        ns = setup_namespace(self.course, exercise.topic)
        if name not in ns:
            raise CompareError(f"the setup of topic {exercise.topic!r} does not define {name!r}")
        return ns[name]

    def holdout(self, n: int) -> Any:
        """``n`` held-out samples ``(x, y)`` the student never saw (secret seed, or the real
        CIFAR-10 test split when the course has one)."""
        from ..datasets import holdout_data

        folder = self.course.cifar10_dir
        cache_key = (n, self.key.seed, str(folder or ""))

        def compute() -> Any:
            import torch

            try:
                x, y = holdout_data(n, self.key.seed, cifar10_dir=folder)
            except (OSError, ValueError) as e:
                raise CompareError(f"the held-out data cannot be loaded: {e}") from None
            if x.dim() == 4:  # images: channels-last makes the grader's evaluation faster
                x = x.contiguous(memory_format=torch.channels_last)
            return (x, y)

        return self.course.memo.get("holdout", cache_key, compute)
