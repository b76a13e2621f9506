"""Hidden checks of the probability topic: random sizes and values drawn per submission from the course secret.

Every draw is kept where each known mistake shows: priors that are not all 1, a Gamma scale and a Normal sigma away
from 1, samples of at least 3 points, covariances with strong correlations. The corners of each domain are always
there too, whatever the draw: zero probabilities, a point mass, size-1 axes, 1 x 1, singular and ill-conditioned
covariances, t = 0 and t next to the Gamma's 1/scale, a variable left out of a Gaussian conditioning, Chebyshev's
ratio at exactly 1.
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check
from checks.public.probability import (
    DISTRIBUTIONS_FORBID,
    judge_bayes_posterior,
    judge_chebyshev,
    judge_gaussian_condition,
    judge_gaussian_mle,
    judge_marginal,
    judge_mgf,
    judge_mvn_logpdf,
    judge_pmf_of_sum,
    judge_variance,
    random_cov,
    random_pmf,
)


def _away_from_one(t: Trial, low: float, high: float) -> float:
    """A number in [low, 0.7] or [1.4, high]: the parameter's mistaken use (as a rate, as a variance) must show."""
    return float(t.rng.uniform(low, 0.7) if t.rng.random() < 0.5 else t.rng.uniform(1.4, high))


def _with_zeros(t: Trial, p: np.ndarray, count: int) -> np.ndarray:
    """p with `count` random entries set to 0, renormalised."""
    p = p.copy()
    p.flat[t.rng.choice(p.size, count, replace=False)] = 0.0
    return p / p.sum()


def _ill_conditioned_cov(t: Trial, d: int) -> np.ndarray:
    """A random covariance with eigenvalues 1e-3 and the rest in [0.5, 2]: condition number about 1e3 (more, and
    correct answers by another route, an inverse instead of a Cholesky solve, leave the course tolerance)."""
    q = np.linalg.qr(t.rng.standard_normal((d, d)))[0]
    lam = np.append(1e-3, t.rng.uniform(0.5, 2.0, d - 1))
    s = q @ np.diag(lam) @ q.T
    return (s + s.T) / 2


@check("hidden_marginal", "marginal of random joint tables, then a table with zeros and a size-1 axis, summed out entirely")
def hidden_marginal(t: Trial) -> None:
    ndim = t.integer(2, 4)
    joint = random_pmf(t, tuple(t.integer(1, 5) for _ in range(ndim)))
    judge_marginal(t, joint, t.integer(-ndim, ndim - 1))
    judge_marginal(t, joint, tuple(int(i) for i in t.rng.choice(ndim, t.integer(1, ndim - 1), replace=False)))
    joint = _with_zeros(t, random_pmf(t, (t.integer(2, 4), 1, t.integer(2, 4))), 2)
    judge_marginal(t, joint, -2)
    judge_marginal(t, joint, (2, 0))
    judge_marginal(t, joint, (0, 1, 2))


@check("hidden_bayes_posterior", "bayes_posterior over a random number of hypotheses, then zero priors and likelihoods, a certain prior, K = 1 and a 2-D table")
def hidden_bayes_posterior(t: Trial) -> None:
    for _ in range(2):
        k = t.integer(2, 8)
        judge_bayes_posterior(t, t.rng.uniform(0.05, 3.0, k), random_pmf(t, k))
    k = t.integer(3, 8)
    lik, priors = t.rng.uniform(0.05, 3.0, k), random_pmf(t, k)
    i, j = t.rng.choice(k, 2, replace=False)
    lik[i], priors[j] = 0.0, 0.0  # a hypothesis the data rule out, and one the prior does
    judge_bayes_posterior(t, lik, priors / priors.sum())
    judge_bayes_posterior(t, t.rng.uniform(0.05, 3.0, k), np.eye(k)[i])  # a certain prior: the posterior is it
    judge_bayes_posterior(t, t.rng.uniform(0.05, 3.0, 1), np.ones(1))
    judge_bayes_posterior(t, t.rng.uniform(0.05, 3.0, (2, 3)), random_pmf(t, (2, 3)))


@check("hidden_variance_of_linear_combination", "variance_of_linear_combination on random covariances, then 1 x 1, singular (a in its null space) and ill-conditioned ones")
def hidden_variance_of_linear_combination(t: Trial) -> None:
    d = t.integer(1, 6)
    judge_variance(t, t.rng.standard_normal(d), random_cov(t, d))
    judge_variance(t, t.rng.standard_normal(1), np.array([[t.rng.uniform(0.1, 3.0)]]))
    d = t.integer(2, 5)
    v = t.rng.standard_normal(d)
    a = t.rng.standard_normal(d)
    a -= (a @ v) / (v @ v) * v  # orthogonal to v: a^T (v v^T) a = 0
    judge_variance(t, a, np.outer(v, v))
    judge_variance(t, t.rng.standard_normal(d), _ill_conditioned_cov(t, d))


@check("hidden_mgf", "mgf of every family at random parameters and t, then t = 0, parameters at the edges of their ranges and t next to 1/scale", forbid=DISTRIBUTIONS_FORBID)
def hidden_mgf(t: Trial) -> None:
    tt = t.rng.uniform(-1.5, 1.5, 4)
    judge_mgf(t, "bernoulli", tt, p=float(t.rng.uniform(0.05, 0.95)))
    judge_mgf(t, "binomial", tt, n=t.integer(1, 12), p=float(t.rng.uniform(0.05, 0.95)))
    judge_mgf(t, "poisson", tt, lam=float(t.rng.uniform(0.1, 6.0)))
    judge_mgf(t, "normal", np.append(tt, 1.0), mu=float(t.rng.normal()), sigma=_away_from_one(t, 0.2, 2.5))
    scale = _away_from_one(t, 0.2, 3.0)
    # Below min(scale, 1/scale): inside the domain of both the scale and the rate form, and one t far from 0.
    edge = 0.9 * min(scale, 1 / scale)
    shape = float(t.rng.uniform(0.5, 4.0))
    judge_mgf(t, "gamma", np.append(t.rng.uniform(-1.0, edge, 3), edge), shape=shape, scale=scale)
    corners = np.append(tt, 0.0)
    for p in (0.0, 1.0):
        judge_mgf(t, "bernoulli", corners, p=p)
    judge_mgf(t, "binomial", corners, n=0, p=float(t.rng.uniform(0.05, 0.95)))
    judge_mgf(t, "poisson", corners, lam=0.0)
    judge_mgf(t, "normal", 0.0, mu=float(t.rng.normal()), sigma=float(t.rng.uniform(0.2, 2.5)))
    judge_mgf(t, "gamma", np.array([0.0, 0.999 / scale]), shape=shape, scale=scale)


@check("hidden_pmf_of_sum", "pmf_of_sum of random pmfs, then point masses and zero entries", forbid=DISTRIBUTIONS_FORBID)
def hidden_pmf_of_sum(t: Trial) -> None:
    judge_pmf_of_sum(t, random_pmf(t, t.integer(1, 10)), random_pmf(t, t.integer(1, 10)))
    m, n = t.integer(3, 8), t.integer(3, 8)
    p, q = _with_zeros(t, random_pmf(t, m), 1), _with_zeros(t, random_pmf(t, n), 1)
    p[0] = 0.0  # X >= 1: the sum starts at 1
    judge_pmf_of_sum(t, p / p.sum(), q)
    judge_pmf_of_sum(t, np.ones(1), q)  # X = 0: the pmf of Y itself
    judge_pmf_of_sum(t, q, np.eye(m)[m - 1])  # Y = m - 1: q moved right by m - 1


@check("hidden_mvn_logpdf", "mvn_logpdf and its gradients on random shapes and covariances, then d = 1, one point and an ill-conditioned Sigma", forbid=DISTRIBUTIONS_FORBID)
def hidden_mvn_logpdf(t: Trial) -> None:
    d = t.integer(1, 5)
    batch = tuple(t.integer(1, 4) for _ in range(t.integer(0, 2)))
    judge_mvn_logpdf(t, t.rng.standard_normal((*batch, d)), t.rng.standard_normal(d), random_cov(t, d))
    judge_mvn_logpdf(t, t.rng.standard_normal((t.integer(1, 4), 1)), t.rng.standard_normal(1), np.array([[t.rng.uniform(0.1, 3.0)]]))
    d = t.integer(2, 4)
    judge_mvn_logpdf(t, t.rng.standard_normal(d), t.rng.standard_normal(d), _ill_conditioned_cov(t, d))


@check("hidden_gaussian_mle", "gaussian_mle of random samples, then n = 2, n = 1 and d = 1", forbid=DISTRIBUTIONS_FORBID)
def hidden_gaussian_mle(t: Trial) -> None:
    n, d = t.integer(3, 30), t.integer(1, 5)
    judge_gaussian_mle(t, t.rng.standard_normal((n, d)) * t.rng.uniform(0.5, 3.0, d) + t.rng.standard_normal(d))
    judge_gaussian_mle(t, t.rng.standard_normal((2, d)))
    judge_gaussian_mle(t, t.rng.standard_normal((1, d)))
    judge_gaussian_mle(t, t.rng.standard_normal((n, 1)))


@check("hidden_gaussian_condition", "gaussian_condition on random splits of a random Gaussian, then 1 x 1 blocks with a variable left out and an ill-conditioned Sigma_bb")
def hidden_gaussian_condition(t: Trial) -> None:
    d = t.integer(2, 6)
    order = [int(i) for i in t.rng.permutation(d)]
    na = t.integer(1, d - 1)
    nb = t.integer(1, d - na)  # the rest, if any, is marginalised out
    a, b = order[:na], order[na : na + nb]
    mu, Sigma = t.rng.standard_normal(d), random_cov(t, d)
    judge_gaussian_condition(t, mu, Sigma, a, b, mu[b] + t.rng.standard_normal(nb))
    i, j = (int(v) for v in t.rng.choice(3, 2, replace=False))  # the third index is left out
    mu, Sigma = t.rng.standard_normal(3), random_cov(t, 3)
    judge_gaussian_condition(t, mu, Sigma, [i], [j], mu[[j]] + t.rng.standard_normal(1))
    # x = G z with two rows of G 0.1 apart: the two observed variables are nearly collinear, Sigma_bb ill-conditioned.
    d = t.integer(3, 5)
    b = [int(v) for v in t.rng.choice(d, 2, replace=False)]
    a = [v for v in range(d) if v not in b]
    G = t.rng.standard_normal((d, d))
    G[b[1]] = G[b[0]] + 0.1 * t.rng.standard_normal(d)
    mu = t.rng.standard_normal(d)
    judge_gaussian_condition(t, mu, G @ G.T, a, b, mu[b] + G[b] @ t.rng.standard_normal(d))  # a likely x_b


@check("hidden_chebyshev_bound", "chebyshev_bound at random variances and distances, then variance 0 and the ratio at, just below and just above 1")
def hidden_chebyshev_bound(t: Trial) -> None:
    for _ in range(3):
        judge_chebyshev(t, float(t.rng.uniform(0.0, 4.0)), float(t.rng.uniform(0.2, 3.0)))
    eps = 2.0 ** t.integer(-3, 3)  # a power of 2: variance / eps^2 is exactly 1
    judge_chebyshev(t, 0.0, float(t.rng.uniform(0.2, 3.0)))
    for ratio in (1.0, 0.999, 1.001):
        judge_chebyshev(t, ratio * eps**2, eps)
