"""Where a command's files are when the user does not say (grader.locations): real folders."""

from __future__ import annotations

import pytest

from grader.errors import GraderError, SpecError
from grader.locations import (
    autograder_zip,
    course_or_handout,
    existing_gradebook,
    find_course,
    gradebook_path,
    locate_course,
    release_folder,
    report_files,
    reports_folder,
)


def test_the_course_is_found_in_or_above_the_folder_or_the_notebooks(
    spec_path, tmp_path, monkeypatch
):
    deep = spec_path.parent / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert locate_course(None) == spec_path
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert locate_course(None) is None
    assert locate_course(None, deep / "x.ipynb") == spec_path  # beside the notebook
    assert str(locate_course("given/course.yaml")) == "given/course.yaml"  # as given
    assert find_course(None, deep / "x.ipynb").path == spec_path
    with pytest.raises(SpecError, match=r"no course\.yaml found here or above"):
        find_course(None)


def test_a_notebook_is_graded_with_its_course_else_its_handout(spec_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    course, handout = course_or_handout(None, tmp_path / "x.ipynb")
    assert course is not None and course.path == spec_path and handout is None

    student = tmp_path.parent / f"{tmp_path.name}-student"
    (student / "work").mkdir(parents=True)
    (student / "grade-handout.json").write_text("{}")
    monkeypatch.chdir(student / "work")
    assert course_or_handout(None, student / "work" / "x.ipynb") == (
        None,
        student / "grade-handout.json",
    )
    (student / "grade-handout.json").unlink()
    with pytest.raises(SpecError, match=r"no course\.yaml or grade-handout\.json found"):
        course_or_handout(None, student / "work" / "x.ipynb")


def test_report_files_beside_the_notebook_or_in_out(tmp_path):
    nb = tmp_path / "sub" / "my work.ipynb"
    assert report_files(nb) == (
        tmp_path / "sub" / "my work.report.html",
        tmp_path / "sub" / "my work.results.json",
    )
    assert report_files(nb, tmp_path / "out")[1] == tmp_path / "out" / "my work.results.json"


def test_gradebook_and_reports_default_beside_the_course(small_course, tmp_path):
    root = small_course.root
    assert gradebook_path(None, small_course) == root / "gradebook.db"
    assert gradebook_path(tmp_path / "g.db", small_course) == tmp_path / "g.db"
    assert reports_folder(None, small_course) == root / "reports"
    assert reports_folder(tmp_path / "r", small_course) == tmp_path / "r"
    with pytest.raises(GraderError, match=r"gradebook\.db: no gradebook yet"):
        existing_gradebook(None, small_course)
    (root / "gradebook.db").write_bytes(b"")
    assert existing_gradebook(None, small_course) == root / "gradebook.db"


def test_release_and_autograder_defaults(small_course, tmp_path):
    assert release_folder(None, small_course) == small_course.root / "release"
    assert release_folder(str(tmp_path / "r"), small_course) == tmp_path / "r"
    assert autograder_zip(None, small_course, "a1").name == "autograder-a1.zip"
    assert autograder_zip(tmp_path / "z.zip", small_course, "a1") == tmp_path / "z.zip"
    with pytest.raises(SpecError, match="unknown assignment 'zz'"):
        autograder_zip(None, small_course, "zz")
