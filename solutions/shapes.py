"""Reference solutions: output shapes from the formula (no layers are built)."""

# Known mistakes (exercises/shapes.yaml, `mistakes:`): the shapes a misconception gives.


def _size(n, k, s=1, p=0, d=1, ceil=False):
    span = n + 2 * p - d * (k - 1) - 1
    return (-(-span // s) if ceil else span // s) + 1


def conv1d_channels_unchanged():
    return (1, 4, _size(32, 3))


def conv1d_as_if_padded():
    return (1, 16, 32)


def conv2d_rounded_up():
    return (8, 32, _size(64, 5, s=2, p=2, ceil=True), _size(48, 5, s=2, p=2, ceil=True))


def conv2d_stride_ignored():
    return (8, 32, _size(64, 5, p=2), _size(48, 5, p=2))


def dilation_ignored():
    h = _size(29, 3, s=2, p=1)
    return (4, 8, h, h)


def pool_rounded_up():
    h = _size(15, 2, s=2, ceil=True)
    return (2, 32, h, h)


def pool_stride_one():
    h = _size(15, 2)
    return (2, 32, h, h)


def cifar_conv1_padded():
    return (3, 32, 32, 32)


def cifar_pool1_not_halved():
    return (3, 32, 30, 30)


def cifar_conv2_padded():
    return (3, 64, 15, 15)


def cifar_pool2_rounded_up():
    return (3, 64, 7, 7)


def cifar_gap_channels_averaged():
    return (3, 1, 6, 6)


def cifar_flatten_without_gap():
    return (3, 64 * 6 * 6)


def cifar_logits_without_batch():
    return (10,)

# %% shape-conv1d
def out_size(n, k, s=1, p=0, d=1):
    """Output length along one axis: floor((n + 2p - d(k-1) - 1) / s) + 1."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# Conv1d(4, 16, kernel_size=3) on (1, 4, 32)
shape_conv1d = (1, 16, out_size(32, k=3))
# (1, 16, 30)

# %% shape-conv2d-stride
# Conv2d(3, 32, kernel_size=5, stride=2, padding=2) on (8, 3, 64, 48)
shape_conv2d = (8, 32, out_size(64, k=5, s=2, p=2), out_size(48, k=5, s=2, p=2))
# (8, 32, 32, 24)

# %% shape-dilation
# Conv2d(16, 8, kernel_size=3, stride=2, padding=1, dilation=2) on (4, 16, 29, 29)
h = out_size(29, k=3, s=2, p=1, d=2)  # (29 + 2 - 4 - 1) // 2 + 1 = 14
shape_dilated = (4, 8, h, h)
# (4, 8, 14, 14)

# %% shape-pool
# MaxPool2d(2): kernel 2, stride 2 (the default stride is the kernel size)
h = out_size(15, k=2, s=2)  # (15 - 1 - 1) // 2 + 1 = 7
shape_pool = (2, 32, h, h)
# (2, 32, 7, 7)

# %% cifar-conv1
N = 3
h = out_size(32, k=3)  # no padding: 32 -> 30
shape_conv1 = (N, 32, h, h)
# (3, 32, 30, 30)

# %% cifar-pool1
h = out_size(32, k=3)
h = out_size(h, k=2, s=2)  # MaxPool2d(2): 30 -> 15
shape_pool1 = (N, 32, h, h)
# (3, 32, 15, 15)

# %% cifar-conv2
h = out_size(15, k=3)  # 15 -> 13
shape_conv2 = (N, 64, h, h)
# (3, 64, 13, 13)

# %% cifar-pool2
h = out_size(13, k=2, s=2)  # (13 - 1 - 1) // 2 + 1 = 6: the last row and column are dropped
shape_pool2 = (N, 64, h, h)
# (3, 64, 6, 6)

# %% cifar-gap
shape_gap = (N, 64, 1, 1)  # AdaptiveAvgPool2d((1, 1)): one average per channel

# %% cifar-flatten
shape_flat = (N, 64 * 1 * 1)
# (3, 64)

# %% cifar-logits
shape_logits = (N, 10)  # Linear(64, 10)
