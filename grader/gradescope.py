"""A Gradescope autograder for one assignment: ``grade gradescope ps1 --out autograder.zip``.

The zip holds ``setup.sh`` (installs the grader's requirements and bubblewrap),
``run_autograder`` (grades ``/autograder/submission`` with ``grade ci`` and writes
``/autograder/results/results.json``, always), this grader package, and the course with
the assignment's answer key. Gradescope keeps an autograder from students, but their code
runs in its container: the kernel's sandbox is what keeps it from the course's solutions
and key (``--sandbox require`` refuses to grade without it).

With a roster (per-student numbers) the zip also holds the roster, the keys of every
variant and the course secret, and ``run_autograder`` passes Gradescope's
``submission_metadata.json``: the submitter (matched to the roster by email, else by
student id) is the student graded, whatever the notebook claims.
"""

from __future__ import annotations

import json
import re
import stat
import zipfile
from importlib import resources
from pathlib import Path

from . import distribution
from .errors import GraderError
from .execute.sandbox import GRADER_PACKAGE, SandboxMode
from .key import key_path
from .pipeline import GradeOptions, answer_key
from .roster import SECRET_FILE, checked_secret, load_roster, roster_path, variant_of
from .spec import Course
from .variants import DEFAULT, for_variant

EXECUTABLE = stat.S_IFREG | 0o755


def requirements() -> list[str]:
    """The grader's own requirements, torch aside (setup.sh installs its CPU build)."""
    return [r for r in distribution.requirements() if not re.match(r"torch\b", r)]


def build_autograder(
    course: Course,
    assignment_id: str,
    out: Path,
    options: GradeOptions = GradeOptions(),
    sandbox: SandboxMode = "auto",
) -> Path:
    """Write the autograder zip of one assignment (its answer key made first if stale)."""
    assignment = course.assignment(assignment_id)
    answer_key(course, assignment.id, options)
    release = options.release_dir(course)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        templates = resources.files("grader").joinpath("templates", "gradescope")
        run = templates.joinpath("run_autograder").read_text(encoding="utf-8")
        run = run.replace("@ASSIGNMENT@", assignment.id).replace("@SANDBOX@", sandbox)
        _add(zf, "run_autograder", run, executable=True)
        _add(
            zf,
            "setup.sh",
            templates.joinpath("setup.sh").read_text(encoding="utf-8"),
            executable=True,
        )
        _add(zf, "requirements.txt", "\n".join(requirements()) + "\n")
        for path in sorted(GRADER_PACKAGE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, f"grader/{path.relative_to(GRADER_PACKAGE).as_posix()}")
        files = [course.path]
        for topic in course.topics.values():
            files.append(Path(topic.path))
            solution = course.solutions_dir / f"{topic.id}.py"
            if solution.is_file():
                files.append(solution)
        if course.policies.extensions_file:
            files.append(course.root / course.policies.extensions_file)
        for path in files:  # where course.yaml says they are
            try:
                name = path.resolve().relative_to(course.root.resolve()).as_posix()
            except ValueError:
                raise GraderError(
                    f"{path} is outside the course folder: an autograder packs the folder"
                ) from None
            _add(zf, f"course/{name}", path.read_text(encoding="utf-8"))
        key = key_path(release, assignment.id)
        _add(zf, f"course/release/key/{key.name}", key.read_text(encoding="utf-8"))
        _add_roster(zf, course, assignment.id, options)
    tmp.replace(out)
    return out


def _add_roster(
    zf: zipfile.ZipFile, course: Course, assignment_id: str, options: GradeOptions
) -> None:
    """With a roster: the roster, each student's key and the course secret (the autograder
    grades each submitter against their own numbers)."""
    release = options.release_dir(course)
    roster = load_roster(release)
    if roster is None:
        return
    secret = checked_secret(course, roster)
    _add(zf, "course/release/key/roster.json", roster_path(release).read_text(encoding="utf-8"))
    _add(zf, f"course/{SECRET_FILE}", secret.decode() + "\n")
    base = for_variant(course, assignment_id, DEFAULT)
    for variant in sorted({variant_of(secret, course, assignment_id, s) for s in roster.ids()}):
        if variant:
            answer_key(for_variant(base, assignment_id, variant), assignment_id, options)
            path = key_path(release, assignment_id, variant)
            _add(zf, f"course/release/key/{assignment_id}/{path.name}", path.read_text("utf-8"))


def submitter(release: Path, metadata: Path) -> tuple[str, str]:
    """The roster's student who submitted on Gradescope (``submission_metadata.json``), by
    email, else by student id: ``(id, "")``, or ``("", why not)``."""
    roster = load_roster(release)
    if roster is None:
        return "", ""
    try:
        users = json.loads(metadata.read_text(encoding="utf-8")).get("users") or []
    except (OSError, ValueError, AttributeError) as e:
        return "", f"Gradescope's submission metadata cannot be read ({e})"
    by_email = {s.email.lower(): s.id for s in roster.students if s.email}
    ids = set(roster.ids())
    for user in users if isinstance(users, list) else []:
        if not isinstance(user, dict):
            continue
        email, sid = str(user.get("email") or "").lower(), str(user.get("sid") or "")
        if email in by_email:
            return by_email[email], ""
        if sid in ids:
            return sid, ""
    return "", "the Gradescope submitter is not on the roster: graded as the notebook's student"


def _add(zf: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (EXECUTABLE if executable else stat.S_IFREG | 0o644) << 16
    zf.writestr(info, text)
