"""Hidden checks of the flows topic: random sizes, masks, permutations and nets drawn per submission from the course
secret.

Every draw plants what each known mistake needs to show: a batch of N >= 2 (a log-determinant summed over the
batch), masks with both halves (a swapped mask), at least three features in a stack, permuted by permutations that
are not their own inverses (an inverted permutation), nets whose raw scale output often leaves [-1, 1] (the raw
output in place of tanh of it), and a planar flow with w . u outside [-1.5, -0.5] (u_hat = u only at w . u = -0.541),
half the time below -1, where u itself folds space over.
"""

from __future__ import annotations

from autograder.engine.checks import Trial, check
from checks.public.flows import FORBID, coupling_case, coupling_what, describe_flow, judge_coupling, judge_flow_forward, judge_log_prob, judge_planar, judge_sample, planar_case, planar_what, random_flow


@check("hidden_coupling_forward", "affine_coupling_forward on a random batch, mask and nets")
def hidden_coupling_forward(t: Trial) -> None:
    x, layer = coupling_case(t.rng, t.integer(2, 8), t.integer(2, 6), gain=t.rng.uniform(1.0, 2.5))
    judge_coupling(t, "affine_coupling_forward", x, layer, coupling_what("affine_coupling_forward", x, layer))


@check("hidden_coupling_inverse", "affine_coupling_inverse on a random batch, mask and nets")
def hidden_coupling_inverse(t: Trial) -> None:
    y, layer = coupling_case(t.rng, t.integer(2, 8), t.integer(2, 6), gain=t.rng.uniform(1.0, 2.5))
    judge_coupling(t, "affine_coupling_inverse", y, layer, coupling_what("affine_coupling_inverse", y, layer))


@check("hidden_flow_forward", "flow_forward on a random stack of couplings and permutations")
def hidden_flow_forward(t: Trial) -> None:
    d = t.integer(3, 6)
    layers = random_flow(t.rng, d, t.integer(2, 4), gain=t.rng.uniform(1.0, 2.0))
    x = t.rng.normal(0.0, 1.5, (t.integer(2, 7), d))
    judge_flow_forward(t, x, layers, f"flow_forward(x of shape {x.shape}, layers {describe_flow(layers)})")


@check("hidden_flow_log_prob", "flow_log_prob on a random stack of couplings and permutations", forbid=FORBID)
def hidden_flow_log_prob(t: Trial) -> None:
    d = t.integer(3, 6)
    layers = random_flow(t.rng, d, t.integer(2, 4), gain=t.rng.uniform(1.0, 2.0))
    x = t.rng.normal(0.0, 1.5, (t.integer(2, 7), d))
    judge_log_prob(t, x, layers, f"flow_log_prob(x of shape {x.shape}, layers {describe_flow(layers)}, N(0, I_{d}))")


@check("hidden_flow_sample", "flow_sample from random latent draws through a random stack of couplings and permutations", forbid=FORBID)
def hidden_flow_sample(t: Trial) -> None:
    d = t.integer(3, 6)
    layers = random_flow(t.rng, d, t.integer(2, 4), gain=t.rng.uniform(1.0, 2.0))
    z = t.rng.standard_normal((t.integer(2, 7), d))
    judge_sample(t, z, layers, f"flow_sample(layers {describe_flow(layers)}, N(0, I_{d}), z of shape {z.shape})")


@check("hidden_planar_flow", "planar_flow on random z, w, u and b, w . u below -1 or above it")
def hidden_planar_flow(t: Trial) -> None:
    case = planar_case(t.rng, t.integer(2, 8), t.integer(1, 6), fold=bool(t.rng.integers(2)))
    judge_planar(t, *case, planar_what(*case))
