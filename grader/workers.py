"""How many submissions run at once on this machine, and how many threads each kernel gets.

One rule for every command that runs kernels side by side (batch, regrade, the build's
self-check): the machine's cores shared out among the workers, so that kernels running at
once do not fight over them (torch and BLAS would each start a thread per core).
A leaf module: it imports nothing of the package.
"""

from __future__ import annotations

import os


def cores() -> int:
    """The cores of this machine (1 when Python cannot tell)."""
    return os.cpu_count() or 1


def default_workers() -> int:
    """Submissions run at once when the user does not say: one per core."""
    return cores()


def kernel_threads(workers: int) -> int:
    """Intra-op threads for each of ``workers`` kernels running at once: the cores shared
    out, at least one each."""
    return max(1, cores() // max(1, workers))
