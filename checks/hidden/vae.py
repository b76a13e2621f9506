"""Hidden checks of the vae topic: random sizes and values drawn per submission from the course secret.

Every draw plants what each known mistake needs to show: log-variances away from 0 (exp(logvar) against
exp(logvar / 2)), L >= 2 and D >= 2 (sums against means), batches of N >= 2 (the batch mean), logits of +-40 and
+-1e3 (saturated sigmoids), log-weights near -1000 (underflow). The corners are there too, whatever the draw: L = 1,
a batch of one, k = 1, S samples of z broadcast against one batch of encoder outputs.
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check
from checks.public.vae import (
    BERNOULLI_FORBID,
    GAUSSIAN_FORBID,
    KL_FORBID,
    MODEL_FORBID,
    ELBO_NAMES,
    binary,
    elbo_args,
    elbo_faults,
    gaussian_faults,
    gaussians,
    judge,
    judge_bernoulli,
    judge_bits,
    judge_elbo_bound,
    judge_iwae,
    judge_iwae_monotone,
    judge_kl,
    judge_module,
    judge_reparameterize_gradient,
    judge_zero_variance,
    loss_faults,
)


@check("hidden_reparameterize", "reparameterize and its pathwise gradient on random sizes, with S samples per example and with L = 1")
def hidden_reparameterize(t: Trial) -> None:
    n, l, s = t.integer(2, 6), t.integer(2, 5), t.integer(2, 5)
    mu, lv = gaussians(t.rng, (n, l))
    judge_reparameterize_gradient(t, mu, lv, t.rng.standard_normal((s, n, l)), f"reparameterize(mu, logvar, eps) with mu, logvar {(n, l)}, eps {(s, n, l)}")
    mu, lv = gaussians(t.rng, (n, 1))
    judge_reparameterize_gradient(t, mu, lv, t.rng.standard_normal((n, 1)), f"reparameterize(mu, logvar, eps) with L = 1: all three {(n, 1)}")


@check("hidden_gaussian_kl_standard", "gaussian_kl_standard and its gradient on random sizes, and L = 1", forbid=KL_FORBID)
def hidden_gaussian_kl_standard(t: Trial) -> None:
    n, l = t.integer(1, 6), t.integer(2, 8)
    judge_kl(t, *gaussians(t.rng, (n, l)), f"gaussian_kl_standard(mu, logvar) with mu, logvar {(n, l)}", gradient=True)
    judge_kl(t, *gaussians(t.rng, (n, 1)), f"gaussian_kl_standard(mu, logvar) with L = 1: mu, logvar {(n, 1)}", gradient=True)


@check("hidden_bernoulli_log_likelihood", "bernoulli_log_likelihood and its gradient on random data, then logits of +-40 and +-1e3 mixed with moderate ones", forbid=BERNOULLI_FORBID)
def hidden_bernoulli_log_likelihood(t: Trial) -> None:
    n, d = t.integer(2, 6), t.integer(2, 9)
    judge_bernoulli(t, binary(t.rng, (n, d)), t.rng.uniform(1.0, 4.0) * t.rng.standard_normal((n, d)), f"bernoulli_log_likelihood(x, logits) with x, logits {(n, d)}")
    logits = t.rng.standard_normal((n, d))
    big = t.rng.random((n, d)) < 0.5
    logits[big] = np.where(t.rng.random(int(big.sum())) < 0.5, -1.0, 1.0) * np.where(t.rng.random(int(big.sum())) < 0.5, 40.0, 1e3)
    logits[0, 0] = -1e3  # a pixel that is on where the model says off: about -1000 nats
    x = binary(t.rng, (n, d), fractional=False)
    x[0, 0] = 1.0
    judge_bernoulli(t, x, logits, f"bernoulli_log_likelihood(x, logits) with x, logits {(n, d)}, about half the logits +-40 or +-1e3", stable=True)


@check("hidden_gaussian_log_likelihood", "gaussian_log_likelihood on random sizes, with means broadcast against x and a 0-d logvar", forbid=GAUSSIAN_FORBID)
def hidden_gaussian_log_likelihood(t: Trial) -> None:
    n, d, s = t.integer(1, 5), t.integer(2, 7), t.integer(2, 4)
    x, (mean, lv) = t.rng.standard_normal((n, d)), gaussians(t.rng, (n, d))
    judge(t, "gaussian_log_likelihood", [x, mean, lv], want=t.ref.gaussian_log_likelihood, faults=gaussian_faults(t.ref), what=f"gaussian_log_likelihood(x, mean, logvar) with all three {(n, d)}")
    args = [x, t.rng.standard_normal((s, n, d)), np.array(t.rng.uniform(-1.5, 1.0))]
    judge(t, "gaussian_log_likelihood", args, want=t.ref.gaussian_log_likelihood, faults=gaussian_faults(t.ref), what=f"gaussian_log_likelihood(x, mean, logvar) with x {(n, d)}, mean {(s, n, d)}, logvar 0-d")


@check("hidden_elbo", "elbo and its gradient on random sizes, and with S samples of z per example", forbid=MODEL_FORBID)
def hidden_elbo(t: Trial) -> None:
    n, d, l, s = t.integer(2, 6), t.integer(2, 8), t.integer(2, 4), t.integer(2, 3)
    args = elbo_args(t.rng, n, d, l)
    judge(t, "elbo", args, want=t.ref.elbo, faults=elbo_faults(t.ref), what=f"elbo(x, x_logits, mu, logvar) with x, x_logits {(n, d)}, mu, logvar {(n, l)}", wrt=(1, 2, 3), names=ELBO_NAMES)
    args[1] = 2 * t.rng.standard_normal((s, n, d))
    judge(t, "elbo", args, want=t.ref.elbo, faults=elbo_faults(t.ref), what=f"elbo(x, x_logits, mu, logvar) with x {(n, d)}, x_logits {(s, n, d)}, mu, logvar {(n, l)}")


@check("hidden_vae_loss", "vae_loss and its gradient on a random batch, and on a batch of one", forbid=MODEL_FORBID)
def hidden_vae_loss(t: Trial) -> None:
    n, d, l = t.integer(2, 8), t.integer(2, 8), t.integer(2, 4)
    judge(t, "vae_loss", elbo_args(t.rng, n, d, l), want=t.ref.vae_loss, faults=loss_faults(t.ref), what=f"vae_loss(x, x_logits, mu, logvar) with x, x_logits {(n, d)}, mu, logvar {(n, l)}", wrt=(1, 2, 3), names=ELBO_NAMES)
    judge(t, "vae_loss", elbo_args(t.rng, 1, d, l), want=t.ref.vae_loss, faults=loss_faults(t.ref), what=f"vae_loss(x, x_logits, mu, logvar) with N = 1: x, x_logits {(1, d)}, mu, logvar {(1, l)}")


@check("hidden_elbo_to_bits_per_dim", "elbo_to_bits_per_dim on random ELBOs and dimensions")
def hidden_elbo_to_bits_per_dim(t: Trial) -> None:
    d = t.integer(2, 784)
    judge_bits(t, -d * t.rng.uniform(0.1, 1.0, (t.integer(1, 4), t.integer(1, 3))), d, "elbo_to_bits_per_dim(elbo) with random ELBOs")


@check("hidden_iwae_bound", "iwae_bound on random log-weights, k = 1, and log-weights near -1000")
def hidden_iwae_bound(t: Trial) -> None:
    k, n = t.integer(2, 9), t.integer(1, 5)
    judge_iwae(t, t.rng.uniform(0.5, 4.0) * t.rng.standard_normal((k, n)), f"iwae_bound(log_w) with log_w {(k, n)}")
    judge_iwae(t, t.rng.standard_normal((1, n)), f"iwae_bound(log_w) with k = 1: log_w {(1, n)}")
    judge_iwae(t, t.rng.uniform(-1200, -800) + t.rng.standard_normal((k, n)), f"iwae_bound(log_w) with log_w {(k, n)} near -1000")


@check("hidden_linear_gaussian", "a random linear-Gaussian model: zero variance at the true posterior, the ELBO <= log p(x) with equality there, the IWAE bound rising to log p(x): combines gaussian_log_likelihood, gaussian_kl_standard and iwae_bound", forbid=GAUSSIAN_FORBID, combines=("gaussian_log_likelihood", "iwae_bound"))
def hidden_linear_gaussian(t: Trial) -> None:
    d = t.integer(3, 6)
    judge_zero_variance(t, d, t.integer(1, d - 1), t.integer(2, 4), 16)
    l = t.integer(2, min(3, d - 1))  # L >= 2: a mean over the latent dimensions shows
    judge_elbo_bound(t, d, l, t.integer(2, 4), t.integer(8, 24))
    judge_iwae_monotone(t, d, t.integer(1, d - 1), t.integer(1, 3), 8)


@check("hidden_vae_module", "VAE on random sizes: the submodules by name, encode, decode, forward and its gradient", combines=("VAE.forward",))
def hidden_vae_module(t: Trial) -> None:
    judge_module(t, t.integer(2, 9), t.integer(2, 12), t.integer(1, 4), t.integer(2, 6))
