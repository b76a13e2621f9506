"""The diffusion topic end to end: the messages students read, the reference against torch and closed forms, the
checks' grader-side maths against the reference, and the sampling checks' bounds measured again."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from autograder.engine.results import FAILED, PASSED
from autograder.sandbox import components
from checks.public import diffusion as checks
from solutions import diffusion as ref

from conftest import ROOT, grade_source
from mistakes import known_mistakes

TOPIC = "diffusion"
REFERENCE = (ROOT / "solutions" / f"{TOPIC}.py").read_text()
KNOWN = known_mistakes(TOPIC)
RNG = np.random.default_rng(0)


@pytest.fixture
def one_thread():
    """Sampling is a few hundred tiny operations: one thread does them fastest (a second only waits for a busy core)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _graded(grader, source: str, check: str):
    (graded,) = grade_source(grader, source, TOPIC, checks=[check]).checks
    return graded


def test_the_reverse_mean_message_shows_the_documented_case(grader):
    """mistakes.md: sqrt(1 - alpha_t) for sqrt(1 - alpha_bar_t) gives 0.73 instead of 0.52 (betas = [0.55, 0.35], t = 2)."""
    graded = _graded(grader, KNOWN["p_mean_sqrt_one_minus_alpha"].source, "p_mean")
    assert graded.status == FAILED
    assert graded.message.startswith("p_mean(x_t = [[0]], t = 2, eps = [[-1]], betas = [0.55, 0.35]) (expected 0.35 / sqrt(1 - 0.45 * 0.65) / sqrt(0.65) = 0.516): your answer matches a known mistake: the reverse mean divides the noise by sqrt(1 - alpha_t)")
    right = ref.p_mean(torch.zeros(1, 1, dtype=torch.float64), 2, -torch.ones(1, 1, dtype=torch.float64), torch.tensor([0.55, 0.35], dtype=torch.float64))
    assert round(right.item(), 3) == 0.516
    assert round(math.sqrt(0.35) / math.sqrt(0.65), 3) == 0.734  # beta_t / sqrt(1 - alpha_t) = sqrt(beta_t)


def test_a_shifted_alpha_bar_prev_is_named_at_t_1_of_hos_schedule(grader):
    graded = _graded(grader, KNOWN["posterior_alpha_bar_prev_shifted"].source, "q_posterior_edges")
    assert graded.status == FAILED
    assert graded.message.startswith("q_posterior(x0 (3, 2), xt (3, 2), t = [1, 2, 1000], linear_beta_schedule(1000)) (variances expected [0, beta_1 beta_2 / (1 - abar_2) = ")
    assert "[0], the mean: your answer matches a known mistake: abar_{t-1} in the posterior is shifted by one step" in graded.message


def test_a_sampler_counting_from_0_is_told_which_call_failed(grader):
    graded = _graded(grader, KNOWN["sampler_counts_from_0"].source, "ancestral_sample")
    assert graded.status == FAILED
    assert graded.message.startswith("ancestral_sample(<gmm_eps>, <tensor (6, 2)>, ")
    assert "gmm_eps: t must be in 1.." in graded.message
    assert "your sampler called eps_model with a t outside 1..T: your answer matches a known mistake: t is used 0-based" in graded.message


def test_a_sampler_that_calls_the_model_twice_per_step_is_told_the_order_of_its_calls(grader):
    twice = REFERENCE.replace("x = p_mean(x, t, eps_model(x, t), betas)", "eps_model(x, t)\n        x = p_mean(x, t, eps_model(x, t), betas)")
    graded = _graded(grader, twice, "ancestral_sample")
    assert graded.status == FAILED and graded.mistake is None
    assert ": your sampler called eps_model at t = [" in graded.message and "Algorithm 2 calls it once per step, at t = " in graded.message


def test_a_sampler_with_too_little_noise_fails_the_mixture_on_its_moments(grader):
    """No known mistake explains half the noise: the student is told which moment of the mixture is off."""
    half = REFERENCE.replace("x = x + torch.sqrt(betas[t - 1]) * noise_seq[t - 1]", "x = x + 0.5 * torch.sqrt(betas[t - 1]) * noise_seq[t - 1]")
    graded = _graded(grader, half, "ancestral_sample_mixture")
    assert graded.status == FAILED and graded.mistake is None
    assert graded.message.startswith(f"ancestral_sample(gmm_eps, x_T ({checks.MIX_N}, 2), noise_seq ({checks.MIX_T}, {checks.MIX_N}, 2), cosine_schedule({checks.MIX_T})), the exact noise predictor of a mixture of 3 Gaussians: component ")
    assert f"standard errors off, at most {checks.MIX_SIGMAS:g} allowed" in graded.message
    assert [f["kind"] for f in graded.figures] == ["density"]


def test_sampling_the_mixture_attaches_the_samples_data_and_reverse_trajectories(grader):
    result = grade_source(grader, REFERENCE, TOPIC, checks=["ancestral_sample_mixture", "ddim_sample_mixture"])
    ddpm, ddim = result.checks
    assert ddpm.status == ddim.status == PASSED
    for graded, steps in ((ddpm, checks.MIX_T), (ddim, checks.DDIM_STEPS)):
        (figure,) = graded.figures
        assert list(figure["points"]) == ["your samples", "data"]
        assert np.shape(figure["paths"]["reverse trajectories"]) == (8, steps + 1, 2)
        np.testing.assert_allclose(figure["paths"]["reverse trajectories"][0][-1], figure["points"]["your samples"][0])


# ---- the reference against torch and the closed forms ----------------------------------------------------------


def _case(n: int = 6, d: int = 2) -> tuple[torch.Tensor, ...]:
    x, t, eps, betas = checks.case(RNG, n, d)
    return torch.tensor(x), torch.from_numpy(t), torch.tensor(eps), torch.tensor(betas)


def test_reference_schedules_match_torch_and_the_papers_formulas():
    torch.testing.assert_close(ref.linear_beta_schedule(1000), torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), rtol=0, atol=0)
    steps, s = 50, 0.008
    f = np.cos((np.arange(steps + 1) / steps + s) / (1 + s) * np.pi / 2) ** 2
    np.testing.assert_allclose(ref.cosine_schedule(steps).numpy(), np.minimum(1 - f[1:] / f[:-1], 0.999), rtol=1e-12)
    betas = ref.cosine_schedule(steps)
    np.testing.assert_allclose(ref.alpha_bars(betas)[1:-1].numpy(), (f / f[0])[1:-1], rtol=1e-9)  # abar_t = f(t) / f(0) before the clip at T
    np.testing.assert_allclose(ref.alpha_bars(ref.linear_beta_schedule(1000))[-1].item(), 4.0358e-5, rtol=1e-4)


def test_reference_q_sample_is_the_chain_and_predict_x0_inverts_it():
    x0, t, eps, betas = _case()
    z = torch.tensor(RNG.standard_normal((len(betas), *x0.shape)))
    chain, total = x0.clone(), torch.zeros_like(x0)
    for s in range(1, len(betas) + 1):
        live = (t >= s)[:, None]
        chain = torch.where(live, torch.sqrt(1 - betas[s - 1]) * chain + torch.sqrt(betas[s - 1]) * z[s - 1], chain)
        total = torch.where(live, torch.sqrt(1 - betas[s - 1]) * total + torch.sqrt(betas[s - 1]) * z[s - 1], total)
    noise = total / torch.sqrt(1 - ref.alpha_bars(betas)[t])[:, None]
    torch.testing.assert_close(ref.q_sample(x0, t, noise, betas), chain, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(ref.predict_x0(ref.q_sample(x0, t, eps, betas), t, eps, betas), x0, rtol=1e-12, atol=1e-13)


def test_reference_posterior_is_the_product_of_gaussians_and_the_reverse_mean_its_mean_at_predict_x0():
    x0, t, xt, betas = _case(8)
    mean, variance, log_variance = ref.q_posterior(x0, xt, t, betas)
    want_mean, want_variance = checks.product(x0, xt, t, betas)
    torch.testing.assert_close(mean, want_mean, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(variance, want_variance, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(log_variance[t != 1], torch.log(variance[t != 1]))
    assert torch.all(variance[t == 1] == 0) and torch.all(log_variance[t == 1] == torch.log(variance[t == 2][0]))
    eps = torch.tensor(RNG.standard_normal(xt.shape))
    torch.testing.assert_close(ref.p_mean(xt, t, eps, betas), ref.q_posterior(ref.predict_x0(xt, t, eps, betas), xt, t, betas)[0], rtol=1e-10, atol=1e-12)


def test_reference_ddim_with_eta_1_one_step_back_is_the_ddpm_step_with_the_posterior_variance():
    xt, _, eps, betas = _case()
    z = torch.tensor(RNG.standard_normal(xt.shape))
    for t in range(2, len(betas) + 1):
        mean, variance, _ = ref.q_posterior(ref.predict_x0(xt, t, eps, betas), xt, t, betas)
        torch.testing.assert_close(ref.ddim_step(xt, t, t - 1, eps, betas, eta=1.0, noise=z), mean + torch.sqrt(variance) * z, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(ref.ddim_step(xt, 3, 0, eps, betas), ref.predict_x0(xt, 3, eps, betas))


def test_reference_ddpm_loss_is_mse_loss():
    x0, t, eps, betas = _case()
    model = components.build("eps_mlp", *checks.eps_mlp(RNG, 2), np.array(len(betas)), device="cpu")
    want = torch.nn.functional.mse_loss(model(ref.q_sample(x0, t, eps, betas), t), eps)
    torch.testing.assert_close(ref.ddpm_loss(model, x0, t, eps, betas), want, rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ref.linear_beta_schedule(0), "linear_beta_schedule: T must be an int >= 1"),
        (lambda: ref.linear_beta_schedule(5, 0.0), r"linear_beta_schedule: beta_1 and beta_T must lie in \(0, 1\)"),
        (lambda: ref.cosine_schedule(5, -0.001), "cosine_schedule: s must be >= 0"),
        (lambda: ref.alpha_bars(torch.tensor([0.1, 1.0])), r"alpha_bars: every beta must lie in \(0, 1\)"),
        (lambda: ref.alpha_bars(torch.zeros(0)), r"alpha_bars: betas must have shape \(T,\) with T >= 1"),
        (lambda: ref.q_sample(torch.zeros(2, 1), 0, torch.zeros(2, 1), torch.tensor([0.1, 0.2])), r"q_sample: t must lie in 1..T = 1..2"),
        (lambda: ref.q_sample(torch.zeros(2, 1), torch.ones(2), torch.zeros(2, 1), torch.tensor([0.1, 0.2])), r"q_sample: t must be an int or an integer tensor of shape \(2,\)"),
        (lambda: ref.q_posterior(torch.zeros(2, 1), torch.zeros(2, 1), 1, torch.tensor([0.1])), "q_posterior: the clipped log-variance needs T >= 2"),
        (lambda: ref.p_mean(torch.zeros(2, 1), 1, torch.zeros(1, 2), torch.tensor([0.1])), r"p_mean: eps_pred must have the data's shape \(2, 1\)"),
        (lambda: ref.ddpm_loss(lambda x, t: x, torch.zeros(0, 2), 1, torch.zeros(0, 2), torch.tensor([0.1])), "ddpm_loss: the batch must have n >= 1 rows"),
        (lambda: ref.ancestral_sample(lambda x, t: x, torch.zeros(2, 1), torch.zeros(1, 2, 1), torch.tensor([0.1, 0.2])), r"ancestral_sample: noise_seq must have shape \(T, n, d\) = \(2, 2, 1\)"),
        (lambda: ref.ddim_step(torch.zeros(2, 1), 2, 2, torch.zeros(2, 1), torch.tensor([0.1, 0.2])), "ddim_step: t and t_prev must be ints with 0 <= t_prev < t <= T = 2"),
        (lambda: ref.ddim_step(torch.zeros(2, 1), 2, 1, torch.zeros(2, 1), torch.tensor([0.1, 0.2]), eta=0.5), r"ddim_step: eta = 0.5 > 0 adds noise: pass noise of shape \(2, 1\)"),
    ],
    ids=["T-0", "beta-0", "s-negative", "beta-1", "empty", "t-0", "float-t", "T-1-posterior", "eps-shape", "loss-empty", "noise-steps", "t-prev-t", "eta-no-noise"],
)
def test_reference_rejects_bad_input_naming_function_and_argument(call, message: str):
    with pytest.raises(ValueError, match=message):
        call()


# ---- the checks' grader-side maths against the reference -------------------------------------------------------


def test_the_checks_formulas_are_the_references():
    x, t, eps, betas = _case(7, 3)
    xt = torch.tensor(RNG.standard_normal(x.shape))
    torch.testing.assert_close(checks.q_sample_(x, t, eps, betas), ref.q_sample(x, t, eps, betas), rtol=1e-13, atol=1e-15)
    for got, want in zip(checks.q_posterior_(x, xt, t, betas), ref.q_posterior(x, xt, t, betas)):
        torch.testing.assert_close(got, want, rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(checks.predict_x0_(xt, t, eps, betas), ref.predict_x0(xt, t, eps, betas), rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(checks.p_mean_(xt, t, eps, betas), ref.p_mean(xt, t, eps, betas), rtol=1e-13, atol=1e-15)
    z = torch.tensor(RNG.standard_normal(x.shape))
    for eta in (0.0, 0.4):
        torch.testing.assert_close(checks.ddim_(xt, 5, 2, eps, betas, eta, z), ref.ddim_step(xt, 5, 2, eps, betas, eta=eta, noise=z), rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(checks.cosine_(40, 0.02), ref.cosine_schedule(40, 0.02), rtol=1e-13, atol=0)
    model = components.build("eps_mlp", *checks.eps_mlp(RNG, 3), np.array(len(betas)), device="cpu")
    torch.testing.assert_close(checks.loss_(model, x, t, eps, betas), ref.ddpm_loss(model, x, t, eps, betas), rtol=1e-13, atol=0)


def test_the_checks_sampler_is_the_references_on_the_mixture_schedule(one_thread):
    mix, betas = checks.mixture(RNG), ref.cosine_schedule(checks.MIX_T)
    model = components.build("gmm_eps", *mix, betas.numpy(), device="cpu")
    x_T, noise = torch.tensor(RNG.standard_normal((8, 2))), torch.tensor(RNG.standard_normal((checks.MIX_T, 8, 2)))
    torch.testing.assert_close(checks.sample_(model, x_T, noise, betas), ref.ancestral_sample(model, x_T, noise, betas), rtol=1e-11, atol=1e-12)


def test_the_mixture_is_what_it_says_and_its_draws_and_densities_agree():
    w, means, covs = checks.mixture(RNG)
    assert w.sum() == pytest.approx(1.0) and np.all(w >= 0.2 - 1e-12) and np.all(w <= 0.5 + 1e-12)
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), checks.RADIUS)
    sd = np.sqrt(np.linalg.eigvalsh(covs))
    assert np.all(sd >= checks.SD[0] - 1e-12) and np.all(sd <= checks.SD[1] + 1e-12)
    x = checks.draw(RNG, (w, means, covs), 4000)
    owner = checks.log_densities(x, (w, means, covs)).argmax(1)
    np.testing.assert_allclose(np.bincount(owner, minlength=3) / 4000, w, atol=5 * np.sqrt(0.25 / 4000))
    grid = np.linspace(-8, 8, 321)
    gx, gy = np.meshgrid(grid, grid)
    density = np.exp(checks.log_densities(np.stack([gx.ravel(), gy.ravel()], 1), (w, means, covs))).sum(1)
    assert density.sum() * (grid[1] - grid[0]) ** 2 == pytest.approx(1.0, abs=1e-6)


# ---- the sampling checks' bounds, measured again -------------------------------------------------------------------


def _ddim(model, x: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    steps = np.linspace(checks.MIX_T, 0, checks.DDIM_STEPS + 1).round().astype(int)
    for now, prev in zip(steps[:-1].tolist(), steps[1:].tolist()):
        x = ref.ddim_step(x, now, prev, model(x, now), betas)
    return x


def test_the_discretisation_error_is_well_inside_the_moment_bounds(one_thread):
    """The check file's claim: at T = MIX_T the reference's samples are within 0.6 standard errors (at n = MIX_N) of
    the mixture's moments, DDIM's within 2.3; measured on 32 MIX_N samples (whose own noise is 0.18 of those errors)."""
    rng = np.random.default_rng(5)
    mix, betas, n = checks.mixture(rng), ref.cosine_schedule(checks.MIX_T), 32 * checks.MIX_N
    model = components.build("gmm_eps", *mix, betas.numpy(), device="cpu")
    x_T = torch.tensor(rng.standard_normal((n, 2)))
    ddpm = ref.ancestral_sample(model, x_T, torch.tensor(rng.standard_normal((checks.MIX_T, n, 2))), betas).numpy()
    scale = math.sqrt(checks.MIX_N / n)  # moments() states errors in standard errors at n samples; at MIX_N they shrink by this
    assert max(z for z, _ in checks.moments(ddpm, mix)) * scale <= 0.6 + 3 * 0.18
    assert max(z for z, _ in checks.moments(_ddim(model, x_T, betas).numpy(), mix)) * scale <= 2.3 + 3 * 0.18


def test_the_mmd_bound_is_far_above_the_references_spread(one_thread):
    """MMD_BOUND against the reference's squared MMD over 12 mixtures and noise draws (the check file states
    0.0000 +- 0.0020 over 40): the bound is more than 6 standard deviations above the mean, and every run's moments
    are within the checks' standard errors."""
    runs = []
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        mix, betas = checks.mixture(rng), ref.cosine_schedule(checks.MIX_T)
        model = components.build("gmm_eps", *mix, betas.numpy(), device="cpu")
        x_T = torch.tensor(rng.standard_normal((checks.MIX_N, 2)))
        x = ref.ancestral_sample(model, x_T, torch.tensor(rng.standard_normal((checks.MIX_T, checks.MIX_N, 2))), betas).numpy()
        data = checks.draw(rng, mix, checks.MIX_N)
        runs.append(checks.mmd2(x, data))
        assert max(z for z, _ in checks.moments(x, mix)) < checks.MIX_SIGMAS
        assert max(z for z, _ in checks.moments(_ddim(model, x_T, betas).numpy(), mix)) < checks.DDIM_SIGMAS
    runs = np.array(runs)
    assert runs.mean() + 6 * max(runs.std(ddof=1), 0.0020) <= checks.MMD_BOUND
