"""Public checks of the diffusion topic: inputs drawn from the trial's rng (the public seed in a student's own run, the
same every run; fresh ones when the course grades); students run these themselves.

The known mistakes of this topic are declared here (hidden checks import them). Their wrong answers come from the
grader-side maths below (`q_sample_` ... `ddim_`), which computes what the reference computes, or what a submission
with one of the mistakes computes: a student bundle's recorded reference answers only what it was asked when it was
built (autograder.course.recorded), so the reference is asked only about inputs drawn from the rng with exact
arithmetic (no transcendental functions, no matrix products: their last bits may differ between machines), and the
grader-side maths answers the rest. tests/topics/test_diffusion.py holds it to the reference.

The behavioural checks hand the student's sampler the trusted component "gmm_eps": the exact noise predictor of a
Gaussian mixture (autograder.sandbox.components), so a right sampler must reproduce the mixture.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Sequence

import numpy as np
import torch

from autograder.engine.checks import CheckFailed, Mistake, Program, StudentError, Trial, check
from autograder.reports import plots
from autograder.sandbox import components

ALPHA_BARS_NO_ONE = Mistake(
    "alpha-bars-without-abar0",
    "alpha_bars has no leading abar_0 = 1: T values, so alpha_bars[t] is abar_{t+1}",
    "Return torch.cat([ones(1), cumprod(1 - betas)]), shape (T + 1,): then alpha_bars[t] is abar_t for the t of beta_t = betas[t - 1], and abar_{t-1} exists at t = 1.",
)
COSINE_UNCLIPPED = Mistake(
    "cosine-beta-unclipped",
    "the cosine schedule's betas are not clipped at 0.999: f(T) = 0 makes beta_T = 1 (alpha_T = 0)",
    "beta_t = min(1 - abar_t / abar_{t-1}, 0.999): with beta_T = 1 the reverse mean divides by sqrt(alpha_T) = 0.",
)
Q_NO_SQRT = Mistake(
    "q-sample-without-sqrt",
    "q_sample scales by abar_t (or 1 - abar_t) where the square root is meant",
    "x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps: abar_t and 1 - abar_t are the variances of the two parts, so the coefficients are their square roots (and x_t has unit variance for unit-variance data).",
)
T_INDEX_MIXED = Mistake(
    "t-index-mixed",
    "t is used 0-based where it is 1-based (or the reverse): abar_t read as alpha_bars[t - 1], or eps_model called with t outside 1..T",
    "t runs over 1..T: beta_t = betas[t - 1] (0-based array), abar_t = alpha_bars(betas)[t] (alpha_bars[0] = 1), and a sampler loops for t in range(T, 0, -1).",
)
ABAR_PREV_SHIFTED = Mistake(
    "alpha-bar-prev-shifted",
    "abar_{t-1} in the posterior is shifted by one step (abar_t used): the variance is beta_t, not beta_tilde_t (beta_1 at t = 1 instead of 0); tiny at large t, plain at t = 1 and 2",
    "abar_{t-1} = alpha_bars(betas)[t - 1]: beta_tilde_t = (1 - abar_{t-1}) beta_t / (1 - abar_t), which is 0 at t = 1 (abar_0 = 1) and beta_1 beta_2 / (1 - abar_2) at t = 2.",
)
BETA_FOR_BETA_TILDE = Mistake(
    "beta-for-beta-tilde",
    "beta_t and the posterior variance beta_tilde_t = (1 - abar_{t-1}) beta_t / (1 - abar_t) are confused: one is used where the other is meant",
    "q(x_{t-1} | x_t, x_0) has variance beta_tilde_t (< beta_t, 0 at t = 1); DDPM's sampler (Algorithm 2 here) adds noise of variance sigma_t^2 = beta_t.",
)
LOG_VARIANCE_UNCLIPPED = Mistake(
    "log-variance-unclipped",
    "the log-variance is log beta_tilde_t unclipped: log 0 = -inf at t = 1",
    "beta_tilde_1 = 0, so Ho et al.'s code clips the log: at t = 1 use log beta_tilde_2; at t >= 2, log beta_tilde_t.",
)
SQRT_ONE_MINUS_ALPHA = Mistake(
    "sqrt-one-minus-alpha",
    "the reverse mean divides the noise by sqrt(1 - alpha_t) instead of sqrt(1 - alpha_bar_t) (0.734 instead of 0.516 on the documented case)",
    "mu_theta = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t): eps is the noise of ALL t steps, whose standard deviation in x_t is sqrt(1 - abar_t); sqrt(1 - alpha_t) is one step's (they agree at t = 1 only).",
)
LOSS_SUMMED = Mistake(
    "loss-summed",
    "the loss sums the squared errors (over every element, or over the d dimensions) instead of averaging over all n * d elements",
    "L_simple = mean((eps - eps_model(x_t, t))^2) over all elements (F.mse_loss's default): a sum grows with the batch and the dimension, and so does the step a learning rate gives.",
)
NOISE_AT_LAST_STEP = Mistake(
    "noise-at-last-step",
    "the sampler adds noise at the last step (t = 1) too",
    "No noise at t = 1: x_0 = p_mean(x_1, 1, eps_model(x_1, 1)) is the sample (z_1 = 0; noise_seq[0] is never used). Noise there only blurs the samples.",
)
SIGMA_IS_VARIANCE = Mistake(
    "sigma-is-variance",
    "the sampler scales its noise by beta_t, the variance, instead of the standard deviation sigma_t = sqrt(beta_t)",
    "sigma_t^2 = beta_t is a variance: add torch.sqrt(beta_t) * z_t. With beta_t itself the noise is far too small (0.01 for a standard deviation of 0.1) and the samples crowd onto a few modes.",
)
DDIM_IGNORES_ETA = Mistake(
    "ddim-ignores-eta",
    "ddim_step ignores eta: no fresh noise sigma * noise is added when eta > 0",
    "sigma = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev); x_prev = sqrt(abar_prev) x_0 + sqrt(1 - abar_prev - sigma^2) eps + sigma noise.",
)

# The grader-side maths below names its variants by these faults; each is one of the mistakes above.
FAULTS = {
    "no-sqrt": Q_NO_SQRT, "no-sqrt-both": Q_NO_SQRT, "index": T_INDEX_MIXED, "prev": ABAR_PREV_SHIFTED, "beta": BETA_FOR_BETA_TILDE,
    "unclipped": LOG_VARIANCE_UNCLIPPED, "alpha": SQRT_ONE_MINUS_ALPHA, "sum": LOSS_SUMMED, "sum-dims": LOSS_SUMMED,
    "last-noise": NOISE_AT_LAST_STEP, "beta-tilde": BETA_FOR_BETA_TILDE, "sigma-variance": SIGMA_IS_VARIANCE, "eta": DDIM_IGNORES_ETA,
}
Q_FAULTS = ("no-sqrt", "no-sqrt-both", "index")


# ---- the grader-side maths: what the reference computes, or what a submission with `fault` computes -------------


def tensor(a: Any) -> torch.Tensor:
    return torch.from_numpy(np.array(a, dtype=np.float64))


def times(t: Any, n: int) -> torch.Tensor:
    return torch.full((n,), t) if isinstance(t, int) else torch.as_tensor(t)


def abar_of(betas: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.ones(1, dtype=betas.dtype), torch.cumprod(1 - betas, 0)])


def q_sample_(x0: torch.Tensor, t: Any, eps: torch.Tensor, betas: torch.Tensor, fault: str | None = None) -> torch.Tensor:
    t = times(t, len(x0))
    a = abar_of(betas)[t - 1 if fault == "index" else t][:, None]
    noise = 1 - a if fault == "no-sqrt-both" else torch.sqrt(1 - a)
    return (a if fault in ("no-sqrt", "no-sqrt-both") else torch.sqrt(a)) * x0 + noise * eps


def q_posterior_(x0: torch.Tensor, xt: torch.Tensor, t: Any, betas: torch.Tensor, fault: str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    t, ab = times(t, len(x0)), abar_of(betas)
    beta, a, a_prev = betas[t - 1][:, None], ab[t][:, None], ab[t if fault == "prev" else t - 1][:, None]
    variance = beta if fault == "beta" else (1 - a_prev) * beta / (1 - a)
    mean = (torch.sqrt(a_prev) * beta * x0 + torch.sqrt(1 - beta) * (1 - a_prev) * xt) / (1 - a)
    second = (1 - ab[1]) * betas[1] / (1 - ab[2])  # beta_tilde_2, the clip at t = 1
    return mean, variance, torch.log(variance if fault == "unclipped" else torch.where(t[:, None] == 1, second, variance))


def predict_x0_(xt: torch.Tensor, t: Any, eps: torch.Tensor, betas: torch.Tensor, fault: str | None = None) -> torch.Tensor:
    t = times(t, len(xt))
    a = abar_of(betas)[t - 1 if fault == "index" else t][:, None]
    return (xt - torch.sqrt(1 - a) * eps) / torch.sqrt(a)


def p_mean_(xt: torch.Tensor, t: Any, eps: torch.Tensor, betas: torch.Tensor, fault: str | None = None) -> torch.Tensor:
    t = times(t, len(xt))
    beta, a = betas[t - 1][:, None], abar_of(betas)[t - 1 if fault == "index" else t][:, None]
    return (xt - beta / torch.sqrt(beta if fault == "alpha" else 1 - a) * eps) / torch.sqrt(1 - beta)


def loss_(model: Any, x0: torch.Tensor, t: Any, eps: torch.Tensor, betas: torch.Tensor, fault: str | None = None) -> torch.Tensor:
    squared = (eps - model(q_sample_(x0, t, eps, betas, fault if fault in Q_FAULTS else None), t)) ** 2
    return squared.sum() if fault == "sum" else squared.sum(1).mean() if fault == "sum-dims" else squared.mean()


def sample_(model: Any, x_T: torch.Tensor, noise: torch.Tensor, betas: torch.Tensor, fault: str | None = None) -> torch.Tensor:
    x, ab = x_T, abar_of(betas)
    for t in range(len(betas), 0, -1):
        x = p_mean_(x, t, model(x, t), betas, fault if fault == "alpha" else None)
        variance = (1 - ab[t - 1]) * betas[t - 1] / (1 - ab[t]) if fault == "beta-tilde" else betas[t - 1]
        if t > 1 or fault == "last-noise":
            x = x + (variance if fault == "sigma-variance" else torch.sqrt(variance)) * noise[t - 1]
    return x


def ddim_(xt: torch.Tensor, t: int, t_prev: int, eps: torch.Tensor, betas: torch.Tensor, eta: float = 0.0, noise: Any = None, fault: str | None = None) -> torch.Tensor:
    ab = abar_of(betas)
    a, a_prev = ab[t], ab[t_prev]
    x0 = (xt - torch.sqrt(1 - a) * eps) / torch.sqrt(a)
    sigma = eta * torch.sqrt((1 - a_prev) / (1 - a) * (1 - a / a_prev))
    x = torch.sqrt(a_prev) * x0 + torch.sqrt(1 - a_prev - sigma**2) * eps
    return x if eta == 0 or fault == "eta" else x + sigma * noise


def variants(fn: Callable[..., Any], faults: Sequence[str], *args: Any) -> list[tuple[Mistake, Any]]:
    """The known mistakes' answers: fn(*args, fault=f) for each fault."""
    with torch.no_grad():
        return [(FAULTS[f], fn(*args, fault=f)) for f in faults]


# ---- inputs ---------------------------------------------------------------------------------------------------------


def linear(rng: np.random.Generator, low: int, high: int) -> np.ndarray:
    """A linear schedule of T in low..high steps with large betas (from 0.01-0.05 to 0.2-0.4), where every mistake shows."""
    return np.linspace(rng.uniform(0.01, 0.05), rng.uniform(0.2, 0.4), int(rng.integers(low, high + 1)))


def timesteps(rng: np.random.Generator, n: int, steps: int) -> np.ndarray:
    """n times in 1..T (int64) with 1, 2 and T among them (as many as n allows): where the off-by-one mistakes show."""
    t = rng.integers(1, steps + 1, n)
    t[rng.permutation(n)[:3]] = [1, 2, steps][:n]
    return t


def case(rng: np.random.Generator, n: int, d: int, low: int = 5, high: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, t, eps, betas): data, times with 1, 2 and T, noise and a schedule."""
    betas = linear(rng, low, high)
    return rng.normal(0.0, 1.5, (n, d)), timesteps(rng, n, len(betas)), rng.standard_normal((n, d)), betas


TRIANGLE = np.array([[1.0, 0.0], [-0.5, math.sqrt(3.0) / 2], [-0.5, -math.sqrt(3.0) / 2]])
RADIUS, SD = 2.5, (0.35, 0.6)  # the mixture: 3 components 4.3 apart, standard deviations 0.35 to 0.6


def unit(rng: np.random.Generator, k: int) -> np.ndarray:
    v = rng.standard_normal((k, 2))
    return v / np.sqrt(v[:, :1] * v[:, :1] + v[:, 1:] * v[:, 1:])


def mixture(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights (3,), means (3, 2), covariances (3, 2, 2)): means on a randomly turned triangle of radius RADIUS,
    weights from 0.2 to 0.5, each covariance with random axes and standard deviations in SD. Exact arithmetic only
    (the recorded reference knows the mixture by its bits)."""
    w = rng.uniform(1.0, 2.0, 3)
    turn, axes, sd = unit(rng, 1)[0], unit(rng, 3), rng.uniform(*SD, (3, 2))
    means = RADIUS * (TRIANGLE[:, :1] * np.array([turn[0], turn[1]]) + TRIANGLE[:, 1:] * np.array([-turn[1], turn[0]]))
    u, v = axes[:, :, None] * axes[:, None, :], np.eye(2) - axes[:, :, None] * axes[:, None, :]
    return w / (w[0] + w[1] + w[2]), means, sd[:, :1, None] ** 2 * u + sd[:, 1:, None] ** 2 * v


# ---- judging --------------------------------------------------------------------------------------------------------


def expect_value_error(t: Trial, why: str, fn: str, *args: Any, program: Program | None = None, **kwargs: Any) -> None:
    """fn(*args, **kwargs) must raise ValueError, because `why`; with `program`, as the last step of it."""
    p = program or t.program()
    try:
        t.raises_in("ValueError", p, p.call(fn, *args, **kwargs))
    except CheckFailed as failure:
        t.fail(f"{failure.message}: {why}")


def judge_triple(t: Trial, got: Any, want: tuple[torch.Tensor, ...], what: str, found: Sequence[tuple[Mistake, tuple[torch.Tensor, ...]]]) -> None:
    """q_posterior's (mean, variance, log_variance) against `want`, the mean first: a mistake shows where it starts."""
    t.same_kind(got, want, what=what)
    if len(got) != 3:
        t.fail(f"{what}: returned a tuple of {len(got)} values; expected 3, (mean, variance, log_variance)")
    for i, name in enumerate(("mean", "variance", "log_variance")):
        t.close(got[i], want[i], what=f"{what}[{i}], the {name}", variants=[(m, v[i]) for m, v in found])


def sampler_error(t: Trial, exc: StudentError) -> None:
    """A sampler that called the trusted noise predictor at a time outside 1..T made the index mistake."""
    if not exc.not_attempted and "gmm_eps: t must be in 1.." in exc.text:
        t.fail(f"{exc.call} raised {exc.type}: {exc.text.splitlines()[0]}; your sampler called eps_model with a t outside 1..T: your answer matches a known mistake: {T_INDEX_MIXED.title}. {T_INDEX_MIXED.fix}", mistake=T_INDEX_MIXED)


def describe_t(t: np.ndarray) -> str:
    return f"t = {t.tolist()}" if len(t) <= 8 else f"t of shape {t.shape} (1, 2 and T among them)"


# ---- schedules ------------------------------------------------------------------------------------------------------


@check("linear_beta_schedule", "linear_beta_schedule: Ho et al.'s defaults for T = 1000 and a random T, beta_1, beta_T, against torch.linspace in float64")
def linear_beta_schedule(t: Trial) -> None:
    t.close(t.call("linear_beta_schedule", 1000), t.ref.linear_beta_schedule(1000), what="linear_beta_schedule(1000) (defaults beta_1 = 1e-4, beta_T = 0.02)")
    steps, b1, bt = int(t.rng.integers(2, 50)), float(t.rng.uniform(1e-4, 0.05)), float(t.rng.uniform(0.05, 0.9))
    t.close(t.call("linear_beta_schedule", steps, b1, bt), torch.linspace(b1, bt, steps, dtype=torch.float64), what=f"linear_beta_schedule({steps}, {b1!r}, {bt!r}) against torch.linspace")


def cosine_(steps: int, s: float = 0.008, fault: str | None = None) -> torch.Tensor:
    f = torch.cos((torch.arange(steps + 1, dtype=torch.float64) / steps + s) / (1 + s) * math.pi / 2) ** 2
    betas = 1 - f[1:] / f[:-1]
    return betas if fault == "unclipped" else torch.clamp(betas, max=0.999)


def judge_cosine(t: Trial, steps: int, s: float | None, what: str) -> None:
    args = (steps,) if s is None else (steps, s)
    found = [(COSINE_UNCLIPPED, cosine_(*args, fault="unclipped"))]
    t.close(t.call("cosine_schedule", *args), t.ref.cosine_schedule(*args), what=what, variants=found)


@check("cosine_schedule", "cosine_schedule: the default s = 0.008 and a random s, against f(t) = cos^2(((t / T + s) / (1 + s)) pi / 2), the last beta clipped to 0.999")
def cosine_schedule(t: Trial) -> None:
    steps = int(t.rng.integers(5, 60))
    judge_cosine(t, steps, None, f"cosine_schedule({steps}) (s = 0.008; beta_{steps} = min(1, 0.999))")
    s = float(t.rng.uniform(0.001, 0.05))
    judge_cosine(t, steps, s, f"cosine_schedule({steps}, s={s!r})")


def judge_alpha_bars(t: Trial, betas: np.ndarray, what: str) -> None:
    want = t.ref.alpha_bars(tensor(betas))
    t.close(t.call("alpha_bars", t.tensor(betas)), want, what=what, variants=[(ALPHA_BARS_NO_ONE, want[1:])])


@check("alpha_bars", "alpha_bars: [1, cumprod(1 - betas)] of shape (T + 1,) on a random schedule and Ho et al.'s")
def alpha_bars(t: Trial) -> None:
    betas = linear(t.rng, 5, 12)
    judge_alpha_bars(t, betas, f"alpha_bars(betas) with betas of shape ({len(betas)},) (expected shape ({len(betas) + 1},), alpha_bars[0] = 1)")
    judge_alpha_bars(t, np.linspace(1e-4, 0.02, 1000), "alpha_bars(linear_beta_schedule(1000)) (Ho et al.'s schedule: abar_1000 = 4.0e-5)")


# ---- the forward process and its posterior -------------------------------------------------------------------------


# The functions of (x, t, y, betas): their grader-side maths and known mistakes.
ELEMENTWISE = {"q_sample": (q_sample_, Q_FAULTS), "predict_x0": (predict_x0_, ("index",)), "p_mean": (p_mean_, ("alpha", "index"))}


def judge_fn(t: Trial, fn: str, x: np.ndarray, steps: Any, y: np.ndarray, betas: np.ndarray, what: str, want: Any = None) -> None:
    """fn(x, t, y, betas) (t an int or an array of times) against the reference, or `want`, naming the known mistakes."""
    maths, faults = ELEMENTWISE[fn]
    args = (tensor(x), steps if isinstance(steps, int) else torch.from_numpy(steps), tensor(y), tensor(betas))
    got = t.call(fn, t.tensor(x), steps if isinstance(steps, int) else t.tensor(steps), t.tensor(y), t.tensor(betas))
    t.close(got, getattr(t.ref, fn)(*args) if want is None else want, what=what, variants=variants(maths, faults, *args))


@check("q_sample", "q_sample: sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps on a batch with one time per row (t = 1, 2 and T among them)")
def q_sample(t: Trial) -> None:
    x0, steps, eps, betas = case(t.rng, 6, 2)
    judge_fn(t, "q_sample", x0, steps, eps, betas, f"q_sample(x0 (6, 2), {describe_t(steps)}, eps, betas of T = {len(betas)})")


def judge_q_posterior(t: Trial, x0: np.ndarray, xt: np.ndarray, steps: Any, betas: np.ndarray, what: str) -> None:
    args = (tensor(x0), tensor(xt), steps if isinstance(steps, int) else torch.from_numpy(steps), tensor(betas))
    got = t.call("q_posterior", t.tensor(x0), t.tensor(xt), steps if isinstance(steps, int) else t.tensor(steps), t.tensor(betas))
    judge_triple(t, got, t.ref.q_posterior(*args), what, variants(q_posterior_, ("beta", "prev", "unclipped"), *args))


@check("q_posterior", "q_posterior: (mean, variance, log_variance) against the reference on a batch with t = 1, 2 and T among the rows")
def q_posterior(t: Trial) -> None:
    x0, steps, xt, betas = case(t.rng, 6, 2)
    judge_q_posterior(t, x0, xt, steps, betas, f"q_posterior(x0 (6, 2), xt (6, 2), {describe_t(steps)}, betas of T = {len(betas)})")


@check("q_posterior_edges", "q_posterior at t = 1, 2 and T of Ho et al.'s schedule (T = 1000): beta_tilde_1 = 0 and its clipped log log beta_tilde_2, beta_tilde_2 = beta_1 beta_2 / (1 - abar_2), beta_tilde_T; where a shifted abar_{t-1} shows")
def q_posterior_edges(t: Trial) -> None:
    betas = np.linspace(1e-4, 0.02, 1000)
    x0, xt = t.rng.normal(0.0, 1.5, (3, 2)), t.rng.normal(0.0, 1.5, (3, 2))
    ab = np.concatenate([[1.0], np.cumprod(1 - betas)])
    second = betas[0] * betas[1] / (1 - ab[2])
    what = f"q_posterior(x0 (3, 2), xt (3, 2), t = [1, 2, 1000], linear_beta_schedule(1000)) (variances expected [0, beta_1 beta_2 / (1 - abar_2) = {second:.6g}, (1 - abar_999) beta_1000 / (1 - abar_1000) = {(1 - ab[999]) * betas[999] / (1 - ab[1000]):.6g}], log-variance at t = 1 log beta_tilde_2 = {math.log(second):.6g})"
    judge_q_posterior(t, x0, xt, np.array([1, 2, 1000]), betas, what)


def product(x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The posterior as the normalised product of q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t) and
    q(x_{t-1} | x_0) = N(sqrt(abar_{t-1}) x_0, 1 - abar_{t-1}) in x_{t-1}: precisions add, means are precision-weighted.
    At t = 1 the second factor is the point x_0 (variance 0)."""
    ab = abar_of(betas)
    alpha, beta, prior = 1 - betas[t - 1][:, None], betas[t - 1][:, None], 1 - ab[t - 1][:, None]
    first = t[:, None] == 1
    precision = alpha / beta + 1 / torch.where(first, 1.0, prior)
    mean = (torch.sqrt(alpha) * xt / beta + torch.sqrt(ab[t - 1][:, None]) * x0 / torch.where(first, 1.0, prior)) / precision
    return torch.where(first, x0, mean), torch.where(first, 0.0, 1 / precision)


@check("q_posterior_product", "q_posterior's mean and variance are the normalised product of q(x_t | x_{t-1}) and q(x_{t-1} | x_0) (precisions add, means precision-weighted), and the point x_0 at t = 1")
def q_posterior_product(t: Trial) -> None:
    x0, steps, xt, betas = case(t.rng, 8, 2)
    args = (tensor(x0), tensor(xt), torch.from_numpy(steps), tensor(betas))
    got = t.call("q_posterior", t.tensor(x0), t.tensor(xt), t.tensor(steps), t.tensor(betas))
    mean, variance = product(*args)
    found = variants(q_posterior_, ("beta", "prev"), *args)
    what = f"q_posterior(x0 (8, 2), xt (8, 2), {describe_t(steps)}, betas of T = {len(betas)}) against the product of Gaussians"
    t.same_kind(got, (mean, variance, variance), what=what)
    if len(got) != 3:
        t.fail(f"{what}: returned a tuple of {len(got)} values; expected 3, (mean, variance, log_variance)")
    t.close(got[0], mean, what=f"{what}: the mean", variants=[(m, v[0]) for m, v in found])
    t.close(got[1], variance, what=f"{what}: the variance", variants=[(m, v[1]) for m, v in found])


# ---- the forward process against iterating its steps (Monte Carlo) ------------------------------------------------

CHAIN_N, CHAIN_SIGMAS = 2000, 5.0  # draws per time; the moments' tolerance in standard errors


@check("q_sample_chain", f"q_sample against iterating x_s = sqrt(alpha_s) x_(s-1) + sqrt(beta_s) z_s from x_0 at t = 1, 2 and T: means and variances of {CHAIN_N} draws each within {CHAIN_SIGMAS:g} standard errors, and exactly the chain's x_t from the chain's own noise")
def q_sample_chain(t: Trial) -> None:
    betas = linear(t.rng, 6, 10)
    steps = np.repeat([1, 2, len(betas)], CHAIN_N)
    x0 = np.repeat(t.rng.normal(0.0, 1.5, (3, 2)), CHAIN_N, axis=0)
    z = t.rng.standard_normal((len(betas), len(x0), 2))
    chain, total = x0.copy(), np.zeros_like(x0)  # the chain, and its accumulated noise sum_s (prod_{r > s} sqrt(alpha_r)) sqrt(beta_s) z_s
    for s in range(1, len(betas) + 1):
        live = (steps >= s)[:, None]
        chain = np.where(live, np.sqrt(1 - betas[s - 1]) * chain + np.sqrt(betas[s - 1]) * z[s - 1], chain)
        total = np.where(live, np.sqrt(1 - betas[s - 1]) * total + np.sqrt(betas[s - 1]) * z[s - 1], total)
    ab = np.concatenate([[1.0], np.cumprod(1 - betas)])
    eps_chain = total / np.sqrt(1 - ab[steps])[:, None]  # N(0, I) exactly: the chain's noise as one draw
    fresh = t.rng.standard_normal(x0.shape)
    p = t.program()
    sent = [t.tensor(a) for a in (x0, steps, fresh, eps_chain, betas)]
    got, exact = p.run(p.call("q_sample", sent[0], sent[1], sent[2], sent[4]), p.call("q_sample", sent[0], sent[1], sent[3], sent[4]))
    args = (tensor(x0), torch.from_numpy(steps), tensor(eps_chain), tensor(betas))
    what = f"q_sample(x0, t, eps, betas of T = {len(betas)}) with eps = the chain's accumulated noise / sqrt(1 - abar_t) (expected the chain's own x_t)"

    def judge_exact() -> None:
        t.close(exact, tensor(chain), what=what, variants=variants(q_sample_, Q_FAULTS, *args))

    if np.shape(got) == x0.shape:
        for k, s in enumerate((1, 2, len(betas))):
            rows = slice(k * CHAIN_N, (k + 1) * CHAIN_N)
            ours, theirs = chain[rows], np.asarray(got[rows], dtype=np.float64)
            se = np.sqrt((ours.var(0) + theirs.var(0)) / CHAIN_N)
            ratio, ratio_se = np.log(theirs.var(0) / ours.var(0)), math.sqrt(4.0 / (CHAIN_N - 1))
            bad = [f"the mean of x_t[{i}] is {theirs.mean(0)[i]:.4f}, the chain's {ours.mean(0)[i]:.4f} (standard error {se[i]:.3g})" for i in range(2) if abs(theirs.mean(0)[i] - ours.mean(0)[i]) > CHAIN_SIGMAS * se[i]]
            bad += [f"the variance of x_t[{i}] is {theirs.var(0)[i]:.4f}, the chain's {ours.var(0)[i]:.4f} (a ratio off by more than {CHAIN_SIGMAS:g} standard errors of {ratio_se:.3g} in its log)" for i in range(2) if not abs(ratio[i]) <= CHAIN_SIGMAS * ratio_se]
            if bad:
                judge_exact()  # a known mistake explains the moments best
                t.fail(f"q_sample(x0, t = {s}, eps, betas of T = {len(betas)}) on {CHAIN_N} draws of fresh noise from x_0 = {np.round(x0[k * CHAIN_N], 4).tolist()}, against {CHAIN_N} runs of the chain: {'; '.join(bad)}")
    judge_exact()


# ---- predicting x_0, and the reverse mean ----------------------------------------------------------------------------


@check("predict_x0", "predict_x0: (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), and x_0 back from the reference's q_sample(x_0, t, eps)")
def predict_x0(t: Trial) -> None:
    x, steps, eps, betas = case(t.rng, 6, 2)
    judge_fn(t, "predict_x0", x, steps, eps, betas, f"predict_x0(xt (6, 2), {describe_t(steps)}, eps, betas of T = {len(betas)})")
    xt = t.ref.q_sample(tensor(x), torch.from_numpy(steps), tensor(eps), tensor(betas)).numpy()
    judge_fn(t, "predict_x0", xt, steps, eps, betas, f"predict_x0(q_sample(x0, t, eps, betas), {describe_t(steps)}, eps, betas) (expected x0 back)", want=tensor(x))


@check("p_mean", "p_mean: (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t), 0.516 on the documented case (sqrt(1 - alpha_t) gives 0.734), then a batch with t = 1, 2 and T")
def p_mean(t: Trial) -> None:
    judge_fn(t, "p_mean", np.array([[0.0]]), 2, np.array([[-1.0]]), np.array([0.55, 0.35]), "p_mean(x_t = [[0]], t = 2, eps = [[-1]], betas = [0.55, 0.35]) (expected 0.35 / sqrt(1 - 0.45 * 0.65) / sqrt(0.65) = 0.516)")
    xt, steps, eps, betas = case(t.rng, 6, 2)
    judge_fn(t, "p_mean", xt, steps, eps, betas, f"p_mean(xt (6, 2), {describe_t(steps)}, eps, betas of T = {len(betas)})")


@check("p_mean_posterior", "your p_mean(x_t, t, eps) is your q_posterior's mean at x_0 = your predict_x0(x_t, t, eps), with t = 1, 2 and T among the rows: combines the three", combines=("q_posterior", "predict_x0"))
def p_mean_posterior(t: Trial) -> None:
    xt, steps, eps, betas = case(t.rng, 6, 2)
    p = t.program()
    sent = [t.tensor(a) for a in (xt, steps, eps, betas)]
    x0 = p.call("predict_x0", *sent)
    mean, x0_got, posterior = p.run(p.call("p_mean", *sent), x0, p.call("q_posterior", x0, sent[0], sent[1], sent[3]))
    args = (tensor(xt), torch.from_numpy(steps), tensor(eps), tensor(betas))
    post_args = (predict_x0_(*args), tensor(xt), torch.from_numpy(steps), tensor(betas))
    what = f"q_posterior(predict_x0(xt, t, eps, betas), xt, {describe_t(steps)}, betas) with xt (6, 2), betas of T = {len(betas)}"

    def each() -> None:  # each function against the reference formula, naming a known mistake
        t.close(x0_got, post_args[0], what="predict_x0(xt, t, eps, betas)", variants=variants(predict_x0_, ("index",), *args))
        t.close(mean, p_mean_(*args), what="p_mean(xt, t, eps, betas)", variants=variants(p_mean_, ("alpha", "index"), *args))
        judge_triple(t, posterior, q_posterior_(*post_args), what, variants(q_posterior_, ("beta", "prev", "unclipped"), *post_args))

    t.same_kind(posterior, q_posterior_(*post_args), what=what)
    try:
        if len(posterior) == 3:
            t.close(mean, posterior[0], what=f"p_mean(xt, t, eps, betas) against your {what}[0], the posterior mean: they are the same formula")
    except CheckFailed:
        each()
        raise
    each()


# ---- the training loss ----------------------------------------------------------------------------------------------

WIDTH = 8  # the hidden width of the eps_mlp the loss checks hand over


def eps_mlp(rng: np.random.Generator, d: int) -> tuple[np.ndarray, ...]:
    return rng.normal(0.0, 1.0, (WIDTH, d + 1)), rng.normal(0.0, 0.5, WIDTH), rng.normal(0.0, 0.5, (d, WIDTH)), rng.normal(0.0, 0.3, d)


def judge_loss(t: Trial, weights: tuple[np.ndarray, ...], x0: np.ndarray, steps: Any, eps: np.ndarray, betas: np.ndarray, what: str) -> None:
    """ddpm_loss with the trusted eps_mlp, and its gradient with respect to the network's weights."""
    local = [tensor(w).requires_grad_() for w in weights]
    args = (tensor(x0), steps if isinstance(steps, int) else torch.from_numpy(steps), tensor(eps), tensor(betas))
    model = components.build("eps_mlp", *local, np.array(len(betas)), device="cpu")
    want = t.ref.ddpm_loss(model, *args)
    want_grads = torch.autograd.grad(want, local)
    found = []
    for fault in ("sum", "sum-dims", *Q_FAULTS):
        value = loss_(model, *args, fault=fault)
        found.append((FAULTS[fault], value.detach(), torch.autograd.grad(value, local)))
    p = t.program()
    sent = [t.tensor(w, grad=True) for w in weights]
    loss = p.call("ddpm_loss", p.component("eps_mlp", *sent, np.array(len(betas))), t.tensor(x0), steps if isinstance(steps, int) else t.tensor(steps), t.tensor(eps), t.tensor(betas))
    value, grads = p.run(loss, p.grad(loss, sent, np.array(1.0)))
    t.close(value, want.detach(), what=what, variants=[(m, v) for m, v, _ in found])
    if grads is None:
        t.fail(f"{what}: returned a value with no autograd graph back to eps_model's weights; the loss must be computed with torch from eps_model's output so that training can differentiate it")
    for j, name in enumerate(("w1", "b1", "w2", "b2")):
        t.close(grads[j], want_grads[j], what=f"{what}: d loss / d {name} of eps_model (autograd)", variants=[(m, g[j]) for m, _, g in found])


@check("ddpm_loss", "ddpm_loss: the mean over all elements of (eps - eps_model(x_t, t))^2 with a small time-conditioned network, and its gradient w.r.t. the network's weights")
def ddpm_loss(t: Trial) -> None:
    x0, steps, eps, betas = case(t.rng, 6, 2)
    judge_loss(t, eps_mlp(t.rng, 2), x0, steps, eps, betas, f"ddpm_loss(eps_mlp, x0 (6, 2), {describe_t(steps)}, eps, betas of T = {len(betas)})")


# ---- sampling ---------------------------------------------------------------------------------------------------------


def run_sampler(t: Trial, mix: tuple[np.ndarray, ...], x_T: np.ndarray, noise: np.ndarray, betas: np.ndarray, *attrs: str) -> list[Any]:
    """Your ancestral_sample with the trusted mixture noise predictor, and the predictor's `attrs` after it ran."""
    p = t.program()
    model = p.component("gmm_eps", *mix, betas)
    out = p.call("ancestral_sample", model, t.tensor(x_T), t.tensor(noise), t.tensor(betas))
    try:
        return p.run(out, *(p.attr(model, a) for a in attrs))
    except StudentError as exc:
        sampler_error(t, exc)
        raise


def judge_sample(t: Trial, mix: tuple[np.ndarray, ...], x_T: np.ndarray, noise: np.ndarray, betas: np.ndarray, what: str, got: Any = None) -> None:
    """Your samples against the reference's from the same x_T and noise (`got`: your first rows, when the check has them)."""
    args = (tensor(x_T), tensor(noise), tensor(betas))
    want = t.ref.ancestral_sample(components.build("gmm_eps", *mix, betas, device="cpu"), *args)
    if got is None:
        got, steps = run_sampler(t, mix, x_T, noise, betas, "times")
        expected = list(range(len(betas), 0, -1))
        if [int(s) for s in np.ravel(steps)] != expected:
            t.fail(f"{what}: your sampler called eps_model at t = {[int(s) for s in np.ravel(steps)]}; Algorithm 2 calls it once per step, at t = {len(betas)}, {len(betas) - 1}, ..., 1")
    try:
        t.close(got, want, what=what)
    except CheckFailed:  # the known mistakes' samples, run only for a wrong answer (each is a whole sampler run)
        model = components.build("gmm_eps", *mix, betas, device="cpu")
        t.close(got, want, what=what, variants=variants(lambda *a, fault: sample_(model, *a, fault=fault), ("last-noise", "beta-tilde", "sigma-variance", "alpha"), *args))
        raise


@check("ancestral_sample", "ancestral_sample with a trusted mixture noise predictor: eps_model called at t = T..1, and the reference's x_0 from the same x_T and noise, with no noise at the last step (noise_seq[0] is large)")
def ancestral_sample(t: Trial) -> None:
    betas = linear(t.rng, 6, 10)
    x_T, noise = t.rng.standard_normal((6, 2)), t.rng.standard_normal((len(betas), 6, 2))
    noise[0] *= 10.0  # never used: noise there shows
    judge_sample(t, mixture(t.rng), x_T, noise, betas, f"ancestral_sample(gmm_eps, x_T (6, 2), noise_seq ({len(betas)}, 6, 2), betas of T = {len(betas)})")


def judge_ddim(t: Trial, xt: np.ndarray, steps: tuple[int, int], eps: np.ndarray, betas: np.ndarray, what: str, **kwargs: Any) -> None:
    args = (tensor(xt), *steps, tensor(eps), tensor(betas))
    sent = {k: t.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    local = {k: tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    got = t.call("ddim_step", t.tensor(xt), *steps, t.tensor(eps), t.tensor(betas), **sent)
    found = [(DDIM_IGNORES_ETA, ddim_(*args, **local, fault="eta"))] if kwargs.get("eta") else []
    t.close(got, t.ref.ddim_step(*args, **local), what=what, variants=found)


@check("ddim_step", "ddim_step: eta = 0 by default, skipping steps; t_prev = 0 gives predict_x0; eta = 0.6 with noise; eta = 1 to t - 1 is DDPM's step with sigma^2 = beta_tilde_t")
def ddim_step(t: Trial) -> None:
    xt, _, eps, betas = case(t.rng, 5, 2)
    steps = len(betas)
    z = t.rng.standard_normal(xt.shape)
    jump = int(t.rng.integers(2, steps - 1))
    judge_ddim(t, xt, (steps, jump), eps, betas, f"ddim_step(xt (5, 2), t = {steps}, t_prev = {jump}, eps, betas) (eta = 0 by default)")
    got = t.call("ddim_step", t.tensor(xt), jump, 0, t.tensor(eps), t.tensor(betas))
    t.close(got, predict_x0_(tensor(xt), jump, tensor(eps), tensor(betas)), what=f"ddim_step(xt, t = {jump}, t_prev = 0, eps, betas) (abar_0 = 1: expected predict_x0(xt, {jump}, eps, betas))")
    judge_ddim(t, xt, (steps, jump), eps, betas, f"ddim_step(xt, t = {steps}, t_prev = {jump}, eps, betas, eta=0.6, noise=z)", eta=0.6, noise=z)
    args = (tensor(xt), steps, tensor(eps), tensor(betas))
    mean, variance, _ = q_posterior_(predict_x0_(*args), tensor(xt), steps, tensor(betas))
    what = f"ddim_step(xt, t = {steps}, t_prev = {steps - 1}, eps, betas, eta=1.0, noise=z) (expected the DDPM step q_posterior mean at predict_x0 + sqrt(beta_tilde_t) z)"
    got = t.call("ddim_step", t.tensor(xt), steps, steps - 1, t.tensor(eps), t.tensor(betas), eta=1.0, noise=t.tensor(z))
    t.close(got, mean + torch.sqrt(variance) * tensor(z), what=what, variants=[(DDIM_IGNORES_ETA, mean)])


# ---- contracts: edge cases, and each documented limit from both sides ----------------------------------------------
# A limit is straddled (the last valid input is right, the first invalid one raises ValueError). One check per
# function: a missing function costs only its own.


@check("linear_beta_schedule_contract", "linear_beta_schedule: T = 1, betas just inside (0, 1); ValueError for T = 0 or 2.5, and beta_1 or beta_T at 0 or 1")
def linear_beta_schedule_contract(t: Trial) -> None:
    b = float(t.rng.uniform(0.01, 0.5))
    t.close(t.call("linear_beta_schedule", 1, b, 0.9), t.ref.linear_beta_schedule(1, b, 0.9), what=f"linear_beta_schedule(1, {b!r}, 0.9) (T = 1: [beta_1])")
    t.close(t.call("linear_beta_schedule", 3, 1e-9, 1 - 1e-9), t.ref.linear_beta_schedule(3, 1e-9, 1 - 1e-9), what="linear_beta_schedule(3, 1e-9, 1 - 1e-9) (betas just inside (0, 1))")
    for args, why in (((0,), "T = 0"), ((2.5,), "T = 2.5 is not an int"), ((5, 0.0, 0.02), "beta_1 = 0"), ((5, 1.0, 0.02), "beta_1 = 1"), ((5, b, 0.0), "beta_T = 0"), ((5, b, 1.0), "beta_T = 1")):
        expect_value_error(t, why, "linear_beta_schedule", *args)


@check("cosine_schedule_contract", "cosine_schedule: T = 1 (one beta, clipped to 0.999) and s = 0; ValueError for T = 0 or 3.0, and s = -0.001")
def cosine_schedule_contract(t: Trial) -> None:
    judge_cosine(t, 1, None, "cosine_schedule(1) (expected [0.999]: f(1) = 0, clipped)")
    steps = int(t.rng.integers(3, 30))
    judge_cosine(t, steps, 0.0, f"cosine_schedule({steps}, s=0.0)")
    for args, why in (((0,), "T = 0"), ((3.0,), "T = 3.0 is not an int"), ((steps, -0.001), "s = -0.001 < 0")):
        expect_value_error(t, why, "cosine_schedule", *args)


@check("alpha_bars_contract", "alpha_bars: T = 1, betas just inside (0, 1); ValueError for a beta at 0 or 1, 2-D and empty betas")
def alpha_bars_contract(t: Trial) -> None:
    judge_alpha_bars(t, t.rng.uniform(0.01, 0.9, 1), "alpha_bars(betas) with T = 1 (expected [1, 1 - beta_1])")
    judge_alpha_bars(t, np.array([1e-12, 0.5, 1 - 1e-12]), "alpha_bars([1e-12, 0.5, 1 - 1e-12])")
    betas = linear(t.rng, 3, 6)
    for bad, why in ((np.append(betas, 0.0), "a beta is 0"), (np.append(betas, 1.0), "a beta is 1"), (betas[None], f"betas has shape {betas[None].shape}, not (T,)"), (np.zeros(0), "betas is empty (T = 0)")):
        expect_value_error(t, why, "alpha_bars", t.tensor(bad))


def bad_times(rng: np.random.Generator, n: int, steps: int) -> list[tuple[Any, str]]:
    """Times the functions taking t must refuse, with why: 0 and T + 1 (as an int and in a tensor), floats, a wrong length."""
    t = rng.integers(1, steps + 1, n)
    return [
        (0, "t = 0: times run over 1..T"),
        (steps + 1, f"t = T + 1 = {steps + 1}"),
        (np.where(np.arange(n) == n - 1, 0, t), "t holds a 0"),
        (np.where(np.arange(n) == 0, steps + 1, t), f"t holds T + 1 = {steps + 1}"),
        (t.astype(np.float64), "t is a float tensor"),
        (np.append(t, 1), f"t has {n + 1} entries for {n} rows"),
    ]


@check("q_sample_contract", "q_sample: an int t (t = T for every row), n = 1 and d = 1; ValueError for t outside 1..T (int or tensor), float or mis-sized t, eps of another shape, 1-D x0, a beta of 1")
def q_sample_contract(t: Trial) -> None:
    x0, _, eps, betas = case(t.rng, 4, 3)
    steps = len(betas)
    judge_fn(t, "q_sample", x0, steps, eps, betas, f"q_sample(x0 (4, 3), t = {steps} (an int), eps, betas of T = {steps})")
    judge_fn(t, "q_sample", x0[:1, :1], np.array([1]), eps[:1, :1], betas, "q_sample(x0 (1, 1), t = [1], eps (1, 1), betas) (n = 1, d = 1)")
    sent = [t.tensor(a) for a in (x0, eps, betas)]
    for bad, why in bad_times(t.rng, 4, steps):
        expect_value_error(t, why, "q_sample", sent[0], bad if isinstance(bad, int) else t.tensor(bad), sent[1], sent[2])
    for args, why in (((sent[0], 1, t.tensor(eps[:, :2]), sent[2]), "eps (4, 2) is not of x0's shape (4, 3)"), ((t.tensor(x0[0]), 1, t.tensor(eps[0]), sent[2]), "x0 has shape (3,), not (n, d)"), ((sent[0], 1, sent[1], t.tensor(np.append(betas, 1.0))), "a beta is 1")):
        expect_value_error(t, why, "q_sample", *args)


@check("q_posterior_contract", "q_posterior: T = 2 (the smallest the clip allows) and an int t; ValueError for T = 1, xt of another shape, t = 0 and t = T + 1")
def q_posterior_contract(t: Trial) -> None:
    x0, xt = t.rng.normal(0.0, 1.5, (4, 2)), t.rng.normal(0.0, 1.5, (4, 2))
    betas = t.rng.uniform(0.05, 0.5, 2)
    judge_q_posterior(t, x0, xt, np.array([1, 2, 2, 1]), betas, "q_posterior(x0 (4, 2), xt (4, 2), t = [1, 2, 2, 1], betas of T = 2)")
    judge_q_posterior(t, x0, xt, 1, betas, "q_posterior(x0, xt, t = 1 (an int), betas of T = 2)")
    sent = [t.tensor(a) for a in (x0, xt, betas)]
    for args, why in (
        ((sent[0], sent[1], 1, t.tensor(betas[:1])), "betas has T = 1: the clipped log-variance needs beta_tilde_2"),
        ((sent[0], t.tensor(xt[:3]), 1, sent[2]), "xt (3, 2) is not of x0's shape (4, 2)"),
        ((sent[0], sent[1], 0, sent[2]), "t = 0"),
        ((sent[0], sent[1], t.tensor(np.array([1, 2, 3, 1])), sent[2]), "t holds 3 = T + 1"),
    ):
        expect_value_error(t, why, "q_posterior", *args)


@check("predict_x0_contract", "predict_x0: an int t = 1 and d = 1; ValueError for eps of another shape, t = T + 1 and a float t")
def predict_x0_contract(t: Trial) -> None:
    xt, _, eps, betas = case(t.rng, 4, 1)
    judge_fn(t, "predict_x0", xt, 1, eps, betas, "predict_x0(xt (4, 1), t = 1 (an int), eps, betas)")
    sent = [t.tensor(a) for a in (xt, eps, betas)]
    for args, why in (((sent[0], 1, t.tensor(eps[:2]), sent[2]), "eps (2, 1) is not of xt's shape (4, 1)"), ((sent[0], len(betas) + 1, sent[1], sent[2]), f"t = T + 1 = {len(betas) + 1}"), ((sent[0], t.tensor(np.full(4, 1.0)), sent[1], sent[2]), "t is a float tensor")):
        expect_value_error(t, why, "predict_x0", *args)


@check("p_mean_contract", "p_mean: an int t, at 1 and at T; ValueError for eps_pred of another shape, 3-D xt, t of shape (n, 1)")
def p_mean_contract(t: Trial) -> None:
    xt, _, eps, betas = case(t.rng, 4, 2)
    for steps in (1, len(betas)):
        judge_fn(t, "p_mean", xt, steps, eps, betas, f"p_mean(xt (4, 2), t = {steps} (an int), eps, betas of T = {len(betas)})")
    sent = [t.tensor(a) for a in (xt, eps, betas)]
    for args, why in (((sent[0], 2, t.tensor(eps.T), sent[2]), "eps_pred (2, 4) is not of xt's shape (4, 2)"), ((t.tensor(xt[None]), 2, t.tensor(eps[None]), sent[2]), "xt has shape (1, 4, 2), not (n, d)"), ((sent[0], t.tensor(np.ones((4, 1), dtype=np.int64)), sent[1], sent[2]), "t has shape (4, 1), not (4,)")):
        expect_value_error(t, why, "p_mean", *args)


@check("ddpm_loss_contract", "ddpm_loss: a batch of one with an int t; ValueError for an empty batch and t = T + 1")
def ddpm_loss_contract(t: Trial) -> None:
    x0, _, eps, betas = case(t.rng, 1, 2)
    weights = eps_mlp(t.rng, 2)
    judge_loss(t, weights, x0, len(betas), eps, betas, f"ddpm_loss(eps_mlp, x0 (1, 2), t = {len(betas)} (an int), eps, betas) (n = 1)")
    for rows, steps, why in ((np.zeros((0, 2)), 1, "x0 (0, 2) has no rows: an empty batch has no mean"), (x0, len(betas) + 1, f"t = T + 1 = {len(betas) + 1}")):
        p = t.program()
        expect_value_error(t, why, "ddpm_loss", p.component("eps_mlp", *weights, np.array(len(betas))), t.tensor(rows), steps, t.tensor(rows), t.tensor(betas), program=p)


@check("ancestral_sample_contract", "ancestral_sample: T = 1 (one step and no noise at all) for one row; ValueError for noise_seq of T - 1 steps or another d, 1-D x_T, a beta of 0")
def ancestral_sample_contract(t: Trial) -> None:
    mix, beta = mixture(t.rng), t.rng.uniform(0.05, 0.5, 1)
    x_T, noise = t.rng.standard_normal((1, 2)), 10.0 * t.rng.standard_normal((1, 1, 2))
    judge_sample(t, mix, x_T, noise, beta, "ancestral_sample(gmm_eps, x_T (1, 2), noise_seq (1, 1, 2), betas of T = 1) (the mean at t = 1, noise_seq[0] unused)")
    betas = linear(t.rng, 3, 6)
    x_T = t.rng.standard_normal((3, 2))
    for bad_x, bad_noise, bad_betas, why in (
        (x_T, t.rng.standard_normal((len(betas) - 1, 3, 2)), betas, f"noise_seq has {len(betas) - 1} steps for T = {len(betas)}"),
        (x_T, t.rng.standard_normal((len(betas), 3, 3)), betas, "noise_seq (T, 3, 3) is not (T, n, d) = (T, 3, 2)"),
        (x_T[0], t.rng.standard_normal((len(betas), 2)), betas, "x_T has shape (2,), not (n, d)"),
        (x_T, t.rng.standard_normal((len(betas), 3, 2)), np.where(np.arange(len(betas)) == 0, 0.0, betas), "beta_1 = 0"),
    ):
        p = t.program()
        expect_value_error(t, why, "ancestral_sample", p.component("gmm_eps", *mix, np.where(bad_betas > 0, bad_betas, 0.01)), t.tensor(bad_x), t.tensor(bad_noise), t.tensor(bad_betas), program=p)


@check("ddim_step_contract", "ddim_step: t = T with eta = 1 and t = 1 to 0; ValueError for t_prev = t, t = T + 1, t_prev = -1, t = 2.0, eta = 1.5 or -0.1, eta > 0 without noise, eps_pred of another shape")
def ddim_step_contract(t: Trial) -> None:
    xt, _, eps, betas = case(t.rng, 3, 2)
    steps, z = len(betas), t.rng.standard_normal((3, 2))
    judge_ddim(t, xt, (steps, steps - 1), eps, betas, f"ddim_step(xt (3, 2), t = T = {steps}, t_prev = {steps - 1}, eps, betas, eta=1.0, noise=z)", eta=1.0, noise=z)
    judge_ddim(t, xt, (1, 0), eps, betas, "ddim_step(xt, t = 1, t_prev = 0, eps, betas) (predict_x0 at t = 1)")
    sent = [t.tensor(a) for a in (xt, eps, betas, z)]
    for args, kwargs, why in (
        ((2, 2), {}, "t_prev = t = 2: a step must go back"),
        ((steps + 1, 1), {}, f"t = T + 1 = {steps + 1}"),
        ((2, -1), {}, "t_prev = -1"),
        ((2.0, 1), {}, "t = 2.0 is not an int"),
        ((2, 1), {"eta": 1.5, "noise": sent[3]}, "eta = 1.5 > 1"),
        ((2, 1), {"eta": -0.1, "noise": sent[3]}, "eta = -0.1 < 0"),
        ((2, 1), {"eta": 0.5}, "eta = 0.5 > 0 without noise"),
    ):
        expect_value_error(t, why, "ddim_step", sent[0], *args, sent[1], sent[2], **kwargs)
    expect_value_error(t, "eps_pred (3, 1) is not of xt's shape (3, 2)", "ddim_step", sent[0], 2, 1, t.tensor(eps[:, :1]), sent[2])


# ---- behaviour: sampling a Gaussian mixture with its exact noise predictor -----------------------------------------
# The cosine schedule with T = MIX_T steps: the reference's ancestral samples differ from the mixture by at most 0.6
# of a standard error at n = MIX_N (weights, means and covariances; 8 mixtures, 40000 samples each, whose own noise is
# about 0.1 of those errors), DDIM's with DDIM_STEPS steps by up to 2.3 (hence its looser bound). MMD_BOUND: the reference's squared MMD against as many fresh
# data points is -0.0001 +- 0.0020 (40 mixtures; the largest 0.0081), DDIM's 0.0008 +- 0.0015 (the largest 0.0044);
# the bound is 10 standard deviations above (tests/topics/test_diffusion.py measures the spread again).

MIX_N, MIX_T, MIX_SIGMAS, DDIM_STEPS, DDIM_SIGMAS = 512, 100, 5.0, 20, 8.0
MMD_BANDWIDTH, MMD_BOUND, EXACT_ROWS, EXTENT = 1.0, 0.02, 16, 4.5


def log_densities(x: np.ndarray, mix: tuple[np.ndarray, ...]) -> np.ndarray:
    """log w_k N(x; m_k, C_k), shape (n, K)."""
    w, means, covs = mix
    diff = x[:, None, :] - means
    det = covs[:, 0, 0] * covs[:, 1, 1] - covs[:, 0, 1] ** 2
    maha = (covs[:, 1, 1] * diff[..., 0] ** 2 - 2 * covs[:, 0, 1] * diff[..., 0] * diff[..., 1] + covs[:, 0, 0] * diff[..., 1] ** 2) / det
    return np.log(w) - 0.5 * maha - 0.5 * np.log(det) - math.log(2 * math.pi)


def draw(rng: np.random.Generator, mix: tuple[np.ndarray, ...], n: int) -> np.ndarray:
    w, means, covs = mix
    k = rng.choice(len(w), n, p=w)
    return means[k] + np.einsum("nij,nj->ni", np.linalg.cholesky(covs)[k], rng.standard_normal((n, 2)))


def mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased squared MMD of two samples with a Gaussian kernel of bandwidth MMD_BANDWIDTH."""
    def gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.exp(((a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T) / (-2 * MMD_BANDWIDTH**2))

    kxx, kyy = gram(x, x), gram(y, y)
    n, m = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * gram(x, y).mean())


def moments(x: np.ndarray, mix: tuple[np.ndarray, ...]) -> list[tuple[float, str]]:
    """(|error| in standard errors, what) for each component's weight (share of the samples whose most probable
    component it is), mean and covariance entries, the standard errors those of n exact samples."""
    w, means, covs = mix
    n, owner = len(x), log_densities(x, mix).argmax(1)
    found = []
    for k in range(len(w)):
        mine, nk = x[owner == k], w[k] * n
        share = len(mine) / n
        found.append((abs(share - w[k]) / math.sqrt(w[k] * (1 - w[k]) / n), f"component {k}'s weight is {share:.4f}, the mixture's {w[k]:.4f} (standard error {math.sqrt(w[k] * (1 - w[k]) / n):.3g})"))
        if len(mine) < 3:
            continue
        for i in range(2):
            se = math.sqrt(covs[k, i, i] / nk)
            found.append((abs(mine[:, i].mean() - means[k, i]) / se, f"component {k}'s mean[{i}] is {mine[:, i].mean():.4f}, the mixture's {means[k, i]:.4f} (standard error {se:.3g})"))
        cov = np.cov(mine.T)
        for i, j in ((0, 0), (0, 1), (1, 1)):
            se = math.sqrt((covs[k, i, i] * covs[k, j, j] + covs[k, i, j] ** 2) / nk)
            found.append((abs(cov[i, j] - covs[k, i, j]) / se, f"component {k}'s covariance[{i}, {j}] is {cov[i, j]:.4f}, the mixture's {covs[k, i, j]:.4f} (standard error {se:.3g})"))
    return found


def judge_mixture(t: Trial, x: np.ndarray, mix: tuple[np.ndarray, ...], data: np.ndarray, sigmas: float, setting: str, exact: Callable[[], None]) -> None:
    """The samples reproduce the mixture: every moment within `sigmas` standard errors, the MMD to fresh data under
    MMD_BOUND. A failure is explained by a known mistake in the exact rows when one matches."""
    problem = None
    if not np.all(np.isfinite(x)):
        problem = f"{int((~np.isfinite(x).all(1)).sum())} of the {len(x)} samples are not finite"
    else:
        z, worst = max(moments(x, mix))
        mmd = mmd2(x, data)
        if z > sigmas:
            problem = f"{worst}: {z:.1f} standard errors off, at most {sigmas:g} allowed"
        elif mmd > MMD_BOUND:
            problem = f"the squared MMD (Gaussian kernel, bandwidth {MMD_BANDWIDTH:g}) to {len(data)} fresh draws of the mixture is {mmd:.4f}, above {MMD_BOUND} (the reference's: 0.0000 +- 0.0020)"
    if problem:
        try:
            exact()
        except CheckFailed as failure:
            if failure.mistake is not None:
                raise
        t.fail(f"{setting}: {problem}")


def sampled(t: Trial, got: Any, what: str) -> np.ndarray:
    """The samples as float64, once they are a tensor of shape (MIX_N, 2) on the trial's device."""
    t.same_kind(got, torch.zeros(MIX_N, 2), what=what)
    if np.shape(got) != (MIX_N, 2):
        t.fail(f"{what}: returned shape {np.shape(got)}, expected ({MIX_N}, 2)")
    return np.asarray(got, dtype=np.float64)


def mixture_figure(mix: tuple[np.ndarray, ...], samples: np.ndarray, data: np.ndarray, trail: Any, title: str) -> dict[str, Any]:
    grid = np.linspace(-EXTENT, EXTENT, 60)
    gx, gy = np.meshgrid(grid, grid)
    density = np.exp(log_densities(np.stack([gx.ravel(), gy.ravel()], 1), mix)).sum(1).reshape(60, 60)
    paths = np.concatenate([np.asarray(trail, dtype=np.float64), samples[None, : np.shape(trail)[1]]]).transpose(1, 0, 2)
    return plots.density(title=title, extent=(-EXTENT, EXTENT, -EXTENT, EXTENT), values=density, points={"your samples": samples, "data": data}, paths={"reverse trajectories": paths})


@check("ancestral_sample_mixture", f"ancestral_sample with the exact noise predictor of a 2-D Gaussian mixture (cosine schedule, T = {MIX_T}): {MIX_N} samples reproduce its weights, means and covariances within {MIX_SIGMAS:g} standard errors and its MMD to fresh data stays under {MMD_BOUND}; the first {EXACT_ROWS} are the reference's")
def ancestral_sample_mixture(t: Trial) -> None:
    mix = mixture(t.rng)
    betas = t.ref.cosine_schedule(MIX_T).numpy()
    x_T, noise, data = t.rng.standard_normal((MIX_N, 2)), t.rng.standard_normal((MIX_T, MIX_N, 2)), draw(t.rng, mix, MIX_N)
    got, trail = run_sampler(t, mix, x_T, noise, betas, "trail")
    what = f"ancestral_sample(gmm_eps, x_T ({MIX_N}, 2), noise_seq ({MIX_T}, {MIX_N}, 2), cosine_schedule({MIX_T}))"
    samples = sampled(t, got, what)
    t.figure(mixture_figure(mix, samples, data, trail, f"your ancestral samples ({MIX_T} steps) over the mixture's density, and the reverse trajectories of 8 of them"))
    rows = slice(EXACT_ROWS)

    def exact() -> None:
        judge_sample(t, mix, x_T[rows], noise[:, rows], betas, f"{what}: its first {EXACT_ROWS} rows (the reference's from the same x_T and noise)", got=got[rows])

    judge_mixture(t, samples, mix, data, MIX_SIGMAS, f"{what}, the exact noise predictor of a mixture of 3 Gaussians", exact)
    exact()


def ddim_loop(p: Program, model: Any, x: Any, betas: Any, steps: np.ndarray) -> Any:
    """The DDIM loop as program steps, each iterate labelled x_t (a label naming the whole chain of calls before it
    would double with every step)."""
    for now, prev in zip(steps[:-1].tolist(), steps[1:].tolist()):
        x = dataclasses.replace(p.call("ddim_step", x, now, prev, p.method(model, "__call__", x, now), betas), label=f"x_{prev}")
    return x


@check("ddim_sample_mixture", f"ddim_step with eta = 0 over {DDIM_STEPS} of the {MIX_T} times (T, ..., 0) with the exact noise predictor of a 2-D Gaussian mixture: deterministic (the same x_T twice gives the same x_0), {MIX_N} samples within {DDIM_SIGMAS:g} standard errors of its moments and under the MMD bound, the first {EXACT_ROWS} the reference formula's")
def ddim_sample_mixture(t: Trial) -> None:
    mix = mixture(t.rng)
    betas = t.ref.cosine_schedule(MIX_T).numpy()
    x_T, data = t.rng.standard_normal((MIX_N, 2)), draw(t.rng, mix, MIX_N)
    steps = np.linspace(MIX_T, 0, DDIM_STEPS + 1).round().astype(np.int64)
    p = t.program()
    model, sent = p.component("gmm_eps", *mix, betas), [t.tensor(a) for a in (x_T, x_T[:EXACT_ROWS].copy(), betas)]
    got, again, trail = p.run(ddim_loop(p, model, sent[0], sent[2], steps), ddim_loop(p, model, sent[1], sent[2], steps), p.attr(model, "trail"))
    what = f"x = ddim_step(x, t, t_prev, gmm_eps(x, t), cosine_schedule({MIX_T})) for (t, t_prev) = {list(zip(steps[:3].tolist(), steps[1:4].tolist()))}, ..., (5, 0), from x_T ({MIX_N}, 2)"
    samples = sampled(t, got, what)
    t.figure(mixture_figure(mix, samples, data, np.asarray(trail)[:DDIM_STEPS], f"your DDIM samples ({DDIM_STEPS} steps, eta = 0) over the mixture's density, and the trajectories of 8 of them"))
    t.close(again, tensor(got[:EXACT_ROWS]), what=f"{what}: run again on its first {EXACT_ROWS} rows (eta = 0 is deterministic: expected the same x_0)")
    local = components.build("gmm_eps", *mix, betas, device="cpu")
    x = tensor(x_T[:EXACT_ROWS])
    with torch.no_grad():
        for now, prev in zip(steps[:-1].tolist(), steps[1:].tolist()):
            x = ddim_(x, now, prev, local(x, now), tensor(betas))

    def exact() -> None:
        t.close(got[:EXACT_ROWS], x, what=f"{what}: its first {EXACT_ROWS} rows (the documented DDIM step's, eta = 0)")

    judge_mixture(t, samples, mix, data, DDIM_SIGMAS, f"{what}, the exact noise predictor of a mixture of 3 Gaussians", exact)
    exact()
