"""Reading a source notebook as data: its cells' type, text and metadata (JSON only)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GraderError


@dataclass(frozen=True)
class Cell:
    """One cell of a source notebook (``index`` counts from 1, as a person does)."""

    index: int
    type: str
    source: str
    metadata: dict[str, Any]


def read_cells(path: Path) -> list[Cell]:
    """The cells of a notebook file; a file that is not one is one clear error."""
    try:
        nb = json.loads(path.read_bytes())
    except (OSError, ValueError) as e:
        raise GraderError(f"{path}: not a readable notebook ({one_line(str(e))})") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list) or nb.get("nbformat") != 4:
        raise GraderError(f"{path}: not a notebook of nbformat 4 (no list of cells)")
    out = []
    for i, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise GraderError(f"{path}: cell {i} is not a notebook cell")
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        meta = cell.get("metadata", {})
        if not isinstance(text, str) or not isinstance(meta, dict):
            raise GraderError(f"{path}: cell {i} has no text or metadata a notebook has")
        out.append(Cell(i, cell["cell_type"], text, meta))
    return out


def one_line(text: str) -> str:
    """Text on one line (an error's detail)."""
    return " ".join(text.split())


def heading(texts: list[str]) -> str:
    """The last markdown heading among texts, without its "(2 points)"."""
    for text in reversed(texts):
        for line in reversed(text.splitlines()):
            if line.startswith("#"):
                title = re.sub(r"\(\s*[\d.]+\s*points?\s*\)", "", line.strip("# ").strip())
                if title.strip():
                    return title.strip()
    return ""
