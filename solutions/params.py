"""Reference solutions: parameter counts from the formulas (no layers are built)."""

# Known mistakes (exercises/params.yaml, `mistakes:`): the counts a misconception gives, from
# the exercise's own parameters that the function's parameters name.


def _conv(c_in, c_out, k, dims=2, bias=True):
    return (k**dims * c_in + (1 if bias else 0)) * c_out


def _cifar(bias=True, bn_per_channel=2):
    return {
        "conv1": _conv(3, 32, 3, bias=bias),
        "bn1": bn_per_channel * 32,
        "conv2": _conv(32, 64, 3, bias=bias),
        "bn2": bn_per_channel * 64,
        "classifier": (64 + (1 if bias else 0)) * 10,
    }


def per_layer_without_bias():
    return _cifar(bias=False)


def per_layer_with_running_stats():
    return _cifar(bn_per_channel=4)


def total_without_bias():
    return sum(_cifar(bias=False).values())


def total_with_running_stats():
    return sum(_cifar(bn_per_channel=4).values())


def _side_after_pool2(image_size):
    """The side of the CIFAR10Model's feature maps after its second max-pool."""
    side = (image_size - 2) // 2  # Conv2d(k=3, no padding), then MaxPool2d(2)
    return (side - 2) // 2  # the same again


def conv2d_without_bias(in_channels, out_channels):
    return _conv(in_channels, out_channels, 5, bias=False)


def conv2d_kernel_not_squared(in_channels, out_channels):
    return (5 * in_channels + 1) * out_channels


def conv1d_with_bias(in_channels, out_channels, kernel_size):
    return _conv(in_channels, out_channels, kernel_size, dims=1)


def conv1d_as_2d(in_channels, out_channels, kernel_size):
    return _conv(in_channels, out_channels, kernel_size, bias=False)


def linear_without_bias(image_size):
    return 64 * _side_after_pool2(image_size) ** 2 * 10


def linear_after_gap():
    return (64 + 1) * 10

# %% params-cifar
def conv_params(c_in, c_out, k, dims=2, bias=True):
    """Weights k**dims * c_in per output channel, plus one bias per output channel."""
    return (k ** dims * c_in + (1 if bias else 0)) * c_out


def linear_params(n_in, n_out):
    return (n_in + 1) * n_out


def batchnorm_params(c):
    return 2 * c  # weight (scale) and bias (shift) per channel; running stats are buffers


params_per_layer = {
    "conv1": conv_params(3, 32, 3),  # (9*3 + 1) * 32 = 896
    "bn1": batchnorm_params(32),  # 64
    "conv2": conv_params(32, 64, 3),  # (9*32 + 1) * 64 = 18496
    "bn2": batchnorm_params(64),  # 128
    "classifier": linear_params(64, 10),  # 65 * 10 = 650
}

# %% params-total
params_total = sum(params_per_layer.values())
# 20234

# %% params-conv2d
# this exercise's parameters: Conv2d(in_channels, out_channels, 5); default Conv2d(16, 33, 5)
params_conv2d = conv_params(in_channels, out_channels, 5)
# default: (25*16 + 1) * 33 = 13233

# %% params-conv1d
# Conv1d(in_channels, out_channels, kernel_size, bias=False); default Conv1d(8, 16, 3)
params_conv1d = conv_params(in_channels, out_channels, kernel_size, dims=1, bias=False)
# default: 3*8 * 16 = 384

# %% params-linear
# image_size is this exercise's parameter: 32 (CIFAR-10) by default
side = (image_size - 2) // 2  # conv1 (3x3, no padding), MaxPool2d(2); default 32 -> 30 -> 15
side = (side - 2) // 2  # conv2, MaxPool2d(2); default 15 -> 13 -> 6
params_linear = linear_params(64 * side * side, 10)
# default: 2305 * 10 = 23050: more than the whole CIFAR10Model (20234)
