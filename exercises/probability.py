"""Probability: the sum rule, Bayes' rule, moments, moment generating functions and the Gaussian.

Discrete distributions are arrays of probabilities: entries >= 0 that sum to 1 (within 1e-5, np.isclose's default
tolerance). A joint table P(X, Y) has one axis per variable.

    sum rule         P(X = x_i) = sum_j P(X = x_i, Y = y_j)
    Bayes' rule      P(Y_i | X) = P(X | Y_i) P(Y_i) / sum_j P(X | Y_j) P(Y_j)     (the evidence weighs in the priors)
    linear maps      Var[a^T X] = a^T Cov[X] a                                     (never negative: Cov is p.s.d.)
    MGF              M_X(t) = E[exp(t X)]; for independent X, Y: M_{X+Y} = M_X M_Y, and the pmf of X + Y is the
                     convolution of the pmfs
    Chebyshev        P(|X - mu| >= eps) <= sigma^2 / eps^2                         (finite variance sigma^2)

The multivariate normal N(mu, Sigma) in d dimensions has density (2 pi)^(-d/2) |Sigma|^(-1/2)
exp(-(x - mu)^T Sigma^-1 (x - mu) / 2). Its maximum-likelihood estimates are the sample mean and the covariance that
divides by n (biased). Conditioning on a block x_b keeps it Gaussian, with the Schur complement as covariance:

    mu_{a|b} = mu_a + Sigma_ab Sigma_bb^-1 (x_b - mu_b),      Sigma_{a|b} = Sigma_aa - Sigma_ab Sigma_bb^-1 Sigma_ba.

Everything is float64 numpy except mvn_logpdf, which takes and returns torch tensors so that autograd can
differentiate it. Invalid inputs raise ValueError naming the function and the argument. Where a library computes a
whole exercise (torch.distributions, scipy.stats), the function's docstring says it is not allowed, and the checks
refuse it by name.

Arguments are read-only: no function changes an array or tensor it is given (it returns new ones); a change made
in place fails the check it happens in, named as the mistake modifies-input.
"""

from __future__ import annotations

import math  # noqa: F401 - yours to use

import numpy as np
import torch

__all__ = [
    "marginal",
    "bayes_posterior",
    "variance_of_linear_combination",
    "mgf",
    "pmf_of_sum",
    "mvn_logpdf",
    "gaussian_mle",
    "gaussian_condition",
    "chebyshev_bound",
]


def marginal(joint: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    """Sum rule: sum the variables on `axis` out of a joint probability table.

        P(X = x_i) = sum_j P(X = x_i, Y = y_j)

    `axis` names the variables to remove, as in np.sum: for a table P(X, Y) of shape (|X|, |Y|), axis=1 gives
    P(X) and axis=0 gives P(Y). A tuple removes several variables at once; negative axes count from the end.

    Args:
        joint: joint probabilities, an array of any shape with one axis per variable, entries >= 0 summing to 1.
        axis: an int or a tuple of distinct ints, each in [-joint.ndim, joint.ndim).

    Returns:
        The marginal table, float64, with the summed axes removed (summing out every axis gives 1.0).

    Raises:
        ValueError: joint has a negative entry or does not sum to 1 (within 1e-5); an axis is out of range or repeated.

    Example:
        >>> joint = np.array([[0.1, 0.2, 0.1], [0.3, 0.1, 0.2]])  # P(X, Y), |X| = 2, |Y| = 3
        >>> marginal(joint, 1)  # P(X)
        array([0.4, 0.6])
        >>> marginal(joint, 0)  # P(Y)
        array([0.4, 0.3, 0.3])
    """
    raise NotImplementedError("marginal: sum the joint table over the given axes")


def bayes_posterior(likelihoods: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Bayes' rule over K hypotheses Y_1 .. Y_K, given one observation X.

        P(Y_i | X) = P(X | Y_i) P(Y_i) / sum_j P(X | Y_j) P(Y_j)

    The denominator is the evidence P(X), the sum rule applied to the joint P(X, Y_j) = P(X | Y_j) P(Y_j): the priors
    weigh it too. A hypothesis with prior 0 or likelihood 0 gets posterior 0.

    Args:
        likelihoods: P(X | Y_i), shape (K,): values of a pmf or of a density at the observation, each >= 0 (they
            need not sum to 1).
        priors: P(Y_i), shape (K,), entries >= 0 summing to 1. (Any shape works, the same for both arguments: each
            entry is one hypothesis.)

    Returns:
        The posterior P(Y_i | X), float64, of the shape of priors ((K,) for a list of K hypotheses), summing to 1.

    Raises:
        ValueError: the shapes differ; a likelihood is negative or not finite; priors has a negative entry or does
            not sum to 1 (within 1e-5); the evidence is 0 (every hypothesis with a prior > 0 has likelihood 0).

    Example:
        A test with sensitivity 0.9 and false-positive rate 0.2 comes back positive; the prevalence is 0.1:

        >>> bayes_posterior([0.9, 0.2], [0.1, 0.9])  # (P(ill | +), P(healthy | +)) = (0.09, 0.18) / 0.27
        array([0.33333333, 0.66666667])
    """
    raise NotImplementedError("bayes_posterior: likelihood times prior, divided by the evidence")


def variance_of_linear_combination(a: np.ndarray, cov: np.ndarray) -> float:
    """Variance of the scalar a^T X for a random vector X with covariance Sigma:

        Var[a^T X] = sum_ij a_i a_j Cov[X_i, X_j] = a^T Sigma a

    Sigma is symmetric positive semi-definite, so the variance is >= 0; it is 0 for a in the null space of Sigma
    (a^T X is then constant). Independence is not needed, only the covariances.

    Args:
        a: coefficients, shape (d,).
        cov: Sigma, shape (d, d), symmetric (within np.allclose) and positive semi-definite: eigenvalues down to
            -1e-8 are taken as round-off of 0, a smaller one is an error.

    Returns:
        a^T Sigma a as a Python float.

    Raises:
        ValueError: a is not 1-D; cov is not (d, d), not symmetric, or has an eigenvalue below -1e-8.

    Example:
        >>> variance_of_linear_combination([1.0, -1.0], [[2.0, 0.5], [0.5, 1.0]])  # 2 + 1 - 2 * 0.5
        2.0
        >>> variance_of_linear_combination([1.0, -1.0], [[1.0, 1.0], [1.0, 1.0]])  # X_1 = X_2: X_1 - X_2 = 0
        0.0
    """
    raise NotImplementedError("variance_of_linear_combination: a^T Sigma a")


def mgf(dist: str, t: float | np.ndarray, **params: float) -> np.ndarray:
    """Moment generating function M(t) = E[exp(t X)] of a named family, at t (a number or an array).

    ========== =================== ========================================= ===============
    dist       params              M(t)                                      defined for
    ========== =================== ========================================= ===============
    bernoulli  p in [0, 1]         1 - p + p e^t                             every t
    binomial   n int >= 0, p       (1 - p + p e^t)^n                         every t
    poisson    lam >= 0            exp(lam (e^t - 1))                        every t
    normal     mu, sigma > 0       exp(mu t + sigma^2 t^2 / 2)               every t
    gamma      shape, scale > 0    (1 - scale t)^(-shape)                    t < 1 / scale
    ========== =================== ========================================= ===============

    sigma is the standard deviation (the variance is sigma^2). The Gamma is parametrised by its scale theta, as in
    numpy and scipy (mean shape * theta); torch's Gamma(concentration, rate) uses the rate beta = 1 / theta, with
    which M(t) = (1 - t / beta)^(-shape) for t < beta. For t >= 1 / scale, E[exp(t X)] is infinite.

    Not allowed (the exercise is these formulas): torch.distributions, scipy.stats.

    Args:
        dist: 'bernoulli', 'binomial', 'poisson', 'normal' or 'gamma'.
        t: where to evaluate, a number or an array of any shape.
        **params: exactly the family's parameters, by keyword (see the table).

    Returns:
        M(t), float64, with the shape of t.

    Raises:
        ValueError: an unknown family; missing or unexpected parameters; a parameter out of its range (p outside
            [0, 1], n not a non-negative integer, lam < 0, sigma <= 0, shape <= 0, scale <= 0); gamma with some
            t >= 1 / scale.

    Example:
        >>> mgf("bernoulli", 1.0, p=0.25)  # 0.75 + 0.25 e
        np.float64(1.4295704571147612)
        >>> mgf("normal", np.array([-1.0, 0.0, 2.0]), mu=1.0, sigma=0.5)  # exp(t + t^2 / 8)
        array([ 0.41686202,  1.        , 12.18249396])
        >>> mgf("gamma", 1.0, shape=3.0, scale=0.5)  # (1 - 0.5)^-3; defined for t < 2
        np.float64(8.0)
    """
    raise NotImplementedError("mgf: one closed form per family, and the domain errors")


def pmf_of_sum(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """pmf of Z = X + Y for independent X ~ p and Y ~ q on 0, 1, 2, ... (a discrete convolution).

        P(Z = k) = sum_j P(X = k - j) P(Y = j)

    With p on 0 .. m - 1 and q on 0 .. l - 1, Z lives on 0 .. m + l - 2. In terms of MGFs, M_Z = M_X M_Y, which is
    why the sum of independent Poisson(lam_1) and Poisson(lam_2) is Poisson(lam_1 + lam_2).

    Not allowed: torch.distributions, scipy.stats.

    Args:
        p: pmf of X, shape (m,), m >= 1, entries >= 0 summing to 1 (within 1e-5).
        q: pmf of Y, shape (l,), l >= 1, likewise.

    Returns:
        The pmf of X + Y, float64, shape (m + l - 1,).

    Raises:
        ValueError: p or q is not 1-D, has a negative entry or does not sum to 1.

    Example:
        Two fair coins (0 or 1 each): the number of heads is 0, 1 or 2 with probabilities 1/4, 1/2, 1/4.

        >>> pmf_of_sum([0.5, 0.5], [0.5, 0.5])
        array([0.25, 0.5 , 0.25])
        >>> pmf_of_sum([0.2, 0.8], [0.1, 0.3, 0.6])  # P(Z = 1) = 0.2 * 0.3 + 0.8 * 0.1
        array([0.02, 0.14, 0.36, 0.48])
    """
    raise NotImplementedError("pmf_of_sum: convolve the two pmfs")


def mvn_logpdf(x: torch.Tensor, mu: torch.Tensor, Sigma: torch.Tensor) -> torch.Tensor:
    """Log-density of the multivariate normal N(mu, Sigma) in d dimensions, differentiable with torch autograd.

        log N(x; mu, Sigma) = -1/2 (d log(2 pi) + log|Sigma| + (x - mu)^T Sigma^-1 (x - mu))

    Computed with the Cholesky factor Sigma = L L^T: log|Sigma| = 2 sum_i log L_ii, and the Mahalanobis term is
    ||z||^2 with L z = x - mu (a triangular solve, no inverse). x may carry leading batch dimensions: each row
    x[..., :] is one point. The gradient with respect to Sigma is the symmetric matrix
    -1/2 (Sigma^-1 - Sigma^-1 (x - mu)(x - mu)^T Sigma^-1) (summed over the batch), as torch.distributions gives.

    Not allowed (they compute the whole density): torch.distributions, scipy.stats.

    Args:
        x: points, shape (..., d) (one point: shape (d,)).
        mu: mean, shape (d,).
        Sigma: covariance, shape (d, d), symmetric (within torch.allclose) and positive definite.
        All three share one floating dtype and device; the result keeps them.

    Returns:
        log N(x; mu, Sigma), shape x.shape[:-1] (a 0-d tensor for one point).

    Raises:
        ValueError: the shapes do not match; Sigma is not symmetric or not positive definite (singular included).

    Example:
        >>> Sigma = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
        >>> x = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
        >>> mvn_logpdf(x, torch.zeros(2, dtype=torch.float64), Sigma)  # at 0: -log(2 pi) - log(1.75) / 2
        tensor([-2.4034, -2.1177], dtype=torch.float64)
    """
    raise NotImplementedError("mvn_logpdf: the Gaussian log-density in torch")


def gaussian_mle(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood mean and covariance of a Gaussian from n samples x_1 .. x_n in d dimensions.

        mu_hat = (1/n) sum_i x_i,      Sigma_hat = (1/n) sum_i (x_i - mu_hat)(x_i - mu_hat)^T

    The maximum-likelihood covariance divides by n: it is biased, E[Sigma_hat] = (n - 1)/n Sigma. The unbiased
    sample covariance (np.cov, torch.cov) divides by n - 1 instead; the two differ by the factor n / (n - 1).

    Not allowed (they fit the whole Gaussian): torch.distributions, scipy.stats.

    Args:
        X: samples, shape (n, d), one per row, n >= 1.

    Returns:
        (mu_hat, Sigma_hat), float64, shapes (d,) and (d, d).

    Raises:
        ValueError: X is not 2-D or has no rows.

    Example:
        >>> mean, cov = gaussian_mle([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]])
        >>> mean
        array([2., 2.])
        >>> cov  # np.cov(X.T) would give 3/2 times this
        array([[2.66666667, 2.        ],
               [2.        , 2.        ]])
    """
    raise NotImplementedError("gaussian_mle: the sample mean and the covariance that divides by n")


def gaussian_condition(mu: np.ndarray, Sigma: np.ndarray, idx_a: list[int], idx_b: list[int], x_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distribution of x_a given x_b when x ~ N(mu, Sigma): again Gaussian, with the Schur complement as covariance.

        mu_{a|b}    = mu_a + Sigma_ab Sigma_bb^-1 (x_b - mu_b)
        Sigma_{a|b} = Sigma_aa - Sigma_ab Sigma_bb^-1 Sigma_ba

    where Sigma_ab = Sigma[idx_a][:, idx_b] and so on. Off-diagonal blocks need not be square. Observing x_b can
    only shrink the uncertainty about x_a (a p.s.d. matrix is subtracted), and the conditional covariance does not
    depend on the value x_b. Indices in neither list are marginalised out. Equivalently, restrict, then invert:
    with the precision Lambda = (Sigma restricted to idx_a + idx_b)^-1, Sigma_{a|b} = (Lambda_aa)^-1, the inverse
    of the precision block, not the block itself. Inverting the whole Sigma first and then restricting conditions
    on the marginalised variables too: it gives Cov[x_a | every other variable], not Cov[x_a | x_b].

    Args:
        mu: mean, shape (d,).
        Sigma: covariance, shape (d, d), symmetric (within np.allclose); Sigma_bb must be positive definite.
        idx_a: indices of the variables to predict, a non-empty list of ints in [0, d).
        idx_b: indices of the observed variables, a non-empty list of ints in [0, d), none of them in idx_a.
        x_b: the observed values, shape (len(idx_b),), in the order of idx_b.

    Returns:
        (mean, cov), float64, shapes (len(idx_a),) and (len(idx_a), len(idx_a)), in the order of idx_a.

    Raises:
        ValueError: the shapes do not match; Sigma is not symmetric; an index is out of range, repeated, or in both
            lists, or a list is empty; Sigma_bb is not positive definite (singular included).

    Example:
        >>> mu, Sigma = np.array([0.0, 1.0]), np.array([[2.0, 0.8], [0.8, 1.0]])
        >>> mean, cov = gaussian_condition(mu, Sigma, [0], [1], np.array([2.0]))
        >>> mean, cov  # 0 + 0.8 / 1 * (2 - 1), 2 - 0.8 * 0.8 / 1
        (array([0.8]), array([[1.36]]))
    """
    raise NotImplementedError("gaussian_condition: the conditional mean and the Schur complement")


def chebyshev_bound(variance: float, eps: float) -> float:
    """Chebyshev's inequality: for any X with mean mu and finite variance sigma^2, and eps > 0,

        P(|X - mu| >= eps) <= sigma^2 / eps^2.

    The bound returned is capped at 1 (a probability is never larger): min(1, sigma^2 / eps^2). It holds for every
    distribution and is tight: for sigma <= eps, X = mu +- eps with probability sigma^2 / (2 eps^2) each and mu
    otherwise attains it; for sigma > eps, X = mu +- sigma with probability 1/2 each attains the cap 1.

    Args:
        variance: sigma^2, a finite number >= 0.
        eps: the distance from the mean, > 0.

    Returns:
        min(1, variance / eps^2) as a Python float.

    Raises:
        ValueError: variance < 0 or not finite; eps <= 0 or not a number.

    Example:
        >>> chebyshev_bound(1.0, 2.0)  # at most a quarter of the mass lies two standard deviations out
        0.25
        >>> chebyshev_bound(4.0, 1.0)  # 4 / 1, capped
        1.0
    """
    raise NotImplementedError("chebyshev_bound: sigma^2 / eps^2, capped at 1")
