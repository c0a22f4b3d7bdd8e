"""The Dask courier: the one process of a batch that holds a Dask Client.

A Dask Client unpickles what the cluster sends it (``distributed.protocol`` loads pickled
frames of any message, and results come straight from the workers), so a hostile worker can
run code in whatever process holds one. ``grade batch`` therefore never does: it starts this
module as a child (``python -m grader.backends.courier CONFIG``), with an allow-listed
environment, an empty folder of its own and, when bubblewrap works, a sandbox that shares
the network but shows nothing of the course, its keys, the course secret or the gradebook.

The coordinator sends jobs on stdin (pickled: the courier trusts the coordinator). The
courier submits each to the cluster and sends back, on stdout, only frames of bytes
(``wire.write_frame``): a job's ticket and the bytes its worker returned, or a one-line
error; first a hello with the cluster's thread count (after waiting ``WORKERS_WAIT`` seconds
for a first worker: none is a thread count of 0), or one fatal line. It also forwards what
the scheduler's event log says of the batch: each job's start, as its task logs it on the
batch's topic (``task``), and each worker the scheduler removes while it had jobs of the
batch. What it forwards is checked again, by the coordinator, as untrusted.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import sys
import threading
import uuid
from typing import IO, Any

from ..sanitize import one_line
from .wire import (
    ERROR,
    FATAL,
    HELLO,
    LOST,
    MAX_LINE_BYTES,
    RESULT,
    STARTED,
    TASK_PREFIX,
    encode_lost,
    encode_started,
    read_frame,
    result_cap,
    write_frame,
)

JOB = b"J"  # coordinator -> courier: a ticket and a pickled (Job, nonce)
MAX_JOB_BYTES = 1 << 30
CONNECT_TIMEOUT = "30s"
WORKERS_WAIT = 5.0  # seconds for a first worker to join, else the cluster has none


def main(argv: list[str]) -> int:
    """Run the courier: ``argv`` holds the JSON config (address, TLS files)."""
    config = json.loads(argv[0])
    # The frames go to the original stdout; anything else that writes to fd 1 (a library's
    # print, a warning) lands on stderr and cannot corrupt them.
    frames = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    lock = threading.Lock()

    def send(kind: bytes, key: str, payload: bytes) -> None:
        with lock:
            write_frame(frames, kind, key, payload)

    try:
        client = _connect(config)
    except Exception as e:  # any reason the cluster cannot be reached: one line, then exit
        send(FATAL, "", _line(f"{type(e).__name__}: {e}"))
        return 1
    try:
        try:
            client.wait_for_workers(1, timeout=WORKERS_WAIT)
        except TimeoutError:
            pass  # a hello of 0 threads: the coordinator says so and stops
        workers = client.nthreads()
        send(HELLO, "", json.dumps({"threads": sum(workers.values())}).encode())
        _serve(client, sys.stdin.buffer, send, set(workers))
    except BrokenPipeError:  # the coordinator is gone
        return 1
    finally:
        client.close()
    return 0


def _connect(config: dict[str, Any]) -> Any:
    from distributed import Client
    from distributed.security import Security

    security = None
    if config.get("ca"):
        security = Security(
            tls_ca_file=config["ca"],
            tls_client_cert=config["cert"],
            tls_client_key=config["key"],
            require_encryption=True,
        )
    return Client(config["address"], security=security, timeout=CONNECT_TIMEOUT)


def _serve(client: Any, jobs: IO[bytes], send: Any, workers: set[str]) -> None:
    """Hear the batch's starts and lost workers (``workers``: those the cluster has), and
    answer every job read from ``jobs``."""
    tickets: dict[str, tuple[str, Any]] = {}  # task key -> (ticket, job)
    batch = uuid.uuid4().hex[:12]  # task keys of this run only
    topic = f"{TASK_PREFIX}{batch}"

    def started(event: Any) -> None:  # (time, {"key", "worker"}) from a task, on the topic
        msg = event[1] if isinstance(event, tuple) and len(event) == 2 else None
        if isinstance(msg, dict) and isinstance(msg.get("worker"), str):
            ticket = tickets.get(str(msg.get("key")))
            if ticket is not None:
                send(STARTED, ticket[0], encode_started(msg["worker"]))

    def removed(event: Any) -> None:  # the scheduler's log of every event: workers come, go
        msg = event[1] if isinstance(event, tuple) and len(event) == 2 else None
        if not isinstance(msg, dict) or not isinstance(msg.get("worker"), str):
            return
        if msg.get("action") == "add-worker":
            workers.add(msg["worker"])
        if msg.get("action") != "remove-worker":
            return
        workers.discard(msg["worker"])
        keys = msg.get("processing-tasks") or ()
        had = sorted(tickets[k][0] for k in keys if isinstance(k, str) and k in tickets)
        if had:
            send(LOST, "", encode_lost(msg["worker"], had, len(workers)))

    client.subscribe_topic(topic, started)
    client.subscribe_topic("all", removed)
    try:
        _answer_all(client, jobs, send, topic, tickets)
    finally:  # before the client closes, so that the scheduler sends it no more events
        client.unsubscribe_topic(topic)
        client.unsubscribe_topic("all")


def _answer_all(
    client: Any, jobs: IO[bytes], send: Any, topic: str, tickets: dict[str, tuple[str, Any]]
) -> None:
    """Submit every job read from ``jobs`` as a task of ``topic``; send each result as it
    finishes, until ``jobs`` ends and every submitted job has been answered."""
    from .task import run_job

    done: queue.Queue[Any] = queue.Queue()

    def submit() -> None:
        count = 0
        try:
            while frame := read_frame(jobs, lambda kind, key: MAX_JOB_BYTES):
                job, nonce = pickle.loads(frame.payload)  # from the coordinator: trusted
                key = f"{topic}-{frame.key}"
                tickets[key] = (frame.key, job)
                future = client.submit(run_job, job, nonce, key=key, pure=False)
                future.add_done_callback(done.put)
                count += 1
        finally:
            done.put(count)  # the end of the jobs: how many there were

    threading.Thread(target=submit, daemon=True).start()
    answered, total = 0, None
    while total is None or answered < total:
        item = done.get()
        if isinstance(item, int):
            total = item
            continue
        ticket, job = tickets.pop(item.key)
        send(*_answer(item, ticket, job))
        item.release()
        answered += 1


def _answer(future: Any, ticket: str, job: Any) -> tuple[bytes, str, bytes]:
    """The frame for one finished task: its bytes, or why there are none."""
    try:
        result = future.result()
    except Exception as e:  # failed on every worker it was tried on, or not deserializable
        return ERROR, ticket, _line(f"the cluster could not run it: {type(e).__name__}: {e}")
    if type(result) is not bytes:
        return ERROR, ticket, _line(f"the worker sent a {type(result).__name__}, not bytes")
    if len(result) > result_cap(job):
        return ERROR, ticket, _line(f"the worker sent {len(result)} bytes, more than allowed")
    return RESULT, ticket, result


def _line(text: str) -> bytes:
    return one_line(text).encode("utf-8", errors="replace")[: MAX_LINE_BYTES - 8]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
