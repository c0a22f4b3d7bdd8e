"""What the grader's distribution is: its name on the package index, its version, its
requirements and its command. A leaf module (it imports nothing of the package), read by
``__version__``, ``grade --version``, the wheel ``grade build`` writes and the Gradescope
autograder's requirements.

The package describes itself rather than asking the installed distribution: the code that
runs may not be the installed copy (``PYTHONPATH``, the grader folder of a Gradescope zip),
and pyproject.toml reads the version and the requirements from here, so both agree.
"""

from __future__ import annotations

from importlib import resources

# `grade` on the public index is an unrelated autograder: the distribution is
# grade-notebooks, the command `grade` and the package `grader`.
NAME = "grade-notebooks"
VERSION = "0.1.0"
SUMMARY = (
    "Automated grading of notebook exercises: YAML exercises, sandboxed kernels, "
    "tolerant comparisons, HTML reports."
)
REQUIRES_PYTHON = ">=3.10"
LICENSE = "MIT"
SCRIPTS = {"grade": "grader.cli:run"}
REQUIREMENTS = "requirements.txt"  # in the package; pyproject.toml's dependencies


def requirements() -> list[str]:
    """The distribution's requirements, one specifier each, as pip reads them."""
    text = resources.files(__package__).joinpath(REQUIREMENTS).read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]
