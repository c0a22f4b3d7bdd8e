"""Every exception `grade` raises. Student mistakes are data (see results.py), not exceptions."""

from __future__ import annotations


class GraderError(Exception):
    """Root of the errors an operator must fix; the CLI shows ``str(error)`` on one line."""


class SpecError(GraderError):
    """A course or exercise file is invalid; carries the file, line and key."""

    def __init__(
        self, message: str, path: str = "", line: int | None = None, key: str = ""
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.key = key
        where = f"{path}:{line}" if path and line else path
        super().__init__(f"{where}: {message}" if where else message)

    def __reduce__(self) -> tuple[type[SpecError], tuple[str, str, int | None, str]]:
        return (type(self), (self.message, self.path, self.line, self.key))


class RenderError(GraderError):
    """A notebook could not be rendered from the spec (e.g. a broken prompt template)."""


class SubmissionError(GraderError):
    """A submission cannot be graded at all (not a notebook, unknown assignment, ...)."""


class ExecutionError(GraderError):
    """The kernel could not be started or driven (not the student's fault)."""


class CompareError(GraderError):
    """The reference answer key is missing or unusable."""


class ReportError(GraderError):
    """A report could not be written."""


class BuildError(GraderError):
    """`grade build` self-check failed: a solution is not full marks or a starter earns points."""
