"""Many machines: a Dask distributed cluster runs the jobs.

Each job is a task: a worker runs the submission in a sandboxed kernel on its own machine,
within the job's limits, and sends back the ``Executed`` record, plain data. Workers need
the grader installed (and bubblewrap, for ``--sandbox require``), not the course: judging
and the gradebook stay in the coordinating process. When a worker is lost mid-batch, the
scheduler runs its tasks again elsewhere; each job is still recorded once.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ExecutionError, GraderError
from ..execute import Executed, execute
from . import Job, JobResult


def execute_job(job: Job) -> Executed | ExecutionError:
    """Run one job on this worker (a task: it is sent to workers by reference)."""
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        try:
            return execute(job.steps, job.options, Path(tmp))
        except ExecutionError as e:
            return e


class DaskBackend:
    """Jobs as tasks on the cluster whose scheduler is at ``address``."""

    def __init__(self, address: str, client: Any = None) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise GraderError(
                "--scheduler needs Dask distributed: pip install 'grade[dask]'"
            ) from None
        try:
            self.client = client or Client(address, timeout="30s")
        except (OSError, TimeoutError) as e:
            raise GraderError(f"cannot reach the Dask scheduler at {address}: {e}") from None
        self.own_client = client is None

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        """Results as tasks finish, a bounded number of them submitted at once."""
        from distributed import as_completed

        threads = sum(self.client.nthreads().values()) or 1
        batch = uuid.uuid4().hex[:12]  # task keys of this run only
        source = iter(jobs)
        running: dict[Any, Job] = {}
        finished = as_completed()

        def submit() -> bool:
            job = next(source, None)
            if job is None:
                return False
            key = f"grade-{batch}-{len(running)}-{uuid.uuid4().hex[:8]}"
            future = self.client.submit(execute_job, job, pure=False, key=key)
            running[future] = job
            finished.add(future)
            return True

        while len(running) < 2 * threads and submit():
            pass
        for future in finished:
            job = running.pop(future)
            try:
                outcome = future.result()
            except Exception as e:  # a task that failed on every worker it was tried on
                outcome = ExecutionError(f"the cluster could not run it: {type(e).__name__}: {e}")
            yield job, outcome
            submit()

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster itself goes on)."""
        if self.own_client:
            self.client.close()
