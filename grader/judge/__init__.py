"""Judging, in the grader's own process: exports (plain data, weights) against the key.

scoring.py   judge(course, assembled, executed, key) -> exercise results (pure)
compare.py   number, array, shape, mapping and custom checks of plain values
models.py    module, training and overfit checks of exported models
context.py   reference models, custom checks, setup values, held-out data (cached)
warmup.py    prepare: what judging will need, done while the kernel runs
"""

from __future__ import annotations

from .context import JudgeContext
from .scoring import judge
from .warmup import prepare

__all__ = ["JudgeContext", "judge", "prepare"]
