"""The notebook to grade in a folder someone else filled (Gradescope's ``submission/``).

Only the folder's top level is looked at, and only regular files: a link, a folder named
``x.ipynb``, a hidden file (``.ipynb_checkpoints/``, ``._ps1.ipynb``) or an editor's backup
is never the student's notebook. ``<assignment>.ipynb`` is taken when it is there, else the
only notebook; none or several is a SubmissionError saying so, in one line. A folder of
thousands of entries is refused past ``MAX_ENTRIES`` without listing the rest.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import SubmissionError
from ..sanitize import one_line

MAX_ENTRIES = 10_000  # a hand-in is a few files; past this, nothing is looked at
SHOWN = 5  # names listed when there are several notebooks


def ignored(name: str) -> bool:
    """A file no student hands in on purpose: hidden, a backup, a Jupyter checkpoint."""
    return name.startswith((".", "~", "#")) or name.endswith(("~", "-checkpoint.ipynb"))


def pick_notebook(folder: Path, assignment: str | None = None) -> Path:
    """The student's notebook in ``folder``: ``<assignment>.ipynb``, else the only regular,
    non-hidden ``*.ipynb`` at its top level."""
    notebooks: list[str] = []
    links: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_ENTRIES:
                    raise SubmissionError(
                        f"the submission holds more than {MAX_ENTRIES} files: hand in the "
                        "notebook alone"
                    )
                name = entry.name
                if not name.lower().endswith(".ipynb") or ignored(name):
                    continue
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISREG(mode):
                    notebooks.append(name)
                elif stat.S_ISLNK(mode):
                    links.append(name)
    except SubmissionError:
        raise
    except OSError as e:
        raise SubmissionError(f"the submission folder cannot be read ({e.strerror})") from None
    notebooks.sort()
    if assignment:
        wanted = f"{assignment}.ipynb".casefold()
        exact = [n for n in notebooks if n.casefold() == wanted]
        if len(exact) == 1:
            return folder / exact[0]
    if len(notebooks) == 1:
        return folder / notebooks[0]
    if notebooks:
        names = ", ".join(_shown(n) for n in notebooks[:SHOWN])
        more = f" and {len(notebooks) - SHOWN} more" if len(notebooks) > SHOWN else ""
        which = f"{assignment}.ipynb" if assignment else "one notebook"
        raise SubmissionError(
            f"the submission holds {len(notebooks)} notebooks ({names}{more}): hand in {which} only"
        )
    if links:
        raise SubmissionError(
            f"{_shown(sorted(links)[0])} is a link, not a notebook: hand in the file itself"
        )
    which = f"{assignment}.ipynb" if assignment else "a notebook (.ipynb)"
    raise SubmissionError(f"the submission holds no notebook: hand in {which}")


def _shown(name: str) -> str:
    """A file name as one short, printable line (names are the submitter's choice)."""
    text = one_line(name.encode("utf-8", "replace").decode("utf-8"))
    return repr(text[:60] + ("..." if len(text) > 60 else ""))
