"""The version a release carries (the course fingerprint) and the key's seed: an edit of
course.yaml that changes no notebook keeps both; a change to what a notebook is made of
changes the version, and a key made again keeps its seed."""

from __future__ import annotations

import pytest
from conftest import COURSE_YAML

from grader import load_course
from grader.grading import which_assignment
from grader.key import AnswerKey, key_path, lasting_seed, load_key, save_key
from grader.keymaker import answer_key, key_seed
from grader.options import GradeOptions
from grader.render import render_assignment

POLICIES = """\
policies:
  late: {penalty: 30, per: day, grace: 15}
  extensions: extensions.csv
  attempts: best
"""


def _notice(course, nb):
    _, notices = which_assignment(course, nb, course.root / "a1.ipynb", None)
    return [n for n in notices if "another release" in n]


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text + POLICIES,  # the case
        lambda text: text.replace("due: 2030-01-31", "due: 2030-03-01T12:00:00+01:00"),
        lambda text: text.replace("    due: 2030-01-31\n", ""),
        lambda text: "# a comment\n" + text.replace("title: First", "title:   First  "),
        lambda text: text + "data:\n  cifar10: null\n",
    ],
    ids=["policies", "due date moved", "due date dropped", "comment and spacing", "data"],
)
def test_an_edit_that_makes_no_notebook_keeps_the_version(write_course, tmp_path, edit):
    path = write_course(tmp_path)
    (tmp_path / "extensions.csv").write_text("student,assignment,due\nalice,a1,+2\n")
    before = load_course(path)
    nb = render_assignment(before, before.assignment("a1"), "student")
    path.write_text(edit(path.read_text()))
    after = load_course(path)
    assert after.fingerprint == before.fingerprint
    assert _notice(after, nb) == []


@pytest.mark.parametrize(
    "where, old, new",
    [
        ("exercises/t.yaml", "x = ...", "x = 0  # a new starter"),
        ("exercises/t.yaml", "Compute the answer.", "Compute it."),
        ("exercises/t.yaml", "import math", "import math, cmath"),
        ("solutions/t.py", "x = 6 * 7", "x = 7 * 6"),
        ("course.yaml", "exercises: [t-num, t-arr]", "exercises: [t-arr, t-num]"),
        ("course.yaml", "title: First", "title: The first"),
        ("course.yaml", "name: Test course", "name: Test course\nlimits: {cell_timeout: 5}"),
    ],
    ids=["starter", "prompt", "setup", "solution", "order", "title", "limits"],
)
def test_a_change_to_what_a_notebook_is_made_of_is_another_release(
    write_course, tmp_path, where, old, new
):
    path = write_course(tmp_path)
    before = load_course(path)
    nb = render_assignment(before, before.assignment("a1"), "student")
    target = tmp_path / where
    assert target.read_text().count(old) == 1
    target.write_text(target.read_text().replace(old, new))
    after = load_course(path)
    assert after.fingerprint != before.fingerprint
    assert len(_notice(after, nb)) == 1


def test_a_remade_key_keeps_the_seed_of_the_one_it_replaces(tmp_path):
    path = key_path(tmp_path, "a1")
    save_key(AnswerKey("a1", "old", {"t-num": 1}, seed=123456), path)
    assert lasting_seed(path, b"secret", "Course", "a1") == 123456  # the stored key wins
    path.write_text("{ damaged")
    derived = lasting_seed(path, b"secret", "Course", "a1")
    assert derived == lasting_seed(tmp_path / "none.json", b"secret", "Course", "a1")
    assert derived != lasting_seed(tmp_path / "none.json", b"secret", "Course", "a2")
    assert derived != lasting_seed(tmp_path / "none.json", b"other", "Course", "a1")
    assert 0 <= derived < 2**31


def test_a_new_key_takes_its_seed_from_the_course_secret(write_course, tmp_path, monkeypatch):
    monkeypatch.delenv("GRADE_SECRET", raising=False)
    course = load_course(write_course(tmp_path, course=COURSE_YAML))
    options = GradeOptions(release=tmp_path / "release")
    (tmp_path / ".grade-secret").write_text("a course secret\n")
    seed = key_seed(course, "a1", options)
    assert seed == key_seed(course, "a1", GradeOptions(release=tmp_path / "elsewhere"))
    monkeypatch.setenv("GRADE_SECRET", "another secret")
    assert key_seed(course, "a1", options) != seed


@pytest.mark.kernel
def test_policies_keep_the_key_and_a_new_starter_remakes_it_with_its_seed(write_course, tmp_path):
    from grader.build import build

    path = write_course(tmp_path)
    course = load_course(path)
    release = tmp_path / "release"
    build(course, release)
    stored = load_key(key_path(release, "a1"))
    options = GradeOptions(release=release)

    path.write_text(path.read_text() + "policies:\n  late: {penalty: 30}\n")
    assert answer_key(load_course(path), "a1", options) == stored  # not made again

    topic = tmp_path / "exercises" / "t.yaml"
    topic.write_text(topic.read_text().replace("x = ...", "x = ...  # your answer"))
    changed = load_course(path)
    remade = answer_key(changed, "a1", options)  # runs the solution again
    assert remade.fingerprint == changed.fingerprint != stored.fingerprint
    assert remade.seed == stored.seed and remade.values == stored.values

    build(changed, release)
    assert load_key(key_path(release, "a1")).seed == stored.seed


def test_a_variant_of_the_course_has_the_policies_and_due_dates_of_now(write_course, tmp_path):
    from grader.variants import for_variant

    path = write_course(tmp_path)
    text = (tmp_path / "exercises" / "t.yaml").read_text()
    (tmp_path / "exercises" / "t.yaml").write_text(
        text.replace("setup: |\n", "params:\n  n: {int: [1, 9], default: 5}\nsetup: |\n")
    )
    before = for_variant(load_course(path), "a1", "v1")
    path.write_text(path.read_text().replace("due: 2030-01-31", "due: 2030-02-28") + POLICIES)
    (tmp_path / "extensions.csv").write_text("student,assignment,due\nalice,a1,+2\n")
    now = load_course(path)
    after = for_variant(now, "a1", "v1")
    assert now.fingerprint == before.fingerprint  # the same release
    assert after.policies == now.policies != before.policies
    assert after.assignment("a1").due == now.assignment("a1").due != before.assignment("a1").due
    assert after.topics["t"].values == before.topics["t"].values  # the same numbers
