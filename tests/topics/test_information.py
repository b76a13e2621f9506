"""The information topic end to end: reference, stub, every known mistake, and the reference itself against torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, Independent, Normal, kl_divergence

from autograder.engine.results import FAILED, PASSED
from checks.public.information import corner_rows, general_gaussian_kl, kl_by_ratio
from solutions import information as ref

from conftest import ROOT, grade_source, wrapped
from mistakes import known_mistakes

TOPIC = "information"
REFERENCE = (ROOT / "solutions" / f"{TOPIC}.py").read_text()


KNOWN = known_mistakes(TOPIC)


def test_messages_say_which_function_input_and_values(grader):
    result = grade_source(grader, KNOWN["kl_zero_log_zero"].source, TOPIC)
    message = next(c.message for c in result.checks if c.id == "kl_infinite")
    assert message.startswith("kl_divergence(p, q) with p = [[")
    assert "got NaN at index (0,), expected inf" in message and "0 log 0 = 0" in message
    swapped = grade_source(grader, KNOWN["kl_swapped"].source, TOPIC)
    message = next(c.message for c in swapped.checks if c.id == "kl_divergence")
    assert "your answer matches a known mistake: the KL divergence has its arguments swapped" in message


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # compare.py's rel err of inf vs finite
def test_a_finite_answer_where_kl_is_infinite_is_explained(grader):
    """A KL that skips the outcomes where q = 0 is wrong without being a named mistake: the message says why."""
    source = KNOWN["kl_swapped"].source.replace(
        "return np.sum(_xlogy(q, q) - _xlogy(q, p), axis=-1)", "return np.sum(_xlogy(p, p) - _xlogy(p, np.where(q > 0, q, 1.0)), axis=-1)"
    )
    result = grade_source(grader, source, TOPIC)
    check = next(c for c in result.checks if c.id == "kl_infinite")
    assert check.status == FAILED and check.mistake is None
    assert "expected inf" in check.message and "p is not absolutely continuous with respect to q" in check.message


# ---- the reference against the libraries it must agree with -----------------------------------------------------

RNG = np.random.default_rng(0)


def _rows(shape: tuple[int, ...], zeros: int = 0) -> np.ndarray:
    w = RNG.uniform(0.05, 1.0, shape)
    w[RNG.random(shape).argsort(axis=-1) < zeros] = 0.0
    return w / w.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("zeros", [0, 2])
def test_reference_discrete_matches_torch(zeros: int):
    p, q = _rows((5, 6), zeros), _rows((5, 6))
    tp, tq = torch.tensor(p), torch.tensor(q)
    np.testing.assert_allclose(ref.entropy(p), Categorical(probs=tp).entropy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ref.entropy(p), torch.special.entr(tp).sum(-1), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ref.cross_entropy(p, q), -torch.special.xlogy(tp, tq).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(ref.kl_divergence(p, q), kl_divergence(Categorical(probs=tp), Categorical(probs=tq)), rtol=1e-10, atol=1e-14)
    # F.kl_div(input, target) is KL(target||input), with input given as log-probabilities.
    np.testing.assert_allclose(ref.kl_divergence(p, q), F.kl_div(tq.log(), tp, reduction="none").sum(-1), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ref.cross_entropy(p, q), ref.entropy(p) + ref.kl_divergence(p, q), rtol=1e-12)


def test_reference_infinite_exactly_where_torch_is():
    p = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])
    q = np.array([[0.5, 0.0, 0.5], [0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    want = kl_divergence(Categorical(probs=torch.tensor(p)), Categorical(probs=torch.tensor(q))).numpy()
    np.testing.assert_array_equal(np.isinf(want), [True, False, True])
    np.testing.assert_allclose(ref.kl_divergence(p, q), want, rtol=1e-12)
    np.testing.assert_allclose(ref.cross_entropy(p, q), -torch.special.xlogy(torch.tensor(p), torch.tensor(q)).sum(-1), rtol=1e-12)


def test_reference_kl_is_finite_for_a_subnormal_q():
    """p / q overflows for q = 5e-324 (the checks name that mistake, kl_by_ratio); ln q does not."""
    with np.errstate(divide="ignore", over="ignore"):
        assert np.isinf(np.sum(0.5 * np.log(np.array([0.5, 0.5]) / [1.0, 5e-324])))
    want = 0.5 * math.log(0.5) * 2 - 0.5 * math.log(5e-324)
    assert round(want, 3) == 371.527
    np.testing.assert_allclose(ref.kl_divergence([0.5, 0.5], [1.0, 5e-324]), want, rtol=1e-14)
    np.testing.assert_allclose(ref.cross_entropy([0.5, 0.5], [1.0, 5e-324]), -0.5 * math.log(5e-324), rtol=1e-14)
    p, q = corner_rows(np.random.default_rng(3), 5)
    assert q[2].min() == 5e-324 and np.isinf(kl_by_ratio(p, q)[2])
    np.testing.assert_allclose(ref.kl_divergence(p, q), ref.cross_entropy(p, q) - ref.entropy(p), rtol=1e-12, atol=1e-14)
    assert np.all(np.isfinite(ref.kl_divergence(p, q))) and ref.kl_divergence(p, q)[1] == 0.0


def test_reference_broadcasts_batch_axes():
    p, q = _rows((2, 1, 4), 1), _rows((3, 4))
    got = ref.kl_divergence(p, q)
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got[1, 2], ref.kl_divergence(p[1, 0], q[2]), rtol=1e-14)
    assert ref.entropy(p).shape == (2, 1) and ref.cross_entropy(p[0, 0], q).shape == (3,)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("scale", [3.0, 1e3, 1e4])
def test_reference_softmax_cross_entropy_matches_torch(dtype: torch.dtype, scale: float):
    logits = (scale * torch.tensor(RNG.standard_normal((6, 5)))).to(dtype)
    targets = torch.tensor(RNG.integers(0, 5, 6))
    x, y = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    got, want = ref.softmax_cross_entropy(x, targets), F.cross_entropy(y, targets)
    got.backward()
    want.backward()
    assert got.dtype == dtype and got.shape == ()
    rtol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(got, want, rtol=rtol, atol=1e-12)
    torch.testing.assert_close(x.grad, y.grad, rtol=rtol, atol=1e-12)
    assert torch.isfinite(got) and torch.isfinite(x.grad).all()


def test_softmax_twice_gives_the_documented_numbers():
    logits, target = torch.tensor([[2.0, 0.0, 0.0]], dtype=torch.float64), torch.tensor([0])
    assert round(ref.softmax_cross_entropy(logits, target).item(), 4) == 0.2395
    assert round(F.cross_entropy(torch.softmax(logits, dim=-1), target).item(), 4) == 0.6995


def test_reference_gaussian_kl_matches_torch_and_the_general_formula():
    mu1, mu2 = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    var1, var2 = RNG.uniform(0.2, 3.0, (4, 3)), RNG.uniform(0.2, 3.0, (4, 3))

    def normal(mu, var):
        return Independent(Normal(torch.tensor(mu), torch.tensor(var).sqrt()), 1)

    got = ref.gaussian_kl(mu1, var1, mu2, var2)
    np.testing.assert_allclose(got, kl_divergence(normal(mu1, var1), normal(mu2, var2)), rtol=1e-12)
    np.testing.assert_allclose(got, [general_gaussian_kl(*rows) for rows in zip(mu1, var1, mu2, var2)], rtol=1e-10)
    np.testing.assert_allclose(ref.gaussian_kl(mu1, var1, 0.0, 1.0), kl_divergence(normal(mu1, var1), normal(np.zeros(3), np.ones(3))), rtol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ref.entropy(np.array(1.0)), "entropy: p must have at least one axis"),
        (lambda: ref.entropy([0.5, 0.6, -0.1]), "entropy: p has a negative entry"),
        (lambda: ref.entropy([0.5, 0.5 + 2e-6]), "entropy: every row of p must sum to 1"),
        (lambda: ref.cross_entropy([0.5, 0.5], [0.4, 0.4]), "cross_entropy: every row of q must sum to 1"),
        (lambda: ref.kl_divergence([0.5, 0.5], [1.0]), "kl_divergence: p and q must have as many outcomes"),
        (lambda: ref.kl_divergence(np.full((2, 2), 0.5), np.full((3, 2), 0.5)), "kl_divergence: the batch axes of p"),
        (lambda: ref.softmax_cross_entropy(torch.zeros(3), torch.tensor([0])), "softmax_cross_entropy: logits must have shape"),
        (lambda: ref.softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0])), "softmax_cross_entropy: targets must have shape"),
        (lambda: ref.softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0.0, 1.0])), "softmax_cross_entropy: targets must hold integer"),
        (lambda: ref.softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 3])), "softmax_cross_entropy: targets must lie in 0 .. 2"),
        (lambda: ref.gaussian_kl([0.0], [0.0], [0.0], [1.0]), "gaussian_kl: variances must be > 0"),
        (lambda: ref.gaussian_kl([0.0, 0.0], [1.0, 1.0], [0.0], [1.0, 1.0, 1.0]), "gaussian_kl: shapes"),
        (lambda: ref.gaussian_kl(0.0, 1.0, 0.0, 1.0), "gaussian_kl: the inputs are all scalars"),
    ],
    ids=["scalar", "negative", "sum", "q-sum", "outcomes", "batch", "logits-1d", "targets-shape", "targets-float", "targets-range", "variance", "broadcast", "scalars"],
)
def test_reference_rejects_bad_input_naming_function_and_argument(call, message: str):
    with pytest.raises(ValueError, match=message):
        call()


# ---- what a function returns is part of its contract: the loss stays a tensor so that gradients flow ----------------


@pytest.mark.parametrize(
    "fn, result, checks, message",
    [
        pytest.param("softmax_cross_entropy", "y.item()", ["softmax_cross_entropy", "softmax_cross_entropy_contract"], "returned a Python float; softmax_cross_entropy must return a torch.Tensor so gradients flow", id="item-for-tensor"),
        pytest.param("entropy", "float(y) if y.ndim == 0 else y", ["entropy"], None, id="float-for-0-d-array"),
        pytest.param("kl_divergence", "torch.from_numpy(np.asarray(y))", ["kl_divergence"], "kl_divergence must return", id="tensor-for-numpy"),
    ],
)
def test_an_answer_of_another_kind_than_the_references_fails_saying_what_was_returned(grader, fn: str, result: str, checks: list[str], message: str | None):
    graded = grade_source(grader, REFERENCE + wrapped(fn, result), TOPIC, checks=checks)
    failed = {c.id: c.message for c in graded.checks if c.status != PASSED}
    if message is None:
        assert failed == {}
    else:
        assert set(failed) == set(checks) and all(message in m and "raised" not in m for m in failed.values()), failed
