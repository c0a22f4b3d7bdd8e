"""Judging, in the grader's own process: exports (plain data, weights) against the key.

scoring.py   judge(course, assembled, executed, key) -> exercise results (pure)
compare.py   number, array, shape, mapping and custom checks of plain values
models.py    module, training and overfit checks of exported models
context.py   reference models, custom checks, setup values, held-out data (cached)
"""

from __future__ import annotations

from .context import JudgeContext, prepare
from .scoring import judge

__all__ = ["JudgeContext", "judge", "prepare"]
