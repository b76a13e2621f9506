"""The gan topic end to end: the messages students read, the reference against torch's losses, finite differences and
the log-space quadrature of the documented case, and the checks' own maths (Trusted, the training run, the densities
they draw) against the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.engine.results import FAILED, PASSED
from autograder.sandbox import components

from checks.public import gan as checks
from conftest import ROOT, grade_source, wrapped
from mistakes import known_mistakes
from solutions import gan as ref

TOPIC = "gan"
REFERENCE = (ROOT / "solutions" / f"{TOPIC}.py").read_text()
KNOWN = known_mistakes(TOPIC)
RNG = np.random.default_rng(0)


def _graded(grader, source: str, check: str):
    (graded,) = grade_source(grader, source, TOPIC, checks=[check]).checks
    return graded


def _t(a) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64))


# ---- the messages students read -------------------------------------------------------------------------------------


# known mistake, the check it fails, how its message starts, what it goes on to say (mistakes.md's numbers where it has them)
MESSAGES = [
    pytest.param(
        "d_star_swapped", "gan_value_at_optimum",
        "gan_value(p_data, p_g, optimal_discriminator(p_data, p_g), grid) with p_data = N(0, 1), p_g = N(1.5, 0.7^2) on ",
        ["(expected -0.8108 = -log 4 + 2 JSD): your answer matches a known mistake: D* is written p_g / (p_data + p_g)", "the value is -0.81 at D*, -4.50 at the swapped one"],
        id="d-star-swapped-documented-values",
    ),
    pytest.param(
        "g_saturating", "generator_loss_saturation",
        "generator_loss(fake_logits = [-6.0]) (non-saturating, the default): d loss/d logit, expected -sigmoid(6) = -0.9975 (the other loss gives -0.0025): your answer matches a known mistake: the generator's loss is the saturating",
        ["its gradient is -0.998 per logit, the saturating loss's only -0.0025"],
        id="saturating-documented-gradients",
    ),
    pytest.param(
        "d_log_of_sigmoid", "discriminator_loss_stable", "discriminator_loss(real_logits = [",
        ["not finite; your answer matches a known mistake: the loss takes the log of sigmoid(logits)"],
        id="log-of-sigmoid-where-sigmoid-rounds",
    ),
    pytest.param(
        "fake_not_detached", "gan_losses",
        "G: 2 -> 6 -> 2 and D: 2 -> 6 -> 1 tanh nets, real (5, 2), z (4, 2): gan_losses(G, D, real, z): d_loss has a gradient of up to ",
        ["w.r.t. the generator's weights; it must have none; your answer matches a known mistake: d_loss sends gradients to the generator's weights"],
        id="fake-not-detached-by-its-gradient-to-G",
    ),
    pytest.param(
        "penalty_no_create_graph", "gradient_penalty_gradient",
        "gradient_penalty(critic, real, fake, alpha) with real, fake (5, 2), alpha (5, 1), a 2 -> 8 -> 1 tanh critic: returned a torch.Tensor of shape ()",
        ["with no autograd graph back to the critic's weights; your answer matches a known mistake: the penalty has no autograd graph"],
        id="penalty-without-create-graph",
    ),
]


@pytest.mark.parametrize("mistake, check, starts, says", MESSAGES)
def test_a_known_mistake_is_named_in_the_message_students_read(grader, mistake: str, check: str, starts: str, says: list[str]):
    graded = _graded(grader, KNOWN[mistake].source, check)
    assert graded.status == FAILED and graded.message.startswith(starts)
    assert all(fragment in graded.message for fragment in says)


def test_a_broken_identity_says_which_identity_without_a_named_mistake(grader):
    graded = _graded(grader, REFERENCE + wrapped("jensen_shannon", "1.01 * y"), "value_identities")
    assert graded.status == FAILED and graded.mistake is None
    assert "V(D*) = -log 4 + 2 JSD(p || q) must hold for your functions (the densities integrate to 1 on the grid); yours give " in graded.message


def test_losses_right_only_for_the_first_steps_fail_the_outcome_of_training(grader):
    """Step parity sees the first steps only (two calls each); losses whose gradients all but vanish after them do not train."""
    stalls = "\n_reference_losses = gan_losses\n_calls = [0]\n\n\ndef gan_losses(*args, **kwargs):\n    _calls[0] += 1\n    d_loss, g_loss = _reference_losses(*args, **kwargs)\n    scale = 1.0 if _calls[0] <= 4 else 1e-6\n    return scale * d_loss, scale * g_loss\n"
    graded = _graded(grader, REFERENCE + stalls, "gan_training")
    assert graded.status == FAILED and graded.mistake is None
    assert f"{checks.STEPS} alternating SGD steps with your losses and gradients: the W1 distance between G(z) and held-out data went from " in graded.message
    assert "it must drop by at least " in graded.message
    assert [f["kind"] for f in graded.figures] == ["curves", "curves"]


def test_training_attaches_the_distance_curves_and_the_densities(grader):
    graded = _graded(grader, REFERENCE, "gan_training")
    assert graded.status == PASSED
    distances, densities = graded.figures
    assert list(distances["series"]) == ["reference", "yours"]
    np.testing.assert_allclose(distances["series"]["yours"], distances["series"]["reference"], rtol=1e-9)  # the same run, up to rounding
    assert list(densities["series"]) == ["p_data = N(2, 0.5^2)", "generator before (histogram)", "generator after (histogram)", "D(x) before", "D(x) after"]


# ---- the reference against torch's losses, finite differences and the documented numbers --------------------------


@pytest.mark.parametrize("scale", [3.0, 40.0, 1e3])
def test_reference_logit_losses_match_binary_cross_entropy_with_logits(scale: float):
    real = torch.tensor(scale * np.sign(RNG.standard_normal(5)) + RNG.uniform(-1, 1, 5), requires_grad=True)
    fake = torch.tensor(scale * np.sign(RNG.standard_normal((3, 1))) + RNG.uniform(-1, 1, (3, 1)), requires_grad=True)
    bce = F.binary_cross_entropy_with_logits
    pairs = [
        (ref.discriminator_loss(real, fake), bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))),
        (ref.generator_loss(fake), bce(fake, torch.ones_like(fake))),
        (ref.generator_loss(fake, saturating=True), -bce(fake, torch.zeros_like(fake))),
    ]
    for got, want in pairs:
        assert torch.isfinite(got)
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
        for g, w in zip(torch.autograd.grad(got, [real, fake], allow_unused=True), torch.autograd.grad(want, [real, fake], allow_unused=True)):
            if w is not None:
                torch.testing.assert_close(g, w, rtol=1e-12, atol=1e-15)


def test_the_documented_saturation_gradients():
    logit = torch.tensor([-6.0], dtype=torch.float64, requires_grad=True)
    (non_saturating,) = torch.autograd.grad(ref.generator_loss(logit), logit)
    (saturating,) = torch.autograd.grad(ref.generator_loss(logit, saturating=True), logit)
    assert (round(non_saturating.item(), 4), round(saturating.item(), 4)) == (-0.9975, -0.0025)


def _log_gaussian(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std * math.sqrt(2 * math.pi))


def test_the_documented_values_of_the_right_and_the_swapped_optimal_discriminator():
    """mistakes.md: for N(0, 1) and N(1.5, 0.7^2), V = -0.81 at D*, -4.50 at p_g / (p_data + p_g): in log space on a wide
    grid (log D* = log p_data - log(p_data + p_g), by logaddexp), and by the reference on the check's grid."""
    x = np.linspace(-40.0, 40.0, 400001)
    lp, lq = _log_gaussian(x, *checks.DOCUMENTED[:2]), _log_gaussian(x, *checks.DOCUMENTED[2:])
    log_m = np.logaddexp(lp, lq)
    right = np.trapezoid(np.exp(lp) * (lp - log_m) + np.exp(lq) * (lq - log_m), x)
    swapped = np.trapezoid(np.exp(lp) * (lq - log_m) + np.exp(lq) * (lp - log_m), x)
    assert (round(right, 2), round(swapped, 2)) == (-0.81, -4.50)
    grid = checks.jittered_grid(RNG, -5.5, 5.5, 1101)
    p, q = _t(checks.gaussian(grid, *checks.DOCUMENTED[:2])), _t(checks.gaussian(grid, *checks.DOCUMENTED[2:]))
    d_star = ref.optimal_discriminator(p, q)
    assert abs(ref.gan_value(p, q, d_star, _t(grid)).item() - right) < 1e-6
    assert abs(ref.gan_value(p, q, 1 - d_star, _t(grid)).item() - swapped) < 1e-6


def test_c_of_g_on_long_tails_comes_from_the_jensen_shannon_divergence():
    """Beyond x = -5.7, p_g / p_data < 1e-16 and D* rounds to 1 while p_g > 0: V from D*'s values is -inf there, the
    value of a discriminator certain and wrong. -log 4 + 2 JSD, from differences of logs, stays exact."""
    grid = np.linspace(-30.0, 30.0, 6001)
    p, q = _t(checks.gaussian(grid, *checks.DOCUMENTED[:2])), _t(checks.gaussian(grid, *checks.DOCUMENTED[2:]))
    assert ref.gan_value(p, q, ref.optimal_discriminator(p, q), _t(grid)).item() == -math.inf
    assert abs(-math.log(4) + 2 * ref.jensen_shannon(p, q, _t(grid)).item() - -0.8107568) < 1e-6


def test_reference_lsgan_losses_match_mean_squared_error():
    real, fake = _t(RNG.standard_normal(5)), _t(RNG.standard_normal((3, 1)))
    torch.testing.assert_close(ref.lsgan_discriminator_loss(real, fake), F.mse_loss(real, torch.ones_like(real)) / 2 + F.mse_loss(fake, torch.zeros_like(fake)) / 2, rtol=1e-14, atol=0)
    torch.testing.assert_close(ref.lsgan_generator_loss(fake), F.mse_loss(fake, torch.ones_like(fake)) / 2, rtol=1e-14, atol=0)


def test_reference_gradient_penalty_is_differentiable_in_the_critics_weights_by_gradcheck():
    params, real, fake, alpha = checks.critic_case(RNG, 4, 3, 5)
    ws = [torch.tensor(params[k], requires_grad=True) for k in checks.WEIGHTS[:3]]  # the output bias cannot matter
    b2 = _t(params["b2"])
    penalty = lambda *w: ref.gradient_penalty(components.build("mlp", *w, b2, device="cpu"), _t(real), _t(fake), _t(alpha))  # noqa: E731
    assert torch.autograd.gradcheck(penalty, ws, eps=1e-6, atol=1e-7, rtol=1e-5)
    assert abs(penalty(*ws).item() - checks.finite_difference_penalty(params, real, fake, alpha)) < 1e-8


def test_reference_optimal_discriminator_maximises_the_value():
    grid, p, q = (_t(a) for a in checks.support_pair(RNG, 41))
    d_star = ref.optimal_discriminator(p, q)
    assert set(d_star[(p == 0) & (q == 0)].tolist()) == {0.5} and set(d_star[(p == 0) & (q > 0)].tolist()) == {0.0} and set(d_star[(p > 0) & (q == 0)].tolist()) == {1.0}
    best = ref.gan_value(p, q, d_star, grid)
    logit = torch.logit(d_star.clamp(1e-3, 1 - 1e-3))
    for _ in range(5):
        assert ref.gan_value(p, q, torch.sigmoid(logit + _t(RNG.normal(0.0, 0.5, len(grid)))), grid) < best


def test_reference_jensen_shannon_is_symmetric_bounded_and_the_log_space_integral():
    grid, p, q = checks.identity_case(RNG, 61)
    jsd = ref.jensen_shannon(_t(p), _t(q), _t(grid)).item()
    assert jsd == pytest.approx(ref.jensen_shannon(_t(q), _t(p), _t(grid)).item(), rel=1e-14) and 0 < jsd < math.log(2)
    assert ref.jensen_shannon(_t(p), _t(p), _t(grid)).item() == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf, and -inf - (-inf) where both are 0: dropped
        lp, lq = np.log(p), np.log(q)
        log_m = np.logaddexp(lp, lq) - math.log(2)
        terms = np.where(p > 0, p * (lp - log_m), 0.0) + np.where(q > 0, q * (lq - log_m), 0.0)
    assert jsd == pytest.approx(np.trapezoid(terms, grid) / 2, rel=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ref.discriminator_loss(torch.zeros(0), torch.zeros(2)), "discriminator_loss: real_logits must hold at least one value"),
        (lambda: ref.generator_loss(torch.zeros(0, 1)), "generator_loss: fake_logits must hold at least one value"),
        (lambda: ref.lsgan_generator_loss(torch.zeros(0)), "lsgan_generator_loss: fake_out must hold at least one value"),
        (lambda: ref.gradient_penalty(torch.sum, torch.zeros(2), torch.zeros(2), torch.zeros(1, 1)), r"gradient_penalty: real must have shape \(n, d\)"),
        (lambda: ref.gradient_penalty(torch.sum, torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2)), r"gradient_penalty: alpha must have shape \(n, 1\)"),
        (lambda: ref.gradient_penalty(torch.sum, torch.zeros(1, 3), torch.zeros(1, 3), torch.full((1, 1), 1.5)), r"gradient_penalty: alpha must lie in \[0, 1\]"),
        (lambda: ref.optimal_discriminator(torch.zeros(2), torch.tensor([0.5, -0.1])), "optimal_discriminator: p_g is a density, so >= 0"),
        (lambda: ref.gan_value(torch.ones(2), torch.ones(2), torch.full((2,), 0.5), torch.tensor([1.0, 1.0])), "gan_value: grid must be strictly increasing"),
        (lambda: ref.gan_value(torch.ones(2), torch.ones(2), torch.full((2,), 1.5), torch.tensor([0.0, 1.0])), r"gan_value: D is a probability, in \[0, 1\]"),
        (lambda: ref.jensen_shannon(torch.ones(3), torch.ones(2), torch.tensor([0.0, 1.0])), "jensen_shannon: p must be given on the grid"),
    ],
    ids=["d-empty", "g-empty", "lsgan-empty", "penalty-real-1-d", "penalty-alpha-shape", "penalty-alpha-range", "d-star-negative", "value-grid-repeats", "value-d-range", "jsd-off-grid"],
)
def test_reference_rejects_bad_input_naming_function_and_argument(call, message: str):
    with pytest.raises(ValueError, match=message):
        call()


# ---- the checks' own maths against the reference --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["discriminator_loss", "generator_loss", "generator_loss_saturating", "optimal_discriminator", "gan_value", "jensen_shannon"])
def test_the_checks_trusted_formulas_are_the_references(name: str):
    """Trusted restates what the checks need on inputs they compute; it must be the reference, value and gradient."""
    grid, p, q = (_t(a) for a in checks.support_pair(RNG, 31))
    d = _t(np.where(p == 0, 0.0, np.where(q == 0, 1.0, RNG.uniform(0.05, 0.95, 31))))
    real, fake = (torch.tensor(checks.logits(RNG, s), requires_grad=True) for s in ((5,), (3, 1)))
    args = {
        "discriminator_loss": ((real, fake), {}),
        "generator_loss": ((fake,), {}),
        "generator_loss_saturating": ((fake,), {"saturating": True}),
        "optimal_discriminator": ((p, q), {}),
        "gan_value": ((p, q, d, grid), {}),
        "jensen_shannon": ((p, q, grid), {}),
    }[name]
    function = name.removesuffix("_saturating")
    got, want = getattr(checks.Trusted, function)(*args[0], **args[1]), getattr(ref, function)(*args[0], **args[1])
    torch.testing.assert_close(got, want, rtol=1e-13, atol=1e-15)
    if got.requires_grad:
        for g, w in zip(torch.autograd.grad(got, [real, fake], allow_unused=True), torch.autograd.grad(want, [real, fake], allow_unused=True)):
            if w is not None:
                torch.testing.assert_close(g, w, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("saturating", [False, True])
def test_the_checks_step_is_the_references_gan_losses(saturating: bool):
    g, d, real, z = checks.gan_batch(RNG, 5, 4, 2, 3, 6)
    for grad_g in (False, True):
        d_loss, g_loss, grads = checks.trusted_losses(g, d, real, z, saturating, (None, None, None), grad_g)
        (G, gw), (D, dw) = checks.local_net(g, grad=True), checks.local_net(d, grad=True)
        want_d, want_g = ref.gan_losses(G, D, _t(real), _t(z), saturating)
        torch.testing.assert_close(d_loss, want_d.detach(), rtol=1e-13, atol=1e-15)
        torch.testing.assert_close(g_loss, want_g.detach(), rtol=1e-13, atol=1e-15)
        for got, want in zip(grads, torch.autograd.grad(want_g if grad_g else want_d, gw if grad_g else dw)):
            torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-15)
        assert all(x is None for x in torch.autograd.grad(want_d, gw, allow_unused=True))  # the fake batch is detached


def test_the_checks_numpy_net_is_the_trusted_component():
    params = checks.init_net(RNG, 3, 5, 2)
    x = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(checks.net_np(params, x), checks.local_net(params)[0](_t(x)).numpy(), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("seed", range(4))
def test_the_drawn_densities_have_every_kind_of_zero_and_uneven_grids(seed: int):
    """What the divergence checks need to name 0 log 0, D* = 1/2 and the trapezoid's intervals, whatever the draw."""
    grid, p, q = checks.support_pair(np.random.default_rng(seed), 21)
    assert np.any((p == 0) & (q == 0)) and np.any((p == 0) & (q > 0)) and np.any((p > 0) & (q == 0)) and np.any((p > 0) & (q > 0))
    assert np.all(np.diff(grid) > 0) and np.ptp(np.diff(grid)) > 0.1 * np.mean(np.diff(grid))


def test_the_training_band_is_four_standard_deviations_of_the_references_spread_over_seeds():
    """gan_training's BAND: the reference's final W1 distance over 12 seeds; every run drops by far more than GAIN of
    its own drop needs."""
    runs = np.array([checks.reference_run(*checks.training_case(np.random.default_rng(seed)))[0] for seed in range(12)])
    assert 4 * runs[:, -1].std(ddof=1) <= checks.BAND
    assert np.all(runs[:, 0] - runs[:, -1] > 0.9) and np.all(runs[:, -1] < 0.5)
