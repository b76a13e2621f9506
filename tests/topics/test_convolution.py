"""The convolution topic end to end: reference, stub, every known mistake, the example, and the reference itself
against numpy/torch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.course.submission import Submission
from autograder.engine.checks import Trial
from autograder.engine.results import FAILED, NOT_ATTEMPTED, PASSED, without_timings
from autograder.reports.renderers import render
from checks.public.convolution import layer_strata, output_size_strata
from solutions import convolution as ref

from conftest import ROOT, grade_source, wrapped
from mistakes import known_mistakes


KNOWN = known_mistakes("convolution")


def test_example_submission_gets_partial_credit_with_named_mistakes(grader):
    report = grader.grade(Submission.from_path(ROOT / "examples" / "submission", grader.course))
    topic = report.topics[0]
    named = {c.mistake["id"] for c in topic.checks if c.mistake}
    assert named == {"kernel-flip", "circular-fft"}
    assert {c.id for c in topic.checks if c.status == NOT_ATTEMPTED} == {"receptive_field", "receptive_field_contract", "hidden_receptive_field"}
    assert 0 < topic.points < topic.max_points
    text = render(report, "text")
    assert "-> known mistake: kernel-flip" in text and "receptive_field: receptive_field([[4, 1], [4, 1]]) not" in text
    assert "Probability [probability]  0/46  todo (no file submitted)" in text  # a topic not started: one line


def test_regrading_gives_the_same_results_but_for_timings(grader):
    submission = Submission.from_path(ROOT / "examples" / "submission", grader.course)
    first, second = (without_timings(json.loads(render(grader.grade(submission), "json"))) for _ in range(2))
    assert first == second


def test_hidden_inputs_depend_on_the_submission(grader):
    """Two submissions that differ only in a comment get different hidden inputs (and the same public ones)."""
    source = KNOWN["kernel_flip"].source
    a, b = (grade_source(grader, source + suffix) for suffix in ("", "\n# another student\n"))
    hidden_a = next(c.message for c in a.checks if c.id == "hidden_conv1d")
    hidden_b = next(c.message for c in b.checks if c.id == "hidden_conv1d")
    public_a = next(c.message for c in a.checks if c.id == "conv1d_full")
    public_b = next(c.message for c in b.checks if c.id == "conv1d_full")
    assert hidden_a != hidden_b and public_a == public_b


# ---- partial credit: a layer without an optional feature loses only that feature's checks ---------------------

# Layers as students write them, appended to the reference (the later definition wins). Each validates like the
# reference (output_size raises ValueError when the kernel does not fit), so only the missing feature can cost.
WITHOUT_DILATION = '''
def conv2d(x, w, b=None, stride=1, padding=0):
    """CS231n-style: no dilation keyword, one int per hyper-parameter."""
    if not isinstance(stride, int) or not isinstance(padding, int):
        raise NotImplementedError("stride and padding are ints here")
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ValueError("b must have shape (O,)")
    output_size(x.shape[2], w.shape[2], stride, padding)
    output_size(x.shape[3], w.shape[3], stride, padding)
    win = F.pad(x, (padding,) * 4).unfold(2, w.shape[2], stride).unfold(3, w.shape[3], stride)
    y = torch.einsum("ncijae,ocae->noij", win, w)
    return y if b is None else y + b[:, None, None]
'''
INT_DILATION_ONLY = '''
_reference_conv2d = conv2d


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    """Per-axis pairs for stride and padding, and no dilation yet."""
    if dilation != 1:
        raise NotImplementedError("dilation")
    return _reference_conv2d(x, w, b, stride, padding)
'''
CONV2D_CHECKS = ["conv2d_forward_grad", "conv2d_dilation", "conv2d_per_axis", "conv2d_dilation_per_axis", "conv2d_contract", "hidden_conv2d", "hidden_conv2d_dilation", "hidden_conv2d_per_axis"]


@pytest.mark.parametrize(
    "layer, loses",
    [
        (WITHOUT_DILATION, {"conv2d_dilation", "conv2d_per_axis", "conv2d_dilation_per_axis", "hidden_conv2d_dilation", "hidden_conv2d_per_axis"}),
        (INT_DILATION_ONLY, {"conv2d_dilation", "conv2d_dilation_per_axis", "hidden_conv2d_dilation"}),
    ],
    ids=["no-dilation-no-pairs", "pairs-no-dilation"],
)
def test_a_missing_conv2d_feature_costs_only_its_own_checks(grader, layer: str, loses: set[str]):
    source = (ROOT / "solutions" / "convolution.py").read_text() + layer
    result = grade_source(grader, source, checks=CONV2D_CHECKS)
    assert {c.id for c in result.checks if c.status != PASSED} == loses


# ---- what a function returns is part of its contract: the reference's kind (autograder.engine.compare) --------------

# Each row replaces one function of the reference by a wrapper of it (the later definition wins), grades the named
# checks, and expects every one of them to pass or to fail with the message about what was returned.
REFERENCE = (ROOT / "solutions" / "convolution.py").read_text()


KINDS = [
    pytest.param("conv1d", "y.tolist()", ["conv1d_full"], "returned a list of 12 numbers; conv1d must return a numpy.ndarray", id="tolist"),
    pytest.param("conv1d", "torch.from_numpy(y)", ["conv1d_full"], "returned a torch.Tensor of shape (12,), dtype torch.float64, on cpu; conv1d must return a numpy.ndarray", id="tensor-for-numpy"),
    pytest.param("conv2d", "y.detach().numpy()", ["conv2d_forward_grad", "conv2d_contract"], "dtype float64; conv2d must return a torch.Tensor", id="numpy-for-tensor"),
    pytest.param("conv2d", "y.detach()", ["conv2d_forward_grad"], "returned a torch.Tensor that does not require grad", id="detached-tensor"),
    pytest.param("conv2d_backward", "[torch.from_numpy(v) for v in y]", ["conv2d_backward"], "[0] (dx): returned a torch.Tensor of shape", id="list-of-tensors-for-a-tuple-of-arrays"),
    pytest.param("conv2d_backward", "list(y)", ["conv2d_backward", "conv2d_backward_contract"], None, id="list-for-a-tuple"),
    pytest.param("output_size", "np.int64(y)", ["output_size", "output_size_contract"], None, id="numpy-scalar-for-int"),
    pytest.param("receptive_field", "np.asarray(y)", ["receptive_field"], None, id="0-d-array-for-int"),
    pytest.param("fft_conv1d", "list(y)", ["fft_conv1d"], "returned a list of 16 numbers; fft_conv1d must return a numpy.ndarray", id="list-of-numpy-scalars"),
]


@pytest.mark.parametrize("fn, result, checks, message", KINDS)
def test_an_answer_of_another_kind_than_the_references_fails_saying_what_was_returned(grader, fn: str, result: str, checks: list[str], message: str | None):
    graded = grade_source(grader, REFERENCE + wrapped(fn, result), checks=checks)
    if message is None:  # what correct code returns
        assert {c.id: c.message for c in graded.checks if c.status != PASSED} == {}
        return
    for c in graded.checks:
        assert c.status == FAILED and c.message.count(message) == 1 and "raised" not in c.message, (c.id, c.message)  # said once
        assert c.mistake is None


# ---- bad_mode: its positive control is about the check's own claim ------------------------------------------------

EVERY_MODE_REJECTED = REFERENCE + """

def conv1d(f, h, mode="full"):
    raise ValueError(f"unknown mode {mode!r}")
"""


@pytest.mark.parametrize(
    "source, message",
    [
        pytest.param(KNOWN["kernel_flip"].source, None, id="kernel-flip-with-a-correct-mode-check"),
        pytest.param(EVERY_MODE_REJECTED, "conv1d(<array (5,)>, <array (2,)>, mode='valid') raised ValueError (unknown mode 'valid'), though this input is valid: a function that raises on valid input cannot earn a check that it rejects invalid input", id="rejects-every-mode"),
        pytest.param(REFERENCE + wrapped("conv1d", "y[:-1]"), "conv1d(<array (5,)>, <array (2,)>, mode='valid') (valid input, the control of this check): returned a numpy.ndarray of shape (3,), dtype float64; expected shape (4,)", id="wrong-shape-for-valid-input"),
    ],
)
def test_bad_mode_fails_only_for_its_claim(grader, source: str, message: str | None):
    (result,) = grade_source(grader, source, checks=["bad_mode"]).checks
    assert (result.status, result.message if message else None) == ((FAILED, message) if message else (PASSED, None))
    assert result.mistake is None


class _Draws:
    """Just enough of a Trial for the strata helpers: its rng."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)


@pytest.mark.parametrize("seed", range(20))
def test_corner_strata_hold_whatever_the_draw(seed: int):
    """Every draw has padding 0, batch 1, a kernel as large as the padded input, a stride that does not divide, and
    sizes where round(1 + e/s) and round(e/s) + 1 each exceed floor(e/s) + 1 (e = H + 2p - k)."""
    trial: Trial = _Draws(seed)  # type: ignore[assignment]

    def rounded_up(excess: int, s: int) -> set[str]:
        floor = excess // s + 1
        return {name for name, size in (("round(1 + e/s)", round(1 + excess / s)), ("round(e/s) + 1", round(excess / s) + 1)) if size != floor}

    layers = output_size_strata(trial)
    assert all(ref.output_size(*layer) >= 1 for layer in layers)
    assert set().union(*(rounded_up(n + 2 * p - d * (k - 1) - 1, s) for n, k, s, p, d in layers)) == {"round(1 + e/s)", "round(e/s) + 1"}
    assert any(p == 0 for _, _, _, p, _ in layers) and any(ref.output_size(*layer) == 1 and layer[4] > 1 for layer in layers)

    strata = layer_strata(trial)
    for x_shape, w_shape, s, p, rounding in strata:
        excess = [x_shape[i] + 2 * p - w_shape[i] for i in (2, 3)]
        assert min(excess) >= 0 and min(w_shape[2:]) >= 2
        assert bool(set().union(*(rounded_up(e, s) for e in excess))) == rounding
    assert set().union(*(rounded_up(x[2] + 2 * p - w[2], s) for x, w, s, p, _ in strata)) == {"round(1 + e/s)", "round(e/s) + 1"}
    (x0, w0, _, p0, _), (x1, w1, s1, p1, _) = strata[:2]
    assert x0[0] == 1 and x0[2] == w0[2] and p0 == 0 and (w0[2] % 2, w0[3] % 2) == (0, 1)  # batch 1, as tall as x
    assert p1 == 0 and (x1[2] - w1[2]) % s1 and (x1[3] - w1[3]) % s1  # a stride that does not divide
    assert all(x[0] == 2 for x, *_ in strata[1:])  # where db averaged over the batch shows


# ---- the reference against the libraries it must agree with -----------------------------------------------------

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("n, k", [(9, 4), (10, 3), (5, 5), (7, 1)])
def test_reference_1d_matches_numpy(n: int, k: int):
    f, h = RNG.standard_normal(n), RNG.standard_normal(k)
    np.testing.assert_allclose(ref.conv1d(f, h, "full"), np.convolve(f, h, "full"), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ref.conv1d(f, h, "valid"), np.convolve(f, h, "valid"), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ref.xcorr1d(f, h, "full"), np.correlate(f, h, "full"), rtol=1e-12, atol=1e-12)
    torch_same = F.conv1d(torch.tensor(f)[None, None], torch.tensor(h)[None, None], padding="same")[0, 0].numpy()
    np.testing.assert_allclose(ref.xcorr1d(f, h, "same"), torch_same, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ref.fft_conv1d(f, h), np.convolve(f, h), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ref.conv_matrix(h, n) @ f, np.convolve(f, h), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), ((2, 1), (1, 2), (1, 2))])
def test_reference_conv2d_matches_torch(stride, padding, dilation):
    x, w, b = (torch.tensor(RNG.standard_normal(s)) for s in ((2, 3, 9, 8), (4, 3, 3, 2), (4,)))
    np.testing.assert_allclose(ref.conv2d(x, w, b, stride, padding, dilation), F.conv2d(x, w, b, stride, padding, dilation), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2)])
def test_reference_conv2d_backward_matches_torch(stride: int, padding: int):
    x, w = RNG.standard_normal((2, 3, 8, 7)), RNG.standard_normal((4, 3, 3, 3))
    y = F.conv2d(torch.tensor(x), torch.tensor(w), None, stride, padding)
    dy = RNG.standard_normal(tuple(y.shape))
    dx, dw, db = ref.conv2d_backward(dy, x, w, stride, padding)
    np.testing.assert_allclose(dx, torch.nn.grad.conv2d_input(x.shape, torch.tensor(w), torch.tensor(dy), stride, padding), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, torch.nn.grad.conv2d_weight(torch.tensor(x), w.shape, torch.tensor(dy), stride, padding), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("n, k, s, p, d", [(32, 3, 1, 1, 1), (28, 5, 2, 0, 2), (7, 3, 2, 0, 2), (10, 4, 3, 2, 1)])
def test_reference_output_size_matches_torch(n: int, k: int, s: int, p: int, d: int):
    y = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
    assert ref.output_size(n, k, s, p, d) == y.shape[-1]
