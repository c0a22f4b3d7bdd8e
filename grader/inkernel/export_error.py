"""The one error of the kernel's export (a leaf: ``plain`` and the converters it calls on
pandas and matplotlib objects all raise it). Stdlib only."""

from __future__ import annotations


class ExportError(Exception):
    """The answer cannot be exported as plain data; the message is shown to the student."""
