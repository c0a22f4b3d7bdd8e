"""A submitted file -> an nbformat-4 notebook, or one clear SubmissionError naming it.

The size cap is here too: every reader of a submission (a file, an archive's member, a
student's repository) refuses a notebook over ``MAX_NOTEBOOK_BYTES`` before parsing it.
nbformat is imported on first use, while a kernel is booting (see ``grader.pipeline``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SubmissionError

if TYPE_CHECKING:
    from nbformat import NotebookNode

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


def read_notebook(path: Path) -> NotebookNode:
    """Parse a submission file as an nbformat-4 notebook, or raise one clear SubmissionError."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise SubmissionError(
                f"{path.name}: {size / 2**20:.1f} MiB is more than the "
                f"{MAX_NOTEBOOK_BYTES / 2**20:g} MiB a notebook may be"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SubmissionError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SubmissionError(f"{path}: is a folder, not a notebook") from None
    except OSError as e:
        raise SubmissionError(f"{path}: cannot read ({e.strerror})") from None
    return parse_notebook(raw, path.name)


def parse_notebook(raw: bytes, name: str) -> NotebookNode:
    """A submission's bytes as an nbformat-4 notebook, or one clear SubmissionError naming it."""
    if not raw.strip():
        raise SubmissionError(f"{name}: the file is empty")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SubmissionError(f"{name}: not a notebook (not UTF-8 text)") from None
    except RecursionError:
        raise SubmissionError(f"{name}: not a notebook (nested too deeply)") from None
    except json.JSONDecodeError as e:
        raise SubmissionError(
            f"{name}: not a notebook (invalid JSON at line {e.lineno}, column {e.colno})"
        ) from None
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        raise SubmissionError(f"{name}: not a notebook ({str(e)[:80]})") from None
    if not isinstance(data, dict) or not isinstance(
        data.get("cells", data.get("worksheets")), list
    ):
        raise SubmissionError(f"{name}: not a notebook (no list of cells)")
    version = data.get("nbformat")
    if version != 4:
        raise SubmissionError(
            f"{name}: an nbformat {version} notebook; this course's notebooks are "
            "nbformat 4 (start from the released notebook, or save it again in Jupyter)"
        )
    import nbformat  # here: a kernel is booting meanwhile (see pipeline.grade)

    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as e:
        raise SubmissionError(f"{name}: not a readable notebook ({type(e).__name__})") from None
    return nb
