"""The shipped course's function exercises: ps1's ``corr1d``, ``conv1d_true`` and ``corr2d``
(fixed public and hidden cases, cases generated for each grading, the library's convolutions
forbidden in the answer cell) and ps3's ``train`` (a tiny seeded model and loader built by
``expr`` inputs). The references are the solutions' hand-written loops: here they are held to
``torch.nn.functional.conv1d`` / ``conv2d`` on the fixed cases and on hundreds of generated
ones, and wrong functions are judged as official grading judges them."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from shipped import with_answers

from grader.draws import draw_exercise
from grader.execute.records import ExportRecord
from grader.frozen import freeze
from grader.inkernel.calls import call_all
from grader.inkernel.inputs import decode_all
from grader.judge.scoring import KeyExpectations, judge_export
from grader.judge.source_rules import check_source
from grader.key import AnswerKey
from grader.kinds import export_spec
from grader.solutions import load_solutions, reference_calls, reference_function

FUNCTIONS = ("corr1d-function", "conv1d-function", "corr2d-function")


def by_torch(eid, x, w, padding=0, stride=1, dilation=1):
    """What the library computes for one case (the grader never shows the student this)."""
    if eid == "corr2d-function":
        return F.conv2d(x[None, None], w[None, None], padding=padding, stride=stride)[0, 0]
    if eid == "conv1d-function":
        w = w.flip(0)  # a true convolution is the cross-correlation with the reversed kernel
    out = F.conv1d(x.reshape(1, 1, -1), w.reshape(1, 1, -1), padding=padding, stride=stride,
                   dilation=dilation)  # fmt: skip
    return out.flatten()


def fixed_cases(course, eid):
    ex = course.exercises[eid]
    return export_spec(ex.answer.kind, ex.answer.name, ex.answer.options)["cases"]


def generated(course, eid, seeds=range(20)):
    return [c for s in seeds for c in draw_exercise(course, course.exercises[eid], s)["generated"]]


@pytest.fixture(scope="module")
def keys(shipped_course):
    """The fixed cases' expected results, as `grade build` puts them in the key."""
    return {
        a: AnswerKey(a, shipped_course.fingerprint, freeze(reference_calls(shipped_course, a)))
        for a in ("ps1", "ps3")
    }


def judged(course, key, eid, fn, source=None, seed=3):
    """``fn`` as the student's function, called as the kernel calls it on the fixed cases and
    the cases drawn with ``seed``, then judged as official grading judges it."""
    ex = course.exercises[eid]
    drawn = draw_exercise(course, ex, seed)
    cases = [*fixed_cases(course, eid), *drawn.get("generated", ())]
    record = ExportRecord({"ok": True, "calls": call_all(fn, cases, 10.0)}, drawn=drawn)
    return judge_export(ex, record, KeyExpectations(course, key), source=source)


# --- the references ----------------------------------------------------------------------------


@pytest.mark.parametrize("eid", FUNCTIONS)
def test_the_reference_computes_what_torch_computes(shipped_course, eid):
    fn = reference_function(shipped_course, shipped_course.exercises[eid])
    cases = [*fixed_cases(shipped_course, eid), *generated(shipped_course, eid)]
    assert len(cases) > 200
    for case in cases:
        args, kwargs = decode_all(case)
        want, got = by_torch(eid, *args, **kwargs), fn(*args, **kwargs)
        assert got.shape == want.shape and got.dtype == torch.float32, case
        assert torch.allclose(got, want, rtol=1e-5, atol=1e-5), case


@pytest.mark.parametrize("eid", FUNCTIONS)
def test_generated_cases_are_valid_vary_and_reach_the_edge(shipped_course, eid):
    ex = shipped_course.exercises[eid]
    assert draw_exercise(shipped_course, ex, 5) == draw_exercise(shipped_course, ex, 5)
    assert draw_exercise(shipped_course, ex, 5) != draw_exercise(shipped_course, ex, 6)
    edges, settings = 0, set()
    for case in generated(shipped_course, eid):
        (x, w), kwargs = decode_all(case)
        out = by_torch(eid, x, w, **kwargs)  # raises if the settings give no output
        assert out.numel() >= 1
        p, d = kwargs.get("padding", 0), kwargs.get("dilation", 1)
        span = [d * (k - 1) + 1 for k in w.shape]
        edges += all(n + 2 * p == s for n, s in zip(x.shape, span, strict=True))
        settings.update(f"{k}={v}" for k, v in kwargs.items())
    assert edges >= 20  # of 200: the kernel spans the whole padded input
    assert {"padding=0", "padding=2"} <= settings
    if eid == "conv1d-function":
        assert not any(k.startswith("stride") for k in settings)  # it takes padding only
    else:
        assert {"stride=1", "stride=3"} <= settings
    if eid == "corr1d-function":
        assert {"dilation=1", "dilation=3"} <= settings


def test_the_public_cases_are_the_prompts_examples(shipped_course, keys):
    """The hand-out shows these calls and results; the key holds the same."""
    values = keys["ps1"].values
    public = {
        eid: [
            r["value"]
            for c, r in zip(shipped_course.exercises[eid].answer["cases"], values[eid], strict=True)
            if c["public"]
        ]
        for eid in FUNCTIONS
    }
    assert public["corr1d-function"] == [
        [-2.0, -2.0], [6.0, 5.0, 9.0, 6.0, 11.0, 5.0], [3.0, 7.0, 11.0, -1.0], [8.0, 2.0, 7.0]
    ]  # fmt: skip
    assert public["conv1d-function"] == [[1.0, 2.0, 3.0], [2.0, 2.0], [1.0, 4.0, 10.0, 12.0, 9.0]]
    assert public["corr2d-function"][0] == [[14.0, 20.0], [38.0, 44.0], [62.0, 68.0]]
    prompt = shipped_course.exercises["corr1d-function"].prompt
    assert "tensor([ 6.,  5.,  9.,  6., 11.,  5.])" in prompt and "tensor([8., 2., 7.])" in prompt


# --- judging right and wrong functions -----------------------------------------------------------


def corr1d_loops(x, w, padding=0, stride=1, dilation=1):
    """A right answer in another style: plain Python lists, a list returned."""
    xp = [0.0] * padding + x.tolist() + [0.0] * padding
    span = dilation * (len(w) - 1) + 1
    return [
        sum(w[j].item() * xp[i + j * dilation] for j in range(len(w)))
        for i in range(0, len(xp) - span + 1, stride)
    ]


def true_convolution(x, w, padding=0, stride=1, dilation=1):
    return corr1d_loops(x, w.flip(0), padding, stride, dilation)


def stride_ignored(x, w, padding=0, stride=1, dilation=1):
    return corr1d_loops(x, w, padding, 1, dilation)


def padding_off_by_one(x, w, padding=0, stride=1, dilation=1):
    return corr1d_loops(x, w, padding + 1 if padding else 0, stride, dilation)


def test_a_right_corr1d_in_another_style_gets_full_marks(shipped_course, keys):
    result = judged(shipped_course, keys["ps1"], "corr1d-function", corr1d_loops)
    assert (result.score, result.status, result.message) == (4, "passed", "")
    names = [c.name for c in result.checks]
    assert names[-10:] == [f"generated case {i}" for i in range(1, 11)]


@pytest.mark.parametrize(
    "fn,message",
    [
        (true_convolution, "fails for corr1d(tensor([1.0, 2.0, 3.0, 4.0]), tensor([1.0, 0.0, "
         "-1.0])): expected [-2.0, -2.0], got [2.0, 2.0]"),
        (stride_ignored, "fails for corr1d(tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]), "
         "tensor([1.0, -1.0, 2.0]), padding=1, stride=2): expected [3.0, 7.0, 11.0, -1.0], got "
         "[3.0, 5.0, 7.0, 9.0, 11.0, 13.0, -1.0]"),
        (padding_off_by_one, "fails for corr1d(tensor([3.0, 1.0, 4.0, 1.0, 5.0]), tensor([1.0, "
         "2.0]), padding=1): expected [6.0, 5.0, 9.0, 6.0, 11.0, 5.0], got [0.0, 6.0, 5.0, 9.0, "
         "6.0, 11.0, 5.0, 0.0]"),
    ],
)  # fmt: skip
def test_a_wrong_corr1d_loses_points_with_the_case_named(shipped_course, keys, fn, message):
    result = judged(shipped_course, keys["ps1"], "corr1d-function", fn)
    assert result.status == "partial" and 0 < result.score < 3
    assert result.message == message
    drawn = [c for c in result.checks if c.name.startswith("generated")]
    assert any(not c.passed for c in drawn)  # the drawn cases catch it too
    failed = [c.message for c in drawn if not c.passed]
    assert all(m.startswith("fails for corr1d(tensor([") for m in failed)  # shown as calls


def test_hard_coded_public_results_gain_nothing_on_hidden_and_drawn_cases(shipped_course, keys):
    answers = {(4,): [-2.0, -2.0], (5,): [6.0, 5.0, 9.0, 6.0, 11.0, 5.0]}
    answers.update({(7,): [3.0, 7.0, 11.0, -1.0], (6,): [8.0, 2.0, 7.0]})
    result = judged(shipped_course, keys["ps1"], "corr1d-function",
                    lambda x, w, **kw: answers.get(tuple(x.shape), []))  # fmt: skip
    assert [c.passed for c in result.checks[:4]] == [True] * 4
    assert result.score == 4 * 4 / 16  # the 4 public cases' points of 16, for 4 points
    assert result.message == "fails for a hidden case: expected [9.375], got [-2.0, -2.0]"


def test_a_wrong_conv1d_true_and_corr2d_lose_points(shipped_course, keys):
    not_flipped = judged(shipped_course, keys["ps1"], "conv1d-function",
                         lambda x, w, padding=0: corr1d_loops(x, w, padding))  # fmt: skip
    assert not_flipped.message == (
        "fails for conv1d_true(tensor([0.0, 0.0, 1.0, 0.0, 0.0]), tensor([1.0, 2.0, 3.0])): "
        "expected [1.0, 2.0, 3.0], got [3.0, 2.0, 1.0]"
    )

    def square_only(x, w, padding=0, stride=1):  # assumes a square kernel: k = w.shape[0]
        k = w.shape[0]
        xp = F.pad(x, (padding,) * 4)
        rows = range(0, xp.shape[0] - k + 1, stride)
        cols = range(0, xp.shape[1] - k + 1, stride)
        return [[(xp[i : i + k, j : j + k] * w[:, :k]).sum().item() for j in cols] for i in rows]

    result = judged(shipped_course, keys["ps1"], "corr2d-function", square_only)
    assert result.message.startswith("fails for corr2d(tensor([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0")
    assert 0 < result.score < 3


def test_a_vectorised_corr2d_with_unfold_passes(shipped_course, keys):
    def corr2d(x, w, padding=0, stride=1):
        xp = F.pad(x, (padding, padding, padding, padding))
        windows = xp.unfold(0, w.shape[0], stride).unfold(1, w.shape[1], stride)
        return (windows * w).sum(dim=(-2, -1))

    source = "import torch.nn.functional as F\n\n" + "def corr2d(x, w, padding=0, stride=1): ...\n"
    result = judged(shipped_course, keys["ps1"], "corr2d-function", corr2d, source=source)
    assert (result.score, result.status) == (3, "passed")


# --- the library's convolutions are forbidden in the answer cell ------------------------------


@pytest.mark.parametrize(
    "source,name",
    [
        ("import torch.nn.functional as F\ndef corr1d(x, w, padding=0, stride=1, dilation=1):\n"
         "    return F.conv1d(x[None, None], w[None, None], padding=padding)[0, 0]\n",
         "torch.nn.functional.conv1d"),
        ("import torch\ndef corr1d(x, w, **kw):\n    return torch.conv1d(x[None, None], "
         "w[None, None])[0, 0]\n", "torch.conv1d"),
        ("from torch import nn\nconv = nn.Conv1d(1, 1, 3, bias=False)\n", "torch.nn.Conv1d"),
        ("import numpy as np\ndef corr1d(x, w, **kw):\n    return np.correlate(x, w)\n",
         "numpy.correlate"),
        ("from numpy import convolve\n", "numpy.convolve"),
        ("from scipy.signal import correlate2d\n", "scipy.signal"),
        ("from torch.nn.functional import conv2d as c\n", "torch.nn.functional.conv2d"),
    ],
)  # fmt: skip
def test_the_library_s_convolutions_are_refused(shipped_course, source, name):
    for eid in FUNCTIONS:
        (check,) = check_source(shipped_course.exercises[eid].answer, source)
        assert not check.passed and f"the answer must not use {name}" in check.message


def test_the_solutions_and_the_starters_use_no_library_convolution(shipped_course):
    sections = load_solutions(shipped_course, "correlation").sections
    for eid in FUNCTIONS:
        ex = shipped_course.exercises[eid]
        for source in (sections[eid], ex.starter):
            assert [c.passed for c in check_source(ex.answer, source)] == [True]


def test_right_results_from_f_conv1d_score_0_with_the_rule_said(shipped_course, keys):
    def corr1d(x, w, padding=0, stride=1, dilation=1):
        out = F.conv1d(x.reshape(1, 1, -1), w.reshape(1, 1, -1), padding=padding, stride=stride,
                       dilation=dilation)  # fmt: skip
        return out.flatten()

    source = (
        "import torch.nn.functional as F\n\n\ndef corr1d(x, w, padding=0, stride=1, dilation=1):\n"
        "    return F.conv1d(x.reshape(1, 1, -1), w.reshape(1, 1, -1), padding=padding,\n"
        "                    stride=stride, dilation=dilation).flatten()\n"
    )
    result = judged(shipped_course, keys["ps1"], "corr1d-function", corr1d, source=source)
    assert result.score == 0
    assert result.message == "the answer must not use torch.nn.functional.conv1d"
    assert all(c.passed for c in result.checks if c.name != "source")  # the rule alone: 0


# --- the hand-out: the public cases, and check() on them ---------------------------------------


def test_the_hand_out_carries_the_public_cases_and_check_runs_them(shipped_course, keys):
    from grader.handout_release import handout_data
    from grader.inkernel.public import describe

    data = json.loads(json.dumps(handout_data(shipped_course, "ps1", keys["ps1"])))  # as read
    spec = next(e for e in data["exercises"] if e["id"] == "corr1d-function")
    assert [r["value"] for r in spec["public_cases"]["expected"]][:2] == [
        [-2.0, -2.0], [6.0, 5.0, 9.0, 6.0, 11.0, 5.0]
    ]  # fmt: skip
    cases = spec["public_cases"]
    assert (cases["hidden"], cases["drawn"], cases["hidden_points"]) == (6, 1, 12)  # 6 + 6 drawn
    assert "9.375" not in str(data)  # no hidden case's result
    line, verdict = describe(spec, {"corr1d": corr1d_loops})
    assert verdict is None and line.startswith("corr1d-function: 4 public cases: OK")
    line, verdict = describe(spec, {"corr1d": stride_ignored})
    assert verdict is False and "4 public cases: 3 of 4 right" in line
    assert "padding=1, stride=2): wrong (expected [3.0, 7.0, 11.0, -1.0], got [3.0, 5.0" in line


# --- ps3: train(model, loader, epochs, lr) -------------------------------------------------------


def train_reference(model, loader, epochs, lr):
    """The loop in another right style: zero_grad after step, a mean weighted by batch size."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    out = []
    for _ in range(epochs):
        total, seen = 0.0, 0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            total, seen = total + loss.item() * len(xb), seen + len(xb)
        out.append(total / seen)
    return out


def no_zero_grad(model, loader, epochs, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    out = []
    for _ in range(epochs):
        losses = []
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        out.append(sum(losses) / len(losses))
    return out


def last_batch_loss(model, loader, epochs, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    out = []
    for _ in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        out.append(loss.item())  # the epoch's last mini-batch, not its mean
    return out


def test_train_s_cases_are_built_alike_on_both_sides_and_its_reference_repeats(shipped_course):
    ex = shipped_course.exercises["train-function"]
    fn = reference_function(shipped_course, ex)
    for case in fixed_cases(shipped_course, "train-function"):
        (model, loader), kwargs = decode_all(case)
        (model2, loader2), _ = decode_all(case)
        assert model is not model2
        pairs = zip(model.parameters(), model2.parameters(), strict=True)
        assert all(torch.equal(a, b) for a, b in pairs)
        one, two = fn(model, loader, **kwargs), fn(model2, loader2, **kwargs)
        assert one == two and len(one) == kwargs["epochs"]
        assert all(isinstance(v, float) and 0 < v < 5 for v in one)


def test_train_right_in_another_style_passes_and_wrong_loops_fail(shipped_course, keys):
    key = keys["ps3"]
    right = judged(shipped_course, key, "train-function", train_reference)
    assert (right.score, right.status) == (2, "passed")
    forgot = judged(shipped_course, key, "train-function", no_zero_grad)
    assert forgot.score < 2 and forgot.message.startswith(
        "fails for train(tiny_model, loader, epochs=3, lr=0.01): expected ["
    )
    assert "expected [2.4422898292541504, 2.2785849571228027, 2." in forgot.message
    assert judged(shipped_course, key, "train-function", last_batch_loss).score == 0


# --- through a kernel: one ps1 notebook with several answers --------------------------------------

STRIDE_IGNORED = """\
import torch


def corr1d(x, w, padding=0, stride=1, dilation=1):
    xp = torch.cat([torch.zeros(padding), x, torch.zeros(padding)])
    span = dilation * (len(w) - 1) + 1
    return [float((xp[i : i + span : dilation] * w).sum()) for i in range(len(xp) - span + 1)]
"""
BY_THE_LIBRARY = """\
import numpy as np


def conv1d_true(x, w, padding=0):
    return np.convolve(np.pad(x.numpy(), padding), w.numpy(), mode="valid").tolist()
"""
UNFOLDED = """\
import torch.nn.functional as F


def corr2d(x, w, padding=0, stride=1):
    xp = F.pad(x, (padding, padding, padding, padding))
    windows = xp.unfold(0, w.shape[0], stride).unfold(1, w.shape[1], stride)
    return (windows * w).sum(dim=(-2, -1)).tolist()
"""


@pytest.mark.kernel
def test_ps1_s_function_answers_through_a_kernel(built_course, tmp_path):
    from grader.options import GradeOptions
    from grader.pipeline import grade

    course, _ = built_course
    solution = course.root / "release" / "solution" / "ps1.ipynb"
    answers = {
        "corr1d-function": STRIDE_IGNORED,
        "conv1d-function": BY_THE_LIBRARY,
        "corr2d-function": UNFOLDED,
    }
    notebook = with_answers(solution, answers, tmp_path / "ps1.ipynb")
    result = grade(notebook, course, options=GradeOptions(sandbox="optional"))
    by_id = {e.id: e for e in result.exercises}
    corr1d, conv1d, corr2d = (by_id[e] for e in FUNCTIONS)
    assert corr1d.status == "partial" and 0 < corr1d.score < 3
    assert corr1d.message.startswith("fails for corr1d(tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])")
    assert (conv1d.score, conv1d.message) == (0, "the answer must not use numpy.convolve")
    assert all(c.passed for c in conv1d.checks if c.name != "source")  # its results were right
    assert (corr2d.score, corr2d.status) == (3, "passed")
    assert len([c for c in corr2d.checks if c.name.startswith("generated case")]) == 10
    others = [e for e in result.exercises if e.id not in FUNCTIONS]
    assert [e.status for e in others] == ["passed"] * 10
    assert result.max_score == 30
