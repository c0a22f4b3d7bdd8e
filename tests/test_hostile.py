"""Hostile submissions (tests/hostile/cases.py): the grader is neither fooled nor broken.

For every case: the expected scores, messages and notices (or the one-line SubmissionError),
and that the host is untouched: no canary file outside the work dir, the course (solutions,
answer key, release notebooks) and the submission unchanged, the key's secret not in the
result, no connection to the host's loopback, no process left behind.
"""

from __future__ import annotations

import faulthandler
import hashlib
import inspect
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import nbformat
import pytest
import yaml
from hostile.cases import CANARY_PY, CASES, Case
from shipped import copy_course, with_answers

from grader import load_course
from grader.build import build
from grader.errors import SubmissionError
from grader.options import GradeOptions
from grader.pipeline import grade

pytestmark = pytest.mark.kernel

TESTS = Path(__file__).resolve().parent
SANDBOX = shutil.which("bwrap") is not None


def _pgrep(pattern: str) -> set[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()} - {os.getpid()}


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def _snapshot(root: Path) -> dict[Path, bytes]:
    """The files a student must never change: course definition, solutions, release."""
    files = [root / "course.yaml"]
    for sub in ("exercises", "solutions", "release"):
        files += [p for p in (root / sub).rglob("*") if p.is_file()]
    return {p: p.read_bytes() for p in files}


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


def _context(case: Case, course, tmp_path: Path, token: str, port: int) -> dict:
    name = f"grade-canary-{token}"
    canaries = [
        Path(tempfile.gettempdir()) / name,
        Path("/tmp") / name,
        course.root / name,
        course.root / "solutions" / name,
        course.root / "release" / "key" / name,
        Path.home() / name,
        TESTS / name,
        tmp_path / name,  # beside the submission
    ]
    canaries = list(dict.fromkeys(canaries))
    ctx = {
        "canaries": canaries,
        "@CANARIES@": repr([str(p) for p in canaries]),
        "@CANARIES_SH@": " ".join(shlex.quote(str(p)) for p in canaries),
        "@TOKEN@": token,
        "@COURSE@": str(course.root),
        "@SOLUTIONS@": str(course.root / "solutions"),
        "@KEY@": str(course.root / "release" / "key" / f"{case.assignment}.json"),
        "@SOLUTION_NB@": str(course.root / "release" / "solution" / f"{case.assignment}.ipynb"),
        "@PORT@": str(port),
        "@HOSTPID@": str(os.getpid()),
    }

    def fill(text: str) -> str:
        for k, v in ctx.items():
            if k.startswith("@"):
                text = text.replace(k, v)
        return text

    ctx["fill"] = fill
    return ctx


def _submission(case: Case, course, ctx: dict, path: Path) -> None:
    """Write the case's file: raw bytes, a writer, or the reference with edits."""
    reference = course.root / "release" / "solution" / f"{case.assignment}.ipynb"
    if case.raw is not None:
        path.write_bytes(case.raw)
        return
    if case.write is not None:
        case.write(reference, path)
        return
    fill = ctx["fill"]
    answers = {}
    for i, (eid, new) in enumerate(case.answers.items()):

        def make(old, new=new, first=(i == 0)):
            text = fill(new(old) if callable(new) else new)
            if first and case.canary and SANDBOX and not text.startswith("%%"):
                text = fill(CANARY_PY) + text
            return text

        answers[eid] = make
    with_answers(reference, answers, path)
    if case.notebook_fn is not None:
        nb = nbformat.read(str(path), as_version=4)
        case.notebook_fn(nb, ctx)
        # plain JSON: nbformat.write would repair or reject what the case broke on purpose
        path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


# The corpus attacks the pipeline (files, cells, exports, the kernel, the sandbox), graded on
# ps1 unless a case says otherwise. ps1's tensor exercises (the function kind: its own hostile
# tests are tests/test_function_hostile.py) make every ps1 kernel import torch, a second of the
# ~1.5 s a grading takes: a case that neither answers them nor uses torch is graded on the same
# course without them (ps1's exercises by hand, and ps2), whose setup imports nothing.
TENSOR_EXERCISES = frozenset({"corr1d-function", "conv1d-function", "corr2d-function"})
SETUP_IMPORT = "import torch  # for the function exercises (their inputs are tensors)\n"


def _needs_tensors(case: Case) -> bool:
    named = {*case.answers, *case.max_points_for, *case.message, *case.keep_full}
    texts = [a if isinstance(a, str) else inspect.getsource(a) for a in case.answers.values()]
    for fn in (case.notebook_fn, case.write):
        if fn is not None:
            texts.append(inspect.getsource(fn))
    return (
        case.assignment not in ("ps1", "ps2")
        or bool(named & TENSOR_EXERCISES)
        or any("torch" in text for text in texts)
        or (case.raw is not None and b"torch" in case.raw)
    )


@pytest.fixture(scope="session")
def by_hand_course(tmp_path_factory):
    """The shipped course with ps1's exercises by hand and ps2 only, built once."""
    root = tmp_path_factory.mktemp("by-hand")
    copy_course(root)
    spec = yaml.safe_load((root / "course.yaml").read_text())
    by_id = {a["id"]: a for a in spec["assignments"]}
    by_id["ps1"]["exercises"] = [e for e in by_id["ps1"]["exercises"] if e not in TENSOR_EXERCISES]
    spec["assignments"] = [by_id["ps1"], by_id["ps2"]]
    (root / "course.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    topic = root / "exercises" / "correlation.yaml"
    text = topic.read_text()
    assert SETUP_IMPORT in text, "the correlation setup's torch import moved: update this test"
    topic.write_text(text.replace(SETUP_IMPORT, ""))
    mine = load_course(root / "course.yaml")
    build(mine, root / "release")
    return mine


def _text(ex) -> str:
    parts = [ex.message]
    if ex.error is not None:
        parts += [ex.error.ename, ex.error.evalue, ex.error.traceback]
    return "\n".join(parts).lower()


@pytest.mark.filterwarnings("ignore::nbformat.warnings.DuplicateCellId")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_submission(case: Case, request, tmp_path, monkeypatch):
    if case.sandbox and not SANDBOX:
        pytest.skip("needs bubblewrap (bwrap) for the sandbox")
    if _needs_tensors(case):
        course, _ = request.getfixturevalue("built_course")
    else:
        course = request.getfixturevalue("by_hand_course")
    token = uuid.uuid4().hex[:16]
    # Kernels of this case run under this folder: their command lines name it.
    work_tmp = tmp_path / "grading"
    work_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work_tmp))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    ctx = _context(case, course, tmp_path, token, listener.getsockname()[1])
    path = tmp_path / f"{case.assignment}.ipynb"
    _submission(case, course, ctx, path)
    submitted = _digest(path)
    before_course = _snapshot(course.root)
    key = json.loads((course.root / "release" / "key" / f"{case.assignment}.json").read_text())
    kernels_before = _pgrep("ipykernel_launcher")
    options = GradeOptions(limits=case.all_limits(), sandbox="require" if SANDBOX else "auto")
    max_seconds = case.max_seconds or case.all_limits()["timeout"] + 30

    failure: BaseException | None = None
    # A grader that hangs (say, on a FIFO planted in the export folder) must not hang the
    # suite: dump every thread's stack and exit well past the case's own time limit.
    faulthandler.dump_traceback_later(max_seconds + 120, exit=True)
    try:
        started = time.monotonic()
        if case.error is not None:
            with pytest.raises(SubmissionError) as err:
                grade(
                    path,
                    course,
                    case.assignment if case.explicit_assignment else None,
                    options=options,
                )
            text = str(err.value)
            assert "\n" not in text, f"not one line: {text!r}"
            assert path.name in text, f"the message does not name the file: {text!r}"
            assert case.error.lower() in text.lower(), text
            result = None
        else:
            result = grade(
                path, course, case.assignment if case.explicit_assignment else None, options=options
            )
        elapsed = time.monotonic() - started
        assert elapsed < max_seconds, f"grading took {elapsed:.0f} s"

        if result is not None:
            by_id = {e.id: e for e in result.exercises}
            assert set(case.max_points_for) <= set(by_id)
            for e in result.exercises:
                assert 0 <= e.score <= e.points, (e.id, e.score, e.points)
            assert result.score == pytest.approx(sum(e.score for e in result.exercises))
            assert result.score <= result.max_score
            for eid, bound in case.max_points_for.items():
                ex = by_id[eid]
                assert ex.score <= bound + 1e-9, (
                    f"{eid} earned {ex.score}/{ex.points} ({ex.status}: {ex.message})"
                )
            must_be_full = (
                [e.id for e in result.exercises if e.id not in case.max_points_for]
                if case.others_full
                else list(case.keep_full)
            )
            short = {
                eid: f"{by_id[eid].score}/{by_id[eid].points} {by_id[eid].status}: "
                f"{by_id[eid].message}"
                for eid in must_be_full
                if by_id[eid].score < by_id[eid].points
            }
            assert not short, f"other exercises lost marks: {short}"
            for eid, wanted in case.message.items():
                options_ = (wanted,) if isinstance(wanted, str) else wanted
                text = _text(by_id[eid])
                assert any(w.lower() in text for w in options_), (
                    f"{eid}: none of {options_} in {by_id[eid].message!r} / {by_id[eid].error}"
                )
            notices = "\n".join(result.notices).lower()
            for wanted in case.notices:
                assert wanted.lower() in notices, f"{wanted!r} not in notices {result.notices}"
            seed = str(key.get("seed", ""))
            if len(seed) >= 6:
                assert seed not in json.dumps(result.to_dict()), "the key's secret seed leaked"
    except (Exception, pytest.fail.Exception) as e:  # reported below, with the host checks
        failure = e
    finally:
        faulthandler.cancel_dump_traceback_later()
        # --- the host is untouched (checked even when grading failed, and cleaned up) ---------
        time.sleep(0.3)
        deadline = time.monotonic() + 3
        while True:
            new = {
                p
                for p in _pgrep("ipykernel_launcher") - kernels_before
                if str(work_tmp) in _cmdline(p)
            }
            leftovers = new | _pgrep(token)
            if not leftovers or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        described = {p: _cmdline(p)[:200] for p in leftovers}
        for pid in leftovers:  # started by this case: stop them so the next case starts clean
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        escaped = [p for p in ctx["canaries"] if p.exists() or p.is_symlink()]
        for p in escaped:
            p.unlink(missing_ok=True)
        after_course = _snapshot(course.root)
        changed = sorted(
            str(p)
            for p in set(before_course) | set(after_course)
            if before_course.get(p) != after_course.get(p)
        )
        for p in set(after_course) - set(before_course):
            p.unlink(missing_ok=True)
        for p, data in before_course.items():
            if after_course.get(p) != data:
                p.write_bytes(data)
        listener.setblocking(False)
        connected = False
        try:
            conn, _ = listener.accept()
            conn.close()
            connected = True
        except BlockingIOError:
            pass
        listener.close()

    problems = []
    if escaped:
        problems.append(f"the submission wrote outside its work dir: {escaped}")
    if changed:
        problems.append(f"the submission changed the course: {changed}")
    if _digest(path) != submitted:
        problems.append("the submission file was modified")
    if connected:
        problems.append("the submission connected to the host's loopback")
    if leftovers:
        problems.append(f"processes left running: {described}")
    if problems and failure is not None:
        raise AssertionError(
            f"{failure!r}\nand the host was touched:\n" + "\n".join(problems)
        ) from failure
    if failure is not None:
        raise failure
    assert not problems, "the host was touched:\n" + "\n".join(problems)
