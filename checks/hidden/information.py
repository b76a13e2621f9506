"""Hidden checks of the information topic: random sizes and values drawn per submission from the course secret.

Every draw plants what each known mistake needs to show: zero entries in p (0 log 0), a row where p > 0 = q
(absolute continuity), a batch of N >= 2 (sum vs mean), logits of +-1e4 (stability).
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check
from checks.public.information import distributions, judge_cross_entropy, judge_entropy, judge_gaussian_kl, judge_kl, judge_softmax_ce, kl_rows


def _int(t: Trial, low: int, high: int) -> int:
    return int(t.rng.integers(low, high + 1))


@check("hidden_entropy", "entropy of a random batch with zero entries")
def hidden_entropy(t: Trial) -> None:
    b, k = _int(t, 2, 6), _int(t, 3, 9)
    zeros = _int(t, 1, k - 2)  # at least two outcomes left: a one-hot row has entropy 0 in any unit
    judge_entropy(t, distributions(t.rng, (b, k), zeros=zeros), f"entropy(p) with p of shape {(b, k)}, {zeros} zeros per row")


@check("hidden_cross_entropy", "cross_entropy of random batches with zeros and a row where q = 0 < p")
def hidden_cross_entropy(t: Trial) -> None:
    p, q = kl_rows(t.rng, _int(t, 4, 9))
    judge_cross_entropy(t, p, q, f"cross_entropy(p, q) with p, q of shape {p.shape}: rows 0-1 with zeros in p, row 2 p > 0 = q")
    b, k = _int(t, 2, 5), _int(t, 3, 8)
    judge_cross_entropy(t, distributions(t.rng, (b, k), zeros=1), distributions(t.rng, (k,)), f"cross_entropy(p, q) with p of shape {(b, k)}, q of shape {(k,)}")


@check("hidden_kl_divergence", "kl_divergence of random batches with zeros and rows without absolute continuity")
def hidden_kl_divergence(t: Trial) -> None:
    p, q = kl_rows(t.rng, _int(t, 4, 9))
    judge_kl(t, p, q, f"kl_divergence(p, q) with p, q of shape {p.shape}: rows 0-1 with zeros in p, row 2 p > 0 = q")
    b, k = _int(t, 2, 5), _int(t, 3, 8)
    p, q = distributions(t.rng, (b, k), zeros=_int(t, 1, k - 1)), distributions(t.rng, (b, k))
    judge_kl(t, p, q, f"kl_divergence(p, q) with p, q of shape {(b, k)}, zeros in p")


@check("hidden_softmax_cross_entropy", "softmax_cross_entropy value and gradient on random logits, then on logits of +-1e4")
def hidden_softmax_cross_entropy(t: Trial) -> None:
    n, c = _int(t, 2, 8), _int(t, 2, 7)
    targets = t.rng.integers(0, c, n)
    judge_softmax_ce(t, t.rng.uniform(0.5, 5.0) * t.rng.standard_normal((n, c)), targets)
    # Every row gets one logit near +1e4 and one near -1e4; the target is the low one in row 0, so the loss is ~1e4.
    logits = t.rng.standard_normal((n, c + 1))
    rows = np.arange(n)
    high, low = t.rng.integers(0, c + 1, n), t.rng.integers(0, c, n)
    low = np.where(low >= high, low + 1, low)  # a column other than `high`
    logits[rows, high] += 1e4
    logits[rows, low] -= 1e4
    targets = t.rng.integers(0, c + 1, n)
    targets[0] = low[0]
    judge_softmax_ce(t, logits, targets, large=True)


@check("hidden_gaussian_kl", "gaussian_kl on random batches of diagonal Gaussians")
def hidden_gaussian_kl(t: Trial) -> None:
    b, d = _int(t, 1, 5), _int(t, 1, 8)
    mu1, mu2 = t.rng.standard_normal((b, d)), t.rng.standard_normal((b, d))
    var1, var2 = t.rng.uniform(0.1, 4.0, (b, d)), t.rng.uniform(0.1, 4.0, (b, d))
    judge_gaussian_kl(t, mu1, var1, mu2, var2, f"gaussian_kl(mu1, var1, mu2, var2) with all four of shape {(b, d)}")
