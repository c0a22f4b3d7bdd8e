"""Data for the CIFAR10Model training exercise: synthetic or real CIFAR-10, and accuracy.

Imported both in the student's kernel (to get training data) and in the grader process (to
evaluate exported weights on data the student never saw). Without real CIFAR-10 on disk,
both sides use :func:`synthetic_cifar`: CIFAR-shaped images whose class is carried by an
oriented, noisy sinusoidal texture and a weak colour tint, learnable by a small CNN in seconds.
In the kernel, ``GRADE_CIFAR10_DIR`` (which the grader sets from the course's one resolved
``data.cifar10`` setting) names a folder of the CIFAR-10 "python version" batches to use the
real data instead; the grader passes that same folder to :func:`holdout_data` explicitly.
"""

from __future__ import annotations

import itertools
import math
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "DEFAULT_TRAIN_SIZE",
    "ENV_VAR",
    "accuracy",
    "holdout_data",
    "load_cifar10",
    "predict",
    "synthetic_cifar",
    "training_data",
]

ENV_VAR = "GRADE_CIFAR10_DIR"
"""Environment variable naming a folder with the CIFAR-10 python batches."""

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
"""Per-channel mean of the CIFAR-10 training images, pixel values scaled to [0, 1]."""
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
"""Per-channel standard deviation of the CIFAR-10 training images, scaled to [0, 1]."""

DEFAULT_TRAIN_SIZE = 4000
"""Default size of :func:`training_data`: about 1.8 s per epoch of the course model on 2 cores."""

# Synthetic data. Class parameters come from a fixed course seed, so every seed (training
# or secret hold-out) samples the same classes. Pixel noise dominates the variance: the
# texture is easy to see after averaging but takes a CNN a few hundred steps to pick out.
_COURSE_SEED = 20240611
_SIZE = 32
_FREQUENCIES = (0.12, 0.22)  # cycles per pixel; classes sharing an orientation differ here
_ORIENTATION_JITTER = 0.05  # radians, per sample
_FREQUENCY_JITTER = 0.05  # relative, per sample
_CONTRAST = (0.5, 1.5)  # uniform range of the texture amplitude, per sample
_CLASS_TINT = 0.2  # std of the per-class colour offset
_SAMPLE_TINT = 0.3  # std of the per-sample colour offset
_NOISE = 6.5  # std of the i.i.d. Gaussian pixel noise
# Variance of one pixel before normalisation: texture sqrt(2)*c*sin(.) has variance E[c^2].
_PIXEL_STD = math.sqrt(
    (_CONTRAST[0] ** 2 + _CONTRAST[0] * _CONTRAST[1] + _CONTRAST[1] ** 2) / 3
    + _CLASS_TINT**2
    + _SAMPLE_TINT**2
    + _NOISE**2
)

_IMAGE_SHAPE = (3, _SIZE, _SIZE)
_NUM_CLASSES = 10
# The only globals a CIFAR-10 batch pickle may name (numpy array reconstruction).
_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }
)


def _class_parameters(num_classes: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Orientation (radians), frequency (cycles/pixel) and colour tint (3,) of each class."""
    gen = torch.Generator().manual_seed(_COURSE_SEED)
    n_orient = math.ceil(num_classes / len(_FREQUENCIES))
    k = torch.arange(num_classes)
    theta = (k % n_orient).to(torch.float32) * (math.pi / n_orient)
    freq = torch.tensor(_FREQUENCIES, dtype=torch.float32)[k // n_orient]
    tint = torch.randn(num_classes, 3, generator=gen) * _CLASS_TINT
    perm = torch.randperm(num_classes, generator=gen)  # label order unrelated to geometry
    return theta[perm], freq[perm], tint


def synthetic_cifar(
    n: int, seed: int = 0, *, num_classes: int = _NUM_CLASSES
) -> tuple[torch.Tensor, torch.Tensor]:
    """A deterministic, learnable, CIFAR-shaped data set.

    Each class has a fixed orientation and frequency of a sinusoidal grating and a colour
    tint (fixed for the course, independent of ``seed``); each sample draws its own phase,
    contrast, small orientation/frequency jitter and colour offset, plus strong pixel noise.
    Labels are balanced (counts differ by at most one) and shuffled. The global RNG is
    neither used nor advanced: the same ``(n, seed, num_classes)`` gives bitwise the same
    tensors.

    Args:
        n: Number of samples.
        seed: Sampling seed; use different seeds for training and held-out data.
        num_classes: Number of classes (at least 2).

    Returns:
        Images, float32 of shape (n, 3, 32, 32), roughly zero mean and unit variance, and
        labels, int64 of shape (n,) in ``range(num_classes)``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    gen = torch.Generator().manual_seed(seed)
    theta_c, freq_c, tint_c = _class_parameters(num_classes)
    y = (torch.arange(n) % num_classes)[torch.randperm(n, generator=gen)]

    theta = theta_c[y] + _ORIENTATION_JITTER * torch.randn(n, generator=gen)
    freq = freq_c[y] * (1 + _FREQUENCY_JITTER * torch.randn(n, generator=gen))
    phase = 2 * math.pi * torch.rand(n, generator=gen)
    lo, hi = _CONTRAST
    amplitude = math.sqrt(2) * (lo + (hi - lo) * torch.rand(n, generator=gen))
    tint = tint_c[y] + _SAMPLE_TINT * torch.randn(n, 3, generator=gen)

    coords = torch.arange(_SIZE, dtype=torch.float32)
    rows, cols = torch.meshgrid(coords, coords, indexing="ij")
    along = torch.cos(theta)[:, None, None] * cols + torch.sin(theta)[:, None, None] * rows
    arg = 2 * math.pi * freq[:, None, None] * along + phase[:, None, None]
    texture = amplitude[:, None, None] * torch.sin(arg)  # (n, 32, 32), same in every channel

    x = torch.randn(n, *_IMAGE_SHAPE, generator=gen).mul_(_NOISE)
    x.add_(texture[:, None]).add_(tint[:, :, None, None]).div_(_PIXEL_STD)
    return x, y


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild numpy arrays and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}; "
                "a CIFAR-10 batch holds only numpy arrays, lists and ints"
            )
        if name == "_reconstruct":
            # numpy's own function, whatever its module is called in this numpy version.
            return np.zeros(0).__reduce__()[0]
        return getattr(np, name)


def _read_batch(path: Path) -> tuple[np.ndarray, list[int]]:
    """Read one CIFAR-10 batch file: uint8 data (N, 3072) and N labels in range(10)."""
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR-10 batch file not found: {path}")
    try:
        with path.open("rb") as f:
            batch = _ArrayUnpickler(f, encoding="bytes").load()
    except Exception as e:  # a truncated or garbled pickle can raise almost anything
        raise ValueError(f"{path}: cannot load as a CIFAR-10 batch: {e}") from e
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: expected a dict, got {type(batch).__name__}")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3 * _SIZE * _SIZE
    ):
        raise ValueError(f"{path}: 'data' must be a uint8 numpy array of shape (N, 3072)")
    if not isinstance(labels, (list, np.ndarray)) or len(labels) != data.shape[0]:
        raise ValueError(f"{path}: 'labels' must be a list of {data.shape[0]} ints")
    if not all(isinstance(v, (int, np.integer)) and 0 <= v < _NUM_CLASSES for v in labels):
        raise ValueError(f"{path}: labels must be ints in range({_NUM_CLASSES})")
    return data, [int(v) for v in labels]


def load_cifar10(
    folder: str | os.PathLike[str], *, train: bool = True, limit: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load CIFAR-10 from the "python version" batch files in ``folder``.

    The test split is ``test_batch``. The training split is ``data_batch_1`` ..
    ``data_batch_5``: ``data_batch_1`` is required, the others are used in order when
    present, so a folder holding only some batches gives a smaller training set. Batches
    after the first are read only while fewer than ``limit`` images are collected. Files
    are unpickled with an unpickler that rebuilds numpy arrays and refuses everything else.

    Args:
        folder: Folder holding the batch files (e.g. ``cifar-10-batches-py``).
        train: Training split if True, test split otherwise.
        limit: Return at most this many images (the first ones, in file order).

    Returns:
        Images, float32 (N, 3, 32, 32), normalised per channel with
        :data:`CIFAR10_MEAN` / :data:`CIFAR10_STD`, and labels, int64 (N,).

    Raises:
        FileNotFoundError: The folder or a required batch file is missing.
        ValueError: A file is not a CIFAR-10 batch or names a forbidden global.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"CIFAR-10 folder not found: {root}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if train:
        paths = [root / "data_batch_1"]
        paths += [p for i in range(2, 6) if (p := root / f"data_batch_{i}").is_file()]
    else:
        paths = [root / "test_batch"]

    datas: list[np.ndarray] = []
    labels: list[int] = []
    for path in paths:
        if datas and limit is not None and len(labels) >= limit:
            break  # the first batch is always read, so a bad folder fails even for limit=0
        data, batch_labels = _read_batch(path)
        datas.append(data)
        labels += batch_labels
    stop = len(labels) if limit is None else limit
    pixels = torch.from_numpy(np.concatenate(datas)[:stop]).reshape(-1, *_IMAGE_SHAPE)
    mean = torch.tensor(CIFAR10_MEAN).view(3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(3, 1, 1)
    x = (pixels.to(torch.float32) / 255 - mean) / std
    return x, torch.tensor(labels[:stop], dtype=torch.int64)


def _configured_dir(cifar10_dir: str | os.PathLike[str] | None) -> str | os.PathLike[str] | None:
    """The CIFAR-10 folder to use: the argument, else a non-empty ``GRADE_CIFAR10_DIR``."""
    if cifar10_dir is not None:
        return cifar10_dir
    return os.environ.get(ENV_VAR) or None


def training_data(
    n: int = DEFAULT_TRAIN_SIZE,
    seed: int = 0,
    *,
    cifar10_dir: str | os.PathLike[str] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The exercise's training set: real CIFAR-10 when configured, else synthetic.

    Args:
        n: Number of samples (at most; the real training split has 50000).
        seed: Seed of the synthetic data; ignored for real CIFAR-10.
        cifar10_dir: CIFAR-10 folder; defaults to ``$GRADE_CIFAR10_DIR`` when set and
            non-empty.

    Returns:
        Images (n, 3, 32, 32) float32 and labels (n,) int64.
    """
    folder = _configured_dir(cifar10_dir)
    if folder is not None:
        return load_cifar10(folder, train=True, limit=n)
    return synthetic_cifar(n, seed)


def holdout_data(
    n: int, seed: int, *, cifar10_dir: str | os.PathLike[str] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The grader's evaluation set: the CIFAR-10 test split when configured, else synthetic.

    Args:
        n: Number of samples (at most; the real test split has 10000).
        seed: Seed of the synthetic data, kept secret from students and different from the
            training seed; ignored for real CIFAR-10.
        cifar10_dir: CIFAR-10 folder, or None for synthetic data (the environment is not
            read: the grader passes the course's resolved setting).

    Returns:
        Images (n, 3, 32, 32) float32 and labels (n,) int64.
    """
    if cifar10_dir is not None:
        return load_cifar10(cifar10_dir, train=False, limit=n)
    return synthetic_cifar(n, seed)


def accuracy(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 500
) -> float:
    """Fraction of ``x`` that ``model`` classifies as ``y`` (argmax over dim 1).

    Runs as ``predict`` does (eval mode, no gradients, in batches, on the model's device).

    Args:
        model: A classifier returning logits of shape (batch, classes).
        x: Inputs, first dimension the samples.
        y: Integer labels, shape (len(x),).
        batch_size: Samples per forward pass.

    Returns:
        Accuracy in [0, 1].
    """
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"need as many labels as inputs (> 0), got {len(x)} and {len(y)}")
    return int((predict(model, x, batch_size=batch_size) == y.cpu()).sum()) / len(x)


def predict(model: torch.nn.Module, x: torch.Tensor, *, batch_size: int = 500) -> torch.Tensor:
    """The class ``model`` gives each of ``x`` (argmax over dim 1), on the CPU.

    Runs in eval mode without gradients, in batches, on the device of the model's first
    parameter or buffer (CPU if it has none); the model's training mode is restored after.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    device = first.device if first is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.inference_mode():
            for start in range(0, len(x), batch_size):
                logits = model(x[start : start + batch_size].to(device))
                out.append(logits.argmax(dim=1).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)
