"""Hidden checks of the diffusion topic: random sizes, schedules and values drawn per submission from the course secret.

Every draw plants what each known mistake needs to show: times 1, 2 and T among the rows (the off-by-one mistakes,
the posterior variance 0 and its clipped log at t = 1, sqrt(1 - alpha_t) agreeing with sqrt(1 - abar_t) at t = 1
only), batches and dimensions of 2 or more (a summed loss), a large noise_seq[0] (noise at the last step), eta > 0
with t_prev >= 1 (DDIM's fresh noise, which vanishes at t_prev = 0). The corners are there too: an int t, d = 1.
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check
from checks.public.diffusion import (
    case,
    eps_mlp,
    judge_alpha_bars,
    judge_cosine,
    judge_ddim,
    judge_fn,
    judge_loss,
    judge_q_posterior,
    judge_sample,
    linear,
    mixture,
)


def _case(t: Trial, low: int = 3, high: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return case(t.rng, t.integer(3, 9), t.integer(1, 4), low, high)


@check("hidden_linear_beta_schedule", "linear_beta_schedule on a random T, beta_1 and beta_T")
def hidden_linear_beta_schedule(t: Trial) -> None:
    steps, b1, bt = t.integer(2, 2000), float(t.rng.uniform(1e-5, 0.1)), float(t.rng.uniform(0.01, 0.99))
    t.close(t.call("linear_beta_schedule", steps, b1, bt), t.ref.linear_beta_schedule(steps, b1, bt), what=f"linear_beta_schedule({steps}, {b1!r}, {bt!r})")


@check("hidden_cosine_schedule", "cosine_schedule on a random T and s")
def hidden_cosine_schedule(t: Trial) -> None:
    steps, s = t.integer(2, 1000), float(t.rng.uniform(0.0, 0.1))
    judge_cosine(t, steps, s, f"cosine_schedule({steps}, s={s!r})")


@check("hidden_alpha_bars", "alpha_bars on a random schedule")
def hidden_alpha_bars(t: Trial) -> None:
    betas = linear(t.rng, 2, 200)
    judge_alpha_bars(t, betas, f"alpha_bars(betas) with betas of shape ({len(betas)},)")


@check("hidden_q_sample", "q_sample on random sizes and schedules, one time per row and an int t")
def hidden_q_sample(t: Trial) -> None:
    x0, steps, eps, betas = _case(t)
    judge_fn(t, "q_sample", x0, steps, eps, betas, f"q_sample(x0 {x0.shape}, t = {steps.tolist()}, eps, betas of T = {len(betas)})")
    k = t.integer(1, len(betas))
    judge_fn(t, "q_sample", x0, k, eps, betas, f"q_sample(x0 {x0.shape}, t = {k} (an int), eps, betas of T = {len(betas)})")


@check("hidden_q_posterior", "q_posterior on random sizes and schedules, with t = 1, 2 and T among the rows")
def hidden_q_posterior(t: Trial) -> None:
    x0, steps, xt, betas = _case(t)
    judge_q_posterior(t, x0, xt, steps, betas, f"q_posterior(x0 {x0.shape}, xt, t = {steps.tolist()}, betas of T = {len(betas)})")


@check("hidden_predict_x0", "predict_x0 on random sizes and schedules")
def hidden_predict_x0(t: Trial) -> None:
    xt, steps, eps, betas = _case(t)
    judge_fn(t, "predict_x0", xt, steps, eps, betas, f"predict_x0(xt {xt.shape}, t = {steps.tolist()}, eps, betas of T = {len(betas)})")


@check("hidden_p_mean", "p_mean on random sizes and schedules, with t = 1, 2 and T among the rows")
def hidden_p_mean(t: Trial) -> None:
    xt, steps, eps, betas = _case(t)
    judge_fn(t, "p_mean", xt, steps, eps, betas, f"p_mean(xt {xt.shape}, t = {steps.tolist()}, eps, betas of T = {len(betas)})")


@check("hidden_ddpm_loss", "ddpm_loss and its gradient on random sizes and schedules")
def hidden_ddpm_loss(t: Trial) -> None:
    n, d = t.integer(3, 8), t.integer(2, 4)
    x0, steps, eps, betas = case(t.rng, n, d, 3, 40)
    judge_loss(t, eps_mlp(t.rng, d), x0, steps, eps, betas, f"ddpm_loss(eps_mlp, x0 {x0.shape}, t = {steps.tolist()}, eps, betas of T = {len(betas)})")


@check("hidden_ancestral_sample", "ancestral_sample with a mixture's noise predictor on random sizes and schedules, noise_seq[0] large")
def hidden_ancestral_sample(t: Trial) -> None:
    betas = linear(t.rng, 2, 20)
    n = t.integer(1, 8)
    x_T, noise = t.rng.standard_normal((n, 2)), t.rng.standard_normal((len(betas), n, 2))
    noise[0] *= t.rng.uniform(5.0, 20.0)
    judge_sample(t, mixture(t.rng), x_T, noise, betas, f"ancestral_sample(gmm_eps, x_T ({n}, 2), noise_seq ({len(betas)}, {n}, 2), betas of T = {len(betas)})")


@check("hidden_ddim_step", "ddim_step on random times and schedules: eta = 0, and eta in (0.2, 1] with t_prev >= 1")
def hidden_ddim_step(t: Trial) -> None:
    xt, _, eps, betas = _case(t, 4, 40)
    now = t.integer(2, len(betas))
    prev = t.integer(1, now - 1)
    judge_ddim(t, xt, (now, prev), eps, betas, f"ddim_step(xt {xt.shape}, t = {now}, t_prev = {prev}, eps, betas of T = {len(betas)})")
    eta = float(t.rng.uniform(0.2, 1.0))
    judge_ddim(t, xt, (now, prev), eps, betas, f"ddim_step(xt {xt.shape}, t = {now}, t_prev = {prev}, eps, betas, eta={eta!r}, noise=z)", eta=eta, noise=t.rng.standard_normal(xt.shape))
