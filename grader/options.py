"""Options of a grading run (one ``grade``, a batch, a regrade, a build's self-check): what
the command line may override of the course, where the release is, whom a file is graded
for. A leaf of the orchestration: every stage that needs them imports this, not a runner."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .execute.options import ExecOptions
from .execute.sandbox import SandboxMode
from .spec import CIFAR10_ENV, Course

Progress = Callable[[str], None]


@dataclass(frozen=True)
class GradeOptions:
    """Options of a grading run; what is not given comes from the course."""

    limits: Mapping[str, float] = field(default_factory=dict)  # overrides of course limits
    sandbox: SandboxMode = "auto"
    release: Path | None = None
    threads: int = 0
    student: str = ""  # whom a single submission is graded for (else the notebook says)

    def exec_options(self, course: Course) -> ExecOptions:
        """Execution options: course limits with the overrides given here, the course's data."""
        data = ((CIFAR10_ENV, course.cifar10_dir),) if course.cifar10_dir else ()
        return ExecOptions(
            limits=course.limits.override(self.limits),
            sandbox=self.sandbox,
            threads=self.threads,
            data=data,
        )

    def release_dir(self, course: Course) -> Path:
        """The release folder (default: ``release/`` beside course.yaml)."""
        return self.release or course.root / "release"
