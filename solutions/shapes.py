"""Reference solutions: output shapes from the formula (no layers are built)."""

# Known mistakes (exercises/shapes.yaml, `mistakes:`): the shapes a misconception gives, from
# the exercise's own parameters that the function's parameters name. The constraints of
# exercises/shapes.yaml call `_size` too.


def _size(n, k, s=1, p=0, d=1, ceil=False):
    span = n + 2 * p - d * (k - 1) - 1
    return (-(-span // s) if ceil else span // s) + 1


def conv1d_channels_unchanged(batch, in_channels, kernel_size, length):
    return (batch, in_channels, _size(length, kernel_size))


def conv1d_as_if_padded(batch, out_channels, length):
    return (batch, out_channels, length)


def conv2d_rounded_up(batch, out_channels, kernel_size, stride, padding, height, width):
    k, s, p = kernel_size, stride, padding
    h, w = _size(height, k, s=s, p=p, ceil=True), _size(width, k, s=s, p=p, ceil=True)
    return (batch, out_channels, h, w)


def conv2d_stride_ignored(batch, out_channels, kernel_size, padding, height, width):
    h, w = _size(height, kernel_size, p=padding), _size(width, kernel_size, p=padding)
    return (batch, out_channels, h, w)


def dilation_ignored(batch, out_channels, kernel_size, stride, padding, size):
    h = _size(size, kernel_size, s=stride, p=padding)
    return (batch, out_channels, h, h)


def pool_rounded_up(batch, channels, kernel_size, size):
    h = _size(size, kernel_size, s=kernel_size, ceil=True)
    return (batch, channels, h, h)


def pool_stride_one(batch, channels, kernel_size, size):
    h = _size(size, kernel_size)
    return (batch, channels, h, h)


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


# this exercise's parameters: Conv1d(in_channels, out_channels, kernel_size) on
# (batch, in_channels, length); default Conv1d(4, 16, kernel_size=3) on (1, 4, 32)
shape_conv1d = (batch, out_channels, out_size(length, k=kernel_size))
# default: (1, 16, 30)

# %% shape-conv2d-stride
# Conv2d(in_channels, out_channels, kernel_size, stride, padding) on
# (batch, in_channels, height, width);
# default Conv2d(3, 32, 5, stride=2, padding=2) on (8, 3, 64, 48)
shape_conv2d = (
    batch,
    out_channels,
    out_size(height, k=kernel_size, s=stride, p=padding),
    out_size(width, k=kernel_size, s=stride, p=padding),
)
# default: (8, 32, 32, 24)

# %% shape-dilation
# Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation) on
# (batch, in_channels, size, size); default Conv2d(16, 8, 3, stride=2, padding=1, dilation=2)
# on (4, 16, 29, 29)
h = out_size(size, k=kernel_size, s=stride, p=padding, d=dilation)
# default: (29 + 2 - 4 - 1) // 2 + 1 = 14
shape_dilated = (batch, out_channels, h, h)
# default: (4, 8, 14, 14)

# %% shape-pool
# MaxPool2d(kernel_size): the stride defaults to the kernel size
h = out_size(size, k=kernel_size, s=kernel_size)  # default: (15 - 1 - 1) // 2 + 1 = 7
shape_pool = (batch, channels, h, h)
# default: (2, 32, 7, 7)

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
