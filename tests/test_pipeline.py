"""The pipeline's own logic without a kernel: options, the assignment a notebook answers, the
stored key, and turning judged records into a GradeResult."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import COURSE_YAML, TOPIC_YAML
from nbformat.v4 import new_code_cell, new_notebook

from grader import keymaker as keymaker_module
from grader import load_course
from grader.assemble import Assembled, Step
from grader.errors import GraderError, SubmissionError
from grader.execute.records import Executed, ExportRecord, StepOutcome
from grader.grading import which_assignment
from grader.judge.record import judged as graded
from grader.key import AnswerKey, key_path, save_key
from grader.keymaker import answer_key
from grader.options import GradeOptions


def test_exec_options_take_the_course_limits_and_the_overrides(small_course):
    options = GradeOptions(limits={"cell_timeout": 7, "memory": 512.9}).exec_options(small_course)
    assert options.limits.cell_timeout == 7.0 and options.limits.memory == 512
    assert options.limits.timeout == small_course.limits.timeout
    assert options.data == ()
    with pytest.raises(GraderError, match="unknown limit"):
        GradeOptions(limits={"cpu": 1}).exec_options(small_course)
    with pytest.raises(GraderError, match="limit memory: must be at least 64"):
        GradeOptions(limits={"memory": 1}).exec_options(small_course)


def test_exec_options_show_the_courses_data_to_the_kernel(write_course, tmp_path, monkeypatch):
    monkeypatch.delenv("GRADE_CIFAR10_DIR", raising=False)
    (tmp_path / "cifar").mkdir()
    from conftest import COURSE_YAML

    course = load_course(write_course(tmp_path, course=COURSE_YAML + "data:\n  cifar10: cifar\n"))
    assert GradeOptions().exec_options(course).data == (("GRADE_CIFAR10_DIR", tmp_path / "cifar"),)


def notebook(**meta):
    nb = new_notebook()
    nb.metadata["grader"] = meta
    return nb


def test_which_assignment(small_course):
    path = Path("anything.ipynb")
    assert which_assignment(small_course, notebook(assignment="a1"), path, None) == ("a1", [])
    assert which_assignment(small_course, notebook(), Path("a1-mine.ipynb"), None)[0] == "a1"
    _, notices = which_assignment(
        small_course, notebook(assignment="a1", version="old"), path, None
    )
    assert "another release" in notices[0]
    with pytest.raises(SubmissionError, match="is assignment 'a1', not 'a2'"):
        which_assignment(small_course, notebook(assignment="a1"), path, "a2")
    with pytest.raises(SubmissionError, match="of the course 'Other'"):
        which_assignment(small_course, notebook(course="Other"), path, None)
    with pytest.raises(SubmissionError, match="pass --assignment"):
        which_assignment(small_course, notebook(), path, None)


def answering(*cells):
    """A notebook whose answer cells are tagged as grade's, render's or nbgrader's are."""
    nb = new_notebook()
    for how, eid in cells:
        if how == "grader":
            nb.cells.append(
                new_code_cell("x = 1", metadata={"grader": {"id": eid, "role": "answer"}})
            )
        elif how == "id":
            nb.cells.append(new_code_cell("x = 1", id=f"answer-{eid}"))
        else:  # nbgrader's grade_id, as `grade import nbgrader` names its exercise
            grade_id = eid.replace("-", " ").title()
            nb.cells.append(
                new_code_cell(
                    "x = 1", metadata={"nbgrader": {"solution": True, "grade_id": grade_id}}
                )
            )
    return nb


TWO_ASSIGNMENTS = COURSE_YAML.replace(
    "[t-num, t-arr]", "[t-num, t-arr]\n  - id: a2\n    title: Second\n    exercises: [t-more]"
)
MORE = """\
  - id: t-more
    title: More
    points: 1
    prompt: More.
    starter: y = ...
    answer:
      kind: number
      name: y
"""


@pytest.mark.parametrize(
    "cells,chosen",
    [
        ([("grader", "t-more")], "a2"),
        ([("id", "t-arr"), ("grader", "t-num"), ("grader", "t-more")], "a1"),  # a1 2, a2 1
        ([("nbgrader", "t-num"), ("nbgrader", "t-arr")], "a1"),
        ([("id", "t-arr"), ("nbgrader", "t-more")], None),  # one of each: a tie
        ([("grader", "nope")], None),  # answers nothing of the course
        ([], None),
    ],
)
def test_a_notebook_that_says_nothing_is_the_assignment_its_answer_cells_answer(
    write_course, tmp_path, cells, chosen
):
    course = load_course(
        write_course(tmp_path, course=TWO_ASSIGNMENTS, exercises={"t": TOPIC_YAML + MORE})
    )
    nb = answering(*cells)
    if chosen is None:
        with pytest.raises(
            SubmissionError,
            match=r"^hw\.ipynb does not say which assignment it "
            r"is: pass --assignment \(one of: a1, a2\)$",
        ):
            which_assignment(course, nb, Path("hw.ipynb"), None)
        return
    assert which_assignment(course, nb, Path("hw.ipynb"), None) == (
        chosen,
        [
            f"the notebook does not say which assignment it is; graded as {chosen} "
            "(from its answer cells)"
        ],
    )
    # a file name that names an assignment decides first
    assert which_assignment(course, nb, Path("a2-mine.ipynb"), None)[0] == "a2"


def test_a_stored_key_of_this_course_version_is_used_as_is(small_course, tmp_path, monkeypatch):
    key = AnswerKey("a1", small_course.fingerprint, {"t-num": 42}, seed=5)
    save_key(key, key_path(tmp_path, "a1"))

    def no_kernel(*args, **kwargs):
        raise AssertionError("the solution must not run")

    monkeypatch.setattr(keymaker_module, "make_key", no_kernel)
    assert answer_key(small_course, "a1", GradeOptions(release=tmp_path)) == key


def test_graded_wraps_the_judged_records_up(small_course):
    spec = {eid: small_course.exercises[eid].answer.export_spec() for eid in ("t-num", "t-arr")}
    assembled = Assembled(
        (
            Step("answer", "t-num", "x = 42"),
            Step("export", "t-num", spec=spec["t-num"]),
            Step("answer", "t-arr", "arr = [0]"),
            Step("export", "t-arr", spec=spec["t-arr"]),
        ),
        ("a notice from assembling",),
        frozenset(),
    )
    ok = StepOutcome("ok")
    executed = Executed(
        (ok,) * 4,
        {
            "t-num": ExportRecord({"ok": True, "value": 42}),
            "t-arr": ExportRecord({"ok": True, "value": [0]}),
        },
        duration=1.5,
        warnings=("WARNING: no sandbox",),
        log="printed by the kernel",
    )
    key = AnswerKey("a1", "f", {"t-num": 42, "t-arr": [1.0, 2.0]})
    result = graded(small_course, "a1", "mine.ipynb", assembled, executed, key)
    assert (result.score, result.max_score) == (2.0, 5.0)
    assert result.notices == ("WARNING: no sandbox", "a notice from assembling")
    assert result.execution_time >= 1.5 and result.graded_at.endswith("+00:00")
    assert result.log == "printed by the kernel"
    assert "printed by the kernel" not in repr(result)
    assert json.loads(json.dumps(result.to_dict()))["score"] == 2.0


def test_grade_one_keeps_each_stages_notices_and_flags_in_order(small_course, tmp_path):
    """The one grading path on a run that is over (as a batch or a regrade has it): the
    judge, the identity and intake each write their own record, and the result's JSON is
    the flat one the gradebook has always stored (an older row, without the newer fields,
    still loads)."""
    from grader.grading import AgainstKey, Submitted, given, grade_one
    from grader.identity import Identity
    from grader.results import GradeResult
    from grader.runners import ran

    spec = small_course.exercises["t-num"].answer.export_spec()
    assembled = Assembled(
        (Step("answer", "t-num", "x = 42"), Step("export", "t-num", spec=spec)),
        ("from assembling",),
        frozenset(),
    )
    executed = Executed(
        (StepOutcome("ok"),) * 2,
        {"t-num": ExportRecord({"ok": True, "value": 42})},
        warnings=("from the run",),
    )
    identity = Identity("alice", "", ("from identity",), ("identity noticed",))
    submitted = Submitted(
        small_course, "a1", "alice.ipynb", identity, assembled, ("intake noticed",), ("intake",)
    )
    key = AnswerKey("a1", small_course.fingerprint, {"t-num": 42})
    options = GradeOptions(release=tmp_path)
    graded_ = grade_one(submitted, options, ran(executed), AgainstKey(options, key_of=given(key)))
    result = graded_.result
    assert result.notices == (
        "intake noticed",
        "identity noticed",
        "from the run",
        "from assembling",
    )
    assert (result.student, result.flags, result.score) == (
        "alice",
        ("intake", "from identity"),
        2.0,
    )
    assert graded_.course_fingerprint == small_course.fingerprint and graded_.run_fingerprint
    data = json.loads(json.dumps(result.to_dict()))
    assert GradeResult.from_dict(data) == result
    assert result.judged.score == 2.0 and result.who.student == "alice"
    old = {k: v for k, v in data.items() if k not in ("variant", "flags", "copied_from", "checked")}
    assert GradeResult.from_dict(old).score == 2.0


LAUNCH_PROBE = """
import json, sys
import grader.execute

class Launched(BaseException):
    pass

def start_kernel(options, root):
    loaded = sorted(sys.modules)
    print(json.dumps(loaded))
    raise Launched

grader.execute.start_kernel = start_kernel
from grader.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except Launched:
    pass
"""


def test_grade_file_launches_the_kernel_before_it_imports_the_grading(tmp_path):
    """A cold `grade FILE` starts the kernel first, so that it boots while the grader reads
    the notebook and loads the judge: before the launch, only the command line, the sandbox
    and the course as written are imported (no notebook reading, rendering, judging, numpy
    or sqlite3); the variant's texts are rendered afterwards, for the one assignment."""
    import subprocess
    import sys

    course = Path(__file__).resolve().parent.parent / "course.yaml"
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            LAUNCH_PROBE,
            tmp_path / "ps2.ipynb",
            "--course",
            course,
            "--sandbox",
            "off",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(run.stdout.splitlines()[-1]))
    assert "grader.spec" in loaded and "grader.execute" in loaded
    too_early = {
        "grader.grading",
        "grader.notebooks",
        "grader.judge",
        "grader.render",
        "grader.variants",
        "grader.handout",
        "nbformat",
        "jinja2",
        "numpy",
        "torch",
        "sqlite3",
    }
    assert not loaded & too_early, sorted(loaded & too_early)


def test_a_run_stored_in_another_export_format_is_run_again(shipped_course, monkeypatch):
    """A run stored before the exporter wrote a model's behaviour has none: a regrade must
    run it again (its fingerprint differs), not judge its exports again."""
    from grader import grading

    options = GradeOptions().exec_options(shipped_course)
    now = grading.run_fingerprint(shipped_course, "ps3", options)
    monkeypatch.setattr(grading, "EXPORT_FORMAT", grading.EXPORT_FORMAT - 1)
    assert grading.run_fingerprint(shipped_course, "ps3", options) != now
