"""The optimizers topic end to end: reference, stub, every known mistake, and the reference itself against torch.optim."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from autograder.engine.results import PASSED
from checks.public.optimizers import ROSENBROCK, quadratic, reference_path, torch_path
from solutions import optimizers as ref

from conftest import ROOT, grade_source
from mistakes import known_mistakes

TOPIC = "optimizers"


KNOWN = known_mistakes(TOPIC)


def test_messages_say_which_step_first_differs(grader):
    result = grade_source(grader, KNOWN["adam_no_bias_correction"].source, TOPIC)
    message = next(c.message for c in result.checks if c.id == "adam")
    assert message.startswith("25 steps of adam(params, grads, state, lr=0.05) on the quadratic")
    assert "step 1 of 25 is the first that differs" in message and "Adam without bias correction" in message
    result = grade_source(grader, KNOWN["heavy_ball_as_nesterov"].source, TOPIC)
    message = next(c.message for c in result.checks if c.id == "nesterov")
    assert "step 1 of 30 is the first that differs" in message  # phi_1 = x0 - (1 + beta) lr g; heavy ball: x0 - lr g
    assert "nesterov computes heavy ball" in message


# ---- what a step returns: a state returned as a list comes back to the next step as that list --------------------

REFERENCE = (ROOT / "solutions" / "optimizers.py").read_text()
STATE_AS_LIST = """
_reference_{fn} = {fn}


def {fn}(params, grads, state, **hyper):
    if state is not None and not (isinstance(state, list) and {count}):
        raise TypeError(f"the state came back as {{state!r}}, not as the list returned")
    x, s = _reference_{fn}(params, grads, state, **hyper)
    return x, list(s)
"""
TENSOR_PARAMS = """
import torch

_reference_sgd = sgd


def sgd(params, grads, state, lr):
    x, s = _reference_sgd(params, grads, state, lr)
    return torch.from_numpy(x), s
"""


@pytest.mark.parametrize(
    "override, checks, message",
    [
        pytest.param(STATE_AS_LIST.format(fn="heavy_ball", count="True"), ["heavy_ball"], None, id="momentum-state-as-a-list"),
        pytest.param(STATE_AS_LIST.format(fn="adam", count="type(state[0]) is int"), ["adam"], None, id="adam-state-as-a-list-with-an-int-count"),
        pytest.param(TENSOR_PARAMS, ["sgd", "sgd_contract"], "returned a torch.Tensor of shape (3,), dtype torch.float64, on cpu; sgd(...)[0] must be a numpy.ndarray", id="tensor-for-numpy-params"),
    ],
)
def test_a_step_may_return_its_state_as_a_list_but_not_params_as_a_tensor(grader, override: str, checks: list[str], message: str | None):
    result = grade_source(grader, REFERENCE + override, TOPIC, checks=checks)
    failed = {c.id: c.message for c in result.checks if c.status != PASSED}
    if message is None:
        assert failed == {}
    else:
        assert set(failed) == set(checks) and all(message in m for m in failed.values()), failed


# ---- the reference against torch.optim ---------------------------------------------------------------------------

RNG = np.random.default_rng(0)
PROBLEM, L = quadratic(RNG, 20.0, 3)
CASES = [
    ("sgd", {"lr": 0.05}, lambda p: torch.optim.SGD(p, lr=0.05)),
    ("heavy_ball", {"lr": 0.04, "beta": 0.9}, lambda p: torch.optim.SGD(p, lr=0.04, momentum=0.9)),
    ("nesterov", {"lr": 0.04, "beta": 0.9}, lambda p: torch.optim.SGD(p, lr=0.04, momentum=0.9, nesterov=True)),
    ("adagrad", {}, lambda p: torch.optim.Adagrad(p)),
    ("adagrad", {"lr": 0.3, "eps": 0.5}, lambda p: torch.optim.Adagrad(p, lr=0.3, eps=0.5)),
    ("rmsprop", {}, lambda p: torch.optim.RMSprop(p)),
    ("rmsprop", {"lr": 0.02, "alpha": 0.9, "eps": 0.1}, lambda p: torch.optim.RMSprop(p, lr=0.02, alpha=0.9, eps=0.1)),
    ("adam", {}, lambda p: torch.optim.Adam(p)),
    ("adam", {"lr": 0.05, "beta1": 0.7, "beta2": 0.95, "eps": 1.0}, lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.7, 0.95), eps=1.0)),
]


@pytest.mark.parametrize("problem", ["quadratic", "rosenbrock"])
@pytest.mark.parametrize("fn, hyper, make", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_reference_matches_torch_optim(fn: str, hyper, make, problem: str):
    prob, x0 = (PROBLEM, RNG.standard_normal(3)) if problem == "quadratic" else (ROSENBROCK, np.array([-1.2, 1.0]))
    steps = 50 if problem == "quadratic" else 30
    if problem == "rosenbrock" and fn in ("sgd", "heavy_ball", "nesterov"):
        hyper, make = {**hyper, "lr": 1e-3}, lambda p, make=make: _with_lr(make(p), 1e-3)
    rows, _ = reference_path(getattr(ref, fn), prob, x0, steps, **hyper)
    np.testing.assert_allclose(rows, torch_path(make, prob, x0, steps), rtol=1e-10, atol=1e-13)


def _with_lr(opt: torch.optim.Optimizer, lr: float) -> torch.optim.Optimizer:
    for group in opt.param_groups:
        group["lr"] = lr
    return opt


def test_nesterov_change_of_variables_recovers_the_original_iterates():
    """theta_{t+1} = phi_{t+1} - beta d_t must satisfy theta_{t+1} = theta_look - lr grad f(theta_look)."""
    lr, beta = 0.04, 0.8
    phi, state, theta_prev, theta = RNG.standard_normal(3), None, None, None
    theta = theta_prev = phi.copy()
    for _ in range(10):
        look = theta + beta * (theta - theta_prev)
        np.testing.assert_allclose(phi, look, rtol=1e-12, atol=1e-14)
        phi, state = ref.nesterov(phi, PROBLEM.grad(phi), state, lr=lr, beta=beta)
        theta_prev, theta = theta, look - lr * PROBLEM.grad(look)
        np.testing.assert_allclose(phi - beta * state[0], theta, rtol=1e-12, atol=1e-14)


def test_adam_first_step_ratios_from_the_mistakes_notes():
    """Without bias correction the first step is (1 - b1)/sqrt(1 - b2) = 3.162x larger; only m corrected 31.6x larger."""
    g = np.array([0.3, -2.0])
    first = ref.adam(np.zeros(2), g, None, eps=0.0)[0]
    np.testing.assert_allclose(first, -1e-3 * np.sign(g), rtol=1e-12)
    m, v = 0.1 * g, 0.001 * g**2
    np.testing.assert_allclose((m / np.sqrt(v)) / (first / -1e-3), 0.1 / np.sqrt(0.001), rtol=1e-12)


def test_polyak_average_is_the_running_mean_with_the_first_iterate():
    xs = RNG.standard_normal((6, 2))
    state = None
    for k, x in enumerate(xs, start=1):
        avg, state = ref.polyak_average(x, state)
        np.testing.assert_allclose(avg, xs[:k].mean(axis=0), rtol=1e-12)
    assert state[0] == 6


def test_robbins_monro_verdicts():
    s1, s2, ok = ref.robbins_monro(np.array([0.0, 0.5, 0.51, 1.0, 1.01]), 10)
    np.testing.assert_array_equal(ok, [False, False, True, True, False])
    np.testing.assert_allclose(s1[3], sum(1 / t for t in range(1, 11)), rtol=1e-14)
    np.testing.assert_allclose(s2[1], s1[3], rtol=1e-14)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ref.sgd(np.zeros(2), np.zeros(2), None, lr=0.0), "sgd: lr must be > 0"),
        (lambda: ref.sgd(np.zeros(2), np.zeros(3), None, lr=0.1), "sgd: grads must have the shape of params"),
        (lambda: ref.sgd(np.zeros((2, 2)), np.zeros((2, 2)), None, lr=0.1), "sgd: params must be a 1-D array"),
        (lambda: ref.heavy_ball(np.zeros(2), np.zeros(2), None, lr=0.1, beta=1.0), r"heavy_ball: beta must be in \[0, 1\)"),
        (lambda: ref.nesterov(np.zeros(2), np.zeros(2), (np.zeros(3),), lr=0.1, beta=0.5), "nesterov: the arrays of state must have the shape"),
        (lambda: ref.adagrad(np.zeros(2), np.zeros(2), None, eps=-1.0), "adagrad: eps must be >= 0"),
        (lambda: ref.rmsprop(np.zeros(2), np.zeros(2), None, alpha=1.0), r"rmsprop: alpha must be in \[0, 1\)"),
        (lambda: ref.adam(np.zeros(2), np.zeros(2), None, beta2=1.0), r"adam: beta2 must be in \[0, 1\)"),
        (lambda: ref.adam(np.zeros(2), np.zeros(2), (np.zeros(2), np.zeros(2))), "adam: state must be None or the tuple"),
        (lambda: ref.robbins_monro(np.array([1.0]), 0), "robbins_monro: horizon must be an integer >= 1"),
        (lambda: ref.robbins_monro(np.array([np.nan]), 3), "robbins_monro: schedule must be a 1-D array of finite"),
    ],
    ids=["lr", "shape", "ndim", "beta", "state-shape", "eps", "alpha", "beta2", "state-length", "horizon", "schedule"],
)
def test_reference_rejects_bad_input_naming_function_and_argument(call, message: str):
    with pytest.raises(ValueError, match=message):
        call()
