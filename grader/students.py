"""Student ids: the safe form an id must have, and how two ids are compared.

One rule for every place a student is named (a batch's folder or file name, an LMS name, a
roster, an extension line, ``--student``, Gradescope's metadata, a notebook's claim): ids
compare case-insensitively after Unicode normalisation (NFKC, then case folding, surrounding
blanks dropped), so ``Alice``, ``alice`` and ``ＡＬＩＣＥ`` are one student. A leaf module: it
imports nothing of the package.
"""

from __future__ import annotations

import re
import unicodedata

STUDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")


def normalised(name: str) -> str:
    """The form two ids are compared in: NFKC, case-folded, without surrounding blanks."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def same_student(a: str, b: str) -> bool:
    """Whether two ids name the same student (case-insensitive, after normalisation)."""
    return bool(a) and bool(b) and normalised(a) == normalised(b)


def is_student_id(name: str) -> bool:
    """Whether ``name`` is a usable student id (letters, digits and ``_.@+-``, up to 64)."""
    return bool(STUDENT_RE.match(name))
