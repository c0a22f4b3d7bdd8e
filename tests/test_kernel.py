"""The sandboxed kernel object: its environment, its captured output, its lifecycle."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time

import pytest

from grader.execute import ExecOptions, start_kernel
from grader.execute.environment import kernel_environment
from grader.execute.sandbox import GRADER_PACKAGE

SECRET = "s3cr3t-token-6b1f0c"
SANDBOX = "require" if shutil.which("bwrap") else "off"


@pytest.fixture
def kernel(tmp_path):
    """A connected sandboxed kernel, stopped after the test."""
    kernel = start_kernel(ExecOptions(sandbox=SANDBOX), tmp_path)
    try:
        kernel.connect()
        yield kernel
    finally:
        kernel.stop()


def cell(kernel, source, timeout=30):
    outcome, _, _ = kernel.run_cell(source, timeout, 2**20, 2**20)
    return outcome


def test_environment_is_an_allow_list(tmp_path):
    grader_env = {
        "GITHUB_TOKEN": SECRET,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "PATH": "/secret/bin",
        "CUDA_VISIBLE_DEVICES": "1",
        "JUPYTER_TOKEN": SECRET,
        "LD_PRELOAD": "/x.so",
    }
    options = ExecOptions(threads=2, data=(("GRADE_CIFAR10_DIR", tmp_path / "cifar"),))
    env = kernel_environment(options, tmp_path / "work", grader_env)
    assert SECRET not in json.dumps(env)
    assert "/secret/bin" not in env["PATH"] and "LD_PRELOAD" not in env
    assert env["HOME"] == str(tmp_path / "work")
    assert env["CUDA_VISIBLE_DEVICES"] == "1"  # chooses hardware, holds no secret
    assert env["OMP_NUM_THREADS"] == "2"
    assert env["GRADE_CIFAR10_DIR"] == str(tmp_path / "cifar")
    assert env["PYTHONPATH"].split(":") == [
        str(GRADER_PACKAGE / "inkernel" / "disabled"),
        str(GRADER_PACKAGE.parent),
    ]


@pytest.mark.kernel
def test_the_kernel_sees_none_of_the_graders_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADE_TEST_SECRET", SECRET)  # before the kernel starts
    kernel = start_kernel(ExecOptions(sandbox=SANDBOX), tmp_path)
    try:
        kernel.connect()
        outcome = cell(kernel, "import os\nraise ValueError(repr(dict(os.environ)))")
        seen = outcome.error.evalue
        assert "GRADE_TEST_SECRET" not in seen and SECRET not in seen
        assert "'LANG': 'C.UTF-8'" in seen
        # /proc of the parent is no way round either: the kernel has its own PID namespace
        probe = cell(
            kernel,
            "import glob\nprint(glob.glob('/proc/*/environ'))\n"
            "raise ValueError(open('/proc/1/environ').read())",
        )
        assert SECRET not in probe.error.evalue
    finally:
        kernel.stop()


@pytest.mark.kernel
def test_what_the_kernel_writes_to_fds_1_and_2_is_captured_and_sanitized(kernel, capfd):
    source = (
        "import os, sys\n"
        "os.write(1, b'\\x1b[2J\\x1b]0;owned\\x07::error file=x::fd-one\\n')\n"
        "os.write(2, b'##vso[task.setvariable variable=x]fd-two\\n')\n"
        "sys.__stdout__.write('::add-mask::dunder-out\\n'); sys.__stdout__.flush()\n"
    )
    assert cell(kernel, source).status == "ok"
    kernel.stop()
    out, err = capfd.readouterr()
    assert "fd-one" not in out + err and "fd-two" not in out + err
    assert "dunder-out" not in out + err
    log = kernel.log.text(wait=1)
    assert "fd-one" in log and "fd-two" in log and "dunder-out" in log
    assert "\x1b" not in log and "\x07" not in log
    assert not any(line.lstrip().startswith("::") for line in log.splitlines())
    assert "##vso[" not in log


@pytest.mark.kernel
def test_the_captured_output_is_capped(kernel):
    flood = "import os\nfor _ in range(4):\n    os.write(2, b'y' * 65536)"
    assert cell(kernel, flood).status == "ok"
    kernel.stop()
    log = kernel.log.text(wait=1)
    assert len(log) < 70_000 and log.endswith("more bytes not kept]")


@pytest.mark.kernel
def test_interrupt_restart_and_stop(kernel):
    assert cell(kernel, "x = 41").status == "ok"
    threading.Timer(1.0, kernel.interrupt).start()
    started = time.monotonic()
    outcome = cell(kernel, "import time\nwhile True:\n    time.sleep(0.05)")
    assert outcome.status == "error" and outcome.error.ename == "KeyboardInterrupt"
    assert time.monotonic() - started < 10
    assert cell(kernel, "x += 1\nassert x == 42").status == "ok"  # state survives
    first = kernel.process.pid
    kernel.restart()
    assert kernel.process.pid != first
    assert cell(kernel, "x").error.ename == "NameError"  # a fresh process
    assert kernel.workdir.path.is_dir()
    kernel.stop()
    assert not kernel.alive() and not kernel.workdir.path.exists()
    with pytest.raises(Exception, match="stopped"):
        kernel.launch()


@pytest.mark.kernel
def test_close_from_another_thread_ends_a_running_cell(kernel):
    threading.Timer(1.0, kernel.close).start()
    started = time.monotonic()
    assert cell(kernel, "while True:\n    pass", timeout=60).status == "died"
    assert time.monotonic() - started < 10
    assert not kernel.alive()


# Run in a fresh process: the peak memory (ru_maxrss) of this one is whatever earlier tests
# reached, and growth past it would go unseen.
ENORMOUS_MESSAGE = """
import json, resource, sys
from pathlib import Path
from grader.execute import ExecOptions, start_kernel

kernel = start_kernel(ExecOptions(sandbox=sys.argv[1]), Path(sys.argv[2]))
try:
    kernel.connect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    outcome, _, over = kernel.run_cell("print('x' * 400_000_000)", 60, 2**20, 2**23)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    kernel.restart()  # a fresh process serves the next cell, as after any flood
    after, _, _ = kernel.run_cell("x = 1", 30, 2**20, 2**20)
finally:
    kernel.stop()
print(json.dumps([outcome.status, over, grown, after.status]))
"""


@pytest.mark.kernel
def test_one_enormous_message_is_refused_before_it_costs_the_grader_memory(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", ENORMOUS_MESSAGE, SANDBOX, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    status, over, grown, after = json.loads(done.stdout.splitlines()[-1])
    assert (status, over, after) == ("output", "cell", "ok")
    assert grown < 100_000, f"the grader grew by {grown} KiB"
