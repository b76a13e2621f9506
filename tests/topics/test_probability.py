"""The probability topic end to end: reference, stub, every known mistake, and the reference itself against
torch.distributions and numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Binomial, Gamma, MultivariateNormal, Normal, Poisson

from autograder.engine.results import FAILED
from solutions import probability as ref

from conftest import grade_source
from mistakes import known_mistakes

TOPIC = "probability"


KNOWN = known_mistakes(TOPIC)


def test_failures_say_what_was_called_and_how_far_off(grader):
    """A wrong answer that is no known mistake still gets the call, the shapes, got and expected."""
    source = KNOWN["mle_unbiased_covariance"].source.replace("(X.shape[0] - 1)", "(X.shape[0] + 1)")
    result = grade_source(grader, source, topic=TOPIC)
    check = next(c for c in result.checks if c.id == "gaussian_mle")
    assert check.status == FAILED and check.mistake is None
    assert check.message.startswith("gaussian_mle(X) with X of shape (7, 3)[1] (cov): worst at index")
    assert "expected" in check.message and "rel err" in check.message


# ---- the reference against the libraries it must agree with -----------------------------------------------------

RNG = np.random.default_rng(0)


def test_reference_marginal_and_bayes_match_the_definitions():
    joint = RNG.random((3, 4, 2))
    joint /= joint.sum()
    np.testing.assert_allclose(ref.marginal(joint, (0, 2)), np.einsum("ijk->j", joint), rtol=1e-12)
    np.testing.assert_allclose(ref.marginal(joint, -1), joint.sum(axis=2), rtol=1e-12)
    # Bayes from the joint table P(Y, X_1, X_2): P(X = (1, 0) | Y) P(Y) is the column joint[:, 1, 0].
    p_y = ref.marginal(joint, (1, 2))
    lik = joint[:, 1, 0] / p_y
    np.testing.assert_allclose(ref.bayes_posterior(lik, p_y), joint[:, 1, 0] / joint[:, 1, 0].sum(), rtol=1e-12)


@pytest.mark.parametrize(
    "dist, params, torch_dist",
    [
        ("binomial", {"n": 6, "p": 0.3}, Binomial(6, torch.tensor(0.3, dtype=torch.float64))),
        ("poisson", {"lam": 2.5}, Poisson(torch.tensor(2.5, dtype=torch.float64))),
        ("normal", {"mu": 0.5, "sigma": 1.5}, Normal(torch.tensor(0.5, dtype=torch.float64), torch.tensor(1.5, dtype=torch.float64))),
        # torch's Gamma takes the rate: scale 0.5 is rate 2, mean shape * scale = 1.25.
        ("gamma", {"shape": 2.5, "scale": 0.5}, Gamma(torch.tensor(2.5, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64))),
    ],
)
def test_reference_mgf_matches_torch_moments_and_samples(dist, params, torch_dist):
    """M'(0) is the mean, M''(0) - M'(0)^2 the variance (central differences), and M(t) the mean of exp(tX)."""
    h = 1e-4
    m_minus, m0, m_plus = (float(ref.mgf(dist, s, **params)) for s in (-h, 0.0, h))
    mean, second = (m_plus - m_minus) / (2 * h), (m_plus - 2 * m0 + m_minus) / h**2
    assert m0 == 1.0
    assert mean == pytest.approx(float(torch_dist.mean), rel=1e-6)
    assert second - mean**2 == pytest.approx(float(torch_dist.variance), rel=1e-5)
    torch.manual_seed(0)
    n, t = 200_000, 0.3
    sample = torch.exp(t * torch_dist.sample((n,)))
    se = float(sample.std()) / math.sqrt(n)
    assert abs(float(ref.mgf(dist, t, **params)) - float(sample.mean())) < 5 * se


def test_reference_mgf_refuses_the_gamma_past_its_domain():
    """E[exp(tX)] = int x^(k-1) exp(x (t - 1/scale)) dx / ...: infinite from t = 1/scale on, t = 1/scale included."""
    ref.mgf("gamma", np.array([1.99]), shape=3.0, scale=0.5)
    with pytest.raises(ValueError, match="mgf: the gamma MGF is infinite for t >= 1 / scale = 2"):
        ref.mgf("gamma", np.array([0.0, 2.0]), shape=3.0, scale=0.5)


def test_reference_pmf_of_sum_turns_poissons_into_a_poisson():
    k = torch.arange(60, dtype=torch.float64)
    p, q, r = (Poisson(torch.tensor(lam, dtype=torch.float64)).log_prob(k).exp().numpy() for lam in (1.2, 2.3, 3.5))
    np.testing.assert_allclose(ref.pmf_of_sum(p, q)[:60], r, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(ref.pmf_of_sum(p, q), np.convolve(p, q), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("batch", [(), (5,), (2, 3)])
def test_reference_mvn_logpdf_matches_torch(batch):
    d = 3
    A = torch.tensor(RNG.standard_normal((d, d)))
    Sigma = (A @ A.T + 0.5 * torch.eye(d, dtype=torch.float64)).requires_grad_()
    mu = torch.tensor(RNG.standard_normal(d), requires_grad=True)
    x = torch.tensor(RNG.standard_normal((*batch, d)), requires_grad=True)
    ours, theirs = ref.mvn_logpdf(x, mu, Sigma), MultivariateNormal(mu, covariance_matrix=Sigma).log_prob(x)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    g = torch.tensor(RNG.standard_normal(batch))
    for a, b in zip(torch.autograd.grad(ours, (x, mu, Sigma), g), torch.autograd.grad(theirs, (x, mu, Sigma), g)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_reference_mvn_logpdf_keeps_float32():
    Sigma = torch.tensor([[2.0, 0.5], [0.5, 1.0]])
    out = ref.mvn_logpdf(torch.zeros(4, 2), torch.zeros(2), Sigma)
    assert out.dtype == torch.float32 and out.shape == (4,)
    torch.testing.assert_close(out, MultivariateNormal(torch.zeros(2), Sigma).log_prob(torch.zeros(4, 2)))


def test_reference_gaussian_mle_matches_numpy_and_torch():
    X = RNG.standard_normal((9, 3))
    mean, cov = ref.gaussian_mle(X)
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(X, rowvar=False, bias=True), rtol=1e-12)
    np.testing.assert_allclose(cov * 9 / 8, torch.cov(torch.tensor(X).T).numpy(), rtol=1e-12)  # unbiased: n - 1


def test_reference_gaussian_condition_matches_the_precision_form_and_a_regression():
    d, a, b = 5, [3, 0], [4, 1]
    A = RNG.standard_normal((d, d))
    Sigma, mu, x_b = A @ A.T + 0.3 * np.eye(d), RNG.standard_normal(d), RNG.standard_normal(2)
    mean, cov = ref.gaussian_condition(mu, Sigma, a, b, x_b)
    Lam = np.linalg.inv(Sigma[np.ix_(a + b, a + b)])
    np.testing.assert_allclose(cov, np.linalg.inv(Lam[:2, :2]), rtol=1e-9)
    np.testing.assert_allclose(mean, mu[a] - np.linalg.solve(Lam[:2, :2], Lam[:2, 2:] @ (x_b - mu[b])), rtol=1e-9)
    # torch's MultivariateNormal agrees: log p(x_a, x_b) - log p(x_b) = log N(x_a; mean, cov).
    x_a = RNG.standard_normal(2)
    joint = MultivariateNormal(torch.tensor(mu[a + b]), torch.tensor(Sigma[np.ix_(a + b, a + b)])).log_prob(torch.tensor(np.r_[x_a, x_b]))
    marginal_b = MultivariateNormal(torch.tensor(mu[b]), torch.tensor(Sigma[np.ix_(b, b)])).log_prob(torch.tensor(x_b))
    conditional = MultivariateNormal(torch.tensor(mean), torch.tensor(cov)).log_prob(torch.tensor(x_a))
    assert float(joint - marginal_b) == pytest.approx(float(conditional), rel=1e-10)


def test_gaussian_condition_restricts_then_inverts():
    """The docstring's rule: with an index left out, the precision of the whole Sigma conditions on it too."""
    Sigma = np.array([[2.0, 0.8, 0.6], [0.8, 1.0, 0.5], [0.6, 0.5, 1.5]])  # the docstring's example, and a third variable
    _, cov = ref.gaussian_condition(np.zeros(3), Sigma, [0], [1], np.array([2.0]))
    assert cov[0, 0] == pytest.approx(1.36, rel=1e-12)
    assert 1 / np.linalg.inv(Sigma[:2, :2])[0, 0] == pytest.approx(1.36, rel=1e-12)  # restrict, then invert
    assert 1 / np.linalg.inv(Sigma)[0, 0] == pytest.approx(1.328, rel=1e-12)  # invert, then restrict: Var[x_0 | x_1, x_2]
    _, given_both = ref.gaussian_condition(np.zeros(3), Sigma, [0], [1, 2], np.zeros(2))
    assert given_both[0, 0] == pytest.approx(1.328, rel=1e-12)


@pytest.mark.parametrize("variance, eps", [(0.5, 1.0), (1.0, 1.0), (4.0, 1.0)])
def test_chebyshev_is_attained_as_the_docstring_says(variance: float, eps: float):
    """sigma <= eps: +-eps with probability sigma^2 / (2 eps^2) each, else 0; sigma > eps: +-sigma, half each."""
    sigma = math.sqrt(variance)
    if sigma <= eps:
        values, probs = np.array([-eps, 0.0, eps]), np.array([variance / (2 * eps**2), 1 - variance / eps**2, variance / (2 * eps**2)])
    else:
        values, probs = np.array([-sigma, sigma]), np.array([0.5, 0.5])
    assert probs.min() >= 0 and probs @ values == 0 and probs @ values**2 == pytest.approx(variance)
    assert probs[np.abs(values) >= eps].sum() == pytest.approx(ref.chebyshev_bound(variance, eps))


def test_bayes_posterior_takes_any_shape():
    lik, priors = RNG.uniform(0.1, 2.0, (2, 3)), RNG.uniform(0.1, 1.0, (2, 3))
    priors /= priors.sum()
    post = ref.bayes_posterior(lik, priors)
    assert post.shape == (2, 3)
    np.testing.assert_allclose(post.ravel(), ref.bayes_posterior(lik.ravel(), priors.ravel()), rtol=1e-14)


def test_reference_chebyshev_holds_for_torch_samples():
    torch.manual_seed(1)
    x = Gamma(torch.tensor(2.0), torch.tensor(1.0)).sample((100_000,))  # mean 2, variance 2
    for eps in (1.5, 2.0, 3.0):
        assert float(((x - 2.0).abs() >= eps).double().mean()) <= ref.chebyshev_bound(2.0, eps)
    assert ref.chebyshev_bound(2.0, 1.0) == 1.0  # 2 / 1, capped


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ref.marginal([[0.5, 0.6]], 0), "marginal: joint must hold probabilities"),
        (lambda: ref.marginal([[0.5, 0.5]], 2), "marginal: axis must be distinct ints"),
        (lambda: ref.bayes_posterior([0.0, 1.0], [1.0, 0.0]), "bayes_posterior: the evidence"),
        (lambda: ref.variance_of_linear_combination([1.0, 1.0], [[1.0, 0.0], [0.0, -1.0]]), "variance_of_linear_combination: cov must be positive semi-definite"),
        (lambda: ref.mgf("normal", 1.0, mu=0.0, sigma=-1.0), "mgf: normal needs a standard deviation sigma > 0"),
        (lambda: ref.mgf("gamma", 1.0, shape=1.0, rate=1.0), "mgf: gamma takes the parameters ('shape', 'scale')"),
        (lambda: ref.pmf_of_sum([1.0], [[1.0]]), "pmf_of_sum: p and q must be 1-D"),
        (lambda: ref.mvn_logpdf(torch.zeros(2), torch.zeros(2), torch.tensor([[1.0, 1.0], [1.0, 1.0]])), "mvn_logpdf: Sigma must be positive definite"),
        (lambda: ref.gaussian_mle(np.zeros((0, 2))), "gaussian_mle: X must be (n, d) with n >= 1"),
        (lambda: ref.gaussian_condition(np.zeros(3), np.eye(3), [0], [0], [1.0]), "gaussian_condition: idx_a and idx_b must be"),
        (lambda: ref.chebyshev_bound(1.0, 0.0), "chebyshev_bound: expected a finite variance >= 0 and eps > 0"),
    ],
)
def test_reference_errors_name_the_function_and_argument(call, message: str):
    with pytest.raises(ValueError) as info:
        call()
    assert type(info.value) is ValueError and str(info.value).startswith(message)
