"""Who a submission is graded for (ids compared as grader.students says, the roster's spelling
recorded), the flags where a claim does not hold, and every student view of a flagged result
naming nobody else. No kernel: a roster release is its stored roster and the course secret."""

from __future__ import annotations

import json
import re

import pytest
from rich.console import Console
from test_variants import write

from grader import load_course
from grader.copying import References, canonical, copied_from
from grader.errors import GraderError, SpecError
from grader.execute.records import ExportRecord
from grader.flags import KINDS, OTHER, for_student, kind_of, needs_student
from grader.identity import identify
from grader.intake import collect
from grader.report import junit_xml, render_html, results_json, terminal_table, write_reports
from grader.report.formats import summary_text
from grader.results import ExerciseResult, GradeResult
from grader.roster import read_roster, save_roster, signature, variant_of
from grader.students import normalised, same_student

SECRET = b"the course secret"
CLASSMATE = ("bob", "Bob B", "bob@example.org")  # the roster's bob: id, name, e-mail


@pytest.fixture
def course(tmp_path, monkeypatch):
    """The variant course of test_variants with a roster release (alice, bob, carol)."""
    monkeypatch.setenv("GRADE_SECRET", SECRET.decode())
    course = load_course(write(tmp_path))
    save_roster(course.root / "release", read_roster(course.root / "roster.csv"), SECRET)
    return course


def made_for(course, student, assignment="a1"):
    """The metadata of the notebook a roster build makes for ``student``."""
    variant = variant_of(SECRET, course, assignment, student)
    sig = signature(SECRET, course, assignment, student, variant)
    return {"grader": {"student": student, "variant": variant, "signature": sig}}


def who(course, metadata, submitted_for="", assignment="a1"):
    return identify(course, course.root / "release", assignment, metadata, submitted_for)


@pytest.mark.parametrize(
    "given", ["alice", "Alice", "ALICE", " alice ", "ＡＬＩＣＥ", "ａｌｉｃｅ", "alice\n"]
)
def test_an_id_in_any_case_or_compatibility_form_is_the_roster_student(course, given):
    mine = who(course, made_for(course, "alice"), given)
    assert (mine.student, mine.flags, mine.notices) == ("alice", (), ())
    assert mine.variant == variant_of(SECRET, course, "a1", "alice")  # her own numbers


def test_a_notebook_made_for_a_classmate_is_flagged_with_names_for_the_staff_only(course):
    theirs = who(course, made_for(course, "bob"), "Alice")
    assert theirs.student == "alice"
    assert theirs.flags == ("this notebook was made for student bob, not for alice",)
    assert for_student(theirs.flags) == ("this notebook was made for another student",)
    # the claim alone decides nothing: it is checked against the signature
    edited = made_for(course, "bob")
    edited["grader"]["student"] = "alice"
    assert kind_of(who(course, edited).flags[0]) == "edited"
    assert kind_of(who(course, {}, "alice").flags[0]) == "unsigned"


def test_a_claim_that_is_no_id_is_flagged_and_graded_for_nobody(course):
    claimed = who(course, {"grader": {"student": "Bob B"}})
    assert claimed.student == "" and kind_of(claimed.flags[0]) == "bad-claim"
    assert "Bob B" in claimed.flags[0] and "Bob" not in " ".join(for_student(claimed.flags))
    with pytest.raises(GraderError, match="not a student id"):
        who(course, {}, "Bob B")


def test_graded_for_nobody_on_a_roster_course_is_flagged(course):
    nobody = who(course, {})
    assert nobody.student == "" and needs_student(nobody.flags)
    assert not needs_student(who(course, {}, "alice").flags)
    assert who(course, {}, assignment="a2").flags == ()  # nothing varies: the numbers are real


def test_an_id_off_the_roster_is_graded_by_its_normalised_form(course):
    zed = who(course, {}, "ZED")
    assert zed.student == "zed" and zed.variant == variant_of(SECRET, course, "a1", "zed")
    assert "not on the roster" in zed.notices[0]


def test_without_a_roster_ids_are_normalised_and_a_bad_claim_is_nobody(tmp_path):
    course = load_course(write(tmp_path))
    release = tmp_path / "release"
    assert identify(course, release, "a1", {}, "Alice").student == "alice"
    assert identify(course, release, "a1", {"grader": {"student": "ＢＯＢ"}}).student == "bob"
    assert identify(course, release, "a1", {"grader": {"student": "<b>x</b>"}}).student == ""


def test_a_build_roster_holds_each_student_once_whatever_the_case(tmp_path):
    (tmp_path / "r.csv").write_text("id\nalice\nbob\nALICE\n")
    with pytest.raises(SpecError, match="'ALICE' is also on line 2"):
        read_roster(tmp_path / "r.csv")
    assert (
        same_student("Ｋｅｌｖｉｎ", "kelvin") and normalised(" Alice \t Smith ") == "alice smith"
    )


# --- every student view of a flagged result names nobody else ----------------------------


def flagged_result(course, tmp_path):
    """A result carrying every kind of flag, each made by the code that makes it, naming the
    classmate bob (his id, his name) where the staff's words do."""
    folder = tmp_path / "class"
    (folder / "alice").mkdir(parents=True)
    (folder / "alice" / "bob.ipynb").write_bytes(b"{}")  # a file name that names bob
    (folder / "bob.ipynb").write_bytes(b"{}")
    intake = next(s for s in collect(folder, tmp_path / "copies") if s.student == "alice")
    edited = made_for(course, "bob")
    edited["grader"]["student"] = "alice"
    wrong = tuple(ExerciseResult(e, e, 1, 0, "failed") for e in ("e1", "e2"))
    copying, _ = copied_from(
        GradeResult("c", "a1", "x", 0, 2, 0, wrong),
        {
            "e1": ExportRecord({"ok": True, "value": 3}),
            "e2": ExportRecord({"ok": True, "value": 4}),
        },
        "alice",
        References({"e1": {canonical(3): ("bob",)}, "e2": {canonical(4): ("bob",)}}, 3),
    )
    flags = (
        *who(course, made_for(course, "bob"), "alice").flags,  # made for bob
        *who(course, edited).flags,
        *who(course, {}, "alice").flags,  # no claim at all
        *who(course, {"grader": {"student": "Bob B"}}).flags,  # a claim with his name
        *who(course, {}).flags,  # graded for nobody
        *intake.flags,
        copying,
        f"the Gradescope submitter {CLASSMATE[2]} is not on the roster",  # a kind not known
    )
    exercise = ExerciseResult("v-corr", "Correlate", 2, 0, "failed", message="wrong")
    return GradeResult(
        "Variant course",
        "a1",
        "alice.ipynb",
        0,
        3,
        1.0,
        (exercise,),
        student="alice",
        flags=flags,
        copied_from="bob",
    )


def test_every_student_view_of_a_flagged_result_names_no_classmate(course, tmp_path):
    result = flagged_result(course, tmp_path)
    kinds = {kind_of(f) for f in result.flags}
    assert kinds == set(KINDS) | {""}  # every kind in the table, and one it does not know
    assert any("bob" in f for f in result.flags)  # the staff's words name him
    console = Console(record=True, width=200)
    terminal_table(result, console)
    write_reports(result, tmp_path / "r.html", tmp_path / "r.json")
    views = {
        "html": render_html(result),
        "report file": (tmp_path / "r.html").read_text(),
        "results.json": (tmp_path / "r.json").read_text(),
        "results_json": json.dumps(results_json(result), ensure_ascii=False),
        "summary": summary_text(result),
        "junit": junit_xml(result),
        "terminal": console.export_text(),
    }
    for view, text in views.items():
        for name in CLASSMATE:
            assert not re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE), (view, name)
    assert "this notebook was made for another student" in views["html"]
    assert OTHER in views["terminal"] and "Flagged for the instructor" in views["html"]
    hidden = [t for t in json.loads(views["results.json"])["tests"] if t.get("visibility")]
    assert hidden[0]["output"].splitlines() == list(for_student(result.flags))


def test_the_staff_views_keep_the_names(course, tmp_path):
    result = flagged_result(course, tmp_path)
    console = Console(record=True, width=400)
    terminal_table(result, console, staff=True)
    text = console.export_text()
    assert "made for student bob" in text and "the numbers of: bob" in text
    hidden = next(t for t in results_json(result, staff=True)["tests"] if t.get("visibility"))
    assert "made for student bob, not for alice" in hidden["output"]


# --- the claim, read and checked -------------------------------------------------------------


@pytest.mark.parametrize(
    "metadata,claimed",
    [
        (None, {}),
        ([], {}),
        ({"grader": "alice"}, {}),
        ({"grader": {"student": 3, "variant": "v1", "signature": None}}, {"variant": "v1"}),
        (
            {"grader": {"student": "a", "variant": "v", "signature": "s", "id": "x"}},
            {"student": "a", "variant": "v", "signature": "s"},
        ),
    ],
)
def test_a_claim_is_its_text_fields_only(metadata, claimed):
    from grader.identity import claim

    assert claim(metadata) == claimed


def test_an_edited_variant_is_flagged_and_the_secret_decides_the_numbers(course):
    mine = made_for(course, "alice")
    forged = dict(mine["grader"], variant="0" * 12)
    found = who(course, {"grader": forged}, "alice")
    assert kind_of(found.flags[0]) == "edited" and len(found.flags) == 1
    assert found.variant == mine["grader"]["variant"] == variant_of(SECRET, course, "a1", "alice")
    unsigned = {k: v for k, v in mine["grader"].items() if k != "signature"}
    assert kind_of(who(course, {"grader": unsigned}, "alice").flags[0]) == "edited"


def test_without_a_roster_no_claim_is_checked_and_the_default_numbers_are_used(tmp_path):
    from grader.identity import Identity
    from grader.variants import DEFAULT

    course = load_course(write(tmp_path))
    forged = {"grader": {"student": "alice", "variant": "0" * 12, "signature": "forged"}}
    assert identify(course, tmp_path / "release", "a1", forged) == Identity(student="alice")
    assert Identity(student="alice").variant == DEFAULT and not Identity().roster
