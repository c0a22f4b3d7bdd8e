"""Run one cell in a connected kernel, within a time limit and output caps (nbclient).

The only module that imports nbclient. A student's error, a timeout, an output flood and a
dead kernel all come back as a ``StepOutcome``; nothing here raises for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

from ..results import StudentError
from .records import MAX_ENAME_CHARS, MAX_EVALUE_CHARS, MAX_TRACEBACK_CHARS, StepOutcome


@dataclass(frozen=True)
class OutputCaps:
    """Bytes of output one cell may produce, and what is left of the submission's budget."""

    cell: int
    total: int


class _Client(NotebookClient):
    """nbclient with output caps: past a cap, output is dropped and ``on_over`` is called
    (the kernel is then stopped: a flood may still be on its way)."""

    caps = OutputCaps(0, 0)
    used = 0  # bytes of output this cell
    over: str = ""  # "cell" or "total" once a cap is passed
    on_over: Callable[[], None] = staticmethod(lambda: None)

    def output(
        self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
        if msg["msg_type"] == "error":
            return super().output(outs, msg, display_id, cell_index)
        size = _size(msg.get("content", {}))
        over_cell = self.used + size > self.caps.cell
        if over_cell or self.used + size > self.caps.total:
            # Dropped output does not count: one loud cell does not silence the others.
            if not self.over:
                self.over = "cell" if over_cell else "total"
                self.on_over()
            return None
        self.used += size
        return super().output(outs, msg, display_id, cell_index)


class CellRunner:
    """Executes cells, one at a time, through a kernel client (outputs are not kept)."""

    def __init__(self, kernel_client: Any, on_over: Callable[[], None]) -> None:
        self.client = _Client(new_notebook(), allow_errors=True, interrupt_on_timeout=False)
        self.client.kc = kernel_client
        self.client.on_over = on_over

    def run(self, source: str, timeout: float, caps: OutputCaps) -> tuple[StepOutcome, int, str]:
        """Run ``source``; returns its outcome, the bytes of output it made, and which cap
        ("cell" or "total", else "") it passed."""
        cell = new_code_cell(source)
        client = self.client
        client.nb.cells = [cell]
        # the exact time left (nbclient's own `timeout` is whole seconds: 1.8 s left became 1)
        limit = max(timeout, 0.01)
        client.timeout_func = cast(Callable[..., "int | None"], lambda _: limit)  # a float works
        client.caps, client.used, client.over = caps, 0, ""
        outcome: StepOutcome | None = None
        try:
            client.execute_cell(cell, 0, store_history=False)
        except CellTimeoutError:
            error = StudentError("Timeout", f"the cell ran past {timeout:g} s")
            outcome = StepOutcome("timeout", error)
        except DeadKernelError:
            outcome = StepOutcome("died")
        except Exception as e:  # a corrupt or forged message: the kernel can't be trusted on
            msg = f"the kernel sent a message the grader cannot use ({type(e).__name__})"
            outcome = StepOutcome("died", StudentError("KernelBroken", msg))
        if client.over:  # whatever happened next, the flood is what ended the cell
            return StepOutcome("output"), client.used, client.over
        return outcome or _outcome(cell), client.used, ""


def _size(content: Any) -> int:
    """About the bytes of a message's content, counted without serialising it again (a
    flood's text is not copied once more in the grader)."""
    if isinstance(content, str):
        return len(content)
    if isinstance(content, dict):
        return sum(len(str(key)) + 4 + _size(value) for key, value in content.items())
    if isinstance(content, list):
        return sum(2 + _size(value) for value in content)
    return 8


def _outcome(cell: NotebookNode) -> StepOutcome:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            tb = "\n".join(str(line) for line in out.get("traceback", []))
            return StepOutcome(
                "error",
                StudentError(
                    ename=str(out.get("ename", "Error"))[:MAX_ENAME_CHARS],
                    evalue=str(out.get("evalue", ""))[:MAX_EVALUE_CHARS],
                    traceback=tb[-MAX_TRACEBACK_CHARS:],
                ),
            )
    return StepOutcome("ok")
