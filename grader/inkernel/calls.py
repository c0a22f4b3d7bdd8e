"""Kernel side of the ``function`` kind: call the student's function on each case.

Runs INSIDE the student's kernel (the ``calls`` export recipe, ``grader.inkernel.exporter``)
and judges nothing. Each case's inputs are plain data, deep-copied per call (a function that
mutates its inputs changes no other case); each call has a time limit (``SIGALRM`` in the
kernel's main thread); each result is exported as plain data (``to_plain``: a lying object,
an int subclass, an ``__eq__`` that is always true, become their real values), capped in
size, or the exception's type and message. The grader compares them with the reference's.
Imports stdlib only.
"""

from __future__ import annotations

import copy
import signal
import threading
from typing import Any

from .inputs import decode_all
from .plain import MAX_ITEMS, ExportError, to_plain

MAX_RESULT_ITEMS = 100_000  # items of one call's result
MAX_MESSAGE = 300  # characters of an exception's message


class CallTimeout(BaseException):
    """A call ran past its limit (a BaseException: ``except Exception`` does not hide it)."""


def call_all(fn: Any, cases: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    """One result per case: ``{"value": plain}``, ``{"raised": type, "message": text}``,
    ``{"timeout": seconds}`` or ``{"error": why the result cannot be exported}``."""
    if not callable(fn):
        raise ExportError(f"expected a function, got {type(fn).__name__}")
    return [call_case(fn, case, timeout) for case in cases]


def call_case(fn: Any, case: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Call ``fn`` on one case's inputs (``grader.inkernel.inputs``: fresh objects each time)."""
    try:
        args, kwargs = decode_all(case)
    except Exception as e:  # the course's inputs (or torch missing): the case cannot run
        return {"error": f"the case's inputs cannot be built: {_type_name(e)}: {_text(e)}"}
    return call_one(fn, args, kwargs, timeout)


def call_one(fn: Any, args: list[Any], kwargs: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Call ``fn`` once on copies of the inputs, within ``timeout`` seconds."""
    args, kwargs = copy.deepcopy(list(args)), copy.deepcopy(dict(kwargs))
    try:
        with _limit(timeout):
            result = fn(*args, **kwargs)
            return _plain_result(result)
    except CallTimeout:
        return {"timeout": timeout}
    except (Exception, SystemExit) as e:  # not KeyboardInterrupt: the cell's own time limit
        return {"raised": _type_name(e), "message": _text(e)}


def _plain_result(result: Any) -> dict[str, Any]:
    count = [MAX_ITEMS - MAX_RESULT_ITEMS]  # to_plain stops after MAX_RESULT_ITEMS more
    try:
        return {"value": to_plain(result, 0, count)}
    except ExportError as e:
        if count[0] > MAX_ITEMS:
            return {"error": f"the result has more than {MAX_RESULT_ITEMS} items"}
        return {"error": str(e)}
    except RecursionError:
        return {"error": "the result is nested too deeply"}


def _type_name(e: BaseException) -> str:
    t = type(e)
    module = type.__getattribute__(t, "__module__")
    name = type.__getattribute__(t, "__qualname__")
    return name if module == "builtins" else f"{module}.{name}"


def _text(e: BaseException) -> str:
    try:
        text = str(e)
        text = text if type(text) is str else ""
    except Exception:
        text = ""
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…"


class _limit:
    """A ``with`` block interrupted by ``CallTimeout`` after ``seconds`` (main thread only;
    elsewhere, the cell's own time limit still holds)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = threading.current_thread() is threading.main_thread() and hasattr(
            signal, "setitimer"
        )
        self.previous: Any = None

    def __enter__(self) -> None:
        if self.armed:
            self.previous = signal.signal(signal.SIGALRM, _expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)


def _expired(signum: int, frame: Any) -> None:
    raise CallTimeout
