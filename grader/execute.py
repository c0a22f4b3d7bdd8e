"""Run assembled steps in a Jupyter kernel (the only module that drives nbclient).

The kernel starts through ``grader.launch`` (cgroup, rlimits) inside the sandbox
(``grader.sandbox``), talks to us over IPC sockets in its work dir, and runs one cell at a
time. Student errors, timeouts, output floods and kernel deaths are recorded per step as
data; only a kernel that cannot be started at all raises (ExecutionError). After each answer
cell an export step turns the answer into plain data (see exporter.py); nothing is judged here.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

from .assemble import Step
from .cgroup import Cgroup
from .errors import ExecutionError
from .results import StudentError
from .sandbox import SandboxMode, bwrap_argv, use_sandbox
from .spec import Limits

Status = Literal["ok", "error", "timeout", "died", "skipped", "output"]
MAX_TRACEBACK_CHARS = 20_000
MAX_EXPORT_BYTES = 64 * 2**20
KERNEL_FLAGS = ("--HistoryManager.enabled=False", "--quiet")


@dataclass(frozen=True)
class ExecOptions:
    """How to run a submission."""

    limits: Limits = field(default_factory=Limits)
    sandbox: SandboxMode = "auto"
    startup_timeout: float = 60.0
    threads: int = 0  # intra-op threads for torch/BLAS in the kernel; 0 = library default
    data_dirs: tuple[Path, ...] = ()  # shown read-only inside the sandbox


@dataclass(frozen=True)
class StepOutcome:
    """What happened when one step ran."""

    status: Status
    error: StudentError | None = None


@dataclass(frozen=True)
class Executed:
    """All step outcomes of one run, and where the answers were exported."""

    outcomes: tuple[StepOutcome, ...]
    export_dir: Path
    duration: float
    warnings: tuple[str, ...] = ()


def execute(steps: Sequence[Step], options: ExecOptions, workdir: Path) -> Executed:
    """Run the steps in a fresh kernel whose work dir is a new folder under ``workdir``."""
    sandboxed, warning = use_sandbox(options.sandbox)
    started = time.monotonic()
    with _work_dir(workdir, options.limits.disk) as work:
        export_dir = work / ".grader-export"
        kept = workdir / "export"  # grader-owned: the kernel cannot see or change it
        kept.mkdir()
        run = _Run(options, work, workdir, sandboxed)
        try:
            outcomes = run.all(steps, export_dir, kept, started)
        finally:
            run.shutdown()
    return Executed(
        tuple(outcomes), kept, time.monotonic() - started, (warning,) if warning else ()
    )


def _clear_export(export_dir: Path, exercise_id: str) -> None:
    """Remove whatever sits where an export is about to be written."""
    for suffix in (".json", ".pt"):
        path = export_dir / f"{exercise_id}{suffix}"
        try:
            if stat.S_ISDIR(os.lstat(path).st_mode):
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
        except OSError:
            pass


def _collect_export(export_dir: Path, kept: Path, exercise_id: str, nonce: str) -> None:
    """Move an export into grader storage right after its own export step, if it is genuine.

    Genuine: plain files (no links), within size, and a payload carrying this step's nonce,
    which only the export cell knows; a file planted earlier or by a stray thread is refused.
    """
    payload: dict[str, Any] = {"ok": False, "error": "the answer could not be exported"}
    found = _parse(_read_plain(export_dir / f"{exercise_id}.json"))
    if found is not None and found.pop("nonce", None) == nonce:
        payload = found
        weights = _read_plain(export_dir / f"{exercise_id}.pt")
        if weights is not None:
            (kept / f"{exercise_id}.pt").write_bytes(weights)
    elif found is not None:
        payload["error"] = "the exported answer was altered after export; it was not graded"
    (kept / f"{exercise_id}.json").write_text(json.dumps(payload), encoding="utf-8")


def _read_plain(path: Path) -> bytes | None:
    """The bytes of a regular file (never through a link, never past the size cap)."""
    if not _regular_file(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_EXPORT_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_EXPORT_BYTES else None


def export_source(export_dir: Path, step: Step, nonce: str = "") -> str:
    """The code of an export step: a call into grader.exporter with literal arguments."""
    return (
        "import grader.exporter as _grader_exporter\n"
        f"_grader_exporter.export({str(export_dir)!r}, {step.exercise!r}, "
        f"{json.dumps(step.spec)}, globals(), {nonce!r})\n"
        "del _grader_exporter"
    )


def read_export(export_dir: Path, exercise_id: str) -> dict[str, Any] | None:
    """The exported payload of one exercise (plain data), or None when there is none."""
    path = export_dir / f"{exercise_id}.json"
    if not _regular_file(path):
        return None
    if path.stat().st_size > MAX_EXPORT_BYTES:
        return {
            "ok": False,
            "error": f"the exported answer is larger than {MAX_EXPORT_BYTES // 2**20} MiB",
        }
    return _parse(_read_plain(path))


def _parse(data: bytes | None) -> dict[str, Any] | None:
    """A JSON object from exported bytes, or None (missing, not JSON, nested too deeply)."""
    if data is None:
        return None
    try:
        found = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return found if isinstance(found, dict) else None


def _regular_file(path: Path) -> bool:
    """A plain file, not a symlink, fifo or device (the kernel may have planted those)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


@contextmanager
def _work_dir(parent: Path, disk_mib: int) -> Iterator[Path]:
    """The kernel's work dir: a size-limited tmpfs when we may mount one, else a folder."""
    work = parent / "work"
    work.mkdir()
    mounts = [work] if _mount_tmpfs(work, disk_mib) else []
    exports = work / ".grader-export"
    exports.mkdir()
    # Exports get a tmpfs of their own: a work dir filled to its limit does not stop them.
    if mounts and _mount_tmpfs(exports, 2 * MAX_EXPORT_BYTES // 2**20):
        mounts.append(exports)
    try:
        yield work
    finally:
        for path in reversed(mounts):
            subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def _mount_tmpfs(path: Path, size_mib: int) -> bool:
    """Mount a size-limited tmpfs on ``path`` (root only); False when that is not possible."""
    if os.geteuid() != 0:
        return False
    command = ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700", "tmpfs", str(path)]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


class _Specs(KernelSpecManager):
    """The kernel spec: this interpreter (so grader.exporter imports), wrapped by the launcher."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.argv: list[str] = []

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        # Interrupts go as a message: a signal would reach bubblewrap, not the kernel.
        return KernelSpec(argv=self.argv, display_name="grade", language="python")


class _KernelManager(AsyncKernelManager):
    """nbclient's async kernel manager, with our kernel spec and IPC sockets."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(kernel_spec_manager=_Specs(), **kwargs)


class _Client(NotebookClient):
    """nbclient with output caps: past a cap, output is dropped and the cell interrupted."""

    cell_cap = 0
    total_cap = 0
    total = 0
    cell_bytes = 0
    over: str = ""
    interrupting: asyncio.Future[Any] | None = None
    cgroup: Cgroup | None = None

    def interrupt(self) -> None:
        """SIGINT the kernel itself: through its cgroup when there is one (bubblewrap stands
        between us and the kernel, so a signal to our child would miss it), else by message."""
        if self.cgroup is not None and self.cgroup.signal_kernel(signal.SIGINT):
            return
        assert self.km is not None
        # our manager is the async one, whatever nbclient's annotation says
        interrupt: Any = self.km.interrupt_kernel()
        self.interrupting = asyncio.ensure_future(interrupt)

    def output(
        self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
        if msg["msg_type"] == "error":
            return super().output(outs, msg, display_id, cell_index)
        size = len(json.dumps(msg.get("content", {})))
        over_cell = self.cell_bytes + size > self.cell_cap
        if over_cell or self.total + size > self.total_cap:
            # Dropped output does not count: one loud cell does not silence the others.
            if not self.over:
                self.over = "cell" if over_cell else "total"
                self.interrupt()
            return None
        self.cell_bytes += size
        self.total += size
        return super().output(outs, msg, display_id, cell_index)


class _Run:
    """One kernel, driven cell by cell, restarted after a death or a stuck timeout."""

    def __init__(self, options: ExecOptions, work: Path, private: Path, sandboxed: bool) -> None:
        self.options = options
        self.limits = options.limits
        self.work = work
        self.private = private
        self.sandboxed = sandboxed
        self.total_exceeded = False
        self.client = _Client(
            new_notebook(),
            kernel_manager_class=_KernelManager,
            kernel_name="grade",
            timeout=int(self.limits.cell_timeout) or None,
            allow_errors=True,
            interrupt_on_timeout=False,
            startup_timeout=int(options.startup_timeout),
            resources={"metadata": {}},
            shutdown_kernel="immediate",
        )
        self.client.cell_cap = self.limits.output * 1024
        self.client.total_cap = self.limits.total_output * 1024
        self._start()

    def _argv(self) -> list[str]:
        launch = [sys.executable, "-m", "grader.launch"]
        # Kept on the client, which also needs it to interrupt the kernel.
        cgroup = self.client.cgroup = Cgroup.create(self.limits.memory, self.limits.processes)
        if cgroup is not None:
            for path in cgroup.join_files:
                launch += ["--cgroup", path]
        else:  # per-process limits only
            launch += ["--memory", str(self.limits.memory)]
            if os.geteuid() != 0:
                launch += ["--processes", str(self.limits.processes)]
        launch += ["--file-size", str(self.limits.disk), "--"]
        if self.sandboxed:
            launch += bwrap_argv(self.work, self.private, self.limits.disk, self.options.data_dirs)
        return [
            *launch,
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            *KERNEL_FLAGS,
        ]

    def _start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_"))}
        env.update(PYTHONUNBUFFERED="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
        if self.options.threads:
            for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                env[var] = str(self.options.threads)
        try:
            km = self.client.create_kernel_manager()
            km.kernel_spec_manager.argv = self._argv()
            km.transport = "ipc"
            # Sockets and the connection file live in the work dir: the only place the
            # sandboxed kernel can see. A fresh prefix per start avoids stale sockets.
            prefix = tempfile.mktemp(prefix="k", dir=self.work)
            km.ip = prefix
            km.connection_file = prefix + ".json"
            self.client.start_new_kernel(cwd=str(self.work), env=env)
            self.client.start_new_kernel_client()
        except Exception as e:
            self.shutdown()
            raise ExecutionError(f"the grading kernel could not start: {e}") from None

    def shutdown(self) -> None:
        try:
            if self.client.km is not None:
                self.client._cleanup_kernel()  # stops channels, kills the kernel, removes files
        finally:
            if self.client.cgroup is not None:
                self.client.cgroup.remove()  # kills whatever the kernel left behind
                self.client.cgroup = None

    def restart(self, replay: list[Step], deadline: float) -> None:
        """A fresh kernel, brought back to where the notebook was: the setup cells and the
        answer cells that succeeded are run again (their outcomes already counted)."""
        self.shutdown()
        self._start()
        for step in replay:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.cell(step.source, min(self.limits.cell_timeout, remaining))

    def all(
        self, steps: Sequence[Step], export_dir: Path, kept: Path, started: float
    ) -> list[StepOutcome]:
        outcomes: list[StepOutcome] = []
        replay: list[Step] = []
        deadline = started + self.limits.timeout
        for step in steps:
            remaining = self.limits.timeout - (time.monotonic() - started)
            if step.role == "export" and outcomes and outcomes[-1].status != "ok":
                outcomes.append(StepOutcome("skipped"))
                continue
            if remaining <= 0:
                msg = f"the notebook ran past its {self.limits.timeout:g} s limit"
                outcomes.append(StepOutcome("skipped", StudentError("Timeout", msg)))
                continue
            if self.total_exceeded:
                msg = f"the notebook printed more than {self.limits.total_output} KiB in all"
                outcomes.append(StepOutcome("skipped", StudentError("OutputLimit", msg)))
                continue
            nonce = secrets.token_hex(16)
            if step.role == "export":
                _clear_export(export_dir, step.exercise)  # nothing planted earlier counts
                source = export_source(export_dir, step, nonce)
            else:
                source = step.source
            outcome = self.cell(source, min(self.limits.cell_timeout, remaining))
            if step.role == "export" and outcome.status == "ok":
                _collect_export(export_dir, kept, step.exercise, nonce)
            if step.role != "export" and outcome.status == "ok":
                replay.append(step)
            self.total_exceeded |= self.client.over == "total"
            if outcome.status in ("died", "timeout", "output"):
                # An interrupted kernel is not trusted to be in a sane state: start afresh.
                self.restart(replay, deadline)
            outcomes.append(outcome)
        return outcomes

    def cell(self, source: str, timeout: float) -> StepOutcome:
        cell = new_code_cell(source)
        self.client.nb.cells = [cell]  # one cell at a time: outputs are not kept around
        self.client.timeout = max(1, int(timeout))
        self.client.cell_bytes, self.client.over = 0, ""
        try:
            self.client.execute_cell(cell, 0, store_history=False)
        except CellTimeoutError:
            if self.client.over:
                return self._output_limit()
            return StepOutcome(
                "timeout", StudentError("Timeout", f"the cell ran past {timeout:g} s")
            )
        except DeadKernelError:
            return StepOutcome("died", StudentError("KernelDied", self._death()))
        except Exception as e:  # a corrupt or forged message: the kernel can't be trusted on
            msg = f"the kernel sent a message the grader cannot use ({type(e).__name__})"
            return StepOutcome("died", StudentError("KernelBroken", msg))
        if self.client.over:
            return self._output_limit()
        return _outcome(cell)

    def _output_limit(self) -> StepOutcome:
        if self.client.over == "cell":
            msg = f"the cell printed more than {self.limits.output} KiB"
        else:
            msg = f"the notebook printed more than {self.limits.total_output} KiB in all"
        return StepOutcome("output", StudentError("OutputLimit", msg))

    def _death(self) -> str:
        if self.client.cgroup is not None and self.client.cgroup.oom_killed():
            return f"the kernel ran out of memory (limit {self.limits.memory} MiB) and was stopped"
        return "the kernel died (a crash, running out of memory, or the process exited)"


def _outcome(cell: NotebookNode) -> StepOutcome:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            tb = "\n".join(str(line) for line in out.get("traceback", []))
            return StepOutcome(
                "error",
                StudentError(
                    ename=str(out.get("ename", "Error"))[:200],
                    evalue=str(out.get("evalue", ""))[:2000],
                    traceback=tb[-MAX_TRACEBACK_CHARS:],
                ),
            )
    return StepOutcome("ok")
