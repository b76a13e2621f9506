"""The vae topic end to end: the messages students read, the reference against torch.distributions and closed forms,
and the checks' own float64 maths (the linear-Gaussian model, the training run) against the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Independent, MultivariateNormal, Normal, kl_divergence

from autograder.engine.results import FAILED, PASSED
from autograder.engine.training import Adam
from checks.public import vae as checks
from solutions import vae as ref

from conftest import ROOT, grade_source, wrapped
from mistakes import known_mistakes

TOPIC = "vae"
REFERENCE = (ROOT / "solutions" / f"{TOPIC}.py").read_text()
KNOWN = known_mistakes(TOPIC)
RNG = np.random.default_rng(0)


def _message(grader, source: str, check: str) -> str:
    result = grade_source(grader, source, TOPIC, checks=[check])
    (graded,) = result.checks
    assert graded.status == FAILED
    return graded.message


def test_the_kl_message_shows_the_documented_test_vector(grader):
    """mistakes.md: exp(logvar) as the standard deviation gives 1.30 instead of 0.909 (0.9098, truncated) on it."""
    message = _message(grader, KNOWN["kl_exp_std"].source, "gaussian_kl_standard")
    assert message.startswith("gaussian_kl_standard(mu=[[1, -0.5, 0.5]], logvar=[[-0.5, -0.5, -0.5]]) (expected [0.75 + 1.5 (e^-0.5 - 0.5)] = [0.9098]): your answer matches a known mistake: exp(logvar) is used as the standard deviation")


def test_a_saturating_bernoulli_likelihood_is_named_where_sigmoid_rounds(grader):
    message = _message(grader, KNOWN["bce_log_of_sigmoid"].source, "bernoulli_log_likelihood_stable")
    assert message.startswith("bernoulli_log_likelihood(x, logits) with logits of about +-40 (rows 0, 2) and +-1e3 (rows 1, 3)")
    assert "not finite; your answer matches a known mistake: the Bernoulli log-likelihood takes the log of sigmoid(logits)" in message


def test_a_broken_identity_says_which_identity_and_names_the_mistake_behind_it(grader):
    message = _message(grader, KNOWN["gaussian_no_constant"].source, "linear_gaussian_posterior")
    assert message.startswith("the linear-Gaussian model p(z) = N(0, I_2), p(x|z) = N(W z + b, ")
    assert "with q(z|x) its true posterior: log p(x|z) + log p(z) - log q(z|x) must be log p(x) = " in message
    assert "over the 32 samples it varies by " in message
    assert "your answer matches a known mistake: the Gaussian log-density is missing its -ln(2 pi) / 2 per dimension" in message


def test_an_elbo_above_log_evidence_is_explained_without_a_named_mistake(grader):
    """A KL of 0 is no known mistake: the bound itself is what the student is told is broken."""
    result = grade_source(grader, REFERENCE + wrapped("gaussian_kl_standard", "0 * y"), TOPIC, checks=["linear_gaussian_elbo"])
    (graded,) = result.checks
    assert graded.status == FAILED and graded.mistake is None
    assert "the ELBO is a lower bound on log p(x), yet for the true posterior as q and example 0 mean(log p(x|z)) - KL from your functions gives " in graded.message


def test_a_loss_right_only_for_the_first_steps_fails_the_outcome_of_training(grader):
    """Step parity sees the first steps only; a loss whose gradient vanishes after them does not train."""
    stalls = "\n_reference_loss = vae_loss\n_calls = [0]\n\n\ndef vae_loss(*args):\n    _calls[0] += 1\n    loss = _reference_loss(*args)\n    return loss if _calls[0] <= 3 else 0 * loss\n"
    result = grade_source(grader, REFERENCE + stalls, TOPIC, checks=["vae_training"])
    (graded,) = result.checks
    assert graded.status == FAILED and graded.mistake is None
    assert "60 steps with your loss and gradients: the held-out ELBO went from " in graded.message and "it must gain at least " in graded.message
    assert [f["kind"] for f in graded.figures] == ["curves", "scatter"]


def test_training_attaches_the_curves_and_the_latent_means(grader):
    (graded,) = grade_source(grader, REFERENCE, TOPIC, checks=["vae_training"]).checks
    assert graded.status == PASSED
    curves, scatter = graded.figures
    assert list(curves["series"]) == ["reference", "yours"]
    np.testing.assert_allclose(curves["series"]["yours"], curves["series"]["reference"], rtol=1e-9)  # the same run, up to rounding
    assert list(scatter["series"]) == ["prototype 0", "prototype 1", "prototype 2"]


# ---- the reference against the libraries and the closed forms --------------------------------------------------


def _gaussians(shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor(RNG.standard_normal(shape)), torch.tensor(RNG.uniform(-1.5, 1.0, shape))


def test_reference_kl_matches_torch_distributions_and_its_gradient_the_closed_form():
    mu, lv = _gaussians((5, 3))
    mu.requires_grad_(), lv.requires_grad_()
    got = ref.gaussian_kl_standard(mu, lv)
    want = kl_divergence(Independent(Normal(mu, torch.exp(lv / 2)), 1), Independent(Normal(torch.zeros(3, dtype=torch.float64), 1.0), 1))
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)
    d_mu, d_lv = torch.autograd.grad(got.sum(), [mu, lv])
    torch.testing.assert_close(d_mu, mu.detach(), rtol=1e-14, atol=0)
    torch.testing.assert_close(d_lv, (torch.exp(lv.detach()) - 1) / 2, rtol=1e-12, atol=1e-15)


def test_the_documented_kl_numbers():
    mu, lv = torch.tensor([1.0, -0.5, 0.5], dtype=torch.float64), torch.full((3,), -0.5, dtype=torch.float64)
    assert round(ref.gaussian_kl_standard(mu, lv).item(), 4) == 0.9098
    assert round(ref.gaussian_kl_standard(mu, 2 * lv).item(), 4) == 1.3018  # exp(logvar) as the standard deviation


@pytest.mark.parametrize("scale", [3.0, 40.0, 1e3])
def test_reference_bernoulli_matches_torch_and_saturates_exactly(scale: float):
    x = torch.tensor((RNG.random((4, 6)) < 0.5).astype(float))
    logits = torch.tensor(scale * np.sign(RNG.standard_normal((4, 6))) + RNG.uniform(-1, 1, (4, 6)), requires_grad=True)
    got = ref.bernoulli_log_likelihood(x, logits)
    torch.testing.assert_close(got, -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1), rtol=1e-12, atol=1e-12)
    (grad,) = torch.autograd.grad(got.sum(), logits)
    torch.testing.assert_close(grad, x - torch.sigmoid(logits.detach()), rtol=1e-12, atol=1e-15)
    assert torch.isfinite(got).all()


def test_reference_gaussian_log_likelihood_matches_torch_distributions():
    x, (mean, lv) = torch.tensor(RNG.standard_normal((3, 4))), _gaussians((2, 1, 4))
    torch.testing.assert_close(ref.gaussian_log_likelihood(x, mean, lv), Normal(mean, torch.exp(lv / 2)).log_prob(x).sum(-1), rtol=1e-12, atol=1e-14)
    s2 = torch.tensor(0.3, dtype=torch.float64)
    torch.testing.assert_close(ref.gaussian_log_likelihood(x, mean, s2), Normal(mean, torch.exp(s2 / 2)).log_prob(x).sum(-1), rtol=1e-12, atol=1e-14)


def test_reference_reparameterize_is_the_pathwise_sample_with_its_closed_form_gradient():
    (mu, lv), eps = _gaussians((3, 2)), torch.tensor(RNG.standard_normal((5, 3, 2)))
    mu.requires_grad_(), lv.requires_grad_()
    z = ref.reparameterize(mu, lv, eps)
    torch.testing.assert_close(z.detach(), mu.detach() + torch.sqrt(torch.exp(lv.detach())) * eps, rtol=1e-14, atol=1e-15)
    d_mu, d_lv = torch.autograd.grad(z.sum(), [mu, lv])
    torch.testing.assert_close(d_mu, torch.full((3, 2), 5.0, dtype=torch.float64))
    torch.testing.assert_close(d_lv, (eps * torch.exp(lv.detach() / 2) / 2).sum(0), rtol=1e-14, atol=1e-15)


def test_reference_iwae_bound_is_the_log_mean_weight_and_rises_on_nested_blocks():
    log_w = torch.tensor(RNG.standard_normal((64, 3)))
    torch.testing.assert_close(ref.iwae_bound(log_w), torch.log(torch.exp(log_w).mean(0)), rtol=1e-13, atol=0)
    means = [ref.iwae_bound(log_w.reshape(k, 64 // k, 3)).mean(0) for k in (1, 2, 4, 8, 16, 32, 64)]
    assert all(torch.all(b >= a - 1e-14) for a, b in zip(means, means[1:]))
    assert ref.iwae_bound(torch.full((4, 2), -1000.0, dtype=torch.float64)).tolist() == [-1000.0, -1000.0]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ref.reparameterize(torch.zeros(2, 3), torch.zeros(2, 2), torch.zeros(2, 3)), "reparameterize: mu and logvar must have the same shape"),
        (lambda: ref.reparameterize(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 1)), "reparameterize: eps must have the last axis of mu"),
        (lambda: ref.reparameterize(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 3)), "reparameterize: the shapes mu"),
        (lambda: ref.gaussian_kl_standard(torch.tensor(0.0), torch.tensor(0.0)), "gaussian_kl_standard: mu must have at least one axis"),
        (lambda: ref.bernoulli_log_likelihood(torch.tensor([0.0, 1.5]), torch.zeros(2)), r"bernoulli_log_likelihood: x must lie in \[0, 1\]"),
        (lambda: ref.bernoulli_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 4)), "bernoulli_log_likelihood: x and the logits must have the same last axis"),
        (lambda: ref.gaussian_log_likelihood(torch.zeros(3), torch.zeros(4), torch.tensor(0.0)), "gaussian_log_likelihood: the shapes x"),
        (lambda: ref.elbo(torch.zeros(3, 4), torch.zeros(3, 4), torch.zeros(4, 2), torch.zeros(4, 2)), "elbo: the batch shapes"),
        (lambda: ref.vae_loss(torch.zeros(0, 4), torch.zeros(0, 4), torch.zeros(0, 2), torch.zeros(0, 2)), "vae_loss: x must have shape"),
        (lambda: ref.elbo_to_bits_per_dim(torch.zeros(2), 2.5), "elbo_to_bits_per_dim: num_dims must be an int >= 1"),
        (lambda: ref.iwae_bound(torch.zeros(0, 3)), "iwae_bound: log_w must have shape"),
    ],
    ids=["logvar-shape", "eps-last-axis", "eps-batch", "kl-0-d", "x-range", "x-dims", "gaussian-broadcast", "elbo-batch", "loss-empty", "bits-float", "iwae-k0"],
)
def test_reference_rejects_bad_input_naming_function_and_argument(call, message: str):
    with pytest.raises(ValueError, match=message):
        call()


# ---- the checks' own float64 maths against the reference -------------------------------------------------------


def test_the_linear_gaussian_model_has_the_evidence_and_posterior_of_gaussian_conditioning():
    x, w, b, log_s2 = checks.model_data(RNG, 5, 2, 4)
    cov = torch.tensor(w @ w.T + math.exp(log_s2) * np.eye(5))
    np.testing.assert_allclose(checks.log_evidence(x, w, b, log_s2), MultivariateNormal(torch.tensor(b), cov).log_prob(torch.tensor(x)), rtol=1e-12)
    # p(z|x) from the joint Gaussian of (z, x): mean W^T C^-1 (x - b), covariance I - W^T C^-1 W
    mean, lv = checks.true_posterior(x, w, b, log_s2)
    gain = w.T @ np.linalg.inv(cov.numpy())
    np.testing.assert_allclose(mean, (x - b) @ gain.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.diag(np.exp(lv[0])), np.eye(2) - gain @ w, rtol=1e-12, atol=1e-14)


def test_whitened_noise_has_mean_zero_and_covariance_identity_exactly():
    eps = checks.whitened(RNG, 16, (3, 2), 3)
    np.testing.assert_allclose(eps.mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(np.einsum("s...i,s...j->...ij", eps, eps) / 16, np.broadcast_to(np.eye(3), (3, 2, 3, 3)), atol=1e-14)


def test_the_checks_vae_maths_is_the_reference_module():
    x = (RNG.random((10, 8)) < 0.5).astype(float)
    eps, held_eps = RNG.standard_normal((10, 2)), RNG.standard_normal((3, 10, 2))
    params = checks.init_params(RNG, 8, 8, 2, scale=2.0)
    model = ref.VAE(8, 8, 2).double()
    model.load_state_dict({k: torch.tensor(v) for k, v in params.items()})
    loss = ref.vae_loss(torch.tensor(x), *model(torch.tensor(x), torch.tensor(eps)))
    grads = torch.autograd.grad(loss, [model.get_parameter(k) for k in checks.NAMES])
    got_loss, got_grads = checks.loss_and_grads_np(params, x, eps)
    np.testing.assert_allclose(got_loss, loss.item(), rtol=1e-13)
    for name, want in zip(checks.NAMES, grads):
        np.testing.assert_allclose(got_grads[name], want.numpy(), rtol=1e-10, atol=1e-15, err_msg=name)
    with torch.no_grad():
        elbos = [ref.elbo(torch.tensor(x), *model(torch.tensor(x), torch.tensor(e))).mean().item() for e in held_eps]
        np.testing.assert_allclose(checks.elbo_np(params, x, held_eps), np.mean(elbos), rtol=1e-13)
        functional = checks.forward(ref, {k: torch.tensor(v) for k, v in params.items()}, torch.tensor(x), torch.tensor(eps))
        for got, want in zip(functional, model(torch.tensor(x), torch.tensor(eps))):
            torch.testing.assert_close(got, want, rtol=1e-13, atol=1e-15)


def _training_run(data_seed: int, noise_seed: int) -> np.ndarray:
    rng, noise = np.random.default_rng(data_seed), np.random.default_rng(noise_seed)
    x, _, held, _ = checks.prototype_data(rng)
    params, held_eps = checks.init_params(rng, checks.D, checks.H, checks.L), rng.standard_normal((checks.HELD_SAMPLES, checks.N_HELD, checks.L))
    adam, curve = Adam(params, lr=checks.LR), [checks.elbo_np(params, held, held_eps)]
    for _ in range(checks.STEPS):
        params = adam.step(checks.loss_and_grads_np(params, x, noise.standard_normal((checks.N_TRAIN, checks.L)))[1])
        curve.append(checks.elbo_np(params, held, held_eps))
    return np.array(curve)


def test_the_training_band_is_four_standard_deviations_of_the_references_spread_over_training_noise():
    """vae_training's BAND: the reference's final held-out ELBO over 6 noise seeds on each of 5 data sets."""
    finals = np.array([[_training_run(data, 100 + noise)[-1] for noise in range(6)] for data in range(5)])
    assert 4 * finals.std(axis=1, ddof=1).mean() <= checks.BAND
    assert np.all(finals - np.array([_training_run(data, 0)[0] for data in range(5)])[:, None] > 0.4)  # every run learns


@pytest.mark.parametrize("name", ["reparameterize", "gaussian_kl_standard", "bernoulli_log_likelihood", "gaussian_log_likelihood", "elbo", "vae_loss", "iwae_bound"])
def test_the_checks_trusted_formulas_are_the_references(name: str):
    """Trusted restates what the checks need on inputs they compute; it must be the reference, value and gradient."""
    shapes = {
        "reparameterize": [(3, 2), (3, 2), (4, 3, 2)],
        "gaussian_kl_standard": [(3, 2), (3, 2)],
        "bernoulli_log_likelihood": [(3, 4), (2, 3, 4)],
        "gaussian_log_likelihood": [(3, 4), (2, 1, 4), ()],
        "elbo": [(3, 4), (2, 3, 4), (3, 2), (3, 2)],
        "vae_loss": [(3, 4), (3, 4), (3, 2), (3, 2)],
        "iwae_bound": [(5, 3)],
    }[name]
    args = [torch.tensor(RNG.random(s) if i == 0 and name in ("bernoulli_log_likelihood", "elbo", "vae_loss") else RNG.standard_normal(s), requires_grad=True) for i, s in enumerate(shapes)]
    got, want = getattr(checks.Trusted, name)(*args), getattr(ref, name)(*args)
    torch.testing.assert_close(got, want, rtol=1e-13, atol=1e-15)
    upstream = torch.tensor(RNG.uniform(0.5, 2.0, tuple(want.shape)))
    for g, w in zip(torch.autograd.grad(got, args, upstream), torch.autograd.grad(want, args, upstream)):
        torch.testing.assert_close(g, w, rtol=1e-12, atol=1e-15)
