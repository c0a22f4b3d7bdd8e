"""One sandboxed ipykernel process, and the grader's connection to it.

A ``Kernel`` knows nothing of submissions: it starts in its own work dir, sandbox and cgroup,
runs a cell, is interrupted, restarted and stopped. So it can be started, and the course's
trusted setup run in it, before the submission it will serve is known (a pool does that).
One kernel serves one submission; a restart gives a fresh process in the same work dir.

``launch`` only spawns the process (stdlib, a few milliseconds), so the grader can do its own
imports and reading while the kernel boots; ``connect`` waits until it answers. Once
connected, a kernel is driven from one thread (nbclient's event loop lives there); ``kill``
may come from any thread.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from ..errors import ExecutionError
from ..limits import Limits
from .capture import OutputLog
from .cgroup import Cgroup
from .environment import kernel_environment
from .options import ExecOptions
from .records import StepOutcome
from .sandbox import bwrap_argv
from .workdir import WorkDir

KERNEL_FLAGS = ("--HistoryManager.enabled=False", "--quiet")


def max_message_bytes(limits: Limits) -> int:
    """The largest message the grader accepts from a kernel: one cell's output cap, twice
    (JSON escaping), plus room for the message's own header."""
    return 2 * limits.output * 1024 + 2**20


SOCKETS = ("shell", "iopub", "stdin", "control", "hb")


class Kernel:
    """A sandboxed kernel in ``root`` (a fresh, grader-owned folder)."""

    def __init__(
        self, options: ExecOptions, root: Path, sandboxed: bool, warnings: tuple[str, ...] = ()
    ) -> None:
        self.options = options
        self.limits = options.limits
        self.sandboxed = sandboxed
        self.warnings = warnings  # e.g. that there is no sandbox
        self.workdir = WorkDir.create(root, self.limits.disk)
        self.log = OutputLog()
        self.cgroup: Cgroup | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.connection: dict[str, Any] = {}
        self.client: Any = None  # jupyter_client's AsyncKernelClient, once connected
        self.runner: Any = None  # cells.CellRunner, once connected
        self.starts = 0
        self.closed = False
        self.refused = ""  # the channel that refused an oversized message, until reported
        self._lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------------

    def launch(self) -> None:
        """Spawn the kernel process (does not wait for it to answer)."""
        with self._lock:
            if self.closed:
                raise ExecutionError("the kernel was stopped")
            self.cgroup = Cgroup.create(self.limits.memory, self.limits.processes)
            self.connection = self._connection_file()
            argv = self._argv(self.workdir.path / f"{self.connection['name']}.json")
            try:
                self.process = subprocess.Popen(
                    argv,
                    cwd=self.workdir.path,
                    env=kernel_environment(self.options, self.workdir.path),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as e:
                raise ExecutionError(f"the grading kernel could not start: {e}") from None
            self.starts += 1
            assert self.process.stdout is not None
            self.log.drain(self.process.stdout, "kernel restarted" if self.starts > 1 else "")

    def connect(self) -> None:
        """Wait until the launched kernel answers (raises ExecutionError if it never does)."""
        from jupyter_core.utils import run_sync

        from .cells import CellRunner
        from .connection import KernelClient

        info = {k: v for k, v in self.connection.items() if k != "name"}
        client = KernelClient()
        client.load_connection_info(info)  # type: ignore[arg-type]
        client.allow_stdin = False
        client.max_bytes = max_message_bytes(self.limits)
        client.is_running = lambda: self.client is client and self.alive()
        client.on_refused = self._refused
        client.start_channels(stdin=False, hb=False)
        self.client = client
        try:
            run_sync(client.wait_for_ready)(timeout=self.options.startup_timeout)
        except Exception as e:
            detail = self.log.text(wait=0.5).strip().splitlines()[-1:] or [str(e)]
            raise ExecutionError(f"the grading kernel could not start: {detail[0][:300]}") from None
        # Past an output cap the kernel is killed at once: the flood may still be on its way,
        # and the cell is not trusted to end (it is restarted, as after a timeout).
        self.runner = CellRunner(client, self.kill)

    def start(self) -> None:
        """Launch and connect."""
        self.launch()
        self.connect()

    def restart(self) -> None:
        """A fresh kernel process in the same work dir (the old one and its children killed)."""
        self._disconnect()
        self.kill()
        self.start()

    def stop(self) -> None:
        """Kill the kernel and everything it started, close the connection, remove the work
        dir. Idempotent; call it from the thread that drives the kernel."""
        self._disconnect()
        self.close()
        self.workdir.remove()

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kill(self) -> None:
        """Kill the kernel process and every process it started (safe from any thread)."""
        with self._lock:
            process, cgroup = self.process, self.cgroup
            self.process, self.cgroup = None, None
        if process is not None:
            try:
                if hasattr(os, "killpg"):
                    os.killpg(process.pid, signal.SIGKILL)
                else:  # Windows: no process groups of this kind
                    process.kill()
            except OSError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if cgroup is not None:
            cgroup.remove()  # kills whatever the kernel left behind, forks included

    def close(self) -> None:
        """No more starts, and kill now: safe from any thread (whoever drives the kernel then
        sees it dead, and cannot restart it)."""
        with self._lock:
            self.closed = True
        self.kill()

    def _refused(self, channel: str) -> None:
        """A socket refused a message over the size bound (see connection.py), unless the
        kernel is dying on its own: stop the kernel, and say so on the running cell."""
        process = self.process
        if process is None:
            return
        try:
            process.wait(timeout=0.5)
            return  # it died: that is what closed the connection
        except subprocess.TimeoutExpired:
            pass
        self.refused = channel
        self.kill()

    def _disconnect(self) -> None:
        client, self.client, self.runner = self.client, None, None
        if client is not None:
            try:
                client.stop_channels()
            except Exception:
                pass

    # --- driving ----------------------------------------------------------------------------

    def alive(self) -> bool:
        """Whether the kernel process is running."""
        process = self.process
        return process is not None and process.poll() is None

    def run_cell(
        self, source: str, timeout: float, cell_cap: int, total_cap: int
    ) -> tuple[StepOutcome, int, str]:
        """Run one cell: its outcome, the bytes of output it made, and the cap it passed."""
        from .cells import OutputCaps

        if self.runner is None:
            raise ExecutionError("the kernel is not connected")
        outcome, used, over = self.runner.run(source, timeout, OutputCaps(cell_cap, total_cap))
        if self.refused:  # a message too large for any cap: an output flood
            self.refused = ""
            return StepOutcome("output"), used, "cell"
        return outcome, used, over

    def interrupt(self) -> None:
        """SIGINT the kernel itself: through its cgroup, or straight to the process when
        there is no sandbox between us, else by a message on the control channel."""
        if self.cgroup is not None and self.cgroup.signal_kernel(signal.SIGINT):
            return
        process = self.process
        if process is not None and not self.sandboxed and os.name != "nt":
            try:  # (on Windows, os.kill would terminate it)
                os.kill(process.pid, signal.SIGINT)
                return
            except OSError:
                pass
        client = self.client
        if client is not None:
            client.control_channel.send(client.session.msg("interrupt_request", {}))

    def oom_killed(self) -> bool:
        """Whether the memory limit was hit since the kernel was last started."""
        return self.cgroup is not None and self.cgroup.oom_killed()

    # --- launching --------------------------------------------------------------------------

    def _connection_file(self) -> dict[str, Any]:
        """IPC sockets in the work dir (the only place a sandboxed kernel sees), a fresh name
        per start so that no stale socket is reused, and a new signing key. Windows has no
        IPC sockets (nor a sandbox): there the kernel listens on loopback ports."""
        name = f"k{secrets.token_hex(4)}"
        info: dict[str, Any] = {
            "name": name,
            "transport": "ipc",
            "ip": str(self.workdir.path / name),
            "key": secrets.token_hex(32),
            "signature_scheme": "hmac-sha256",
            "kernel_name": "grade",
        }
        info.update({f"{s}_port": i for i, s in enumerate(SOCKETS, start=1)})
        if os.name == "nt" and not self.sandboxed:
            info.update(transport="tcp", ip="127.0.0.1")
            info.update({f"{s}_port": _free_port() for s in SOCKETS})
        path = self.workdir.path / f"{name}.json"
        path.write_text(json.dumps({k: v for k, v in info.items() if k != "name"}))
        return info

    def _argv(self, connection_file: Path) -> list[str]:
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", str(connection_file)]
        if not self.sandboxed and self.cgroup is None and not _have_rlimits():
            # No sandbox, no cgroup, no rlimits on this system (Windows): the kernel only.
            return [*kernel, *KERNEL_FLAGS]
        # The launcher needs the stdlib only: -I -S spares it the site packages' start-up.
        launch = [sys.executable, "-I", "-S", str(Path(__file__).with_name("launch.py"))]
        if self.cgroup is not None:
            for path in self.cgroup.join_files:
                launch += ["--cgroup", path]
        else:  # per-process limits only
            launch += ["--memory", str(self.limits.memory)]
            if getattr(os, "geteuid", lambda: 0)() != 0:
                launch += ["--processes", str(self.limits.processes)]
        launch += ["--file-size", str(self.limits.disk), "--"]
        if self.sandboxed:
            folders = tuple(folder for _, folder in self.options.data)
            launch += bwrap_argv(self.workdir.path, self.workdir.root, self.limits.disk, folders)
        return [*launch, *kernel, *KERNEL_FLAGS]


def _free_port() -> int:
    """A loopback port nothing listens on now (Windows only: elsewhere, IPC sockets)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _have_rlimits() -> bool:
    """Whether this system has per-process limits (``resource``: not on Windows)."""
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True
