"""The course, read from YAML: records (``model``), YAML with line numbers (``yamlfields``),
the answer spec, parameters, policies, and ``load_course`` (``course``)."""

from ..limits import Limits
from .course import NOT_MADE_OF, load_course
from .model import (
    CIFAR10_ENV,
    ID_RE,
    NO_DEFAULT,
    Answer,
    Assignment,
    Constraint,
    Course,
    Exercise,
    Mistake,
    Param,
    Topic,
)

__all__ = [
    "CIFAR10_ENV",
    "ID_RE",
    "NOT_MADE_OF",
    "NO_DEFAULT",
    "Answer",
    "Assignment",
    "Constraint",
    "Course",
    "Exercise",
    "Limits",
    "Mistake",
    "Param",
    "Topic",
    "load_course",
]
