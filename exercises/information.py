"""Information theory: entropy, cross entropy and KL divergence of discrete distributions (numpy), the softmax
cross-entropy loss (torch) and the KL divergence of diagonal Gaussians (numpy).

Everything is in nats (natural logarithm); divide by ln 2 for bits. For discrete distributions p and q over the same
K outcomes:

    entropy          H(p)     = -sum_x p(x) ln p(x)                      0 <= H(p) <= ln K
    cross entropy    H(p, q)  = -sum_x p(x) ln q(x)
    KL divergence    KL(p||q) =  sum_x p(x) ln(p(x) / q(x))  >= 0,       = 0 only for p = q

with the convention 0 ln 0 = 0 (the limit of t ln t as t -> 0): an outcome that p never produces adds nothing,
whatever q says about it. Where p(x) > 0 but q(x) = 0, the term p(x) ln(p(x)/0) is +inf, so KL(p||q) and H(p, q) are
finite only when p is absolutely continuous with respect to q (q(x) = 0 implies p(x) = 0). The three are tied by

    H(p, q) = H(p) + KL(p||q),

so minimising the cross entropy over q (the training loss of a classifier) minimises KL(p||q). KL is not symmetric:
KL(p||q) and KL(q||p) differ in general, and one can be finite while the other is +inf.

The discrete functions take array-likes, converted to float64, batched over the last axis: p of shape (..., K) holds
one distribution per row, the leading (batch) axes of p and q broadcast as in numpy, and the result has the
broadcast batch shape (a 0-d array for two 1-D inputs). The entries are used as given, not renormalised.

Each exercise is its formula: library code that computes the whole of it is not allowed (the checks refuse it by
name, and each function's docstring lists what it may not call). The 0 ln 0 helpers torch.special.xlogy and
torch.special.entr, and torch.logsumexp / torch.log_softmax, are fine.

Arguments are read-only: no function changes an array or tensor it is given (it returns new ones); a change made
in place fails the check it happens in, named as the mistake modifies-input.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["entropy", "cross_entropy", "kl_divergence", "softmax_cross_entropy", "gaussian_kl"]


def entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats of each distribution along the last axis: H(p) = -sum_x p(x) ln p(x).

    Zero entries contribute 0 (0 ln 0 = 0). H(p) = 0 for a one-hot p, H(p) = ln K for the uniform distribution over
    K outcomes, and 0 <= H(p) <= ln K in between. In bits: H(p) / ln 2.

    Not allowed (they compute the whole formula): torch.distributions, scipy.stats, scipy.special.rel_entr,
    scipy.special.kl_div, torch.nn.functional.kl_div.

    Args:
        p: probabilities, shape (..., K) with K >= 1, entries >= 0, each row summing to 1 (within 1e-6).

    Returns:
        A float64 array of shape (...): one entropy per row (0-d for a 1-D p).

    Raises:
        ValueError: p is a scalar (0-d); p has a negative entry; a row of p does not sum to 1 within 1e-6.

    Example:
        >>> entropy([0.5, 0.25, 0.25, 0.0])  # 0.5 ln 2 + 2 (0.25 ln 4) = 1.5 ln 2; the zero adds nothing
        np.float64(1.0397207708399179)
        >>> entropy([[0.25, 0.25, 0.25, 0.25], [0.5, 0.0, 0.5, 0.0]])  # uniform over 4: ln 4; over 2: ln 2
        array([1.38629436, 0.69314718])
    """
    raise NotImplementedError("entropy: implement the entropy in nats, with 0 log 0 = 0 (see the docstring)")


def cross_entropy(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Cross entropy in nats of q relative to p, per row: H(p, q) = -sum_x p(x) ln q(x) = H(p) + KL(p||q).

    The expected code length, in nats, of outcomes drawn from p under a code built for q. Terms with p(x) = 0 are 0
    (whatever q(x) is); a term with p(x) > 0 and q(x) = 0 is +inf, and so is the row. H(p, q) >= H(p), with
    equality only for q = p. Not symmetric: H(p, q) != H(q, p) in general.

    Not allowed (they compute the whole formula): torch.distributions, scipy.stats, scipy.special.rel_entr,
    scipy.special.kl_div, torch.nn.functional.kl_div.

    Args:
        p: the true distribution, shape (..., K), entries >= 0, rows summing to 1 (within 1e-6).
        q: the model distribution, shape (..., K) with the same K; the batch axes of p and q broadcast.

    Returns:
        A float64 array of the broadcast batch shape (0-d for two 1-D inputs); +inf in rows where p is not
        absolutely continuous with respect to q.

    Raises:
        ValueError: p or q is a scalar, has a negative entry or a row that does not sum to 1 within 1e-6; p and q
            differ in K; their batch axes do not broadcast.

    Example:
        >>> cross_entropy([0.5, 0.5, 0.0], [0.25, 0.5, 0.25])  # -(0.5 ln 0.25 + 0.5 ln 0.5) = 1.5 ln 2
        np.float64(1.0397207708399179)
        >>> cross_entropy([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]], [0.5, 0.5, 0.0])  # row 2 puts mass where q has none
        array([0.69314718,        inf])
    """
    raise NotImplementedError("cross_entropy: implement the cross entropy in nats (see the docstring)")


def kl_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Kullback-Leibler divergence in nats, per row: KL(p||q) = sum_x p(x) ln(p(x) / q(x)).

    KL(p||q) >= 0 (Gibbs' inequality), with equality only for p = q. Terms with p(x) = 0 are 0, also where q(x) = 0
    (0 ln 0 = 0); a term with p(x) > 0 and q(x) = 0 is +inf: KL(p||q) is finite only when p is absolutely continuous
    with respect to q. KL(p||q) = H(p, q) - H(p). The order matters: KL(q||p) is a different number, and can be
    +inf where KL(p||q) is finite.

    A tiny q(x) > 0 is not q(x) = 0: for a subnormal q(x) such as 5e-324, p(x) / q(x) overflows to inf although
    ln q(x) = -744.4 is finite, so compute each term as p(x) ln p(x) - p(x) ln q(x), not as p(x) ln(p(x) / q(x)).

    Not allowed (they compute the whole formula): torch.distributions, scipy.stats, scipy.special.rel_entr,
    scipy.special.kl_div, torch.nn.functional.kl_div.

    Args:
        p: shape (..., K), entries >= 0, rows summing to 1 (within 1e-6).
        q: shape (..., K) with the same K; the batch axes of p and q broadcast.

    Returns:
        A float64 array of the broadcast batch shape (0-d for two 1-D inputs), >= 0 up to rounding; +inf in rows
        where some x has p(x) > 0 = q(x).

    Raises:
        ValueError: p or q is a scalar, has a negative entry or a row that does not sum to 1 within 1e-6; p and q
            differ in K; their batch axes do not broadcast.

    Example:
        >>> kl_divergence([0.5, 0.5, 0.0], [0.25, 0.5, 0.25])  # 0.5 ln(0.5 / 0.25) = 0.5 ln 2
        np.float64(0.34657359027997264)
        >>> kl_divergence([0.25, 0.5, 0.25], [0.5, 0.5, 0.0])  # swapped: p puts 0.25 where q has nothing
        np.float64(inf)
        >>> kl_divergence([0.5, 0.5], [1.0, 5e-324])  # 0.5 ln 0.5 + 0.5 ln 0.5 - 0.5 ln 5e-324: finite, q > 0
        np.float64(371.5268887801307)
    """
    raise NotImplementedError("kl_divergence: implement the KL divergence in nats, +inf without absolute continuity (see the docstring)")


def softmax_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy loss of a classifier's logits against integer class labels, as F.cross_entropy.

    With log q_n = log_softmax(logits_n), the loss is -(1/N) sum_n log q_n[targets_n]: the cross entropy H(p_n, q_n)
    of the one-hot label distribution p_n, averaged over the batch. Computed stably as

        log q_n[c] = logits_n[c] - logsumexp(logits_n),   logsumexp(z) = m + ln sum_c exp(z_c - m),  m = max_c z_c,

    so logits of +-1e3 or +-1e4 neither overflow exp (exp(1e3) is inf in float64) nor take the log of an underflowed
    0. The logits are raw scores: passing probabilities where logits are expected (softmax(logits) instead of the
    logits, so that softmax is applied twice) gives a different, wrong loss. The gradient with respect to the logits
    is (softmax(logits_n) - onehot(targets_n)) / N.

    Not allowed (they compute the whole loss): torch.nn.functional.cross_entropy, torch.nn.functional.nll_loss,
    torch.distributions. torch.logsumexp and torch.log_softmax are fine.

    Args:
        logits: shape (N, C) with N >= 1, a floating dtype, any device; autograd flows through it.
        targets: class indices, shape (N,), an integer dtype, values in 0 .. C - 1, on the device of logits.

    Returns:
        A 0-d tensor with the dtype and device of logits.

    Raises:
        ValueError: logits is not 2-D or has no rows; targets is not of shape (N,), not of an integer dtype, or
            has a value outside 0 .. C - 1.

    Example:
        >>> logits = torch.tensor([[2.0, 0.0, 0.0]], dtype=torch.float64)
        >>> softmax_cross_entropy(logits, torch.tensor([0]))  # ln(e^2 + 2) - 2
        tensor(0.2395, dtype=torch.float64)
        >>> softmax_cross_entropy(torch.softmax(logits, dim=-1), torch.tensor([0]))  # probabilities passed as logits: wrong
        tensor(0.6995, dtype=torch.float64)
        >>> softmax_cross_entropy(torch.tensor([[1e4, -1e4], [0.0, 0.0]]), torch.tensor([1, 0]))  # (2e4 + ln 2) / 2
        tensor(10000.3467)
    """
    raise NotImplementedError("softmax_cross_entropy: implement the stable mean softmax cross-entropy loss (see the docstring)")


def gaussian_kl(mu1: np.ndarray, var1: np.ndarray, mu2: np.ndarray, var2: np.ndarray) -> np.ndarray:
    """KL(N(mu1, diag var1) || N(mu2, diag var2)) in nats, in closed form, summed over the last axis.

    For Gaussians with diagonal covariances the KL divergence is a sum over the d dimensions:

        KL = 1/2 sum_i [ ln(var2_i / var1_i) + (var1_i + (mu1_i - mu2_i)^2) / var2_i - 1 ],

    the diagonal case of 1/2 [ tr(S2^-1 S1) + (mu2 - mu1)^T S2^-1 (mu2 - mu1) - d + ln(det S2 / det S1) ]. The
    arguments are variances (sigma^2), not standard deviations; KL against N(0, I) is the VAE's latent penalty.

    Not allowed (they compute the whole KL): torch.distributions, scipy.stats.

    Args:
        mu1, var1: mean and variances of the first Gaussian, shape (..., d).
        mu2, var2: mean and variances of the second; the four arrays broadcast together (e.g. mu2 = 0, var2 = 1
            for a standard normal), to a shape with at least one axis. Variances must be > 0.

    Returns:
        A float64 array of the broadcast shape without its last axis (0-d for 1-D inputs).

    Raises:
        ValueError: a variance is <= 0; the four arrays do not broadcast, or all are scalars.

    Example:
        >>> gaussian_kl([1.0], [1.0], [0.0], [1.0])  # unit variances: (mu1 - mu2)^2 / 2
        np.float64(0.5)
        >>> gaussian_kl([[0.0, 1.0]], [[2.0, 0.5]], 0.0, 1.0)  # per dimension 0.5 (2 - 1 - ln 2), 0.5 (1.5 - 1 + ln 2)
        array([0.75])
    """
    raise NotImplementedError("gaussian_kl: implement the closed-form KL of diagonal Gaussians (see the docstring)")
