"""Right or wrong without the answer: salted slow digests and sealed known mistakes.

For exact answers, the hand-out may carry a salted, slow digest of the canonical answer: the
student learns right or wrong, and the value stays out of the hand-out. A known mistake's title
and hint are sealed with a key derived (the same slow way) from its wrong answer: only the
student who gives that answer can read them. Runs in the grader (building and grading with a
hand-out) and in the student's kernel (``check()``, ``grader.inkernel.public``). Stdlib only.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import math
import os
from collections.abc import Callable
from typing import Any


# Transforms of a text answer before it is digested or sealed, named by the hand-out's
# ``answer.canon`` (from the kind's table entry): answers its check finds equal digest equal.
def _spaces(text: str) -> str:
    return " ".join(text.split())  # runs of white space as one space, trimmed


TRANSFORMS: dict[str, Callable[[str], str]] = {"casefold": str.casefold, "spaces": _spaces}
# Every name ``transform`` knows: those of a text, and two of other values (a choice's).
TRANSFORM_NAMES = (*TRANSFORMS, "bools", "set")


def transform(names: Any, value: Any) -> Any:
    """``value`` after the named transforms: a text's, or each text of a list (anything else
    is left as it is); ``set`` makes a list of texts sorted, each once (the options chosen);
    ``bools`` makes a bool (or each bool of a list) its text, ``True`` or ``False``."""
    for name in names or ():
        if name == "bools":
            value = _bool_text(value)
        elif name == "set":
            if isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
                value = sorted(set(value))
        elif type(value) is str:
            value = TRANSFORMS[name](value)
        elif isinstance(value, (list, tuple)):
            value = [TRANSFORMS[name](v) if type(v) is str else v for v in value]
    return value


def _bool_text(value: Any) -> Any:
    if type(value) is bool:
        return str(value)
    if isinstance(value, (list, tuple)):
        return [str(v) if type(v) is bool else v for v in value]
    return value


def _canon(exercise: dict[str, Any], value: Any) -> Any:
    return transform(exercise["answer"].get("canon"), value)


def canonical(value: Any) -> str:
    """One text for equal exact answers: whole floats as ints, tuples as lists, keys sorted."""

    def norm(x: Any) -> Any:
        if isinstance(x, bool):
            return x
        if isinstance(x, float) and math.isfinite(x) and x == int(x):
            return int(x)
        if isinstance(x, (list, tuple)):
            return [norm(v) for v in x]
        if isinstance(x, dict):
            return {str(k): norm(v) for k, v in x.items()}
        return x

    return json.dumps(norm(value), sort_keys=True, separators=(",", ":"))


# PBKDF2 rounds of an instant-feedback digest: ~35 ms a digest, so that trying every
# candidate of a large answer space (a parameter count up to millions) takes hours, not
# the seconds a plain hash would. A small answer space stays guessable: see README.
ROUNDS = 100_000


def digest(salt: str, value: Any, rounds: int = ROUNDS) -> str:
    """The salted, deliberately slow hash (PBKDF2-SHA256) of an exact answer's canonical
    text (remembered: a build or a grading asks for the same one more than once)."""
    return _slow_hash(canonical(value), salt, rounds)


@functools.lru_cache(maxsize=1024)
def _slow_hash(text: str, salt: str, rounds: int) -> str:
    return hashlib.pbkdf2_hmac("sha256", text.encode(), salt.encode(), rounds).hex()


def digests_wanted(exercise: dict[str, Any], value: Any) -> list[tuple[str, Any, int]]:
    """The (salt, value, rounds) digests ``instant`` will need for this value: to compute
    them side by side beforehand (PBKDF2 releases the GIL)."""
    known = exercise.get("instant")
    sealed = exercise.get("mistakes")
    value = _canon(exercise, value)
    wanted = [(sealed["salt"], value, sealed["rounds"])] if sealed else []
    if not known:
        return wanted
    if "keys" not in known:
        return [(known["salt"], value, known["rounds"]), *wanted]
    if not isinstance(value, dict):
        return wanted
    keys = [k for k in known["keys"] if k in value]
    return [(known["salt"], value[k], known["rounds"]) for k in keys] + wanted


# --- sealed known mistakes: an authenticated stream cipher from the stdlib -------------------
#
# key material: the slow digest of the wrong answer (PBKDF2-SHA256, salted, ROUNDS); from it,
# by HMAC-SHA256, a stream key and a tag key. The text is XORed with SHAKE-256(stream key,
# nonce) and tagged with HMAC-SHA256(tag key, nonce + sealed text): encrypt-then-MAC. Any other
# answer derives other keys, and its tag does not match: the seal stays shut, and a seal
# changed in any byte does not open.


def seal(salt: str, value: Any, text: dict[str, str], rounds: int = ROUNDS) -> dict[str, str]:
    """``text`` (a known mistake's title and hint) sealed with a key derived from ``value``
    (its wrong answer), with a fresh nonce."""
    stream, tag = _seal_keys(salt, value, rounds)
    nonce = os.urandom(16)
    plain = json.dumps(text, sort_keys=True).encode()
    body = _xor(plain, hashlib.shake_256(stream + nonce).digest(len(plain)))
    return {
        "nonce": nonce.hex(),
        "sealed": base64.b64encode(body).decode(),
        "tag": hmac.new(tag, nonce + body, hashlib.sha256).hexdigest(),
    }


def unseal(salt: str, value: Any, sealed: dict[str, str], rounds: int = ROUNDS) -> Any:
    """The text a seal holds when ``value`` is the answer it was sealed with, else None (any
    other answer, or a seal changed in any byte)."""
    try:
        nonce = bytes.fromhex(sealed["nonce"])
        body = base64.b64decode(sealed["sealed"], validate=True)
        stream, tag = _seal_keys(salt, value, rounds)
        expected = hmac.new(tag, nonce + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, str(sealed["tag"])):
            return None
        return json.loads(_xor(body, hashlib.shake_256(stream + nonce).digest(len(body))))
    except (KeyError, TypeError, ValueError):
        return None


def known_mistake(exercise: dict[str, Any], value: Any) -> tuple[str, str] | None:
    """The title and hint of the exercise's known mistake whose sealed answer ``value`` is,
    if any (the first that opens)."""
    sealed = exercise.get("mistakes")
    if not sealed:
        return None
    value = _canon(exercise, value)
    for one in sealed["seals"]:
        text = unseal(sealed["salt"], value, one, sealed["rounds"])
        if isinstance(text, dict) and isinstance(text.get("title"), str):
            return text["title"], str(text.get("hint", ""))
    return None


def _seal_keys(salt: str, value: Any, rounds: int) -> tuple[bytes, bytes]:
    material = bytes.fromhex(digest(salt, value, rounds))
    return (
        hmac.new(material, b"grade seal: stream", hashlib.sha256).digest(),
        hmac.new(material, b"grade seal: tag", hashlib.sha256).digest(),
    )


def _xor(data: bytes, stream: bytes) -> bytes:
    n = len(data)
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream[:n], "big")).to_bytes(n, "big")


def instant(exercise: dict[str, Any], value: Any) -> tuple[float, str] | None:
    """Right or wrong now, from the hand-out's salted digests: (fraction right, message), or
    None when the exercise has none (it is decided at grading)."""
    known = exercise.get("instant")
    if not known:
        return None
    value = _canon(exercise, value)
    if "keys" in known:  # a mapping: one digest a key, as it earns one check a key
        if not isinstance(value, dict):
            return 0.0, "right answer: no"
        right = [
            k
            for k, d in known["keys"].items()
            if k in value and digest(known["salt"], value[k], known["rounds"]) == d
        ]
        fraction = len(right) / max(1, len(known["keys"]))
        wrong = [k for k in known["keys"] if k not in right]
        message = (
            "right answer: yes"
            if not wrong
            else (
                f"right answer: {len(right)} of {len(known['keys'])} ({', '.join(wrong)} not yet)"
            )
        )
        return fraction, message
    ok = digest(known["salt"], value, known["rounds"]) == known["digest"]
    return (1.0 if ok else 0.0), f"right answer: {'yes' if ok else 'no'}"
