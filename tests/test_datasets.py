"""Tests for grader.datasets: synthetic data, CIFAR-10 loading, data selection, accuracy."""

from __future__ import annotations

import builtins
import os
import pickle
import struct

import numpy as np
import pytest
import torch
from torch import nn

from grader import datasets
from grader.datasets import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    accuracy,
    holdout_data,
    load_cifar10,
    synthetic_cifar,
    training_data,
)


class CIFAR10Model(nn.Module):
    """The model of the course's training exercise."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool(torch.relu(self.bn2(self.conv2(x))))
        return self.fc(self.flatten(self.gap(x)))


# --- synthetic_cifar ---------------------------------------------------------------------


def test_synthetic_is_deterministic_and_leaves_global_rng_alone():
    torch.manual_seed(1)
    x1, y1 = synthetic_cifar(50, seed=3)
    state = torch.get_rng_state()
    torch.manual_seed(2)
    x2, y2 = synthetic_cifar(50, seed=3)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    torch.manual_seed(1)
    synthetic_cifar(50, seed=3)
    assert torch.equal(torch.get_rng_state(), state)


def test_synthetic_seeds_differ():
    x0, y0 = synthetic_cifar(50, seed=0)
    x1, y1 = synthetic_cifar(50, seed=1)
    assert not torch.equal(x0, x1)
    assert not torch.equal(y0, y1)


def test_synthetic_shapes_dtypes_and_normalisation():
    x, y = synthetic_cifar(1000, seed=0)
    assert x.shape == (1000, 3, 32, 32) and x.dtype == torch.float32
    assert y.shape == (1000,) and y.dtype == torch.int64
    assert abs(x.mean().item()) < 0.05
    assert abs(x.std().item() - 1) < 0.05
    assert int(y.min()) == 0 and int(y.max()) == 9
    assert synthetic_cifar(0)[0].shape == (0, 3, 32, 32)


@pytest.mark.parametrize("n,num_classes", [(1000, 10), (1003, 10), (30, 4)])
def test_synthetic_labels_balanced(n, num_classes):
    _, y = synthetic_cifar(n, seed=5, num_classes=num_classes)
    counts = torch.bincount(y, minlength=num_classes)
    assert len(counts) == num_classes
    assert int(counts.max() - counts.min()) <= 1


@pytest.mark.parametrize("kwargs", [{"n": -1}, {"n": 10, "num_classes": 1}])
def test_synthetic_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        synthetic_cifar(**kwargs)


@pytest.fixture
def one_thread():
    """torch on one thread: small batches gain nothing from more, and on a busy machine more
    threads than free cores make this training several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_synthetic_is_learnable_on_held_out_seed(one_thread):
    x, y = synthetic_cifar(2000, seed=0)
    x_test, y_test = synthetic_cifar(1000, seed=1)
    torch.manual_seed(0)
    model = CIFAR10Model()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(1):  # one epoch: ~2 s on one thread
        perm = torch.randperm(len(x))
        for start in range(0, len(x), 64):
            idx = perm[start : start + 64]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    assert accuracy(model, x_test, y_test) > 0.4  # chance is 0.1; measured 0.51


# --- load_cifar10 --------------------------------------------------------------------------


def write_batch(path, data, labels):
    # Protocol 4 rebuilds arrays with _reconstruct; protocol 5 would need _frombuffer (refused).
    with open(path, "wb") as f:
        pickle.dump({b"batch_label": b"fake", b"data": data, b"labels": labels}, f, protocol=4)


def py2_batch(data, labels):
    """A batch pickled the way the real CIFAR-10 files are: Python 2 str, numpy.core names."""

    def s(b):
        return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<i", len(b)) + b

    def i(v):
        return b"J" + struct.pack("<i", v)

    dtype = b"cnumpy\ndtype\n" + s(b"u1") + i(0) + i(1) + b"\x87R("
    dtype += i(3) + s(b"|") + b"NNN" + i(-1) + i(-1) + i(0) + b"tb"
    array = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + i(0) + b"\x85"
    array += s(b"b") + b"\x87R(" + i(1) + i(data.shape[0]) + i(3072) + b"\x86" + dtype
    array += b"\x89" + s(data.tobytes()) + b"tb"
    items = s(b"data") + array + s(b"labels") + b"](" + b"".join(map(i, labels)) + b"e"
    return b"\x80\x02}(" + items + b"u."


def images(*values):
    """uint8 (N, 3072) CIFAR rows; image k is filled with values[k] in every pixel."""
    return np.stack([np.full(3072, v, dtype=np.uint8) for v in values])


def expected_image(value):
    mean = torch.tensor(CIFAR10_MEAN, dtype=torch.float64).view(3, 1, 1)
    std = torch.tensor(CIFAR10_STD, dtype=torch.float64).view(3, 1, 1)
    return ((value / 255 - mean) / std).expand(3, 32, 32)


@pytest.fixture
def cifar_dir(tmp_path):
    write_batch(tmp_path / "data_batch_1", images(0, 255, 51), [1, 2, 3])
    write_batch(tmp_path / "data_batch_2", images(102, 204), np.array([4, 5]))
    write_batch(tmp_path / "test_batch", images(255, 0), [9, 0])
    return tmp_path


def test_load_cifar10_train_normalises_and_concatenates_batches(cifar_dir):
    x, y = load_cifar10(cifar_dir)
    assert x.shape == (5, 3, 32, 32) and x.dtype == torch.float32
    assert y.tolist() == [1, 2, 3, 4, 5] and y.dtype == torch.int64
    for k, value in enumerate([0, 255, 51, 102, 204]):
        torch.testing.assert_close(x[k].double(), expected_image(value), rtol=0, atol=1e-6)


def test_load_cifar10_channel_order_is_rgb_planes(tmp_path):
    row = np.repeat(np.array([10, 20, 30], dtype=np.uint8), 1024)[None]
    write_batch(tmp_path / "data_batch_1", row, [0])
    x, _ = load_cifar10(str(tmp_path))
    for c, value in enumerate([10, 20, 30]):
        torch.testing.assert_close(x[0, c].double(), expected_image(value)[c], rtol=0, atol=1e-6)


def test_load_cifar10_test_split(cifar_dir):
    x, y = load_cifar10(cifar_dir, train=False)
    assert y.tolist() == [9, 0]
    torch.testing.assert_close(x[0].double(), expected_image(255), rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "limit,labels", [(0, []), (2, [1, 2]), (4, [1, 2, 3, 4]), (99, [1, 2, 3, 4, 5])]
)
def test_load_cifar10_limit(cifar_dir, limit, labels):
    x, y = load_cifar10(cifar_dir, limit=limit)
    assert y.tolist() == labels and x.shape == (len(labels), 3, 32, 32)


def test_load_cifar10_reads_only_the_batches_it_needs(cifar_dir):
    (cifar_dir / "data_batch_2").write_bytes(b"not a pickle")
    assert load_cifar10(cifar_dir, limit=3)[1].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="data_batch_2"):
        load_cifar10(cifar_dir, limit=4)


def test_load_cifar10_python2_pickles(tmp_path):
    (tmp_path / "data_batch_1").write_bytes(py2_batch(images(0, 255), [6, 7]))
    x, y = load_cifar10(tmp_path)
    assert y.tolist() == [6, 7]
    torch.testing.assert_close(x[1].double(), expected_image(255), rtol=0, atol=1e-6)


def test_load_cifar10_missing_folder_or_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_cifar10(tmp_path / "nowhere")
    write_batch(tmp_path / "data_batch_2", images(0), [0])
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        load_cifar10(tmp_path)
    with pytest.raises(FileNotFoundError, match="test_batch"):
        load_cifar10(tmp_path, train=False)


@pytest.mark.parametrize(
    "content",
    [
        [1, 2, 3],
        {b"data": images(0).astype(np.float32), b"labels": [0]},
        {b"data": images(0)[:, :100], b"labels": [0]},
        {b"data": images(0, 0), b"labels": [0]},
        {b"data": images(0), b"labels": [10]},
        {b"labels": [0]},
    ],
    ids=["not-dict", "float-data", "short-rows", "label-count", "label-range", "no-data"],
)
def test_load_cifar10_malformed_batch(tmp_path, content):
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump(content, f)
    with pytest.raises(ValueError, match="test_batch"):
        load_cifar10(tmp_path, train=False)


def test_load_cifar10_truncated_pickle(tmp_path):
    write_batch(tmp_path / "test_batch", images(0, 1), [0, 1])
    path = tmp_path / "test_batch"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="test_batch"):
        load_cifar10(tmp_path, train=False)


class Evil:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return self.func, (self.arg,)


@pytest.mark.parametrize("kind", ["os.system", "builtins.exec", "nested"])
def test_load_cifar10_refuses_code_execution(tmp_path, kind):
    marker = tmp_path / "pwned"
    evil = {
        "os.system": Evil(os.system, f"touch {marker}"),
        "builtins.exec": Evil(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
        "nested": {b"data": images(0), b"labels": [Evil(os.system, f"touch {marker}")]},
    }[kind]
    with open(tmp_path / "data_batch_1", "wb") as f:
        pickle.dump(evil, f)
    with pytest.raises(ValueError, match=r"data_batch_1.*refusing to unpickle"):
        load_cifar10(tmp_path)
    assert not marker.exists()


# --- training_data / holdout_data ---------------------------------------------------------


def test_training_and_holdout_default_to_synthetic(monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    x, y = training_data(20, seed=4)
    assert torch.equal(x, synthetic_cifar(20, 4)[0]) and torch.equal(y, synthetic_cifar(20, 4)[1])
    assert torch.equal(holdout_data(20, 7)[0], synthetic_cifar(20, 7)[0])
    monkeypatch.setenv(datasets.ENV_VAR, "")
    assert training_data()[0].shape == (datasets.DEFAULT_TRAIN_SIZE, 3, 32, 32)


def test_training_and_holdout_use_cifar10_dir(cifar_dir, monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    assert training_data(4, cifar10_dir=str(cifar_dir))[1].tolist() == [1, 2, 3, 4]
    assert holdout_data(1, 123, cifar10_dir=cifar_dir)[1].tolist() == [9]


def test_training_and_holdout_use_environment(cifar_dir, tmp_path_factory, monkeypatch):
    monkeypatch.setenv(datasets.ENV_VAR, str(cifar_dir))
    assert training_data()[1].tolist() == [1, 2, 3, 4, 5]
    # The grader's side reads no environment: it passes the course's resolved folder.
    assert torch.equal(holdout_data(10, 123)[1], synthetic_cifar(10, 123)[1])
    # An explicit folder wins over the environment.
    other = tmp_path_factory.mktemp("other")
    write_batch(other / "data_batch_1", images(7), [8])
    assert training_data(cifar10_dir=other)[1].tolist() == [8]


# --- accuracy -----------------------------------------------------------------------------


class LabelReader(nn.Module):
    """Predicts (pixel value + shift) % 10: the pixel (0, 0, 0) of each input holds its label."""

    def __init__(self, shift):
        super().__init__()
        self.shift = shift
        self.register_buffer("seen", torch.zeros(()))

    def forward(self, x):
        assert not torch.is_grad_enabled() and not self.training
        assert len(x) <= 3
        self.seen += len(x)
        return nn.functional.one_hot((x[:, 0, 0, 0].long() + self.shift) % 10, 10).float()


@pytest.mark.parametrize("shift,expected", [(0, 1.0), (1, 0.0)])
def test_accuracy_right_and_wrong(shift, expected):
    y = torch.tensor([3, 1, 4, 1, 5, 9, 2])
    x = torch.zeros(7, 3, 32, 32)
    x[:, 0, 0, 0] = y.float()
    model = LabelReader(shift)
    assert model.training
    assert accuracy(model, x, y, batch_size=3) == expected
    assert model.training  # mode restored
    assert int(model.seen) == 7


def test_accuracy_counts_fraction():
    y = torch.tensor([0, 1, 2, 3])
    x = torch.zeros(4, 3, 32, 32)
    x[:2, 0, 0, 0] = y[:2].float()
    assert accuracy(LabelReader(0), x, y, batch_size=2) == 0.5


def test_accuracy_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        accuracy(LabelReader(0), torch.zeros(3, 3, 32, 32), torch.zeros(2, dtype=torch.int64))
