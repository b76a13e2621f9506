"""Denoising diffusion (DDPM, Ho et al. 2020; DDIM, Song et al. 2021): noise schedules, the forward process in closed
form, its posterior, the reverse mean from a noise prediction, the training loss, ancestral sampling and the DDIM step.

INDEX CONVENTION (every function here): the diffusion time t runs over 1..T. A schedule is a float tensor `betas` of
shape (T,) with beta_t = betas[t - 1]; alpha_t = 1 - beta_t; alpha_bars(betas) has shape (T + 1,) with
alpha_bars[t] = abar_t = prod_{s <= t} alpha_s and alpha_bars[0] = abar_0 = 1 (no noise yet). So betas is indexed
with t - 1 and alpha_bars with t: mixing the two shifts every formula by one step.

The forward process adds Gaussian noise step by step, q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I), and
t steps of it compose into one Gaussian, so x_t can be drawn from x_0 in one go:

    q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I):     x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps.

Given x_0 as well, the step back is Gaussian too (the product of q(x_t | x_{t-1}) and q(x_{t-1} | x_0), normalised):

    q(x_{t-1} | x_t, x_0) = N(mu_tilde, beta_tilde_t I),
    mu_tilde = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x_0 + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) x_t,
    beta_tilde_t = (1 - abar_{t-1}) beta_t / (1 - abar_t),

so beta_tilde_1 = 0 (given x_0, the last step back is certain) and beta_tilde_t < beta_t for t >= 2. A network
eps_theta(x_t, t) predicts the noise; putting its x_0 = (x_t - sqrt(1 - abar_t) eps_theta) / sqrt(abar_t) into
mu_tilde gives the reverse mean

    mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - abar_t) eps_theta) / sqrt(alpha_t)

(1 - abar_t, the accumulated noise, under the square root; not 1 - alpha_t). Training regresses eps_theta on the
noise that made x_t (L_simple); sampling starts from x_T ~ N(0, I) and steps back with x_{t-1} = mu_theta + sigma_t z,
sigma_t^2 = beta_t, adding no noise at the last step (t = 1): its output is the sample.

Conventions: data are float tensors of shape (n, d), one example per row; t is an int (the same time for every row)
or an integer tensor of shape (n,) (one time per row), every value in 1..T. Results have the dtype and device of
the data. Noise is always an argument, so every function is deterministic. Arguments are read-only.
"""

from __future__ import annotations

import math  # noqa: F401 - for your code
from typing import Any, Callable

import torch

__all__ = [
    "linear_beta_schedule",
    "cosine_schedule",
    "alpha_bars",
    "q_sample",
    "q_posterior",
    "predict_x0",
    "p_mean",
    "ddpm_loss",
    "ancestral_sample",
    "ddim_step",
]

EpsModel = Callable[[torch.Tensor, Any], torch.Tensor]


def linear_beta_schedule(T: int, beta_1: float = 1e-4, beta_T: float = 0.02) -> torch.Tensor:
    """Ho et al.'s linear schedule: T values evenly spaced from beta_1 to beta_T, as float64.

        betas[t - 1] = beta_t = beta_1 + (t - 1) (beta_T - beta_1) / (T - 1),    t = 1..T

    (torch.linspace(beta_1, beta_T, T); T = 1 gives [beta_1]). The defaults are the paper's, for T = 1000: the
    noise grows from 1e-4 to 0.02 per step and abar_T = 4e-5, so x_T is all but pure noise.

    Args:
        T: the number of steps, an int >= 1.
        beta_1, beta_T: the first and last beta, each in (0, 1).

    Returns:
        betas, a float64 tensor of shape (T,) (on the CPU).

    Raises:
        ValueError: T is not an int or is < 1; beta_1 or beta_T is not in (0, 1).

    Example:
        >>> linear_beta_schedule(5, 0.1, 0.5)
        tensor([0.1000, 0.2000, 0.3000, 0.4000, 0.5000], dtype=torch.float64)
        >>> linear_beta_schedule(1000)[[0, -1]]
        tensor([0.0001, 0.0200], dtype=torch.float64)
    """
    raise NotImplementedError("linear_beta_schedule: implement torch.linspace(beta_1, beta_T, T) in float64 with the documented ValueErrors (see the docstring)")


def cosine_schedule(T: int, s: float = 0.008) -> torch.Tensor:
    """Nichol and Dhariwal's cosine schedule, as betas (float64, shape (T,)):

        f(t) = cos^2( (t / T + s) / (1 + s) * pi / 2 ),    abar_t = f(t) / f(0),    t = 0..T,
        beta_t = min(1 - abar_t / abar_{t-1}, 0.999).

    abar_t falls like a cosine, slowly at both ends, so less of the schedule is spent on nearly pure noise; the
    offset s keeps beta_1 from being vanishingly small. f(T) = 0, so the last beta would be 1 (alpha_T = 0, a
    division by 0 in the reverse mean): it is clipped to 0.999, as every beta is.

    Args:
        T: the number of steps, an int >= 1.
        s: the offset, a float >= 0.

    Returns:
        betas, a float64 tensor of shape (T,) (on the CPU).

    Raises:
        ValueError: T is not an int or is < 1; s < 0.

    Example:
        >>> cosine_schedule(4)  # f(t) at t = 0..4, normalised; the last beta clipped from 1 to 0.999
        tensor([0.1530, 0.4170, 0.7079, 0.9990], dtype=torch.float64)
    """
    raise NotImplementedError("cosine_schedule: implement beta_t = min(1 - abar_t / abar_{t-1}, 0.999) from f(t) = cos^2(((t / T + s) / (1 + s)) pi / 2) (see the docstring)")


def alpha_bars(betas: torch.Tensor) -> torch.Tensor:
    """abar_t = prod_{s <= t} (1 - beta_s) for t = 0..T, with abar_0 = 1: shape (T + 1,), so that
    alpha_bars(betas)[t] is abar_t for the same t as beta_t = betas[t - 1].

    abar_t is the share of x_0 left in x_t (x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps); abar_0 = 1 is the clean
    data, and the posterior of the first step needs it (abar_{t-1} at t = 1).

    Args:
        betas: the schedule, a float tensor of shape (T,), T >= 1, every beta in (0, 1).

    Returns:
        A tensor of shape (T + 1,) with the dtype and device of betas, decreasing from 1.

    Raises:
        ValueError: betas is not 1-D or is empty; a beta is not in (0, 1).

    Example:
        >>> alpha_bars(torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64))  # 1, 0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7
        tensor([1.0000, 0.9000, 0.7200, 0.5040], dtype=torch.float64)
    """
    raise NotImplementedError("alpha_bars: implement [1, cumprod(1 - betas)], shape (T + 1,), with the documented ValueErrors (see the docstring)")


def q_sample(x0: torch.Tensor, t: Any, eps: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """A draw of x_t ~ q(x_t | x_0) in closed form, from the noise eps:

        x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps,

    the same distribution as t steps of x_s = sqrt(alpha_s) x_{s-1} + sqrt(beta_s) z_s (their noises add up to one
    Gaussian of variance 1 - abar_t). The coefficients are square roots: abar_t scales the variance of x_0's part.

    Args:
        x0: clean data, shape (n, d).
        t: the time of each row: an int, or an integer tensor of shape (n,); values in 1..T.
        eps: standard normal noise, shape (n, d).
        betas: the schedule, shape (T,) (see alpha_bars).

    Returns:
        x_t, shape (n, d), with the dtype and device of x0.

    Raises:
        ValueError: x0 is not 2-D; eps is not of x0's shape; t is not an int or an integer tensor of shape (n,), or
            a value is outside 1..T; betas is not a valid schedule.

    Example:
        >>> betas = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)  # abar = [1, 0.9, 0.72, 0.504]
        >>> x0, eps = torch.tensor([[1.0], [1.0]], dtype=torch.float64), torch.tensor([[0.5], [0.5]], dtype=torch.float64)
        >>> q_sample(x0, torch.tensor([1, 2]), eps, betas)  # sqrt(0.9) + 0.5 sqrt(0.1), sqrt(0.72) + 0.5 sqrt(0.28)
        tensor([[1.1068],
                [1.1131]], dtype=torch.float64)
    """
    raise NotImplementedError("q_sample: implement x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps (see the docstring)")


def q_posterior(x0: torch.Tensor, xt: torch.Tensor, t: Any, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The forward process's posterior q(x_{t-1} | x_t, x_0) = N(mean, variance I): (mean, variance, log_variance).

        mean = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x_0 + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) x_t,
        variance = beta_tilde_t = (1 - abar_{t-1}) beta_t / (1 - abar_t),

    the normalised product of q(x_t | x_{t-1}) and q(x_{t-1} | x_0). abar_{t-1} is alpha_bars(betas)[t - 1]: at
    t = 1 it is abar_0 = 1, so the variance is exactly 0 and the mean is x_0. (Using abar_t there instead gives
    variance beta_t at every t: the prior variance, not the posterior's.)

    log_variance is log beta_tilde_t CLIPPED as in Ho et al.'s code: at t = 1, where log 0 = -inf, it is
    log beta_tilde_2 instead; at t >= 2 it is log beta_tilde_t. So the clip needs T >= 2.

    Args:
        x0: clean data, shape (n, d).
        xt: the noisy data at time t, shape (n, d).
        t: the time of each row: an int, or an integer tensor of shape (n,); values in 1..T.
        betas: the schedule, shape (T,) with T >= 2.

    Returns:
        (mean (n, d), variance (n, 1), log_variance (n, 1)): the variances one per row, so that they broadcast
        against x; the dtype and device of x0.

    Raises:
        ValueError: x0 is not 2-D; xt is not of x0's shape; t is not valid (as in q_sample); betas is not a valid
            schedule, or T < 2.

    Example:
        >>> betas = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)  # abar = [1, 0.9, 0.72, 0.504]
        >>> x0, xt = torch.tensor([[1.0], [1.0]], dtype=torch.float64), torch.tensor([[0.0], [0.0]], dtype=torch.float64)
        >>> mean, variance, log_variance = q_posterior(x0, xt, torch.tensor([1, 2]), betas)
        >>> mean  # x_0 at t = 1; sqrt(0.9) 0.2 / 0.28 at t = 2
        tensor([[1.0000],
                [0.6776]], dtype=torch.float64)
        >>> variance  # 0 at t = 1; beta_1 beta_2 / (1 - abar_2) = 0.1 * 0.2 / 0.28 at t = 2
        tensor([[0.0000],
                [0.0714]], dtype=torch.float64)
        >>> log_variance  # log beta_tilde_2 at both: the clip at t = 1
        tensor([[-2.6391],
                [-2.6391]], dtype=torch.float64)
    """
    raise NotImplementedError("q_posterior: implement the posterior mean, beta_tilde_t and its clipped log (see the docstring)")


def predict_x0(xt: torch.Tensor, t: Any, eps: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """The clean data implied by a noise prediction: q_sample solved for x_0,

        x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t).

    predict_x0(q_sample(x0, t, eps, betas), t, eps, betas) gives x0 back.

    Args:
        xt: the noisy data, shape (n, d).
        t: the time of each row: an int, or an integer tensor of shape (n,); values in 1..T.
        eps: the (predicted) noise, shape (n, d).
        betas: the schedule, shape (T,).

    Returns:
        x_0, shape (n, d), with the dtype and device of xt.

    Raises:
        ValueError: xt is not 2-D; eps is not of xt's shape; t or betas is not valid (as in q_sample).

    Example:
        >>> betas = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)  # abar_2 = 0.72
        >>> predict_x0(torch.tensor([[1.0]], dtype=torch.float64), 2, torch.tensor([[0.5]], dtype=torch.float64), betas)
        tensor([[0.8667]], dtype=torch.float64)
    """
    raise NotImplementedError("predict_x0: implement x0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) (see the docstring)")


def p_mean(xt: torch.Tensor, t: Any, eps_pred: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """The mean of the reverse step p(x_{t-1} | x_t) from a noise prediction (Ho et al., eq. 11):

        mu_theta = (x_t - beta_t / sqrt(1 - abar_t) eps_pred) / sqrt(alpha_t),

    which is q_posterior's mean at x_0 = predict_x0(x_t, t, eps_pred). The noise term divides by sqrt(1 - abar_t),
    the standard deviation of ALL the noise in x_t; sqrt(1 - alpha_t) = sqrt(beta_t) is one step's. The two agree at
    t = 1 only (abar_1 = alpha_1).

    Args:
        xt: the noisy data, shape (n, d).
        t: the time of each row: an int, or an integer tensor of shape (n,); values in 1..T.
        eps_pred: the predicted noise eps_theta(x_t, t), shape (n, d).
        betas: the schedule, shape (T,).

    Returns:
        mu_theta, shape (n, d), with the dtype and device of xt.

    Raises:
        ValueError: xt is not 2-D; eps_pred is not of xt's shape; t or betas is not valid (as in q_sample).

    Example:
        >>> betas = torch.tensor([0.55, 0.35], dtype=torch.float64)  # abar_2 = 0.45 * 0.65
        >>> p_mean(torch.tensor([[0.0]], dtype=torch.float64), 2, torch.tensor([[-1.0]], dtype=torch.float64), betas)
        tensor([[0.5161]], dtype=torch.float64)
    """
    raise NotImplementedError("p_mean: implement (x_t - beta_t / sqrt(1 - abar_t) eps_pred) / sqrt(alpha_t) (see the docstring)")


def ddpm_loss(eps_model: EpsModel, x0: torch.Tensor, t: Any, eps: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """Ho et al.'s L_simple: the mean squared error of the noise prediction at x_t = q_sample(x0, t, eps, betas),

        loss = mean over all n * d elements of (eps - eps_model(x_t, t))^2

    (torch.nn.functional.mse_loss(eps_model(x_t, t), eps) with its default reduction='mean'). Averaged, not summed:
    its scale does not grow with the batch or the dimension. It is differentiable with respect to whatever
    eps_model's parameters are.

    Args:
        eps_model: a callable eps_model(x, t) -> (n, d): x of shape (n, d), t passed on as given here.
        x0: clean data, shape (n, d) with n >= 1.
        t: the time of each row: an int, or an integer tensor of shape (n,); values in 1..T.
        eps: the noise that makes x_t, shape (n, d).
        betas: the schedule, shape (T,).

    Returns:
        A 0-d tensor with the dtype and device of x0.

    Raises:
        ValueError: x0 has no rows (as well as what q_sample raises).

    Example:
        >>> betas = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
        >>> x0, eps = torch.zeros(2, 3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64)
        >>> ddpm_loss(lambda x, t: torch.zeros_like(x), x0, 3, eps, betas)  # predicting 0 for noise of 1s
        tensor(1., dtype=torch.float64)
    """
    raise NotImplementedError("ddpm_loss: implement the mean squared error of eps_model(q_sample(x0, t, eps, betas), t) against eps (see the docstring)")


def ancestral_sample(eps_model: EpsModel, x_T: torch.Tensor, noise_seq: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """DDPM sampling (Ho et al., Algorithm 2) from x_T, with the noise of every step supplied:

        for t = T, T - 1, ..., 1:
            x_{t-1} = p_mean(x_t, t, eps_model(x_t, t), betas) + sigma_t z_t,    sigma_t^2 = beta_t,
            z_t = noise_seq[t - 1] for t > 1, and NO noise at t = 1 (z_1 = 0):

    the last step returns the mean itself, the sample. noise_seq[0] is therefore never used (it is there so that
    noise_seq[t - 1] is step t's noise, like betas[t - 1] is its beta). eps_model is called once per step, in the
    order t = T, ..., 1, with x_t of shape (n, d) and t an int. With the same x_T and noise_seq the result is always
    the same.

    Args:
        eps_model: a callable eps_model(x, t) -> (n, d), the noise prediction.
        x_T: the starting point (pure noise), shape (n, d).
        noise_seq: standard normal noise, shape (T, n, d).
        betas: the schedule, shape (T,).

    Returns:
        x_0, shape (n, d), with the dtype and device of x_T.

    Raises:
        ValueError: x_T is not 2-D; noise_seq is not of shape (T, n, d); betas is not a valid schedule.

    Example:
        >>> betas = torch.tensor([0.1, 0.2], dtype=torch.float64)
        >>> x_T, noise = torch.ones(1, 1, dtype=torch.float64), torch.full((2, 1, 1), 0.5, dtype=torch.float64)
        >>> ancestral_sample(lambda x, t: torch.zeros_like(x), x_T, noise, betas)  # (1 / sqrt(0.8) + sqrt(0.2) 0.5) / sqrt(0.9)
        tensor([[1.4142]], dtype=torch.float64)
    """
    raise NotImplementedError("ancestral_sample: implement DDPM's Algorithm 2 for t = T..1, with no noise at t = 1 (see the docstring)")


def ddim_step(xt: torch.Tensor, t: int, t_prev: int, eps_pred: torch.Tensor, betas: torch.Tensor, eta: float = 0.0, noise: torch.Tensor | None = None) -> torch.Tensor:
    """One DDIM step (Song et al., eq. 12) from time t to an earlier time t_prev, which may skip steps:

        x_0 = predict_x0(x_t, t, eps_pred),
        sigma = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev),
        x_prev = sqrt(abar_prev) x_0 + sqrt(1 - abar_prev - sigma^2) eps_pred + sigma noise,

    with abar_prev = alpha_bars(betas)[t_prev] (abar_0 = 1, so t_prev = 0 returns x_0 itself). eta = 0 adds no noise:
    the step is deterministic, and a loop over a few of the times (t = T, ..., 0 in strides) samples in fewer
    steps than ancestral sampling. eta = 1 with t_prev = t - 1 is the DDPM step with sigma^2 = beta_tilde_t.

    Args:
        xt: the noisy data at time t, shape (n, d).
        t: the current time, an int in 1..T.
        t_prev: the time to step to, an int with 0 <= t_prev < t.
        eps_pred: the predicted noise eps_theta(x_t, t), shape (n, d).
        betas: the schedule, shape (T,).
        eta: the share of fresh noise, a float in [0, 1].
        noise: standard normal noise of shape (n, d), needed when eta > 0 (ignored when eta = 0).

    Returns:
        x_{t_prev}, shape (n, d), with the dtype and device of xt.

    Raises:
        ValueError: t or t_prev is not an int, or not 0 <= t_prev < t <= T; eta is not in [0, 1]; eta > 0 without
            noise; eps_pred or noise is not of xt's shape; xt is not 2-D; betas is not a valid schedule.

    Example:
        >>> betas = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)  # abar = [1, 0.9, 0.72, 0.504]
        >>> xt, eps = torch.tensor([[1.0]], dtype=torch.float64), torch.tensor([[0.5]], dtype=torch.float64)
        >>> ddim_step(xt, 2, 0, eps, betas)  # t_prev = 0: predict_x0
        tensor([[0.8667]], dtype=torch.float64)
        >>> ddim_step(xt, 3, 1, eps, betas)  # sqrt(0.9) x_0 + sqrt(0.1) eps, x_0 = (1 - sqrt(0.496) 0.5) / sqrt(0.504)
        tensor([[1.0239]], dtype=torch.float64)
    """
    raise NotImplementedError("ddim_step: implement one DDIM step from t to t_prev (see the docstring)")
