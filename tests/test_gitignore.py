"""`grade build` writes the course's .gitignore when it has none: the course secret, the
answer keys, the gradebook and the reports stay out of its repository."""

from __future__ import annotations

import subprocess

from grader.locations import GITIGNORE, GRADEBOOK_FILE, REPORTS_FOLDER, write_gitignore
from grader.roster import SECRET_FILE


def _ignored(root, *paths):
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths], cwd=root, capture_output=True, text=True
    )
    return set(done.stdout.split())


def test_it_names_the_files_grade_writes():
    lines = GITIGNORE.splitlines()
    assert {SECRET_FILE, GRADEBOOK_FILE, f"{REPORTS_FOLDER}/", "release/key/"} <= set(lines)


def test_git_ignores_the_private_files_and_keeps_the_course(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert write_gitignore(tmp_path, tmp_path / "release") == tmp_path / ".gitignore"
    private = [
        ".grade-secret",
        "release/key/ps1.json",
        "gradebook.db",
        "gradebook.db-wal",
        "reports/ps1/alice.report.html",
        "submissions/alice/ps1.ipynb",
    ]
    kept = ["course.yaml", "exercises/a.yaml", "solutions/a.py", "release/student/ps1.ipynb"]
    assert _ignored(tmp_path, *private, *kept) == set(private)


def test_an_existing_gitignore_is_left_alone_and_a_release_elsewhere_is_named(tmp_path):
    (tmp_path / ".gitignore").write_text("mine\n")
    assert write_gitignore(tmp_path, tmp_path / "release") is None
    assert (tmp_path / ".gitignore").read_text() == "mine\n"
    other = tmp_path / "other"
    other.mkdir()
    write_gitignore(other, other / "out")
    assert "out/key/" in (other / ".gitignore").read_text().splitlines()
    third = tmp_path / "third"
    third.mkdir()
    write_gitignore(third, tmp_path / "elsewhere")
    assert "key/" not in (third / ".gitignore").read_text()
