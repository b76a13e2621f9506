"""Hidden checks of the information topic: random sizes and values drawn per submission from the course secret.

Every draw plants what each known mistake needs to show: zero entries in p (0 log 0), a row where p > 0 = q
(absolute continuity), a batch of N >= 2 (sum vs mean), logits of +-1e3 and +-1e4 (stability). The corners of each
domain are always there too, whatever the draw: one-hot and uniform rows, p = q, a subnormal q (5e-324) where p > 0,
a batch of one, identical Gaussians and one dimension.
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check
from checks.public.information import (
    DISCRETE_FORBID,
    GAUSSIAN_KL_FORBID,
    SOFTMAX_CE_FORBID,
    corner_rows,
    distributions,
    judge_cross_entropy,
    judge_entropy,
    judge_gaussian_kl,
    judge_kl,
    judge_softmax_ce,
    kl_rows,
)


def _with_corners(t: Trial, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Six rows over k >= 4 outcomes: kl_rows (zeros in p, p > 0 = q) then corner_rows (one-hot, p = q, subnormal q)."""
    (p1, q1), (p2, q2) = kl_rows(t.rng, k), corner_rows(t.rng, k)
    return np.concatenate([p1, p2]), np.concatenate([q1, q2])


ROWS = "rows 0-1 with zeros in p, row 2 p > 0 = q, row 3 p one-hot, row 4 p = q one-hot, row 5 q = 5e-324 where p > 0"


@check("hidden_entropy", "entropy of a random batch with zero entries, a one-hot and a uniform row", forbid=DISCRETE_FORBID)
def hidden_entropy(t: Trial) -> None:
    b, k = t.integer(2, 6), t.integer(3, 9)
    zeros = t.integer(1, k - 2)  # at least two outcomes left in the random rows: a one-hot row has entropy 0 in any unit
    p = distributions(t.rng, (b, k), zeros=zeros)
    p = np.concatenate([p, np.eye(k)[[t.rng.integers(k)]], np.full((1, k), 1 / k)])
    judge_entropy(t, p, f"entropy(p) with p of shape {p.shape}: rows 0-{b - 1} with {zeros} zeros each, row {b} one-hot, row {b + 1} uniform")


@check("hidden_cross_entropy", "cross_entropy of random batches with zeros, a row where q = 0 < p and the corner rows", forbid=DISCRETE_FORBID)
def hidden_cross_entropy(t: Trial) -> None:
    p, q = _with_corners(t, t.integer(4, 9))
    judge_cross_entropy(t, p, q, f"cross_entropy(p, q) with p, q of shape {p.shape}: {ROWS}")
    b, k = t.integer(2, 5), t.integer(3, 8)
    judge_cross_entropy(t, distributions(t.rng, (b, k), zeros=1), distributions(t.rng, (k,)), f"cross_entropy(p, q) with p of shape {(b, k)}, q of shape {(k,)}")


@check("hidden_kl_divergence", "kl_divergence of random batches with zeros, rows without absolute continuity and the corner rows", forbid=DISCRETE_FORBID)
def hidden_kl_divergence(t: Trial) -> None:
    p, q = _with_corners(t, t.integer(4, 9))
    judge_kl(t, p, q, f"kl_divergence(p, q) with p, q of shape {p.shape}: {ROWS}")
    b, k = t.integer(2, 5), t.integer(3, 8)
    p, q = distributions(t.rng, (b, k), zeros=t.integer(1, k - 1)), distributions(t.rng, (b, k))
    judge_kl(t, p, q, f"kl_divergence(p, q) with p, q of shape {(b, k)}, zeros in p")


@check("hidden_softmax_cross_entropy", "softmax_cross_entropy value and gradient on random logits, a batch of one, then logits of +-1e3 and +-1e4", forbid=SOFTMAX_CE_FORBID)
def hidden_softmax_cross_entropy(t: Trial) -> None:
    n, c = t.integer(2, 8), t.integer(2, 7)
    targets = t.rng.integers(0, c, n)
    judge_softmax_ce(t, t.rng.uniform(0.5, 5.0) * t.rng.standard_normal((n, c)), targets)
    judge_softmax_ce(t, t.rng.uniform(0.5, 5.0) * t.rng.standard_normal((1, c)), t.rng.integers(0, c, 1))
    # Every row gets one logit near +big and one near -big, big = 1e3 in even rows and 1e4 in odd ones (exp overflows
    # float64 at 710); the target is the low one in row 0, whose term is ~2e3. Row n is all near -1e3 (exp underflows
    # to 0 in every column). Then a batch of one at +-1e3.
    logits = t.rng.standard_normal((n + 1, c + 1))
    rows = np.arange(n)
    high, low = t.rng.integers(0, c + 1, n), t.rng.integers(0, c, n)
    low = np.where(low >= high, low + 1, low)  # a column other than `high`
    big = np.where(rows % 2 == 0, 1e3, 1e4)
    logits[rows, high] += big
    logits[rows, low] -= big
    logits[n] -= 1e3
    targets = t.rng.integers(0, c + 1, n + 1)
    targets[0] = low[0]
    judge_softmax_ce(t, logits, targets, large=True)
    single = np.array([[1e3, -1e3, *t.rng.standard_normal(c - 1)]])
    judge_softmax_ce(t, single, np.array([1]), large=True)


@check("hidden_gaussian_kl", "gaussian_kl on random batches of diagonal Gaussians, then identical Gaussians, d = 1 and N(0, I) broadcast", forbid=GAUSSIAN_KL_FORBID)
def hidden_gaussian_kl(t: Trial) -> None:
    b, d = t.integer(1, 5), t.integer(1, 8)
    mu1, mu2 = t.rng.standard_normal((b, d)), t.rng.standard_normal((b, d))
    var1, var2 = t.rng.uniform(0.1, 4.0, (b, d)), t.rng.uniform(0.1, 4.0, (b, d))
    judge_gaussian_kl(t, mu1, var1, mu2, var2, f"gaussian_kl(mu1, var1, mu2, var2) with all four of shape {(b, d)}")
    judge_gaussian_kl(t, mu1, var1, mu1, var1, f"gaussian_kl(mu, var, mu, var) with shape {(b, d)} (identical Gaussians: 0)")
    judge_gaussian_kl(t, mu1[:, :1], var1[:, :1], 0.0, 1.0, f"gaussian_kl(mu, var, 0.0, 1.0) with mu, var of shape {(b, 1)} (d = 1, against N(0, 1))")
