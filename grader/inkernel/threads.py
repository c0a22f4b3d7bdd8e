"""One intra-op thread for the small forwards of a model check.

A probe batch is two images: splitting its convolutions over threads gains nothing, and on a
loaded machine (a batch grading as many kernels as there are cores) threads that wait for a
busy core make each forward 20-50 times slower (70 ms instead of 2 ms for the CIFAR10Model on
two cores). Used the same way in the kernel and in the grader, so that both sides also sum in
the same order. Imports torch only when entered.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one torch intra-op thread; the count is restored after."""
    import torch

    count = torch.get_num_threads()
    if count == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(count)
