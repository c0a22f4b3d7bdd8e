"""How submissions are run: limits, sandbox, what the kernel may see. Plain, frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..limits import Limits
from .sandbox import SandboxMode


@dataclass(frozen=True)
class ExecOptions:
    """How to run a submission (picklable: a pool or a Dask worker gets a copy)."""

    limits: Limits = field(default_factory=Limits)
    sandbox: SandboxMode = "auto"
    startup_timeout: float = 60.0
    threads: int = 0  # intra-op threads for torch/BLAS in the kernel; 0 = library default
    # Folders shown read-only to the kernel, each with the variable that tells the kernel
    # where it is, e.g. (("GRADE_CIFAR10_DIR", Path("/data/cifar-10-batches-py")),).
    data: tuple[tuple[str, Path], ...] = ()
