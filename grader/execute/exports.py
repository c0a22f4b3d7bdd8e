"""Export steps: the code that runs in the kernel, and collecting what it wrote into records.

An export step calls ``grader.inkernel.exporter`` with literal arguments and a one-time nonce.
Right after it, the grader reads what it wrote, and keeps it (as an ``ExportRecord`` in
memory) only if it is genuine: plain files (never through a link, never past the size cap)
whose payload carries this step's nonce, which only the export cell knew. A file planted
earlier, or rewritten later by a stray thread of the student's, is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from .records import ExportRecord
from .workdir import MAX_EXPORT_BYTES

NOT_EXPORTED = ExportRecord({"ok": False, "error": "the answer could not be exported"})
ALTERED = ExportRecord(
    {"ok": False, "error": "the exported answer was altered after export; it was not graded"}
)


def export_source(export_dir: Path, exercise_id: str, spec: dict[str, Any], nonce: str) -> str:
    """The code of an export step: a call into grader.inkernel.exporter with literal arguments."""
    return (
        "import grader.inkernel.exporter as _grader_exporter\n"
        f"_grader_exporter.export({str(export_dir)!r}, {exercise_id!r}, "
        f"{json.dumps(spec)}, globals(), {nonce!r})\n"
        "del _grader_exporter"
    )


def clear_export(export_dir: Path, exercise_id: str) -> None:
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


def collect_export(export_dir: Path, exercise_id: str, nonce: str) -> ExportRecord:
    """The export one step just wrote, if it is genuine; else a record saying why not."""
    found = parse_export(read_plain(export_dir / f"{exercise_id}.json"))
    if found is None:
        return NOT_EXPORTED
    if found.pop("nonce", None) != nonce:
        return ALTERED
    weights = read_plain(export_dir / f"{exercise_id}.pt")
    clear_export(export_dir, exercise_id)  # out of the kernel's reach from now on
    return ExportRecord(found, weights)


def read_plain(path: Path) -> bytes | None:
    """The bytes of a regular file (never through a link, never past the size cap)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None  # a fifo, a device or a folder planted by the kernel
            data = f.read(MAX_EXPORT_BYTES + 1)
        except OSError:
            return None
    return data if len(data) <= MAX_EXPORT_BYTES else None


def parse_export(data: bytes | None) -> dict[str, Any] | None:
    """A JSON object from exported bytes, or None (missing, not JSON, nested too deeply)."""
    if data is None:
        return None
    try:
        found = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return found if isinstance(found, dict) else None
