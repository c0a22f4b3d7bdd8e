"""``python -m grader``."""

from .cli import run

run()
