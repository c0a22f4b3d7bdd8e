"""Real git repositories of students, honest and hostile, made by the tests (no network)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from grader.notebooks import MAX_NOTEBOOK_BYTES

NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
SECRET = "SOLUTION = 'the secret answer'"  # in the course's solutions/x.py
_MADE: dict[str, Path] = {}


def git(cwd: Path, *args: str, when: int | None = None, stdin: bytes | None = None) -> str:
    """Run git in ``cwd`` (commits dated ``when``, by a fixed author)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "s",
        "GIT_AUTHOR_EMAIL": "s@example.org",
        "GIT_COMMITTER_NAME": "s",
        "GIT_COMMITTER_EMAIL": "s@example.org",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, input=stdin, capture_output=True, check=True
    )
    return done.stdout.decode()


def repository(host: Path, repo: str) -> Path:
    """A new repository at ``host/<repo>.git`` (a working tree, as a student has one)."""
    path = host / f"{repo}.git"
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    return path


def commit(
    path: Path,
    files: dict[str, bytes],
    when: int | None = None,
    links: dict[str, str] | None = None,
) -> None:
    """Write ``files`` (and symbolic ``links``) into the repository and commit them all."""
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    for name, target in (links or {}).items():
        os.symlink(target, path / name)
    git(path, "add", "-A")
    git(path, "commit", "-q", "--allow-empty", "-m", "work", when=when or int(time.time()))


def student(host: Path, repo: str, files: dict[str, bytes], when: int | None = None) -> Path:
    """An honest student's repository: ``files`` in one commit dated ``when``."""
    path = repository(host, repo)
    commit(path, files, when)
    return path


def hostile(host: Path, repo: str, course: Path) -> Path:
    """A repository whose *.ipynb entries are everything but honest notebooks, beside two
    honest ones (ps1.ipynb, and ps2.ipynb with the executable bit)."""
    path = repository(host, repo)
    for key, value in (
        ("core.compression", "0"),
        ("pack.compression", "0"),
        ("core.bigFileThreshold", "1m"),
    ):  # the big blob costs no time
        git(path, "config", key, value)
    commit(
        path,
        {
            "ps1.ipynb": NOTEBOOK.replace(b"{}", b'{"honest": 1}'),
            "ps2.ipynb": NOTEBOOK.replace(b"{}", b'{"honest": 2}'),
            "big.ipynb": b"{" + b" " * MAX_NOTEBOOK_BYTES + b"}",
            "x.ipynb/inside.ipynb": NOTEBOOK,  # a folder named like a notebook
            "deep/ps3.ipynb": NOTEBOOK,  # not at the top
            "new\nline.ipynb": NOTEBOOK,
            "esc\x1b[31m.ipynb": NOTEBOOK,
            "bell\x07.ipynb": NOTEBOOK,
            ".hidden.ipynb": NOTEBOOK,
        },
        links={
            "environ.ipynb": "/proc/self/environ",
            "zero.ipynb": "/dev/zero",
            "solution.ipynb": "../../solutions/x.py",
            "solution2.ipynb": "../solutions/x.py",
            "absolute.ipynb": str(course / "solutions" / "x.py"),
            "classmate.ipynb": "../alice/ps1.ipynb",
            "etc.ipynb": "/etc/passwd",
        },
    )
    os.chmod(path / "ps2.ipynb", 0o755)
    git(path, "add", "-A")
    # a submodule named like a notebook
    other = repository(host, "elsewhere/sub")
    commit(other, {"ps1.ipynb": b"not mine"})
    head = git(other, "rev-parse", "HEAD").strip()
    (path / ".gitmodules").write_text(f'[submodule "sub"]\n\tpath = sub.ipynb\n\turl = {other}\n')
    git(path, "add", ".gitmodules")
    git(path, "update-index", "--add", "--cacheinfo", f"160000,{head},sub.ipynb")
    git(path, "commit", "-q", "-m", "more", when=int(time.time()))
    # entries no file system can hold: a name with a slash, '..', a path up
    blob = git(path, "rev-parse", "HEAD:ps1.ipynb").strip()
    listing = git(path, "ls-tree", "-z", "HEAD").encode()
    extra = b"".join(
        b"100644 " + name + b"\0" + bytes.fromhex(blob)
        for name in (b"../up.ipynb", b"a/b.ipynb", b"..", b"..ipynb")
    )
    body = b"".join(_raw_entry(e) for e in listing.split(b"\0") if e) + extra
    tree = git(
        path, "hash-object", "-t", "tree", "-w", "--literally", "--stdin", stdin=body
    ).strip()
    top = git(path, "commit-tree", tree, "-p", "HEAD", "-m", "names", when=int(time.time()))
    git(path, "update-ref", "refs/heads/main", top.strip())
    return path


def hostile_once(factory: pytest.TempPathFactory) -> Path:
    """The hostile repository ``mallory/cnn-homework``, made once a test session (its links
    aim at a course whose solutions/x.py holds ``SECRET``)."""
    if "hostile" not in _MADE:
        root = factory.mktemp("hostile")
        (root / "course" / "solutions").mkdir(parents=True)
        (root / "course" / "solutions" / "x.py").write_text(SECRET + "\n")
        _MADE["hostile"] = hostile(root / "host", "mallory/cnn-homework", root / "course")
    return _MADE["hostile"]


def _raw_entry(line: bytes) -> bytes:
    """One ``ls-tree -z`` line as the bytes of a tree entry."""
    meta, _, name = line.partition(b"\t")
    mode, _, oid = meta.split(b" ")
    return mode.lstrip(b"0") + b" " + name + b"\0" + bytes.fromhex(oid.decode())


def bare_clone(source: Path, repos: Path, repo: str) -> Path:
    """What the workflow's git-only step makes of a repository."""
    target = repos / f"{repo}.git"
    target.parent.mkdir(parents=True, exist_ok=True)
    git(
        repos,
        "clone",
        "-q",
        "--bare",
        "--no-tags",
        "--single-branch",
        "--depth",
        "50",
        f"file://{source}",
        str(target),
    )
    return target
