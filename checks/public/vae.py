"""Public checks of the vae topic: inputs drawn from the trial's rng (the public seed in a student's own run, the same
every run; fresh ones when the course grades); students run these themselves.

The known mistakes of this topic are declared here (hidden checks import them), each with the wrong variant that
reveals it, computed on the grader's side by the reference with its inputs or output changed the way the mistake
changes them. The reference is called on inputs drawn from the trial's rng alone, before any answer is judged: in a
student bundle it is a recording of exactly those calls, known by the bits of their inputs
(autograder.course.recorded). Where a check computes the inputs itself (samples of the linear-Gaussian model, a
network's activations) or judges a student's values (a training run's held-out ELBO), it uses its own float64
statement of the same formulas (Trusted, and the numpy section below), which tests/topics/test_vae.py holds to the
reference.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import Independent, Normal, kl_divergence

from autograder.engine.checks import CheckFailed, Mistake, StudentError, Trial, check
from autograder.engine.compare import describe

EXP_STD = Mistake(
    "logvar-exp-as-std",
    "exp(logvar) is used as the standard deviation; it is the variance (logvar = ln sigma^2)",
    "The standard deviation is sigma = exp(logvar / 2) = exp(0.5 * logvar); the variance is exp(logvar).",
)
KL_NO_HALF = Mistake(
    "kl-missing-half",
    "the KL divergence is missing its factor 1/2: twice the right answer",
    "KL = 1/2 sum_l (mu_l^2 + exp(logvar_l) - 1 - logvar_l): the 1/2 multiplies every term.",
)
MEAN_DIMS = Mistake(
    "mean-over-dims",
    "the last axis (the latent or data dimensions) is averaged instead of summed: 1/L (or 1/D) of the right answer",
    "Independent dimensions multiply, so their log-densities and KL terms add: sum over the last axis, and average only over the batch (vae_loss).",
)
KL_SIGN = Mistake(
    "kl-sign",
    "the KL term has the wrong sign: the ELBO adds KL(q || p) (or the KL is negated)",
    "ELBO = log p(x|z) - KL(q(z|x) || p(z)) with KL >= 0: the penalty lowers the bound.",
)
BCE_PROBS = Mistake(
    "bce-on-probabilities",
    "the Bernoulli log-likelihood takes the log of sigmoid(logits) (+ 1e-8): it saturates where sigmoid rounds to 0 or 1, and the 1e-8 shifts every value",
    "Work from the logits: log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l) "
    "(torch.nn.functional.logsigmoid, softplus) are exact for every l; so is x * l - softplus(l).",
)
GAUSSIAN_NO_CONSTANT = Mistake(
    "gaussian-no-constant",
    "the Gaussian log-density is missing its -ln(2 pi) / 2 per dimension",
    "log N(x; m, s^2) = -1/2 [ln(2 pi) + ln s^2 + (x - m)^2 / s^2]: the constant matters wherever log-densities are added or compared.",
)
LOSS_SIGN = Mistake(
    "loss-sign",
    "the loss is +ELBO: minimising it lowers the ELBO",
    "The loss is the NEGATIVE mean ELBO: maximising the ELBO is minimising -ELBO.",
)
BATCH_MEAN_TWICE = Mistake(
    "batch-mean-twice",
    "the batch mean is taken twice: the loss is divided by N twice (1/N of the right one)",
    "Average over the N examples once, -(1/N) sum_n elbo_n: elbo returns one value per example, not their mean.",
)
LOSS_SUMMED = Mistake(
    "loss-summed-over-batch",
    "the loss is summed over the batch instead of averaged: N times the right one",
    "Average over the batch, -elbo(...).mean(): the per-example scale keeps a learning rate right for any batch size.",
)
BITS_TIMES_LN2 = Mistake(
    "bits-times-ln2",
    "the nats were multiplied by ln 2, not divided by it",
    "bits = nats / ln 2 (one bit is ln 2 = 0.693 nats, so there are more bits than nats): -elbo / (num_dims * ln 2).",
)
IWAE_NO_LOG_K = Mistake(
    "iwae-missing-log-k",
    "the bound is logsumexp of the log-weights without - ln k: the log of the SUM of the weights, ln k too high",
    "L_k = logsumexp(log w) - ln k is the log of the MEAN weight.",
)
IWAE_MEAN_OF_LOGS = Mistake(
    "iwae-mean-of-logs",
    "the bound averages the log-weights (the ELBO estimate) instead of taking the log of the average weight",
    "L_k = log (1/k) sum_i w_i = logsumexp(log w) - ln k; mean(log w) estimates L_1 whatever k is, and does not rise with k.",
)
IWAE_UNSTABLE = Mistake(
    "iwae-unstable",
    "the bound is not finite for log-weights far below 0: exp underflowed to 0 (exp(-1000) = 0 in float64) and log 0 = -inf",
    "Use torch.logsumexp(log_w, dim=0) - ln k: logsumexp subtracts the maximum before exponentiating.",
)
SPLIT_SWAPPED = Mistake(
    "encoder-split-swapped",
    "the encoder's output is split the wrong way round: logvar from the first L outputs, mu from the last L",
    "mu is the first L outputs and logvar the last L: h.chunk(2, dim=-1) gives (mu, logvar).",
)
DECODES_MEAN = Mistake(
    "decodes-mean",
    "forward decodes mu, not a sample z = reparameterize(mu, logvar, eps): eps is ignored",
    "Draw z = mu + exp(logvar / 2) * eps and decode z: the ELBO is an expectation over q(z|x), and logvar gets no gradient from the likelihood otherwise.",
)

LN2 = math.log(2.0)
LOG_2PI = math.log(2.0 * math.pi)

# Library code that computes a whole exercise (the stub's docstrings list it): a check of that function refuses it.
KL_FORBID = ("torch.distributions",)
BERNOULLI_FORBID = ("torch.distributions", "torch.nn.functional.binary_cross_entropy_with_logits", "torch.nn.functional.binary_cross_entropy")
GAUSSIAN_FORBID = ("torch.distributions", "torch.nn.functional.gaussian_nll_loss")
MODEL_FORBID = GAUSSIAN_FORBID + BERNOULLI_FORBID[1:]

Fn = Callable[..., torch.Tensor]


# ---- the known mistakes as wrong functions, built from the reference (grader side) --------------------------------


def tensor(a: Any, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def bce_on_probabilities(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """The BCE_PROBS mistake, as students write it."""
    p = torch.sigmoid(logits)
    return torch.sum(x * torch.log(p + 1e-8) + (1 - x) * torch.log(1 - p + 1e-8), dim=-1)


class Trusted:
    """The reference's formulas, computed by torch's own distributions and losses on the grader's side, for inputs a
    check computes itself (samples of a model, a network's activations): a recorded reference (a student bundle's)
    knows its calls by the exact bits of their inputs, and a computed input can differ in its last bit from one
    machine to another. Only what the checks need; tests/topics/test_vae.py holds each to the reference."""

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        return mu + torch.sqrt(torch.exp(logvar)) * eps

    @staticmethod
    def gaussian_kl_standard(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return kl_by_torch(mu, logvar)

    @staticmethod
    def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)

    @staticmethod
    def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return Normal(mean, torch.exp(logvar / 2)).log_prob(x).sum(-1)

    @classmethod
    def elbo(cls, x: torch.Tensor, x_logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return cls.bernoulli_log_likelihood(x, x_logits) - cls.gaussian_kl_standard(mu, logvar)

    @classmethod
    def vae_loss(cls, x: torch.Tensor, x_logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return -cls.elbo(x, x_logits, mu, logvar).mean()

    @staticmethod
    def iwae_bound(log_w: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(log_w, dim=0) - math.log(len(log_w))


def kl_by_torch(mu: torch.Tensor, lv: torch.Tensor) -> torch.Tensor:
    """torch.distributions' KL(N(mu, diag exp(logvar)) || N(0, I)), the library's own closed form."""
    q = Independent(Normal(mu, torch.exp(lv / 2)), 1)
    return kl_divergence(q, Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1))


def kl_faults(ref: Any) -> list[tuple[Mistake, Fn]]:
    kl = ref.gaussian_kl_standard
    return [
        (EXP_STD, lambda mu, lv: kl(mu, 2 * lv)),
        (KL_NO_HALF, lambda mu, lv: 2 * kl(mu, lv)),
        (MEAN_DIMS, lambda mu, lv: kl(mu, lv) / mu.shape[-1]),
        (KL_SIGN, lambda mu, lv: -kl(mu, lv)),
    ]


def bernoulli_faults(ref: Any) -> list[tuple[Mistake, Fn]]:
    return [(BCE_PROBS, bce_on_probabilities), (MEAN_DIMS, lambda x, lo: ref.bernoulli_log_likelihood(x, lo) / lo.shape[-1])]


def gaussian_faults(ref: Any) -> list[tuple[Mistake, Fn]]:
    gll = ref.gaussian_log_likelihood

    def dims(x: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> int:
        return torch.broadcast_shapes(x.shape, m.shape, v.shape)[-1]

    return [
        (EXP_STD, lambda x, m, v: gll(x, m, 2 * v)),
        (MEAN_DIMS, lambda x, m, v: gll(x, m, v) / dims(x, m, v)),
        (GAUSSIAN_NO_CONSTANT, lambda x, m, v: gll(x, m, v) + 0.5 * dims(x, m, v) * LOG_2PI),
    ]


def elbo_faults(ref: Any) -> list[tuple[Mistake, Fn]]:
    """The ELBO with one of its two terms wrong."""
    kl, bern = ref.gaussian_kl_standard, ref.bernoulli_log_likelihood
    return [(m, lambda x, lo, mu, lv, f=f: f(x, lo) - kl(mu, lv)) for m, f in bernoulli_faults(ref)] + [
        (m, lambda x, lo, mu, lv, f=f: bern(x, lo) - f(mu, lv)) for m, f in kl_faults(ref)
    ]


def loss_faults(ref: Any) -> list[tuple[Mistake, Fn]]:
    """vae_loss with its ELBO or its reduction over the batch wrong."""
    return [(m, lambda x, lo, mu, lv, f=f: -f(x, lo, mu, lv).mean()) for m, f in elbo_faults(ref)] + [
        (LOSS_SIGN, lambda x, lo, mu, lv: ref.elbo(x, lo, mu, lv).mean()),
        (BATCH_MEAN_TWICE, lambda x, lo, mu, lv: -ref.elbo(x, lo, mu, lv).mean() / x.shape[0]),
        (LOSS_SUMMED, lambda x, lo, mu, lv: -ref.elbo(x, lo, mu, lv).sum()),
    ]


# ---- judging a function and its gradient against the reference and the known mistakes -----------------------------


def evaluate(fn: Fn, args: Sequence[Any], wrt: Sequence[int], upstream: Callable[[tuple[int, ...]], np.ndarray], extra: Sequence[Any] = ()) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], np.ndarray | None]:
    """fn at the arrays `args` (as float64 tensors) and `extra` (as they are) and, when `wrt` names some, the
    gradient of <u, fn> with respect to those arguments, u = upstream(shape of the result)."""
    ts = [tensor(a, grad=i in wrt) for i, a in enumerate(args)]
    out = fn(*ts, *extra)
    if not wrt:
        return out.detach(), (), None
    u = upstream(tuple(out.shape))
    grads = torch.autograd.grad(out, [ts[i] for i in wrt], tensor(u), allow_unused=True)
    return out.detach(), tuple(torch.zeros_like(ts[i]) if g is None else g for i, g in zip(wrt, grads)), u


def judge(t: Trial, fn: str, args: Sequence[Any], *, want: Fn, faults: Sequence[tuple[Mistake, Fn]], what: str, wrt: Sequence[int] = (), names: Sequence[str] = (), closed: Callable[[np.ndarray], list[tuple[str, np.ndarray]]] | None = None, extra: Sequence[Any] = ()) -> None:
    """The student's `fn` at `args` (tensors on the trial's device) and `extra` (numbers, sent as they are) against
    `want` (the reference) and the known mistakes; with `wrt`, also the gradient of <u, fn> (u a random upstream
    gradient) with respect to those arguments, called `names`, and against `closed(u)`: (formula, value) per
    argument, the closed forms of those gradients."""
    drawn: list[np.ndarray] = []

    def upstream(shape: tuple[int, ...]) -> np.ndarray:  # drawn once, at the reference's shape, for every variant
        if not drawn:
            drawn.append(t.rng.uniform(0.5, 2.0, shape))
        return drawn[0]

    value, grads, u = evaluate(want, args, wrt, upstream, extra)
    variants = [(m, evaluate(f, args, wrt, upstream, extra)) for m, f in faults]
    sent = [t.tensor(a, grad=i in wrt) for i, a in enumerate(args)]
    if not wrt:
        t.close(t.call(fn, *sent, *extra), value, what=what, variants=[(m, v) for m, (v, _, _) in variants])
        return
    got, got_grads = t.call_grad(fn, *sent, *extra, upstream=u)
    t.close(got, value, what=what, variants=[(m, v) for m, (v, _, _) in variants])
    forms = closed(u) if closed else [None] * len(wrt)
    for j, (name, form) in enumerate(zip(names, forms)):
        label = f"d<u, {what}>/d{name} (autograd, u a random upstream gradient)"
        t.close(got_grads[j], grads[j], what=label, variants=[(m, g[j]) for m, (_, g, _) in variants])
        if form is not None:
            t.close(got_grads[j], tensor(form[1]), what=f"{label}, against the closed form {form[0]}")


def close_naming(t: Trial, got: Any, want: Any, *, what: str, variants: Callable[[], Sequence[tuple[Mistake, Any]]]) -> None:
    """t.close, with the known mistakes' answers computed only for a wrong answer: for the grader's own maths (Trusted),
    which no recorded reference needs to have seen."""
    try:
        t.close(got, want, what=what)
    except CheckFailed:
        t.close(got, want, what=what, variants=variants())
        raise


def expect_value_error(t: Trial, why: str, fn: str, *args: Any) -> None:
    try:
        t.raises("ValueError", fn, *args)
    except CheckFailed as failure:
        t.fail(f"{failure.message}: {why}")


# ---- inputs --------------------------------------------------------------------------------------------------------


def gaussians(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Encoder outputs: means and log-variances in [-1.5, 1] (variances 0.22 .. 2.7), where every mistake shows."""
    return rng.standard_normal(shape), rng.uniform(-1.5, 1.0, shape)


def binary(rng: np.random.Generator, shape: tuple[int, ...], fractional: bool = True) -> np.ndarray:
    """Binary data, with one row of fractional values in [0, 1] (probabilities of a pixel) when asked."""
    x = (rng.random(shape) < 0.5).astype(float)
    if fractional:
        x.reshape(-1, shape[-1])[0] = rng.random(shape[-1])
    return x


def whitened(rng: np.random.Generator, s: int, batch: tuple[int, ...], latent: int) -> np.ndarray:
    """Noise of shape (s, *batch, latent) whose s samples have mean exactly 0 and covariance (1/s) sum eps eps^T
    exactly I, for every batch index: the sample average of a quadratic function of eps is then its expectation."""
    eps = rng.standard_normal((s, *batch, latent))
    eps -= eps.mean(axis=0)
    cov = np.einsum("s...i,s...j->...ij", eps, eps) / s
    inverse_root = np.linalg.inv(np.linalg.cholesky(cov))  # L^-1 with L L^T = cov: L^-1 eps has covariance I
    return np.einsum("...ij,s...j->s...i", inverse_root, eps)


# ---- the public checks: the functions -----------------------------------------------------------------------------


def judge_reparameterize(t: Trial, mu: np.ndarray, lv: np.ndarray, eps: np.ndarray, what: str) -> None:
    faults = [(EXP_STD, lambda m, v, e: t.ref.reparameterize(m, 2 * v, e))]
    judge(t, "reparameterize", [mu, lv, eps], want=t.ref.reparameterize, faults=faults, what=what)


@check("reparameterize", "reparameterize: z = mu + exp(logvar / 2) eps on a closed form, then S samples per example (eps broadcast against mu)")
def reparameterize(t: Trial) -> None:
    mu, lv = np.array([0.0, 1.0]), np.log([1.0, 4.0])
    judge_reparameterize(t, mu, lv, np.array([1.0, -0.5]), "reparameterize(mu=[0, 1], logvar=ln [1, 4], eps=[1, -0.5]) (expected [1, 0]: sigma = [1, 2])")
    mu, lv = gaussians(t.rng, (3, 2))
    judge_reparameterize(t, mu, lv, t.rng.standard_normal((4, 3, 2)), "reparameterize(mu, logvar, eps) with mu, logvar (3, 2) and eps (4, 3, 2): z of shape (4, 3, 2)")


def judge_reparameterize_gradient(t: Trial, mu: np.ndarray, lv: np.ndarray, eps: np.ndarray, what: str) -> None:
    sample_axes = tuple(range(eps.ndim - mu.ndim))

    def closed(u: np.ndarray) -> list[tuple[str, np.ndarray]]:
        return [("dz/dmu = 1", u.sum(axis=sample_axes)), ("dz/dlogvar = eps exp(logvar / 2) / 2", (u * eps * np.exp(lv / 2) / 2).sum(axis=sample_axes))]

    faults = [(EXP_STD, lambda m, v, e: t.ref.reparameterize(m, 2 * v, e))]
    judge(t, "reparameterize", [mu, lv, eps], want=t.ref.reparameterize, faults=faults, what=what, wrt=(0, 1), names=("mu", "logvar"), closed=closed)


@check("reparameterize_gradient", "reparameterize: the pathwise gradient w.r.t. mu and logvar against autograd of the reference and the closed form")
def reparameterize_gradient(t: Trial) -> None:
    mu, lv = gaussians(t.rng, (3, 2))
    judge_reparameterize_gradient(t, mu, lv, t.rng.standard_normal((3, 2)), "reparameterize(mu, logvar, eps) with all three (3, 2)")
    judge_reparameterize_gradient(t, mu, lv, t.rng.standard_normal((5, 3, 2)), "reparameterize(mu, logvar, eps) with mu, logvar (3, 2), eps (5, 3, 2) (summed over the 5 samples)")


def judge_kl(t: Trial, mu: np.ndarray, lv: np.ndarray, what: str, want: Fn | None = None, gradient: bool = False) -> None:
    closed = (lambda u: [("dKL/dmu = mu", u[..., None] * mu), ("dKL/dlogvar = (exp(logvar) - 1) / 2", u[..., None] * (np.exp(lv) - 1) / 2)]) if gradient else None
    wrt, names = ((0, 1), ("mu", "logvar")) if gradient else ((), ())
    judge(t, "gaussian_kl_standard", [mu, lv], want=want or t.ref.gaussian_kl_standard, faults=kl_faults(t.ref), what=what, wrt=wrt, names=names, closed=closed)


@check("gaussian_kl_standard", "gaussian_kl_standard: 0.9098 on mu = [1, -0.5, 0.5], logvar = -0.5 (exp(logvar) as std gives 1.3018), then a batch against torch.distributions.kl_divergence", forbid=KL_FORBID)
def gaussian_kl_standard(t: Trial) -> None:
    judge_kl(t, np.array([[1.0, -0.5, 0.5]]), np.full((1, 3), -0.5), "gaussian_kl_standard(mu=[[1, -0.5, 0.5]], logvar=[[-0.5, -0.5, -0.5]]) (expected [0.75 + 1.5 (e^-0.5 - 0.5)] = [0.9098])")
    mu, lv = gaussians(t.rng, (4, 3))
    judge_kl(t, mu, lv, "gaussian_kl_standard(mu, logvar) with mu, logvar (4, 3), against torch.distributions.kl_divergence", want=kl_by_torch)


@check("gaussian_kl_standard_gradient", "gaussian_kl_standard: the gradient against autograd of the reference and the closed form dKL/dmu = mu, dKL/dlogvar = (exp(logvar) - 1) / 2", forbid=KL_FORBID)
def gaussian_kl_standard_gradient(t: Trial) -> None:
    mu, lv = gaussians(t.rng, (4, 3))
    judge_kl(t, mu, lv, "gaussian_kl_standard(mu, logvar) with mu, logvar (4, 3)", gradient=True)


def judge_bernoulli(t: Trial, x: np.ndarray, logits: np.ndarray, what: str, stable: bool = False) -> None:
    """Value and gradient w.r.t. the logits; `stable`: the logits saturate sigmoid, so a non-finite answer is named
    as the saturation it is."""
    if stable:
        got = t.call("bernoulli_log_likelihood", t.tensor(x), t.tensor(logits))
        if isinstance(got, np.ndarray) and got.dtype.kind == "f" and not np.all(np.isfinite(got)):
            t.fail(f"{what}: got {got.tolist()}, not finite; your answer matches a known mistake: {BCE_PROBS.title}. {BCE_PROBS.fix}", mistake=BCE_PROBS)
    closed = lambda u: [("x - sigmoid(logits)", u[..., None] * (x - (1 + np.tanh(logits / 2)) / 2))]  # noqa: E731
    judge(t, "bernoulli_log_likelihood", [x, logits], want=t.ref.bernoulli_log_likelihood, faults=bernoulli_faults(t.ref), what=what, wrt=(1,), names=("logits",), closed=closed)


@check("bernoulli_log_likelihood", "bernoulli_log_likelihood: value and gradient on binary and fractional data, against minus F.binary_cross_entropy_with_logits summed", forbid=BERNOULLI_FORBID)
def bernoulli_log_likelihood(t: Trial) -> None:
    x, logits = binary(t.rng, (4, 6)), 3 * t.rng.standard_normal((4, 6))
    want = lambda x, lo: -F.binary_cross_entropy_with_logits(lo, x, reduction="none").sum(-1)  # noqa: E731
    judge(t, "bernoulli_log_likelihood", [x, logits], want=want, faults=bernoulli_faults(t.ref), what="bernoulli_log_likelihood(x, logits) with x, logits (4, 6), row 0 of x fractional, against -F.binary_cross_entropy_with_logits(logits, x).sum(-1)")
    judge_bernoulli(t, x, logits, "bernoulli_log_likelihood(x, logits) with x, logits (4, 6)")


@check("bernoulli_log_likelihood_stable", "bernoulli_log_likelihood with logits of +-40 and +-1e3, where sigmoid rounds to 0 or 1: exact, finite value and gradient", forbid=BERNOULLI_FORBID)
def bernoulli_log_likelihood_stable(t: Trial) -> None:
    signs = np.where(t.rng.random((4, 5)) < 0.5, -1.0, 1.0)
    logits = signs * np.array([[40.0], [1e3], [40.0], [1e3]]) + t.rng.uniform(-1, 1, (4, 5))
    x = binary(t.rng, (4, 5), fractional=False)
    x[0] = logits[0] > 0  # row 0: every pixel confidently right (log-likelihood ~ -1e-17); row 1: mixed, ~ -1e3 per miss
    judge_bernoulli(t, x, logits, f"bernoulli_log_likelihood(x, logits) with logits of about +-40 (rows 0, 2) and +-1e3 (rows 1, 3), x = {x.astype(int).tolist()}", stable=True)


@check("gaussian_log_likelihood", "gaussian_log_likelihood: against torch.distributions.Normal(mean, exp(logvar / 2)).log_prob summed, then broadcast (a 0-d logvar)", forbid=GAUSSIAN_FORBID)
def gaussian_log_likelihood(t: Trial) -> None:
    x, (mean, lv) = t.rng.standard_normal((3, 4)), gaussians(t.rng, (3, 4))
    want = lambda x, m, v: Normal(m, torch.exp(v / 2)).log_prob(x).sum(-1)  # noqa: E731
    judge(t, "gaussian_log_likelihood", [x, mean, lv], want=want, faults=gaussian_faults(t.ref), what="gaussian_log_likelihood(x, mean, logvar) with all three (3, 4), against Normal(mean, exp(logvar / 2)).log_prob(x).sum(-1)")
    args = [x, t.rng.standard_normal((2, 1, 4)), np.array(t.rng.uniform(-1.0, 1.0))]
    judge(t, "gaussian_log_likelihood", args, want=t.ref.gaussian_log_likelihood, faults=gaussian_faults(t.ref), what=f"gaussian_log_likelihood(x, mean, logvar) with x (3, 4), mean (2, 1, 4), logvar 0-d = {args[2]:.4g} (result (2, 3))")


def elbo_args(rng: np.random.Generator, n: int, d: int, l: int) -> list[np.ndarray]:
    return [binary(rng, (n, d)), 2 * rng.standard_normal((n, d)), *gaussians(rng, (n, l))]


ELBO_NAMES = ("x_logits", "mu", "logvar")


@check("elbo", "elbo: the per-example ELBO, log p(x|z) - KL(q || p), and its gradient w.r.t. x_logits, mu and logvar", forbid=MODEL_FORBID)
def elbo(t: Trial) -> None:
    args = elbo_args(t.rng, 5, 6, 2)
    judge(t, "elbo", args, want=t.ref.elbo, faults=elbo_faults(t.ref), what="elbo(x, x_logits, mu, logvar) with x, x_logits (5, 6), mu, logvar (5, 2)", wrt=(1, 2, 3), names=ELBO_NAMES)


@check("vae_loss", "vae_loss: minus the batch mean of the ELBO (summed over dimensions), and its gradient", forbid=MODEL_FORBID)
def vae_loss(t: Trial) -> None:
    args = elbo_args(t.rng, 6, 5, 3)
    judge(t, "vae_loss", args, want=t.ref.vae_loss, faults=loss_faults(t.ref), what="vae_loss(x, x_logits, mu, logvar) with x, x_logits (6, 5), mu, logvar (6, 3)", wrt=(1, 2, 3), names=ELBO_NAMES)


def judge_bits(t: Trial, elbo_nats: np.ndarray, num_dims: int, what: str) -> None:
    faults = [(BITS_TIMES_LN2, lambda e, n: t.ref.elbo_to_bits_per_dim(e, n) * LN2**2)]
    judge(t, "elbo_to_bits_per_dim", [elbo_nats], want=t.ref.elbo_to_bits_per_dim, faults=faults, what=what.replace("(elbo)", f"(elbo, {num_dims})"), extra=(num_dims,))


@check("elbo_to_bits_per_dim", "elbo_to_bits_per_dim: an ELBO of -D ln 2 is 1 bit per dimension; random ELBOs")
def elbo_to_bits_per_dim(t: Trial) -> None:
    d = int(t.rng.integers(3, 12))
    judge_bits(t, np.array([-d * LN2, -2 * d * LN2]), d, f"elbo_to_bits_per_dim(elbo) with elbo = [-{d} ln 2, -{2 * d} ln 2] (expected [1, 2] bits per dimension)")
    judge_bits(t, -t.rng.uniform(1.0, 50.0, (2, 3)), d, "elbo_to_bits_per_dim(elbo) with elbo of shape (2, 3)")


def iwae_faults() -> list[tuple[Mistake, Fn]]:
    return [
        (IWAE_NO_LOG_K, lambda lw: torch.logsumexp(lw, dim=0)),
        (IWAE_MEAN_OF_LOGS, lambda lw: lw.mean(dim=0)),
    ]


def judge_iwae(t: Trial, log_w: np.ndarray, what: str) -> None:
    got = t.call("iwae_bound", t.tensor(log_w))
    if isinstance(got, np.ndarray) and got.dtype.kind == "f" and np.all(np.isfinite(log_w)) and not np.all(np.isfinite(got)):
        t.fail(f"{what}: got {np.round(got, 4).tolist()}, not finite; your answer matches a known mistake: {IWAE_UNSTABLE.title}. {IWAE_UNSTABLE.fix}", mistake=IWAE_UNSTABLE)
    judge(t, "iwae_bound", [log_w], want=t.ref.iwae_bound, faults=iwae_faults(), what=what)


@check("iwae_bound", "iwae_bound: logsumexp - ln k on random log-weights, k = 1, equal weights, and log-weights near -1000")
def iwae_bound(t: Trial) -> None:
    judge_iwae(t, 2 * t.rng.standard_normal((5, 3)), "iwae_bound(log_w) with log_w (5, 3): k = 5 samples of 3 examples")
    judge_iwae(t, t.rng.standard_normal((1, 4)), "iwae_bound(log_w) with log_w (1, 4): k = 1 (expected log_w[0])")
    level = t.rng.uniform(-3, 3)
    judge_iwae(t, np.full((4, 2), level), f"iwae_bound(log_w) with every log-weight {level:.4g} (expected {level:.4g})")
    judge_iwae(t, -1000 + t.rng.standard_normal((6, 2)), "iwae_bound(log_w) with log_w (6, 2) near -1000, where exp underflows to 0")


# ---- contracts: edge cases, and each documented limit from both sides ----------------------------------------------
# A limit is straddled (the last valid input is right, the first invalid one raises ValueError). One check per
# function: a missing function costs only its own.


@check("reparameterize_contract", "reparameterize: float32 kept, L = 1; ValueError for another logvar shape, eps of another last axis or batch, 0-d mu")
def reparameterize_contract(t: Trial) -> None:
    mu, lv, eps = (a.astype(np.float32) for a in (*gaussians(t.rng, (2, 3)), t.rng.standard_normal((2, 3))))
    want = t.ref.reparameterize(torch.tensor(mu), torch.tensor(lv), torch.tensor(eps))
    wrong = t.ref.reparameterize(torch.tensor(mu), torch.tensor(2 * lv), torch.tensor(eps))
    got = t.call("reparameterize", t.tensor(mu), t.tensor(lv), t.tensor(eps))
    if isinstance(got, np.ndarray) and got.dtype != np.float32:
        t.fail(f"reparameterize(float32 mu, logvar, eps (2, 3)): returned dtype {got.dtype}; z keeps the dtype of its inputs (float32)")
    t.close(got, want, what="reparameterize(float32 mu, logvar, eps (2, 3))", variants=[(EXP_STD, wrong)])
    mu, lv = gaussians(t.rng, (4, 1))
    judge_reparameterize(t, mu, lv, t.rng.standard_normal((3, 4, 1)), "reparameterize(mu, logvar, eps) with L = 1: mu, logvar (4, 1), eps (3, 4, 1)")
    mu, lv = gaussians(t.rng, (2, 3))
    for args, why in (
        ((mu, lv[:, :2], lv), "logvar (2, 2) is not of mu's shape (2, 3)"),
        ((mu, lv, t.rng.standard_normal((2, 1))), "eps (2, 1) has last axis 1, not L = 3 (each latent dimension needs its own noise)"),
        ((mu, lv, t.rng.standard_normal((3, 3))), "eps (3, 3) does not broadcast against mu (2, 3)"),
        ((mu, lv, np.array(0.5)), "eps is 0-d: it has no latent axis"),
        ((np.array(0.5), np.array(0.0), np.array(1.0)), "mu is 0-d: there is no latent axis"),
    ):
        expect_value_error(t, why, "reparameterize", *(t.tensor(a) for a in args))


@check("gaussian_kl_standard_contract", "gaussian_kl_standard: 1-D input gives a 0-d KL, L = 1; ValueError for shapes that differ and 0-d input", forbid=KL_FORBID)
def gaussian_kl_standard_contract(t: Trial) -> None:
    judge_kl(t, *gaussians(t.rng, (4,)), "gaussian_kl_standard(mu, logvar) with mu, logvar of shape (4,) (a 0-d KL)")
    judge_kl(t, *gaussians(t.rng, (3, 1)), "gaussian_kl_standard(mu, logvar) with L = 1: mu, logvar (3, 1)")
    mu, lv = gaussians(t.rng, (2, 3))
    expect_value_error(t, "mu (2, 3) and logvar (3, 2) differ in shape", "gaussian_kl_standard", t.tensor(mu), t.tensor(lv.T))
    expect_value_error(t, "mu and logvar are 0-d: there is no latent axis", "gaussian_kl_standard", t.tensor(np.array(1.0)), t.tensor(np.array(0.0)))


@check("bernoulli_log_likelihood_contract", "bernoulli_log_likelihood: x at 0 and 1 exactly, logits (S, N, D) against x (N, D); ValueError for x outside [0, 1], other D or batch, 0-d", forbid=BERNOULLI_FORBID)
def bernoulli_log_likelihood_contract(t: Trial) -> None:
    x = binary(t.rng, (3, 4), fractional=False)
    judge_bernoulli(t, x, t.rng.standard_normal((2, 3, 4)), f"bernoulli_log_likelihood(x, logits) with x (3, 4) = {x.astype(int).tolist()}, logits (2, 3, 4) (result (2, 3))")
    judge_bernoulli(t, x[0], t.rng.standard_normal((2, 4)), f"bernoulli_log_likelihood(x, logits) with one example x (4,) = {x[0].astype(int).tolist()}, logits (2, 4) (result (2,))")
    logits = t.tensor(t.rng.standard_normal((2, 3)))
    for x_bad, lo, why in (
        (np.array([[0.0, 1.001, 1.0], [0.0, 0.5, 1.0]]), logits, "x has 1.001 > 1"),
        (np.array([[0.0, -0.001, 1.0], [0.0, 0.5, 1.0]]), logits, "x has -0.001 < 0"),
        (binary(t.rng, (2, 4)), logits, "x has D = 4, the logits D = 3"),
        (binary(t.rng, (3, 3)), logits, "batch axes (3,) of x and (2,) of the logits do not broadcast"),
        (binary(t.rng, (3,)), t.tensor(np.array(0.5)), "the logits are 0-d"),
        (np.array(1.0), t.tensor(t.rng.standard_normal(3)), "x is 0-d"),
    ):
        expect_value_error(t, why, "bernoulli_log_likelihood", t.tensor(x_bad), lo)


@check("gaussian_log_likelihood_contract", "gaussian_log_likelihood: 1-D input gives 0-d, x (D,) against means (N, D); ValueError for shapes that do not broadcast, all 0-d", forbid=GAUSSIAN_FORBID)
def gaussian_log_likelihood_contract(t: Trial) -> None:
    faults = gaussian_faults(t.ref)
    x, (m, v) = t.rng.standard_normal(3), gaussians(t.rng, (3,))
    judge(t, "gaussian_log_likelihood", [x, m, v], want=t.ref.gaussian_log_likelihood, faults=faults, what="gaussian_log_likelihood(x, mean, logvar) with all three of shape (3,) (a 0-d result)")
    m, v = gaussians(t.rng, (2, 3))
    judge(t, "gaussian_log_likelihood", [x, m, v], want=t.ref.gaussian_log_likelihood, faults=faults, what="gaussian_log_likelihood(x, mean, logvar) with x (3,), mean and logvar (2, 3) (result (2,))")
    expect_value_error(t, "x (3,) and mean (4,) do not broadcast", "gaussian_log_likelihood", t.tensor(x), t.tensor(t.rng.standard_normal(4)), t.tensor(np.array(0.0)))
    expect_value_error(t, "x, mean and logvar are all 0-d", "gaussian_log_likelihood", *(t.tensor(np.array(a)) for a in (0.5, 0.0, 0.0)))


@check("elbo_contract", "elbo: x_logits (S, N, D) for S samples against x (N, D) and mu (N, L) gives (S, N); ValueError for latents of another batch, bad x, bad logvar", forbid=MODEL_FORBID)
def elbo_contract(t: Trial) -> None:
    x, logits, mu, lv = elbo_args(t.rng, 3, 4, 2)
    logits = 2 * t.rng.standard_normal((2, 3, 4))
    judge(t, "elbo", [x, logits, mu, lv], want=t.ref.elbo, faults=elbo_faults(t.ref), what="elbo(x, x_logits, mu, logvar) with x (3, 4), x_logits (2, 3, 4) (2 samples of z), mu, logvar (3, 2) (result (2, 3))")
    mu, lv = gaussians(t.rng, (2, 3, 2))
    judge(t, "elbo", [x, logits, mu, lv], want=t.ref.elbo, faults=elbo_faults(t.ref), what="elbo(x, x_logits, mu, logvar) with x (3, 4), x_logits (2, 3, 4), mu, logvar (2, 3, 2) (a batch of shape (2, 3))")
    x, logits, mu, lv = (t.tensor(a) for a in elbo_args(t.rng, 3, 4, 2))
    for args, why in (
        ((x, logits, t.tensor(t.rng.standard_normal((4, 2))), t.tensor(t.rng.standard_normal((4, 2)))), "the data's batch (3,) and the latents' (4,) do not broadcast"),
        ((t.tensor(np.full((3, 4), 2.0)), logits, mu, lv), "x is 2.0, outside [0, 1]"),
        ((x, logits, mu, t.tensor(t.rng.standard_normal((3, 3)))), "logvar (3, 3) is not of mu's shape (3, 2)"),
    ):
        expect_value_error(t, why, "elbo", *args)


@check("vae_loss_contract", "vae_loss: a batch of one; ValueError for an empty batch, 1-D x, x_logits of another shape, mu of another batch", forbid=MODEL_FORBID)
def vae_loss_contract(t: Trial) -> None:
    judge(t, "vae_loss", elbo_args(t.rng, 1, 4, 2), want=t.ref.vae_loss, faults=loss_faults(t.ref), what="vae_loss(x, x_logits, mu, logvar) with N = 1: x, x_logits (1, 4), mu, logvar (1, 2)")
    x, logits, mu, lv = (t.tensor(a) for a in elbo_args(t.rng, 3, 4, 2))
    for args, why in (
        (tuple(t.tensor(np.zeros((0, n))) for n in (4, 4, 2, 2)), "x (0, 4): an empty batch has no mean"),
        ((t.tensor(binary(t.rng, (4,))), t.tensor(t.rng.standard_normal(4)), mu, lv), "x (4,) is not (N, D)"),
        ((x, t.tensor(t.rng.standard_normal((3, 5))), mu, lv), "x_logits (3, 5) is not of x's shape (3, 4)"),
        ((x, logits, t.tensor(t.rng.standard_normal((2, 2))), t.tensor(t.rng.standard_normal((2, 2)))), "mu (2, 2) does not have N = 3 rows"),
    ):
        expect_value_error(t, why, "vae_loss", *args)


@check("elbo_to_bits_per_dim_contract", "elbo_to_bits_per_dim: num_dims = 1 and a 0-d ELBO; ValueError for num_dims 0, -3 and 2.5")
def elbo_to_bits_per_dim_contract(t: Trial) -> None:
    judge_bits(t, -t.rng.uniform(1.0, 10.0, 3), 1, "elbo_to_bits_per_dim(elbo) with elbo (3,) (num_dims = 1: -elbo / ln 2)")
    judge_bits(t, np.array(-t.rng.uniform(1.0, 10.0)), 4, "elbo_to_bits_per_dim(elbo) with a 0-d elbo")
    elbo_nats = t.tensor(-t.rng.uniform(1.0, 10.0, 2))
    for bad, why in ((0, "num_dims = 0"), (-3, "num_dims = -3 is negative"), (2.5, "num_dims = 2.5 is not an int")):
        expect_value_error(t, why, "elbo_to_bits_per_dim", elbo_nats, bad)


@check("iwae_bound_contract", "iwae_bound: k = 1 of one example (0-d), 1-D log-weights, an empty batch; ValueError for k = 0 and 0-d log_w")
def iwae_bound_contract(t: Trial) -> None:
    judge_iwae(t, t.rng.standard_normal(1), "iwae_bound(log_w) with log_w of shape (1,): k = 1, one example (a 0-d bound)")
    judge_iwae(t, 3 * t.rng.standard_normal(7), "iwae_bound(log_w) with log_w of shape (7,): k = 7, one example")
    judge_iwae(t, np.zeros((int(t.rng.integers(2, 5)), 0)), "iwae_bound(log_w) with k samples of no examples: log_w (k, 0) (an empty result)")
    expect_value_error(t, "log_w (0, 3) has k = 0 samples", "iwae_bound", t.tensor(np.zeros((0, 3))))
    expect_value_error(t, "log_w is 0-d: there is no sample axis", "iwae_bound", t.tensor(np.array(-1.0)))


# ---- the model maths in float64 numpy (trusted, grader side) -------------------------------------------------------


def linear_gaussian(rng: np.random.Generator, d: int, l: int) -> tuple[np.ndarray, np.ndarray, float]:
    """p(z) = N(0, I_l), p(x|z) = N(W z + b, s2 I_d) with W = U diag(scales), U orthonormal: W^T W is diagonal, so
    the true posterior p(z|x) is a diagonal Gaussian, one an encoder can output. Returns (W, b, ln s2)."""
    u, _ = np.linalg.qr(rng.standard_normal((d, l)))
    return u * rng.uniform(0.8, 2.0, l), rng.standard_normal(d), float(rng.uniform(-1.0, 0.0))


def log_evidence(x: np.ndarray, w: np.ndarray, b: np.ndarray, log_s2: float) -> np.ndarray:
    """log p(x) = log N(x; b, W W^T + s2 I), in closed form, for each row of x."""
    cov = w @ w.T + math.exp(log_s2) * np.eye(len(b))
    diff = x - b
    maha = np.einsum("...i,...i->...", diff, np.linalg.solve(cov, diff[..., None])[..., 0])
    return -0.5 * (len(b) * LOG_2PI + np.linalg.slogdet(cov)[1] + maha)


def true_posterior(x: np.ndarray, w: np.ndarray, b: np.ndarray, log_s2: float) -> tuple[np.ndarray, np.ndarray]:
    """(mean, logvar) of p(z|x) = N((W^T W + s2 I)^-1 W^T (x - b), s2 (W^T W + s2 I)^-1), diagonal here."""
    s2, col = math.exp(log_s2), (w**2).sum(axis=0)
    mean = (x - b) @ w / (col + s2)
    return mean, np.broadcast_to(np.log(s2 / (col + s2)), mean.shape).copy()


def diagonal_kl(m1: np.ndarray, lv1: np.ndarray, m2: np.ndarray, lv2: np.ndarray) -> np.ndarray:
    """KL(N(m1, diag e^lv1) || N(m2, diag e^lv2)), summed over the last axis."""
    return 0.5 * np.sum(lv2 - lv1 + (np.exp(lv1) + (m1 - m2) ** 2) / np.exp(lv2) - 1.0, axis=-1)


def gaussian_log_density(x: np.ndarray, mean: np.ndarray, logvar: Any) -> np.ndarray:
    return -0.5 * np.sum(LOG_2PI + logvar + (x - mean) ** 2 / np.exp(logvar), axis=-1)


NAMES = ("encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias", "decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias")


def init_params(rng: np.random.Generator, d: int, h: int, l: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    """Weights as torch.nn.Linear draws them (uniform in +-1/sqrt(fan_in)), times `scale`."""
    params = {}
    for prefix, (fan_in, fan_out) in zip(("encoder.0", "encoder.2", "decoder.0", "decoder.2"), ((d, h), (h, 2 * l), (l, h), (h, d))):
        bound = scale / math.sqrt(fan_in)
        params[f"{prefix}.weight"] = rng.uniform(-bound, bound, (fan_out, fan_in))
        params[f"{prefix}.bias"] = rng.uniform(-bound, bound, fan_out)
    return params


def encode_np(p: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hidden, mu, logvar) of the documented encoder."""
    hidden = np.tanh(x @ p["encoder.0.weight"].T + p["encoder.0.bias"])
    mu, logvar = np.split(hidden @ p["encoder.2.weight"].T + p["encoder.2.bias"], 2, axis=-1)
    return hidden, mu, logvar


def elbo_np(p: dict[str, np.ndarray], x: np.ndarray, eps: np.ndarray) -> float:
    """The single-sample ELBO averaged over the examples of x (N, D) and the samples eps (S, N, L): the held-out
    metric of a training run, at any parameters."""
    _, mu, lv = encode_np(p, x)
    z = mu + np.exp(lv / 2) * eps
    logits = np.tanh(z @ p["decoder.0.weight"].T + p["decoder.0.bias"]) @ p["decoder.2.weight"].T + p["decoder.2.bias"]
    likelihood = -np.sum(x * np.logaddexp(0, -logits) + (1 - x) * np.logaddexp(0, logits), axis=-1)
    return float(np.mean(likelihood - 0.5 * np.sum(mu**2 + np.exp(lv) - 1 - lv, axis=-1)))


def loss_and_grads_np(p: dict[str, np.ndarray], x: np.ndarray, eps: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """vae_loss(x, *VAE(x, eps)) and its gradient with respect to every parameter, by backpropagation by hand."""
    n = len(x)
    h1, mu, lv = encode_np(p, x)
    std = np.exp(lv / 2)
    z = mu + std * eps
    h2 = np.tanh(z @ p["decoder.0.weight"].T + p["decoder.0.bias"])
    logits = h2 @ p["decoder.2.weight"].T + p["decoder.2.bias"]
    likelihood = -np.sum(x * np.logaddexp(0, -logits) + (1 - x) * np.logaddexp(0, logits), axis=-1)
    loss = -float(np.mean(likelihood - 0.5 * np.sum(mu**2 + np.exp(lv) - 1 - lv, axis=-1)))
    g: dict[str, np.ndarray] = {}
    d_logits = (1 / (1 + np.exp(-logits)) - x) / n
    g["decoder.2.weight"], g["decoder.2.bias"] = d_logits.T @ h2, d_logits.sum(0)
    d_a2 = (d_logits @ p["decoder.2.weight"]) * (1 - h2**2)
    g["decoder.0.weight"], g["decoder.0.bias"] = d_a2.T @ z, d_a2.sum(0)
    d_z = d_a2 @ p["decoder.0.weight"]
    d_out = np.concatenate([d_z + mu / n, d_z * eps * std / 2 + (np.exp(lv) - 1) / (2 * n)], axis=-1)
    g["encoder.2.weight"], g["encoder.2.bias"] = d_out.T @ h1, d_out.sum(0)
    d_a1 = (d_out @ p["encoder.2.weight"]) * (1 - h1**2)
    g["encoder.0.weight"], g["encoder.0.bias"] = d_a1.T @ x, d_a1.sum(0)
    return loss, {k: g[k] for k in NAMES}


# ---- identities of the linear-Gaussian model, where log p(x) and the posterior are closed forms --------------------


def model_data(rng: np.random.Generator, d: int, l: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A linear-Gaussian model and n examples drawn from it: (x, W, b, ln s2)."""
    w, b, log_s2 = linear_gaussian(rng, d, l)
    return rng.standard_normal((n, l)) @ w.T + b + math.exp(log_s2 / 2) * rng.standard_normal((n, d)), w, b, log_s2


def answers(t: Trial, calls: Sequence[tuple[str, str, Sequence[np.ndarray], Fn, Sequence[tuple[Mistake, Fn]]]]) -> list[tuple[Any, torch.Tensor, Callable[[], list], str]]:
    """Run the student's functions on `calls` (label, function, args, trusted answer, faults) in one round trip:
    [(got, want, the known mistakes' answers when asked, what)]."""
    judged = [(want(*map(tensor, args)), lambda args=args, faults=faults: [(m, f(*map(tensor, args))) for m, f in faults]) for _, _, args, want, faults in calls]
    p = t.program()
    sent = [[t.tensor(a) for a in args] for _, _, args, _, _ in calls]  # kept: a program knows a tensor by its id
    got = p.run(*[p.call(fn, *tensors) for (_, fn, _, _, _), tensors in zip(calls, sent)])
    found = []
    for (label, fn, args, _, _), g, (want, variants) in zip(calls, got, judged):
        what = f"{label}: {fn}({', '.join(f'<{tuple(np.shape(a))}>' for a in args)})"
        if not isinstance(g, np.ndarray) or g.shape != tuple(want.shape):
            t.close(g, want, what=what)  # fails, saying what came back instead
        found.append((g, want, variants, what))
    return found


def explain(t: Trial, found: Sequence[tuple[Any, torch.Tensor, Callable[[], list], str]], failure: str) -> None:
    """An identity failed: a known mistake in one of the functions explains it best; else say what failed."""
    for got, want, variants, what in found:
        try:
            close_naming(t, got, want, what=what, variants=variants)
        except CheckFailed as wrong:
            if wrong.mistake:
                raise CheckFailed(f"{failure}. {wrong.message}", mistake=wrong.mistake) from None
    t.fail(failure)


def judge_zero_variance(t: Trial, d: int, l: int, n: int, s: int) -> None:
    x, w, b, log_s2 = model_data(t.rng, d, l, n)
    mu, lv = true_posterior(x, w, b, log_s2)
    z = mu + np.exp(lv / 2) * t.rng.standard_normal((s, n, l))
    gll, faults = Trusted.gaussian_log_likelihood, gaussian_faults(Trusted)
    found = answers(t, [
        ("log p(x|z)", "gaussian_log_likelihood", [x, z @ w.T + b, np.full(d, log_s2)], gll, faults),
        ("log p(z)", "gaussian_log_likelihood", [z, np.zeros(l), np.zeros(l)], gll, faults),
        ("log q(z|x)", "gaussian_log_likelihood", [z, mu, lv], gll, faults),
    ])
    log_w = found[0][0] + found[1][0] - found[2][0]
    log_px = log_evidence(x, w, b, log_s2)
    rtol, atol = t.tolerance(np.float64)
    off = ~np.isclose(log_w, log_px, rtol=rtol, atol=atol)
    if off.any():
        i, j = (int(v) for v in np.argwhere(off)[0])
        spread = np.ptp(log_w[:, j])
        explain(t, found, f"the linear-Gaussian model p(z) = N(0, I_{l}), p(x|z) = N(W z + b, {math.exp(log_s2):.4g} I_{d}) with q(z|x) its true posterior: log p(x|z) + log p(z) - log q(z|x) must be log p(x) = {log_px[j]:.6g} for every z; for example {j}, sample {i} your gaussian_log_likelihood gives {log_w[i, j]:.6g} (over the {s} samples it varies by {spread:.3g})")
    for got, want, variants, what in found:
        close_naming(t, got, want, what=what, variants=variants)


@check("linear_gaussian_posterior", "with q the true posterior of a linear-Gaussian model, log p(x|z) + log p(z) - log q(z|x) from your gaussian_log_likelihood equals the closed-form log p(x) for every sample z (zero variance)", forbid=GAUSSIAN_FORBID)
def linear_gaussian_posterior(t: Trial) -> None:
    judge_zero_variance(t, 4, 2, 3, 32)


def encoders(rng: np.random.Generator, mu: np.ndarray, lv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Three encoders' outputs (3, n, l): the true posterior, a random perturbation of it, and the prior (an encoder
    that ignores x)."""
    return np.stack([mu, mu + 0.5 * rng.standard_normal(mu.shape), np.zeros_like(mu)]), np.stack([lv, lv + 0.5 * rng.standard_normal(lv.shape), np.zeros_like(lv)])


ENCODERS = ("the true posterior", "a random encoder", "the prior N(0, I)")


def judge_elbo_bound(t: Trial, d: int, l: int, n: int, s: int) -> None:
    x, w, b, log_s2 = model_data(t.rng, d, l, n)
    post_mu, post_lv = true_posterior(x, w, b, log_s2)
    mu, lv = encoders(t.rng, post_mu, post_lv)
    z = mu + np.exp(lv / 2) * whitened(t.rng, s, (3, n), l)
    found = answers(t, [
        ("log p(x|z)", "gaussian_log_likelihood", [x, z @ w.T + b, np.full(d, log_s2)], Trusted.gaussian_log_likelihood, gaussian_faults(Trusted)),
        ("KL(q(z|x) || p(z))", "gaussian_kl_standard", [mu, lv], Trusted.gaussian_kl_standard, kl_faults(Trusted)),
    ])
    estimate = found[0][0].mean(axis=0) - found[1][0]
    log_px = log_evidence(x, w, b, log_s2)
    exact = log_px - diagonal_kl(mu, lv, post_mu, post_lv)
    rtol, atol = t.tolerance(np.float64)
    model = f"the linear-Gaussian model p(z) = N(0, I_{l}), p(x|z) = N(W z + b, {math.exp(log_s2):.4g} I_{d}), {n} examples, {s} samples of z per example whose noise has sample mean 0 and covariance I exactly (so the sample mean of the quadratic log p(x|z) is its expectation)"
    above = estimate > log_px + atol + rtol * np.abs(log_px)
    if above.any():
        e, i = (int(v) for v in np.argwhere(above)[0])
        explain(t, found, f"{model}: the ELBO is a lower bound on log p(x), yet for {ENCODERS[e]} as q and example {i} mean(log p(x|z)) - KL from your functions gives {estimate[e, i]:.6g} > log p(x) = {log_px[i]:.6g}")
    off = ~np.isclose(estimate, exact, rtol=rtol, atol=atol)
    if off.any():
        e, i = (int(v) for v in np.argwhere(off)[0])
        explain(t, found, f"{model}: log p(x) - ELBO = KL(q || p(z|x)), so with {ENCODERS[e]} as q the ELBO of example {i} is {exact[e, i]:.6g} (log p(x) = {log_px[i]:.6g}); mean(log p(x|z)) - KL from your functions gives {estimate[e, i]:.6g}")
    for got, want, variants, what in found:
        close_naming(t, got, want, what=what, variants=variants)


@check("linear_gaussian_elbo", "the ELBO from your gaussian_log_likelihood and gaussian_kl_standard is <= log p(x) on a linear-Gaussian model, equal at the true posterior, and log p(x) - KL(q || p(z|x)) for other encoders: combines both", forbid=GAUSSIAN_FORBID, combines=("gaussian_log_likelihood",))
def linear_gaussian_elbo(t: Trial) -> None:
    judge_elbo_bound(t, 4, 2, 3, 16)


IWAE_SIGMAS = 5.0  # the tolerance of L_M against log p(x), in standard errors of the mean weight


def judge_iwae_monotone(t: Trial, d: int, l: int, n: int, doublings: int) -> None:
    x, w, b, log_s2 = model_data(t.rng, d, l, n)
    post_mu, post_lv = true_posterior(x, w, b, log_s2)
    mu, lv = post_mu + 0.5 * np.exp(post_lv / 2) * t.rng.standard_normal(post_mu.shape), post_lv + math.log(1.5)  # wider than the posterior: bounded weights
    m = 2**doublings
    z = mu + np.exp(lv / 2) * t.rng.standard_normal((m, n, l))
    log_w = gaussian_log_density(x, z @ w.T + b, log_s2) + gaussian_log_density(z, 0.0, 0.0) - gaussian_log_density(z, mu, lv)
    ks = [2**i for i in range(doublings + 1)]
    blocks = [log_w.reshape(k, m // k, n) for k in ks]  # k samples in each of m/k blocks; a block of 2k is two of k
    found = answers(t, [(f"L_{k} on {m // k} blocks of {k} of the {m} log-weights", "iwae_bound", [block], Trusted.iwae_bound, iwae_faults()) for k, block in zip(ks, blocks)])
    means = np.array([got.mean(axis=0) for got, *_ in found])  # (k, n): the average bound of each k
    log_px = log_evidence(x, w, b, log_s2)
    weights = np.exp(log_w - log_w.max(axis=0))
    se = weights.std(axis=0) / weights.mean(axis=0) / math.sqrt(m)  # of log(mean w), by the delta method
    setting = f"the {m} log-weights log p(x, z) - log q(z|x) of {n} examples of a linear-Gaussian model, z from a q wider than the posterior, split into blocks of k (a block of 2k is two blocks of k), for k = 1, 2, ..., {m}"
    drops = np.argwhere(means[1:] < means[:-1] - 1e-9 * np.abs(means[:-1]))
    if len(drops):
        j, i = (int(v) for v in drops[0])
        explain(t, found, f"{setting}: the average bound over the blocks never decreases from k to 2k (log of a mean of two means >= the mean of their logs), yet for example {i} yours goes from {means[j, i]:.6g} at k = {ks[j]} to {means[j + 1, i]:.6g} at k = {ks[j + 1]}")
    far = np.abs(means[-1] - log_px) > IWAE_SIGMAS * se
    if far.any():
        i = int(np.argmax(far))
        explain(t, found, f"{setting}: L_{m} must approach log p(x) = {log_px[i]:.6g} (within {IWAE_SIGMAS:g} standard errors, {IWAE_SIGMAS * se[i]:.3g}), from L_1 = {means[0, i]:.6g} below it; yours gives L_{m} = {means[-1, i]:.6g} for example {i}")
    for got, want, variants, what in found:
        close_naming(t, got, want, what=what, variants=variants)


@check("iwae_monotone", "iwae_bound on nested blocks of log-weights of a linear-Gaussian model: the average bound rises with k = 1, 2, ..., 1024 and L_1024 reaches log p(x) within 5 standard errors")
def iwae_monotone(t: Trial) -> None:
    judge_iwae_monotone(t, 4, 2, 2, 10)


# ---- the VAE module, and training it with your loss ----------------------------------------------------------------


def mlp(p: dict[str, torch.Tensor], prefix: str, x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x @ p[f"{prefix}.0.weight"].T + p[f"{prefix}.0.bias"]) @ p[f"{prefix}.2.weight"].T + p[f"{prefix}.2.bias"]


def forward(ref: Any, p: dict[str, torch.Tensor], x: torch.Tensor, eps: torch.Tensor, fault: Mistake | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The documented VAE.forward with the reference's reparameterize, or with one of the module's known mistakes."""
    mu, lv = mlp(p, "encoder", x).chunk(2, dim=-1)
    if fault is SPLIT_SWAPPED:
        mu, lv = lv, mu
    z = mu if fault is DECODES_MEAN else ref.reparameterize(mu, 2 * lv if fault is EXP_STD else lv, eps)
    return mlp(p, "decoder", z), mu, lv


MODULE_FAULTS = (SPLIT_SWAPPED, DECODES_MEAN, EXP_STD)


def build(t: Trial, p: Any, weights: dict[str, Any], d: int, h: int, l: int) -> tuple[Any, list[Any], int]:
    """Program steps that build the student's VAE(d, h, l) on the trial's device in float64 with `weights` (tensors
    the caller keeps until the program has run: a program knows a tensor by its id) loaded: (the module, its
    parameters by NAMES, the index of the load_state_dict step)."""
    model = p.method(p.method(p.call("VAE", d, h, l), "double"), "to", t.device)
    load = p.method(model, "load_state_dict", weights)
    return model, [p.method(model, "get_parameter", k) for k in NAMES], int(load.name[1:])


def run_model(t: Trial, p: Any, load: int, *returns: Any) -> list[Any]:
    try:
        return p.run(*returns)
    except StudentError as exc:
        if exc.not_attempted or exc.step != load:
            raise
        t.fail(f"{exc.call} raised {exc.type}: {exc.text.splitlines()[0]}; the VAE's submodules must be exactly self.encoder = nn.Sequential(nn.Linear(D, H), nn.Tanh(), nn.Linear(H, 2 * L)) and self.decoder = nn.Sequential(nn.Linear(L, H), nn.Tanh(), nn.Linear(H, D)): the checks load weights by their names ({', '.join(NAMES)})")


def parts(t: Trial, got: Any, n: int, what: str) -> Any:
    if not isinstance(got, (tuple, list)) or len(got) != n:
        t.fail(f"{what}: returned {describe(got)}; expected a tuple of {n} tensors")
    return got


def judge_module(t: Trial, d: int, h: int, l: int, n: int) -> None:
    params = init_params(t.rng, d, h, l, scale=2.0)
    x, eps, z = binary(t.rng, (n, d)), t.rng.standard_normal((n, l)), t.rng.standard_normal((n, l))
    u = t.rng.uniform(0.5, 2.0, (n, d))
    @functools.cache
    def answer(fault: Mistake | None) -> tuple[list[torch.Tensor], tuple[torch.Tensor, ...]]:
        ps = {k: tensor(v, grad=True) for k, v in params.items()}
        out = forward(Trusted, ps, tensor(x), tensor(eps), fault)
        return [o.detach() for o in out], torch.autograd.grad(out[0], [ps[k] for k in NAMES], tensor(u))

    decoded = mlp({k: tensor(v) for k, v in params.items()}, "decoder", tensor(z))
    p, weights, (xs, x1, zs, es) = t.program(), {k: t.tensor(v) for k, v in params.items()}, (t.tensor(a) for a in (x, x[0], z, eps))
    model, ps, load = build(t, p, weights, d, h, l)
    enc, one, dec, out = p.method(model, "encode", xs), p.method(model, "encode", x1), p.method(model, "decode", zs), p.method(model, "forward", xs, es)
    got_enc, got_one, got_dec, got_out, grads = run_model(t, p, load, enc, one, dec, out, p.grad(p.method(out, "__getitem__", 0), ps, u))
    size = f"VAE({d}, {h}, {l}) with the check's weights, on x ({n}, {d})"
    (_, mu, lv), want_grads = answer(None)
    got_enc = parts(t, got_enc, 2, f"{size}: encode(x)")
    t.close(got_enc[0], mu, what=f"{size}: encode(x)[0], mu", variants=[(SPLIT_SWAPPED, lv)])
    t.close(got_enc[1], lv, what=f"{size}: encode(x)[1], logvar", variants=[(SPLIT_SWAPPED, mu)])
    got_one = parts(t, got_one, 2, f"{size}: encode(x[0]) (one example, shape ({d},))")
    t.close(got_one[0], mu[0], what=f"{size}: encode(x[0])[0], mu of one example", variants=[(SPLIT_SWAPPED, lv[0])])
    t.close(got_one[1], lv[0], what=f"{size}: encode(x[0])[1], logvar of one example", variants=[(SPLIT_SWAPPED, mu[0])])
    t.close(got_dec, decoded, what=f"{size}: decode(z) with z ({n}, {l})")
    got_out = parts(t, got_out, 3, f"{size}: forward(x, eps)")
    for i, name in enumerate(("x_logits", "mu", "logvar")):
        close_naming(t, got_out[i], answer(None)[0][i], what=f"{size}: forward(x, eps)[{i}], {name}", variants=lambda i=i: [(m, answer(m)[0][i]) for m in MODULE_FAULTS])
    if grads is None:
        t.fail(f"{size}: forward(x, eps)[0] is not a tensor with an autograd graph back to the module's parameters")
    for name, got, want, j in zip(NAMES, grads, want_grads, range(len(NAMES))):
        close_naming(t, got, want, what=f"{size}: d<u, x_logits>/d{name} (autograd through forward)", variants=lambda j=j: [(m, answer(m)[1][j]) for m in MODULE_FAULTS])


@check("vae_module", "VAE: the documented submodules (weights loaded by name), encode, decode, forward and its gradient w.r.t. every weight", combines=("VAE.forward",))
def vae_module(t: Trial) -> None:
    judge_module(t, 5, 6, 3, 4)


# The training check: D-bit data from 3 prototype patterns with bits flipped at random, a VAE of width H and latent
# size L trained by Adam for STEPS steps on the loss. The reference's run improves the held-out ELBO by 1.6 nats per
# example (the median of 200 data sets; 5% gain less than 1.05, the least 0.44): a run must gain at least GAIN of
# what the reference's run gains on the same data and noise. The reference's final held-out ELBO varies with the
# training noise alone by a standard deviation of 0.105 nats per example (the mean over 30 data sets of its standard
# deviation over 8 noise seeds; the largest 0.21): BAND is 4 standard deviations of 0.15, an upper estimate of that
# (tests/topics/test_vae.py measures it again).
D, H, L, N_TRAIN, N_HELD, HELD_SAMPLES, FLIP = 8, 8, 2, 64, 48, 4, 0.1
STEPS, LR, PARITY, GAIN, BAND = 60, 0.05, 3, 0.5, 0.6


def prototype_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, class_train, x_held, class_held): 3 prototypes of D bits, each two at Hamming distance >= 3, with
    every bit of an example flipped with probability FLIP."""
    while True:
        prototypes = rng.integers(0, 2, (3, D))
        if min(np.sum(prototypes[i] != prototypes[j]) for i in range(3) for j in range(i)) >= 3:
            break
    drawn = []
    for n in (N_TRAIN, N_HELD):
        c = rng.integers(0, 3, n)
        drawn += [np.abs(prototypes[c] - (rng.random((n, D)) < FLIP)).astype(float), c]
    return drawn[0], drawn[1], drawn[2], drawn[3]


def training_faults(ref: Any) -> list[tuple[Mistake, Callable[..., torch.Tensor]]]:
    """The loss of a training step, params -> loss, with one known mistake of the module or of the loss in it."""
    def step(fault: Mistake | None = None, loss: Fn | None = None) -> Callable[..., torch.Tensor]:
        return lambda ps, x, eps: (loss or ref.vae_loss)(x, *forward(ref, ps, x, eps, fault))

    return [(m, step(fault=m)) for m in MODULE_FAULTS] + [(m, step(loss=f)) for m, f in loss_faults(ref)]


def reference_step(fn: Callable[..., torch.Tensor], params: dict[str, np.ndarray], x: np.ndarray, eps: np.ndarray) -> tuple[torch.Tensor, list[torch.Tensor]]:
    ps = {k: tensor(v, grad=True) for k, v in params.items()}
    loss = fn(ps, tensor(x), tensor(eps))
    return loss.detach(), list(torch.autograd.grad(loss, [ps[k] for k in NAMES]))


def student_step(t: Trial, params: dict[str, np.ndarray], x: np.ndarray, eps: np.ndarray, what: str) -> tuple[Any, dict[str, np.ndarray]]:
    """Your vae_loss(x, *VAE(x, eps)) and its gradient with respect to every parameter, at `params`: one round trip."""
    p, weights, xs, es = t.program(), {k: t.tensor(v) for k, v in params.items()}, t.tensor(x), t.tensor(eps)
    model, ps, load = build(t, p, weights, D, H, L)
    out = p.method(model, "forward", xs, es)
    loss = p.call("vae_loss", xs, *(p.method(out, "__getitem__", i) for i in range(3)))
    value, grads = run_model(t, p, load, loss, p.grad(loss, ps, np.array(1.0)))
    if grads is None:
        t.fail(f"{what}: vae_loss(x, *model(x, eps)) returned {describe(value)}, not a tensor with an autograd graph back to the module's parameters")
    return value, dict(zip(NAMES, grads))


@check("vae_training", f"VAE trained by Adam with your vae_loss for {STEPS} steps on prototype bit patterns: the first {PARITY} losses and gradients are the reference's, the held-out ELBO gains >= {GAIN:.0%} of the reference run's gain and ends within {BAND} nats of it: combines VAE and vae_loss", forbid=MODEL_FORBID, combines=("VAE.forward", "vae_loss"))
def vae_training(t: Trial) -> None:
    from autograder.engine.training import Adam
    from autograder.reports import plots

    x, _, held, held_class = prototype_data(t.rng)
    start = init_params(t.rng, D, H, L)
    eps, held_eps = t.rng.standard_normal((STEPS, N_TRAIN, L)), t.rng.standard_normal((HELD_SAMPLES, N_HELD, L))
    # The reference's run (the numpy formulas above), then the loss and gradient at its first PARITY parameters, and
    # those of the known mistakes at the first (Trusted: the parameters are computed).
    adam, path, curve = Adam(start, lr=LR), [start], [elbo_np(start, held, held_eps)]
    for s in range(STEPS):
        path.append(adam.step(loss_and_grads_np(path[-1], x, eps[s])[1]))
        curve.append(elbo_np(path[-1], held, held_eps))
    wants = [reference_step(lambda ps, x, e: Trusted.vae_loss(x, *forward(Trusted, ps, x, e)), path[s], x, eps[s]) for s in range(PARITY)]
    faults = functools.cache(lambda: [(m, reference_step(f, start, x, eps[0])) for m, f in training_faults(Trusted)])
    setting = f"VAE({D}, {H}, {L}) on {N_TRAIN} examples of {D} bits"
    for s in range(PARITY):
        what = f"{setting}, step {s} of the reference's run: vae_loss(x, *model(x, eps))"
        loss, grads = student_step(t, path[s], x, eps[s], what)
        close_naming(t, loss, wants[s][0], what=what, variants=lambda: [(m, v[0]) for m, v in faults()] if s == 0 else [])
        for j, name in enumerate(NAMES):
            close_naming(t, grads[name], wants[s][1][j], what=f"{what}: d loss/d {name}", variants=lambda j=j: [(m, v[1][j]) for m, v in faults()] if s == 0 else [])
        if s == 0:
            first = grads
    adam, params, yours = Adam(start, lr=LR), start, [curve[0]]
    for s in range(STEPS):
        params = adam.step(first if s == 0 else student_step(t, params, x, eps[s], f"{setting}, step {s} of your run")[1])
        yours.append(elbo_np(params, held, held_eps))
    steps = np.arange(STEPS + 1)
    t.figure(plots.curves(title=f"held-out ELBO (nats per example) while training, Adam lr {LR}", x_label="step", y_label="ELBO (nats)", series={"reference": (steps, curve), "yours": (steps, yours)}))
    mu = encode_np(params, held)[1]
    t.figure(plots.scatter(title="latent means of held-out data under your trained encoder", series={f"prototype {c}": mu[held_class == c] for c in range(3)}, x_label="mu_1", y_label="mu_2"))
    gained, final, needed = yours[-1] - yours[0], yours[-1], GAIN * (curve[-1] - curve[0])
    if not np.isfinite(final) or gained < needed:
        t.fail(f"{setting}, Adam lr {LR}, {STEPS} steps with your loss and gradients: the held-out ELBO went from {yours[0]:.4f} to {final:.4f} nats per example; it must gain at least {needed:.4f}, {GAIN:.0%} of the reference run's gain from {curve[0]:.4f} to {curve[-1]:.4f}")
    if abs(final - curve[-1]) > BAND:
        t.fail(f"{setting}, Adam lr {LR}, {STEPS} steps with your loss and gradients: the final held-out ELBO is {final:.4f} nats per example, the reference's run ends at {curve[-1]:.4f}; they must agree within {BAND} (4 standard deviations of the reference's over training noise)")
