"""Tests of grader.solutions: sections, their checks, reference objects and custom checks."""

from __future__ import annotations

import pytest
from conftest import COURSE_YAML, SOLUTIONS_PY, TOPIC_YAML

from grader import load_course
from grader.errors import SpecError
from grader.solutions import custom_check, load_solutions, parse_solutions, reference_object

TEXT = (
    '"""Preamble."""\n'
    "import math\n"
    "\n"
    "# %% t-num\n"
    "x = 6 * 7\n"
    "\n"
    "\n"
    "# %%\tt-arr   \n"  # a tab and trailing blanks are allowed
    "arr = [1.0, 2.0]\n"
    "#%% not-a-marker\n"
    "# %% also not a marker\n"
)


def test_parse_solutions_splits_preamble_and_sections():
    sol = parse_solutions(TEXT, "t", "solutions/t.py")
    assert (sol.topic, sol.path) == ("t", "solutions/t.py")
    assert sol.preamble == '"""Preamble."""\nimport math\n\n'
    assert sol.sections == {
        "t-num": "x = 6 * 7\n",
        "t-arr": "arr = [1.0, 2.0]\n#%% not-a-marker\n# %% also not a marker\n",
    }


def test_parse_solutions_without_markers_is_all_preamble():
    sol = parse_solutions("import math\n", "t", "t.py")
    assert sol.preamble == "import math\n" and sol.sections == {}


def test_parse_solutions_section_at_the_start_and_empty_section():
    sol = parse_solutions("# %% a\n# %% b\ny = 1", "t", "t.py")
    assert sol.preamble == ""
    assert sol.sections == {"a": "\n", "b": "y = 1\n"}


def test_duplicate_section_names_its_line():
    text = "import math\n# %% t-num\nx = 1\n\n# %% t-num\nx = 2\n"
    with pytest.raises(SpecError) as err:
        parse_solutions(text, "t", "solutions/t.py")
    assert str(err.value) == "solutions/t.py:5: section 't-num' appears twice"
    assert (err.value.path, err.value.line) == ("solutions/t.py", 5)


# --- load_solutions -------------------------------------------------------------------------------


def test_load_solutions_of_the_small_course(small_course):
    sol = load_solutions(small_course, "t")
    assert sol.sections == {"t-num": "x = 6 * 7\n", "t-arr": "arr = [1.0, 2.0]\n"}
    assert sol.path == str(small_course.solutions_dir / "t.py")
    assert "def half_right" in sol.preamble


def test_load_solutions_of_the_shipped_course(shipped_course):
    for topic in shipped_course.topics.values():
        sol = load_solutions(shipped_course, topic.id)
        assert list(sol.sections) == list(topic.exercises)
        assert all(s.strip() for s in sol.sections.values())


def test_section_for_unknown_exercise(write_course, tmp_path):
    text = SOLUTIONS_PY + "\n# %% t-zz\nz = 1\n"
    path = write_course(tmp_path, solutions={"t": text})
    with pytest.raises(SpecError) as err:
        load_solutions(load_course(path), "t")
    sol_path = tmp_path / "solutions" / "t.py"
    line = text[: text.index("# %% t-zz")].count("\n") + 1
    assert str(err.value) == f"{sol_path}:{line}: section 't-zz' is not an exercise of topic 't'"


@pytest.mark.parametrize("marker", ["# %%\tt-zz", "# %%  t-zz"])
def test_section_for_unknown_exercise_with_odd_spacing(write_course, tmp_path, marker):
    text = SOLUTIONS_PY + f"\n{marker}\nz = 1\n"
    path = write_course(tmp_path, solutions={"t": text})
    with pytest.raises(SpecError) as err:
        load_solutions(load_course(path), "t")
    line = text[: text.index(marker)].count("\n") + 1
    assert str(err.value).startswith(f"{tmp_path / 'solutions' / 't.py'}:{line}: section 't-zz'")


def test_missing_section(write_course, tmp_path):
    text = SOLUTIONS_PY[: SOLUTIONS_PY.index("# %% t-arr")]
    path = write_course(tmp_path, solutions={"t": text})
    with pytest.raises(SpecError) as err:
        load_solutions(load_course(path), "t")
    assert str(err.value) == f"{tmp_path / 'solutions' / 't.py'}: no solution section for: t-arr"


def test_missing_solutions_file(write_course, tmp_path):
    path = write_course(tmp_path, solutions={})
    with pytest.raises(SpecError) as err:
        load_solutions(load_course(path), "t")
    assert str(err.value) == f"{tmp_path / 'solutions' / 't.py'}: reference solutions not found"


# --- reference objects and custom checks ---------------------------------------------------------

MODULE_TOPIC = (
    TOPIC_YAML
    + """\
  - id: t-mod
    title: A model
    points: 1
    prompt: Build it.
    answer:
      kind: module
      name: net
      reference: Net
      probe: [1, 2]
  - id: t-fit
    title: Train it
    points: 1
    prompt: Train it.
    answer:
      kind: training
      name: net
      reference: t-mod:Net
"""
)

MODULE_SOLUTIONS = (
    SOLUTIONS_PY
    + """
# %% t-mod
class Net:
    def __init__(self):
        self.pi = math.pi  # from the topic's setup

    def forward(self, x):
        return [v * 2 for v in x]


net = Net()

# %% t-fit
net = Net()
"""
)


@pytest.fixture
def module_course(write_course, tmp_path):
    course = COURSE_YAML.replace("[t-num, t-arr]", "[t-num, t-arr, t-mod, t-fit]")
    return load_course(
        write_course(
            tmp_path,
            course=course,
            exercises={"t": MODULE_TOPIC},
            solutions={"t": MODULE_SOLUTIONS},
        )
    )


def test_reference_object_returns_the_class_of_the_section(module_course):
    cls = reference_object(module_course, "t-mod", "Net")
    assert isinstance(cls, type) and cls.__name__ == "Net"
    instance = cls()
    assert instance.forward([1, 2]) == [2, 4]
    assert instance.pi == pytest.approx(3.14159265)
    # exercise-id:Name names another exercise's section; the namespace is built once
    assert reference_object(module_course, "t-fit", "t-mod:Net") is cls


def test_reference_object_does_not_run_the_preamble(module_course):
    with pytest.raises(SpecError, match="the solution of 't-mod' does not define 'half_right'"):
        reference_object(module_course, "t-mod", "half_right")


def test_reference_object_unknown_exercise(module_course):
    with pytest.raises(SpecError) as err:
        reference_object(module_course, "t-fit", "t-nope:Net")
    assert str(err.value) == f"{module_course.path}: a reference names unknown exercise 't-nope'"


def test_reference_section_must_stand_alone(write_course, tmp_path):
    sols = MODULE_SOLUTIONS.replace(
        "# %% t-arr\narr = [1.0, 2.0]\n",
        "# %% t-arr\narr = [1.0, 2.0]\n\n\ndef double(v):\n    return 2 * v\n",
    )
    sols = sols.replace(
        "        return [v * 2 for v in x]", "        return [double(v) for v in x]"
    )
    sols = sols.replace("# %% t-fit\nnet = Net()\n", "# %% t-fit\nnet = Net()\nSIZE = double(3)\n")
    course_yaml = COURSE_YAML.replace("[t-num, t-arr]", "[t-num, t-arr, t-mod, t-fit]")
    course = load_course(
        write_course(
            tmp_path, course=course_yaml, exercises={"t": MODULE_TOPIC}, solutions={"t": sols}
        )
    )
    # Earlier sections are not run in the grader (they may train models): a clear error.
    with pytest.raises(SpecError) as err:
        reference_object(course, "t-fit", "SIZE")
    assert str(err.value) == (
        f"{tmp_path / 'solutions' / 't.py'}: the section 't-fit' (after the topic's setup) does "
        "not run on its own in the grader: NameError: name 'Net' is not defined"
    )


def test_custom_check_comes_from_the_preamble(small_course):
    fn = custom_check(small_course, "t", "half_right")
    assert fn(1, 2) == (0.5, "half right")


def test_custom_check_not_defined(small_course):
    with pytest.raises(SpecError) as err:
        custom_check(small_course, "t", "nope")
    assert str(err.value) == "custom check 'nope' is not defined in the preamble of t.py"
