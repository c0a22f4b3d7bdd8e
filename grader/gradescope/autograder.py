"""The autograder zip of one assignment: ``grade gradescope ps1 --out autograder.zip``.

It holds ``setup.sh`` (bubblewrap, and the grader's requirements in a virtual environment),
``run_autograder`` (grades ``/autograder/submission`` with ``grade ci --sandbox require``
and writes ``/autograder/results/results.json``, always), this grader package, and the course
files the answer key was made from: every file the course's fingerprint reads (course.yaml,
the exercises, solutions and public checks), so the key in the zip is used as it is and no
student is told their notebook comes from another release. The build checks that: the
packed course must load with the fingerprint of the key. Entries are written in a fixed
order with fixed times and modes: the same course gives the same zip.
"""

from __future__ import annotations

import re
import shlex
import stat
import tempfile
import zipfile
from importlib import resources
from pathlib import Path

from .. import distribution
from ..errors import GraderError
from ..execute.sandbox import GRADER_PACKAGE
from ..key import key_path
from ..keymaker import answer_key
from ..options import GradeOptions
from ..roster import SECRET_FILE, checked_secret, load_roster, roster_path, variant_of
from ..spec import Course
from ..spec.varying import DEFAULT
from ..students import normalised
from ..variants import for_variant, load_default_course
from .submitter import PREFIX

EXECUTABLE = stat.S_IFREG | 0o755
REGULAR = stat.S_IFREG | 0o644
WHEN = (2026, 1, 1, 0, 0, 0)  # every entry's time: the zip depends on its contents only


def requirements() -> list[str]:
    """The grader's own requirements, torch aside (setup.sh installs its CPU build)."""
    return [r for r in distribution.requirements() if not re.match(r"torch\b", r)]


def build_autograder(
    course: Course, assignment_id: str, out: Path, options: GradeOptions = GradeOptions()
) -> Path:
    """Write the autograder zip of one assignment (its answer key made first if stale)."""
    assignment = course.assignment(assignment_id)
    key = answer_key(course, assignment.id, options)
    release = options.release_dir(course)
    files = {f"course/{name}": data for name, data in course_files(course).items()}
    _check_packed(course, files, key.fingerprint)
    key_file = key_path(release, assignment.id)
    files[f"course/release/key/{key_file.name}"] = key_file.read_bytes()
    files.update(_roster_files(course, assignment.id, options))
    templates = resources.files("grader").joinpath("templates", "gradescope")
    run = templates.joinpath("run_autograder").read_text(encoding="utf-8")
    run = run.replace("@ASSIGNMENT@", shlex.quote(assignment.id))
    run = run.replace("@COURSE_FILE@", shlex.quote(course.path.name))
    scripts = {
        "run_autograder": run.encode(),
        "setup.sh": templates.joinpath("setup.sh").read_bytes(),
    }
    files["requirements.txt"] = ("\n".join(requirements()) + "\n").encode()
    for path in GRADER_PACKAGE.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[f"grader/{path.relative_to(GRADER_PACKAGE).as_posix()}"] = path.read_bytes()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in scripts.items():
            _add(zf, name, data, EXECUTABLE)
        for name in sorted(files):
            _add(zf, name, files[name], REGULAR)
    tmp.replace(out)
    return out


def course_files(course: Course) -> dict[str, bytes]:
    """The course's own files, by their path in the course folder, as bytes: course.yaml,
    every topic's exercises, solutions and public checks, and the extensions file."""
    paths = [course.path]
    for topic in course.topics.values():
        paths.append(Path(topic.path))
        for folder in (course.solutions_dir, course.checks_dir):
            if (folder / f"{topic.id}.py").is_file():
                paths.append(folder / f"{topic.id}.py")
    if course.policies.extensions_file:
        paths.append(course.root / course.policies.extensions_file)
    root = course.root.resolve()
    files: dict[str, bytes] = {}
    for path in paths:  # where course.yaml says they are
        try:
            name = path.resolve().relative_to(root).as_posix()
        except ValueError:
            raise GraderError(
                f"{path} is outside the course folder: an autograder packs the folder"
            ) from None
        files[name] = path.read_bytes()
    return files


def _check_packed(course: Course, files: dict[str, bytes], fingerprint: str) -> None:
    """The packed course must be the course the key was made from (else every submission
    would make its key again, and be told it comes from another release)."""
    with tempfile.TemporaryDirectory(prefix="grade-autograder-") as tmp:
        for name, data in files.items():
            path = Path(tmp, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            packed = load_default_course(Path(tmp) / "course" / course.path.name)
        except GraderError as e:
            raise GraderError(f"the course packed into the autograder does not load: {e}") from None
    if packed.fingerprint != fingerprint:
        raise GraderError(
            "the course packed into the autograder is not the one its answer key was made "
            "from (a file the course depends on is not packed)"
        )


def _roster_files(course: Course, assignment_id: str, options: GradeOptions) -> dict[str, bytes]:
    """With a roster: the roster, each student's key and the course secret (the autograder
    grades each submitter against their own numbers)."""
    release = options.release_dir(course)
    roster = load_roster(release)
    if roster is None:
        return {}
    taken = [s for s in roster.ids() if normalised(s).startswith(PREFIX)]
    if taken:
        raise GraderError(
            f"the roster has the student id {taken[0]!r}: ids starting with {PREFIX!r} are "
            "the autograder's, for submitters not on the roster"
        )
    secret = checked_secret(course, roster)
    files = {
        "course/release/key/roster.json": roster_path(release).read_bytes(),
        f"course/{SECRET_FILE}": secret + b"\n",
    }
    base = for_variant(course, assignment_id, DEFAULT)
    for variant in sorted({variant_of(secret, course, assignment_id, s) for s in roster.ids()}):
        if variant:
            answer_key(for_variant(base, assignment_id, variant), assignment_id, options)
            path = key_path(release, assignment_id, variant)
            files[f"course/release/key/{assignment_id}/{path.name}"] = path.read_bytes()
    return files


def _add(zf: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=WHEN)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = mode << 16
    zf.writestr(info, data)
