"""Convolution and cross-correlation: 1-D signals (numpy), 2-D layers (torch) and their backward pass.

Signals are arrays indexed from 0 and taken to be zero outside their support. For a signal f of length n and a
kernel h of length k:

    convolution        (f * h)[u] = sum_t f[t] h[u - t] = sum_j h[j] f[u - j]
    cross-correlation  xcorr(f, h)[u] = sum_j h[j] f[u + j]          (a sliding inner product)

Convolution flips the kernel and cross-correlation does not: xcorr(f, h)[u] = (f * h_rev)[u + k - 1] with the kernel
reversed, h_rev[j] = h[k - 1 - j] (h[::-1]; not Python's h[-j], which wraps around to h[k - j]). So
xcorr1d(f, h, mode) == conv1d(f, h[::-1], mode), and the two agree only for symmetric kernels. Convolution is
commutative and associative, cross-correlation is neither.
Deep-learning "convolution" layers (torch.nn.Conv2d, F.conv2d) compute cross-correlation.

Convolution is linear and shift-invariant: shifting f shifts f * h by the same amount. Conversely, every linear
shift-invariant map T on sequences is the convolution with its impulse response h = T(delta). On finite arrays it is
a matrix-vector product with a banded Toeplitz matrix (conv_matrix).

Convolution theorem: F(f * h) = F(f) F(h) (pointwise product), so f * h = F^-1(F(f) F(h)). The length-m DFT turns
this into circular convolution (indices taken mod m); zero-padding both signals to m >= n + k - 1 leaves nothing to
wrap around and gives the linear convolution (fft_conv1d).

Border handling, for 1-D modes: 'full' keeps every overlap (n + k - 1 outputs), 'valid' only the windows inside f
(n - k + 1), 'same' pads f with zeros to keep n outputs (conv1d states where the padding goes).

The 1-D functions take array-likes and return float64 numpy arrays. conv2d takes and returns torch tensors so that
autograd can differentiate it; conv2d_backward is its backward pass written by hand in numpy (no autograd).

Everything is built from the definitions: library convolutions are what these functions must agree with, not parts
of them. Not allowed in any function of this topic (the grader notices a use however it is reached, nn.Conv2d and
np.polymul included): numpy.convolve, numpy.correlate, scipy.signal, scipy.ndimage, torch.nn.functional.conv1d,
torch.nn.functional.conv2d, torch.nn.functional.conv3d, torch.nn.functional.conv_transpose1d,
torch.nn.functional.conv_transpose2d, torch.convolution, torch.nn.grad. Allowed: numpy.fft, F.pad, Tensor.unfold,
F.unfold, einsum, np.lib.stride_tricks.sliding_window_view and the like.

Arguments are read-only: no function changes an array or tensor it is given (it returns new ones); a change made
in place fails the check it happens in, named as the mistake modifies-input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "conv1d",
    "xcorr1d",
    "output_size",
    "conv2d",
    "conv_matrix",
    "fft_conv1d",
    "conv2d_backward",
    "receptive_field",
]


def _as_signal(a: np.ndarray, name: str, func: str) -> np.ndarray:
    """`a` as a non-empty 1-D float64 array; ValueError naming `func` and `name` otherwise."""
    a = np.asarray(a, dtype=float)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{func}: {name} must be a non-empty 1-D array, got shape {a.shape}")
    return a


def _mode_padding(n: int, k: int, mode: str, func: str) -> tuple[int, int]:
    """Zeros to put left and right of f so that the 'valid' sliding window returns `mode`."""
    if mode == "full":
        return k - 1, k - 1
    if mode == "same":
        # Symmetric for odd k; for even k the extra zero goes on the right, as in torch's padding='same'.
        return (k - 1) // 2, k // 2
    if mode == "valid":
        if n < k:
            raise ValueError(f"{func}: mode 'valid' needs len(f) >= len(h), got len(f)={n}, len(h)={k}")
        return 0, 0
    raise ValueError(f"{func}: unknown mode {mode!r}, expected one of 'full', 'same', 'valid'")


def _slide(f: np.ndarray, h: np.ndarray, left: int, right: int) -> np.ndarray:
    """out[u] = sum_j h[j] fp[u + j], where fp is f with `left` and `right` zeros added."""
    fp = np.concatenate([np.zeros(left), f, np.zeros(right)])
    m = fp.size - h.size + 1
    out = np.zeros(m)
    # One shifted slice per kernel tap: k vector operations rather than m * k scalar ones.
    for j in range(h.size):
        out += h[j] * fp[j : j + m]
    return out


def conv1d(f: np.ndarray, h: np.ndarray, mode: str = "full") -> np.ndarray:
    """True convolution of a signal f with a kernel h: (f * h)[u] = sum_j h[j] f[u - j].

    The kernel is flipped: output u weights f[u] by h[0], f[u - 1] by h[1], and so on. With len(f) = n and
    len(h) = k, `mode` chooses which outputs to return (full = the n + k - 1 outputs where f and h overlap):

    - 'full':  all of them, u = 0 .. n + k - 2 (length n + k - 1); equals np.convolve(f, h, 'full').
    - 'valid': windows that lie inside f, full[k - 1 : n] (length n - k + 1, needs n >= k).
    - 'same':  length n. Convention (this is what is graded): pad f with (k - 1) // 2 zeros on the left and
      k // 2 on the right, then take the 'valid' output; that is full[k // 2 : k // 2 + n]. For odd k the padding
      is symmetric and, for k <= n, this equals np.convolve(f, h, 'same') (which returns max(n, k) samples, so
      not for k > n). For even k it is torch's padding='same', and it starts one sample later than
      np.convolve(f, h, 'same'), which is full[(k - 1) // 2 : (k - 1) // 2 + n] for k <= n.

    For every mode, conv1d(f, h, mode) == xcorr1d(f, h[::-1], mode).

    Not allowed: numpy.convolve, numpy.correlate, scipy.signal, scipy.ndimage, torch.nn.functional.conv1d,
    torch.nn.functional.conv2d, torch.nn.functional.conv3d, torch.nn.functional.conv_transpose1d,
    torch.nn.functional.conv_transpose2d, torch.convolution, torch.nn.grad (see the module docstring).

    Args:
        f: the signal, 1-D array-like of length n >= 1, converted to float64.
        h: the kernel, 1-D array-like of length k >= 1, converted to float64.
        mode: 'full', 'same' or 'valid'.

    Returns:
        A float64 array of length n + k - 1 ('full'), n ('same') or n - k + 1 ('valid').

    Raises:
        ValueError: f or h is not 1-D or is empty; mode is not 'full', 'same' or 'valid'; mode 'valid' with k > n.

    Example:
        >>> conv1d([1, 2, 3], [0, 1, 0.5])
        array([0. , 1. , 2.5, 4. , 1.5])
        >>> conv1d([1, 2, 3], [0, 1, 0.5], "same"), conv1d([1, 2, 3], [0, 1, 0.5], "valid")
        (array([1. , 2.5, 4. ]), array([2.5]))

        With an even kernel, 'same' is full[2:9]; np.convolve's 'same' would be full[1:8] = [4, 10, ..., 57]:

        >>> conv1d([1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 5], "same")
        array([10., 21., 32., 43., 54., 57., 51.])
    """
    f, h = _as_signal(f, "f", "conv1d"), _as_signal(h, "h", "conv1d")
    left, right = _mode_padding(f.size, h.size, mode, "conv1d")
    # sum_j h[j] f[u - j] is the sliding inner product with the reversed kernel.
    return _slide(f, h[::-1], left, right)


def xcorr1d(f: np.ndarray, h: np.ndarray, mode: str = "full") -> np.ndarray:
    """Cross-correlation of a signal f with a kernel h (no flip): xcorr(f, h)[u] = sum_j h[j] f[u + j].

    This is what deep-learning convolution layers compute. The modes are those of conv1d, with the same padding:

    - 'full':  u = -(k - 1) .. n - 1, stored from index 0 (length n + k - 1); equals np.correlate(f, h, 'full').
    - 'valid': u = 0 .. n - k (length n - k + 1, needs n >= k); equals np.correlate(f, h, 'valid').
    - 'same':  pad f with (k - 1) // 2 zeros on the left and k // 2 on the right, then take 'valid' (length n);
      equals F.conv1d(f[None, None], h[None, None], padding='same')[0, 0] for every k.

    xcorr1d(f, h, mode) == conv1d(f, h[::-1], mode): correlating with h is convolving with h reversed.

    Not allowed: numpy.convolve, numpy.correlate, scipy.signal, scipy.ndimage, torch.nn.functional.conv1d,
    torch.nn.functional.conv2d, torch.nn.functional.conv3d, torch.nn.functional.conv_transpose1d,
    torch.nn.functional.conv_transpose2d, torch.convolution, torch.nn.grad (see the module docstring).

    Args:
        f: the signal, 1-D array-like of length n >= 1, converted to float64.
        h: the kernel, 1-D array-like of length k >= 1, converted to float64.
        mode: 'full', 'same' or 'valid'.

    Returns:
        A float64 array of length n + k - 1 ('full'), n ('same') or n - k + 1 ('valid').

    Raises:
        ValueError: f or h is not 1-D or is empty; mode is not 'full', 'same' or 'valid'; mode 'valid' with k > n.

    Example:
        >>> xcorr1d([1, 2, 3], [0, 1, 0.5])
        array([0.5, 2. , 3.5, 3. , 0. ])
        >>> xcorr1d([1, 2, 3], [0, 1, 0.5], "valid"), conv1d([1, 2, 3], [0.5, 1, 0], "valid")
        (array([3.5]), array([3.5]))
    """
    f, h = _as_signal(f, "f", "xcorr1d"), _as_signal(h, "h", "xcorr1d")
    left, right = _mode_padding(f.size, h.size, mode, "xcorr1d")
    return _slide(f, h, left, right)


def output_size(n: int, k: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Number of outputs of a convolution layer along one axis.

        n_out = floor((n + 2 p - d (k - 1) - 1) / s) + 1

    The input padded by p zeros on each side has n + 2p samples; a kernel of k taps spaced d apart covers
    d (k - 1) + 1 of them; the window starts at 0, s, 2s, ... as long as it fits. This is the size that
    F.conv1d / F.conv2d (per axis) produce.

    Not allowed: numpy.convolve, numpy.correlate, scipy.signal, scipy.ndimage, torch.nn.functional.conv1d,
    torch.nn.functional.conv2d, torch.nn.functional.conv3d, torch.nn.functional.conv_transpose1d,
    torch.nn.functional.conv_transpose2d, torch.convolution, torch.nn.grad (see the module docstring).

    Args:
        n: input length, >= 1.
        k: kernel size, >= 1.
        stride: s >= 1.
        padding: zeros added on each side, p >= 0.
        dilation: spacing of the kernel taps, d >= 1 (1 = adjacent taps).

    Returns:
        n_out as a Python int (>= 1).

    Raises:
        ValueError: n, k, stride or dilation < 1 or padding < 0; the dilated kernel is longer than the padded input.

    Example:
        >>> output_size(32, 3, stride=2, padding=1)  # floor((32 + 2 - 2 - 1) / 2) + 1
        16
        >>> output_size(7, 3, dilation=2)  # the kernel covers 5 samples: windows start at 0, 1, 2
        3
    """
    if min(n, k, stride, dilation) < 1 or padding < 0:
        raise ValueError(
            "output_size: expected n, k, stride, dilation >= 1 and padding >= 0, "
            f"got n={n}, k={k}, stride={stride}, padding={padding}, dilation={dilation}"
        )
    span = dilation * (k - 1) + 1
    if span > n + 2 * padding:
        raise ValueError(
            f"output_size: the dilated kernel covers {span} samples, the padded input only {n + 2 * padding}"
        )
    return int((n + 2 * padding - dilation * (k - 1) - 1) // stride + 1)


def _pair(v: int | tuple[int, int], name: str) -> tuple[int, int]:
    """(height, width) from an int or a pair of ints."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, (int, np.integer)) for i in v):
        return int(v[0]), int(v[1])
    raise ValueError(f"conv2d: {name} must be an int or a pair of ints, got {v!r}")


def conv2d(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """2-D convolution layer as deep learning defines it: a cross-correlation (the kernel is not flipped).

        y[n, o, i, j] = b[o] + sum_{c, a, e} w[o, c, a, e] xp[n, c, s_h i + d_h a, s_w j + d_w e]

    where xp is x with p_h zero rows above and below and p_w zero columns left and right, s is the stride and d
    the dilation. The output is output_size(H, kh, s_h, p_h, d_h) by output_size(W, kw, s_w, p_w, d_w). Equals
    F.conv2d(x, w, b, stride, padding, dilation) (groups = 1). It is built from differentiable torch operations
    (F.pad, Tensor.unfold, einsum, ...), so autograd gives the gradients with respect to x, w and b.

    Not allowed: numpy.convolve, numpy.correlate, scipy.signal, scipy.ndimage, torch.nn.functional.conv1d,
    torch.nn.functional.conv2d, torch.nn.functional.conv3d, torch.nn.functional.conv_transpose1d,
    torch.nn.functional.conv_transpose2d, torch.convolution, torch.nn.grad (see the module docstring).

    Args:
        x: input batch, shape (N, C, H, W), any floating dtype and device.
        w: weights, shape (O, C, kh, kw), same dtype and device as x.
        b: bias, shape (O,), or None for no bias.
        stride: s >= 1, an int for both axes or a pair (s_h, s_w).
        padding: zeros added on each side, p >= 0, an int or a pair (p_h, p_w).
        dilation: spacing of the kernel taps, d >= 1, an int or a pair (d_h, d_w).

    Returns:
        y, shape (N, O, H_out, W_out), with the dtype and device of x.

    Raises:
        ValueError: x or w is not 4-D, or their channel counts differ; b is not of shape (O,); stride, padding or
            dilation is not an int or a pair of ints, or is out of range; the dilated kernel does not fit in the
            padded input.

    Example:
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> conv2d(x, torch.ones(1, 1, 2, 2), stride=2).tolist()  # sums of the four 2x2 blocks
        [[[[10.0, 18.0], [42.0, 50.0]]]]
        >>> conv2d(x, torch.ones(1, 1, 2, 2), dilation=2).tolist()  # taps (0, 0), (0, 2), (2, 0), (2, 2)
        [[[[20.0, 24.0], [36.0, 40.0]]]]
        >>> w = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])  # no flip: x[i, j] - x[i + 1, j + 1] = -5
        >>> conv2d(x, w, torch.tensor([0.5]))[0, 0].tolist()  # a true convolution would give +5 + 0.5
        [[-4.5, -4.5, -4.5], [-4.5, -4.5, -4.5], [-4.5, -4.5, -4.5]]
    """
    if x.dim() != 4:
        raise ValueError(f"conv2d: x must be 4-D (N, C, H, W), got shape {tuple(x.shape)}")
    if w.dim() != 4 or w.shape[1] != x.shape[1]:
        raise ValueError(f"conv2d: w must have shape (O, C={x.shape[1]}, kh, kw), got {tuple(w.shape)}")
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ValueError(f"conv2d: b must have shape (O,) = ({w.shape[0]},), got {tuple(b.shape)}")
    (s_h, s_w), (p_h, p_w), (d_h, d_w) = _pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation")
    kh, kw = w.shape[2], w.shape[3]
    # Checks the ranges and that the dilated kernel fits; unfold below then yields exactly these sizes.
    output_size(x.shape[2], kh, s_h, p_h, d_h)
    output_size(x.shape[3], kw, s_w, p_w, d_w)

    xp = F.pad(x, (p_w, p_w, p_h, p_h))
    # Windows as wide as the dilated kernel, starting every stride: (N, C, H_out, W_out, span_h, span_w).
    # Keeping every d-th sample gives the taps (N, C, H_out, W_out, kh, kw). Views only, so autograd reaches x.
    win = xp.unfold(2, d_h * (kh - 1) + 1, s_h).unfold(3, d_w * (kw - 1) + 1, s_w)[..., ::d_h, ::d_w]
    y = torch.einsum("ncijae,ocae->noij", win, w)
    return y if b is None else y + b[:, None, None]


def conv_matrix(h: np.ndarray, n: int) -> np.ndarray:
    """The banded Toeplitz matrix T of the full convolution with h: T @ f == conv1d(f, h, 'full').

        T[i, j] = h[i - j] if 0 <= i - j < k, else 0,      shape (n + k - 1, n)

    Column j is the kernel shifted down by j rows; every diagonal is constant (Toeplitz) and only k diagonals are
    non-zero (banded). Rows k - 1 .. n - 1 give the 'valid' convolution. The transpose is the cross-correlation:
    T.T @ g == xcorr1d(g, h, 'valid') for g of length n + k - 1, which is why the backward pass of a convolution
    is a correlation with the same kernel.

    Not allowed: numpy.convolve, numpy.correlate, scipy.signal, scipy.ndimage, torch.nn.functional.conv1d,
    torch.nn.functional.conv2d, torch.nn.functional.conv3d, torch.nn.functional.conv_transpose1d,
    torch.nn.functional.conv_transpose2d, torch.convolution, torch.nn.grad (see the module docstring).

    Args:
        h: the kernel, 1-D array-like of length k >= 1, converted to float64.
        n: length of the signals T acts on, >= 1.

    Returns:
        T, a float64 array of shape (n + k - 1, n).

    Raises:
        ValueError: h is not 1-D or is empty; n < 1.

    Example:
        >>> T = conv_matrix([1, 2, 3], 2)
        >>> T
        array([[1., 0.],
               [2., 1.],
               [3., 2.],
               [0., 3.]])
        >>> T @ np.array([1.0, 10.0]), conv1d([1, 10], [1, 2, 3])
        (array([ 1., 12., 23., 30.]), array([ 1., 12., 23., 30.]))
    """
    h = _as_signal(h, "h", "conv_matrix")
    if n < 1:
        raise ValueError(f"conv_matrix: n must be >= 1, got {n}")
    k = h.size
    T = np.zeros((n + k - 1, n))
    for j in range(n):
        T[j : j + k, j] = h
    return T


def fft_conv1d(f: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Linear ('full') convolution f * h computed with the FFT, length n + k - 1.

    Convolution theorem: F(f * h) = F(f) F(h), so f * h = F^-1(F(f) F(h)). The DFT of length m only sees one period
    of m samples: multiplying DFTs gives the circular convolution, sum_j h[j] f[(u - j) mod m], in which outputs past
    m - 1 wrap around onto the start. The linear convolution has n + k - 1 outputs, so both signals are zero-padded
    to m = n + k - 1 before the transform; then nothing wraps. Cost O(m log m) instead of O(n k).

    Not allowed: numpy.convolve, numpy.correlate, scipy.signal, scipy.ndimage, torch.nn.functional.conv1d,
    torch.nn.functional.conv2d, torch.nn.functional.conv3d, torch.nn.functional.conv_transpose1d,
    torch.nn.functional.conv_transpose2d, torch.convolution, torch.nn.grad (see the module docstring).

    Args:
        f: the signal, 1-D array-like of length n >= 1, converted to float64.
        h: the kernel, 1-D array-like of length k >= 1, converted to float64.

    Returns:
        A float64 array of length n + k - 1, equal to conv1d(f, h, 'full') up to rounding errors of about 1e-15
        times the largest |output|: relative to that, not to each entry, so an output near 0 can be off by as much
        (fft_conv1d([1, 2, 3], [1, -2, 1])[2] is about 4e-16 in size where conv1d gives 0).

    Raises:
        ValueError: f or h is not 1-D or is empty.

    Example:
        >>> f, h = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5])
        >>> np.allclose(fft_conv1d(f, h), [0, 1, 2.5, 4, 1.5])
        True

        Without the padding (m = 3) the last two outputs, 4 and 1.5, wrap onto the first two:

        >>> np.allclose(np.fft.irfft(np.fft.rfft(f) * np.fft.rfft(h), 3), [0 + 4, 1 + 1.5, 2.5])
        True
    """
    f, h = _as_signal(f, "f", "fft_conv1d"), _as_signal(h, "h", "fft_conv1d")
    m = f.size + h.size - 1
    # rfft(a, m) zero-pads a to length m; real inputs need only the non-negative frequencies.
    return np.fft.irfft(np.fft.rfft(f, m) * np.fft.rfft(h, m), m)


def conv2d_backward(
    dy: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a loss L through y = conv2d(x, w, b, stride, padding) (dilation 1), by hand in numpy (no autograd).

    With xp = x zero-padded by p on each side of both spatial axes and stride s, the forward pass is

        y[n, o, i, j] = b[o] + sum_{c, a, e} w[o, c, a, e] xp[n, c, s i + a, s j + e].

    Given dy = dL/dy, each y[n, o, i, j] passes dy[n, o, i, j] to the parameters and inputs it used:

        db[o]           = sum_{n, i, j} dy[n, o, i, j]
        dw[o, c, a, e]  = sum_{n, i, j} dy[n, o, i, j] xp[n, c, s i + a, s j + e]      (xp correlated with dy)
        dxp[n, c, r, q] = sum_{o, (i, a): s i + a = r, (j, e): s j + e = q} dy[n, o, i, j] w[o, c, a, e]

    and dx is dxp without its padding border. Spread dy onto the stride grid (s - 1 zeros between samples): dxp is
    then the 'full' cross-correlation of that dy with w rotated by 180 degrees, summed over o, i.e. the full
    convolution of dy with w (a transposed convolution). Inputs that no window reaches (when s does not divide
    H + 2p - kh) get zero gradient.

    Not allowed: numpy.convolve, numpy.correlate, scipy.signal, scipy.ndimage, torch.nn.functional.conv1d,
    torch.nn.functional.conv2d, torch.nn.functional.conv3d, torch.nn.functional.conv_transpose1d,
    torch.nn.functional.conv_transpose2d, torch.convolution, torch.nn.grad and torch.autograd.

    Args:
        dy: upstream gradient, shape (N, O, H_out, W_out) = the shape of y.
        x: input, shape (N, C, H, W).
        w: weights, shape (O, C, kh, kw).
        stride: s >= 1 (both axes).
        padding: p >= 0 (both axes).

    Returns:
        (dx, dw, db): float64 arrays of shapes (N, C, H, W), (O, C, kh, kw) and (O,). They equal
        torch.nn.grad.conv2d_input, torch.nn.grad.conv2d_weight and dy.sum((0, 2, 3)).

    Raises:
        ValueError: x or w is not 4-D or their channel counts differ; stride < 1 or padding < 0; the kernel is
            larger than the padded input; dy does not have the shape of y.

    Example:
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), x, w)
        >>> dx[0, 0]  # the four windows each add w onto the pixels they cover
        array([[ 1.,  3.,  2.],
               [ 4., 10.,  6.],
               [ 3.,  7.,  4.]])
        >>> dw[0, 0], db  # dw[a, e] sums the pixels that tap (a, e) saw
        (array([[ 8., 12.],
               [20., 24.]]), array([4.]))
    """
    dy, x, w = (np.asarray(a, dtype=float) for a in (dy, x, w))
    if x.ndim != 4 or w.ndim != 4 or w.shape[1] != x.shape[1]:
        raise ValueError(
            f"conv2d_backward: expected x (N, C, H, W) and w (O, C, kh, kw), got {x.shape} and {w.shape}"
        )
    if stride < 1 or padding < 0:
        raise ValueError(f"conv2d_backward: expected stride >= 1 and padding >= 0, got {stride} and {padding}")
    (N, _, H, W), (O, _, kh, kw), s, p = x.shape, w.shape, stride, padding
    if kh > H + 2 * p or kw > W + 2 * p:
        raise ValueError(f"conv2d_backward: kernel {kh}x{kw} is larger than the padded input {H + 2 * p}x{W + 2 * p}")
    # Whole windows only: a window that would stick out of the padded input is not an output.
    H_out, W_out = (H + 2 * p - kh) // s + 1, (W + 2 * p - kw) // s + 1
    if dy.shape != (N, O, H_out, W_out):
        raise ValueError(f"conv2d_backward: dy must have the shape of y, {(N, O, H_out, W_out)}, got {dy.shape}")
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    # The windows the forward pass used: (N, C, H_out, W_out, kh, kw).
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::s, ::s]

    db = dy.sum(axis=(0, 2, 3))
    dw = np.einsum("noij,ncijae->ocae", dy, win)

    up = np.zeros((N, O, s * (H_out - 1) + 1, s * (W_out - 1) + 1))
    up[:, :, ::s, ::s] = dy
    up = np.pad(up, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    up_win = np.lib.stride_tricks.sliding_window_view(up, (kh, kw), axis=(2, 3))
    full = np.einsum("noijae,ocae->ncij", up_win, w[:, :, ::-1, ::-1])
    dxp = np.zeros_like(xp)
    dxp[:, :, : full.shape[2], : full.shape[3]] = full
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db


def receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """Receptive field of one unit of the last layer of a stack of convolutions (one axis), in input samples.

    Layer l has kernel size k_l and stride s_l (dilation 1). Neighbouring units of layer l - 1 are
    J_l = prod_{i<l} s_i input samples apart (the "jump"), and a unit of layer l sees k_l of them, which widens the
    field by (k_l - 1) J_l:

        r = 1 + sum_l (k_l - 1) prod_{i<l} s_i

    r is a span: from the first to the last input sample the unit depends on. It need not see every sample in
    between: where a layer's stride exceeds its kernel, the field has gaps. The last layer's stride does not
    enter. Padding does not change r (units near the border see zeros for part of it). For 2-D layers apply it
    per axis.

    Not allowed: numpy.convolve, numpy.correlate, scipy.signal, scipy.ndimage, torch.nn.functional.conv1d,
    torch.nn.functional.conv2d, torch.nn.functional.conv3d, torch.nn.functional.conv_transpose1d,
    torch.nn.functional.conv_transpose2d, torch.convolution, torch.nn.grad (see the module docstring).

    Args:
        layers: (kernel_size, stride) pairs, tuples or lists of ints >= 1, first layer first. No layers gives 1.

    Returns:
        r as a Python int.

    Raises:
        ValueError: an entry is not a pair of ints >= 1.

    Example:
        >>> receptive_field([(3, 1), (3, 2), (5, 2), (3, 1)])  # 1 + 2*1 + 2*1 + 4*2 + 2*4
        21
        >>> receptive_field([[3, 1], [3, 1], [3, 1]])  # three 3-tap layers, stride 1
        7
        >>> receptive_field([(1, 2), (2, 1)])  # inputs 0 and 2: a span of 3 with a gap at 1
        3
    """
    r, jump = 1, 1
    for i, layer in enumerate(layers):
        if not (
            isinstance(layer, (tuple, list))
            and len(layer) == 2
            and all(isinstance(v, (int, np.integer)) and v >= 1 for v in layer)
        ):
            raise ValueError(
                f"receptive_field: layer {i} must be a (kernel_size, stride) pair of ints >= 1, got {layer!r}"
            )
        k, s = layer
        r += (k - 1) * jump
        jump *= s
    return int(r)
