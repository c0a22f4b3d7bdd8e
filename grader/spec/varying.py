"""Which exercises vary from one student to another: those whose values come from
parameters (``params:`` of the exercise or of its topic). A question about the course as
written, answered without drawing or rendering anything (that is ``grader.variants``)."""

from __future__ import annotations

from .model import Course, Exercise

DEFAULT = ""  # the variant of a course built without a roster: every parameter's default


def varies(course: Course, assignment: str) -> bool:
    """Whether the assignment's exercises differ from one variant to another."""
    return bool(varying_exercises(course, assignment))


def varying_exercises(course: Course, assignment: str) -> list[Exercise]:
    """The exercises of an assignment whose values come from parameters."""
    return [
        ex
        for e in course.assignment(assignment).exercises
        if (ex := course.exercises[e]).params or course.topics[ex.topic].params
    ]
