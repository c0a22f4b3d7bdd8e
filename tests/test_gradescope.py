"""The Gradescope autograder: who a submission is graded as (the metadata is hostile input),
which file of a submission folder is graded (links, hidden files, checkpoints), what the zip
holds (the course its key was made from), and a real run of its run_autograder."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile

import nbformat
import pytest
from autograder import run_autograder, unpack
from click.testing import CliRunner
from test_variants import write as write_variant_course

from grader import load_course
from grader.cli import main
from grader.errors import GraderError, SubmissionError
from grader.gradescope import build_autograder, pick_notebook, submitter
from grader.identity import identify
from grader.key import AnswerKey, key_path, save_key
from grader.render import render_assignment
from grader.roster import (
    SECRET_FILE,
    Student,
    read_roster,
    save_roster,
    signature,
    variant_of,
)

SECRET = b"a-fixed-course-secret"

# --- who submitted: submission_metadata.json -------------------------------------------------


@pytest.fixture
def roster_release(tmp_path):
    """A course with per-student numbers and a roster release (alice, bob, carol): no kernel."""
    course = load_course(write_variant_course(tmp_path))
    (tmp_path / SECRET_FILE).write_text(SECRET.decode() + "\n")
    save_roster(tmp_path / "release", read_roster(tmp_path / "roster.csv"), SECRET)
    return course, tmp_path / "release"


def metadata(tmp_path, data, name="submission_metadata.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def user(**fields):
    return {"users": [fields]}


STRANGER = {"email": "someone@else.org", "name": "S", "sid": "", "id": 4242}


@pytest.mark.parametrize(
    "data,student,flag",
    [
        (user(email="Alice@Example.org", id=1, sid=""), "alice", ""),
        (user(email="ＡＬＩＣＥ@example.org", id=1), "alice", ""),  # NFKC, case-folded
        (user(email="", sid=" BOB ", id=2), "bob", ""),
        (user(**STRANGER), "gradescope-4242", "not on the roster"),
        (user(email="x@y.org", id="4242"), "gradescope-4242", "not on the roster"),
        # the email and the sid name two students: the email wins, the staff are told
        (user(email="alice@example.org", sid="bob", id=3), "alice", "student id is bob's"),
        # a group: the roster's student first, whatever order the metadata lists them in
        ({"users": [STRANGER, {"email": "bob@example.org", "id": 9}]}, "bob", "group"),
        ({"users": [{"id": 77}, {"id": 5}]}, "gradescope-5", "group submission of 2"),
    ],
)
def test_the_submitter_is_the_roster_student_else_their_gradescope_id(
    roster_release, tmp_path, data, student, flag
):
    _, release = roster_release
    found = submitter(release, metadata(tmp_path, data))
    assert found.student == student
    assert (flag in " ".join(found.flags)) if flag else found.flags == ()


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        pytest.param("[" * 100_000 + "]" * 100_000, id="nested too deeply to parse"),
        pytest.param('{"users": [{"id": 1' + "0" * 5000 + "}]}", id="an int of 5000 digits"),
        {"users": "alice"},
        {"users": [1, None, "alice@example.org"]},
        {"nobody": []},
        {"users": []},
        {
            "users": [
                {"id": uid, "email": "stranger@else.org"}
                for uid in (True, -5, 0, 1.5, "４２", "12abc", 10**30, None, [1])
            ]
        },
        pytest.param(user(email="alice@example.org" + " " * 300, id=None), id="long email"),
        pytest.param({"users": [{"id": n} for n in range(1, 200)]}, id="199 users"),
    ],
)
def test_metadata_that_names_no_usable_submitter_never_lets_the_notebook_choose(
    roster_release, tmp_path, data
):
    _, release = roster_release
    found = submitter(release, metadata(tmp_path, data))
    assert found.student == "gradescope-unknown"
    assert "numbers no student was given" in found.flags[-1]


def test_metadata_that_is_a_link_a_folder_too_large_or_missing_is_not_read(
    roster_release, tmp_path
):
    _, release = roster_release
    real = metadata(tmp_path, user(email="alice@example.org", id=1), "real.json")
    (tmp_path / "link.json").symlink_to(real)
    big = metadata(tmp_path, {"users": [], "pad": "x" * (2 << 20)}, "big.json")
    (tmp_path / "folder.json").mkdir()
    for path in (tmp_path / "link.json", big, tmp_path / "folder.json", tmp_path / "none.json"):
        found = submitter(release, path)
        assert found.student == "gradescope-unknown" and len(found.flags) == 1, path


def test_without_a_roster_nobody_is_chosen(spec_path, tmp_path):
    found = submitter(tmp_path / "release", metadata(tmp_path, user(**STRANGER)))
    assert (found.student, found.flags) == ("", ())


def test_an_unmatched_submitter_gets_the_numbers_of_their_gradescope_id(roster_release, tmp_path):
    course, release = roster_release
    who = submitter(release, metadata(tmp_path, user(**STRANGER)))
    # alice's own notebook, correctly signed, handed in by someone Gradescope knows as 4242
    mine = variant_of(SECRET, course, "a1", "alice")
    claim = {
        "grader": {
            "student": "alice",
            "variant": mine,
            "signature": signature(SECRET, course, "a1", "alice", mine),
        }
    }
    identity = identify(course, release, "a1", claim, who.student)
    assert identity.variant == variant_of(SECRET, course, "a1", "gradescope-4242") != mine
    assert identity.flags == ("this notebook was made for student alice, not for gradescope-4242",)
    unknown = identify(course, release, "a1", claim, "gradescope-unknown")
    assert unknown.variant not in (mine, "") and unknown.variant != identity.variant


# --- which file is graded: the submission folder ----------------------------------------------


def notebook_file(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_assignments_notebook_is_graded_never_a_checkpoint_link_or_hidden_file(tmp_path):
    folder = tmp_path / "submission"
    notebook_file(folder / ".ipynb_checkpoints" / "ps1-checkpoint.ipynb")
    notebook_file(folder / "._ps1.ipynb")  # macOS's resource fork
    notebook_file(folder / "~ps1.ipynb")
    notebook_file(folder / "ps1-checkpoint.ipynb")
    notebook_file(folder / "deep" / "ps1.ipynb")
    (folder / "secret.ipynb").symlink_to("/etc/passwd")
    (folder / "dir.ipynb").mkdir()
    with pytest.raises(SubmissionError, match=r"'secret.ipynb' is a link, not a notebook"):
        pick_notebook(folder, "ps1")
    notebook_file(folder / "my work.ipynb")
    assert pick_notebook(folder, "ps1") == folder / "my work.ipynb"  # the only one
    notebook_file(folder / "PS1.ipynb")
    assert pick_notebook(folder, "ps1") == folder / "PS1.ipynb"  # the assignment's, first
    (folder / "ps1.ipynb").symlink_to(folder / "my work.ipynb")
    assert pick_notebook(folder, "ps1") == folder / "PS1.ipynb"  # a link is never it


def test_several_notebooks_none_or_thousands_of_files_is_one_line(tmp_path, monkeypatch):
    folder = tmp_path / "submission"
    folder.mkdir()
    with pytest.raises(
        SubmissionError,
        match=r"^the submission holds no notebook: hand in "
        r"ps1\.ipynb$",
    ):
        pick_notebook(folder, "ps1")
    for name in ("b.ipynb", "a\n::error::x\x1b[2J.ipynb", *(f"n{i}.ipynb" for i in range(6))):
        notebook_file(folder / name)
    with pytest.raises(SubmissionError) as refused:
        pick_notebook(folder, "ps1")
    message = str(refused.value)
    assert message.startswith("the submission holds 8 notebooks (") and "and 3 more" in message
    assert "\n" not in message and "\x1b" not in message and "::" not in message
    import grader.gradescope.submission as submission

    monkeypatch.setattr(submission, "MAX_ENTRIES", 5)
    with pytest.raises(SubmissionError, match="more than 5 files"):
        pick_notebook(folder, "ps1")


# --- the zip ---------------------------------------------------------------------------------

CHECKS_PY = '''"""Public checks of topic t."""


def positive(x):
    return None if x > 0 else "the answer is positive"
'''


@pytest.fixture
def checked_course(tmp_path, write_course):
    """The small course with a public check (checks/t.py) and a course.yaml in CRLF lines:
    both are part of what the course's fingerprint reads."""
    from conftest import COURSE_YAML, TOPIC_YAML

    topic = TOPIC_YAML.replace("      name: x\n", "      name: x\n    public: {check: positive}\n")
    path = write_course(tmp_path / "course", exercises={"t": topic})
    path.write_bytes(COURSE_YAML.replace("\n", "\r\n").encode())
    (path.parent / "checks").mkdir()
    (path.parent / "checks" / "t.py").write_text(CHECKS_PY)
    return load_course(path)


def test_the_zip_holds_the_course_its_key_was_made_from_and_is_the_same_each_time(
    checked_course, tmp_path
):
    course = checked_course
    # a stored key of this version of the course: the zip is packed without running anything
    key = AnswerKey("a1", course.fingerprint, {"t-num": 42, "t-arr": [1.0, 2.0]})
    save_key(key, key_path(course.root / "release", "a1"))
    first = build_autograder(course, "a1", tmp_path / "one.zip")
    again = build_autograder(course, "a1", tmp_path / "two.zip")
    assert first.read_bytes() == again.read_bytes()
    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        assert names[:2] == ["run_autograder", "setup.sh"]
        assert names[2:] == sorted(names[2:])
        assert {
            "course/course.yaml",
            "course/exercises/t.yaml",
            "course/solutions/t.py",
            "course/checks/t.py",
            "course/release/key/a1.json",
            "requirements.txt",
            "grader/cli.py",
            "grader/templates/gradescope/run_autograder",
        } <= set(names)
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
        assert (zf.getinfo("run_autograder").external_attr >> 16) & 0o777 == 0o755
        run = zf.read("run_autograder").decode()
        setup = zf.read("setup.sh").decode()
        zf.extractall(tmp_path / "source")
    assert "@" not in run.replace("$@", "") and "--sandbox require" in run
    assert '"$ROOT/venv/bin/python"' in run and "python3 -m grader" not in run
    assert 'python3 -m venv "$ROOT/venv"' in setup and '"$PIP" install' in setup
    assert not any(line.lstrip().startswith(("pip", "pip3")) for line in setup.splitlines())
    packed = load_course(tmp_path / "source" / "course" / "course.yaml")
    assert packed.fingerprint == course.fingerprint
    assert (tmp_path / "source" / "course" / "course.yaml").read_bytes() == course.path.read_bytes()
    # setup.sh did not run (no venv): Gradescope still gets a results.json that says so
    done = subprocess.run(
        ["bash", str(tmp_path / "source" / "run_autograder")],
        env={**os.environ, "AUTOGRADER_ROOT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    data = json.loads((tmp_path / "results" / "results.json").read_text())
    assert done.returncode == 0 and (data["score"], data["tests"]) == (0, [])
    assert data["output"].startswith("The autograder failed before grading")


def test_the_autograder_always_sandboxes_and_refuses_a_roster_id_of_its_own(
    roster_release, tmp_path
):
    course, release = roster_release
    chosen = CliRunner().invoke(
        main, ["gradescope", "a1", "--course", str(course.path), "--sandbox", "off"]
    )
    assert chosen.exit_code == 2 and "No such option" in chosen.output
    assert "--sandbox" in chosen.output
    students = (*read_roster(tmp_path / "roster.csv"), Student("Gradescope-7"))
    save_roster(release, students, SECRET)
    for assignment in ("a1", "a2"):
        key = AnswerKey(assignment, course.fingerprint, {})
        save_key(key, key_path(release, assignment))
    with pytest.raises(GraderError, match="'Gradescope-7': ids starting with 'gradescope-'"):
        build_autograder(course, "a2", tmp_path / "ag.zip")


# --- a real run --------------------------------------------------------------------------------


def student_notebook(course, out, **answers):
    nb = render_assignment(course, course.assignment("a1"), "student")
    for cell in nb.cells:
        tag = cell.metadata.get("grader", {})
        if tag.get("role") == "answer" and tag.get("id") in answers:
            cell.source = answers[tag["id"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out))
    return out


@pytest.mark.kernel
def test_run_autograder_grades_the_students_notebook_with_the_key_in_the_zip(
    checked_course, tmp_path
):
    course = checked_course
    archive = tmp_path / "autograder.zip"
    made = CliRunner().invoke(
        main, ["gradescope", "a1", "--course", str(course.path), "--out", str(archive)]
    )
    assert made.exit_code == 0, made.output
    root = unpack(archive, tmp_path / "autograder")
    submission = root / "submission"
    right = {"t-num": "x = 42", "t-arr": "arr = [1.0, 2.0]"}
    student_notebook(course, submission / "a1.ipynb", **right)
    student_notebook(course, submission / ".ipynb_checkpoints" / "a1-checkpoint.ipynb")
    (submission / "solutions.ipynb").symlink_to(root / "source" / "course" / "solutions" / "t.py")
    key = root / "source" / "course" / "release" / "key" / "a1.json"
    before = (key.read_bytes(), key.stat().st_mtime_ns)
    data = run_autograder(root)
    assert (data["score"], data["max_score"]) == (5, 5)
    assert "another release" not in json.dumps(data)
    assert (key.read_bytes(), key.stat().st_mtime_ns) == before  # used as it is
    assert sorted(os.listdir(key.parent)) == ["a1.json"]
    # nothing to grade: results.json says so, 0 points, one line
    os.unlink(submission / "a1.ipynb")
    student_notebook(course, submission / "mine.ipynb", **right)
    student_notebook(course, submission / "copy.ipynb", **right)
    data = run_autograder(root)
    assert data["score"] == 0 and data["tests"] == []
    assert data["output"] == (
        "Your notebook could not be graded: the submission holds 2 notebooks ('copy.ipynb', "
        "'mine.ipynb'): hand in a1.ipynb only"
    )
