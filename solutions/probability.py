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

import math

import numpy as np
import torch
from numpy.lib.array_utils import normalize_axis_tuple

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

# Eigenvalues of a covariance down to -_PSD_TOL count as round-off of a zero eigenvalue.
_PSD_TOL = 1e-8

# The parameters each family of mgf takes, by keyword.
_FAMILIES = {
    "bernoulli": ("p",),
    "binomial": ("n", "p"),
    "poisson": ("lam",),
    "normal": ("mu", "sigma"),
    "gamma": ("shape", "scale"),
}


def _pmf(p: np.ndarray, name: str, func: str) -> np.ndarray:
    """`p` as a float64 array of probabilities (entries >= 0 summing to 1); ValueError naming `func` and `name`."""
    p = np.asarray(p, dtype=float)
    if not np.all(p >= 0) or not np.isclose(p.sum(), 1.0):
        raise ValueError(f"{func}: {name} must hold probabilities >= 0 that sum to 1, got shape {p.shape} summing to {p.sum():.6g}")
    return p


def _symmetric(S: np.ndarray, name: str, func: str, d: int) -> np.ndarray:
    """`S` as a symmetric (d, d) float64 matrix (within np.allclose); ValueError otherwise."""
    S = np.asarray(S, dtype=float)
    if S.shape != (d, d) or not np.allclose(S, S.T):
        raise ValueError(f"{func}: {name} must be a symmetric ({d}, {d}) matrix, got shape {S.shape}")
    return S


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
    joint = _pmf(joint, "joint", "marginal")
    try:
        axes = normalize_axis_tuple(axis, joint.ndim)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"marginal: axis must be distinct ints in [-{joint.ndim}, {joint.ndim}), got {axis!r} ({exc})") from None
    return joint.sum(axis=axes)


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
    priors = _pmf(priors, "priors", "bayes_posterior")
    lik = np.asarray(likelihoods, dtype=float)
    if lik.shape != priors.shape or not np.all(np.isfinite(lik) & (lik >= 0)):
        raise ValueError(f"bayes_posterior: likelihoods must be finite values >= 0 of the shape of priors, {priors.shape}, got shape {lik.shape}")
    joint = lik * priors
    evidence = joint.sum()
    if evidence <= 0:
        raise ValueError("bayes_posterior: the evidence sum_j P(X | Y_j) P(Y_j) is 0: no hypothesis with a prior > 0 explains X")
    return joint / evidence


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
    a = np.asarray(a, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"variance_of_linear_combination: a must be 1-D (d,), got shape {a.shape}")
    cov = _symmetric(cov, "cov", "variance_of_linear_combination", a.size)
    if np.linalg.eigvalsh(cov)[0] < -_PSD_TOL:
        raise ValueError("variance_of_linear_combination: cov must be positive semi-definite, it has an eigenvalue below -1e-8")
    return float(np.einsum("i,ij,j->", a, cov, a))


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
    if dist not in _FAMILIES:
        raise ValueError(f"mgf: unknown dist {dist!r}, expected one of {', '.join(_FAMILIES)}")
    if set(params) != set(_FAMILIES[dist]):
        raise ValueError(f"mgf: {dist} takes the parameters {_FAMILIES[dist]}, got {tuple(params)}")
    t = np.asarray(t, dtype=float)
    if dist in ("bernoulli", "binomial"):
        p, n = params["p"], params.get("n", 1)
        if not 0 <= p <= 1 or n < 0 or n != int(n):
            raise ValueError(f"mgf: {dist} needs p in [0, 1] and an integer n >= 0, got p={p!r}, n={n!r}")
        return (1 - p + p * np.exp(t)) ** n
    if dist == "poisson":
        if not params["lam"] >= 0:
            raise ValueError(f"mgf: poisson needs lam >= 0, got {params['lam']!r}")
        return np.exp(params["lam"] * (np.exp(t) - 1))
    if dist == "normal":
        mu, sigma = params["mu"], params["sigma"]
        if not sigma > 0:
            raise ValueError(f"mgf: normal needs a standard deviation sigma > 0, got {sigma!r}")
        return np.exp(mu * t + sigma**2 * t**2 / 2)
    shape, scale = params["shape"], params["scale"]
    if not (shape > 0 and scale > 0):
        raise ValueError(f"mgf: gamma needs shape > 0 and scale > 0, got shape={shape!r}, scale={scale!r}")
    if np.any(t >= 1 / scale):
        raise ValueError(f"mgf: the gamma MGF is infinite for t >= 1 / scale = {1 / scale:.6g}, got t up to {t.max():.6g}")
    return (1 - scale * t) ** -shape


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
    p, q = _pmf(p, "p", "pmf_of_sum"), _pmf(q, "q", "pmf_of_sum")
    if p.ndim != 1 or q.ndim != 1:
        raise ValueError(f"pmf_of_sum: p and q must be 1-D pmfs, got shapes {p.shape} and {q.shape}")
    r = np.zeros(p.size + q.size - 1)
    # Y = j shifts the pmf of X right by j, weighted by P(Y = j).
    for j, qj in enumerate(q):
        r[j : j + p.size] += qj * p
    return r


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
    if mu.dim() != 1 or x.shape[-1:] != mu.shape or Sigma.shape != mu.shape * 2:
        raise ValueError(
            f"mvn_logpdf: expected x (..., d), mu (d,) and Sigma (d, d), got shapes {tuple(x.shape)}, {tuple(mu.shape)} and {tuple(Sigma.shape)}"
        )
    if not torch.allclose(Sigma, Sigma.mT):
        raise ValueError("mvn_logpdf: Sigma must be symmetric")
    L, info = torch.linalg.cholesky_ex(Sigma)
    if info != 0:
        raise ValueError("mvn_logpdf: Sigma must be positive definite (its Cholesky factorisation failed)")
    z = torch.linalg.solve_triangular(L, (x - mu).unsqueeze(-1), upper=False).squeeze(-1)
    log_det = 2 * torch.log(torch.diagonal(L)).sum()
    return -0.5 * (mu.numel() * math.log(2 * math.pi) + log_det + (z**2).sum(-1))


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
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"gaussian_mle: X must be (n, d) with n >= 1, got shape {X.shape}")
    mean = X.mean(axis=0)
    Xc = X - mean
    return mean, Xc.T @ Xc / X.shape[0]


def _blocks(idx_a: list[int], idx_b: list[int], d: int) -> tuple[np.ndarray, np.ndarray]:
    """idx_a and idx_b as integer arrays: each 1-D and non-empty, together distinct indices in [0, d)."""
    a, b = np.asarray(idx_a), np.asarray(idx_b)
    both = np.concatenate([a.ravel(), b.ravel()])
    if a.ndim != 1 or b.ndim != 1 or min(a.size, b.size) == 0 or both.dtype.kind not in "iu" or np.unique(both).size != both.size or np.any(both < 0) or np.any(both >= d):
        raise ValueError(f"gaussian_condition: idx_a and idx_b must be non-empty lists of distinct indices in [0, {d}) with none in both, got {idx_a!r} and {idx_b!r}")
    return a, b


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
    mu = np.asarray(mu, dtype=float)
    if mu.ndim != 1:
        raise ValueError(f"gaussian_condition: mu must be 1-D (d,), got shape {mu.shape}")
    Sigma = _symmetric(Sigma, "Sigma", "gaussian_condition", mu.size)
    a, b = _blocks(idx_a, idx_b, mu.size)
    x_b = np.asarray(x_b, dtype=float)
    if x_b.shape != b.shape:
        raise ValueError(f"gaussian_condition: x_b must have shape (len(idx_b),) = {b.shape}, got {x_b.shape}")
    S_bb = Sigma[np.ix_(b, b)]
    try:
        np.linalg.cholesky(S_bb)
    except np.linalg.LinAlgError:
        raise ValueError("gaussian_condition: Sigma_bb must be positive definite (it is singular or indefinite)") from None
    S_ba = Sigma[np.ix_(b, a)]
    K = np.linalg.solve(S_bb, S_ba).T  # Sigma_ab Sigma_bb^-1, as Sigma_ab = Sigma_ba^T and Sigma_bb is symmetric
    return mu[a] + K @ (x_b - mu[b]), Sigma[np.ix_(a, a)] - K @ S_ba


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
    variance, eps = float(variance), float(eps)
    if not (math.isfinite(variance) and variance >= 0 and eps > 0):
        raise ValueError(f"chebyshev_bound: expected a finite variance >= 0 and eps > 0, got variance={variance!r}, eps={eps!r}")
    return min(1.0, variance / eps**2)
