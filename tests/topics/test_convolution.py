"""The convolution topic end to end: reference, stub, every known mistake, the example, and the reference itself
against numpy/torch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.course.submission import Submission
from autograder.engine.results import NOT_ATTEMPTED, without_timings
from autograder.reports.renderers import render
from solutions import convolution as ref

from conftest import ROOT, grade_source
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
    assert "known mistake: kernel-flip" in text and "todo: not attempted" in text


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
