"""grader.execute.steps, the policy apart from the kernel: deadlines, skips, the output budget,
restart and replay, exports collected by nonce. No kernel: the cells run in this process, in
a kernel stand-in whose namespace a restart throws away (test_execute runs real kernels)."""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

from grader.assemble import Step
from grader.execute import StepRunner
from grader.execute.records import StepOutcome
from grader.results import StudentError
from grader.spec import Answer, Limits


class Spins(BaseException):
    """Raised by a cell's ``spin()``: the stand-in's way of running past its time."""


class Dies(BaseException):
    """Raised by a cell's ``die()``: the kernel process is gone."""


class InProcessKernel:
    """What StepRunner uses of grader.execute.kernel.Kernel (limits, workdir.exports,
    run_cell, restart, oom_killed), running each cell with ``exec`` in a namespace of its own.

    A cell calls ``spin()`` to run past its time, ``die()`` to end the process; what it
    prints is its output. ``lives`` holds the sources each process ran, one list a process.
    """

    def __init__(self, root: Path, **limits: float) -> None:
        self.limits = Limits(**limits)
        self.exports = root / "exports"
        self.exports.mkdir(parents=True)
        self.workdir = self  # the runner reads kernel.workdir.exports
        self.lives: list[list[str]] = [[]]
        self.timeouts: list[float] = []
        self.oom = False
        self._fresh()

    def _fresh(self) -> None:
        def spin():
            raise Spins

        def die():
            raise Dies

        self.namespace = {"spin": spin, "die": die}

    def run_cell(self, source, timeout, cell_cap, total_cap):
        self.lives[-1].append(source)
        self.timeouts.append(timeout)
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                exec(source, self.namespace)
            outcome = StepOutcome("ok")
        except Spins:
            outcome = StepOutcome("timeout", StudentError("Timeout", f"ran past {timeout:g} s"))
        except Dies:
            outcome = StepOutcome("died")
        except Exception as e:
            outcome = StepOutcome("error", StudentError(type(e).__name__, str(e)))
        used = len(printed.getvalue())
        if used > cell_cap:  # past a cap the output is dropped: it is not counted
            return StepOutcome("output"), 0, "cell"
        if used > total_cap:
            return StepOutcome("output"), 0, "total"
        return outcome, used, ""

    def restart(self):
        self.lives.append([])
        self._fresh()

    def oom_killed(self):
        return self.oom


def answer(eid, source, name="v"):
    """An answer step and its export step, as assemble makes them."""
    spec = Answer.of("number", name).export_spec()
    return [Step("answer", eid, source), Step("export", eid, spec=spec)]


def run(kernel, steps, started=None):
    runner = StepRunner(kernel, started)
    runner.run(steps)
    answers = [s.exercise for s in steps if s.role == "answer"]
    outcomes = dict(zip(answers, runner.outcomes[steps[0].role == "setup" :: 2], strict=True))
    return runner, outcomes


def test_an_answer_is_exported_only_after_it_succeeds(tmp_path):
    kernel = InProcessKernel(tmp_path)
    steps = [*answer("ok", "v = 41 + 1"), *answer("raises", "v = 1 / 0")]
    runner = StepRunner(kernel)
    runner.run(steps)
    assert [o.status for o in runner.outcomes] == ["ok", "ok", "error", "skipped"]
    assert runner.outcomes[2].error.ename == "ZeroDivisionError"
    assert runner.exports == {"ok": runner.exports["ok"]}
    assert runner.exports["ok"].payload == {"ok": True, "value": 42}
    assert list(kernel.exports.iterdir()) == []  # collected, then out of the kernel's reach


def test_export_files_planted_before_the_export_step_do_not_count(tmp_path):
    kernel = InProcessKernel(tmp_path)
    plant = (
        f"open({str(kernel.exports / 'e.json')!r}, 'w').write('{{\"ok\": true, \"value\": 99}}')\n"
        f"open({str(kernel.exports / 'e.pt')!r}, 'wb').write(b'planted weights')\n"
        "v = 1"
    )
    runner = StepRunner(kernel)
    runner.run(answer("e", plant))
    assert runner.exports["e"].payload == {"ok": True, "value": 1}
    assert runner.exports["e"].weights is None  # a number exports no weights


def test_after_a_timeout_the_setup_and_the_answers_that_succeeded_are_replayed(tmp_path):
    kernel = InProcessKernel(tmp_path, cell_timeout=5)
    steps = [
        Step("setup", "t", "base = 40"),
        *answer("ok", "kept = v = base + 1"),
        *answer("raises", "lost = 1\nv = 1 / 0"),
        *answer("spins", "spin()"),
        *answer("after", "v = kept + 1"),
        *answer("lost", "v = lost"),
    ]
    runner, out = run(kernel, steps)
    assert {e: o.status for e, o in out.items()} == {
        "ok": "ok",
        "raises": "error",
        "spins": "timeout",
        "after": "ok",
        "lost": "error",
    }
    assert out["lost"].error.summary == "NameError: name 'lost' is not defined"
    # the new process ran the setup and the answer that succeeded, nothing else, then went on
    assert len(kernel.lives) == 2
    assert [src for src in kernel.lives[1] if "_grader_exporter" not in src] == [
        "base = 40",
        "kept = v = base + 1",
        "v = kept + 1",
        "v = lost",
    ]
    assert runner.exports["after"].payload == {"ok": True, "value": 42}
    # outcomes already counted are not counted again: one outcome a step
    assert len(runner.outcomes) == len(steps)


def test_a_dead_kernel_is_restarted_and_says_why_it_died(tmp_path):
    kernel = InProcessKernel(tmp_path)
    _, out = run(kernel, [*answer("exits", "die()"), *answer("next", "v = 2")])
    assert (out["exits"].status, out["next"].status) == ("died", "ok")
    assert out["exits"].error == StudentError(
        "KernelDied", "the kernel died (a crash, running out of memory, or the process exited)"
    )
    assert len(kernel.lives) == 2
    kernel = InProcessKernel(tmp_path / "oom", memory=512)
    kernel.oom = True
    _, out = run(kernel, answer("exits", "die()"))
    assert out["exits"].error.evalue == (
        "the kernel ran out of memory (limit 512 MiB) and was stopped"
    )


def test_each_cell_gets_what_is_left_of_the_time_limits(tmp_path):
    kernel = InProcessKernel(tmp_path, cell_timeout=30, timeout=100)
    run(kernel, [Step("setup", "t", "x = 1")])
    assert kernel.timeouts == [30]
    kernel = InProcessKernel(tmp_path / "late", cell_timeout=30, timeout=100)
    run(kernel, [Step("setup", "t", "x = 1")], started=time.monotonic() - 90)
    assert 0 < kernel.timeouts[0] <= 10  # the notebook has less than 10 s left


def test_past_the_notebook_limit_the_remaining_steps_are_skipped(tmp_path):
    kernel = InProcessKernel(tmp_path, timeout=60)
    runner, out = run(kernel, [*answer("late", "v = 1")], started=time.monotonic() - 61)
    assert out["late"] == StepOutcome(
        "skipped", StudentError("Timeout", "the notebook ran past its 60 s limit")
    )
    assert kernel.lives == [[]]  # nothing ran
    runner.restart_clock(time.monotonic())  # e.g. after the setup of a warm kernel
    runner.run(answer("now", "v = 2"))
    assert runner.outcomes[-2].status == "ok"


def test_a_cell_over_its_output_cap_is_stopped_and_the_kernel_restarted(tmp_path):
    kernel = InProcessKernel(tmp_path, output=1)  # KiB a cell may print
    steps = [
        Step("setup", "t", "base = 1"),
        *answer("loud", "print('x' * 2000)\nv = 1"),
        *answer("next", "v = base + 1"),
    ]
    runner, out = run(kernel, steps)
    assert out["loud"] == StepOutcome(
        "output", StudentError("OutputLimit", "the cell printed more than 1 KiB")
    )
    assert len(kernel.lives) == 2 and kernel.lives[1][0] == "base = 1"
    assert runner.exports["next"].payload == {"ok": True, "value": 2}


def test_past_the_submissions_output_budget_the_rest_is_skipped(tmp_path):
    kernel = InProcessKernel(tmp_path, output=2, total_output=3)  # KiB
    steps = [
        *answer("a", "print('x' * 1500)\nv = 1"),
        *answer("b", "print('x' * 1500)\nv = 2"),  # 3,000 bytes printed: within 3 KiB
        *answer("c", "print('x' * 1500)\nv = 3"),  # past the budget
        *answer("d", "v = 4"),
    ]
    _, out = run(kernel, steps)
    total = StudentError("OutputLimit", "the notebook printed more than 3 KiB in all")
    assert [out[e].status for e in "abc"] == ["ok", "ok", "output"]
    assert out["c"].error == total
    assert out["d"] == StepOutcome("skipped", total)
