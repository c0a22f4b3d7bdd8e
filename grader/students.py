"""Student ids: the safe form an id must have, and how two ids are compared.

One rule for every place a student is named (a batch's folder or file name, an LMS name, a
roster, an extension line, ``--student``, Gradescope's metadata, a notebook's claim): ids
compare case-insensitively after Unicode normalisation (NFKC, then case folding, runs of
blanks made one space and surrounding ones dropped), so ``Alice``, ``alice`` and ``ＡＬＩＣＥ``
are one student. Where a class list is known (a roster), an id is recorded as the roster spells
it; elsewhere in its normalised form. A leaf module: it imports nothing of the package.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

STUDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
MAX_FILES = 20  # files of one student read in one batch (grade batch --max-files-per-student)


def normalised(name: str) -> str:
    """The form two ids are compared in: NFKC, case-folded, blanks made single spaces."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def same_student(a: str, b: str) -> bool:
    """Whether two ids name the same student (case-insensitive, after normalisation)."""
    return bool(a) and bool(b) and normalised(a) == normalised(b)


def is_student_id(name: str) -> bool:
    """Whether ``name`` is a usable student id (letters, digits and ``_.@+-``, up to 64)."""
    return STUDENT_RE.fullmatch(name) is not None


def spellings(ids: Iterable[str]) -> dict[str, str]:
    """A class list's ids by their normalised form (to look names up in)."""
    return {normalised(i): i for i in ids}


def recorded(name: str, known: Mapping[str, str]) -> str:
    """The id ``name`` is recorded as: the class list's own spelling of that student
    (``known``, from :func:`spellings`), else the normalised name."""
    key = normalised(name)
    return known.get(key, key)
