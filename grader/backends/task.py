"""What a Dask worker runs for one job: the submission in a sandboxed kernel on the worker's
machine, returned as the bytes of ``wire.encode_result`` (never as objects to unpickle).

As it begins, the task says so through the scheduler's event log, on its batch's topic (the
task key without its ticket, see ``courier``), with the worker's address: the courier hears
it, and the batch shows which submissions run, where, and for how long."""

from __future__ import annotations

import functools

from ..errors import ExecutionError
from ..execute import execute
from ..execute.scratch import clean_leftovers, scratch
from . import Job
from .wire import TASK_PREFIX, encode_result


@functools.cache
def _clean_once() -> None:
    """Once per worker process: remove the scratch folders of dead workers on this machine."""
    clean_leftovers()


def run_job(job: Job, nonce: str) -> bytes:
    """Run one job on this worker (the task: sent to workers by reference, by the courier)."""
    _say_started()
    _clean_once()  # what a worker killed before this one left on this machine
    with scratch() as tmp:
        try:
            outcome = execute(job.steps, job.options, tmp)
        except ExecutionError as e:
            return encode_result(e, nonce)
        except Exception as e:  # a bug on the worker: this job's failure, reported as such
            return encode_result(ExecutionError(f"internal error: {type(e).__name__}: {e}"), nonce)
    return encode_result(outcome, nonce)


def _say_started() -> None:
    """Log this task's start on its batch's topic (nothing outside a Dask worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
        key = worker.get_current_task()
    except (ImportError, ValueError, KeyError):
        return
    if isinstance(key, str) and key.startswith(TASK_PREFIX):
        worker.log_event(key.rpartition("-")[0], {"key": key, "worker": str(worker.address)})
