"""Submissions from folders and LMS zips: who they belong to, and every bad file a row."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile

import pytest

from grader.errors import SubmissionError
from grader.intake import collect, read_roster

NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def by_source(found):
    return {s.source: s for s in found}


def test_a_folder_of_students(tmp_path):
    (tmp_path / "carol").mkdir()
    (tmp_path / "alice.ipynb").write_bytes(NB)
    (tmp_path / "carol" / "ps1.ipynb").write_bytes(NB + b" ")
    (tmp_path / "bob.pdf").write_bytes(b"%PDF")
    (tmp_path / ".DS_Store").write_bytes(b"x")
    found = by_source(collect(tmp_path, tmp_path / "copies"))
    assert set(found) == {"alice.ipynb", "carol/ps1.ipynb", "bob.pdf"}
    alice = found["alice.ipynb"]
    digest = hashlib.sha256(NB).hexdigest()
    assert (alice.student, alice.problem, alice.sha256) == ("alice", "", digest)
    # what is graded is the batch's own copy of the bytes hashed, named by their hash
    assert alice.path == tmp_path / "copies" / f"{digest}.ipynb" and alice.read() == NB
    assert alice.submitted_at.tzinfo is not None
    assert found["carol/ps1.ipynb"].student == "carol"
    assert (found["bob.pdf"].student, found["bob.pdf"].problem) == ("bob", "not a notebook (.pdf)")
    assert sorted(p.name for p in (tmp_path / "copies").iterdir()) == sorted(
        f"{s.sha256}.ipynb" for s in found.values() if not s.problem
    )


def write_zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 12, 8, 10, 30, 0))
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)


def test_a_canvas_zip_with_bad_entries(tmp_path):
    archive = tmp_path / "submissions.zip"
    write_zip(
        archive,
        {
            "doejane_12345_777_ps1.ipynb": NB,
            "roejohn_LATE_67890_778_ps1-1.ipynb": NB + b"\n",
            "../../escape.ipynb": NB,
            "/etc/passwd.ipynb": NB,
            "mallory.ipynb": b"0" * (60 * 2**20),  # past the size cap, squeezed small
            "bomb.ipynb": b"\0" * (40 * 2**20),  # 40 MiB of zeros: a compression ratio of ~1000
            "__MACOSX/._doejane_12345_777_ps1.ipynb": b"junk",
            "notes.txt": b"hi",
        },
    )
    into = tmp_path / "copies"
    found = by_source(collect(archive, into))
    jane = found["submissions.zip!doejane_12345_777_ps1.ipynb"]
    assert jane.student == "12345" and not jane.problem
    assert jane.submitted_at == dt.datetime(2026, 12, 8, 10, 30, tzinfo=dt.timezone.utc)
    assert jane.path == into / f"{jane.sha256}.ipynb" and jane.path.read_bytes() == NB
    assert found["submissions.zip!roejohn_LATE_67890_778_ps1-1.ipynb"].student == "67890"
    assert "unsafe path" in found["submissions.zip!../../escape.ipynb"].problem
    assert "unsafe path" in found["submissions.zip!/etc/passwd.ipynb"].problem
    assert "MiB a notebook may be" in found["submissions.zip!mallory.ipynb"].problem
    assert "zip bomb" in found["submissions.zip!bomb.ipynb"].problem
    assert found["submissions.zip!notes.txt"].problem == "not a notebook (.txt)"
    assert not any("MACOSX" in k for k in found)
    # only content-addressed copies of accepted notebooks were written, and only in `into`
    assert sorted(p.name for p in into.iterdir()) == sorted(
        f"{s.sha256}.ipynb" for s in found.values() if not s.problem
    )
    assert not (tmp_path / "escape.ipynb").exists()


def test_two_files_for_one_student_are_two_attempts_and_say_so(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice.ipynb").write_bytes(NB)
    (tmp_path / "alice" / "ps1.ipynb").write_bytes(NB + b" ")
    found = collect(tmp_path, tmp_path / "copies")
    assert [s.student for s in found] == ["alice", "alice"]
    assert all("2 files for alice in this batch" in s.notices[0] for s in found)


def test_roster_and_fixed_time(tmp_path):
    (tmp_path / "Jane Doe.ipynb").write_bytes(NB)
    roster = tmp_path / "roster.csv"
    roster.write_text("name,student\nJane Doe,s001\n")
    when = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    (s,) = [
        x
        for x in collect(tmp_path, tmp_path / "c", read_roster(roster), when)
        if x.source.endswith(".ipynb")
    ]
    assert (s.student, s.submitted_at) == ("s001", when)
    (bad,) = [x for x in collect(tmp_path, tmp_path / "c") if x.source.endswith(".ipynb")]
    assert bad.student == "" and "use --roster" in bad.problem


def test_what_cannot_be_collected_at_all(tmp_path):
    with pytest.raises(SubmissionError, match="no such file"):
        collect(tmp_path / "nothing", tmp_path)
    (tmp_path / "x.txt").write_text("plain")
    with pytest.raises(SubmissionError, match="neither a folder nor a zip"):
        collect(tmp_path / "x.txt", tmp_path)
    write_zip(tmp_path / "empty.zip", {})
    assert collect(tmp_path / "empty.zip", tmp_path / "c") == []
    bad_roster = tmp_path / "r.csv"
    bad_roster.write_text("a name,not an id!\n")
    with pytest.raises(SubmissionError, match="not a usable student id"):
        read_roster(bad_roster)


# --- who is who: the top-level name decides, ids compare normalised -------------------------


def make(tmp_path, kind, files):
    """The same class as a folder or as a zip: ``files`` maps paths to bytes."""
    if kind == "zip":
        write_zip(tmp_path / "class.zip", files)
        return tmp_path / "class.zip", "class.zip!"
    for name, data in files.items():
        (tmp_path / "class" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "class" / name).write_bytes(data)
    return tmp_path / "class", ""


def students(found):
    return {s.source: (s.student, s.problem) for s in found}


ROSTER = {"Alice Smith": "alice", "Bob Jones": "bob", "123": "jane", "Mallory": "mallory"}


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_a_name_inside_a_students_folder_never_reattributes_it(tmp_path, kind):
    source, at = make(
        tmp_path,
        kind,
        {
            "bob/Alice Smith.ipynb": NB,  # bob's attempt, whose file name is alice's roster name
            "bob/doejane_123_456_ps1.ipynb": NB + b" ",  # an LMS name of jane's, in bob's folder
            "mallory/extra/alice.ipynb": NB + b"  ",  # in a folder of hers: mallory's
            "mallory/alice/ps1.ipynb": NB + b"     ",  # so is this one
            "mallory/a/b/alice.ipynb": NB + b"      ",  # too deep: mallory's, never alice's
            "Mallory/ps1.ipynb": NB + b"   ",
            "alice/ps1.ipynb": NB + b"    ",
        },
    )
    found = collect(source, tmp_path / "copies", ROSTER)
    got = students(found)
    assert got[f"{at}bob/Alice Smith.ipynb"] == ("bob", "")
    assert got[f"{at}bob/doejane_123_456_ps1.ipynb"] == ("bob", "")
    assert got[f"{at}mallory/extra/alice.ipynb"] == ("mallory", "")
    assert got[f"{at}mallory/alice/ps1.ipynb"] == ("mallory", "")
    assert got[f"{at}mallory/a/b/alice.ipynb"][0] == "mallory"
    assert "too deep" in got[f"{at}mallory/a/b/alice.ipynb"][1]
    assert [s.source for s in found if s.student == "alice"] == [f"{at}alice/ps1.ipynb"]
    flags = {s.source: s.flags for s in found}
    assert flags[f"{at}bob/Alice Smith.ipynb"] == (
        "the file name names another student (alice): it counts as bob's, whose folder or LMS "
        "name it has",
    )
    assert "(jane)" in flags[f"{at}bob/doejane_123_456_ps1.ipynb"][0]
    assert "(alice)" in flags[f"{at}mallory/extra/alice.ipynb"][0]
    assert "(alice)" in flags[f"{at}mallory/alice/ps1.ipynb"][0]
    assert flags[f"{at}alice/ps1.ipynb"] == () and flags[f"{at}Mallory/ps1.ipynb"] == ()


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_an_lms_name_at_the_top_decides_and_its_file_part_is_only_looked_at(tmp_path, kind):
    source, at = make(
        tmp_path,
        kind,
        {
            "doejane_123_456_bob.ipynb": NB,  # jane's (by the LMS's id), the file part names bob
            "bob/ps1.ipynb": NB + b" ",
            "roejohn_LATE_789_457_ps1.ipynb": NB + b"  ",
        },
    )
    found = {s.source: s for s in collect(source, tmp_path / "copies", {"123": "jane"})}
    jane = found[f"{at}doejane_123_456_bob.ipynb"]
    assert jane.student == "jane" and "(bob)" in jane.flags[0]  # bob: a student of the batch
    john = found[f"{at}roejohn_LATE_789_457_ps1.ipynb"]
    assert (john.student, john.flags) == ("789", ())


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_ids_in_any_case_or_compatibility_form_are_one_student(tmp_path, kind):
    source, at = make(
        tmp_path,
        kind,
        {
            "Alice/ps1.ipynb": NB,
            "ＡＬＩＣＥ/ps1-again.ipynb": NB + b" ",
            "ﬁona.ipynb": NB + b"  ",  # the ligature: NFKC makes it "fiona"
            "Fiona/ps1.ipynb": NB + b"   ",
            "аlice/ps1.ipynb": NB + b"    ",  # a Cyrillic а: not alice, and no id at all
        },
    )
    found = collect(source, tmp_path / "copies", students=["alice", "Fiona"])
    got = students(found)
    assert got[f"{at}Alice/ps1.ipynb"] == ("alice", "")  # the roster's own spelling
    assert got[f"{at}ＡＬＩＣＥ/ps1-again.ipynb"] == ("alice", "")
    assert got[f"{at}ﬁona.ipynb"] == got[f"{at}Fiona/ps1.ipynb"] == ("Fiona", "")
    assert got[f"{at}аlice/ps1.ipynb"][0] == "" and "cannot tell" in got[f"{at}аlice/ps1.ipynb"][1]
    alices = [s for s in found if s.student == "alice"]
    assert len(alices) == 2 and all("2 files for alice" in s.notices[0] for s in alices)
    assert all(s.flags == () for s in found)  # nobody copied from themselves
    # without a class list the recorded id is the normalised name: still one student
    again = students(collect(source, tmp_path / "copies2"))
    assert again[f"{at}Alice/ps1.ipynb"] == ("alice", "")
    assert again[f"{at}ＡＬＩＣＥ/ps1-again.ipynb"] == ("alice", "")


def test_roster_names_match_whatever_their_case_and_blanks(tmp_path):
    for name in ("alice smith", "ALICE  SMITH", " Alice\u00a0Smith "):
        (tmp_path / name).mkdir()
        (tmp_path / name / "ps1.ipynb").write_bytes(NB + name.encode())
    roster = tmp_path / "roster.csv"
    roster.write_text("name,student\nAlice Smith,alice\n")
    found = collect(tmp_path, tmp_path / "copies", read_roster(roster))
    assert {s.student for s in found if s.source.endswith(".ipynb")} == {"alice"}


@pytest.mark.parametrize(
    "rows, message",
    [
        ("carol,dave\nx,carol\n", r"roster.csv:1: the roster name 'carol' is the id of another"),
        ("Jane Doe,s1\njane  doe,s2\n", r"roster.csv:2: 'jane  doe' is also given to 's1'"),
        ("  ,alice\n", r"roster.csv:1: no name before 'alice'"),
    ],
)
def test_an_ambiguous_roster_is_an_error_naming_its_line(tmp_path, rows, message):
    (tmp_path / "roster.csv").write_text(rows)
    with pytest.raises(SubmissionError, match=message):
        read_roster(tmp_path / "roster.csv")


def test_a_roster_name_that_is_a_class_id_of_another_student_is_an_error(tmp_path):
    (tmp_path / "carol.ipynb").write_bytes(NB)
    assert collect(tmp_path, tmp_path / "c", {"alice": "alice"}, students=["alice"])
    with pytest.raises(SubmissionError, match="'carol' is the id of another student than 'dave'"):
        collect(tmp_path, tmp_path / "c", {"carol": "dave"}, students=["carol", "dave"])
