"""Untrusted text made safe to show: in a report, a terminal, a CI log or an XML file.

Student code controls messages, values, tracebacks and whatever the kernel prints. Before
any of it is shown it loses ANSI escape sequences and control characters (which could
rewrite a terminal), characters XML 1.0 forbids, and the power of CI workflow commands
(``::error::...`` at the start of a line for GitHub Actions, ``##vso[...]`` and ``##[...]``
for Azure Pipelines), which a CI runner would otherwise obey. Stdlib only.
"""

from __future__ import annotations

import re

_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# Everything XML 1.0 forbids, plus DEL and the C1 controls (HTML parse errors).
_BAD_CHARS_RE = re.compile(
    # Controls and what XML cannot hold; and the bidirectional overrides and isolates, with
    # which a name or a message displays in another order than it reads (Trojan Source).
    "[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u202a-\u202e\u2066-\u2069]"
)
# A workflow command: '::' first on a line (GitHub Actions), '##vso[' or '##[' anywhere (Azure).
_COMMAND_RE = re.compile(r"^([ \t]*):(?=:)|##(?=(?:vso)?\[)", re.MULTILINE)


def clean_text(text: str) -> str:
    """Remove escape sequences and invalid characters; newlines become LF; commands disarmed."""
    text = _ANSI_RE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _BAD_CHARS_RE.sub("", text)
    # ': :error::' and '# #vso[' read the same to a person and mean nothing to a runner.
    return _COMMAND_RE.sub(lambda m: (m.group(1) + ": ") if m.group(1) is not None else "# #", text)


def one_line(text: str) -> str:
    """``clean_text`` on one line for a terminal: whitespace runs become one space, and no two
    colons stay side by side (a terminal may wrap or fold the line anywhere)."""
    return re.sub(r":(?=:)", ": ", " ".join(clean_text(text).split()))
