"""Many machines: a Dask distributed cluster runs the jobs, and nothing it sends is trusted.

Each job is a task: a worker runs the submission in a sandboxed kernel on its own machine,
within the job's limits, and returns bytes (``wire``). Workers need the grader installed (and
bubblewrap, for ``--sandbox require``), not the course: judging and the gradebook stay in the
coordinating process. That process never holds a Dask Client (one unpickles whatever the
cluster sends): a child process, the courier (``courier.py``), does, with nothing secret in
reach, and passes back only length-prefixed frames, decoded here with caps. When a worker is
lost mid-batch, the scheduler runs its tasks again elsewhere; each job is still recorded
once, and the watch hears of the loss and of each job's new start. When the courier itself
is lost, the jobs not yet back fail (a re-run retries them). A cluster with no worker (none
joined within the courier's ``WORKERS_WAIT``) is refused at once, in one line.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import pickle
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import ExecutionError, GraderError
from ..execute.capture import OutputLog
from ..execute.environment import python_environment
from ..execute.sandbox import GRADER_PACKAGE, SandboxMode, bwrap, bwrap_argv
from ..execute.scratch import scratch_dir
from ..sanitize import one_line
from . import Job, JobResult, Started, Watch, WorkerLost
from .cluster import Cluster
from .courier import JOB, WORKERS_WAIT
from .wire import (
    ERROR,
    FATAL,
    HELLO,
    LOST,
    MAX_LINE_BYTES,
    MAX_LOST_BYTES,
    RESULT,
    STARTED,
    Frame,
    WireError,
    decode_lost,
    decode_result,
    decode_started,
    read_frame,
    result_cap,
    write_frame,
)

HELLO_TIMEOUT = 120.0  # the courier's start and its connection (30 s) to the scheduler
MAX_THREADS = 100_000
COURIER_DISK_MIB = 64


class DaskBackend:
    """Jobs as tasks on ``cluster``, submitted by a courier process (started now)."""

    def __init__(self, cluster: Cluster, sandbox: SandboxMode = "auto") -> None:
        self.cluster = cluster
        self.notices: tuple[str, ...] = ()
        self.broken = ""  # why the courier can no longer be used, once it cannot
        self._tickets = itertools.count()
        sandboxed = _sandboxed(sandbox)
        self._root = scratch_dir("grade-courier-")
        home = self._root / "home"  # the courier's cwd and home: empty, its own
        home.mkdir()
        command = [sys.executable, "-m", "grader.backends.courier", _config(cluster)]
        if sandboxed:
            command = bwrap_argv(home, self._root, COURIER_DISK_MIB, cluster.tls_files, True) + (
                command
            )
        elif sandbox != "off":
            self.notices = (
                "WARNING: bubblewrap does not work here, so the Dask client runs without a "
                "sandbox: a hostile worker that breaks into it can read what this user can "
                "(use --sandbox require to refuse)",
            )
        self.log = OutputLog(16 * 1024)
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=home,
            env=courier_environment(home),
        )
        assert self.process.stderr is not None
        self.log.drain(self.process.stderr)
        self.threads = self._hello()
        if not self.threads:
            self.close()
            raise GraderError(
                f"the Dask scheduler at {cluster.address} has no workers (none joined in "
                f"{WORKERS_WAIT:g} s): start some (dask worker {cluster.address} ...), then "
                "run the batch again"
            )

    def run(self, jobs: Iterable[Job], watch: Watch | None = None) -> Iterator[JobResult]:
        """Results as tasks finish, a bounded number of them submitted at once; ``watch``
        hears of each job's start on a worker and of workers lost with jobs."""
        source = iter(jobs)
        running: dict[str, tuple[Job, str]] = {}  # ticket -> the job and its nonce
        began: set[str] = set()  # the tickets that started on some worker
        window = 2 * max(1, self.threads)
        while not self.broken:
            while len(running) < window and not self.broken:
                job = next(source, None)
                if job is None:
                    break
                ticket, nonce = str(next(self._tickets)), secrets.token_hex(16)
                running[ticket] = (job, nonce)
                self._send(ticket, job, nonce)
            if not running or self.broken:
                break
            frame = self._receive(running)
            if frame is None:
                break
            if frame.kind in (STARTED, LOST):
                self._heard(frame, running, began, watch)
                continue
            job, nonce = running.pop(frame.key)
            began.discard(frame.key)
            if frame.kind == RESULT:
                yield job, decode_result(frame.payload, job, nonce)
            else:
                text = frame.payload.decode("utf-8", errors="replace")
                yield job, ExecutionError(f"the cluster could not run it: {one_line(text)}")
        if self.broken:  # each job yields once: those sent and those never sent fail alike
            failure = ExecutionError(self.broken)
            for job, _ in running.values():
                yield job, failure
            for job in source:
                yield job, failure

    def close(self) -> None:
        """Stop the courier (the cluster itself goes on) and remove its folder."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        finally:
            shutil.rmtree(self._root, ignore_errors=True)

    def _heard(
        self,
        frame: Frame,
        running: dict[str, tuple[Job, str]],
        began: set[str],
        watch: Watch | None,
    ) -> None:
        """Tell ``watch`` what the courier heard of the cluster (a job's start, a worker
        lost), as untrusted as the rest: a malformed report is dropped, not an error."""
        try:
            if frame.kind == STARTED:
                if frame.key not in running:
                    return
                worker = decode_started(frame.payload)
                event: Started | WorkerLost = Started(
                    running[frame.key][0], worker, frame.key in began
                )
                began.add(frame.key)
            else:
                worker, tickets, left = decode_lost(frame.payload)
                jobs = tuple(running[t][0] for t in dict.fromkeys(tickets) if t in running)
                event = WorkerLost(worker, jobs, left)
        except WireError:
            return
        if watch is not None:
            watch(event)

    def _hello(self) -> int:
        """Wait for the courier's first frame: the cluster's thread count, or why not."""
        timer = threading.Timer(HELLO_TIMEOUT, self.process.kill)
        timer.start()
        try:
            frame = self._read(lambda kind, key: MAX_LINE_BYTES if kind in (HELLO, FATAL) else -1)
        finally:
            timer.cancel()
        if frame is not None and frame.kind == HELLO:
            try:
                threads = json.loads(frame.payload)["threads"]
            except (ValueError, KeyError, TypeError):
                threads = None
            if type(threads) is int and 0 <= threads <= MAX_THREADS:
                return threads
            self.broken = "the Dask courier sent a malformed hello"
        why = self.broken or "it stopped"
        if frame is not None and frame.kind == FATAL:
            why = one_line(frame.payload.decode("utf-8", errors="replace"))
        self.close()
        raise GraderError(f"cannot reach the Dask scheduler at {self.cluster.address}: {why}")

    def _send(self, ticket: str, job: Job, nonce: str) -> None:
        assert self.process.stdin is not None
        try:
            sent = dataclasses.replace(job, follow_up=None)  # a worker has no reference
            write_frame(self.process.stdin, JOB, ticket, pickle.dumps((sent, nonce)))
        except OSError:
            self._lost()

    def _receive(self, running: dict[str, tuple[Job, str]]) -> Frame | None:
        """The next frame for a running job; None once the courier is lost or broke the
        protocol (``broken`` says which)."""

        def cap(kind: bytes, key: str) -> int:
            if key in running and kind == RESULT:
                return result_cap(running[key][0])
            if key in running and kind == ERROR:
                return MAX_LINE_BYTES
            if kind == STARTED:  # perhaps of a job already back (a late or a second start)
                return MAX_LINE_BYTES
            if key == "" and kind == LOST:
                return MAX_LOST_BYTES
            if kind == FATAL:
                return MAX_LINE_BYTES
            return -1

        frame = self._read(cap)
        if frame is not None and frame.kind == FATAL:
            text = one_line(frame.payload.decode("utf-8", errors="replace"))
            self.broken = f"the Dask courier stopped: {text}"
            return None
        return frame

    def _read(self, cap: Callable[[bytes, str], int]) -> Frame | None:
        """A frame whose kind and key ``cap`` allows (a negative cap refuses it)."""

        def checked(kind: bytes, key: str) -> int:
            allowed = cap(kind, key)
            if allowed < 0:
                raise WireError(f"a frame of kind {kind!r} for {key[:20]!r}, not expected")
            return allowed

        assert self.process.stdout is not None
        try:
            frame = read_frame(self.process.stdout, checked)
        except (WireError, OSError) as e:
            self.process.kill()
            self.broken = f"the Dask courier broke the protocol ({one_line(str(e))}); stopped it"
            return None
        if frame is None:
            self._lost()
        return frame

    def _lost(self) -> None:
        self.process.kill()
        self.process.wait(10)
        last = self.log.text(wait=1).strip().splitlines()
        self.broken = "the Dask courier stopped" + (
            f" ({one_line(last[-1])[:200]})" if last else ""
        )


def _config(cluster: Cluster) -> str:
    return json.dumps(
        {
            "address": cluster.address,
            "ca": str(cluster.ca or ""),
            "cert": str(cluster.cert or ""),
            "key": str(cluster.key or ""),
        }
    )


def courier_environment(home: Path) -> dict[str, str]:
    """The courier's whole environment: an allow-list, like a kernel's (no token, no
    password, nothing of the operator's), with the grader package importable."""
    return {
        **python_environment(home),
        "TMPDIR": str(home),
        "PYTHONPATH": str(GRADER_PACKAGE.parent),
    }


@functools.cache
def courier_sandbox_works() -> bool:
    """Whether bubblewrap can start the courier's sandbox here (tried once per process)."""
    if bwrap() is None:
        return False
    root = scratch_dir("grade-probe-")
    try:
        (root / "home").mkdir()
        argv = bwrap_argv(root / "home", root, 1, (), True)
        done = subprocess.run([*argv, "true"], capture_output=True, timeout=30)
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError, ExecutionError):
        return False
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _sandboxed(mode: SandboxMode) -> bool:
    """Whether to start the courier in bubblewrap (the kernels' ``--sandbox`` decides)."""
    if mode == "off":
        return False
    if courier_sandbox_works():
        return True
    if mode == "require":
        raise GraderError(
            "--sandbox=require, but bubblewrap cannot start the Dask client's sandbox here"
        )
    return False
