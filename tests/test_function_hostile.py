"""The ``function`` kind against hostile answers: the kernel-side caller run in this process
(inputs reached through the stack, limits swallowed or disabled, lying results, patched
builtins and grader code, forbidden functions called under other names), the source rules
(dynamic access, aliases, dead code), exceptions matched by subclass, the reference's time
limits, and one notebook of hostile exercises graded in a real kernel."""

from __future__ import annotations

import builtins
import copy
import json
import math
import os
import signal
import statistics
import sys
import threading
import time

import pytest
from shipped import with_answers

import grader.inkernel.calls as calls
import grader.inkernel.exporter as exporter
import grader.inkernel.plain as plain
from grader.errors import SpecError
from grader.execute.records import ExportRecord
from grader.inkernel.calls import call_all, call_one
from grader.inkernel.case_match import case_right
from grader.judge.source_rules import check_source, same_objects
from grader.solutions import reference_calls
from grader.spec import Answer, load_course

LIMIT = 0.2  # seconds per call in these tests
BUSY = 2.0  # seconds a "bounded" hostile loop runs: far past LIMIT


def squares(n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return [i * i for i in range(1, n + 1)]


def _busy(seconds=BUSY):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _cases(*ns):
    return [{"args": [n]} for n in ns]


# --- inputs ------------------------------------------------------------------------------


def test_inputs_reached_through_the_stack_change_no_later_case():
    def rewrites(n):  # every case after this one becomes n = 1 (a public one, say)
        frame = sys._getframe(1)
        while frame is not None:
            for value in list(frame.f_locals.values()):
                if isinstance(value, list):
                    for case in value:
                        if isinstance(case, dict) and "args" in case:
                            case["args"][0] = 1
            frame = frame.f_back
        return [n]

    assert call_all(rewrites, _cases(3, 5, 7), LIMIT) == [
        {"value": [3]},
        {"value": [5]},
        {"value": [7]},
    ]


# --- time --------------------------------------------------------------------------------


def swallows(n):  # every interruption is caught, the loop goes on
    while True:
        try:
            time.sleep(0.001)
        except BaseException:
            pass


def guesses(n):  # catches the limit and returns a guess
    try:
        while True:
            pass
    except BaseException:
        return [1]


def disables_the_timer(n):
    signal.setitimer(signal.ITIMER_REAL, 0)
    _busy()
    return [1]


def cancels_the_alarm(n):
    signal.alarm(0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    _busy()
    return [1]


def ignores_the_alarm(n):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    _busy()
    return [1]


def own_handler(n):
    signal.signal(signal.SIGALRM, lambda *a: None)
    _busy()
    return [1]


@pytest.mark.parametrize(
    "fn", [swallows, guesses, disables_the_timer, cancels_the_alarm, ignores_the_alarm, own_handler]
)
def test_a_call_past_its_limit_is_a_timeout_whatever_it_does_to_the_limit(fn):
    before = signal.getsignal(signal.SIGALRM)
    assert call_all(fn, _cases(1, 2), LIMIT) == [{"timeout": LIMIT}, {"timeout": LIMIT}]
    assert signal.getsignal(signal.SIGALRM) is before  # put back
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert call_one(squares, [2], {}, LIMIT) == {"value": [1, 4]}


def test_a_call_outside_the_main_thread_has_a_limit_too():
    out = []
    thread = threading.Thread(target=lambda: out.append(call_one(guesses, [1], {}, LIMIT)))
    thread.start()
    thread.join()
    assert out == [{"timeout": LIMIT}]


def test_calls_in_several_threads_at_once_each_keep_their_limit():
    out = {}

    def slow():
        out["slow"] = call_one(guesses, [1], {}, LIMIT)

    def quick():  # calls that start and end while the slow one runs
        out["quick"] = [call_one(squares, [2], {}, LIMIT) for _ in range(20)]

    threads = [threading.Thread(target=slow), threading.Thread(target=quick)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert out == {"slow": {"timeout": LIMIT}, "quick": [{"value": [1, 4]}] * 20}


def test_a_result_that_is_slow_to_read_is_read_within_the_limit():
    class Tolist:  # claims to be numpy's, and its tolist takes its time
        __module__ = "numpy"

        def tolist(self):
            _busy()
            return [1, 4, 9]

    class SlowMessage(ValueError):
        def __str__(self):
            _busy()
            return "n"

    def raises_slowly(n):
        raise SlowMessage

    assert call_one(Tolist, [], {}, LIMIT) == {"timeout": LIMIT}
    assert call_one(raises_slowly, [1], {}, LIMIT) == {"timeout": LIMIT}


# --- lying results -----------------------------------------------------------------------


def test_lying_results_are_exported_as_what_they_hold():
    class Iter(list):
        def __iter__(self):
            return iter([1, 4, 9])

        def __len__(self):
            return 3

    class Fake:  # isinstance(Fake(), list) is True
        __class__ = list

        def __iter__(self):
            return iter([1, 4, 9])

    class Boom:  # raises on every access
        __module__ = "numpy"

        def __getattribute__(self, name):
            raise RuntimeError("no")

    class Items(dict):
        def items(self):
            return [("a", 1)]

        def keys(self):
            return ["a"]

    class Half(float):
        def __float__(self):
            return 0.5

        def __eq__(self, other):
            return True

        __hash__ = float.__hash__

    def endless():
        while True:
            yield 1

    assert call_one(lambda: Iter([0]), [], {}, LIMIT) == {"value": [0]}
    assert call_one(lambda: (Iter([2]),), [], {}, LIMIT) == {"value": [[2]]}
    assert call_one(Fake, [], {}, LIMIT) == {"error": "cannot export a value of type Fake"}
    assert call_one(lambda: Items(b=2), [], {}, LIMIT) == {"value": {"b": 2}}
    assert call_one(lambda: [Half(2.0)], [], {}, LIMIT) == {"value": [2.0]}
    assert call_one(Boom, [], {}, LIMIT)["error"].startswith("the result cannot be read")
    assert call_one(endless, [], {}, LIMIT) == {"error": "cannot export a value of type generator"}


# --- what the export relies on -----------------------------------------------------------

REAL = {
    "builtins.isinstance": (builtins, "isinstance"),
    "builtins.type": (builtins, "type"),
    "copy.deepcopy": (copy, "deepcopy"),
    "json.dumps": (json, "dumps"),
    "signal.signal": (signal, "signal"),
    "grader.inkernel.plain.to_plain": (plain, "to_plain"),
    "grader.inkernel.calls._plain_result": (calls, "_plain_result"),
    "grader.inkernel.calls.MAX_RESULT_ITEMS": (calls, "MAX_RESULT_ITEMS"),
    "grader.inkernel.exporter._write_json": (exporter, "_write_json"),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_a_call_that_patches_what_the_export_relies_on_is_an_error_and_undone(name):
    module, attr = REAL[name]
    real = getattr(module, attr)

    def patches(n):
        setattr(module, attr, lambda *a, **k: [1, 4, 9])
        return [1, 4, 9]

    got = call_all(patches, _cases(3), LIMIT)
    assert got == [{"error": f"the function replaced {name} while it was called"}]
    assert getattr(module, attr) is real
    assert call_all(squares, _cases(2), LIMIT) == [{"value": [1, 4]}]


def test_a_call_that_replaces_type_and_returns_what_cannot_be_read_is_said_so():
    class Unreadable:  # its conversion raises while builtins.type is replaced
        __module__ = "numpy"

        def tolist(self):
            raise RuntimeError("no")

    def patches(n):
        builtins.type = lambda *a, **k: [1, 4, 9]
        return Unreadable()

    real = type
    got = call_all(patches, _cases(3), LIMIT)
    assert builtins.type is real
    assert got == [{"error": "the function replaced builtins.type while it was called"}]


def test_code_rewritten_or_a_module_replaced_is_an_error_and_undone():
    real_code, real_plain = calls._plain_result.__code__, sys.modules["grader.inkernel.plain"]

    def rewrites(n):
        calls._plain_result.__code__ = (lambda result: {"value": [1, 4, 9]}).__code__
        return None

    def replaces(n):
        sys.modules["grader.inkernel.plain"] = json
        return None

    (got,) = call_all(rewrites, _cases(3), LIMIT)
    assert got == {"error": f"the function replaced {calls.__name__}._plain_result.__code__ "
                   "while it was called"}  # fmt: skip
    (got,) = call_all(replaces, _cases(3), LIMIT)
    assert "sys.modules.grader.inkernel.plain" in got["error"]
    assert calls._plain_result.__code__ is real_code
    assert sys.modules["grader.inkernel.plain"] is real_plain


def test_an_export_stays_truthful_when_the_function_rewrites_the_exporter(tmp_path):
    forged = {"ok": True, "calls": [{"value": [1, 4, 9]}] * 2}

    def forges(n):  # the nonce is in a caller's frame: use it, and write the export itself
        frame = sys._getframe(1)
        while "nonce" not in frame.f_locals:
            frame = frame.f_back
        nonce, directory = frame.f_locals["nonce"], frame.f_locals["directory"]
        real = exporter._write_json

        def write(path, payload):
            real(path, {**forged, "nonce": nonce})

        exporter._write_json = write
        real(os.path.join(directory, "sq.json"), {**forged, "nonce": nonce})
        return []

    spec = {"name": "squares", "recipe": "calls", "cases": _cases(3, 2), "timeout": LIMIT}
    exporter.export(str(tmp_path), "sq", spec, {"squares": forges}, "n0nce")
    written = json.loads((tmp_path / "sq.json").read_text())
    error = "the function replaced grader.inkernel.exporter._write_json while it was called"
    assert written == {"ok": True, "calls": [{"error": error}, {"error": error}], "nonce": "n0nce"}


def test_a_function_that_looks_for_the_expected_results_finds_none():
    def detects(n):  # graded? then return whatever looks like an expected result
        frame = sys._getframe(1)
        while frame is not None:
            for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
                if isinstance(value, dict) and isinstance(value.get("value"), list):
                    return value["value"]
            frame = frame.f_back
        return []

    got = call_all(detects, _cases(3, 0), LIMIT)
    assert not case_right({"value": [1, 4, 9]}, got[0], 0, 0)
    assert not case_right({"raised": "ValueError"}, got[1], 0, 0)


# --- exceptions ----------------------------------------------------------------------------


class Negative(ValueError):
    pass


class Named(Exception):  # a class that claims to be the builtin ValueError
    __module__ = "builtins"
    __qualname__ = "ValueError"


def _raising(exc):
    def fn():
        raise exc

    return call_one(fn, [], {}, LIMIT)


@pytest.mark.parametrize(
    "exc,expected,ok",
    [
        (ValueError("x"), "ValueError", True),
        (Negative("x"), "ValueError", True),  # a subclass, as pytest.raises
        (KeyError("x"), "LookupError", True),
        (ValueError("x"), "Exception", True),
        (KeyError("x"), "ValueError", False),
        (Named("x"), "ValueError", False),
        (Exception("x"), "ValueError", False),
    ],
)
def test_an_exception_matches_its_type_and_its_bases(exc, expected, ok):
    got = _raising(exc)
    assert case_right({"raised": expected}, got, 0, 0) is ok
    kept = ExportRecord({"ok": True, "calls": [got]}).payload["calls"][0]  # as the judge has it
    assert case_right({"raised": expected}, kept, 0, 0) is ok


def test_a_forged_class_name_is_said_as_such():
    assert _raising(Named("x"))["raised"] == "builtins.ValueError (forged: not the real one)"
    assert _raising(Negative("x"))["raised"] == f"{__name__}.Negative"
    forged_bases = {"raised": "__main__.E", "mro": ["Exception"]}  # what the kernel said
    assert not case_right({"raised": "ValueError"}, forged_bases, 0, 0)


# --- forbidden functions at run time ---------------------------------------------------------

CELL = {"fsum": math.fsum}  # a name bound earlier in the notebook


def test_a_forbidden_function_called_under_any_name_is_recorded():
    hidden = CELL["fsum"]

    def through_a_closure(xs):
        return hidden(xs)

    def through_a_library(xs):  # statistics.fmean calls math.fsum (statistics.fsum)
        return statistics.fmean(xs) * len(xs)

    def by_hand(xs):
        return float(sum(xs))

    for fn in (through_a_closure, through_a_library):
        (got,) = call_all(fn, [{"args": [[1.0, 2.0]]}], LIMIT, ["math.fsum"])
        assert got == {"value": 3.0, "used": ["math.fsum"]}
    assert call_all(by_hand, [{"args": [[1.0, 2.0]]}], LIMIT, ["math.fsum"]) == [{"value": 3.0}]
    assert math.fsum is hidden and statistics.fsum is hidden and CELL["fsum"] is hidden


def test_the_kernel_s_evidence_fails_the_source_check():
    answer = Answer.of("function", "f", cases=(), calls=(), forbids=("math.fsum",))
    source = "import statistics\ndef f(xs):\n    return statistics.fmean(xs) * len(xs)\n"
    (passed,) = check_source(answer, source, {"calls": [{"value": 3.0}]})
    (failed,) = check_source(answer, source, {"calls": [{"value": 3.0, "used": ["math.fsum"]}]})
    assert passed.passed and not failed.passed
    assert failed.message == "the answer must not use math.fsum (it was called while graded)"


# --- the source rules -----------------------------------------------------------------------

CONV = "torch.nn.functional.conv1d"


def _rules(calls=(), forbids=(), name="f"):
    return Answer.of("function", name, cases=(), calls=tuple(calls), forbids=tuple(forbids))


def test_a_forbidden_function_s_other_names_are_found_in_the_grader():
    pytest.importorskip("torch")
    assert {"torch.conv1d", CONV} <= same_objects(CONV)
    assert same_objects("no_such_module.f") == {"no_such_module.f"}


DODGES = {  # each dodges the old rule (names resolved through imports only)
    "getattr": "import torch.nn.functional as F\ndef f(x, w):\n    return getattr(F, 'conv1d')(x, w)\n",
    "getattr computed": "import torch.nn.functional as F\n"
    "def f(x, w):\n    return getattr(F, 'conv' + '1d')(x, w)\n",
    "__import__": "def f(x, w):\n    m = __import__('torch.nn.functional')\n    return m\n",
    "importlib": "import importlib\ndef f(x, w):\n    return importlib.import_module('torch')\n",
    "same object": "import torch\ndef f(x, w):\n    return torch.conv1d(x, w)\n",
    "rebound module": "import torch\nt = torch\ndef f(x, w):\n    return t.conv1d(x, w)\n",
    "eval": "def f(x, w):\n    return eval('tor' + 'ch').conv1d(x, w)\n",
    "exec": "def f(x, w):\n    exec('y = 1')\n",
    "compile": "def f(x, w):\n    return compile('1', 'x', 'eval')\n",
    "globals": "def f(x, w):\n    return globals()['F']\n",
    "vars": "import torch.nn.functional as F\ndef f(x, w):\n    return vars(F)['c' + 'onv1d']\n",
    "__dict__": "import torch.nn.functional as F\ndef f(x, w):\n    return F.__dict__['conv' + '1d']\n",
    "sys.modules": "import sys\ndef f(x, w):\n    return sys.modules['torch.nn.functional']\n",
    "modules via torch": "import torch\ndef f(x, w):\n    return torch.sys.modules['torch']\n",
    "star": "from torch.nn.functional import *\ndef f(x, w):\n    return conv1d(x, w)\n",
    "attrgetter": "import operator\ndef f(x, w):\n    return operator.attrgetter('conv' + '1d')\n",
    "private": "import torch\ndef f(x, w):\n    return torch._C._nn\n",
    "ops": "import torch\ndef f(x, w):\n    return torch.ops.aten.conv1d(x, w)\n",
    "pickle": "import pickle\ndef f(x, w):\n    return pickle.loads(x)\n",
    "text": "def f(x, w):\n    name = 'conv1d'\n    return name\n",
    "match": "import torch.nn.functional as F\ndef f(x, w):\n"
    "    match F:\n        case object(conv1d=c):\n            return c(x, w)\n",
    "subclasses": "def f(x, w):\n    return ().__class__.__base__.__subclasses__()\n",
    "frames": "def f(x, w):\n    import inspect\n    return inspect.currentframe()\n",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DODGES))
def test_a_forbidden_name_cannot_be_reached_dynamically(name):
    (check,) = check_source(_rules(forbids=[CONV]), DODGES[name])
    assert not check.passed, name
    assert check.message.startswith(("the answer must not use", "uses ", "imports "))


@pytest.mark.parametrize(
    "source",
    [
        "def f(x, w):\n    return sum(a * b for a, b in zip(x, w))\n",
        "import torch\nimport math\ndef f(x, w):\n    out = torch.zeros(len(x) - len(w) + 1)\n"
        "    for i in range(len(out)):\n        out[i] = (x[i:i + len(w)] * w).sum()\n"
        "    return out\n",
        "def f(x, w):\n    '''Like conv1d, by hand.'''\n    return x\n",
        "class f:\n    def __init__(self, w):\n        super().__init__()\n        self._w = w\n",
        "import torch.nn.functional as F\ndef f(x, w):\n    return F.relu(x)\n",
    ],
)
def test_honest_answers_pass_the_forbids_rule(source):
    (check,) = check_source(_rules(forbids=[CONV]), source)
    assert check.passed, check.message


@pytest.mark.parametrize(
    "source,ok",
    [
        ("def sos(n):\n    return sum(squares(n))\n", True),
        ("def sos(n):\n    if n < 1:\n        return 0\n    return sum(squares(n))\n", True),
        ("def sos(n):\n    global squares\n    return sum(squares(n))\n", True),
        ("def sos(n):\n    try:\n        return sum(squares(n))\n    except ValueError:\n"
         "        raise\n", True),
        ("def sos(n):\n    return n * (n + 1) * (2 * n + 1) // 6\n    squares(n)\n", False),
        ("def sos(n):\n    if False:\n        squares(n)\n    return 1\n", False),
        ("def sos(n):\n    while 0:\n        squares(n)\n    return 1\n", False),
        ("def sos(n):\n    return squares(n) if 0 else 1\n", False),
        ("def sos(n):\n    return False and squares(n) or 1\n", False),
        ("def sos(n):\n    g = lambda: squares(n)\n    return 1\n", False),
        ("def sos(n):\n    def g():\n        return squares(n)\n    return 1\n", False),
        ("def sos(n, squares=lambda n: [1]):\n    return sum(squares(n))\n", False),
        ("def sos(n):\n    squares = lambda n: [n]\n    return sum(squares(n))\n", False),
        ("def sos(n):\n    for i in range(n):\n        break\n        squares(n)\n    return 1\n",
         False),
    ],
)  # fmt: skip
def test_a_required_call_counts_only_in_code_that_runs(source, ok):
    (check,) = check_source(_rules(calls=["squares"], name="sos"), source)
    assert check.passed is ok
    assert ok or check.message == "sos must call squares"


# --- the reference's time limits ------------------------------------------------------------

COURSE = (
    "name: Slow\nlimits:\n  cell_timeout: 1\nassignments:\n  - id: s\n    title: S\n"
    "    exercises: [sq]\n"
)
TOPIC = """\
topic: s
title: Slow
setup: ""
exercises:
  - id: sq
    title: Squares
    points: 1
    prompt: Write squares(n).
    starter: "def squares(n):\\n    ...\\n"
    answer:
      kind: function
      name: squares
      cases: [{args: [1]}, {args: [3]}]
      call_timeout: 0.2
"""


def _slow_course(write_course, tmp_path, solution):
    return load_course(
        write_course(tmp_path, course=COURSE, exercises={"s": TOPIC}, solutions={"s": solution})
    )


def test_a_reference_past_its_case_limit_is_said_at_build(write_course, tmp_path):
    solution = (
        "# %% sq\nimport time\ndef squares(n):\n    while n > 1:\n        time.sleep(0.01)\n"
        "    return [1]\n"
    )
    course = _slow_course(write_course, tmp_path, solution)
    with pytest.raises(SpecError, match=r"the solution of 'sq' gives no result within 0.2 s on "
                       r"case 2 \(squares\(3\)\); fix it or raise call_timeout"):  # fmt: skip
        reference_calls(course, "s")


def test_a_solution_section_past_the_cell_limit_is_said_at_build(write_course, tmp_path):
    solution = "# %% sq\nimport time\nwhile True:\n    time.sleep(0.01)\n"
    course = _slow_course(write_course, tmp_path, solution)
    with pytest.raises(SpecError, match=r"the solution of 'sq' runs past 1 s in the grader"):
        reference_calls(course, "s")


# --- a real kernel: one notebook of hostile answers --------------------------------------------

KERNEL_COURSE = (
    "name: Hostile\nlimits:\n  cell_timeout: 8\nassignments:\n  - id: h\n    title: H\n"
    "    exercises: [total, sq, stuck, half]\n"
)
KERNEL_TOPIC = """\
topic: h
title: Hostile
setup: ""
exercises:
  - id: total
    title: Total
    points: 1
    prompt: Write total(xs), by hand.
    starter: "def total(xs):\\n    ...\\n"
    answer:
      kind: function
      name: total
      cases: [{args: [[1.0, 2.0]]}, {args: [[0.5]]}]
      forbids: [math.fsum]
  - id: sq
    title: Squares
    points: 1
    prompt: Write squares(n).
    starter: "def squares(n):\\n    ...\\n"
    answer:
      kind: function
      name: squares
      cases: [{args: [1]}, {args: [3]}]
  - id: stuck
    title: Stuck
    points: 1
    prompt: Write stuck(n).
    starter: "def stuck(n):\\n    ...\\n"
    answer:
      kind: function
      name: stuck
      cases: [{args: [1]}]
      call_timeout: 0.5
  - id: half
    title: Half
    points: 2
    prompt: Write half(n); it raises ValueError for n < 0.
    starter: "def half(n):\\n    ...\\n"
    answer:
      kind: function
      name: half
      cases: [{args: [4]}, {args: [-2]}]
"""
KERNEL_SOLUTION = """\
# %% total
def total(xs):
    out = 0.0
    for x in xs:
        out += x
    return out

# %% sq
def squares(n):
    return [i * i for i in range(1, n + 1)]

# %% stuck
def stuck(n):
    return n

# %% half
def half(n):
    if n < 0:
        raise ValueError("negative")
    return n / 2
"""
HOSTILE = {
    # math.fsum through a library: the source rule cannot see it, the recorder does
    "total": "import statistics\ndef total(xs):\n    return statistics.fmean(xs) * len(xs)\n",
    # right numbers, but the exporter is rewritten during the call to forge the export
    "sq": "import grader.inkernel.exporter as e\n"
    "def squares(n):\n    e.to_plain = lambda v, *a: [1, 4, 9]\n"
    "    return [i * i for i in range(1, n + 1)]\n",
    # no limit (the alarm ignored) and every interruption swallowed: the cell's own limit
    "stuck": "import signal, time\ndef stuck(n):\n"
    "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        try:\n"
    "            time.sleep(0.01)\n        except BaseException:\n            pass\n",
    # right, after the kernel was restarted; it raises a subclass of ValueError
    "half": "class Negative(ValueError):\n    pass\n"
    "def half(n):\n    if n < 0:\n        raise Negative(n)\n    return n / 2\n",
}


@pytest.mark.kernel
def test_a_notebook_of_hostile_answers_in_a_real_kernel(write_course, tmp_path):
    from grader.build import build
    from grader.options import GradeOptions
    from grader.pipeline import grade

    course = load_course(
        write_course(
            tmp_path,
            course=KERNEL_COURSE,
            exercises={"h": KERNEL_TOPIC},
            solutions={"h": KERNEL_SOLUTION},
        )
    )
    release = tmp_path / "release"
    options = GradeOptions(sandbox="optional", release=release)
    build(course, release, options)
    notebook = with_answers(release / "student" / "h.ipynb", HOSTILE, tmp_path / "hostile.ipynb")
    result = grade(notebook, course, options=options)
    by_id = {e.id: e for e in result.exercises}
    assert (by_id["total"].score, by_id["total"].message) == (
        0,
        "the answer must not use math.fsum (it was called while graded)",
    )
    assert by_id["sq"].score == 0
    assert "replaced grader.inkernel.exporter.to_plain" in by_id["sq"].message
    assert (by_id["stuck"].score, by_id["stuck"].status) == (0, "error")
    assert (by_id["half"].score, by_id["half"].status) == (2, "passed"), by_id["half"].message
