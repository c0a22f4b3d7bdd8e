"""Reference solutions: cross-correlation and convolution by hand (plain Python loops)."""

# Known mistakes (exercises/correlation.yaml, `mistakes:`): each function computes the wrong
# answer a misconception gives, from the setup's variables and the exercise's own parameters
# that its parameters name. The constraints of exercises/correlation.yaml call these helpers
# too, so that no mistake gives the right answer for any student's data.


def _corr1d(x, w, left=0, right=0, stride=1, dilation=1):
    xp = [0] * left + list(x) + [0] * right
    span = dilation * (len(w) - 1) + 1
    return [
        sum(w[j] * xp[i + j * dilation] for j in range(len(w)))
        for i in range(0, len(xp) - span + 1, stride)
    ]


def _corr2d(x, w, padding=0, stride=1):
    k, h, wd = len(w), len(x), len(x[0])
    xp = [[0] * (wd + 2 * padding) for _ in range(h + 2 * padding)]
    for r in range(h):
        for c in range(wd):
            xp[r + padding][c + padding] = x[r][c]
    return [
        [
            sum(w[a][b] * xp[i + a][j + b] for a in range(k) for b in range(k))
            for j in range(0, wd + 2 * padding - k + 1, stride)
        ]
        for i in range(0, h + 2 * padding - k + 1, stride)
    ]


def _flipped(w):
    return [row[::-1] for row in w[::-1]]


def same_without_padding(signal, kernel):
    return _corr1d(signal, kernel)


def padded_on_one_side(signal, kernel):
    return _corr1d(signal, kernel, left=2)


def valid_but_padded(signal, kernel):
    return _corr1d(signal, kernel, left=1, right=1)


def stride_ignored(signal, kernel):
    return _corr1d(signal, kernel, left=2, right=2)


def stride_without_padding(signal, kernel):
    return _corr1d(signal, kernel, stride=2)


def dilation_ignored(signal, kernel):
    return _corr1d(signal, kernel)


def convolution_not_flipped(x, w):
    return _corr1d(x, w)


def same_2d_flipped(grid, kernel2d):
    return _corr2d(grid, _flipped(kernel2d), padding=1)


def same_2d_without_padding(grid, kernel2d):
    return _corr2d(grid, kernel2d)


def valid_2d_flipped(grid, kernel2d):
    return _corr2d(grid, _flipped(kernel2d))


def stride_2d_ignored(grid, kernel2d):
    return _corr2d(grid, kernel2d, padding=1)


def convolution_2d_not_flipped(grid, kernel2d):
    return _corr2d(grid, kernel2d)


def _channels(x, w, bias):
    planes = [_corr2d(x[c], w[c]) for c in range(len(x))]
    rows, cols = len(planes[0]), len(planes[0][0])
    return [[sum(p[i][j] for p in planes) + bias for j in range(cols)] for i in range(rows)]


def channels_without_bias(x0, x1, w0, w1):
    return _channels([x0, x1], [w0, w1], 0)


def bias_per_input_channel(x0, x1, w0, w1, b):
    return _channels([x0, x1], [w0, w1], 2 * b)  # once for each of the 2 input channels


# Generated cases of the function exercises (exercises/correlation.yaml, `generate:`): each
# generator draws one case from `rng`, a random.Random seeded afresh for every grading, and
# returns {"args": [x, w], "kwargs": {...}} with float32 tensors, written as
# grader.inkernel.inputs.tensor(nested lists) so that drawing needs no torch. Every case gives
# at least one output; about one in four is an edge case whose kernel spans the whole padded
# input.


def _tensor(data):
    from grader.inkernel.inputs import tensor

    return tensor(data, "float32")


def _values(rng, n):
    return [round(rng.uniform(-3, 3), 2) for _ in range(n)]


def _settings(rng, **drawn):
    """The keyword arguments of a case: a setting at its default is left out half the time
    (the defaults are part of what is tested)."""
    defaults = {"padding": 0, "stride": 1, "dilation": 1}
    return {k: v for k, v in drawn.items() if v != defaults[k] or rng.random() < 0.5}


# The expected results of the function exercises (`reference:` in their answers): PyTorch's
# own convolutions, called in the grader on each case. torch is imported when they are first
# called (drawing a grading's cases needs no torch).


def torch_corr1d(x, w, padding=0, stride=1, dilation=1):
    import torch.nn.functional as F

    out = F.conv1d(x.reshape(1, 1, -1), w.reshape(1, 1, -1), padding=padding, stride=stride,
                   dilation=dilation)  # fmt: skip
    return out.flatten()


def torch_conv1d_true(x, w, padding=0):
    return torch_corr1d(x, w.flip(0), padding=padding)


def torch_corr2d(x, w, padding=0, stride=1):
    import torch.nn.functional as F

    return F.conv2d(x[None, None], w[None, None], padding=padding, stride=stride)[0, 0]


def corr1d_cases(rng):
    k, stride, dilation = rng.randint(1, 5), rng.randint(1, 3), rng.randint(1, 3)
    span = dilation * (k - 1) + 1  # the padded inputs one window covers
    if rng.random() < 0.25:  # the kernel as long as the padded signal: one output
        padding = rng.randint(0, (span - 1) // 2)
        n = span - 2 * padding
    else:
        padding = rng.randint(0, 3)
        n = max(1, span - 2 * padding) + rng.randint(0, 12)
    kwargs = _settings(rng, padding=padding, stride=stride, dilation=dilation)
    return {"args": [_tensor(_values(rng, n)), _tensor(_values(rng, k))], "kwargs": kwargs}


def conv1d_cases(rng):
    k = rng.randint(1, 5)
    if rng.random() < 0.25:  # the kernel as long as the padded signal
        padding = rng.randint(0, (k - 1) // 2)
        n = k - 2 * padding
    else:
        padding = rng.randint(0, k)
        n = max(1, k - 2 * padding) + rng.randint(0, 10)
    kwargs = _settings(rng, padding=padding)
    return {"args": [_tensor(_values(rng, n)), _tensor(_values(rng, k))], "kwargs": kwargs}


def corr2d_cases(rng):
    kh, kw, stride = rng.randint(1, 4), rng.randint(1, 4), rng.randint(1, 3)
    edge = rng.random() < 0.25  # the kernel as large as the padded input: one output
    padding = rng.randint(0, (min(kh, kw) - 1) // 2) if edge else rng.randint(0, 2)
    h = kh - 2 * padding if edge else max(1, kh - 2 * padding) + rng.randint(0, 6)
    wd = kw - 2 * padding if edge else max(1, kw - 2 * padding) + rng.randint(0, 6)
    x = [_values(rng, wd) for _ in range(h)]
    w = [_values(rng, kw) for _ in range(kh)]
    kwargs = _settings(rng, padding=padding, stride=stride)
    return {"args": [_tensor(x), _tensor(w)], "kwargs": kwargs}


# %% corr1d-same
# signal and kernel come from the setup cell (each student has their own)
# 'same': one zero at each end, so a size-3 kernel gives as many outputs as inputs
padded = [0] + signal + [0]
corr_same = []
for i in range(len(padded) - len(kernel) + 1):
    total = 0
    for j in range(len(kernel)):
        total += kernel[j] * padded[i + j]  # cross-correlation: kernel not flipped
    corr_same.append(total)
# default data: corr_same == [5, 10, 15, 20, 25, 30, 35, 40, 25]

# %% corr1d-valid
# 'valid': no padding, the kernel only visits positions fully inside the signal
corr_valid = []
for i in range(len(signal) - len(kernel) + 1):  # n - 3 + 1 outputs
    total = 0
    for j in range(len(kernel)):
        total += kernel[j] * signal[i + j]
    corr_valid.append(total)
# default data: corr_valid == [10, 15, 20, 25, 30, 35, 40]

# %% corr1d-stride
padding, stride = 2, 2
padded = [0] * padding + signal + [0] * padding
n_out = (len(signal) + 2 * padding - len(kernel)) // stride + 1  # default: (9 + 4 - 3) // 2 + 1 = 6
corr_stride = []
for i in range(n_out):
    start = i * stride  # the window moves `stride` positions per output
    total = 0
    for j in range(len(kernel)):
        total += kernel[j] * padded[start + j]
    corr_stride.append(total)
# default data: corr_stride == [2, 10, 20, 30, 40, 18]

# %% corr1d-dilation
dilation = 2
span = dilation * (len(kernel) - 1) + 1  # the kernel covers 5 inputs
n_out = len(signal) - span + 1  # default: 9 - 5 + 1 = 5
corr_dilated = []
for i in range(n_out):
    total = 0
    for j in range(len(kernel)):
        total += kernel[j] * signal[i + j * dilation]  # taps are `dilation` apart
    corr_dilated.append(total)
# default data: corr_dilated == [15, 20, 25, 30, 35]

# %% conv1d-true
# x and w are this exercise's own parameters (default x = [1, 2, 4, 8, 16], w = [1, 2, 3])
k = len(w)
conv_true = []
for i in range(len(x) - k + 1):
    total = 0
    for j in range(k):
        total += w[k - 1 - j] * x[i + j]  # convolution: the kernel is flipped
    conv_true.append(total)
# default data: conv_true == [11, 22, 44]; the cross-correlation would be [17, 34, 68]

# %% corr2d-same
# grid (5x5) and kernel2d (3x3) come from the setup cell


def corr2d(x, w, padding=0, stride=1):
    """2D cross-correlation of a grid x with a square kernel w, by hand."""
    k = len(w)
    h, wd = len(x), len(x[0])
    # zero padding on every side
    xp = [[0] * (wd + 2 * padding) for _ in range(h + 2 * padding)]
    for r in range(h):
        for c in range(wd):
            xp[r + padding][c + padding] = x[r][c]
    out_h = (h + 2 * padding - k) // stride + 1
    out_w = (wd + 2 * padding - k) // stride + 1
    out = []
    for i in range(out_h):
        row = []
        for j in range(out_w):
            total = 0
            for a in range(k):
                for b in range(k):
                    total += w[a][b] * xp[i * stride + a][j * stride + b]
            row.append(total)
        out.append(row)
    return out


corr2d_same = corr2d(grid, kernel2d, padding=1)
# default data (grid 1..25, kernel2d rows [1, 0, -1]):
# [[ -9, -4, -4, -4, 13],
#  [-21, -6, -6, -6, 27],
#  [-36, -6, -6, -6, 42],
#  [-51, -6, -6, -6, 57],
#  [-39, -4, -4, -4, 43]]

# %% corr2d-valid
corr2d_valid = corr2d(grid, kernel2d)
# default data: every window gives 3 rows of (left - right) = 3 * (-2) = -6

# %% corr2d-stride
corr2d_stride = corr2d(grid, kernel2d, padding=1, stride=2)
# rows/columns 0, 2, 4 of the 'same' result
# default data: [[-9, -4, 13], [-36, -6, 42], [-39, -4, 43]]

# %% conv2d-true
# a true convolution = cross-correlation with the kernel rotated by 180 degrees
kernel_rot = [row[::-1] for row in kernel2d[::-1]]
conv2d_valid = corr2d(grid, kernel_rot)
# default data: rows [-1, 0, 1], every entry is +6: flipping turns the edge detector's sign around

# %% corr1d-function
import torch


def corr1d(x, w, padding=0, stride=1, dilation=1):
    """1D cross-correlation of x with w (the kernel is not flipped), as nn.Conv1d computes it."""
    k = len(w)
    zeros = torch.zeros(padding, dtype=x.dtype)
    xp = torch.cat([zeros, x, zeros])  # padding zeros at each end
    span = dilation * (k - 1) + 1  # how many padded inputs one window covers
    n_out = (len(xp) - span) // stride + 1  # floor((n + 2p - d(k-1) - 1) / s) + 1
    y = torch.zeros(n_out, dtype=x.dtype)
    for i in range(n_out):
        start = i * stride  # the window moves `stride` positions per output
        taps = xp[start : start + span : dilation]  # the k inputs, `dilation` apart
        y[i] = (taps * w).sum()
    return y


# corr1d(torch.tensor([1., 2., 3., 4.]), torch.tensor([1., 0., -1.])) == tensor([-2., -2.])

# %% conv1d-function
import torch


def conv1d_true(x, w, padding=0):
    """True 1D convolution: the cross-correlation with the reversed kernel, stride 1."""
    flipped = w.flip(0)  # w[k - 1 - j]
    k = len(w)
    zeros = torch.zeros(padding, dtype=x.dtype)
    xp = torch.cat([zeros, x, zeros])
    y = torch.zeros(len(xp) - k + 1, dtype=x.dtype)
    for i in range(len(y)):
        y[i] = (xp[i : i + k] * flipped).sum()
    return y


# conv1d_true(torch.tensor([1., 2., 3.]), torch.tensor([1., 2., 3.]), padding=2)
# == tensor([1., 4., 10., 12., 9.]): numpy.convolve's 'full' convolution

# %% corr2d-function
import torch


def corr2d(x, w, padding=0, stride=1):
    """2D cross-correlation of x (H, W) with w (kh, kw), as nn.Conv2d computes it.

    (From here on corr2d takes tensors: it replaces the list version of corr2d-same.)"""
    h, wd = x.shape
    kh, kw = w.shape  # the kernel need not be square
    xp = torch.zeros(h + 2 * padding, wd + 2 * padding, dtype=x.dtype)
    xp[padding : padding + h, padding : padding + wd] = x  # zeros on every side
    out_h = (h + 2 * padding - kh) // stride + 1
    out_w = (wd + 2 * padding - kw) // stride + 1
    y = torch.zeros(out_h, out_w, dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            r, c = i * stride, j * stride  # the window's top-left corner
            y[i, j] = (xp[r : r + kh, c : c + kw] * w).sum()
    return y

# %% corr2d-channels
# x0, x1, w0, w1 and b are this exercise's own parameters: the starter writes them as
x = [x0, x1]
w = [w0, w1]


def corr2d_multi(x, w, b):
    """One output channel: sum over input channels of the 2D cross-correlations, plus bias."""
    k = len(w[0])
    h, wd = len(x[0]), len(x[0][0])
    out = []
    for i in range(h - k + 1):
        row = []
        for j in range(wd - k + 1):
            total = b  # the bias is added once per output value
            for c in range(len(x)):  # sum over input channels
                for a in range(k):
                    for bb in range(k):
                        total += w[c][a][bb] * x[c][i + a][j + bb]
            row.append(total)
        out.append(row)
    return out


out_multi = corr2d_multi(x, w, b)
# default data: [[4, 1], [1, 4]]
