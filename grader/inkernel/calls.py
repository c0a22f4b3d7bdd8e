"""Kernel side of the ``function`` kind: call the student's function on each case.

Runs INSIDE the student's kernel (the ``calls`` export recipe, ``grader.inkernel.exporter``)
and in the grader for the reference; judges nothing. The function is hostile code sharing
this process, so:

- Inputs: the cases are pickled into immutable bytes before any student code of the calls
  runs; each call gets fresh copies from them (a function that mutates its inputs, or
  reaches the case list through the stack, changes no other case).
- Time: each call has a limit, kept by two clocks: ``SIGALRM`` (main thread), re-firing
  every few milliseconds once expired (an ``except BaseException`` that swallows one alarm
  meets the next, often outside its ``try``), and a watchdog thread that raises
  ``CallTimeout`` in the calling thread (a function that disables the alarm, sets its own
  handler, or is called outside the main thread). A call that ran past its limit is a
  timeout whatever it returns (a function that catches the limit and returns a guess). A
  loop that swallows every interruption, or one where no thread can start, is ended by the
  cell's time limit (the kernel is restarted: the exercise fails, the others are replayed).
- Truth: what the export relies on (builtins, ``pickle``, ``json``, ``copy``, ``signal``,
  ``time``, ``threading``, and the functions and classes of this package's modules, their
  code included) is snapshotted when this module is imported, before the calls, and
  checked after each call by code that uses only its frame's locals (bound before the
  call) and builtin functions: a call that replaced any of it is exported as an error, and
  the originals are put back before anything else runs. The result is converted within the
  call's limit and watch (a result's ``__iter__`` or ``tolist`` is student code too).
- Results: plain data (``to_plain``: a lying object, an int subclass, an ``__eq__`` that is
  always true, become their real values, or an error), capped in size; or the exception's
  qualified type name and message, and for a class that is not a builtin its base classes
  (``mro``: a case that must raise ``ValueError`` accepts a subclass). A class that claims a
  module it does not belong to (``__module__ = "builtins"``) is named as forged.
- Forbidden functions (``forbids``): during the calls, each one is replaced, wherever a
  module or the function's globals or closure hold it, by a recorder; each call exports the
  forbidden names it called (``used``). That evidence is the student's kernel's word: the
  grader only ever fails a source check on it, never passes one.

What a function can learn of being graded (its caller's frames, this module, the watchdog
thread) gains it nothing: the expected results are never in the kernel. Imports stdlib only.
"""

from __future__ import annotations

import builtins
import copy  # noqa: F401  (watched: the exporter's and the answers' copies)
import ctypes
import json  # noqa: F401  (watched: the exporter writes with it)
import pickle
import signal
import sys
import threading
import time
import types
from typing import Any

from .inputs import decode_all
from .plain import MAX_ITEMS, ExportError, to_plain

MAX_RESULT_ITEMS = 100_000  # items of one call's result
MAX_MESSAGE = 300  # characters of an exception's message
MAX_MRO = 16  # base classes of an exception exported
REFIRE = 0.005  # seconds between alarms once a call's time is up
GRACE = 0.05  # seconds the watchdog leaves the alarm before it steps in

# What the calls rely on after a student's call, bound before any student code of them runs.
_dumps, _loads = pickle.dumps, pickle.loads
_monotonic, _sleep = time.monotonic, time.sleep
_signal, _setitimer = signal.signal, signal.setitimer
_main_thread, _get_ident = threading.main_thread, threading.get_ident
_current_thread = threading.current_thread
_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_c_ulong, _py_object = ctypes.c_ulong, ctypes.py_object
_type_getattr, _type_setattr = type.__getattribute__, type.__setattr__
_type = type  # a result read while the call has replaced ``builtins.type`` is still read
_MISSING = object()


class CallTimeout(BaseException):
    """A call ran past its limit (a BaseException: ``except Exception`` does not hide it)."""


def call_all(
    fn: Any,
    cases: list[dict[str, Any]],
    timeout: float,
    forbids: list[str] | tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """One result per case: ``{"value": plain}``, ``{"raised": type, "message": text}``
    (and ``"mro"``), ``{"timeout": seconds}`` or ``{"error": why there is no result}``; with
    ``"used": [names]`` when the call called a forbidden function."""
    if not callable(fn):
        raise ExportError(f"expected a function, got {type(fn).__name__}")
    frozen = tuple(_dumps((c.get("args", []), c.get("kwargs", {})), 5) for c in cases)
    snapshot = _snapshot()
    recorder = _Forbidden(fn, forbids)
    try:
        recorder.install()
        return [_call(fn, data, timeout, recorder, snapshot, True) for data in frozen]
    finally:
        recorder.uninstall()


def call_case(fn: Any, case: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Call ``fn`` on one case's inputs (plain data, decoded by ``grader.inkernel.inputs``:
    fresh objects each time), as ``call_all`` does, unwatched (a trusted reference)."""
    data = _dumps((case.get("args", []), case.get("kwargs", {})), 5)
    return _call(fn, data, timeout, None, (), True)


def call_one(
    fn: Any, args: list[Any], kwargs: dict[str, Any], timeout: float, watch: bool = False
) -> dict[str, Any]:
    """Call ``fn`` once on copies of the inputs, within ``timeout`` seconds, as
    ``call_all`` does; what the export relies on is watched only if asked (``watch``: the
    snapshot costs about a millisecond; a trusted reference does not need it)."""
    snapshot = _snapshot() if watch else ()
    return _call(fn, _dumps((list(args), dict(kwargs)), 5), timeout, None, snapshot, False)


# (kind: "dict", "class" or "attr", holder, its name, ((key, value), ...)), ...
Snapshot = tuple[tuple[str, Any, str, tuple[tuple[str, Any], ...]], ...]


def _call(
    fn: Any,
    data: bytes,
    timeout: float,
    recorder: _Forbidden | None,
    snapshot: Snapshot,
    decode: bool,
) -> dict[str, Any]:
    # Bound here, before the function runs: it may replace any global of this module or
    # rewrite its functions' code, but not this running frame's code nor its locals
    # (CPython 3.11: a frame's f_locals is a copy), nor builtin functions. ``snapshot`` was
    # taken before the calls: what the export relies on, to be put back after each call.
    type_getattr, type_setattr, setattr_, getattr_ = _type_getattr, _type_setattr, setattr, getattr
    dict_get, proxy_get, missing = dict.get, types.MappingProxyType.get, _MISSING
    monotonic, setitimer, set_signal = _monotonic, _setitimer, _signal
    lock, target, wake, fired = _LOCK, _TARGET, _WAKE, _FIRED
    timeout_exc, base, results = CallTimeout, BaseException, (Exception, SystemExit)
    plain_result, raised_of = _plain_result, _raised
    ours = recorder.recorders if recorder is not None else ()
    alarm = _current_thread() is _main_thread() and hasattr(signal, "setitimer")
    ident = _get_ident()
    _WATCHDOG.ensure()
    args, kwargs = _loads(data)
    if decode:  # tagged inputs (tensors, arrays, tuples, the author's expressions)
        try:
            args, kwargs = decode_all({"args": args, "kwargs": kwargs})
        except Exception as e:  # the course's inputs (or torch missing): the case cannot run
            why = f"{type_name(type(e))}: {_text(e)}"
            return {"error": f"the case's inputs cannot be built: {why}"}
    running: list[bool] = [True]
    expired: list[bool] = []
    traced: list[bool] = []
    set_trace, previous_trace = sys.settrace, sys.gettrace()

    def on_alarm(signum: int, frame: Any) -> None:
        if not running:
            return
        if expired and alarm:  # the first alarm was swallowed: trace the function's frames
            frames = []
            while frame is not None and frame.f_code is not guarded_code:
                frames.append(frame)
                frame = frame.f_back
            if frame is not None:  # (not past the call, in this module's own code)
                for f in frames:
                    f.f_trace = on_line
                traced.append(True)
                set_trace(on_line)
        expired.append(True)
        raise timeout_exc

    def on_line(frame: Any, event: str, arg: Any) -> Any:
        # Each line after the time is up brings the next alarm forward: it interrupts the
        # function at its next check, often inside an ``except`` block or past a ``try``.
        # (The tracer itself must not raise: Python would switch tracing off.)
        if running and event == "line":
            setitimer(signal.ITIMER_REAL, 1e-6, REFIRE)
        return on_line if running else None

    def guarded() -> Any:
        try:
            return plain_result(fn(*args, **kwargs))
        except results as e:  # not KeyboardInterrupt (the cell's own limit) nor a
            return raised_of(e)  # BaseException of the answer's: they end the export step

    guarded_code = guarded.__code__
    previous = set_signal(signal.SIGALRM, on_alarm) if alarm else None
    start = monotonic()
    if alarm:
        setitimer(signal.ITIMER_REAL, timeout, REFIRE)
    with lock:
        target[ident] = start + timeout + GRACE
        wake.set()
    out: Any = None
    try:
        try:
            out = guarded()
        except base as e:
            out = e
    except base as e:  # a late alarm while the first handler ran
        out = e if out is None else out
    elapsed = 0.0
    while True:  # stop both clocks; a last pending alarm may interrupt this once or twice
        try:
            elapsed = elapsed or monotonic() - start
            del running[:]
            if alarm:
                setitimer(signal.ITIMER_REAL, 0)
            with lock:
                target.pop(ident, None)
                absorb = ident in fired
                fired.discard(ident)
            if absorb:  # the watchdog raised: one not delivered yet is delivered here
                for _ in range(3):
                    pass
            if alarm:
                set_signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
            if traced:
                set_trace(previous_trace)
            break
        except base:
            continue
    # Put back what the call replaced, with locals and builtins only.
    replaced: list[str] = []
    for what, holder, label, saved in snapshot:
        for key, value in saved:
            if what == "dict":
                now = dict_get(holder, key, missing)
            elif what == "class":
                now = proxy_get(type_getattr(holder, "__dict__"), key, missing)
            else:
                now = getattr_(holder, key, missing)
            if now is value or (what == "dict" and any(now is r for r in ours)):
                continue
            if what == "dict":
                holder[key] = value
            elif what == "class":
                type_setattr(holder, key, value)
            else:
                setattr_(holder, key, value)
            replaced.append(f"{label}.{key}")
    # From here on, what the export relies on is genuine again.
    if isinstance(out, base) and not isinstance(out, timeout_exc):
        raise out
    if expired or elapsed > timeout + GRACE or isinstance(out, timeout_exc):
        result: dict[str, Any] = {"timeout": timeout}
    elif type(out) is dict:
        result = out
    else:  # an exception while the result was exported, or a replaced function's result
        result = {"error": "the result could not be exported"}
    if replaced:
        shown = ", ".join(sorted(set(replaced))[:3]) + (" and more" if len(replaced) > 3 else "")
        result = {"error": f"the function replaced {shown} while it was called"}
    if recorder is not None and recorder.hits:
        result["used"] = sorted(recorder.hits)
        recorder.hits.clear()
    return result


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
    except Exception as e:  # a result whose own methods raise (__iter__, tolist, ...)
        return {"error": f"the result cannot be read: it raised {type_name(_type(e))}"}


def _raised(e: BaseException) -> dict[str, Any]:
    t = _type(e)
    out: dict[str, Any] = {"raised": type_name(t), "message": _text(e)}
    if _type_getattr(t, "__module__") != "builtins" or out["raised"].endswith(")"):
        mro = _type_getattr(t, "__mro__")
        out["mro"] = [type_name(b) for b in mro[1:] if b is not object][:MAX_MRO]
    return out


def type_name(t: type) -> str:
    """A class's qualified name (``ValueError`` for a builtin), or a name saying it is
    forged when its module holds another object under that name."""
    module = _type_getattr(t, "__module__")
    name = _type_getattr(t, "__qualname__")
    if _type(module) is not str or _type(name) is not str:
        return "<a class with a forged name>"
    found = _lookup(module, name)
    if found is not None and found is not t:
        return f"{module}.{name} (forged: not the real one)"
    return name if module == "builtins" else f"{module}.{name}"


def _lookup(module: str, name: str) -> Any:
    holder: Any = _BUILTINS if module == "builtins" else sys.modules.get(module)
    for part in name.split("."):
        d = _dict_of(holder) if holder is not None else None
        holder = d.get(part) if d is not None else None
    return holder


def _dict_of(obj: Any) -> Any:
    if _type(obj) is dict:
        return obj
    try:
        d = object.__getattribute__(obj, "__dict__")
    except Exception:
        return None
    return d if _type(d) in (dict, types.MappingProxyType) else None


def _text(e: BaseException) -> str:
    try:
        text = str(e)
        text = text if _type(text) is str else ""
    except Exception:
        text = ""
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…"


# --- the watchdog -----------------------------------------------------------------------------

_LOCK = threading.Lock()  # guards _TARGET and _FIRED
_TARGET: dict[int, float] = {}  # thread ident -> deadline of the call it runs
_FIRED: set[int] = set()  # the threads the watchdog raised in, in the call they run
_WAKE = threading.Event()


class _Watchdog:
    """A daemon thread that raises ``CallTimeout`` in a thread whose call ran past its
    deadline, every few milliseconds until the call ends."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None

    def ensure(self) -> None:
        """Start the thread unless it runs (or none can: past the process limit)."""
        with _LOCK:
            if self.thread is None or not self.thread.is_alive():
                thread = threading.Thread(target=_watch, name="Thread-1", daemon=True)
                try:
                    thread.start()
                except RuntimeError:  # "can't start new thread" (e.g. after a fork bomb)
                    return
                self.thread = thread


def _watch() -> None:
    lock, target, wake, fired, monotonic, sleep = _LOCK, _TARGET, _WAKE, _FIRED, _monotonic, _sleep
    set_async, c_ulong, py_object, exc = _set_async_exc, _c_ulong, _py_object, CallTimeout
    while True:
        wake.wait()
        with lock:
            if not target:
                wake.clear()
                continue
            now = monotonic()
            left = min(target.values()) - now
            for ident, deadline in list(target.items()):
                if deadline <= now:
                    # (never with NULL to clear one: that leaves the eval breaker set for good)
                    set_async(c_ulong(ident), py_object(exc))
                    fired.add(ident)
        sleep(REFIRE if left <= 0 else min(left, 0.05))


_WATCHDOG = _Watchdog()


# --- forbidden functions ---------------------------------------------------------------------


class _Forbidden:
    """During the calls, every holder of a forbidden function (a module's attribute, the
    function's globals or closure) holds a recorder instead; ``hits`` are the names called."""

    def __init__(self, fn: Any, names: list[str] | tuple[str, ...]) -> None:
        self.hits: set[str] = set()
        self.swaps: list[tuple[Any, str, Any]] = []  # (dict or cell, key, original)
        self.recorders: tuple[Any, ...] = ()
        self.fn = fn
        self.targets = [(name, obj) for name in names if (obj := _resolve(name)) is not None]

    def install(self) -> None:
        if not self.targets:
            return
        originals = {id(obj): obj for _, obj in self.targets}
        recorders = {id(obj): self._recorder(name, obj) for name, obj in self.targets}
        self.recorders = tuple(recorders.values())
        for d in _holders(self.fn):
            for key, value in list(d.items()):
                if id(value) in originals and originals[id(value)] is value:
                    d[key] = recorders[id(value)]
                    self.swaps.append((d, key, value))
        for cell in _cells(self.fn):
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if id(value) in originals and originals[id(value)] is value:
                cell.cell_contents = recorders[id(value)]
                self.swaps.append((cell, "", value))

    def uninstall(self) -> None:
        for holder, key, value in reversed(self.swaps):
            if type(holder) is dict:
                holder[key] = value
            else:
                holder.cell_contents = value
        self.swaps.clear()

    def _recorder(self, name: str, obj: Any) -> Any:
        hits = self.hits

        def recorded(*args: Any, **kwargs: Any) -> Any:
            hits.add(name)
            return obj(*args, **kwargs)

        return recorded


def _resolve(name: str) -> Any:
    """The object a dotted name names, in the modules already imported (a single name: a
    builtin), or None."""
    parts = name.split(".")
    for n in range(len(parts), -1, -1):
        holder: Any = sys.modules.get(".".join(parts[:n])) if n else _BUILTINS
        if holder is None:
            continue
        for part in parts[n:]:
            d = _dict_of(holder)
            holder = d.get(part) if d is not None else None
            if holder is None:
                return None
        return holder
    return None


def _holders(fn: Any) -> list[dict[str, Any]]:
    out = [builtins.__dict__]
    for module in list(sys.modules.values()):
        if isinstance(module, types.ModuleType):
            d = _dict_of(module)
            if type(d) is dict and d is not builtins.__dict__:
                out.append(d)
    g = getattr(fn, "__globals__", None)
    if type(g) is dict and all(g is not d for d in out):
        out.append(g)
    return out


def _cells(fn: Any) -> list[Any]:
    closure = getattr(fn, "__closure__", None)
    return list(closure) if type(closure) is tuple else []


# --- the snapshot: taken last, when everything above is defined -----------------------------

_WATCHED_MODULES = ("builtins", "copy", "json", "pickle", "signal", "time", "threading", "types")
_BUILTINS = dict(builtins.__dict__)


def _snapshot() -> Snapshot:
    """What the export relies on, as (kind, holder, name, ((key, value), ...)): the watched
    modules' dicts, and this package's modules' dicts, classes' attributes and functions'
    code and defaults, and these modules in ``sys.modules``. Taken before a round of calls,
    when no student code of it ran."""
    out: list[tuple[str, Any, str, tuple[tuple[str, Any], ...]]] = []
    ours = [m for name, m in sys.modules.items() if name.startswith(__package__ + ".")]
    names = (*_WATCHED_MODULES, *(m.__name__ for m in ours))
    out.append(("dict", sys.modules, "sys.modules", tuple((n, sys.modules[n]) for n in names)))
    for module in [sys.modules[n] for n in _WATCHED_MODULES] + ours:
        d = object.__getattribute__(module, "__dict__")
        out.append(("dict", d, module.__name__, tuple((k, v) for k, v in d.items() if k != "_")))
        if module not in ours:
            continue
        for value in list(d.values()):
            if getattr(value, "__module__", None) != module.__name__:
                continue
            if isinstance(value, type):
                items = tuple(_type_getattr(value, "__dict__").items())
                saved = tuple((k, v) for k, v in items if k != "__dict__")
                out.append(("class", value, f"{module.__name__}.{value.__qualname__}", saved))
                funcs = [v for _, v in items if isinstance(v, types.FunctionType)]
            elif isinstance(value, types.FunctionType):
                funcs = [value]
            else:
                continue
            for f in funcs:
                parts = tuple((a, getattr(f, a)) for a in _FUNCTION_PARTS)
                out.append(("attr", f, f"{module.__name__}.{f.__qualname__}", parts))
    return tuple(out)


_FUNCTION_PARTS = ("__code__", "__defaults__", "__kwdefaults__")

__all__ = ["MAX_RESULT_ITEMS", "CallTimeout", "call_all", "call_one", "type_name"]
