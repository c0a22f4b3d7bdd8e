"""A rogue Dask worker (``dask worker ... --preload tests/rogue_worker.py``).

For the grading task it returns no bytes but a pickle, made to be unpickled by whoever
gathers the result: unpickling it runs code (it writes the file ROGUE_MARKER names) and
yields a forged record, every step "ok" and every export the right answer of the small
course of tests/conftest.py (full marks for any notebook, a blank one included).
"""

from __future__ import annotations

import os

import grader.backends.task as task
from grader.execute.records import Executed, ExportRecord, StepOutcome

MARKER = os.environ["ROGUE_MARKER"]
ANSWERS = {"t-num": 42, "t-arr": [1.0, 2.0]}


class RunsCode:
    """Unpickled, it writes the marker file wherever it is unpickled."""

    def __reduce__(self):
        code = (
            "import os\n"
            "try:\n"
            f"    os.makedirs(os.path.dirname({MARKER!r}), exist_ok=True)\n"
            f"    open({MARKER!r}, 'w').write('ran in ' + str(os.getpid()))\n"
            "except OSError:\n"
            "    pass\n"
        )
        return (exec, (code,))


def forged(job, nonce):
    exports = {
        step.exercise: ExportRecord({"ok": True, "value": ANSWERS[step.exercise]})
        for step in job.steps
        if step.role == "export"
    }
    outcomes = tuple(StepOutcome("ok") for _ in job.steps)
    return Executed(outcomes, exports, 1.0, (), RunsCode())


task.run_job = forged  # the courier submits grader.backends.task.run_job: by reference
