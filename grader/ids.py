"""Ids made from other graders' names: an nbgrader grade_id, an otter question's name, a
notebook's or folder's name. One rule, so that the importers and the grading of notebooks made
by nbgrader or otter agree on every id."""

from __future__ import annotations

import re

MAX_ID = 56


def slug(text: str) -> str:
    """Lowercase, runs of anything but ``a-z0-9_-`` as one ``-``, no ``-``/``_`` at the ends,
    at most 56 characters; "" when nothing is left."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.strip().lower()).strip("-_")[:MAX_ID]
