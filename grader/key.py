"""The answer key of an assignment: reference values from the solution run, and a secret seed.

Stored as ``release/key/<assignment>.json``; never given to a student kernel. The seed (it
draws the held-out samples a trained model is judged on) outlives the key: a key made again
keeps the seed of the one it replaces, else takes one derived from the course secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import CompareError
from .frozen import freeze_fields

MAX_LOSSES = 5000  # losses kept for a report's plot, per run (a longer list is thinned)


@dataclass(frozen=True)
class AnswerKey:
    """Reference values (plain data) by exercise id, for one version of the course."""

    assignment: str
    fingerprint: str
    values: Mapping[str, Any]
    seed: int = field(default_factory=lambda: secrets.randbelow(2**31))
    # What the reference run of a model exercise reported beside its weights (its losses),
    # for the report to draw beside the student's: display only.
    extras: Mapping[str, Any] = field(default_factory=dict)
    variant: str = ""  # the per-student variant whose values these are ("": the default)

    def __post_init__(self) -> None:
        freeze_fields(self, "values", "extras")


def key_path(release: Path, assignment_id: str, variant: str = "") -> Path:
    """Where the key of an assignment (of one variant) lives in a release folder:
    ``key/<assignment>.json``, ``key/<assignment>/<variant>.json``."""
    if variant:
        return release / "key" / assignment_id / f"{variant}.json"
    return release / "key" / f"{assignment_id}.json"


def load_key(path: Path) -> AnswerKey | None:
    """The key stored at ``path``, or None when there is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return AnswerKey(
            assignment=data["assignment"],
            fingerprint=data["fingerprint"],
            values=dict(data["values"]),
            seed=int(data["seed"]),
            extras=dict(data.get("extras") or {}),
            variant=str(data.get("variant") or ""),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CompareError(f"{path}: the answer key is damaged ({e}); run `grade build`") from None


def lasting_seed(path: Path, secret: bytes | None, *parts: str) -> int:
    """The seed of a key (re)made at ``path``: the seed of the key there, else one derived
    from the course secret and ``parts`` (the course and the assignment), else a new one."""
    try:
        previous = load_key(path)
    except CompareError:  # a damaged key: its seed is lost with it
        previous = None
    if previous is not None:
        return previous.seed
    if secret:
        mac = hmac.new(secret, "\0".join(("seed", *parts)).encode(), hashlib.sha256)
        return int.from_bytes(mac.digest()[:4], "big") % 2**31
    return secrets.randbelow(2**31)


def save_key(key: AnswerKey, path: Path) -> None:
    """Write the key atomically (readable by its owner only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(key), f, indent=1, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
