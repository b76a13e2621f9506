"""Public checks of the probability topic: inputs drawn from the trial's rng (the public seed in a student's own run,
the same every run; fresh ones when the course grades); students run these themselves.

The known mistakes of this topic are declared here (hidden checks import them), each with the wrong variant that
reveals it, computed on the grader's own copies of the inputs. Closed forms are compared in float64 at the course
tolerance; Monte Carlo checks draw a sample from the trial's rng and allow 5 standard errors, derived from its size.
"""

from __future__ import annotations

import numpy as np
import torch

from autograder.engine.checks import Mistake, Trial, check
from autograder.engine.compare import describe

BAYES_NO_PRIOR = Mistake(
    "bayes-evidence-without-priors",
    "the evidence in Bayes' rule sums the likelihoods alone, sum_j P(X|Y_j), without the priors",
    "The denominator is P(X) = sum_j P(X|Y_j) P(Y_j): the sum rule over the joint, so the posterior sums to 1.",
)
GAMMA_RATE = Mistake(
    "gamma-rate-for-scale",
    "the Gamma MGF uses the scale as a rate: (1 - t/theta)^(-alpha)",
    "With shape alpha and scale theta, M(t) = (1 - theta t)^(-alpha) for t < 1/theta; (1 - t/beta)^(-alpha) is for the rate beta = 1/theta (torch's Gamma).",
)
NORMAL_VARIANCE = Mistake(
    "normal-sigma-as-variance",
    "the Normal MGF confuses the standard deviation sigma with the variance sigma^2",
    "sigma is a standard deviation: M(t) = exp(mu t + sigma^2 t^2 / 2).",
)
MLE_UNBIASED = Mistake(
    "mle-unbiased-covariance",
    "the covariance divides by n - 1 (the unbiased estimate), not by n (the maximum-likelihood one)",
    "The maximum-likelihood covariance is (1/n) sum_i (x_i - mean)(x_i - mean)^T; np.cov and torch.cov divide by n - 1.",
)
SCHUR_MISSING = Mistake(
    "schur-complement-missing",
    "the conditional covariance is Sigma_aa unchanged: observing x_b did not shrink it",
    "Sigma_{a|b} = Sigma_aa - Sigma_ab Sigma_bb^-1 Sigma_ba (the Schur complement of Sigma_bb).",
)
SCHUR_SIGN = Mistake(
    "schur-complement-sign",
    "the Schur complement adds Sigma_ab Sigma_bb^-1 Sigma_ba instead of subtracting it",
    "Sigma_{a|b} = Sigma_aa - Sigma_ab Sigma_bb^-1 Sigma_ba: conditioning can only reduce the variance.",
)
SCHUR_PRECISION = Mistake(
    "schur-precision-block",
    "the conditional covariance is the precision block Lambda_aa = [(Sigma_{ab,ab})^-1]_aa, not its inverse",
    "Sigma_{a|b} = (Lambda_aa)^-1, which equals the Schur complement Sigma_aa - Sigma_ab Sigma_bb^-1 Sigma_ba.",
)
PRECISION_OF_WHOLE = Mistake(
    "precision-of-whole-sigma",
    "the whole Sigma was inverted before restricting to idx_a: this conditions on the marginalised variables too",
    "Restrict, then invert: Lambda = (Sigma restricted to idx_a + idx_b)^-1, Sigma_{a|b} = (Lambda_aa)^-1; or use the "
    "Schur complement Sigma_aa - Sigma_ab Sigma_bb^-1 Sigma_ba, which never touches the other indices.",
)

SIGMAS = 5.0  # Monte Carlo tolerance, in standard errors

# Library code that computes a whole exercise (the stubs' docstrings list it): the checks of mgf, pmf_of_sum,
# mvn_logpdf and gaussian_mle refuse it.
DISTRIBUTIONS_FORBID = ("torch.distributions", "scipy.stats")


# ---- wrong variants (grader side) -------------------------------------------------------------------------------


def bayes_variants(lik: np.ndarray, priors: np.ndarray) -> list[tuple[Mistake, np.ndarray]]:
    return [(BAYES_NO_PRIOR, lik * priors / lik.sum())]


def mgf_variants(dist: str, t: np.ndarray, params: dict[str, float]) -> list[tuple[Mistake, np.ndarray]]:
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # the rate form can leave its domain: NaN
        if dist == "gamma":
            return [(GAMMA_RATE, (1 - t / params["scale"]) ** -params["shape"])]
        if dist == "normal":
            mu, sigma = params["mu"], params["sigma"]
            # sigma taken for the variance (sigma t^2 / 2), or the variance squared once more (sigma^4 t^2 / 2)
            return [(NORMAL_VARIANCE, np.exp(mu * t + s * t**2 / 2)) for s in (sigma, sigma**4)]
    return []


def mle_variants(X: np.ndarray) -> list[tuple[Mistake, np.ndarray]]:
    n = X.shape[0]
    Xc = X - X.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):  # n = 1: 0 / 0, which is what dividing by n - 1 gives
        return [(MLE_UNBIASED, Xc.T @ Xc / np.float64(n - 1))]


def condition_variants(Sigma: np.ndarray, a: list[int], b: list[int], cov: np.ndarray) -> list[tuple[Mistake, np.ndarray]]:
    """Wrong conditional covariances from the right one: Sigma_aa, the sign flipped, the precision block, and the
    inverse of the whole Sigma's precision block (right only when no index is left out)."""
    S_aa = Sigma[np.ix_(a, a)]
    ab = [*a, *b]
    precision_aa = np.linalg.inv(Sigma[np.ix_(ab, ab)])[: len(a), : len(a)]
    variants = [(SCHUR_MISSING, S_aa), (SCHUR_SIGN, 2 * S_aa - cov), (SCHUR_PRECISION, precision_aa)]
    if len(ab) < len(Sigma):
        variants.append((PRECISION_OF_WHOLE, np.linalg.inv(np.linalg.inv(Sigma)[np.ix_(a, a)])))
    return variants


# ---- inputs -----------------------------------------------------------------------------------------------------


def random_pmf(t: Trial, shape: int | tuple[int, ...]) -> np.ndarray:
    p = t.rng.random(shape) + 0.05
    return p / p.sum()


def random_cov(t: Trial, d: int) -> np.ndarray:
    """A well-conditioned covariance with strong correlations (so every Schur mistake shows)."""
    A = t.rng.standard_normal((d, d))
    return A @ A.T / d + 0.3 * np.eye(d)


def gaussian_sample(t: Trial, mu: np.ndarray, Sigma: np.ndarray, n: int) -> np.ndarray:
    return mu + t.rng.standard_normal((n, mu.size)) @ np.linalg.cholesky(Sigma).T


def sample_family(t: Trial, dist: str, params: dict[str, float], n: int) -> np.ndarray:
    if dist == "bernoulli":
        return (t.rng.random(n) < params["p"]).astype(float)
    if dist == "binomial":
        return t.rng.binomial(params["n"], params["p"], n).astype(float)
    if dist == "poisson":
        return t.rng.poisson(params["lam"], n).astype(float)
    if dist == "normal":
        return t.rng.normal(params["mu"], params["sigma"], n)
    return t.rng.gamma(params["shape"], params["scale"], n)


def _within(want: float, estimate: float, tol: float, what: str) -> None:
    """The reference must agree with the Monte Carlo estimate too: otherwise the check, not the student, is wrong."""
    if not abs(want - estimate) <= tol:
        raise AssertionError(f"{what}: the reference {want:.6g} is more than {SIGMAS:g} standard errors from the estimate {estimate:.6g}")


def _pair(t: Trial, got, what: str, names: tuple[str, str]) -> None:
    if not isinstance(got, tuple) or len(got) != 2:
        t.fail(f"{what}: expected a tuple ({', '.join(names)}), got {describe(got)}")


# ---- shared bodies (hidden checks call these with random inputs) --------------------------------------------------


def judge_marginal(t: Trial, joint: np.ndarray, axis) -> None:
    t.close(t.call("marginal", joint, axis), t.ref.marginal(joint, axis), what=f"marginal(joint {joint.shape}, axis={axis!r})")


def judge_bayes_posterior(t: Trial, lik: np.ndarray, priors: np.ndarray) -> None:
    what = f"bayes_posterior(likelihoods, priors) with K={lik.size}, likelihoods={np.round(lik, 4).tolist()}, priors={np.round(priors, 4).tolist()}"
    t.close(t.call("bayes_posterior", lik, priors), t.ref.bayes_posterior(lik, priors), what=what, variants=bayes_variants(lik, priors))


def judge_variance(t: Trial, a: np.ndarray, cov: np.ndarray) -> None:
    got = t.call("variance_of_linear_combination", a, cov)
    t.close(got, np.asarray(t.ref.variance_of_linear_combination(a, cov)), what=f"variance_of_linear_combination(a {a.shape}, cov {cov.shape})")


def judge_mgf(t: Trial, dist: str, tt: np.ndarray, **params: float) -> None:
    what = f"mgf({dist!r}, t={np.round(tt, 4).tolist()}, {', '.join(f'{k}={v:.6g}' for k, v in params.items())})"
    t.close(t.call("mgf", dist, tt, **params), t.ref.mgf(dist, tt, **params), what=what, variants=mgf_variants(dist, tt, params))


def judge_pmf_of_sum(t: Trial, p: np.ndarray, q: np.ndarray) -> None:
    t.close(t.call("pmf_of_sum", p, q), t.ref.pmf_of_sum(p, q), what=f"pmf_of_sum(p, q) with len(p)={p.size}, len(q)={q.size}")


def judge_mvn_logpdf(t: Trial, x: np.ndarray, mu: np.ndarray, Sigma: np.ndarray) -> None:
    """Value and autograd gradients w.r.t. x, mu and Sigma (through a random upstream gradient), in float64."""
    what = f"mvn_logpdf(x {x.shape}, mu {mu.shape}, Sigma {Sigma.shape})"
    xt, mt, St = (torch.tensor(v, requires_grad=True) for v in (x, mu, Sigma))
    y_ref = t.ref.mvn_logpdf(xt, mt, St)
    g = t.rng.standard_normal(tuple(y_ref.shape))
    grads_ref = torch.autograd.grad(y_ref, (xt, mt, St), torch.tensor(g))
    got, grads = t.call_grad("mvn_logpdf", t.tensor(x, grad=True), t.tensor(mu, grad=True), t.tensor(Sigma, grad=True), upstream=g)
    t.close(got, y_ref, what=what)
    for name, got_grad, want_grad in zip(("x", "mu", "Sigma"), grads, grads_ref):
        t.close(got_grad, want_grad, what=f"d<g, {what}>/d{name} (autograd; the gradient w.r.t. Sigma is the symmetric one)")


def judge_gaussian_mle(t: Trial, X: np.ndarray) -> None:
    what = f"gaussian_mle(X) with X of shape {X.shape}"
    got = t.call("gaussian_mle", X)
    _pair(t, got, what, ("mean", "cov"))
    mean, cov = t.ref.gaussian_mle(X)
    t.close(got[0], mean, what=f"{what}[0] (mean)")
    t.close(got[1], cov, what=f"{what}[1] (cov)", variants=mle_variants(X))


def judge_gaussian_condition(t: Trial, mu: np.ndarray, Sigma: np.ndarray, a: list[int], b: list[int], x_b: np.ndarray) -> None:
    what = f"gaussian_condition(mu, Sigma {Sigma.shape}, idx_a={a}, idx_b={b}, x_b)"
    got = t.call("gaussian_condition", mu, Sigma, a, b, x_b)
    _pair(t, got, what, ("mean", "cov"))
    mean, cov = t.ref.gaussian_condition(mu, Sigma, a, b, x_b)
    t.close(got[0], mean, what=f"{what}[0] (mean)")
    t.close(got[1], cov, what=f"{what}[1] (cov)", variants=condition_variants(Sigma, a, b, cov))


def judge_chebyshev(t: Trial, variance: float, eps: float) -> None:
    got = t.call("chebyshev_bound", variance, eps)
    t.close(got, np.asarray(t.ref.chebyshev_bound(variance, eps)), what=f"chebyshev_bound(variance={variance:.6g}, eps={eps:.6g}) (capped at 1)")


# ---- the public checks ------------------------------------------------------------------------------------------


@check("marginal", "marginal: the sum rule on a 3-variable joint table, one or two axes, negative axes")
def marginal(t: Trial) -> None:
    joint = random_pmf(t, (3, 4, 2))
    for axis in (1, (0, 2), -1, (-3, 1)):
        judge_marginal(t, joint, axis)


@check("bayes_posterior", "bayes_posterior: posterior over 5 hypotheses, with zero priors and zero likelihoods")
def bayes_posterior(t: Trial) -> None:
    judge_bayes_posterior(t, t.rng.random(5), random_pmf(t, 5))
    lik, priors = t.rng.random(5), random_pmf(t, 5)
    lik[1], priors[3] = 0.0, 0.0  # a hypothesis the data rule out, and one the prior does
    judge_bayes_posterior(t, lik, priors / priors.sum())


@check("variance_of_linear_combination", "variance_of_linear_combination: a^T Sigma a, and the sample variance of a^T X")
def variance_of_linear_combination(t: Trial) -> None:
    d, n = 4, 20_000
    a, cov = t.rng.standard_normal(d), random_cov(t, d)
    v = gaussian_sample(t, np.zeros(d), cov, n) @ a
    s2 = v.var(ddof=1)
    tol = SIGMAS * s2 * np.sqrt(2 / (n - 1))  # the standard error of a normal sample's variance
    judge_variance(t, a, cov)
    what = f"variance_of_linear_combination(a {a.shape}, cov {cov.shape}) against the sample variance {s2:.6g} of a^T X for {n} draws of X ~ N(0, cov), within {SIGMAS:g} standard errors ({tol:.3g})"
    _within(t.ref.variance_of_linear_combination(a, cov), s2, tol, what)
    t.close(t.call("variance_of_linear_combination", a, cov), np.asarray(s2), what=what, rtol=0, atol=tol)


def mgf_cases(t: Trial) -> list[tuple[str, dict[str, float]]]:
    """One random member of each family. sigma >= 1.3 and a Gamma scale in [0.5, 0.7], far from 1, so that sigma taken
    for the variance and the scale taken for a rate change M(t) by many standard errors of a Monte Carlo mean at
    t in [0.35, 0.45] (where E[exp(2tX)] is finite: 2t < 1/scale)."""
    return [
        ("bernoulli", {"p": float(t.rng.uniform(0.2, 0.8))}),
        ("binomial", {"n": int(t.rng.integers(2, 9)), "p": float(t.rng.uniform(0.2, 0.6))}),
        ("poisson", {"lam": float(t.rng.uniform(1.0, 4.0))}),
        ("normal", {"mu": float(t.rng.uniform(-1.0, 1.0)), "sigma": float(t.rng.uniform(1.3, 1.8))}),
        ("gamma", {"shape": float(t.rng.uniform(1.5, 3.5)), "scale": float(t.rng.uniform(0.5, 0.7))}),
    ]


@check("mgf_closed_form", "mgf of the five families at several t (the Gamma within its domain t < 1/scale)", forbid=DISTRIBUTIONS_FORBID)
def mgf_closed_form(t: Trial) -> None:
    cases = mgf_cases(t)
    # t = 0 and four below 0.9 min(scale, 1/scale) of the Gamma, where its rate form is finite too
    scale = dict(cases)["gamma"]["scale"]
    edge = 0.9 * min(scale, 1 / scale)
    tt = np.sort(np.append(t.rng.uniform(-1.2, edge, 4), 0.0))
    for dist, params in cases:
        judge_mgf(t, dist, tt, **params)


@check("mgf_monte_carlo", "mgf against the sample mean of exp(tX), within 5 standard errors", forbid=DISTRIBUTIONS_FORBID)
def mgf_monte_carlo(t: Trial) -> None:
    n, tt = 20_000, float(t.rng.uniform(0.35, 0.45))
    for dist, params in mgf_cases(t):
        sample = np.exp(tt * sample_family(t, dist, params, n))
        estimate = sample.mean()
        # Var[exp(tX)] = M(2t) - M(t)^2, finite here (2t <= 0.9 < 1/scale for the Gamma).
        se = np.sqrt((t.ref.mgf(dist, 2 * tt, **params) - t.ref.mgf(dist, tt, **params) ** 2) / n)
        call = f"mgf({dist!r}, t={tt:.6g}, {', '.join(f'{k}={v:.6g}' for k, v in params.items())})"
        what = f"{call} against the mean {estimate:.6g} of exp(tX) over {n} draws, within {SIGMAS:g} standard errors ({SIGMAS * se:.3g})"
        _within(float(t.ref.mgf(dist, tt, **params)), estimate, SIGMAS * se, what)
        t.close(t.call("mgf", dist, tt, **params), np.asarray(estimate), what=what, rtol=0, atol=SIGMAS * se, variants=mgf_variants(dist, np.asarray(tt), params))


@check("pmf_of_sum", "pmf_of_sum: random pmfs, and Poisson(1.2) + Poisson(2.3) = Poisson(3.5)", forbid=DISTRIBUTIONS_FORBID)
def pmf_of_sum(t: Trial) -> None:
    judge_pmf_of_sum(t, random_pmf(t, 4), random_pmf(t, 6))
    k = np.arange(40)
    log_fact = np.cumsum(np.log(np.maximum(k, 1)))
    poisson = {lam: np.exp(k * np.log(lam) - lam - log_fact) for lam in (1.2, 2.3, 3.5)}  # tails below 1e-25
    want = t.ref.pmf_of_sum(poisson[1.2], poisson[2.3])
    if not np.allclose(want[:40], poisson[3.5], rtol=1e-9, atol=1e-15):
        raise AssertionError("the reference pmf_of_sum of Poisson(1.2) and Poisson(2.3) is not Poisson(3.5)")
    what = "pmf_of_sum(p, q) for the Poisson(1.2) and Poisson(2.3) pmfs on 0..39 (entries 0..39 of the answer are the Poisson(3.5) pmf)"
    t.close(t.call("pmf_of_sum", poisson[1.2], poisson[2.3]), want, what=what)


@check("mvn_logpdf_grad", "mvn_logpdf on a batch of points, and its gradients w.r.t. x, mu and Sigma", forbid=DISTRIBUTIONS_FORBID)
def mvn_logpdf_grad(t: Trial) -> None:
    judge_mvn_logpdf(t, t.rng.standard_normal((5, 3)), t.rng.standard_normal(3), random_cov(t, 3))


@check("gaussian_mle", "gaussian_mle: mean and maximum-likelihood (biased) covariance of a sample", forbid=DISTRIBUTIONS_FORBID)
def gaussian_mle(t: Trial) -> None:
    judge_gaussian_mle(t, t.rng.standard_normal((7, 3)) * [1.0, 2.0, 0.5] + [1.0, -2.0, 0.0])


@check("gaussian_condition", "gaussian_condition: x_a | x_b with unordered index lists and a variable left out")
def gaussian_condition(t: Trial) -> None:
    mu, Sigma = t.rng.standard_normal(5), random_cov(t, 5)
    judge_gaussian_condition(t, mu, Sigma, [3, 0], [4, 1], t.rng.standard_normal(2))


@check("gaussian_condition_monte_carlo", "gaussian_condition against a regression of x_a on x_b, within 5 standard errors")
def gaussian_condition_monte_carlo(t: Trial) -> None:
    n, a, b = 20_000, [0, 2], [1, 3]
    mu, Sigma = t.rng.standard_normal(4), random_cov(t, 4)
    x_b = mu[b] + t.rng.standard_normal(2)
    X = gaussian_sample(t, mu, Sigma, n)
    # Least squares of x_a on (1, x_b): the fit at x_b estimates the conditional mean, the residuals' covariance the
    # conditional covariance.
    Z = np.column_stack([np.ones(n), X[:, b]])
    coef = np.linalg.lstsq(Z, X[:, a], rcond=None)[0]
    resid = X[:, a] - Z @ coef
    cov_hat = resid.T @ resid / (n - Z.shape[1])
    z0 = np.concatenate([[1.0], x_b])
    mean_hat = z0 @ coef
    mean_tol = SIGMAS * np.sqrt(np.max(np.diag(cov_hat)) * z0 @ np.linalg.solve(Z.T @ Z, z0))  # OLS prediction error
    var = np.diag(cov_hat)
    cov_tol = SIGMAS * np.sqrt(np.max((np.outer(var, var) + cov_hat**2) / n))  # the sample covariance's error
    call = f"gaussian_condition(mu, Sigma (4, 4), idx_a={a}, idx_b={b}, x_b)"
    what = f"{call} against a regression of x_a on x_b over {n} draws"
    got = t.call("gaussian_condition", mu, Sigma, a, b, x_b)
    _pair(t, got, call, ("mean", "cov"))
    mean, cov = t.ref.gaussian_condition(mu, Sigma, a, b, x_b)
    for want, estimate, tol in ((mean, mean_hat, mean_tol), (cov, cov_hat, cov_tol)):
        for w, e in zip(want.ravel(), estimate.ravel()):
            _within(w, e, tol, what)
    regression = f"against a regression of x_a on x_b over {n} draws, within {SIGMAS:g} standard errors"
    t.close(got[0], mean_hat, what=f"{call}[0] (mean) {regression} ({mean_tol:.3g})", rtol=0, atol=mean_tol)
    t.close(got[1], cov_hat, what=f"{call}[1] (cov) {regression} ({cov_tol:.3g})", rtol=0, atol=cov_tol, variants=condition_variants(Sigma, a, b, cov))


@check("chebyshev_bound", "chebyshev_bound in closed form, and above the tail frequency of a distribution that attains it")
def chebyshev_bound(t: Trial) -> None:
    for ratio in (t.rng.uniform(0.05, 0.95, 2), t.rng.uniform(1.1, 4.0, 2)):  # variance / eps^2 below the cap, then above
        for r in ratio:
            variance = float(t.rng.uniform(0.1, 4.0))
            judge_chebyshev(t, variance, float(np.sqrt(variance / r)))
    # X = +-eps with probability sigma^2 / eps^2 (half each), 0 otherwise: P(|X| >= eps) is exactly the bound.
    n, eps, q = 20_000, float(t.rng.uniform(0.8, 2.0)), float(t.rng.uniform(0.2, 0.6))
    variance = q * eps**2
    x = np.where(t.rng.random(n) < q, eps * t.rng.choice([-1.0, 1.0], n), 0.0)
    freq = float(np.mean(np.abs(x) >= eps))
    se = np.sqrt(q * (1 - q) / n)
    got = t.call("chebyshev_bound", variance, eps)
    if not isinstance(got, np.ndarray) or got.shape != ():
        t.fail(f"chebyshev_bound(variance={variance:.6g}, eps={eps:.6g}): returned {describe(got)}; expected a number")
    if not float(got) >= freq - SIGMAS * se:
        t.fail(f"chebyshev_bound(variance={variance:.6g}, eps={eps:.6g}) = {float(got):.6g}: the observed P(|X - mu| >= eps) over {n} draws of X = +-eps (prob. {q:.4g}) or 0 is {freq:.4g}; a bound must be at least that, less {SIGMAS:g} standard errors ({SIGMAS * se:.3g})")


# ---- contracts: boundary cases, zero probabilities, and each documented limit from both sides ---------------------
# One check per function: a missing function costs only its own points.


@check("marginal_contract", "marginal: zero entries, summing out every axis gives 1; ValueError for a bad table or axis")
def marginal_contract(t: Trial) -> None:
    joint = random_pmf(t, (2, 3))
    joint[0, 1] = 0.0
    joint /= joint.sum()
    judge_marginal(t, joint, 0)
    judge_marginal(t, joint, (0, 1))
    bad = joint.copy()
    bad[0, 0], bad[1, 0] = bad[0, 0] + bad[1, 0] + 0.1, -0.1  # still sums to 1, one entry negative
    t.raises("ValueError", "marginal", bad, 0)
    t.raises("ValueError", "marginal", joint * 1.01, 0)
    t.raises("ValueError", "marginal", joint, 2)


@check("bayes_posterior_contract", "bayes_posterior: density likelihoods above 1; ValueError for a bad prior or likelihood, or zero evidence")
def bayes_posterior_contract(t: Trial) -> None:
    k = int(t.rng.integers(3, 6))
    lik = t.rng.uniform(1.2, 3.0, k)  # densities: above 1
    lik[t.rng.integers(k)] = 0.0
    judge_bayes_posterior(t, lik, random_pmf(t, k))
    # P(X) = 0: every hypothesis with a prior > 0 has likelihood 0, and the others a likelihood > 0.
    ruled_out = t.rng.permutation(k) < int(t.rng.integers(1, k))
    priors = random_pmf(t, k) * ~ruled_out
    t.raises("ValueError", "bayes_posterior", np.where(ruled_out, t.rng.uniform(0.1, 1.0, k), 0.0), priors / priors.sum())
    negative = t.rng.uniform(0.1, 1.0, k)
    negative[t.rng.integers(k)] = -float(t.rng.uniform(0.05, 0.5))
    t.raises("ValueError", "bayes_posterior", negative, random_pmf(t, k))
    t.raises("ValueError", "bayes_posterior", t.rng.uniform(0.1, 1.0, k), random_pmf(t, k) * float(t.rng.uniform(1.05, 1.3)))  # priors sum > 1
    t.raises("ValueError", "bayes_posterior", t.rng.uniform(0.1, 1.0, k - 1), random_pmf(t, k))


@check("variance_of_linear_combination_contract", "variance_of_linear_combination: singular cov; the -1e-8 eigenvalue limit from both sides; ValueError for a non-symmetric cov")
def variance_of_linear_combination_contract(t: Trial) -> None:
    cov = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])  # X_1 = X_2
    judge_variance(t, np.array([1.0, -1.0, 0.0]), cov)  # 0: a is in the null space
    judge_variance(t, np.array([0.5, 2.0, -1.0]), cov)
    # Smallest eigenvalue -1e-8 exactly (the last one accepted), -0.5e-8 (round-off of 0), -1.5e-8 (not a covariance).
    Q = np.linalg.qr(t.rng.standard_normal((3, 3)))[0]
    a = t.rng.standard_normal(3)
    judge_variance(t, a, np.diag([2.0, 1.0, -1e-8]))
    judge_variance(t, a, Q @ np.diag([2.0, 1.0, -0.5e-8]) @ Q.T)
    t.raises("ValueError", "variance_of_linear_combination", a, Q @ np.diag([2.0, 1.0, -1.5e-8]) @ Q.T)
    t.raises("ValueError", "variance_of_linear_combination", a, np.diag([2.0, -0.5, 1.0]))
    t.raises("ValueError", "variance_of_linear_combination", a, cov + np.triu(np.ones((3, 3)), 1))
    t.raises("ValueError", "variance_of_linear_combination", a[:2], cov)


@check("mgf_contract", "mgf: parameters at the edges of their ranges; ValueError past them and at t = 1/scale for the Gamma", forbid=DISTRIBUTIONS_FORBID)
def mgf_contract(t: Trial) -> None:
    # Each bad parameter lies past its limit by less than 1, so a limit moved by 1 lets it through.
    tt = t.rng.uniform(-1.5, 1.5, 3)
    p, past = float(t.rng.uniform(0.1, 0.9)), float(t.rng.uniform(0.05, 0.95))
    # sigma in [0.3, 0.7]: taken for the variance (or squared twice), it changes M(t)
    edges = (("bernoulli", {"p": 0.0}), ("bernoulli", {"p": 1.0}), ("binomial", {"n": 0, "p": p}), ("poisson", {"lam": 0.0}), ("normal", {"mu": float(t.rng.uniform(-2.0, 2.0)), "sigma": float(t.rng.uniform(0.3, 0.7))}))
    for dist, params in edges:
        judge_mgf(t, dist, tt, **params)
    shape, scale = float(t.rng.uniform(0.2, 0.9)), float(t.rng.uniform(0.2, 0.5))  # a shape below 1
    judge_mgf(t, "gamma", np.array([-1 - past, float(t.rng.uniform(0.0, 0.9)) / scale, 0.9975 / scale]), shape=shape, scale=scale)  # just below 1 / scale
    judge_mgf(t, "binomial", float(t.rng.uniform(-1.5, 1.5)), n=int(t.rng.integers(1, 6)), p=p)  # a scalar t
    t.raises("ValueError", "mgf", "gamma", np.array([0.5 / scale, 1 / scale]), shape=shape, scale=scale)
    bad = (
        ("bernoulli", {"p": -past}), ("bernoulli", {"p": 1 + past}), ("binomial", {"n": -1, "p": p}), ("binomial", {"n": int(t.rng.integers(0, 5)) + 0.5, "p": p}),
        ("poisson", {"lam": -past}), ("normal", {"mu": float(t.rng.normal()), "sigma": 0.0}), ("gamma", {"shape": 0.0, "scale": scale}), ("gamma", {"shape": shape, "scale": 0.0}),
        ("cauchy", {"loc": float(t.rng.normal())}), ("gamma", {"shape": shape}), ("bernoulli", {"p": p, "n": 2}),
    )
    for i in t.rng.permutation(len(bad)):
        dist, params = bad[i]
        t.raises("ValueError", "mgf", dist, tt, **params)


@check("pmf_of_sum_contract", "pmf_of_sum: a point mass shifts the other pmf; zero entries; ValueError for a bad pmf", forbid=DISTRIBUTIONS_FORBID)
def pmf_of_sum_contract(t: Trial) -> None:
    p = random_pmf(t, 5)
    p[2] = 0.0
    p /= p.sum()
    judge_pmf_of_sum(t, p, np.array([1.0]))
    judge_pmf_of_sum(t, np.array([0.0, 0.0, 1.0]), p)  # X = 2: the pmf of Y moves right by 2
    t.raises("ValueError", "pmf_of_sum", np.array([0.6, -0.1, 0.5]), p)
    t.raises("ValueError", "pmf_of_sum", p, np.array([0.5, 0.4]))
    t.raises("ValueError", "pmf_of_sum", p, np.full((2, 2), 0.25))


@check("mvn_logpdf_contract", "mvn_logpdf: one point; float32 stays float32; ValueError for a bad shape or a non-symmetric, singular or indefinite Sigma", forbid=DISTRIBUTIONS_FORBID)
def mvn_logpdf_contract(t: Trial) -> None:
    mu, Sigma = t.rng.standard_normal(2), random_cov(t, 2)
    judge_mvn_logpdf(t, t.rng.standard_normal(2), mu, Sigma)
    x32, mu32, S32 = (v.astype(np.float32) for v in (t.rng.standard_normal((4, 2)), mu, Sigma))
    got = t.call("mvn_logpdf", t.tensor(x32), t.tensor(mu32), t.tensor(S32))
    want = t.ref.mvn_logpdf(*(torch.tensor(v) for v in (x32, mu32, S32)))
    t.same_kind(got, want, what="mvn_logpdf(x (4, 2), mu (2,), Sigma (2, 2)) in float32")
    if isinstance(got, np.ndarray) and got.dtype != np.float32:
        t.fail(f"mvn_logpdf(x (4, 2), mu (2,), Sigma (2, 2)) in float32: returned dtype {got.dtype}; keep the inputs' dtype")
    t.close(got, want, what="mvn_logpdf(x (4, 2), mu (2,), Sigma (2, 2)) in float32")
    x = t.tensor(t.rng.standard_normal((4, 2)))
    for bad in (np.array([[2.0, 0.5], [0.4, 1.0]]), np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[1.0, 2.0], [2.0, 1.0]])):
        t.raises("ValueError", "mvn_logpdf", x, t.tensor(mu), t.tensor(bad))
    t.raises("ValueError", "mvn_logpdf", t.tensor(t.rng.standard_normal((4, 3))), t.tensor(mu), t.tensor(Sigma))
    t.raises("ValueError", "mvn_logpdf", x, t.tensor(mu), t.tensor(random_cov(t, 3)))


@check("gaussian_mle_contract", "gaussian_mle: n = 2 and n = 1 (zero covariance); ValueError for no rows or a 1-D X", forbid=DISTRIBUTIONS_FORBID)
def gaussian_mle_contract(t: Trial) -> None:
    judge_gaussian_mle(t, t.rng.standard_normal((2, 3)))
    judge_gaussian_mle(t, t.rng.standard_normal((1, 3)))
    t.raises("ValueError", "gaussian_mle", np.zeros((0, 3)))
    t.raises("ValueError", "gaussian_mle", t.rng.standard_normal(4))


@check("gaussian_condition_contract", "gaussian_condition: one index each; ValueError for bad indices, x_b's shape, a non-symmetric Sigma or a singular Sigma_bb")
def gaussian_condition_contract(t: Trial) -> None:
    mu, Sigma = t.rng.standard_normal(4), random_cov(t, 4)
    judge_gaussian_condition(t, mu, Sigma, [0], [3], t.rng.standard_normal(1))
    x_b = t.rng.standard_normal(2)
    for a, b in (([0, 1], [1, 2]), ([0], [2, 4]), ([0], [-1, 2]), ([0, 0], [1, 2]), ([0, 1], np.zeros(0, dtype=int))):
        t.raises("ValueError", "gaussian_condition", mu, Sigma, a, b, x_b if len(b) == 2 else np.zeros(0))
    t.raises("ValueError", "gaussian_condition", mu, Sigma, [0], [1, 2], x_b[:1])
    t.raises("ValueError", "gaussian_condition", mu, Sigma + np.triu(np.ones((4, 4)), 1), [0], [1, 2], x_b)
    singular = Sigma.copy()
    singular[np.ix_([1, 2], [1, 2])] = [[1.0, 2.0], [2.0, 4.0]]  # Sigma_bb singular, still symmetric
    t.raises("ValueError", "gaussian_condition", mu, singular, [0], [1, 2], x_b)


@check("chebyshev_bound_contract", "chebyshev_bound: variance 0 gives 0; ValueError for eps <= 0, a negative or infinite variance")
def chebyshev_bound_contract(t: Trial) -> None:
    variance, eps, past = (float(v) for v in t.rng.uniform([0.1, 0.1, 0.05], [3.0, 3.0, 0.95]))
    judge_chebyshev(t, 0.0, eps)
    bad = ((variance, 0.0), (variance, -eps), (-past, eps), (float("inf"), eps))  # a variance less than 1 below 0
    for i in t.rng.permutation(len(bad)):
        t.raises("ValueError", "chebyshev_bound", *bad[i])
