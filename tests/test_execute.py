"""The execute stage with a real kernel: outcomes, limits, recovery, exports."""

from __future__ import annotations

import pytest

from grader.assemble import Step
from grader.execute import ExecOptions, execute, read_export
from grader.spec import Limits

pytestmark = pytest.mark.kernel


def answer(eid, source, name="v", kind="number"):
    return [Step("answer", eid, source), Step("export", eid, spec={"kind": kind, "name": name})]


def run(steps, tmp_path, **options):
    executed = execute(steps, ExecOptions(limits=Limits(**options)), tmp_path)
    by_answer = {s.exercise: o for s, o in zip(steps, executed.outcomes) if s.role == "answer"}
    return executed, by_answer


def test_outcomes_state_and_recovery(tmp_path):
    steps = [
        Step("setup", "t", "base = 40"),
        *answer("ok", "v = base + 1"),
        *answer("raises", "v = 1 / 0"),
        *answer("spins", "while True:\n    pass"),
        *answer("after-timeout", "v = base + 2"),  # state survived the interrupt
        *answer("exits", "import os\nos._exit(1)"),
        *answer("after-death", "v = base + 3"),  # setup was replayed in the new kernel
        *answer("lost", "v = ok_value", name="v"),  # answers are not replayed
    ]
    executed, out = run(steps, tmp_path, cell_timeout=2)
    assert {k: o.status for k, o in out.items()} == {
        "ok": "ok", "raises": "error", "spins": "timeout", "after-timeout": "ok",
        "exits": "died", "after-death": "ok", "lost": "error",
    }
    assert out["raises"].error.summary == "ZeroDivisionError: division by zero"
    assert "ran past 2 s" in out["spins"].error.evalue
    values = {e: read_export(executed.export_dir, e) for e in ("ok", "after-timeout", "after-death")}
    assert values == {"ok": {"ok": True, "value": 41}, "after-timeout": {"ok": True, "value": 42},
                      "after-death": {"ok": True, "value": 43}}
    assert read_export(executed.export_dir, "raises") is None  # no export after an error


def test_notebook_time_limit_skips_the_rest(tmp_path):
    steps = [*answer("slow", "import time\ntime.sleep(3)\nv = 1"), *answer("next", "v = 2")]
    executed, out = run(steps, tmp_path, cell_timeout=10, timeout=2)
    assert out["slow"].status == "timeout"
    assert out["next"].status == "skipped"
    assert "ran past its 2 s limit" in out["next"].error.evalue


def test_export_errors_are_data(tmp_path):
    steps = [*answer("undefined", "pass", name="nothing"), *answer("blank", "v = ..."),
             *answer("weird", "v = object()")]
    executed, out = run(steps, tmp_path)
    assert all(o.status == "ok" for o in out.values())
    assert read_export(executed.export_dir, "undefined") == {
        "ok": False, "error": "the answer cell must assign `nothing`, which is not defined"}
    assert "not answered yet" in read_export(executed.export_dir, "blank")["error"]
    assert read_export(executed.export_dir, "weird") == {
        "ok": False, "error": "cannot export a value of type object"}
