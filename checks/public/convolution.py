"""Public checks of the convolution topic: inputs drawn from the trial's rng (the public seed in a student's own run,
the same every run; fresh ones when the course grades); students run these themselves.

The known mistakes of this topic are declared here (hidden checks import them), each with the wrong variant that
reveals it, computed on the grader's own copies of the inputs. Every check grades one function; conv2d's optional
features (dilation, per-axis pairs) have checks of their own, so a layer without them keeps the rest of its points.
Layer shapes always include the corner strata (padding 0, batch 1, a kernel as large as the padded input, strides
that do not divide, output sizes that rounding gets wrong), drawn afresh but never left to chance.
"""

from __future__ import annotations

import numpy as np
import torch

from autograder.engine.checks import Mistake, StudentError, Trial, check
from autograder.engine.compare import describe

KERNEL_FLIP = Mistake(
    "kernel-flip",
    "the kernel is not flipped (this is cross-correlation, not convolution)",
    "Convolution sums f[u - j] h[j]: reverse h before sliding it, or index f backwards. Test with an asymmetric kernel.",
)
SAME_OFFSET = Mistake(
    "same-offset",
    "'same' mode is shifted by one sample for an even kernel (numpy/scipy's padding, not the stated one)",
    "Pad (k-1)//2 zeros on the left and k//2 on the right of f, as torch's padding='same' does.",
)
CIRCULAR_FFT = Mistake(
    "circular-fft",
    "the FFT product without zero-padding is a circular convolution (it wraps around)",
    "Zero-pad both signals to length n + k - 1 before the FFT, then keep all n + k - 1 outputs.",
)
RF_NO_STRIDE = Mistake(
    "receptive-field-no-stride",
    "the receptive field ignores the strides of earlier layers",
    "Layer l widens the field by (k_l - 1) times the product of the strides of the layers before it.",
)
OUTPUT_SIZE_NO_DILATION = Mistake(
    "output-size-no-dilation",
    "the output size ignores the dilation",
    "A dilated kernel spans d(k-1)+1 samples: floor((n + 2p - d(k-1) - 1)/s) + 1.",
)
OUTPUT_SIZE_OFF_BY_ONE = Mistake(
    "output-size-off-by-one",
    "the output size is one too small (the first window is not counted)",
    "floor((n + 2p - d(k-1) - 1)/s) + 1: the +1 counts the window at position 0.",
)
DX_NO_FLIP = Mistake(
    "dx-kernel-not-rotated",
    "dx correlates dy with the kernel as it is; the backward pass needs it rotated by 180 degrees",
    "dx is the full convolution of dy with w (equivalently, correlation with w flipped in both spatial axes).",
)
DB_NOT_SUMMED = Mistake(
    "db-not-summed",
    "the bias gradient is averaged over the batch instead of summed",
    "Every example's output uses the same bias: db = dy.sum over the batch and both spatial axes.",
)
OUTPUT_SIZE_ROUND = Mistake(
    "output-size-round",
    "the output size is rounded, not floored: Python's round sends halves to the even neighbour (round(3.5) = 4, "
    "round(2.5) = 2) and rounds 1 + 2/3 up to 2, counting a window that sticks out of the padded input",
    "Count whole windows with floor division: (n + 2p - d(k-1) - 1) // s + 1.",
)
PAD_SLICE_AT_ZERO = Mistake(
    "pad-slice-at-zero",
    "dx drops the padding border with a[p:-p], which is empty when p = 0 (-0 is 0, so the slice is a[0:0])",
    "Cut the border with an explicit end, a[p:n-p] (or a[p:a.shape[-1]-p], a[p:p+H]): it stays right when p = 0.",
)

# The library code this topic asks students to build (every stub docstring lists it): convolutions of any dimension,
# their transposes and their gradients. numpy.fft, F.pad, unfold, einsum and sliding_window_view stay allowed.
FORBID = (
    "numpy.convolve",
    "numpy.correlate",
    "scipy.signal",
    "scipy.ndimage",
    "torch.nn.functional.conv1d",
    "torch.nn.functional.conv2d",
    "torch.nn.functional.conv3d",
    "torch.nn.functional.conv_transpose1d",
    "torch.nn.functional.conv_transpose2d",
    "torch.convolution",
    "torch.nn.grad",
)


# ---- wrong variants (grader side) -------------------------------------------------------------------------------


def same_other_offset(full: np.ndarray, n: int, k: int) -> np.ndarray:
    """'same' cut from the full output at numpy's offset: (k-1)//2 instead of k//2."""
    start = (k - 1) // 2
    return full[start : start + n]


def circular_variants(f: np.ndarray, h: np.ndarray) -> list[tuple[Mistake, np.ndarray]]:
    """The FFT product without zero-padding, at the two lengths students pick: len(f), and the longer signal."""
    return [(CIRCULAR_FFT, np.fft.irfft(np.fft.rfft(f, n) * np.fft.rfft(h, n), n)) for n in {len(f), max(len(f), len(h))}]


def receptive_field_no_stride(layers: list[tuple[int, int]]) -> int:
    return 1 + sum(k - 1 for k, _ in layers)


def output_size_variants(n: int, k: int, s: int, p: int, d: int) -> list[tuple[Mistake, int]]:
    """Wrong sizes, the dilation first: where a rounded size equals one that ignores the dilation, it names that."""
    excess = n + 2 * p - d * (k - 1) - 1
    return [
        (OUTPUT_SIZE_NO_DILATION, (n + 2 * p - k) // s + 1),
        (OUTPUT_SIZE_OFF_BY_ONE, excess // s),
        (OUTPUT_SIZE_ROUND, round(1 + excess / s)),
        (OUTPUT_SIZE_ROUND, round(excess / s) + 1),
    ]


def conv2d_backward_variants(ref, dy: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> dict[int, list]:
    """Wrong (dx, db) from a correct backward pass: dx with the unrotated kernel, dx cut with a[p:-p] at p = 0 (empty),
    db averaged."""
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1])
    dx_variants = [(DX_NO_FLIP, ref.conv2d_backward(dy, x, flipped, stride, padding)[0])]
    if padding == 0:
        dx_variants.append((PAD_SLICE_AT_ZERO, np.zeros((*x.shape[:2], 0, 0))))
    return {0: dx_variants, 2: [(DB_NOT_SUMMED, dy.sum(axis=(2, 3)).mean(axis=0))]}


def empirical_receptive_field(layers: list[tuple[int, int]]) -> int:
    """Extent of the support of d y/d x for one output unit through a stack of 1-D convolutions with positive
    weights (from the first to the last input it depends on: a stride larger than the kernel leaves gaps)."""
    size = 1 + sum((k - 1) * int(np.prod([s for _, s in layers[:i]])) for i, (k, _) in enumerate(layers))
    x = torch.zeros(1, 1, 4 * size + 8, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s in layers:
        y = torch.nn.functional.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s)
    y[0, 0, y.shape[-1] // 2].backward()
    support = np.flatnonzero(x.grad[0, 0].numpy())
    return int(support[-1] - support[0] + 1)


# ---- inputs -------------------------------------------------------------------------------------------------------


def ints(t: Trial, low: int, high: int, size: int | None = None):
    """Uniform integers in [low, high]: one Python int, or a list of ``size``."""
    drawn = t.rng.integers(low, high + 1, size)
    return int(drawn) if size is None else [int(v) for v in drawn]


def random_layer(t: Trial, *, strided: bool, padded: bool, dilated: bool) -> tuple[int, int, int, int, int]:
    """(n, k, s, p, d) with at least one output. A dilated layer's kernel spans at least s more samples than its k
    taps do, so an output size that ignores the dilation is off by at least one."""
    k, s, p, d = ints(t, 2, 7), ints(t, 2, 4) if strided else 1, ints(t, 1, 3) if padded else 0, ints(t, 2, 3) if dilated else 1
    while dilated and (d - 1) * (k - 1) < s:
        k += 1
    return max(1, d * (k - 1) + 1 - 2 * p + ints(t, 0, 30)), k, s, p, d


def random_stack(t: Trial, depth: int, *, strided: bool) -> list[tuple[int, int]]:
    """``depth`` (kernel, stride) layers; ``strided``: a layer before the last strides by 2 or 3, so the strides of
    earlier layers change the receptive field."""
    strides = ints(t, 1, 3, depth) if strided else [1] * depth
    if strided:
        strides[ints(t, 0, depth - 2)] = ints(t, 2, 3)
    return list(zip(ints(t, 2, 5, depth), strides))


def fitted(excess: int, k: int, s: int, p: int, d: int = 1) -> tuple[int, int, int, int, int]:
    """(n, k, s, p, d) whose padded input is ``excess`` samples longer than the dilated kernel's span."""
    return excess + d * (k - 1) + 1 - 2 * p, k, s, p, d


def output_size_strata(t: Trial) -> list[tuple[int, int, int, int, int]]:
    """(n, k, s, p, d) on which every rounding but floor shows, whatever the draw (e: the padded input's excess over
    the kernel's span): 1 + e/2 = q + 0.5 with q odd, so round(1 + e/2) goes up (padding 0, an odd kernel); e/2 =
    q + 0.5 with q odd, so round(e/2) + 1 goes up (padding, an even kernel); a remainder of s - 1 for s = 3 (both go
    up); and a dilated kernel as large as the padded input (one output)."""
    k = ints(t, 2, 7)
    excess = 3 * ints(t, 0, 3) + 2
    k_fit, d = ints(t, 2, 5), ints(t, 2, 3)
    return [
        fitted(4 * ints(t, 0, 2) + 1, 2 * ints(t, 1, 3) + 1, 2, 0),
        fitted(4 * ints(t, 0, 2) + 3, 2 * ints(t, 1, 3), 2, ints(t, 1, 2)),
        fitted(excess, k, 3, ints(t, 0, min(2, (excess + k - 1) // 2))),
        fitted(0, k_fit, ints(t, 2, 4), ints(t, 0, min(2, d * (k_fit - 1) // 2)), d),
    ]


def layer_strata(t: Trial) -> list[tuple[tuple[int, ...], tuple[int, ...], int, int, bool]]:
    """(x shape, w shape, stride, padding, rounding shows) for the corner strata of a 2-D layer, sizes drawn from
    t.rng: padding 0 with batch 1 and a kernel as tall as the input (an even height, an odd width); padding 0 with a
    stride of 3 that does not divide (a remainder of 1: ceil shows, round does not); then, padded, the output sizes
    that rounding gets wrong (as in output_size_strata: 1 + e/2 = q + 0.5 with q odd in height, e/2 = q + 0.5 with q
    odd in width; a remainder of 2 for s = 3). Kernels of at least 2 x 2 and batches of 2 after the first."""
    c, o = ints(t, 1, 3), ints(t, 2, 3)

    def side(excess: int, k: int, p: int) -> int:
        return fitted(excess, k, 1, p)[0]

    kh, kw = 2 * ints(t, 1, 2), 2 * ints(t, 1, 2) + 1
    cases = [((1, c, kh, kw + ints(t, 0, 4)), (o, c, kh, kw), 1, 0, False)]
    kh, kw = ints(t, 2, 4, 2)
    cases.append(((2, c, side(3 * ints(t, 0, 2) + 1, kh, 0), side(3 * ints(t, 0, 2) + 1, kw, 0)), (o, c, kh, kw), 3, 0, False))
    (kh, kw), eh, ew = ints(t, 2, 4, 2), 4 * ints(t, 0, 1) + 1, 4 * ints(t, 0, 1) + 3
    p = ints(t, 1, min(2, (min(eh + kh, ew + kw) - 1) // 2))
    cases.append(((2, c, side(eh, kh, p), side(ew, kw, p)), (o, c, kh, kw), 2, p, True))
    (kh, kw), (eh, ew) = ints(t, 2, 4, 2), (3 * e + 2 for e in ints(t, 0, 2, 2))
    p = ints(t, 0, min(2, (min(eh + kh, ew + kw) - 1) // 2))
    cases.append(((2, c, side(eh, kh, p), side(ew, kw, p)), (o, c, kh, kw), 3, p, True))
    return cases


# ---- shared bodies (hidden checks call these with random inputs) --------------------------------------------------


def judge_conv1d(t: Trial, f: np.ndarray, h: np.ndarray, mode: str) -> None:
    n, k = len(f), len(h)
    want = t.ref.conv1d(f, h, mode)
    variants = [(KERNEL_FLIP, t.ref.xcorr1d(f, h, mode))]
    if mode == "same":
        variants.append((SAME_OFFSET, same_other_offset(t.ref.conv1d(f, h, "full"), n, k)))
    t.close(t.call("conv1d", f, h, mode=mode), want, what=f"conv1d(f, h, mode={mode!r}) with len(f)={n}, len(h)={k}", variants=variants)


def judge_xcorr1d(t: Trial, f: np.ndarray, h: np.ndarray, mode: str) -> None:
    n, k = len(f), len(h)
    want = t.ref.xcorr1d(f, h, mode)
    variants = [(KERNEL_FLIP, t.ref.conv1d(f, h, mode))]  # flipping here is the same confusion, the other way
    if mode == "same":
        variants.append((SAME_OFFSET, same_other_offset(t.ref.xcorr1d(f, h, "full"), n, k)))
    t.close(t.call("xcorr1d", f, h, mode=mode), want, what=f"xcorr1d(f, h, mode={mode!r}) with len(f)={n}, len(h)={k}", variants=variants)


def judge_output_size(t: Trial, n: int, k: int, s: int, p: int, d: int) -> None:
    want = t.ref.output_size(n, k, s, p, d)
    got = t.call("output_size", n, k, stride=s, padding=p, dilation=d)
    t.close(got, np.asarray(want), what=f"output_size(n={n}, k={k}, stride={s}, padding={p}, dilation={d})", variants=output_size_variants(n, k, s, p, d))


def judge_conv2d(t: Trial, x: np.ndarray, w: np.ndarray, b: np.ndarray, **options) -> None:
    """Forward value and autograd gradients (w.r.t. x, w, b through a random upstream gradient). ``options`` are the
    keywords passed (stride, padding, dilation): only those a check grades, so a layer without dilation is never
    handed one."""
    what = f"conv2d(x {x.shape}, w {w.shape}, b{''.join(f', {k}={v}' for k, v in options.items())})"
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y_ref = t.ref.conv2d(xt, wt, bt, **options)
    g = t.rng.standard_normal(tuple(y_ref.shape))
    grads_ref = torch.autograd.grad(y_ref, (xt, wt, bt), torch.tensor(g))
    got, grads = t.call_grad("conv2d", t.tensor(x, grad=True), t.tensor(w, grad=True), t.tensor(b, grad=True), **options, upstream=g)
    t.close(got, y_ref, what=what)
    for name, got_grad, want_grad in zip(("x", "w", "b"), grads, grads_ref):
        t.close(got_grad, want_grad, what=f"d<g, {what}>/d{name} (autograd)")


def judge_conv2d_backward(t: Trial, x: np.ndarray, w: np.ndarray, stride: int, padding: int, *, rounding: bool = False) -> None:
    """The hand-written backward against the reference backward, and against the reference *forward*
    (a directional derivative: the forward is linear in x and in w, so central differences are exact).

    ``rounding``: a stratum where a rounded output size is one too large (layer_strata); code that rounds then
    indexes past dy or y and raises, so a raise here (after the earlier strata passed) names OUTPUT_SIZE_ROUND."""
    y = t.ref.conv2d(torch.tensor(x), torch.tensor(w), None, stride, padding).numpy()
    dy = t.rng.standard_normal(y.shape)
    what = f"conv2d_backward(dy, x {x.shape}, w {w.shape}, stride={stride}, padding={padding})"
    try:
        got = t.call("conv2d_backward", dy, x, w, stride=stride, padding=padding)
    except StudentError as exc:
        if not rounding or exc.not_attempted:
            raise
        excess = [x.shape[i] + 2 * padding - w.shape[i] for i in (2, 3)]
        t.fail(
            f"{what} raised {exc.type} ({exc.text}) where (H + 2p - kh)/s = {excess[0]}/{stride} and (W + 2p - kw)/s = "
            f"{excess[1]}/{stride}: y is {y.shape[2]} x {y.shape[3]}, and a rounded size is one larger; your answer "
            f"matches a known mistake: {OUTPUT_SIZE_ROUND.title}. {OUTPUT_SIZE_ROUND.fix}",
            mistake=OUTPUT_SIZE_ROUND,
        )
    if not isinstance(got, tuple) or len(got) != 3:
        t.fail(f"{what}: expected a tuple (dx, dw, db), got {describe(got)}")
    want = t.ref.conv2d_backward(dy, x, w, stride, padding)
    variants = conv2d_backward_variants(t.ref, dy, x, w, stride, padding)
    for i, name in enumerate(("dx", "dw", "db")):
        t.close(got[i], want[i], what=f"{what}[{i}] ({name})", variants=variants.get(i, []))
    eps = 1e-3

    def loss(arg: int, delta: np.ndarray) -> float:
        inputs = [x, w]
        inputs[arg] = inputs[arg] + delta
        return float(np.sum(dy * t.ref.conv2d(torch.tensor(inputs[0]), torch.tensor(inputs[1]), None, stride, padding).numpy()))

    for arg, name in enumerate(("dx", "dw")):
        v = t.rng.standard_normal(got[arg].shape if got[arg].shape == want[arg].shape else want[arg].shape)
        numeric = (loss(arg, eps * v) - loss(arg, -eps * v)) / (2 * eps)
        t.close(np.asarray(np.sum(got[arg] * v)), np.asarray(numeric), what=f"{what}: <{name}, v> against central differences of the reference forward", rtol=1e-6, atol=1e-8)


def judge_receptive_field(t: Trial, layers: list[tuple[int, int]]) -> None:
    want = t.ref.receptive_field(layers)
    empirical = empirical_receptive_field(layers)
    if want != empirical:
        raise AssertionError(f"reference receptive_field({layers}) = {want} but the gradient's support is {empirical}")
    got = t.call("receptive_field", [list(layer) for layer in layers])
    t.close(got, np.asarray(want), what=f"receptive_field({layers}) (the support of one output's gradient is {empirical} samples)", variants=[(RF_NO_STRIDE, np.asarray(receptive_field_no_stride(layers)))])


# ---- the public checks ------------------------------------------------------------------------------------------


@check("conv1d_full", "conv1d, 'full' mode, asymmetric kernel", forbid=FORBID)
def conv1d_full(t: Trial) -> None:
    judge_conv1d(t, t.rng.standard_normal(9), t.rng.standard_normal(4), "full")


@check("conv1d_modes", "conv1d, 'same' and 'valid' modes, odd and even kernels", forbid=FORBID)
def conv1d_modes(t: Trial) -> None:
    for k in (3, 4):
        f, h = t.rng.standard_normal(10), t.rng.standard_normal(k)
        for mode in ("valid", "same"):
            judge_conv1d(t, f, h, mode)


@check("xcorr1d_modes", "xcorr1d in all three modes, odd and even kernels", forbid=FORBID)
def xcorr1d_modes(t: Trial) -> None:
    for k in (3, 4):
        f, h = t.rng.standard_normal(8), t.rng.standard_normal(k)
        for mode in ("full", "valid", "same"):
            judge_xcorr1d(t, f, h, mode)


@check("bad_mode", "conv1d rejects an unknown mode with ValueError", forbid=FORBID)
def bad_mode(t: Trial) -> None:
    f, h = t.rng.standard_normal(5), t.rng.standard_normal(2)
    t.accepts("conv1d", f, h, mode="valid", like=t.ref.conv1d(f, h, "valid"))  # raising for every mode earns nothing
    t.raises("ValueError", "conv1d", f, h, mode="circular")


@check("output_size", "output_size with stride, padding and dilation; sizes that rounding gets wrong", forbid=FORBID)
def output_size(t: Trial) -> None:
    for layer in output_size_strata(t):
        judge_output_size(t, *layer)
    for strided, padded, dilated in ((False, True, False), (True, True, False), (False, False, True), (True, False, True), (True, True, True)):
        judge_output_size(t, *random_layer(t, strided=strided, padded=padded, dilated=dilated))


@check("conv2d_forward_grad", "conv2d forward and its autograd gradients (int stride and padding; no dilation)", forbid=FORBID)
def conv2d_forward_grad(t: Trial) -> None:
    for x_shape, w_shape, stride, padding, _ in layer_strata(t):
        x, w, b = t.rng.standard_normal(x_shape), t.rng.standard_normal(w_shape), t.rng.standard_normal(w_shape[0])
        judge_conv2d(t, x, w, b, stride=stride, padding=padding)


@check("conv2d_dilation", "conv2d with an int dilation (and int stride and padding)", forbid=FORBID)
def conv2d_dilation(t: Trial) -> None:
    x, w, b = t.rng.standard_normal((2, 3, ints(t, 7, 10), ints(t, 7, 10))), t.rng.standard_normal((4, 3, 3, 2)), t.rng.standard_normal(4)
    judge_conv2d(t, x, w, b, dilation=2)
    judge_conv2d(t, x, w, b, stride=2, padding=1, dilation=3)


@check("conv2d_per_axis", "conv2d with (height, width) pairs for stride and padding (no dilation)", forbid=FORBID)
def conv2d_per_axis(t: Trial) -> None:
    x, w, b = t.rng.standard_normal((2, 3, ints(t, 6, 9), ints(t, 6, 9))), t.rng.standard_normal((4, 3, 3, 2)), t.rng.standard_normal(4)
    judge_conv2d(t, x, w, b, stride=(2, 1), padding=(1, 2))
    judge_conv2d(t, x, w, b, stride=(1, 3), padding=(0, 1))


@check("conv2d_dilation_per_axis", "conv2d with a (height, width) dilation pair: needs both dilation and per-axis pairs", forbid=FORBID)
def conv2d_dilation_per_axis(t: Trial) -> None:
    x, w, b = t.rng.standard_normal((2, 3, ints(t, 7, 10), ints(t, 7, 10))), t.rng.standard_normal((4, 3, 3, 2)), t.rng.standard_normal(4)
    judge_conv2d(t, x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    judge_conv2d(t, x, w, b, dilation=(3, 1))


@check("conv_matrix", "conv_matrix: T @ f is the full convolution", forbid=FORBID)
def conv_matrix(t: Trial) -> None:
    h, n = t.rng.standard_normal(3), 6
    t.close(t.call("conv_matrix", h, n), t.ref.conv_matrix(h, n), what=f"conv_matrix(h, n={n}) with len(h)=3")


@check("fft_conv1d", "fft_conv1d is the linear (zero-padded) convolution", forbid=FORBID)
def fft_conv1d(t: Trial) -> None:
    f, h = t.rng.standard_normal(12), t.rng.standard_normal(5)
    t.close(t.call("fft_conv1d", f, h), t.ref.fft_conv1d(f, h), what="fft_conv1d(f, h) with len(f)=12, len(h)=5", variants=circular_variants(f, h))


@check("conv2d_backward", "conv2d_backward by hand: dx, dw, db, and directional derivatives", autograd=False, forbid=FORBID)
def conv2d_backward(t: Trial) -> None:
    for x_shape, w_shape, stride, padding, rounding in layer_strata(t):
        judge_conv2d_backward(t, t.rng.standard_normal(x_shape), t.rng.standard_normal(w_shape), stride, padding, rounding=rounding)


@check("receptive_field", "receptive_field of a stack of strided layers", forbid=FORBID)
def receptive_field(t: Trial) -> None:
    judge_receptive_field(t, random_stack(t, ints(t, 2, 3), strided=False))
    judge_receptive_field(t, random_stack(t, ints(t, 3, 5), strided=True))


# ---- contracts: default arguments, and each documented limit from both sides ------------------------------------
# Each pair straddles one limit (the last valid input is right, the first invalid one raises ValueError), so an
# off-by-one in a limit fails one side or the other. One check per function: a missing function costs only its own.


@check("conv1d_contract", "conv1d: default mode 'full'; len(h) == len(f) in 'valid' mode; ValueError past the limits", forbid=FORBID)
def conv1d_contract(t: Trial) -> None:
    f, h = t.rng.standard_normal(7), t.rng.standard_normal(3)
    t.close(t.call("conv1d", f, h), t.ref.conv1d(f, h), what="conv1d(f, h) (default mode='full')", variants=[(KERNEL_FLIP, t.ref.xcorr1d(f, h))])
    judge_conv1d(t, f[:4], t.rng.standard_normal(4), "valid")  # one window
    t.raises("ValueError", "conv1d", f[:4], t.rng.standard_normal(5), mode="valid")
    t.raises("ValueError", "conv1d", np.zeros(0), h)


@check("fft_conv1d_contract", "fft_conv1d: a one-tap kernel scales f; ValueError for an empty kernel", forbid=FORBID)
def fft_conv1d_contract(t: Trial) -> None:
    f, h = t.rng.standard_normal(6), t.rng.standard_normal(1)
    t.close(t.call("fft_conv1d", f, h), t.ref.fft_conv1d(f, h), what="fft_conv1d(f, h) with len(h)=1")
    t.raises("ValueError", "fft_conv1d", f, np.zeros(0))


@check("output_size_contract", "output_size: default stride, padding, dilation; a kernel that just fits; ValueError past the limits", forbid=FORBID)
def output_size_contract(t: Trial) -> None:
    # A kernel of 2 or more on a longer input, so that each default (stride, padding, dilation) changes the size.
    k = ints(t, 2, 6)
    n = k + ints(t, 1, 20)
    t.close(t.call("output_size", n, k), np.asarray(t.ref.output_size(n, k)), what=f"output_size({n}, {k}) (default stride=1, padding=0, dilation=1)", variants=output_size_variants(n, k, 1, 0, 1))
    # A dilated kernel that spans exactly the input padded on each side (n >= 2): one output; one sample less and it
    # does not fit. Its k taps alone span at least s samples fewer, so ignoring the dilation gives two outputs or more.
    k, d = ints(t, 3, 5), ints(t, 2, 3)
    s, p = ints(t, 1, min(3, (d - 1) * (k - 1))), ints(t, 1, (d * (k - 1) - 1) // 2)
    n = d * (k - 1) + 1 - 2 * p
    judge_output_size(t, n, k, s, p, d)
    judge_output_size(t, 1, 1, ints(t, 1, 3), 0, ints(t, 1, 3))  # the smallest input and kernel
    t.raises("ValueError", "output_size", n - 1, k, stride=s, padding=p, dilation=d)
    # One argument past its limit at a time, in a random order, the others valid (with room for padding = -1).
    k, d = ints(t, 1, 5), ints(t, 1, 3)
    valid = {"n": d * (k - 1) + 3 + ints(t, 0, 20), "k": k, "stride": ints(t, 1, 3), "padding": ints(t, 0, 2), "dilation": d}
    names = list(valid)
    for i in t.rng.permutation(len(names)):
        args = {**valid, names[i]: -1 if names[i] == "padding" else 0}
        t.raises("ValueError", "output_size", args.pop("n"), args.pop("k"), **args)


@check("conv2d_contract", "conv2d: defaults (no bias, stride 1, no padding or dilation); a kernel that just fits; ValueError past it", forbid=FORBID)
def conv2d_contract(t: Trial) -> None:
    x, w = t.rng.standard_normal((2, 3, 6, 5)), t.rng.standard_normal((4, 3, 3, 2))
    want = t.ref.conv2d(torch.tensor(x), torch.tensor(w))
    t.close(t.call("conv2d", t.tensor(x), t.tensor(w)), want, what="conv2d(x, w) (default b=None, stride=1, padding=0, dilation=1)")
    # Channels (6) outnumber the kernel taps, so measuring the wrong axis of x cannot pass by luck.
    b = t.rng.standard_normal(2)
    judge_conv2d(t, t.rng.standard_normal((1, 6, 3, 4)), t.rng.standard_normal((2, 6, 5, 6)), b, padding=1)
    for x_shape, w_shape in (((1, 6, 3, 8), (2, 6, 6, 2)), ((1, 6, 8, 3), (2, 6, 2, 6))):
        t.raises("ValueError", "conv2d", t.tensor(t.rng.standard_normal(x_shape)), t.tensor(t.rng.standard_normal(w_shape)), t.tensor(b), padding=1)
    t.raises("ValueError", "conv2d", t.tensor(x), t.tensor(w), t.tensor(t.rng.standard_normal(3)))  # b must be (O,) = (4,)


@check("conv2d_backward_contract", "conv2d_backward: default stride and padding; a kernel that just fits; ValueError past the limits", autograd=False, forbid=FORBID)
def conv2d_backward_contract(t: Trial) -> None:
    x, w = t.rng.standard_normal((2, 3, 6, 5)), t.rng.standard_normal((4, 3, 3, 2))
    dy = t.rng.standard_normal(t.ref.conv2d(torch.tensor(x), torch.tensor(w)).shape)
    got = t.call("conv2d_backward", dy, x, w)
    what = "conv2d_backward(dy, x, w) (default stride=1, padding=0)"
    if not isinstance(got, tuple) or len(got) != 3:
        t.fail(f"{what}: expected a tuple (dx, dw, db), got {describe(got)}")
    variants = conv2d_backward_variants(t.ref, dy, x, w, 1, 0)
    for i, (name, want) in enumerate(zip(("dx", "dw", "db"), t.ref.conv2d_backward(dy, x, w))):
        t.close(got[i], want, what=f"{what}[{i}] ({name})", variants=variants.get(i, []))
    judge_conv2d_backward(t, t.rng.standard_normal((1, 2, 3, 4)), t.rng.standard_normal((2, 2, 5, 6)), 1, 1)
    dy = t.rng.standard_normal((1, 2, 3, 3))
    for x_shape, w_shape, s, p in (((1, 2, 3, 8), (2, 2, 6, 2), 1, 1), ((1, 2, 8, 3), (2, 2, 2, 6), 1, 1), ((1, 2, 5, 5), (2, 2, 3, 3), 0, 0), ((1, 2, 5, 5), (2, 2, 3, 3), 1, -1)):
        t.raises("ValueError", "conv2d_backward", dy, t.rng.standard_normal(x_shape), t.rng.standard_normal(w_shape), stride=s, padding=p)


@check("conv_matrix_contract", "conv_matrix: n = 1 is one column; ValueError for n = 0", forbid=FORBID)
def conv_matrix_contract(t: Trial) -> None:
    h = t.rng.standard_normal(3)
    t.close(t.call("conv_matrix", h, 1), t.ref.conv_matrix(h, 1), what="conv_matrix(h, n=1) with len(h)=3")
    t.raises("ValueError", "conv_matrix", h, 0)


@check("receptive_field_contract", "receptive_field: a 1x1 layer adds nothing; ValueError for a kernel or stride below 1", forbid=FORBID)
def receptive_field_contract(t: Trial) -> None:
    # A 1-tap layer at a random place adds nothing; only the last layer strides, which does not enter either.
    layers = random_stack(t, ints(t, 1, 3), strided=False)
    layers.insert(ints(t, 0, len(layers)), (1, 1))
    layers[-1] = (layers[-1][0], ints(t, 1, 3))
    judge_receptive_field(t, layers)
    for bad in ([0, ints(t, 1, 3)], [ints(t, 1, 5), 0]):  # a kernel, then a stride, below 1, at a random place
        layers = [list(layer) for layer in random_stack(t, ints(t, 1, 3), strided=False)]
        layers.insert(ints(t, 0, len(layers)), bad)
        t.raises("ValueError", "receptive_field", layers)
