"""Execution: run a submission's steps in a sandboxed kernel, within limits.

    kernel.py       one sandboxed ipykernel process (start, interrupt, restart, stop)
    steps.py        the policy: deadlines, skips, output budget, restart and replay
    cells.py        one cell through nbclient, with output caps (the only nbclient user)
    exports.py      export steps, and collecting their nonce-checked output as records
    records.py      Executed, StepOutcome, ExportRecord: plain, picklable results
    capture.py      the kernel process's own stdout/stderr, kept for --debug
    environment.py  the kernel's allow-listed environment
    workdir.py      the kernel's size-limited work dir
    scratch.py      the grader's grade-* folders, and what a dead run left of them
    sandbox.py      the bubblewrap command line;  cgroup.py  memory and process limits
    launch.py       the launcher that joins the cgroup and sets rlimits, then execs

``execute`` is the one-call path. A caller that wants the kernel to boot while it does other
work calls ``start_kernel`` first and ``run`` later (from one thread); a pool may also run
the course's setup steps in a kernel before its submission is known (``StepRunner``). A
caller that holds the reference may pass ``run`` a follow-up (``FollowUp``), run after each
export while the kernel is alive (shrinking a failing property example there).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .kernel import Kernel
from .options import ExecOptions
from .records import Executed, ExportRecord, StepOutcome
from .sandbox import use_sandbox
from .steps import FollowExports, FollowUp, StepRunner

if TYPE_CHECKING:  # the grader launches a kernel before it imports the course's reading
    from ..assemble import Step

__all__ = [
    "ExecOptions",
    "Executed",
    "ExportRecord",
    "FollowExports",
    "FollowUp",
    "Kernel",
    "StepOutcome",
    "StepRunner",
    "execute",
    "run",
    "start_kernel",
]


def start_kernel(options: ExecOptions, root: Path) -> Kernel:
    """A kernel for one submission in ``root`` (a fresh folder), launched now: it boots while
    the caller goes on. ExecutionError when ``--sandbox=require`` cannot be met."""
    sandboxed, warning = use_sandbox(options.sandbox)
    kernel = Kernel(options, root, sandboxed, (warning,) if warning else ())
    try:
        kernel.launch()
    except BaseException:
        kernel.stop()
        raise
    from . import cells  # noqa: F401  (nbclient and jupyter_client: imported while it boots)

    return kernel


def run(
    kernel: Kernel,
    steps: Sequence[Step],
    runner: StepRunner | None = None,
    follow_up: FollowUp | None = None,
) -> Executed:
    """Drive a launched kernel through ``steps``, then stop it (all from this thread).

    ``runner``: a StepRunner that already ran earlier steps (the setup) in this kernel; its
    outcomes come first in the result, and the notebook's clock starts now. ``follow_up``:
    run after each collected export, in the same kernel (``steps.FollowUp``).
    """
    started = time.monotonic()
    try:
        if kernel.runner is None:
            kernel.connect()
        if runner is None:
            runner = StepRunner(kernel, started, follow_up)
        else:
            runner.restart_clock(started)
            runner.follow_up = follow_up
        runner.run(steps)
    finally:
        kernel.stop()
    return Executed(
        outcomes=tuple(runner.outcomes),
        exports=dict(runner.exports),
        duration=time.monotonic() - started,
        warnings=kernel.warnings,
        log=kernel.log.text(wait=0.5),
    )


def execute(steps: Sequence[Step], options: ExecOptions, root: Path) -> Executed:
    """Run ``steps`` in a fresh kernel whose folders live under ``root``."""
    return run(start_kernel(options, root), steps)
