"""Hidden checks of the convolution topic: random sizes and values drawn per submission from the course secret."""

from __future__ import annotations

from autograder.engine.checks import Trial, check
from checks.public.convolution import (
    circular_variants,
    ints,
    judge_conv1d,
    judge_conv2d,
    judge_conv2d_backward,
    judge_output_size,
    judge_receptive_field,
    judge_xcorr1d,
)


@check("hidden_conv1d", "conv1d and xcorr1d on random signals, every mode")
def hidden_conv1d(t: Trial) -> None:
    # An odd and an even kernel every time: the 'same' offset only shows with an even one.
    for k in (2 * ints(t, 1, 3) + 1, 2 * ints(t, 1, 3), ints(t, 2, 6)):
        n = ints(t, k, 20)
        f, h = t.rng.standard_normal(n), t.rng.standard_normal(k)
        for mode in ("full", "same", "valid"):
            judge_conv1d(t, f, h, mode)
            judge_xcorr1d(t, f, h, mode)


@check("hidden_output_size", "output_size on random layer shapes")
def hidden_output_size(t: Trial) -> None:
    for i in range(8):
        k, s, p = ints(t, 2, 7), ints(t, 1, 4), ints(t, 0, 3)
        d = ints(t, 2, 3) if i % 2 else 1  # half the layers dilated, so ignoring dilation shows
        n = d * (k - 1) + 1 + ints(t, 0, 40)
        judge_output_size(t, n, k, s, p, d)


@check("hidden_conv2d", "conv2d forward and gradients on random shapes and hyper-parameters")
def hidden_conv2d(t: Trial) -> None:
    for _ in range(2):
        n, c, o = ints(t, 1, 3, 3)
        kh, kw = ints(t, 1, 4, 2)
        stride, padding, dilation = tuple(ints(t, 1, 3, 2)), tuple(ints(t, 0, 2, 2)), tuple(ints(t, 1, 2, 2))
        h = dilation[0] * (kh - 1) + 1 + ints(t, 0, 6)
        w = dilation[1] * (kw - 1) + 1 + ints(t, 0, 6)
        x, weight, bias = t.rng.standard_normal((n, c, h, w)), t.rng.standard_normal((o, c, kh, kw)), t.rng.standard_normal(o)
        judge_conv2d(t, x, weight, bias, stride, padding, dilation)


@check("hidden_conv2d_backward", "conv2d_backward on random shapes, strides and paddings")
def hidden_conv2d_backward(t: Trial) -> None:
    for _ in range(2):
        # A batch of at least 2 and a kernel of at least 2 x 2, so a batch-averaged db and an unrotated kernel show.
        n, c, o = ints(t, 2, 3), *ints(t, 1, 3, 2)
        k = ints(t, 2, 4)
        stride, padding = ints(t, 1, 3), ints(t, 0, 2)
        h, w = (k + v for v in ints(t, 0, 6, 2))
        judge_conv2d_backward(t, t.rng.standard_normal((n, c, h, w)), t.rng.standard_normal((o, c, k, k)), stride, padding)


@check("hidden_fft_conv1d", "fft_conv1d on random lengths")
def hidden_fft_conv1d(t: Trial) -> None:
    for _ in range(3):
        n, k = ints(t, 5, 40), ints(t, 2, 9)
        f, h = t.rng.standard_normal(n), t.rng.standard_normal(k)
        t.close(t.call("fft_conv1d", f, h), t.ref.fft_conv1d(f, h), what=f"fft_conv1d(f, h) with len(f)={n}, len(h)={k}", variants=circular_variants(f, h))


@check("hidden_conv_matrix", "conv_matrix on random kernels and lengths")
def hidden_conv_matrix(t: Trial) -> None:
    for _ in range(2):
        k, n = ints(t, 1, 6), ints(t, 1, 12)
        h = t.rng.standard_normal(k)
        t.close(t.call("conv_matrix", h, n), t.ref.conv_matrix(h, n), what=f"conv_matrix(h, n={n}) with len(h)={k}")


@check("hidden_receptive_field", "receptive_field of random stacks")
def hidden_receptive_field(t: Trial) -> None:
    for _ in range(3):
        depth = ints(t, 2, 5)
        strides = [ints(t, 2, 3), *ints(t, 1, 3, depth - 1)]  # an early stride > 1, or strides do not matter
        layers = [(k, s) for k, s in zip(ints(t, 2, 5, depth), strides)]
        judge_receptive_field(t, layers)
