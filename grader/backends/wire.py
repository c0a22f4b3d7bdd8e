"""The bytes that come back from a cluster: a worker's result, and the courier's frames.

Nothing a Dask worker sends is unpickled by the coordinating process. A worker's task returns
one ``bytes`` document, checked here as strictly as a kernel's exports are checked:

    MAGIC, then frames (an 8-byte big-endian length, then that many bytes):
      the header, JSON: {"nonce", "outcomes", "exports", "duration", "warnings", "log"}
                        or {"nonce", "failure"} when the worker could not run the job
      then for each export the header lists, in order: its payload (JSON, read as the kernel's
      export files are read) and, if the header says so, its weights (raw ``torch.save``
      bytes, loaded later by the judge with ``weights_only=True``)

Every frame and the whole document have size caps; types are exact; statuses are those of
``Status``; exports are those of the job's export steps that succeeded; strings are capped;
the nonce is the job's own (a fresh one per job, from the coordinator). Anything else makes
the job a failure with one line, never an exception, never a score.

The courier (``courier.py``) sends the coordinator frames of its own, read by ``read_frame``:
a kind byte, a 2-byte key length, the key (a job's ticket, ASCII), an 8-byte payload length
and the payload, each length checked against its cap before anything is read.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, get_args

from ..errors import ExecutionError
from ..execute.capture import DEFAULT_CAP as LOG_CAP
from ..execute.exports import parse_export
from ..execute.records import (
    MAX_ENAME_CHARS,
    MAX_EVALUE_CHARS,
    MAX_TRACEBACK_CHARS,
    Executed,
    ExportRecord,
    Status,
    StepOutcome,
    outcome_data,
    outcome_from,
)
from ..execute.workdir import MAX_EXPORT_BYTES
from ..sanitize import one_line
from . import Job

MAGIC = b"grade-result/1\n"
LENGTH = struct.Struct(">Q")
STATUSES = frozenset(get_args(Status))
HEADER_BASE = 256 * 1024  # the log, warnings, numbers and the JSON around them
HEADER_PER_STEP = 160 * 1024  # one outcome's error, JSON-escaped at worst
MAX_WARNINGS = 16
MAX_WARNING_CHARS = 2000
MAX_LOG_CHARS = LOG_CAP + 200  # the kept output and the note of what was dropped
MAX_FAILURE_CHARS = 2000
MAX_DURATION = 1e7
RESULT_KEYS = frozenset({"nonce", "outcomes", "exports", "duration", "warnings", "log"})
FAILURE_KEYS = frozenset({"nonce", "failure"})

# The courier's frames: a result, a job's error, hello (its thread count), or fatal; and what
# it hears of the cluster: a job began (on which worker), a worker was lost (with which jobs).
RESULT, ERROR, HELLO, FATAL, STARTED, LOST = b"R", b"E", b"H", b"F", b"S", b"L"
FRAME_HEAD = struct.Struct(">cH")
MAX_KEY_BYTES = 64
MAX_LINE_BYTES = 4096  # an error or fatal frame: one line
MAX_LOST_BYTES = 256 * 1024  # a lost worker's tickets
MAX_WORKER_CHARS = 200  # a worker's address, as shown
MAX_WORKERS = 100_000
TASK_PREFIX = "grade-"  # a batch's task keys: grade-<batch>-<ticket>; its topic grade-<batch>


class WireError(ValueError):
    """Bytes that are not what the protocol allows (the message says what is wrong)."""


# --- a worker's result --------------------------------------------------------------------


def export_steps(job: Job) -> dict[str, int]:
    """The job's export steps: exercise id -> index of the step."""
    return {step.exercise: i for i, step in enumerate(job.steps) if step.role == "export"}


def header_cap(job: Job) -> int:
    """The most bytes a result's header may take."""
    return HEADER_BASE + HEADER_PER_STEP * len(job.steps)


def result_cap(job: Job) -> int:
    """The most bytes a worker's result for ``job`` may take."""
    exports = len(export_steps(job))
    return (
        len(MAGIC)
        + LENGTH.size * (1 + 2 * exports)
        + header_cap(job)
        + (2 * exports * MAX_EXPORT_BYTES)
    )


def encode_result(outcome: Executed | ExecutionError, nonce: str) -> bytes:
    """A worker's result as the bytes it returns (the worker side of ``decode_result``)."""
    if isinstance(outcome, ExecutionError):
        return MAGIC + _frame(json.dumps({"nonce": nonce, "failure": str(outcome)}).encode())
    header = {
        "nonce": nonce,
        "outcomes": [outcome_data(o) for o in outcome.outcomes],
        "exports": [[eid, r.weights is not None] for eid, r in outcome.exports.items()],
        "duration": outcome.duration,
        "warnings": list(outcome.warnings),
        "log": outcome.log,
    }
    parts = [MAGIC, _frame(json.dumps(header).encode())]
    for record in outcome.exports.values():
        parts.append(_frame(json.dumps(record.payload).encode()))
        if record.weights is not None:
            parts.append(_frame(record.weights))
    return b"".join(parts)


def decode_result(data: object, job: Job, nonce: str) -> Executed | ExecutionError:
    """The Executed record a worker's result holds, or one line saying why it was refused."""
    try:
        return _decode(data, job, nonce)
    except WireError as e:
        return ExecutionError(f"the worker's result was refused: {e}")
    except RecursionError:
        return ExecutionError("the worker's result was refused: nested too deeply")


def _decode(data: object, job: Job, nonce: str) -> Executed | ExecutionError:
    if type(data) is not bytes:
        raise WireError(f"a {type(data).__name__}, not bytes")
    if len(data) > result_cap(job):
        raise WireError(f"{len(data)} bytes, more than the {result_cap(job)} allowed")
    if not data.startswith(MAGIC):
        raise WireError("not a result document")
    frames = _Frames(data, len(MAGIC))
    header = _json_object(frames.next(header_cap(job), "the header"), "the header")
    if header.get("nonce") != nonce:
        raise WireError("not the nonce of this job (a result of another run?)")
    if set(header) == FAILURE_KEYS:
        failure = _text(header["failure"], MAX_FAILURE_CHARS, "failure")
        frames.end()
        return ExecutionError(f"on the cluster: {one_line(failure)}")
    if set(header) != RESULT_KEYS:
        raise WireError(f"the header has the keys {sorted(header)}")
    outcomes = _outcomes(header["outcomes"], job)
    exports: dict[str, ExportRecord] = {}
    steps = export_steps(job)
    listed = header["exports"]
    if type(listed) is not list or len(listed) > len(steps):
        raise WireError("exports: not a list of the job's exports")
    for entry in listed:
        if type(entry) is not list or len(entry) != 2 or type(entry[1]) is not bool:
            raise WireError("exports: an entry that is not [exercise, has weights]")
        eid = entry[0]
        if type(eid) is not str or eid not in steps or eid in exports:
            raise WireError(f"an export of {one_line(str(eid))[:80]!r}, not an export step")
        if outcomes[steps[eid]].status != "ok":
            raise WireError(f"an export of {eid!r}, whose export step did not succeed")
        payload = parse_export(frames.next(MAX_EXPORT_BYTES, f"the export of {eid}"))
        if payload is None:
            raise WireError(f"the export of {eid!r} is not a JSON object")
        weights = frames.next(MAX_EXPORT_BYTES, f"the weights of {eid}") if entry[1] else None
        exports[eid] = ExportRecord(payload, weights)
    frames.end()
    warnings = header["warnings"]
    if type(warnings) is not list or len(warnings) > MAX_WARNINGS:
        raise WireError("warnings: not a short list")
    return Executed(
        outcomes=outcomes,
        exports=exports,
        duration=_duration(header["duration"]),
        warnings=tuple(_text(w, MAX_WARNING_CHARS, "a warning") for w in warnings),
        log=_text(header["log"], MAX_LOG_CHARS, "log"),
    )


def _outcomes(found: Any, job: Job) -> tuple[StepOutcome, ...]:
    if type(found) is not list or len(found) != len(job.steps):
        raise WireError(f"outcomes: not a list of {len(job.steps)}, one per step")
    outcomes = []
    for item in found:
        if type(item) is not dict or set(item) != {"status", "error"}:
            raise WireError("outcomes: an entry that is not {status, error}")
        if type(item["status"]) is not str or item["status"] not in STATUSES:
            raise WireError(f"outcomes: the status {one_line(str(item['status']))[:40]!r}")
        error = item["error"]
        if error is not None:
            if type(error) is not list or len(error) != 3:
                raise WireError("outcomes: an error that is not [name, value, traceback]")
            caps = (MAX_ENAME_CHARS, MAX_EVALUE_CHARS, MAX_TRACEBACK_CHARS)
            for text, cap in zip(error, caps, strict=True):
                _text(text, cap, "an error")
        outcomes.append(outcome_from(item))
    return tuple(outcomes)


def _duration(found: Any) -> float:
    if type(found) not in (int, float):
        raise WireError("duration: not a number")
    if not 0 <= found <= MAX_DURATION or not math.isfinite(found):  # ints: no float overflow
        raise WireError("duration: out of range")
    return float(found)


def _text(found: Any, cap: int, what: str) -> str:
    if type(found) is not str or len(found) > cap:
        raise WireError(f"{what}: not a string of at most {cap} characters")
    try:
        found.encode("utf-8")
    except UnicodeEncodeError:
        raise WireError(f"{what}: not valid text") from None
    return found


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        found = json.loads(data, object_pairs_hook=_no_duplicates)
    except ValueError as e:  # not JSON, not UTF-8, or a key twice
        raise WireError(f"{what} is not JSON ({type(e).__name__})") from None
    if type(found) is not dict:
        raise WireError(f"{what} is not a JSON object")
    return found


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key given twice")
    return found


def _frame(data: bytes) -> bytes:
    return LENGTH.pack(len(data)) + data


class _Frames:
    """The length-prefixed frames of a document, each read against its cap."""

    def __init__(self, data: bytes, at: int) -> None:
        self.data, self.at = data, at

    def next(self, cap: int, what: str) -> bytes:
        if len(self.data) - self.at < LENGTH.size:
            raise WireError(f"truncated before {what}")
        (size,) = LENGTH.unpack_from(self.data, self.at)
        if size > cap:
            raise WireError(f"{what} is {size} bytes, more than the {cap} allowed")
        start = self.at + LENGTH.size
        if start + size > len(self.data):
            raise WireError(f"{what} is truncated")
        self.at = start + size
        return self.data[start : self.at]

    def end(self) -> None:
        if self.at != len(self.data):
            raise WireError(f"{len(self.data) - self.at} bytes after the last frame")


# --- the courier's stream ------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One frame from the courier: its kind, the job's ticket (or ''), and the payload."""

    kind: bytes
    key: str
    payload: bytes


# --- what the courier hears of the cluster ------------------------------------------------


def encode_started(worker: str) -> bytes:
    """A STARTED frame's payload: the worker a job began on."""
    return json.dumps({"worker": worker[:MAX_WORKER_CHARS]}).encode()


def decode_started(payload: bytes) -> str:
    """The worker of a STARTED frame (one line); WireError if it is not one."""
    found = _json_object(payload, "a start")
    if set(found) != {"worker"}:
        raise WireError("a start: not the keys of one")
    return one_line(_text(found["worker"], MAX_WORKER_CHARS, "a start's worker"))


def encode_lost(worker: str, tickets: list[str], left: int) -> bytes:
    """A LOST frame's payload: the worker, the tickets of the jobs it had, and how many
    workers the cluster has left."""
    return json.dumps(
        {"worker": worker[:MAX_WORKER_CHARS], "tickets": tickets, "left": left}
    ).encode()


def decode_lost(payload: bytes) -> tuple[str, tuple[str, ...], int]:
    """The worker (one line), tickets and workers left of a LOST frame; WireError if it is
    not one."""
    found = _json_object(payload, "a lost worker")
    if set(found) != {"worker", "tickets", "left"} or type(found["tickets"]) is not list:
        raise WireError("a lost worker: not the keys of one")
    worker = one_line(_text(found["worker"], MAX_WORKER_CHARS, "a lost worker's address"))
    tickets = tuple(_text(t, MAX_KEY_BYTES, "a lost worker's ticket") for t in found["tickets"])
    left = found["left"]
    if type(left) is not int or not 0 <= left <= MAX_WORKERS:
        raise WireError("a lost worker: not a count of workers left")
    return worker, tickets, left


def write_frame(stream: IO[bytes], kind: bytes, key: str, payload: bytes) -> None:
    """Send one frame (the courier's side of ``read_frame``)."""
    encoded = key.encode("ascii")
    stream.write(FRAME_HEAD.pack(kind, len(encoded)) + encoded + LENGTH.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def read_frame(stream: IO[bytes], cap: Callable[[bytes, str], int]) -> Frame | None:
    """The next frame, or None at the end of the stream (before a frame began).

    ``cap(kind, key)``: the most payload bytes that frame may have; it raises WireError for a
    kind or key it does not expect. WireError for anything truncated or too large.
    """
    head = _read(stream, FRAME_HEAD.size, "a frame", eof_ok=True)
    if head is None:
        return None
    kind, size = FRAME_HEAD.unpack(head)
    if size > MAX_KEY_BYTES:
        raise WireError(f"a key of {size} bytes")
    raw = _read(stream, size, "a key") or b""
    if not raw.isascii():
        raise WireError("a key that is not ASCII")
    key = raw.decode("ascii")
    length = LENGTH.unpack(_read(stream, LENGTH.size, "a length") or b"")[0]
    allowed = cap(kind, key)
    if length > allowed:
        raise WireError(f"a frame of {length} bytes, more than the {allowed} allowed")
    return Frame(kind, key, _read(stream, length, "a payload") or b"")


def _read(stream: IO[bytes], size: int, what: str, eof_ok: bool = False) -> bytes | None:
    """Exactly ``size`` bytes; None at a clean end of stream (``eof_ok``)."""
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(min(size - len(data), 1 << 20))
        if not chunk:
            if eof_ok and not data:
                return None
            raise WireError(f"the stream ended inside {what}")
        data += chunk
    return bytes(data)
