"""Hidden checks of the optimizers topic: random problems, starting points and hyper-parameters from the course secret.

One check per function, so that a missing function costs only its own points. Every draw keeps what each known
mistake needs to show: a momentum beta >= 0.5 (EMA, dampening, and heavy ball and Nesterov swapped differ by
O(beta)), one adaptive run with a large eps (0.05 to 1, where eps inside the square root shows), RMSprop with its
default alpha, Adam with its default betas from the first step (the bias corrections and their count), and p = 1/2
and p = 1 among the Robbins-Monro exponents. Each check also always runs the corners of its domain: the first step
(state None) and a step from a given state; a gradient with an exact zero, both signs and magnitudes from 1e-7 to
1e3 (at the default eps, the tiny entries show eps inside the square root); beta = 0, alpha = 0 or beta1 = beta2 = 0
(the moments switched off); a single iterate to average; T = 1 and p a hair either side of the edges of the
Robbins-Monro verdict; and steps_to_tolerance at kappa = 1 and at a condition number in [2000, 10^4] as well as
one in each decade up to 1000.
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check
from checks.public.optimizers import (
    ADAGRAD_AVERAGE,
    AVERAGE_LAGS,
    EPS_INSIDE,
    FORBID,
    HEAVY_BALL_AS_NESTEROV,
    MOMENTUM_DAMPENING,
    MOMENTUM_EMA,
    NESTEROV_AS_HEAVY_BALL,
    RMSPROP_ALPHA,
    ROSENBROCK,
    adagrad_wrong,
    adam_mistakes,
    dampened_momentum,
    decades,
    ema_momentum,
    judge_adagrad,
    judge_adam,
    judge_convergence,
    judge_momentum,
    judge_one_step,
    judge_polyak,
    judge_rmsprop,
    judge_robbins_monro,
    judge_sgd,
    lagging_average,
    quadratic,
    reference_path,
    rmsprop_inside,
)

MIXED = "a gradient with an exact zero, both signs and magnitudes from 1e-7 to 1e3"


def _problem(t: Trial):
    return quadratic(t.rng, float(t.rng.uniform(2.0, 50.0)), int(t.rng.integers(2, 4)))


def _rosenbrock_start(t: Trial) -> np.ndarray:
    return np.array([t.rng.uniform(-1.5, -0.5), t.rng.uniform(0.5, 1.5)])


def _mixed(t: Trial) -> np.ndarray:
    """An exact zero, a tiny, a moderate and a large entry, of both signs, shuffled."""
    magnitudes = np.array([0.0, 10 ** t.rng.uniform(-7, -5), 10 ** t.rng.uniform(-2, 0), 10 ** t.rng.uniform(2, 3)])
    signs = np.concatenate([[1.0], t.rng.permutation([-1.0, 1.0, t.rng.choice([-1.0, 1.0])])])
    return t.rng.permutation(magnitudes * signs)


@check("hidden_sgd", "sgd on a random quadratic; one step with a gradient of zeros, mixed signs and magnitudes", forbid=FORBID)
def hidden_sgd(t: Trial) -> None:
    problem, big = _problem(t)
    judge_sgd(t, problem, t.rng.standard_normal(problem.n), int(t.rng.integers(8, 20)), float(t.rng.uniform(0.3, 1.8)) / big)
    judge_one_step(t, "sgd", (t.rng.standard_normal(4), _mixed(t), None), {"lr": float(10 ** t.rng.uniform(-3, 0))}, MIXED)


def _momentum(t: Trial, fn: str) -> None:
    """fn's trajectories with beta >= 0.5, then its first step, beta = 0 and a step from a given state, one step each."""
    problem, big = _problem(t)
    judge_momentum(t, fn, problem, t.rng.standard_normal(problem.n), int(t.rng.integers(10, 30)), float(t.rng.uniform(0.3, 1.0)) / big, float(t.rng.uniform(0.5, 0.95)))
    judge_momentum(t, fn, ROSENBROCK, _rosenbrock_start(t), int(t.rng.integers(8, 20)), float(t.rng.uniform(2e-4, 1e-3)), float(t.rng.uniform(0.5, 0.95)))
    swapped = (HEAVY_BALL_AS_NESTEROV, t.ref.heavy_ball) if fn == "nesterov" else (NESTEROV_AS_HEAVY_BALL, t.ref.nesterov)
    hyper = {"lr": float(10 ** t.rng.uniform(-3, -1)), "beta": float(t.rng.uniform(0.5, 0.95))}
    first = [(swapped[0], lambda *a: swapped[1](*a, **hyper)), (MOMENTUM_EMA, lambda *a: ema_momentum(*a, **hyper))]
    judge_one_step(t, fn, (t.rng.standard_normal(4), _mixed(t), None), hyper, f"the first step, {MIXED}", first)
    off = {"lr": hyper["lr"], "beta": 0.0}
    judge_one_step(t, fn, (t.rng.standard_normal(4), _mixed(t), (t.rng.standard_normal(4),)), off, "beta = 0: gradient descent, whatever the state")
    resumed = [(swapped[0], lambda *a: swapped[1](*a, **hyper)), (MOMENTUM_DAMPENING, lambda *a: dampened_momentum(*a, **hyper))]
    judge_one_step(t, fn, (t.rng.standard_normal(4), t.rng.standard_normal(4), (t.rng.standard_normal(4),)), hyper, "a step from a given state (d,)", resumed)


@check("hidden_heavy_ball", "heavy_ball on a random quadratic and Rosenbrock; the first step, beta = 0, a given state", forbid=FORBID)
def hidden_heavy_ball(t: Trial) -> None:
    _momentum(t, "heavy_ball")


@check("hidden_nesterov", "nesterov on a random quadratic and Rosenbrock; the first step, beta = 0, a given state", forbid=FORBID)
def hidden_nesterov(t: Trial) -> None:
    _momentum(t, "nesterov")


@check("hidden_adagrad", "adagrad on a random quadratic and Rosenbrock (a large eps); the first step at the defaults with a mixed gradient; a given state", forbid=FORBID)
def hidden_adagrad(t: Trial) -> None:
    problem, _ = _problem(t)
    judge_adagrad(t, problem, t.rng.standard_normal(problem.n), int(t.rng.integers(8, 25)), {"lr": float(t.rng.uniform(0.05, 0.5))})
    judge_adagrad(t, ROSENBROCK, _rosenbrock_start(t), int(t.rng.integers(8, 25)), {"lr": float(t.rng.uniform(0.02, 0.2)), "eps": float(t.rng.uniform(0.05, 1.0))})
    inside = [(EPS_INSIDE, lambda *a: adagrad_wrong(*a, lr=0.01, eps=1e-10, inside=True))]
    judge_one_step(t, "adagrad", (t.rng.standard_normal(4), _mixed(t), None), {}, f"the first step at the defaults, {MIXED}", inside)
    k, lr = int(t.rng.integers(1, 20)), float(t.rng.uniform(0.05, 0.5))
    state = (k, k * t.rng.uniform(0.1, 2.0, 4))
    judge_one_step(t, "adagrad", (t.rng.standard_normal(4), t.rng.standard_normal(4), state), {"lr": lr}, f"step {k + 1} from a given state (t - 1, G)", [(ADAGRAD_AVERAGE, lambda *a: adagrad_wrong(*a, lr=lr, eps=1e-10, average=True))])


@check("hidden_rmsprop", "rmsprop with its default alpha on a random quadratic, a large eps on Rosenbrock; the first step at the defaults; alpha = 0", forbid=FORBID)
def hidden_rmsprop(t: Trial) -> None:
    problem, _ = _problem(t)
    judge_rmsprop(t, problem, t.rng.standard_normal(problem.n), int(t.rng.integers(8, 25)), {"lr": float(t.rng.uniform(0.005, 0.05))})
    judge_rmsprop(t, ROSENBROCK, _rosenbrock_start(t), int(t.rng.integers(8, 25)), {"lr": float(t.rng.uniform(0.002, 0.02)), "eps": float(t.rng.uniform(0.05, 1.0))})
    wrong = [(RMSPROP_ALPHA, lambda *a: t.ref.rmsprop(*a, alpha=0.9)), (EPS_INSIDE, lambda *a: rmsprop_inside(*a, lr=0.01, alpha=0.99, eps=1e-8))]
    judge_one_step(t, "rmsprop", (t.rng.standard_normal(4), _mixed(t), None), {}, f"the first step at the defaults, {MIXED}", wrong)
    state = (t.rng.uniform(0.1, 2.0, 4),)
    judge_one_step(t, "rmsprop", (t.rng.standard_normal(4), t.rng.standard_normal(4), state), {"lr": float(t.rng.uniform(0.005, 0.05)), "alpha": 0.0}, "alpha = 0: v_t = g_t^2, whatever the state")


@check("hidden_adam", "adam with its default betas on a random quadratic, random betas and a large eps on Rosenbrock; the first step (t = 1); a given state; betas = 0", forbid=FORBID)
def hidden_adam(t: Trial) -> None:
    problem, _ = _problem(t)
    judge_adam(t, problem, t.rng.standard_normal(problem.n), int(t.rng.integers(8, 30)), {"lr": float(t.rng.uniform(0.005, 0.1))})
    hyper = {"lr": float(t.rng.uniform(0.005, 0.05)), "beta1": float(t.rng.uniform(0.5, 0.95)), "beta2": float(t.rng.uniform(0.9, 0.999)), "eps": float(t.rng.uniform(0.1, 1.0))}
    judge_adam(t, ROSENBROCK, _rosenbrock_start(t), int(t.rng.integers(8, 30)), hyper)
    lr = {"lr": float(10 ** t.rng.uniform(-3, -1))}
    judge_one_step(t, "adam", (t.rng.standard_normal(4), _mixed(t), None), lr, f"the first step (t = 1) at the default betas and eps, {MIXED}", adam_mistakes(lr))
    k = int(t.rng.integers(1, 50))
    state = (k, 0.1 * t.rng.standard_normal(4), t.rng.uniform(0.01, 0.1, 4))
    judge_one_step(t, "adam", (t.rng.standard_normal(4), t.rng.standard_normal(4), state), lr, f"step {k + 1} from a given state (t - 1, m, v)", adam_mistakes(lr))
    off = {**lr, "beta1": 0.0, "beta2": 0.0}
    judge_one_step(t, "adam", (t.rng.standard_normal(4), t.rng.standard_normal(4), state), off, "beta1 = beta2 = 0: the step is lr g / (|g| + eps), whatever the state")


@check("hidden_polyak_average", "polyak_average over a random trajectory (x_0 included), over a single iterate, and from a given state", forbid=FORBID)
def hidden_polyak_average(t: Trial) -> None:
    problem, big = _problem(t)
    x0 = t.rng.standard_normal(problem.n)
    steps = int(t.rng.integers(5, 20))
    rows, _ = reference_path(t.ref.heavy_ball, problem, x0, steps, lr=float(t.rng.uniform(0.3, 1.0)) / big, beta=float(t.rng.uniform(0.3, 0.9)))
    judge_polyak(t, np.vstack([x0, rows]), f"polyak_average called on x_0 .. x_{steps} of heavy ball on {problem.name}")
    judge_polyak(t, t.rng.standard_normal((1, 3)), "polyak_average called once: a single iterate is its own average")
    k = int(t.rng.integers(1, 100))
    judge_one_step(t, "polyak_average", (t.rng.standard_normal(3), (k, t.rng.standard_normal(3))), {}, f"{k} iterates averaged so far", [(AVERAGE_LAGS, lagging_average)])


@check("hidden_robbins_monro", "robbins_monro on random exponents with p = 0, 1/2 and 1 exactly and a hair either side of 1/2 and 1; T = 1")
def hidden_robbins_monro(t: Trial) -> None:
    hair = float(10 ** t.rng.uniform(-8, -6))
    edges = [0.0, 0.5, 1.0, 0.5 - hair, 0.5 + hair, 1.0 - hair, 1.0 + hair, -float(t.rng.uniform(0.1, 2.0))]
    exponents = np.concatenate([edges, t.rng.uniform(-0.5, 2.5, int(t.rng.integers(2, 6)))])
    judge_robbins_monro(t, t.rng.permutation(exponents), int(t.rng.integers(2, 500)))
    judge_robbins_monro(t, t.rng.permutation(exponents), 1)


@check("hidden_convergence", "steps_to_tolerance: gd, heavy_ball and adam at one condition number in each decade up to 1000 and one in [2000, 10^4], random tol", forbid=FORBID)
def hidden_convergence(t: Trial) -> None:
    # kappa = 1 is the public check's, every time: here its probe of the first steps (from the public start) would
    # compute the very answers a student bundle records for the public check.
    stiff = float(np.exp(t.rng.uniform(np.log(2000.0), np.log(1e4))))
    judge_convergence(t, [*decades(t), stiff], tol=float(10 ** t.rng.uniform(-8, -3)))
