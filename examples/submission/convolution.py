# Demo submission for the convolution topic, written the way a student might, with deliberate mistakes for the
# grading demo to find: conv1d does not flip the kernel, fft_conv1d does not zero-pad (circular convolution),
# and receptive_field is still the stub. Everything else is correct.
"""Convolution exercises: my answers."""

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


def _pad_for_mode(f: np.ndarray, k: int, mode: str) -> np.ndarray:
    n = len(f)
    if mode == "full":
        left, right = k - 1, k - 1
    elif mode == "same":
        left, right = (k - 1) // 2, k // 2
    elif mode == "valid":
        if n < k:
            raise ValueError(f"mode 'valid' needs len(f) >= len(h), got len(f)={n}, len(h)={k}")
        left, right = 0, 0
    else:
        raise ValueError(f"unknown mode {mode!r}, expected one of 'full', 'same', 'valid'")
    return np.concatenate([np.zeros(left), f, np.zeros(right)])


def conv1d(f: np.ndarray, h: np.ndarray, mode: str = "full") -> np.ndarray:
    """True convolution (f * h)[u] = sum_j h[j] f[u - j], modes 'full', 'same', 'valid'."""
    # slide the kernel along the signal and take dot products
    return xcorr1d(f, h, mode)


def xcorr1d(f: np.ndarray, h: np.ndarray, mode: str = "full") -> np.ndarray:
    """Cross-correlation xcorr(f, h)[u] = sum_j h[j] f[u + j], modes 'full', 'same', 'valid'."""
    f = np.asarray(f, dtype=float)
    h = np.asarray(h, dtype=float)
    if f.ndim != 1 or h.ndim != 1 or len(f) == 0 or len(h) == 0:
        raise ValueError(f"f and h must be non-empty 1-D arrays, got shapes {f.shape} and {h.shape}")
    k = len(h)
    fp = _pad_for_mode(f, k, mode)
    out = np.zeros(len(fp) - k + 1)
    for u in range(len(out)):
        out[u] = np.dot(h, fp[u : u + k])
    return out


def output_size(n: int, k: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """floor((n + 2p - d(k - 1) - 1) / s) + 1."""
    if min(n, k, stride, dilation) < 1 or padding < 0:
        raise ValueError(f"bad arguments n={n}, k={k}, stride={stride}, padding={padding}, dilation={dilation}")
    if dilation * (k - 1) + 1 > n + 2 * padding:
        raise ValueError("the dilated kernel does not fit in the padded input")
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def conv2d(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """NCHW cross-correlation like F.conv2d, via im2col (F.unfold) and a matrix product."""
    if x.dim() != 4 or w.dim() != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(f"expected x (N, C, H, W) and w (O, C, kh, kw), got {tuple(x.shape)} and {tuple(w.shape)}")
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    s, p, d = _pair(stride), _pair(padding), _pair(dilation)
    H_out = output_size(H, kh, s[0], p[0], d[0])
    W_out = output_size(W, kw, s[1], p[1], d[1])
    cols = F.unfold(x, (kh, kw), dilation=d, padding=p, stride=s)  # (N, C*kh*kw, H_out*W_out)
    y = (w.reshape(O, -1) @ cols).reshape(N, O, H_out, W_out)
    if b is not None:
        y = y + b.reshape(1, O, 1, 1)
    return y


def conv_matrix(h: np.ndarray, n: int) -> np.ndarray:
    """Toeplitz matrix T (n + k - 1, n) with T[i, j] = h[i - j], so T @ f is the full convolution."""
    h = np.asarray(h, dtype=float)
    k = len(h)
    T = np.zeros((n + k - 1, n))
    for i in range(n + k - 1):
        for j in range(n):
            if 0 <= i - j < k:
                T[i, j] = h[i - j]
    return T


def fft_conv1d(f: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Convolution via the convolution theorem: f * h = IFFT(FFT(f) FFT(h))."""
    f = np.asarray(f, dtype=float)
    h = np.asarray(h, dtype=float)
    n = len(f)
    return np.fft.irfft(np.fft.rfft(f, n) * np.fft.rfft(h, n), n)


def conv2d_backward(
    dy: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx, dw, db for y = conv2d(x, w, b, stride, padding), by looping over the output positions."""
    dy, x, w = np.asarray(dy, dtype=float), np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            rows, cols = slice(i * s, i * s + kh), slice(j * s, j * s + kw)
            # output (i, j) saw the patch xp[:, :, rows, cols]; send its gradient back to the patch and to w
            dw += np.einsum("no,ncab->ocab", dy[:, :, i, j], xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("no,ocab->ncab", dy[:, :, i, j], w)
    db = dy.sum(axis=(0, 2, 3))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db


def receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """Receptive field of one unit of the last layer, for (kernel_size, stride) layers, first layer first."""
    raise NotImplementedError("receptive_field: implement the receptive-field formula (see the docstring)")
