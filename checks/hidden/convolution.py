"""Hidden checks of the convolution topic: random sizes and values drawn per submission from the course secret, and
always the corner strata of each domain (checks.public.convolution), so that no draw lets a known bug through."""

from __future__ import annotations

from autograder.engine.checks import Trial, check
from checks.public.convolution import (
    FORBID,
    circular_variants,
    ints,
    judge_conv1d,
    judge_conv2d,
    judge_conv2d_backward,
    judge_output_size,
    judge_receptive_field,
    judge_xcorr1d,
    layer_strata,
    output_size_strata,
)


def signal_pairs(t: Trial):
    """(f, h, modes): an odd and an even kernel (the 'same' offset only shows with an even one), a random one, a
    kernel as long as the signal (one 'valid' output) and one longer than it ('full' and 'same' only)."""
    for k in (2 * ints(t, 1, 3) + 1, 2 * ints(t, 1, 3), ints(t, 2, 6)):
        yield t.rng.standard_normal(ints(t, k, 20)), t.rng.standard_normal(k), ("full", "same", "valid")
    k = ints(t, 1, 6)
    yield t.rng.standard_normal(k), t.rng.standard_normal(k), ("full", "same", "valid")
    n = ints(t, 1, 4)
    yield t.rng.standard_normal(n), t.rng.standard_normal(n + ints(t, 1, 3)), ("full", "same")


@check("hidden_conv1d", "conv1d on random signals, every mode", forbid=FORBID)
def hidden_conv1d(t: Trial) -> None:
    for f, h, modes in signal_pairs(t):
        for mode in modes:
            judge_conv1d(t, f, h, mode)


@check("hidden_xcorr1d", "xcorr1d on random signals, every mode", forbid=FORBID)
def hidden_xcorr1d(t: Trial) -> None:
    for f, h, modes in signal_pairs(t):
        for mode in modes:
            judge_xcorr1d(t, f, h, mode)


@check("hidden_output_size", "output_size on random layer shapes and on sizes that rounding gets wrong", forbid=FORBID)
def hidden_output_size(t: Trial) -> None:
    for layer in output_size_strata(t):
        judge_output_size(t, *layer)
    for i in range(8):
        k, s, p = ints(t, 2, 7), ints(t, 1, 4), ints(t, 0, 3)
        d = ints(t, 2, 3) if i % 2 else 1  # half the layers dilated, so ignoring dilation shows
        n = d * (k - 1) + 1 + ints(t, 0, 40)
        judge_output_size(t, n, k, s, p, d)


@check("hidden_conv2d", "conv2d forward and gradients on random shapes, int stride and padding", forbid=FORBID)
def hidden_conv2d(t: Trial) -> None:
    layers = layer_strata(t)
    n, c, o = ints(t, 1, 3, 3)
    kh, kw = ints(t, 1, 4, 2)
    layers.append(((n, c, kh + ints(t, 0, 6), kw + ints(t, 0, 6)), (o, c, kh, kw), ints(t, 1, 3), ints(t, 0, 2), False))
    for x_shape, w_shape, stride, padding, _ in layers:
        x, w, b = t.rng.standard_normal(x_shape), t.rng.standard_normal(w_shape), t.rng.standard_normal(w_shape[0])
        judge_conv2d(t, x, w, b, stride=stride, padding=padding)


def random_input(t: Trial, kh: int, kw: int, span: tuple[int, int]):
    """(x, w, b) for a random layer whose kernel spans ``span`` samples (height, width) of x."""
    n, c, o = ints(t, 1, 3, 3)
    x = t.rng.standard_normal((n, c, span[0] + ints(t, 0, 6), span[1] + ints(t, 0, 6)))
    return x, t.rng.standard_normal((o, c, kh, kw)), t.rng.standard_normal(o)


@check("hidden_conv2d_dilation", "conv2d with a random int dilation, unpadded and padded", forbid=FORBID)
def hidden_conv2d_dilation(t: Trial) -> None:
    for padding in (0, ints(t, 1, 2)):
        (kh, kw), d = ints(t, 2, 4, 2), ints(t, 2, 3)
        x, w, b = random_input(t, kh, kw, (d * (kh - 1) + 1, d * (kw - 1) + 1))
        judge_conv2d(t, x, w, b, stride=ints(t, 1, 3), padding=padding, dilation=d)


@check("hidden_conv2d_per_axis", "conv2d with random (height, width) pairs for stride and padding", forbid=FORBID)
def hidden_conv2d_per_axis(t: Trial) -> None:
    for _ in range(2):
        # Pairs that differ, one padding 0: swapping height and width, or using one entry for both, shows.
        stride, padding = [ints(t, 1, 2), ints(t, 3, 4)], [0, ints(t, 1, 2)]
        if ints(t, 0, 1):
            stride.reverse()
        if ints(t, 0, 1):
            padding.reverse()
        kh, kw = ints(t, 1, 4, 2)
        x, w, b = random_input(t, kh, kw, (kh, kw))
        judge_conv2d(t, x, w, b, stride=tuple(stride), padding=tuple(padding))


@check("hidden_conv2d_backward", "conv2d_backward on random shapes, strides and paddings", autograd=False, forbid=FORBID)
def hidden_conv2d_backward(t: Trial) -> None:
    layers = layer_strata(t)
    # A batch of at least 2 and a kernel of at least 2 x 2, so a batch-averaged db and an unrotated kernel show.
    n, c, o = ints(t, 2, 3), *ints(t, 1, 3, 2)
    k = ints(t, 2, 4)
    h, w = (k + v for v in ints(t, 0, 6, 2))
    layers.append(((n, c, h, w), (o, c, k, k), ints(t, 1, 3), ints(t, 0, 2), False))
    for x_shape, w_shape, stride, padding, rounding in layers:
        judge_conv2d_backward(t, t.rng.standard_normal(x_shape), t.rng.standard_normal(w_shape), stride, padding, rounding=rounding)


@check("hidden_fft_conv1d", "fft_conv1d on random lengths, a kernel longer than the signal among them", forbid=FORBID)
def hidden_fft_conv1d(t: Trial) -> None:
    short = ints(t, 1, 6)
    for n, k in ((ints(t, 5, 40), ints(t, 2, 9)), (ints(t, 5, 40), ints(t, 2, 9)), (short, short + ints(t, 1, 5))):
        f, h = t.rng.standard_normal(n), t.rng.standard_normal(k)
        t.close(t.call("fft_conv1d", f, h), t.ref.fft_conv1d(f, h), what=f"fft_conv1d(f, h) with len(f)={n}, len(h)={k}", variants=circular_variants(f, h))


@check("hidden_conv_matrix", "conv_matrix on random kernels and lengths", forbid=FORBID)
def hidden_conv_matrix(t: Trial) -> None:
    short = ints(t, 1, 4)
    for k, n in ((ints(t, 1, 6), ints(t, 1, 12)), (short + ints(t, 1, 4), short)):  # the second kernel is longer than f
        h = t.rng.standard_normal(k)
        t.close(t.call("conv_matrix", h, n), t.ref.conv_matrix(h, n), what=f"conv_matrix(h, n={n}) with len(h)={k}")


@check("hidden_receptive_field", "receptive_field of random stacks, one with gaps", forbid=FORBID)
def hidden_receptive_field(t: Trial) -> None:
    for i in range(3):
        depth = ints(t, 2, 5)
        strides = [ints(t, 2, 3), *ints(t, 1, 3, depth - 1)]  # an early stride > 1, or strides do not matter
        kernels = ints(t, 2, 5, depth)
        if i == 0:
            kernels[0] = ints(t, 1, strides[0] - 1)  # a stride larger than its kernel: the field has gaps
        judge_receptive_field(t, list(zip(kernels, strides)))
