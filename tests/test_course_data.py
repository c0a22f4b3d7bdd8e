"""The course's data folder is one resolved setting, used by the kernel and the judge alike.

A course.yaml that names tiny CIFAR-10 files, graded from another folder: the kernel's
``training_data()`` reads the training batches (through its read-only bind and its own
variable), and the judge evaluates on the same folder's test batch.
"""

from __future__ import annotations

import json

import pytest
from test_datasets import images, write_batch

from grader import load_course
from grader.build import build
from grader.pipeline import grade

pytestmark = pytest.mark.kernel

COURSE = """\
name: Data course
data:
  cifar10: ../shared-data/cifar
assignments:
  - id: d1
    exercises: [count, fit]
"""
TOPIC = """\
topic: d
setup: |
  import torch
  from torch import nn
  from grader.datasets import training_data
  train_x, train_y = training_data()
exercises:
  - id: count
    title: How many training images?
    points: 1
    prompt: Count them.
    answer: {kind: number, name: n}
  - id: fit
    title: A linear classifier
    points: 1
    prompt: Fit it.
    answer: {kind: training, name: model, reference: Net, holdout: 100}
"""
SOLUTIONS = """\
# %% count
n = [len(train_x), *train_y.tolist()]

# %% fit
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(3 * 32 * 32, 10)

    def forward(self, x):
        return self.fc(self.flatten(x))


model = Net()
losses = [2.0, 1.0]
device = "cpu"
"""


def test_kernel_and_judge_read_the_courses_data_folder(write_course, tmp_path, monkeypatch):
    monkeypatch.delenv("GRADE_CIFAR10_DIR", raising=False)
    data = tmp_path / "shared-data" / "cifar"
    data.mkdir(parents=True)
    write_batch(data / "data_batch_1", images(0, 255, 51), [1, 2, 3])
    write_batch(data / "test_batch", images(255, 0), [9, 0])
    topic = TOPIC.replace("kind: number", "kind: array")  # [count, *labels]
    path = write_course(
        tmp_path / "course", course=COURSE, exercises={"d": topic}, solutions={"d": SOLUTIONS}
    )
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)  # "../shared-data" is relative to course.yaml, not to here
    course = load_course(path)
    assert course.cifar10_dir == data
    build(course, course.root / "release")
    key = json.loads((course.root / "release" / "key" / "d1.json").read_text())
    assert key["values"]["count"] == [3, 1, 2, 3]  # the kernel read the 3 real images
    result = grade(course.root / "release" / "solution" / "d1.ipynb", course)
    fit = {e.id: e for e in result.exercises}["fit"]
    accuracy = next(c for c in fit.checks if c.name == "held-out accuracy")
    assert "on 2 held-out samples" in accuracy.message  # the judge used the test batch
