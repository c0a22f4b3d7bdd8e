"""What a Dask worker and the courier send back, decoded without a kernel: a genuine result
round-trips; anything else is refused as one line (never an exception, never a score)."""

from __future__ import annotations

import io
import json
import pickle
import struct

import pytest

from grader.assemble import Step
from grader.backends import Job
from grader.backends.wire import (
    ERROR,
    MAGIC,
    RESULT,
    WireError,
    decode_lost,
    decode_result,
    decode_started,
    encode_lost,
    encode_result,
    encode_started,
    read_frame,
    result_cap,
    write_frame,
)
from grader.errors import ExecutionError
from grader.execute import ExecOptions
from grader.execute.records import Executed, ExportRecord, StepOutcome
from grader.execute.workdir import MAX_EXPORT_BYTES
from grader.results import StudentError

STEPS = (
    Step("setup", "t", "import math"),
    Step("answer", "t-num", "x = 42"),
    Step("export", "t-num"),
    Step("answer", "t-arr", "arr = [1.0, 2.0]"),
    Step("export", "t-arr"),
)
JOB = Job("0:alice.ipynb", STEPS, ExecOptions())
NONCE = "ab" * 16
GOOD = Executed(
    outcomes=(
        StepOutcome("ok"),
        StepOutcome("ok"),
        StepOutcome("ok"),
        StepOutcome("error", StudentError("ValueError", "bad", "Traceback ...")),
        StepOutcome("skipped"),
    ),
    exports={"t-num": ExportRecord({"ok": True, "value": 42}, b"\x80weights")},
    duration=1.5,
    warnings=("WARNING: no sandbox",),
    log="the kernel's own output",
)


def frame(data: bytes) -> bytes:
    return struct.pack(">Q", len(data)) + data


def header(**changes):
    data = {
        "nonce": NONCE,
        "outcomes": [{"status": "ok", "error": None}] * 5,
        "exports": [["t-num", False]],
        "duration": 1.0,
        "warnings": [],
        "log": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not DROP}


DROP = object()


def document(head=None, *frames: bytes, raw: bytes | None = None) -> bytes:
    """A result document: the header (a dict, or raw JSON bytes) and the frames after it."""
    first = raw if raw is not None else json.dumps(header() if head is None else head).encode()
    return MAGIC + frame(first) + b"".join(frames)


PAYLOAD = frame(b'{"ok": true, "value": 21}')
OUTCOME = {"status": "ok", "error": None}


def outcomes(**at):
    found = [dict(OUTCOME) for _ in STEPS]
    for index, changed in at.items():
        found[int(index[1:])] = changed
    return found


def test_a_result_round_trips_exactly():
    assert decode_result(encode_result(GOOD, NONCE), JOB, NONCE) == GOOD


def test_a_workers_failure_is_one_line_of_that_job():
    data = encode_result(ExecutionError("the kernel did not start\nin 60 s"), NONCE)
    outcome = decode_result(data, JOB, NONCE)
    assert isinstance(outcome, ExecutionError)
    assert str(outcome) == "on the cluster: the kernel did not start in 60 s"


NO_EXPORT_JOB = Job("1:bob.ipynb", STEPS[:2], ExecOptions())

REFUSED = [
    # (name, data, job, what the one line says)
    ("an object", GOOD, JOB, "a Executed, not bytes"),
    ("a pickle", pickle.dumps(GOOD), JOB, "not a result document"),
    ("a bytearray", bytearray(encode_result(GOOD, NONCE)), JOB, "a bytearray, not bytes"),
    ("empty", b"", JOB, "not a result document"),
    ("oversize", b"x" * (result_cap(NO_EXPORT_JOB) + 1), NO_EXPORT_JOB, "more than the"),
    ("not JSON", document(raw=b"\x80 not json"), JOB, "the header is not JSON"),
    ("JSON, not an object", document(raw=b"[1, 2]"), JOB, "not a JSON object"),
    (
        "a key twice",
        document(raw=b'{"nonce": "x", "nonce": "' + NONCE.encode() + b'"}'),
        JOB,
        "not JSON",
    ),
    ("nested too deeply", document(raw=b"[" * 100_000 + b"]" * 100_000), JOB, "nested too deeply"),
    ("the wrong nonce", document(header(nonce="cd" * 16), PAYLOAD), JOB, "nonce"),
    ("no nonce", document(header(nonce=DROP), PAYLOAD), JOB, "nonce"),
    ("a nonce of another type", document(header(nonce=[NONCE]), PAYLOAD), JOB, "nonce"),
    (
        "a failure with the wrong nonce",
        document({"nonce": "cd" * 16, "failure": "x"}),
        JOB,
        "nonce",
    ),
    ("a failure too long", document({"nonce": NONCE, "failure": "x" * 5000}), JOB, "failure"),
    ("an extra key", document(header(score=21), PAYLOAD), JOB, "keys"),
    ("a missing key", document(header(log=DROP), PAYLOAD), JOB, "keys"),
    (
        "a status not in Status",
        document(header(outcomes=outcomes(s1={"status": "passed", "error": None})), PAYLOAD),
        JOB,
        "the status 'passed'",
    ),
    (
        "a status of another type",
        document(header(outcomes=outcomes(s1={"status": 1, "error": None})), PAYLOAD),
        JOB,
        "status",
    ),
    (
        "an outcome with an extra key",
        document(header(outcomes=outcomes(s1={**OUTCOME, "score": 5})), PAYLOAD),
        JOB,
        "{status, error}",
    ),
    (
        "fewer outcomes than steps",
        document(header(outcomes=outcomes()[:4]), PAYLOAD),
        JOB,
        "one per step",
    ),
    (
        "outcomes not a list",
        document(header(outcomes={"0": OUTCOME}), PAYLOAD),
        JOB,
        "one per step",
    ),
    (
        "an error of two fields",
        document(header(outcomes=outcomes(s1={"status": "error", "error": ["E", "v"]})), PAYLOAD),
        JOB,
        "[name, value, traceback]",
    ),
    (
        "an error value too long",
        document(
            header(outcomes=outcomes(s1={"status": "error", "error": ["E", "v" * 3000, ""]})),
            PAYLOAD,
        ),
        JOB,
        "at most 2000",
    ),
    (
        "an error of numbers",
        document(header(outcomes=outcomes(s1={"status": "error", "error": ["E", 1, ""]})), PAYLOAD),
        JOB,
        "an error",
    ),
    (
        "an export of an unknown exercise",
        document(header(exports=[["t-zzz", False]]), PAYLOAD),
        JOB,
        "'t-zzz', not an export step",
    ),
    (
        "an export of a setup step",
        document(header(exports=[["t", False]]), PAYLOAD),
        JOB,
        "not an export step",
    ),
    (
        "an export listed twice",
        document(header(exports=[["t-num", False], ["t-num", False]]), PAYLOAD, PAYLOAD),
        JOB,
        "not an export step",
    ),
    (
        "an export whose step did not succeed",
        document(header(outcomes=outcomes(s2={"status": "skipped", "error": None})), PAYLOAD),
        JOB,
        "did not succeed",
    ),
    (
        "an export entry that is not a pair",
        document(header(exports=[["t-num"]]), PAYLOAD),
        JOB,
        "[exercise, has weights]",
    ),
    (
        "weights flagged by a number",
        document(header(exports=[["t-num", 1]]), PAYLOAD),
        JOB,
        "[exercise, has weights]",
    ),
    ("a payload that is a list", document(header(), frame(b"[21]")), JOB, "not a JSON object"),
    (
        "a payload that is not JSON",
        document(header(), frame(b"\x00\x01")),
        JOB,
        "not a JSON object",
    ),
    (
        "a payload frame over the cap",
        document(header(), struct.pack(">Q", MAX_EXPORT_BYTES + 1) + b"{}"),
        JOB,
        "more than the",
    ),
    (
        "weights frame over the cap",
        document(
            header(exports=[["t-num", True]]), PAYLOAD, struct.pack(">Q", MAX_EXPORT_BYTES + 1)
        ),
        JOB,
        "more than the",
    ),
    ("a missing payload", document(header()), JOB, "truncated before the export"),
    (
        "missing weights",
        document(header(exports=[["t-num", True]]), PAYLOAD),
        JOB,
        "truncated before the weights",
    ),
    (
        "truncated weights",
        document(header(exports=[["t-num", True]]), PAYLOAD, struct.pack(">Q", 100) + b"abc"),
        JOB,
        "truncated",
    ),
    ("a truncated header", (MAGIC + frame(json.dumps(header()).encode()))[:-5], JOB, "truncated"),
    ("a truncated length", MAGIC + b"\x00\x00\x01", JOB, "truncated before the header"),
    (
        "bytes after the last frame",
        document(header(), PAYLOAD, b"\x00"),
        JOB,
        "after the last frame",
    ),
    ("a header over its cap", MAGIC + struct.pack(">Q", 10**9), JOB, "more than the"),
    ("a duration of NaN", document(header(duration=float("nan")), PAYLOAD), JOB, "duration"),
    ("a duration as text", document(header(duration="1.0"), PAYLOAD), JOB, "duration"),
    ("a duration as a bool", document(header(duration=True), PAYLOAD), JOB, "duration"),
    ("a negative duration", document(header(duration=-1), PAYLOAD), JOB, "duration"),
    ("a huge duration", document(header(duration=10**400), PAYLOAD), JOB, "duration"),
    ("a log too long", document(header(log="x" * 70_000), PAYLOAD), JOB, "log"),
    ("a log of another type", document(header(log=["x"]), PAYLOAD), JOB, "log"),
    ("a lone surrogate", document(header(log="\ud800"), PAYLOAD), JOB, "valid text"),
    ("too many warnings", document(header(warnings=["w"] * 17), PAYLOAD), JOB, "warnings"),
    ("a warning of another type", document(header(warnings=[1]), PAYLOAD), JOB, "a warning"),
]


@pytest.mark.parametrize(
    ("data", "job", "says"), [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED]
)
def test_the_decoder_refuses(data, job, says):
    outcome = decode_result(data, job, NONCE)
    assert isinstance(outcome, ExecutionError)
    message = str(outcome)
    assert message.startswith("the worker's result was refused: ")
    assert says in message and "\n" not in message and len(message) < 300


def test_the_rows_differ_from_a_good_document_in_one_thing_only():
    """The table's builder makes documents that pass when nothing is changed."""
    good = decode_result(document(header(), PAYLOAD), JOB, NONCE)
    assert isinstance(good, Executed) and good.exports["t-num"].payload["value"] == 21
    assert good.exports["t-num"].weights is None


# --- the courier's frames -------------------------------------------------------------------


def frames(*parts: tuple[bytes, str, bytes]) -> io.BytesIO:
    stream = io.BytesIO()
    for part in parts:
        write_frame(stream, *part)
    stream.seek(0)
    return stream


def test_frames_round_trip_and_end_cleanly():
    stream = frames((RESULT, "3", b"abc"), (ERROR, "4", b"one line"))
    seen = []
    while (found := read_frame(stream, lambda kind, key: 10)) is not None:
        seen.append((found.kind, found.key, found.payload))
    assert seen == [(RESULT, "3", b"abc"), (ERROR, "4", b"one line")]


BROKEN_STREAMS = [
    ("a payload over the cap", frames((RESULT, "3", b"x" * 11)).getvalue(), "more than the 10"),
    ("a declared length over the cap", b"R\x00\x013" + struct.pack(">Q", 2**62), "more than"),
    ("a key too long", b"R\x01\x00" + b"k" * 256, "a key of 256 bytes"),
    ("a key not ASCII", b"R\x00\x02\xc3\xa9" + struct.pack(">Q", 0), "not ASCII"),
    ("a truncated head", b"R\x00", "ended inside a frame"),
    ("a truncated key", b"R\x00\x05ab", "ended inside a key"),
    ("a truncated length", b"R\x00\x013\x00\x00", "ended inside a length"),
    (
        "a truncated payload",
        frames((RESULT, "3", b"abcdef")).getvalue()[:-2],
        "ended inside a payload",
    ),
]


@pytest.mark.parametrize(
    ("data", "says"), [row[1:] for row in BROKEN_STREAMS], ids=[row[0] for row in BROKEN_STREAMS]
)
def test_a_broken_stream_is_a_wire_error(data, says):
    with pytest.raises(WireError, match=says):
        read_frame(io.BytesIO(data), lambda kind, key: 10)


def test_what_the_courier_hears_of_the_cluster_round_trips_as_one_line():
    assert decode_started(encode_started("tcp://10.0.0.7:8789")) == "tcp://10.0.0.7:8789"
    assert decode_started(json.dumps({"worker": "w\x1b[2J\nx"}).encode()) == "w x"
    assert decode_lost(encode_lost("tcp://w", ["3", "7"], 1)) == ("tcp://w", ("3", "7"), 1)


BROKEN_REPORTS = [
    (decode_started, b"not json", "a start is not JSON"),
    (decode_started, b"[1]", "not a JSON object"),
    (decode_started, b'{"worker": "w", "score": 5}', "not the keys of one"),
    (decode_started, b'{"worker": 5}', "not a string"),
    (decode_started, json.dumps({"worker": "w" * 201}).encode(), "at most 200"),
    (decode_lost, b'{"worker": "w", "tickets": "3", "left": 1}', "not the keys of one"),
    (decode_lost, b'{"worker": "w", "tickets": ["3"]}', "not the keys of one"),
    (decode_lost, b'{"worker": "w", "tickets": [3], "left": 1}', "ticket: not a string"),
    (decode_lost, b'{"worker": "w", "tickets": [], "left": -1}', "not a count of workers"),
    (decode_lost, b'{"worker": "w", "tickets": [], "left": true}', "not a count of workers"),
    (decode_lost, encode_lost("w", ["k" * 65], 1), "at most 64"),
]


@pytest.mark.parametrize(("decode", "data", "says"), BROKEN_REPORTS)
def test_a_malformed_report_of_the_cluster_is_a_wire_error(decode, data, says):
    with pytest.raises(WireError, match=says):
        decode(data)
