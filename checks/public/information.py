"""Public checks of the information topic: inputs drawn from the trial's rng (the public seed in a student's own run,
the same every run; fresh ones when the course grades); students run these themselves.

The known mistakes of this topic are declared here (hidden checks import them), each with the wrong variant that
reveals it, computed on the grader's own copies of the inputs. Test distributions always carry zero entries: that is
where 0 log 0 and absolute continuity are decided.
"""

from __future__ import annotations

import numpy as np
import torch

from autograder.engine.checks import CheckFailed, Mistake, Trial, check

ZERO_LOG_ZERO = Mistake(
    "zero-log-zero-nan",
    "a zero probability gives NaN: 0 log 0 (or 0 log(0/q)) was computed as 0 * -inf",
    "Take 0 log 0 = 0: sum only over outcomes with p(x) > 0, e.g. np.where(p > 0, p * np.log(...), 0) "
    "(torch.special.xlogy and torch.special.entr do this for you).",
)
KL_RATIO_OVERFLOW = Mistake(
    "kl-ratio-overflow",
    "the KL divergence is +inf where q is tiny but not 0: p / q overflowed (0.5 / 5e-324 = inf for the subnormal q = 5e-324)",
    "Compute each term as p ln p - p ln q: ln q is finite for every q > 0 (ln 5e-324 = -744.4); the term is +inf only "
    "where p > 0 = q.",
)
KL_SWAPPED = Mistake(
    "kl-swapped",
    "the KL divergence has its arguments swapped: this is KL(q||p), not KL(p||q)",
    "KL(p||q) = sum p log(p/q) is an expectation under p, the first argument; KL is not symmetric.",
)
CE_SWAPPED = Mistake(
    "cross-entropy-swapped",
    "the cross entropy has its arguments swapped: this is H(q, p), not H(p, q)",
    "H(p, q) = -sum p log q: the true distribution p weights the log of the model q.",
)
BITS = Mistake(
    "bits-not-nats",
    "the answer is in bits (log base 2), not nats: it is the right one divided by ln 2",
    "Use the natural logarithm (np.log, torch.log).",
)
SOFTMAX_TWICE = Mistake(
    "softmax-twice",
    "probabilities were passed where logits are expected: softmax(logits) went into a loss that applies softmax again",
    "The loss takes raw logits: use log_softmax(logits) = logits - logsumexp(logits) on the logits themselves, once, "
    "not on softmax(logits).",
)
LOSS_SUMMED = Mistake(
    "loss-summed",
    "the loss is summed over the batch instead of averaged: N times the right one",
    "Average over the N examples, as F.cross_entropy does by default (reduction='mean').",
)
SOFTMAX_OVERFLOW = Mistake(
    "softmax-overflow",
    "the loss or its gradient is not finite at large logits: softmax without subtracting the maximum overflows exp "
    "(exp(1e3) = inf), or log takes a softmax that underflowed to 0",
    "Compute log_softmax as logits - logsumexp(logits), with logsumexp(z) = m + log sum exp(z - m), m = max z.",
)
GAUSSIAN_NO_HALF = Mistake(
    "gaussian-kl-no-half",
    "the Gaussian KL is missing its factor 1/2: twice the right answer",
    "KL = 1/2 sum_i [ln(var2/var1) + (var1 + (mu1 - mu2)^2)/var2 - 1]: the 1/2 multiplies every term.",
)
VARIANCE_AS_STD = Mistake(
    "variance-as-std",
    "the variances are used as standard deviations (so they are squared once more)",
    "The arguments are variances sigma^2: use them as they are (torch.distributions.Normal takes sqrt(var)).",
)

LN2 = np.log(2.0)
SUBNORMAL = 5e-324  # the smallest positive float64: p / SUBNORMAL overflows for p > 9e-16, ln(SUBNORMAL) = -744.4

# Library code that computes a whole exercise (each stub's docstring lists it): a check of that function refuses it.
DISCRETE_FORBID = ("torch.distributions", "scipy.stats", "scipy.special.rel_entr", "scipy.special.kl_div", "torch.nn.functional.kl_div")
SOFTMAX_CE_FORBID = ("torch.nn.functional.cross_entropy", "torch.nn.functional.nll_loss", "torch.distributions")
GAUSSIAN_KL_FORBID = ("torch.distributions", "scipy.stats")


# ---- inputs and wrong variants (grader side) ----------------------------------------------------------------------


def distributions(rng: np.random.Generator, shape: tuple[int, ...], zeros: int = 0) -> np.ndarray:
    """Random rows of probabilities, each with exactly `zeros` zero entries at random places."""
    w = rng.uniform(0.05, 1.0, shape)
    w[rng.random(shape).argsort(axis=-1) < zeros] = 0.0
    return w / w.sum(axis=-1, keepdims=True)


def kl_rows(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Three rows (k >= 4) that decide the edge cases: p = 0 < q (0 log 0 must be 0), p = 0 = q, and p > 0 = q."""
    p, q = distributions(rng, (3, k)), distributions(rng, (3, k))
    a, b = rng.choice(k, 2, replace=False)
    p[0, a] = 0.0  # row 0: p = 0 < q at a, finite
    p[1, a] = q[1, a] = 0.0  # row 1: p = 0 = q at a, finite
    q[2, b] = 0.0  # row 2: p > 0 = q at b, +inf
    return p / p.sum(axis=-1, keepdims=True), q / q.sum(axis=-1, keepdims=True)


def corner_rows(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Three rows (k >= 3) at the corners of the domain: p one-hot against a q without zeros, p = q one-hot (every
    answer 0), and q = 5e-324 > 0 where p > 0 (finite, though p / q overflows)."""
    p, q = distributions(rng, (3, k)), distributions(rng, (3, k))
    a, b = rng.choice(k, 2, replace=False)
    p[0] = np.eye(k)[a]
    p[1] = q[1] = np.eye(k)[b]
    q[2, a] = 0.0
    q[2] /= q[2].sum()
    q[2, a] = SUBNORMAL  # set after normalising, which would round it away
    return p, q


def kl_by_ratio(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """sum p ln(p / q) with 0 ln 0 = 0 (the KL_RATIO_OVERFLOW mistake): +inf where p / q overflows."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.sum(np.where(p > 0, p * np.log(p / q), 0.0), axis=-1)


def close_information(t: Trial, got, want: np.ndarray, *, what: str, variants) -> None:
    """t.close; on an unnamed failure, name a NaN as the 0 log 0 mistake, explain a finite answer where the reference
    is +inf, and report the worst finite entry when the +inf entries are right."""
    try:
        t.close(got, want, what=what, variants=variants)
    except CheckFailed as failure:
        if failure.mistake is None and isinstance(got, np.ndarray) and got.shape == want.shape and got.dtype.kind == "f":
            nan = np.isnan(got) & ~np.isnan(want)
            if nan.any():
                i = tuple(int(v) for v in np.unravel_index(int(np.argmax(nan)), nan.shape))
                where = f" at index {i}" if i else ""
                t.fail(f"{what}: got NaN{where}, expected {want[i]:.6g}; your answer matches a known mistake: {ZERO_LOG_ZERO.title}. {ZERO_LOG_ZERO.fix}", mistake=ZERO_LOG_ZERO)
            if np.any(np.isinf(want) & np.isfinite(got)):
                t.fail(f"{failure.message}. The answer is +inf where p(x) > 0 but q(x) = 0: p is not absolutely continuous with respect to q")
            finite = np.isfinite(want)
            if not finite.all() and np.array_equal(got[~finite], want[~finite]):
                # The +inf entries are right; compare the rest alone, or the report would point at an inf (inf - inf).
                t.close(np.where(finite, got, 0.0), np.where(finite, want, 0.0), what=f"{what} (its +inf entries are right)")
        raise


def judge_entropy(t: Trial, p: np.ndarray, what: str) -> None:
    want = t.ref.entropy(p)
    close_information(t, t.call("entropy", p), want, what=what, variants=[(BITS, want / LN2)])


def judge_cross_entropy(t: Trial, p: np.ndarray, q: np.ndarray, what: str) -> None:
    want = t.ref.cross_entropy(p, q)
    variants = [(CE_SWAPPED, t.ref.cross_entropy(q, p)), (BITS, want / LN2)]
    close_information(t, t.call("cross_entropy", p, q), want, what=what, variants=variants)


def kl_variants(t: Trial, p: np.ndarray, q: np.ndarray) -> list:
    want = t.ref.kl_divergence(p, q)
    return [(KL_SWAPPED, t.ref.kl_divergence(q, p)), (BITS, want / LN2), (KL_RATIO_OVERFLOW, kl_by_ratio(p, q))]


def judge_kl(t: Trial, p: np.ndarray, q: np.ndarray, what: str) -> None:
    close_information(t, t.call("kl_divergence", p, q), t.ref.kl_divergence(p, q), what=what, variants=kl_variants(t, p, q))


def softmax_ce_and_grad(ref, logits: np.ndarray, targets: np.ndarray, upstream: float, twice: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference loss (a tensor, as asked) and its gradient w.r.t. the logits; `twice`: of softmax(logits)
    instead (the mistake)."""
    x = torch.tensor(logits, requires_grad=True)
    loss = ref.softmax_cross_entropy(torch.softmax(x, dim=-1) if twice else x, torch.tensor(targets))
    (grad,) = torch.autograd.grad(loss, x, torch.tensor(upstream, dtype=x.dtype))
    return loss.detach(), grad


def judge_softmax_ce(t: Trial, logits: np.ndarray, targets: np.ndarray, *, large: bool = False) -> None:
    """Value and autograd gradient against the reference. `large`: the logits are large enough to overflow a naive
    exp, so a non-finite answer is named as the instability it is."""
    n = len(targets)
    what = f"softmax_cross_entropy(logits {logits.shape} {logits.dtype}, targets {targets.tolist()})"
    upstream = float(t.rng.uniform(0.5, 2.0))
    want, want_grad = softmax_ce_and_grad(t.ref, logits, targets, upstream)
    twice, twice_grad = softmax_ce_and_grad(t.ref, logits, targets, upstream, twice=True)
    got, (got_grad,) = t.call_grad("softmax_cross_entropy", t.tensor(logits, grad=True), t.tensor(targets), upstream=upstream)
    for name, value in (("the loss", got), ("its gradient", got_grad)):
        if large and isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            t.fail(f"{what} with logits up to |{np.abs(logits).max():g}|: {name} is not finite; your answer matches a known mistake: {SOFTMAX_OVERFLOW.title}. {SOFTMAX_OVERFLOW.fix}", mistake=SOFTMAX_OVERFLOW)
    t.close(got, want, what=what, variants=[(SOFTMAX_TWICE, twice), (LOSS_SUMMED, n * want)])
    t.close(got_grad, want_grad, what=f"d({upstream:.3g} * {what})/dlogits (autograd)", variants=[(SOFTMAX_TWICE, twice_grad), (LOSS_SUMMED, n * want_grad)])


def general_gaussian_kl(mu1: np.ndarray, var1: np.ndarray, mu2: np.ndarray, var2: np.ndarray) -> float:
    """KL of two d-dimensional Gaussians from the full-covariance formula
    1/2 [tr(S2^-1 S1) + (mu2 - mu1)^T S2^-1 (mu2 - mu1) - d + ln(det S2 / det S1)], with S = diag(var)."""
    s1, s2 = np.diag(var1), np.diag(var2)
    diff = mu2 - mu1
    logdet = np.linalg.slogdet(s2)[1] - np.linalg.slogdet(s1)[1]
    return 0.5 * (np.trace(np.linalg.solve(s2, s1)) + diff @ np.linalg.solve(s2, diff) - len(mu1) + logdet)


def judge_gaussian_kl(t: Trial, mu1, var1, mu2, var2, what: str) -> None:
    want = t.ref.gaussian_kl(mu1, var1, mu2, var2)
    variants = [
        (KL_SWAPPED, t.ref.gaussian_kl(mu2, var2, mu1, var1)),
        (GAUSSIAN_NO_HALF, 2 * want),
        (VARIANCE_AS_STD, t.ref.gaussian_kl(mu1, np.square(var1), mu2, np.square(var2))),
    ]
    t.close(t.call("gaussian_kl", mu1, var1, mu2, var2), want, what=what, variants=variants)


# ---- the public checks ------------------------------------------------------------------------------------------


@check("entropy", "entropy: closed forms (uniform, one-hot, a coin), then a batch with zero entries", forbid=DISCRETE_FORBID)
def entropy(t: Trial) -> None:
    for p, value, why in (
        (np.full(5, 0.2), np.log(5.0), "ln 5, the uniform distribution"),
        (np.array([0.0, 1.0, 0.0]), 0.0, "0: a one-hot p is certain, and 0 log 0 = 0"),
        (np.array([0.3, 0.7]), -0.3 * np.log(0.3) - 0.7 * np.log(0.7), "-0.3 ln 0.3 - 0.7 ln 0.7"),
    ):
        what = f"entropy({p.tolist()}) (expected {why})"
        close_information(t, t.call("entropy", p), np.asarray(value), what=what, variants=[(BITS, np.asarray(value / LN2))])
    judge_entropy(t, distributions(t.rng, (4, 6), zeros=2), "entropy(p) with p of shape (4, 6), two zeros per row")


@check("cross_entropy", "cross_entropy: H(p, uniform) = ln K, a batch with zeros, +inf where q = 0 < p", forbid=DISCRETE_FORBID)
def cross_entropy(t: Trial) -> None:
    p = distributions(t.rng, (6,), zeros=2)
    what = f"cross_entropy(p, q) with p = {np.round(p, 3).tolist()} and q uniform over 6 (expected ln 6 whatever p is)"
    uniform = np.full(6, 1 / 6)
    variants = [(CE_SWAPPED, t.ref.cross_entropy(uniform, p)), (BITS, np.asarray(np.log(6.0) / LN2))]
    close_information(t, t.call("cross_entropy", p, uniform), np.asarray(np.log(6.0)), what=what, variants=variants)
    p, q = kl_rows(t.rng, 5)
    judge_cross_entropy(t, p, q, "cross_entropy(p, q) with p, q of shape (3, 5): row 0 has p = 0 < q, row 1 p = 0 = q, row 2 p > 0 = q (+inf)")


@check("kl_divergence", "kl_divergence: KL(p||p) = 0, two coins in closed form, a batch with zeros", forbid=DISCRETE_FORBID)
def kl_divergence(t: Trial) -> None:
    p = distributions(t.rng, (5,), zeros=1)
    close_information(t, t.call("kl_divergence", p, p), np.asarray(0.0), what=f"kl_divergence(p, p) with p = {np.round(p, 3).tolist()} (expected 0)", variants=[])
    a, b = 0.2, 0.6
    want = a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b))
    swapped = b * np.log(b / a) + (1 - b) * np.log((1 - b) / (1 - a))
    what = f"kl_divergence([{a}, {1 - a}], [{b}, {1 - b}]) (expected 0.2 ln(0.2/0.6) + 0.8 ln(0.8/0.4))"
    close_information(t, t.call("kl_divergence", np.array([a, 1 - a]), np.array([b, 1 - b])), np.asarray(want), what=what, variants=[(KL_SWAPPED, np.asarray(swapped)), (BITS, np.asarray(want / LN2))])
    p, q = distributions(t.rng, (4, 6), zeros=2), distributions(t.rng, (4, 6))
    judge_kl(t, p, q, "kl_divergence(p, q) with p, q of shape (4, 6), two zeros in each row of p")


@check("kl_infinite", "kl_divergence is +inf exactly where p puts mass on an outcome q rules out, finite where q is tiny (5e-324) but not 0", forbid=DISCRETE_FORBID)
def kl_infinite(t: Trial) -> None:
    k = int(t.rng.integers(4, 7))
    p, q = distributions(t.rng, (4, k)), distributions(t.rng, (4, k))
    a, b, c = t.rng.choice(k, 3, replace=False)
    p[0, a] = q[0, a] = q[0, b] = 0.0  # row 0: +inf at b, and p = 0 = q at a
    p[1, [a, b]] = q[1, a] = 0.0  # row 1: finite, p = 0 = q at a and p = 0 < q at b
    q[2, [a, c]] = q[3, c] = 0.0  # row 2: +inf at a and c
    p, q = p / p.sum(axis=-1, keepdims=True), q / q.sum(axis=-1, keepdims=True)
    q[3, c] = SUBNORMAL  # row 3: finite, q = 5e-324 where p > 0 (set after normalising, which would round it to 0)
    what = f"kl_divergence(p, q) with p = {np.round(p, 4).tolist()}, q = {np.round(q, 4).tolist()} (rows 0 and 2: p > 0 = q; row 3: q = 5e-324 > 0 at index {c}, where p = {p[3, c]:.4g})"
    judge_kl(t, p, q, what)


@check("identity", "H(p, q) = H(p) + KL(p||q): combines your entropy, cross_entropy and kl_divergence, and each against the reference", forbid=DISCRETE_FORBID, combines=("cross_entropy", "kl_divergence"))
def identity(t: Trial) -> None:
    p, q = kl_rows(t.rng, 6)
    h, ce, kl = t.call("entropy", p), t.call("cross_entropy", p, q), t.call("kl_divergence", p, q)
    shape = f"p, q of shape {p.shape} with zeros (row 2: p > 0 = q)"
    judges = (
        ("entropy", h, t.ref.entropy(p), [(BITS, t.ref.entropy(p) / LN2)]),
        ("cross_entropy", ce, t.ref.cross_entropy(p, q), [(CE_SWAPPED, t.ref.cross_entropy(q, p)), (BITS, t.ref.cross_entropy(p, q) / LN2)]),
        ("kl_divergence", kl, t.ref.kl_divergence(p, q), kl_variants(t, p, q)),
    )
    answers = (h, ce, kl)
    if all(isinstance(a, np.ndarray) and a.shape == (len(p),) and a.dtype.kind == "f" for a in answers):
        rtol, atol = t.tolerance(np.float64)
        with np.errstate(invalid="ignore"):
            holds = np.isclose(ce, h + kl, rtol=rtol, atol=atol)
        if not holds.all():
            for name, got, want, variants in judges:  # a known mistake in one of the three explains it best
                try:
                    close_information(t, got, want, what=f"{name} with {shape}", variants=variants)
                except CheckFailed as failure:
                    if failure.mistake:
                        raise
            i = int(np.argmin(holds))
            t.fail(f"H(p, q) = H(p) + KL(p||q) fails for your functions in row {i} of {shape}: cross_entropy gives {ce[i]:.6g}, entropy + kl_divergence give {h[i]:.6g} + {kl[i]:.6g}")
    # The identity holds in any unit and for some wrong formulas: the values must also be the reference's.
    for name, got, want, variants in judges:
        close_information(t, got, want, what=f"{name} with {shape}", variants=variants)


@check("softmax_cross_entropy", "softmax_cross_entropy: value and autograd gradient against F.cross_entropy's definition", forbid=SOFTMAX_CE_FORBID)
def softmax_cross_entropy(t: Trial) -> None:
    judge_softmax_ce(t, np.array([[2.0, 0.0, 0.0]]), np.array([0]))  # ln(e^2 + 2) - 2 = 0.2395; softmax twice: 0.6995
    judge_softmax_ce(t, 3 * t.rng.standard_normal((5, 4)), np.array([0, 3, 1, 0, 2]))


@check("softmax_cross_entropy_stable", "softmax_cross_entropy with logits of +-1e3 and +-1e4: finite value and gradient", forbid=SOFTMAX_CE_FORBID)
def softmax_cross_entropy_stable(t: Trial) -> None:
    logits = np.array([[1e3, -1e3, 0.0], [-1e3, -1e3, -1e3], [1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [3.0, -1e4, 1e4], [0.0, 1.0, -2.0]])
    judge_softmax_ce(t, logits, np.array([1, 2, 1, 1, 0, 2]), large=True)


@check("gaussian_kl", "gaussian_kl: the closed form against the reference and the general (full-covariance) formula", forbid=GAUSSIAN_KL_FORBID)
def gaussian_kl(t: Trial) -> None:
    mu1, mu2 = t.rng.standard_normal(4), t.rng.standard_normal(4)
    var1, var2 = t.rng.uniform(0.2, 3.0, 4), t.rng.uniform(0.2, 3.0, 4)
    what = "gaussian_kl(mu1, var1, mu2, var2) with d = 4, against 1/2 [tr(S2^-1 S1) + (mu2-mu1)^T S2^-1 (mu2-mu1) - d + ln(det S2/det S1)]"
    general = np.asarray(general_gaussian_kl(mu1, var1, mu2, var2))
    variants = [(KL_SWAPPED, general_gaussian_kl(mu2, var2, mu1, var1)), (GAUSSIAN_NO_HALF, 2 * general), (VARIANCE_AS_STD, general_gaussian_kl(mu1, var1**2, mu2, var2**2))]
    t.close(t.call("gaussian_kl", mu1, var1, mu2, var2), general, what=what, rtol=1e-9, atol=1e-10, variants=variants)
    mu1, mu2 = t.rng.standard_normal((3, 5)), t.rng.standard_normal((3, 5))
    var1, var2 = t.rng.uniform(0.2, 3.0, (3, 5)), t.rng.uniform(0.2, 3.0, (3, 5))
    judge_gaussian_kl(t, mu1, var1, mu2, var2, "gaussian_kl(mu1, var1, mu2, var2) with all four of shape (3, 5)")


# ---- contracts: edge cases, defaults of the conventions, and each documented limit from both sides ---------------
# A limit is straddled (the last valid input is right, the first invalid one raises ValueError), so an off-by-one
# fails one side or the other. One check per function: a missing function costs only its own.


def expect_value_error(t: Trial, why: str, fn: str, *args) -> None:
    try:
        t.raises("ValueError", fn, *args)
    except CheckFailed as failure:
        t.fail(f"{failure.message}: {why}")


def near_one(t: Trial, excess: float) -> np.ndarray:
    """A distribution over 3 outcomes whose sum is 1 + excess."""
    p = distributions(t.rng, (3,))
    p[0] += excess
    return p


@check("entropy_contract", "entropy: one outcome; rows summing to 1 within 1e-6; ValueError for scalars, negatives, other sums", forbid=DISCRETE_FORBID)
def entropy_contract(t: Trial) -> None:
    close_information(t, t.call("entropy", np.array([1.0])), np.asarray(0.0), what="entropy([1.0]) (one certain outcome: 0)", variants=[])
    p = near_one(t, 0.5e-6)
    # Within the tolerance the row is accepted; renormalising it first is fine too, hence rtol 1e-5.
    want = t.ref.entropy(p)
    t.close(t.call("entropy", p), want, what="entropy(p) with sum(p) = 1 + 5e-7 (accepted: within 1e-6)", rtol=1e-5, variants=[(BITS, want / LN2)])
    for p, why in (
        (near_one(t, 1.5e-6), "p sums to 1 + 1.5e-6, past the 1e-6 tolerance"),
        (near_one(t, -1.5e-6), "p sums to 1 - 1.5e-6, past the 1e-6 tolerance"),
        (np.array([-0.1, 0.6, 0.5]), "p = [-0.1, 0.6, 0.5] has a negative entry (and sums to 1)"),
        (np.array(1.0), "p is a scalar: there is no axis of outcomes"),
    ):
        expect_value_error(t, why, "entropy", p)


@check("cross_entropy_contract", "cross_entropy: batch axes broadcast; ValueError for other K, batch axes that do not broadcast, bad q", forbid=DISCRETE_FORBID)
def cross_entropy_contract(t: Trial) -> None:
    p, q = distributions(t.rng, (3, 4), zeros=1), distributions(t.rng, (4,))
    judge_cross_entropy(t, p, q, "cross_entropy(p, q) with p of shape (3, 4), q of shape (4,) (broadcast over the rows of p)")
    p = distributions(t.rng, (3,))
    for p_bad, q_bad, why in (
        (p, np.array([1.0]), "p has 3 outcomes, q = [1.0] has 1 (it must not be broadcast)"),
        (distributions(t.rng, (2, 3)), distributions(t.rng, (3, 3)), "batch axes (2,) and (3,) do not broadcast"),
        (p, np.array([0.5, 0.7, -0.2]), "q has a negative entry"),
        (p, np.array([0.5, 0.2, 0.2]), "q sums to 0.9"),
    ):
        expect_value_error(t, why, "cross_entropy", p_bad, q_bad)


@check("kl_divergence_contract", "kl_divergence: batch axes broadcast both ways, KL(p||p) = 0 on a batch; ValueError for bad input", forbid=DISCRETE_FORBID)
def kl_divergence_contract(t: Trial) -> None:
    p, q = distributions(t.rng, (2, 1, 5), zeros=2), distributions(t.rng, (3, 5))
    judge_kl(t, p, q, "kl_divergence(p, q) with p of shape (2, 1, 5), q of shape (3, 5) (result (2, 3))")
    judge_kl(t, q, q, "kl_divergence(q, q) with q of shape (3, 5) (expected zeros)")
    for p_bad, q_bad, why in (
        (distributions(t.rng, (3,)), distributions(t.rng, (2,)), "p has 3 outcomes, q has 2"),
        (np.array([1.2, -0.2]), np.array([0.5, 0.5]), "p has a negative entry"),
        (np.array([0.5, 0.5]), np.array(1.0), "q is a scalar"),
    ):
        expect_value_error(t, why, "kl_divergence", p_bad, q_bad)


@check("softmax_cross_entropy_contract", "softmax_cross_entropy: N = 1, float32 kept, int32 targets; ValueError for bad shapes and targets", forbid=SOFTMAX_CE_FORBID)
def softmax_cross_entropy_contract(t: Trial) -> None:
    judge_softmax_ce(t, t.rng.standard_normal((1, 3)), np.array([2]))
    logits = t.rng.standard_normal((3, 4)).astype(np.float32)
    targets = np.array([3, 0, 1])
    want = t.ref.softmax_cross_entropy(torch.tensor(logits), torch.tensor(targets))
    got = t.call("softmax_cross_entropy", t.tensor(logits), t.tensor(targets.astype(np.int32)))
    what = "softmax_cross_entropy(float32 logits (3, 4), int32 targets [3, 0, 1])"
    t.same_kind(got, want, what=what)
    if isinstance(got, np.ndarray) and got.dtype != np.float32:
        t.fail(f"{what}: returned dtype {got.dtype}; the loss keeps the dtype of the logits (float32)")
    t.close(got, want, what=what, variants=[(LOSS_SUMMED, 3 * want)])
    x = t.tensor(t.rng.standard_normal((3, 4)))
    for bad_logits, bad_targets, why in (
        (x, np.array([0, 4, 1]), "logits (3, 4): the class index 4 is past C - 1 = 3"),
        (x, np.array([0, -1, 1]), "logits (3, 4): the class index -1 is negative"),
        (x, np.array([0.0, 1.0, 2.0]), "the targets are floats, not class indices"),
        (x, np.array([0, 1, 2, 3]), "logits (3, 4) with 4 targets"),
        (t.tensor(t.rng.standard_normal(3)), np.array([0, 1, 2]), "logits of shape (3,) are not (N, C)"),
        (t.tensor(np.zeros((0, 4))), np.zeros(0, dtype=np.int64), "logits (0, 4): an empty batch has no mean"),
    ):
        expect_value_error(t, why, "softmax_cross_entropy", bad_logits, t.tensor(bad_targets))


@check("gaussian_kl_contract", "gaussian_kl: scalar mu2, var2 broadcast (KL to N(0, I)), identical Gaussians give 0; ValueError for bad input", forbid=GAUSSIAN_KL_FORBID)
def gaussian_kl_contract(t: Trial) -> None:
    mu, var = t.rng.standard_normal((2, 3)), t.rng.uniform(0.2, 3.0, (2, 3))
    judge_gaussian_kl(t, mu, var, 0.0, 1.0, "gaussian_kl(mu, var, 0.0, 1.0) with mu, var of shape (2, 3) (KL to N(0, I))")
    t.close(t.call("gaussian_kl", mu, var, mu, var), np.zeros(2), what="gaussian_kl(mu, var, mu, var) (identical Gaussians: 0)")
    ones = np.ones(3)
    for args, why in (
        ((mu[0], np.array([1.0, 0.0, 1.0]), mu[1], ones), "var1 has a zero variance"),
        ((mu[0], ones, mu[1], np.array([1.0, 1.0, 0.0])), "var2 has a zero variance"),
        ((mu[0], ones, mu[1], -ones), "var2 is negative"),
        ((0.5, 1.0, 0.0, 2.0), "all four are scalars: there is no axis of dimensions"),
        ((mu[0], ones, np.zeros(4), np.ones(4)), "shapes (3,) and (4,) do not broadcast"),
    ):
        expect_value_error(t, why, "gaussian_kl", *args)
