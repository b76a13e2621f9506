"""Hidden checks of the probability topic: random sizes and values drawn per submission from the course secret.

Every draw is kept where each known mistake shows: priors that are not all 1, a Gamma scale and a Normal sigma away
from 1, samples of at least 3 points, covariances with strong correlations.
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check
from checks.public.probability import (
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


def _int(t: Trial, low: int, high: int) -> int:
    return int(t.rng.integers(low, high + 1))


def _away_from_one(t: Trial, low: float, high: float) -> float:
    """A number in [low, 0.7] or [1.4, high]: the parameter's mistaken use (as a rate, as a variance) must show."""
    return float(t.rng.uniform(low, 0.7) if t.rng.random() < 0.5 else t.rng.uniform(1.4, high))


@check("hidden_marginal", "marginal of random joint tables")
def hidden_marginal(t: Trial) -> None:
    ndim = _int(t, 2, 4)
    joint = random_pmf(t, tuple(_int(t, 1, 5) for _ in range(ndim)))
    judge_marginal(t, joint, _int(t, -ndim, ndim - 1))
    judge_marginal(t, joint, tuple(int(i) for i in t.rng.choice(ndim, _int(t, 1, ndim - 1), replace=False)))


@check("hidden_bayes_posterior", "bayes_posterior over a random number of hypotheses")
def hidden_bayes_posterior(t: Trial) -> None:
    for _ in range(2):
        k = _int(t, 2, 8)
        judge_bayes_posterior(t, t.rng.uniform(0.05, 3.0, k), random_pmf(t, k))


@check("hidden_variance_of_linear_combination", "variance_of_linear_combination on random covariances")
def hidden_variance_of_linear_combination(t: Trial) -> None:
    d = _int(t, 1, 6)
    judge_variance(t, t.rng.standard_normal(d), random_cov(t, d))


@check("hidden_mgf", "mgf of every family at random parameters and t")
def hidden_mgf(t: Trial) -> None:
    tt = t.rng.uniform(-1.5, 1.5, 4)
    judge_mgf(t, "bernoulli", tt, p=float(t.rng.uniform(0.05, 0.95)))
    judge_mgf(t, "binomial", tt, n=_int(t, 1, 12), p=float(t.rng.uniform(0.05, 0.95)))
    judge_mgf(t, "poisson", tt, lam=float(t.rng.uniform(0.1, 6.0)))
    judge_mgf(t, "normal", np.append(tt, 1.0), mu=float(t.rng.normal()), sigma=_away_from_one(t, 0.2, 2.5))
    scale = _away_from_one(t, 0.2, 3.0)
    # Below min(scale, 1/scale): inside the domain of both the scale and the rate form, and one t far from 0.
    edge = 0.9 * min(scale, 1 / scale)
    judge_mgf(t, "gamma", np.append(t.rng.uniform(-1.0, edge, 3), edge), shape=float(t.rng.uniform(0.5, 4.0)), scale=scale)


@check("hidden_pmf_of_sum", "pmf_of_sum of random pmfs")
def hidden_pmf_of_sum(t: Trial) -> None:
    judge_pmf_of_sum(t, random_pmf(t, _int(t, 1, 10)), random_pmf(t, _int(t, 1, 10)))


@check("hidden_mvn_logpdf", "mvn_logpdf and its gradients on random shapes and covariances")
def hidden_mvn_logpdf(t: Trial) -> None:
    d = _int(t, 1, 5)
    batch = tuple(_int(t, 1, 4) for _ in range(_int(t, 0, 2)))
    judge_mvn_logpdf(t, t.rng.standard_normal((*batch, d)), t.rng.standard_normal(d), random_cov(t, d))


@check("hidden_gaussian_mle", "gaussian_mle of random samples")
def hidden_gaussian_mle(t: Trial) -> None:
    n, d = _int(t, 3, 30), _int(t, 1, 5)
    judge_gaussian_mle(t, t.rng.standard_normal((n, d)) * t.rng.uniform(0.5, 3.0, d) + t.rng.standard_normal(d))


@check("hidden_gaussian_condition", "gaussian_condition on random splits of a random Gaussian")
def hidden_gaussian_condition(t: Trial) -> None:
    d = _int(t, 2, 6)
    order = [int(i) for i in t.rng.permutation(d)]
    na = _int(t, 1, d - 1)
    nb = _int(t, 1, d - na)  # the rest, if any, is marginalised out
    a, b = order[:na], order[na : na + nb]
    mu, Sigma = t.rng.standard_normal(d), random_cov(t, d)
    judge_gaussian_condition(t, mu, Sigma, a, b, mu[b] + t.rng.standard_normal(nb))


@check("hidden_chebyshev_bound", "chebyshev_bound at random variances and distances")
def hidden_chebyshev_bound(t: Trial) -> None:
    for _ in range(3):
        judge_chebyshev(t, float(t.rng.uniform(0.0, 4.0)), float(t.rng.uniform(0.2, 3.0)))
