"""The build refuses texts that state answers (grader/leaks.py): each printed form, the
values a text may state (small numbers, data, facts of earlier assignments), and the shipped
course, per variant."""

from __future__ import annotations

import pytest
from conftest import SOLUTIONS_PY, TOPIC_YAML

from grader.errors import BuildError
from grader.leaks import Part, Text, leaks, release_leaks

# (what a hint says, the answer of another exercise of the same assignment)
STATED = [
    ("The classifier has 650 parameters.", 650),
    ("In all, 20,234 parameters.", 20234),
    ("In all, 20_234 parameters.", 20234),
    ("In all, $20{,}234$ parameters.", 20234),
    ("It is 20234.0 exactly.", 20234),
    ("About 0.482 of them.", 0.48213),
    ("About 0.48213 of them.", 0.48213),
    ("Roughly 1.23e-05.", 1.2345e-05),
    ("About 650.", 649.7),  # at the precision printed
    ("The count is −1,234.", -1234),
    ("Expect (3, 32, 30, 30).", [3, 32, 30, 30]),
    ("Expect (3,32,30,30).", [3, 32, 30, 30]),
    ("Expect [3, 32, 30, 30].", [3, 32, 30, 30]),
    ("Expect 3 x 32 x 30 x 30.", [3, 32, 30, 30]),
    ("Expect 3×32×30×30.", [3, 32, 30, 30]),
    (r"Expect $3 \times 32 \times 30 \times 30$.", [3, 32, 30, 30]),
    ("torch.zeros(3, 32, 30, 30) has it.", [3, 32, 30, 30]),
    ("The logits are (3, 10).", [3, 10]),
    ("The output is [5, 10, 15, 20].", [5, 10, 15, 20]),
    ("The output is [5,10,15,20].", [5, 10, 15, 20]),
    ("The output is [[-9, -4], [-21, -6]].", [[-9, -4], [-21, -6]]),
    ("Its first row is [-9, -4, -4, -4, 13].", [[-9, -4, -4, -4, 13], [-21, -6, -6, -6, 27]]),
    (r"$\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}$", [[1, 2], [3, 4]]),
    ("{'conv1': 896, 'bn1': 64}", {"conv1": 896, "bn1": 64}),
    ("conv2 has 18,496.", {"conv1": 896, "conv2": 18496}),
]


def _course(hint: str, answer, field: str = "hints[0]", prompt: str = "Compute it.") -> list[Part]:
    """One assignment: exercise a (the answer) and exercise b (whose text is under test)."""
    texts = (
        Text("a", "prompt", "Compute a.", "t"),
        Text("b", "prompt", prompt, "t"),
        Text("b", field, hint, "t"),
    )
    return [Part("ps1", ("a", "b"), texts, {"a": answer, "b": 1})]


@pytest.mark.parametrize("text,answer", STATED)
def test_each_printed_form_is_refused(text, answer):
    problems = leaks(_course(text, answer))
    assert len(problems) == 1, problems
    assert problems[0].startswith("ps1/b: hints[0] states ")
    assert problems[0].endswith(", the answer of ps1/a")


@pytest.mark.parametrize("field", ["starter", "hints[2]", "mistakes[0].title", "mistakes[1].hint"])
def test_every_text_a_student_receives_is_checked(field):
    problems = leaks(_course("Expect (3, 32, 30, 30).", [3, 32, 30, 30], field=field))
    assert problems == [f"ps1/b: {field} states (3, 32, 30, 30), the answer of ps1/a"]


# (what a text says, an answer it does not state)
NOT_STATED = [
    ("The batch has 64 images.", 64),  # fewer than 3 digits: everywhere
    ("It is 65.", 650),
    ("It is 651.", 650),
    ("It is 650.3.", 650),  # printed more precisely than the answer is
    ("About 0.5.", 0.48213),  # 1 significant digit
    ("Pad X to 7x7 first.", [7, 7]),  # a size, not an answer: 2 digits
    ("The worked example gives [-2, -2].", [-2, -2]),
    ("Expect (3, 32, 30, 31).", [3, 32, 30, 30]),
    ("Expect (2, 32, 30, 30).", [3, 32, 30, 30]),
    ("The first window is [7, 2, 0].", [[7, 2, 0], [1, 1, 1]]),  # a row of small numbers
    ("Expect [3, 32, 30].", [3, 32, 30, 30]),
    ("conv1 has 896 weights", [8, 9, 6]),
    ("A hex digest 9f650ab and conv1.", 650),
]


@pytest.mark.parametrize("text,answer", NOT_STATED)
def test_what_does_not_state_an_answer(text, answer):
    assert leaks(_course(text, answer)) == []


def test_an_earlier_assignment_s_answer_is_a_fact():
    ps1 = Part("ps1", ("a",), (Text("a", "prompt", "Compute a.", "t"),), {"a": [3, 32, 30, 30]})
    text = Text("b", "hints[0]", "Your ps1 answer was (3, 32, 30, 30).", "u")
    ps2 = Part("ps2", ("b",), (text,), {"b": 7})
    assert leaks([ps1, ps2]) == []
    # ... but not the other way round: ps1's text states ps2's answer
    early = Part("ps1", ("b",), (text,), {"b": 7})
    later = Part("ps2", ("a",), (Text("a", "prompt", "Compute.", "t"),), {"a": [3, 32, 30, 30]})
    assert leaks([early, later]) == ["ps1/b: hints[0] states (3, 32, 30, 30), the answer of ps2/a"]


def test_data_of_the_exercise_s_own_prompt_and_setup():
    # b's hint states a's answer...
    parts = _course("Pool the (3, 32, 30, 30) input.", [3, 32, 30, 30])
    assert leaks(parts) == ["ps1/b: hints[0] states (3, 32, 30, 30), the answer of ps1/a"]
    # ... unless b's prompt gives it as data (building on a's answer): its hints may repeat it
    parts = _course(
        "Pool the (3, 32, 30, 30) input.",
        [3, 32, 30, 30],
        prompt="The first convolution gives (3, 32, 30, 30).",
    )
    assert leaks(parts) == [], "a prompt may build on an earlier exercise's answer"
    # A topic's setup gives data to all of its exercises.
    setup = Text("a", "setup", "x = torch.zeros(3, 32, 30, 30)", "t")
    part = _course("Pool the (3, 32, 30, 30) input.", [3, 32, 30, 30])[0]
    part = Part(part.assignment, part.exercises, (setup, *part.texts), {"a": 650, "b": 1})
    assert leaks([part]) == []


def test_a_prompt_states_its_own_or_a_later_answer():
    texts = (
        Text("a", "prompt", "Find the shape; (3, 32, 30, 30) would be right.", "t"),
        Text("b", "prompt", "Then the count, 650.", "t"),
    )
    part = Part("ps1", ("a", "b"), texts, {"a": [3, 32, 30, 30], "b": 650})
    assert leaks([part]) == [
        "ps1/a: prompt states (3, 32, 30, 30), the answer of ps1/a",
        "ps1/b: prompt states 650, the answer of ps1/b",
    ]
    later = Part("ps1", ("b", "a"), texts, {"a": [3, 32, 30, 30], "b": 650})
    assert "ps1/b: prompt states 650, the answer of ps1/b" in leaks([later])


def test_a_hint_states_an_earlier_exercise_s_answer_of_the_same_assignment():
    texts = (
        Text("a", "prompt", "After conv2?", "t"),
        Text("b", "prompt", "After pool2?", "t"),
        Text("b", "hints[0]", "Pool the 13 x 13 maps of (3, 64, 13, 13).", "t"),
    )
    part = Part("ps2", ("a", "b"), texts, {"a": [3, 64, 13, 13], "b": [3, 64, 6, 6]})
    assert leaks([part]) == ["ps2/b: hints[0] states (3, 64, 13, 13), the answer of ps2/a"]


def test_a_variant_s_drawn_numbers_met_by_chance():
    """In a student's variant, a text that meets another exercise's answer does so by chance
    (a drawn input shape equal to the CIFAR10Model's fixed answer; the default variant's check
    finds a text that states it); its own exercise's answer is still refused."""
    texts = (
        Text("a", "prompt", "Count a.", "t"),
        Text("b", "prompt", "Pool a (3, 32, 15, 15) batch.", "t"),
        Text("b", "mistakes[0].hint", "It sees 64 * 7 * 7 = 3136 features.", "t"),
    )
    mine = Part("ps2", ("b", "a"), texts, {"a": [3, 32, 15, 15], "b": 31370})
    assert leaks([mine], " (alice)", variant=True) == []
    assert leaks([mine]) == ["ps2/b: prompt states (3, 32, 15, 15), the answer of ps2/a"]
    own = Part("ps2", ("b", "a"), texts, {"a": 1, "b": 3136})
    assert leaks([own], " (alice)", variant=True) == [
        "ps2/b (alice): mistakes[0].hint states 3136, the answer of ps2/b"
    ]


# --- the build --------------------------------------------------------------------------------

# The small course, with a hint that works t-num's answer out to the end.
LEAKY = TOPIC_YAML.replace("- Look closer.", '- "Multiply: 6 * 7 * 111 = 4662."')
LEAKY_SOLUTION = SOLUTIONS_PY.replace("x = 6 * 7", "x = 6 * 7 * 111")


@pytest.mark.kernel
def test_the_build_refuses_a_hint_that_states_an_answer(write_course, tmp_path):
    from grader import load_course
    from grader.build import build

    assert LEAKY != TOPIC_YAML and LEAKY_SOLUTION != SOLUTIONS_PY
    path = write_course(tmp_path, exercises={"t": LEAKY}, solutions={"t": LEAKY_SOLUTION})
    with pytest.raises(BuildError) as e:
        build(load_course(path), tmp_path / "release")
    assert (
        str(e.value) == "self-check failed: a1/t-arr: hints[0] states 4662, the answer of a1/t-num"
    )


@pytest.mark.kernel
def test_the_shipped_course_states_no_answer(built_course):
    """The build of the shipped course passed (it runs the check); the check saw its texts."""
    from grader.key import key_path, load_key
    from grader.leaks import part_of, values_in

    course, _ = built_course
    release = course.root / "release"
    assert release_leaks(course, release) == []
    parts = [part_of(course, a.id, load_key(key_path(release, a.id))) for a in course.assignments]
    texts = [t for p in parts for t in p.texts]
    assert len(texts) > 150 and sum(len(values_in(t.text)) for t in texts) > 50
    # A hint that lists the CIFAR shapes is refused.
    old = Text("cifar-pool2", "hints[2]", "So far: (3, 32, 30, 30), (3, 32, 15, 15).", "shapes")
    ps2 = parts[1]
    ps2 = Part(ps2.assignment, ps2.exercises, (*ps2.texts, old), ps2.answers)
    assert leaks([parts[0], ps2, parts[2]]) == [
        "ps2/cifar-pool2: hints[2] states (3, 32, 30, 30), the answer of ps2/cifar-conv1",
        "ps2/cifar-pool2: hints[2] states (3, 32, 15, 15), the answer of ps2/cifar-pool1",
    ]
