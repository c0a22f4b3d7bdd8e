"""Run assembled steps in a Jupyter kernel (the only module that drives nbclient).

Student errors, timeouts and kernel deaths are recorded per step as data; only a kernel that
cannot be started at all raises (ExecutionError). After each answer cell an export step turns
the answer into plain data in ``export_dir`` (see exporter.py); nothing is judged here.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

from .assemble import Step
from .errors import ExecutionError
from .results import StudentError

Status = Literal["ok", "error", "timeout", "died", "skipped"]
MAX_TRACEBACK_CHARS = 20_000
RECOVER_SECONDS = 10.0


@dataclass(frozen=True)
class ExecOptions:
    """How to run a submission."""

    cell_timeout: float = 120.0
    timeout: float = 900.0
    startup_timeout: float = 60.0
    threads: int = 0  # intra-op threads for torch/BLAS in the kernel; 0 = library default


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


class _Specs(KernelSpecManager):
    """A kernel spec for this very interpreter, so ``grader.exporter`` is importable."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        argv = [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--HistoryManager.enabled=False",
            "--quiet",
        ]
        return KernelSpec(argv=argv, display_name="grade", language="python")


class _KernelManager(AsyncKernelManager):
    """nbclient's async kernel manager, with our kernel spec."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(kernel_spec_manager=_Specs(), **kwargs)


def execute(steps: Sequence[Step], options: ExecOptions, workdir: Path) -> Executed:
    """Run the steps in a fresh kernel whose working directory is ``workdir``."""
    export_dir = workdir / ".grader-export"
    export_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    run = _Run(options, workdir)
    try:
        outcomes = run.all(steps, export_dir, started)
    finally:
        run.shutdown()
    return Executed(tuple(outcomes), export_dir, time.monotonic() - started)


def export_source(export_dir: Path, step: Step) -> str:
    """The code of an export step: a call into grader.exporter with literal arguments."""
    return (
        "import grader.exporter as _grader_exporter\n"
        f"_grader_exporter.export({str(export_dir)!r}, {step.exercise!r}, "
        f"{json.dumps(step.spec)}, globals())\n"
        "del _grader_exporter"
    )


class _Run:
    """One kernel, driven cell by cell, restarted after a death or a stuck timeout."""

    def __init__(self, options: ExecOptions, workdir: Path) -> None:
        self.options = options
        self.workdir = workdir
        self.client = NotebookClient(
            new_notebook(),
            kernel_manager_class=_KernelManager,
            kernel_name="grade",
            timeout=int(options.cell_timeout) or None,
            allow_errors=True,
            interrupt_on_timeout=False,
            startup_timeout=int(options.startup_timeout),
            resources={"metadata": {}},
            shutdown_kernel="immediate",
        )
        self._start()

    def _start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_"))}
        env["PYTHONUNBUFFERED"] = "1"
        env["MPLBACKEND"] = "Agg"
        if self.options.threads:
            for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                env[var] = str(self.options.threads)
        try:
            self.client.create_kernel_manager()
            self.client.start_new_kernel(cwd=str(self.workdir), env=env)
            self.client.start_new_kernel_client()
        except Exception as e:
            raise ExecutionError(f"the grading kernel could not start: {e}") from None

    def shutdown(self) -> None:
        if self.client.km is not None:
            self.client._cleanup_kernel()  # stops channels, kills the kernel, removes its files

    def restart(self, setups: list[Step]) -> None:
        """Fresh kernel, then the trusted setup cells run so far (answers are not replayed)."""
        self.shutdown()
        self._start()
        for step in setups:
            self.cell(step.source, timeout=self.options.cell_timeout)

    def recover(self) -> bool:
        """After a timeout: interrupt the cell; True when the kernel answers again (state kept)."""
        assert self.client.km is not None
        try:
            # nbclient types km as the sync manager; ours is the async one.
            run_sync(self.client.km.interrupt_kernel)()  # type: ignore[arg-type]
        except Exception:
            return False
        return self.cell("pass", RECOVER_SECONDS).status == "ok"

    def all(self, steps: Sequence[Step], export_dir: Path, started: float) -> list[StepOutcome]:
        outcomes: list[StepOutcome] = []
        setups: list[Step] = []
        for step in steps:
            remaining = self.options.timeout - (time.monotonic() - started)
            if step.role == "export" and outcomes and outcomes[-1].status != "ok":
                outcomes.append(StepOutcome("skipped"))
                continue
            if remaining <= 0:
                msg = f"the notebook ran past its {self.options.timeout:g} s limit"
                outcomes.append(StepOutcome("skipped", StudentError("Timeout", msg)))
                continue
            source = export_source(export_dir, step) if step.role == "export" else step.source
            outcome = self.cell(source, min(self.options.cell_timeout, remaining))
            if step.role == "setup":
                setups.append(step)
            if outcome.status == "died" or (outcome.status == "timeout" and not self.recover()):
                self.restart(setups)
            outcomes.append(outcome)
        return outcomes

    def cell(self, source: str, timeout: float) -> StepOutcome:
        cell = new_code_cell(source)
        self.client.nb.cells = [cell]  # one cell at a time: outputs are not kept around
        self.client.timeout = max(1, int(timeout))
        try:
            self.client.execute_cell(cell, 0, store_history=False)
        except CellTimeoutError:
            return StepOutcome(
                "timeout", StudentError("Timeout", f"the cell ran past {timeout:g} s")
            )
        except DeadKernelError:
            msg = "the kernel died (out of memory, a crash, or the process exited)"
            return StepOutcome("died", StudentError("KernelDied", msg))
        return _outcome(cell)


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


def read_export(export_dir: Path, exercise_id: str) -> dict[str, Any] | None:
    """The exported payload of one exercise (plain data), or None when there is none."""
    path = export_dir / f"{exercise_id}.json"
    try:
        if path.stat().st_size > 64 * 2**20:
            return {"ok": False, "error": "the exported answer is larger than 64 MiB"}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
