"""The kernel process's own stdout and stderr: drained, kept up to a cap, never passed through.

Whatever reaches file descriptors 1 and 2 of the kernel (``os.write(1, ...)``,
``sys.__stdout__``, ipykernel's own tracebacks, a crashing C extension) is read from a pipe by
a thread of the grader, so the grader's terminal never sees it and a flood never blocks the
kernel. The first ``cap`` bytes are kept for ``--debug``; the text is sanitized when read.
"""

from __future__ import annotations

import threading
from typing import IO

from ..sanitize import clean_text

DEFAULT_CAP = 64 * 1024


class OutputLog:
    """The captured output of one kernel (across restarts), capped at ``cap`` bytes."""

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        self.cap = cap
        self._kept = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def drain(self, stream: IO[bytes], label: str = "") -> None:
        """Read ``stream`` to its end in a daemon thread (it ends when the process does)."""
        if label:
            self._add(f"--- {label} ---\n".encode())
        thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _read(self, stream: IO[bytes]) -> None:
        try:
            while chunk := stream.read1(65536):  # type: ignore[attr-defined]
                self._add(chunk)
        except (OSError, ValueError):
            pass
        finally:
            stream.close()

    def _add(self, data: bytes) -> None:
        with self._lock:
            room = max(0, self.cap - len(self._kept))
            self._kept += data[:room]
            self._dropped += max(0, len(data) - room)

    def text(self, wait: float = 0.0) -> str:
        """What was kept, sanitized; ``wait``: seconds to let readers reach the end first."""
        for thread in self._threads:
            thread.join(wait)
        with self._lock:
            text = clean_text(self._kept.decode("utf-8", errors="replace"))
            dropped = self._dropped
        if dropped:
            text += f"\n[... {dropped} more bytes not kept]"
        return text
