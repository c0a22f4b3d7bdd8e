"""The grader's own wheel, made from the package that runs: ``grade build`` puts it beside the
hand-outs, so students install the grader from it and never from the course's repository.

A pure-Python wheel is a zip of the package and a ``.dist-info`` folder (METADATA, WHEEL,
entry_points.txt, RECORD with each file's hash). It is written here, without a build
backend or the network, whether the grader was installed from a wheel or editable from a
checkout; the bytes depend only on the package's files (fixed times and modes), so a
rebuild writes the same wheel.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zipfile
from pathlib import Path

from . import distribution

PACKAGE = Path(__file__).resolve().parent
# What goes in besides the modules of each package: pyproject.toml's package data (the
# tests check that setuptools' wheel holds the same files). An allow-list, so that nothing
# else lying in a checkout's grader/ folder reaches students.
PACKAGE_DATA = (
    "templates/*.j2",
    "templates/*.js",
    "templates/ci/*",
    "templates/gradescope/*",
    "py.typed",
    "inkernel/disabled/*/__init__.py",
    distribution.REQUIREMENTS,
)
TAG = "py3-none-any"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: the same bytes each build


def wheel_name() -> str:
    """The wheel's file name, e.g. ``grade_notebooks-0.1.0-py3-none-any.whl``."""
    return f"{_stem()}-{TAG}.whl"


def write_wheel(folder: Path) -> Path:
    """Write the grader's wheel into ``folder`` (atomically), replacing any other version of
    it there, and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / wheel_name()
    tmp = folder / f".{path.name}.tmp"
    dist_info = f"{_stem()}.dist-info"
    files = [(f"grader/{p.relative_to(PACKAGE).as_posix()}", p.read_bytes()) for p in _files()]
    files += [
        (f"{dist_info}/METADATA", _metadata().encode()),
        (f"{dist_info}/WHEEL", _wheel_file().encode()),
        (f"{dist_info}/entry_points.txt", _entry_points().encode()),
    ]
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in files]
    record.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", "".join(f"{line}\n" for line in record).encode()))
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, _EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    os.replace(tmp, path)
    for old in folder.glob(f"{_project()}-*.whl"):
        if old != path:
            old.unlink()
    return path


def _files() -> list[Path]:
    """The package's files as setuptools packs them: the modules of every package (a folder
    with ``__init__.py`` under another), and the package data."""
    packages = [PACKAGE]
    for folder in packages:  # grows as sub-packages are found
        packages += sorted(
            d for d in folder.iterdir() if d.is_dir() and (d / "__init__.py").is_file()
        )
    found = {p for folder in packages for p in folder.glob("*.py")}
    found |= {p for pattern in PACKAGE_DATA for p in PACKAGE.glob(pattern)}
    # A link could point anywhere (a checkout's solutions/): only what is in the package.
    return sorted(p for p in found if p.is_file() and p.resolve().is_relative_to(PACKAGE))


def _metadata() -> str:
    fields = [
        ("Metadata-Version", "2.1"),
        ("Name", distribution.NAME),
        ("Version", distribution.VERSION),
        ("Summary", distribution.SUMMARY),
        ("License", distribution.LICENSE),
        ("Requires-Python", distribution.REQUIRES_PYTHON),
        *(("Requires-Dist", r) for r in distribution.requirements()),
    ]
    return "".join(f"{name}: {value}\n" for name, value in fields)


def _wheel_file() -> str:
    return (
        "Wheel-Version: 1.0\n"
        f"Generator: grader {distribution.VERSION}\n"
        "Root-Is-Purelib: true\n"
        f"Tag: {TAG}\n"
    )


def _entry_points() -> str:
    lines = [f"{name} = {target}" for name, target in distribution.SCRIPTS.items()]
    return "[console_scripts]\n" + "\n".join(lines) + "\n"


def _project() -> str:
    """The name as a wheel's file name spells it (PEP 427: runs of ``-_.`` become ``_``)."""
    return re.sub(r"[-_.]+", "_", distribution.NAME).lower()


def _stem() -> str:
    return f"{_project()}-{distribution.VERSION}"


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
