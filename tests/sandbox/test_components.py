"""The trusted components: each builder's function and gradient, on numpy arrays and on torch tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.sandbox import components

RNG = np.random.default_rng(0)


def test_unknown_component_is_refused():
    with pytest.raises(ValueError, match="unknown component 'nope'"):
        components.build("nope", device="cpu")


def test_linear_and_mlp_carry_the_weights():
    w, b = RNG.standard_normal((2, 3)), RNG.standard_normal(2)
    x = torch.tensor(RNG.standard_normal((4, 3)))
    with torch.no_grad():
        np.testing.assert_allclose(components.build("linear", w, b, device="cpu")(x), x.numpy() @ w.T + b, rtol=1e-12)
        w2, b2 = RNG.standard_normal((1, 2)), RNG.standard_normal(1)
        want = np.tanh(x.numpy() @ w.T + b) @ w2.T + b2
        np.testing.assert_allclose(components.build("mlp", w, b, w2, b2, device="cpu")(x), want, rtol=1e-12)


def test_mlp_keeps_the_tensors_it_is_given_so_gradients_reach_them():
    weights = [torch.tensor(RNG.standard_normal(s), requires_grad=True) for s in ((4, 2), (4,), (2, 4), (2,))]
    net = components.build("mlp", *weights, device="cpu")
    x = torch.tensor(RNG.standard_normal((5, 2)))
    out = net(x)
    grads = torch.autograd.grad(out.sum(), weights)
    reference = torch.func.functional_call(torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double(), dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], weights)), (x,))
    np.testing.assert_allclose(out.detach(), reference.detach(), rtol=1e-12)
    for got, want in zip(grads, torch.autograd.grad(reference.sum(), weights)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert isinstance(net, components.Component) and net.params[0] is weights[0] and repr(net) == "<mlp>"


def test_standard_normal_log_prob_sums_the_last_axis():
    base = components.build("standard_normal", np.array(3), device="cpu")
    z = torch.tensor(RNG.standard_normal((4, 2, 3)))
    want = torch.distributions.Independent(torch.distributions.Normal(torch.zeros(3, dtype=torch.float64), 1.0), 1).log_prob(z)
    np.testing.assert_allclose(base.log_prob(z), want, rtol=1e-12)
    assert base.dim == 3 and repr(base) == "<standard_normal(3)>"
    with pytest.raises(ValueError, match=r"z must have shape \(\.\.\., 3\), got \(4, 2\)"):
        base.log_prob(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="the dimension must be >= 1, got 0"):
        components.build("standard_normal", np.array(0), device="cpu")


def _quadratic_pair():
    m = RNG.standard_normal((3, 3))
    a, b = m + m.T, RNG.standard_normal(3)
    return (a, b), lambda x: 0.5 * x @ a @ x - b @ x


@pytest.mark.parametrize(
    "name, grad_name, params, formula",
    [
        ("quadratic", "quadratic_grad", *_quadratic_pair()),
        ("double_well", "double_well_grad", (np.array(1.5),), lambda x: np.sum(x**4 / 4 - 1.5 * x**2 / 2)),
    ],
    ids=["quadratic", "double_well"],
)
def test_function_and_gradient_on_numpy_and_torch(name, grad_name, params, formula):
    f = components.build(name, *params, device="cpu")
    grad = components.build(grad_name, *params, device="cpu")
    x = RNG.standard_normal(3)
    value = f(x)
    assert isinstance(value, np.floating | np.ndarray) and np.shape(value) == ()
    np.testing.assert_allclose(value, formula(x), rtol=1e-12)
    xt = torch.tensor(x, requires_grad=True)
    out = f(xt)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64 and out.shape == ()
    (g,) = torch.autograd.grad(out, xt)
    np.testing.assert_allclose(g.numpy(), grad(x), rtol=1e-10)
    np.testing.assert_allclose(grad(torch.tensor(x)).numpy(), grad(x), rtol=1e-12)


def test_double_well_is_non_convex_near_zero():
    f = components.build("double_well", np.array(1.0), device="cpu")
    x, y = np.zeros(2), np.array([0.5, 0.0])
    assert f(0.5 * (x + y)) > 0.5 * (f(x) + f(y))  # Jensen fails: not convex


def test_polynomial_is_elementwise_on_numpy_and_torch():
    p = components.build("polynomial", np.array([1.0, -2.0, 0.5, 3.0]), device="cpu")
    x = RNG.standard_normal((2, 5))
    want = 1.0 - 2.0 * x + 0.5 * x**2 + 3.0 * x**3
    np.testing.assert_allclose(p(x), want, rtol=1e-12)
    xt = torch.tensor(x, requires_grad=True)
    out = p(xt)
    assert out.shape == (2, 5) and out.dtype == torch.float64
    (g,) = torch.autograd.grad(out.sum(), xt)
    np.testing.assert_allclose(g.numpy(), -2.0 + x + 9.0 * x**2, rtol=1e-12)
    np.testing.assert_allclose(components.build("polynomial", np.array([2.5]), device="cpu")(x), np.full_like(x, 2.5))
    assert repr(p) == "<polynomial>"


def _mixture(k: int = 3, d: int = 2, steps: int = 20):
    a = RNG.standard_normal((k, d, d))
    weights, means, covs = RNG.dirichlet(np.ones(k)), 2 * RNG.standard_normal((k, d)), a @ a.transpose(0, 2, 1) / d + 0.1 * np.eye(d)
    return weights, means, covs, np.linspace(1e-3, 0.3, steps)


def test_gmm_eps_is_minus_sqrt_one_minus_abar_times_the_noised_mixtures_score():
    weights, means, covs, betas = _mixture()
    model = components.build("gmm_eps", weights, means, covs, betas, device="cpu")
    x, ts = torch.tensor(4 * RNG.standard_normal((6, 2)), requires_grad=True), torch.tensor([1, 1, 7, 13, 20, 20])
    abar = torch.cumprod(torch.tensor(1 - betas), 0)[ts - 1][:, None]
    noised = torch.distributions.MixtureSameFamily(  # the marginal of x_t, row by row: an independent oracle
        torch.distributions.Categorical(torch.tensor(weights)),
        torch.distributions.MultivariateNormal(abar[:, None].sqrt() * torch.tensor(means), abar[:, None, None] * torch.tensor(covs) + (1 - abar[:, None, None]) * torch.eye(2)),
    )
    (score,) = torch.autograd.grad(noised.log_prob(x).sum(), x)
    np.testing.assert_allclose(model(x, ts).detach(), -(1 - abar).sqrt() * score, rtol=1e-10, atol=1e-12)
    row_by_row = torch.cat([model(x[i : i + 1], int(t)) for i, t in enumerate(ts)])
    np.testing.assert_allclose(model(x, ts).detach(), row_by_row.detach(), rtol=1e-12)


def test_gmm_eps_records_the_trail_of_the_first_rows():
    model = components.build("gmm_eps", *_mixture(steps=5), device="cpu")
    xs = [torch.tensor(RNG.standard_normal((10, 2))) for _ in range(3)]
    for t, x in zip((5, 4, 3), xs):
        model(x, t)
    assert model.trail.shape == (3, 8, 2) and model.times == [5, 4, 3]
    np.testing.assert_array_equal(model.trail[1], xs[1][:8])
    model.reset()
    assert model.trail.shape == (0, 0, 2) and model.times == []


@pytest.mark.parametrize(
    "x, t, message",
    [
        (torch.zeros(3, 2), 0, r"t must be in 1\.\.5 \(t = 1\.\.T, beta_t = betas\[t - 1\]\), got values in 0\.\.0"),
        (torch.zeros(3, 2), torch.tensor([1, 2, 6]), r"t must be in 1\.\.5 .*got values in 1\.\.6"),
        (torch.zeros(3, 2), 2.0, r"t must be an int or an integer tensor of shape \(\) or \(3,\), got float"),
        (torch.zeros(3, 2), torch.tensor([1.0, 2.0, 3.0]), r"got a torch\.float32 tensor of shape \(3,\)"),
        (torch.zeros(3, 2), torch.tensor([1, 2]), r"shape \(\) or \(3,\), got a torch\.int64 tensor of shape \(2,\)"),
        (torch.zeros(3), 1, r"x must be a tensor of shape \(n, 2\), got shape \(3,\)"),
    ],
    ids=["t-zero", "t-past-T", "float-t", "float-tensor-t", "t-other-length", "x-1-d"],
)
def test_gmm_eps_says_what_it_expects(x, t, message):
    model = components.build("gmm_eps", *_mixture(steps=5), device="cpu")
    with pytest.raises(ValueError, match=f"gmm_eps: .*{message}"):
        model(x, t)


def test_gmm_eps_refuses_parameters_that_do_not_fit():
    weights, means, covs, betas = _mixture()
    with pytest.raises(ValueError, match=r"gmm_eps: expected weights \(K,\), means \(K, d\), covs \(K, d, d\), betas \(T,\); got \(3,\), \(3, 2\), \(2, 2, 2\), \(20,\)"):
        components.build("gmm_eps", weights, means, covs[:2], betas, device="cpu")


def test_eps_mlp_is_the_mlp_of_x_and_t_over_T_and_gradients_reach_its_weights():
    weights = [torch.tensor(RNG.standard_normal(s), requires_grad=True) for s in ((4, 3), (4,), (2, 4), (2,))]
    net = components.build("eps_mlp", *weights, np.array(10), device="cpu")
    x, ts = torch.tensor(RNG.standard_normal((5, 2))), torch.tensor([1, 3, 5, 7, 10])
    plain = components.build("mlp", *weights, device="cpu")(torch.cat([x, ts[:, None].double() / 10], dim=1))
    np.testing.assert_allclose(net(x, ts).detach(), plain.detach(), rtol=1e-12)
    assert all(g is not None and g.abs().sum() > 0 for g in torch.autograd.grad(net(x, ts).sum(), weights))
    with pytest.raises(ValueError, match=r"eps_mlp: t must be in 1\.\.10"):
        net(x, 11)
    with pytest.raises(ValueError, match=r"eps_mlp: expected w1 \(h, d \+ 1\), w2 \(d, h\) and T >= 1; got w1 \(4, 2\)"):
        components.build("eps_mlp", RNG.standard_normal((4, 2)), weights[1], weights[2], weights[3], np.array(10), device="cpu")
