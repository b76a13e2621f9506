"""Hidden checks of the gan topic: random sizes, nets and densities drawn per submission from the course secret.

Every draw plants what each known mistake needs to show: real and fake batches of different sizes (two batch means),
saturated logits of +-40 and +-1e3 among moderate ones (log of sigmoid), logits of both signs (swapped labels, the
saturating loss), critics whose input gradients have norms on both sides of 1 (the penalty's centre, the norm over
the batch), densities that are 0 where the other is not and where both are (0 log 0, D* = 1/2), uneven grids (the
trapezoid rule's intervals).
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check

from checks.public.gan import (
    JSD_FORBID,
    LOGIT_FORBID,
    LSGAN_FORBID,
    critic_case,
    gan_batch,
    identity_case,
    judge,
    judge_discriminator,
    judge_discriminator_star,
    judge_generator,
    judge_identities,
    judge_jsd,
    judge_penalty,
    judge_step,
    judge_value,
    logits,
    lsgan_faults,
    penalty_what,
    saturated,
    support_pair,
)


def _mixed(t: Trial, n: int) -> np.ndarray:
    """n moderate logits with 2 saturated ones among them."""
    out = logits(t.rng, (n,), scale=t.rng.uniform(1.0, 4.0))
    out[t.rng.choice(n, 2, replace=False)] = saturated(t.rng, 2)
    return out


@check("hidden_logit_losses", "discriminator_loss and generator_loss (both flags), value and gradient, on random batches with saturated logits among moderate ones: combines both", forbid=LOGIT_FORBID, combines=("generator_loss",))
def hidden_logit_losses(t: Trial) -> None:
    n, m = t.integer(3, 8), t.integer(3, 8)
    real, fake = _mixed(t, n), _mixed(t, m + (m == n))
    judge_discriminator(t, real, fake, f"discriminator_loss(real_logits ({n},), fake_logits ({len(fake)},)) with two saturated logits in each", stable=True)
    fake = _mixed(t, m)
    for saturating in (False, True):
        judge_generator(t, fake, saturating, f"generator_loss(fake_logits ({m},)){', saturating=True' if saturating else ''} with two saturated logits", stable=True)


@check("hidden_lsgan", "lsgan_discriminator_loss and lsgan_generator_loss, value and gradient, on random batches: combines both", forbid=LSGAN_FORBID, combines=("lsgan_generator_loss",))
def hidden_lsgan(t: Trial) -> None:
    n, m = t.integer(2, 7), t.integer(2, 7)
    real, fake = 1.0 + t.rng.standard_normal((n, 1)), t.rng.standard_normal((m + (m == n), 1))
    judge(t, "lsgan_discriminator_loss", [real, fake], want=t.ref.lsgan_discriminator_loss, faults=lsgan_faults(False), what=f"lsgan_discriminator_loss(real_out {real.shape}, fake_out {fake.shape})", wrt=(0, 1), names=("real_out", "fake_out"))
    judge(t, "lsgan_generator_loss", [t.rng.standard_normal(m)], want=t.ref.lsgan_generator_loss, faults=lsgan_faults(True), what=f"lsgan_generator_loss(fake_out ({m},))", wrt=(0,), names=("fake_out",))


@check("hidden_gradient_penalty", "gradient_penalty on a random critic and batch: value, finite differences, and the gradient w.r.t. the critic's weights")
def hidden_gradient_penalty(t: Trial) -> None:
    n, d, width = t.integer(2, 7), t.integer(1, 4), t.integer(3, 10)
    judge_penalty(t, *critic_case(t.rng, n, d, width), penalty_what(n, d, width), gradient=True)


@check("hidden_divergences", "optimal_discriminator, gan_value and jensen_shannon on random densities with zeros and uneven grids, and the identities V(D*) = -log 4 + 2 JSD and D* maximising V: combines the three", forbid=JSD_FORBID, combines=("optimal_discriminator", "jensen_shannon"))
def hidden_divergences(t: Trial) -> None:
    n = t.integer(21, 61)
    grid, p, q = support_pair(t.rng, n)
    what = f"on {n} uneven points of [-4, 4], bump mixtures p inside [-3, 1] and q inside [-1, 3]"
    judge_discriminator_star(t, p, q, f"optimal_discriminator(p_data, p_g) {what}")
    d = np.where(p == 0, 0.0, np.where(q == 0, 1.0, t.rng.uniform(0.05, 0.95, n)))
    judge_value(t, p, q, d, grid, f"gan_value(p_data, p_g, D, grid) {what}, D random, 0 where p_data is 0 and 1 where p_g is")
    judge_jsd(t, p, q, grid, f"jensen_shannon(p, q, grid) {what}")
    n = t.integer(21, 61)
    judge_identities(t, *identity_case(t.rng, n), f"normalised bump mixtures on {n} uneven points of [-4, 4]")


@check("hidden_gan_losses", "gan_losses: one alternating step on random small nets and batches, D then G, both flags")
def hidden_gan_losses(t: Trial) -> None:
    n, m, d, k, width = t.integer(2, 6), t.integer(2, 6), t.integer(1, 3), t.integer(1, 3), t.integer(3, 8)
    g, dd, real, z = gan_batch(t.rng, n, m, d, k, width)
    judge_step(t, g, dd, real, z, float(t.rng.uniform(0.2, 1.0)), f"G: {k} -> {width} -> {d} and D: {d} -> {width} -> 1 tanh nets, real ({n}, {d}), z ({m}, {k})")
