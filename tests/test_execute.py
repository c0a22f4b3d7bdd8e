"""The execute stage with a real kernel: outcomes, limits, recovery, exports, isolation."""

from __future__ import annotations

import pickle

import pytest

from grader.assemble import Step
from grader.execute import ExecOptions, StepRunner, execute, run, start_kernel
from grader.spec import Answer, Limits

pytestmark = pytest.mark.kernel


def answer(eid, source, name="v", kind="number", **options):
    spec = Answer.of(kind, name, **options).export_spec()
    return [Step("answer", eid, source), Step("export", eid, spec=spec)]


def run_steps(steps, tmp_path, **limits):
    executed = execute(steps, ExecOptions(limits=Limits(**limits)), tmp_path)
    by_answer = {
        s.exercise: o for s, o in zip(steps, executed.outcomes, strict=False) if s.role == "answer"
    }
    return executed, by_answer


def values(executed, *ids):
    return {e: executed.exports[e].payload for e in ids}


def test_outcomes_state_and_recovery(tmp_path):
    steps = [
        Step("setup", "t", "base = 40"),
        *answer("ok", "ok_value = base + 1\nv = ok_value"),
        *answer("raises", "half_done = 1\nv = 1 / 0"),
        *answer("spins", "while True:\n    pass"),
        *answer("after-timeout", "after_timeout_value = v = base + 2"),  # setup replayed
        *answer("exits", "import os\nos._exit(1)"),
        *answer("after-death", "v = base + 3"),  # setup was replayed in the new kernel
        # after two restarts: what the answers that succeeded defined is back (they are
        # replayed), what the one that raised defined is not (it is not)
        *answer("kept", "v = ok_value + after_timeout_value"),
        *answer("lost", "v = half_done"),
    ]
    executed, out = run_steps(steps, tmp_path, cell_timeout=2)
    assert {k: o.status for k, o in out.items()} == {
        "ok": "ok",
        "raises": "error",
        "spins": "timeout",
        "after-timeout": "ok",
        "exits": "died",
        "after-death": "ok",
        "kept": "ok",
        "lost": "error",
    }
    assert out["raises"].error.summary == "ZeroDivisionError: division by zero"
    assert out["lost"].error.summary == "NameError: name 'half_done' is not defined"
    assert "ran past 2 s" in out["spins"].error.evalue
    assert values(executed, "ok", "after-timeout", "after-death", "kept") == {
        "ok": {"ok": True, "value": 41},
        "after-timeout": {"ok": True, "value": 42},
        "after-death": {"ok": True, "value": 43},
        "kept": {"ok": True, "value": 83},
    }
    assert "raises" not in executed.exports  # no export after an error
    assert not (tmp_path / "work").exists()  # the kernel's work dir is gone


def test_notebook_time_limit_skips_the_rest(tmp_path):
    steps = [*answer("slow", "import time\ntime.sleep(3)\nv = 1"), *answer("next", "v = 2")]
    _, out = run_steps(steps, tmp_path, cell_timeout=10, timeout=2)
    assert out["slow"].status == "timeout"
    assert out["next"].status == "skipped"
    assert "ran past its 2 s limit" in out["next"].error.evalue


def test_export_errors_are_data(tmp_path):
    steps = [
        *answer("undefined", "pass", name="nothing"),
        *answer("blank", "v = ..."),
        *answer("weird", "v = object()"),
    ]
    executed, out = run_steps(steps, tmp_path)
    assert all(o.status == "ok" for o in out.values())
    assert values(executed, "undefined", "weird") == {
        "undefined": {
            "ok": False,
            "error": "the answer cell must assign `nothing`, which is not defined",
        },
        "weird": {"ok": False, "error": "cannot export a value of type object"},
    }
    assert "not answered yet" in executed.exports["blank"].payload["error"]


def test_executed_is_plain_data_that_crosses_a_process_boundary(tmp_path):
    source = "import torch\nv = torch.nn.Linear(2, 1)"
    steps = answer("m", source, kind="module", reference="N", probe=(1, 2))
    executed, _ = run_steps(steps, tmp_path)
    copy = pickle.loads(pickle.dumps(executed))
    assert copy == executed
    record = copy.exports["m"]
    assert record.ok and record.payload["num_params"] == 3
    assert record.weights is not None and len(record.weights) > 100  # torch.save's bytes


def test_a_kernel_runs_the_setup_before_its_submission_is_known(tmp_path):
    """What a pool does: start a kernel, run the course's setup, then take a submission."""
    kernel = start_kernel(ExecOptions(), tmp_path)
    kernel.connect()
    runner = StepRunner(kernel)
    runner.run([Step("setup", "t", "import math\nbase = math.floor(40.5)")])
    executed = run(kernel, answer("a", "v = base + 2"), runner)
    assert [o.status for o in executed.outcomes] == ["ok", "ok", "ok"]
    assert executed.exports["a"].payload == {"ok": True, "value": 42}


def test_output_limits(tmp_path):
    steps = [
        *answer("loud", "print('x' * 5000)\nv = 1"),
        *answer("quiet", "print('fine')\nv = 2"),
    ]
    executed, out = run_steps(steps, tmp_path, output=2)
    assert out["loud"].status == "output"
    assert "printed more than 2 KiB" in out["loud"].error.evalue
    assert out["quiet"].status == "ok"
    assert executed.exports["quiet"].payload == {"ok": True, "value": 2}
