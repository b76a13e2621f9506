"""Hidden checks of the optimizers topic: random problems, starting points and hyper-parameters from the course secret.

Every draw keeps what each known mistake needs to show: a momentum beta >= 0.5 (EMA, dampening and the Nesterov
point differ by O(beta)), one adaptive run with a large eps (0.05 to 1, where eps inside the square root shows),
RMSprop with its default alpha, Adam with its default betas for the bias corrections, and schedules p = 1/2 and p = 1
among the Robbins-Monro exponents. steps_to_tolerance runs at one condition number in each of [1, 10), [10, 100),
[100, 1000), so the momentum and Adam mistakes a student's count inherits change it (the off-by-one always shows).
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check
from checks.public.optimizers import ROSENBROCK, judge_adagrad, judge_adam, judge_convergence, judge_momentum, judge_polyak, judge_robbins_monro, judge_rmsprop, judge_sgd, quadratic, reference_path


def _problem(t: Trial):
    return quadratic(t.rng, float(t.rng.uniform(2.0, 50.0)), int(t.rng.integers(2, 4)))


def _rosenbrock_start(t: Trial) -> np.ndarray:
    return np.array([t.rng.uniform(-1.5, -0.5), t.rng.uniform(0.5, 1.5)])


@check("hidden_momentum", "sgd, heavy_ball and nesterov on a random quadratic and from a random Rosenbrock start")
def hidden_momentum(t: Trial) -> None:
    problem, big = _problem(t)
    judge_sgd(t, problem, t.rng.standard_normal(problem.n), int(t.rng.integers(8, 20)), float(t.rng.uniform(0.3, 1.8)) / big)
    for fn in ("heavy_ball", "nesterov"):
        lr, beta = float(t.rng.uniform(0.3, 1.0)) / big, float(t.rng.uniform(0.5, 0.95))
        judge_momentum(t, fn, problem, t.rng.standard_normal(problem.n), int(t.rng.integers(10, 30)), lr, beta)
        judge_momentum(t, fn, ROSENBROCK, _rosenbrock_start(t), int(t.rng.integers(8, 20)), float(t.rng.uniform(2e-4, 1e-3)), float(t.rng.uniform(0.5, 0.95)))


@check("hidden_adagrad_rmsprop", "adagrad and rmsprop on a random quadratic and Rosenbrock, one run with a large eps")
def hidden_adagrad_rmsprop(t: Trial) -> None:
    problem, _ = _problem(t)
    judge_adagrad(t, problem, t.rng.standard_normal(problem.n), int(t.rng.integers(8, 25)), {"lr": float(t.rng.uniform(0.05, 0.5))})
    judge_adagrad(t, ROSENBROCK, _rosenbrock_start(t), int(t.rng.integers(8, 25)), {"lr": float(t.rng.uniform(0.02, 0.2)), "eps": float(t.rng.uniform(0.05, 1.0))})
    judge_rmsprop(t, problem, t.rng.standard_normal(problem.n), int(t.rng.integers(8, 25)), {"lr": float(t.rng.uniform(0.005, 0.05))})
    judge_rmsprop(t, ROSENBROCK, _rosenbrock_start(t), int(t.rng.integers(8, 25)), {"lr": float(t.rng.uniform(0.002, 0.02)), "eps": float(t.rng.uniform(0.05, 1.0))})


@check("hidden_adam", "adam with its default betas on a random quadratic, then random betas and a large eps on Rosenbrock")
def hidden_adam(t: Trial) -> None:
    problem, _ = _problem(t)
    judge_adam(t, problem, t.rng.standard_normal(problem.n), int(t.rng.integers(8, 30)), {"lr": float(t.rng.uniform(0.005, 0.1))})
    hyper = {"lr": float(t.rng.uniform(0.005, 0.05)), "beta1": float(t.rng.uniform(0.5, 0.95)), "beta2": float(t.rng.uniform(0.9, 0.999)), "eps": float(t.rng.uniform(0.1, 1.0))}
    judge_adam(t, ROSENBROCK, _rosenbrock_start(t), int(t.rng.integers(8, 30)), hyper)


@check("hidden_averaging", "polyak_average over a random trajectory, robbins_monro on random exponents with p = 1/2 and p = 1")
def hidden_averaging(t: Trial) -> None:
    problem, big = _problem(t)
    x0 = t.rng.standard_normal(problem.n)
    steps = int(t.rng.integers(5, 20))
    rows, _ = reference_path(t.ref.heavy_ball, problem, x0, steps, lr=float(t.rng.uniform(0.3, 1.0)) / big, beta=float(t.rng.uniform(0.3, 0.9)))
    judge_polyak(t, np.vstack([x0, rows]), f"polyak_average called on x_0 .. x_{steps} of heavy ball on {problem.name}")
    exponents = np.concatenate([[0.5, 1.0], t.rng.uniform(-0.5, 2.5, int(t.rng.integers(2, 6)))])
    judge_robbins_monro(t, t.rng.permutation(exponents), int(t.rng.integers(1, 500)))


@check("hidden_convergence", "steps_to_tolerance: gd, heavy_ball and adam at three random condition numbers (one in each decade up to 1000), random tol")
def hidden_convergence(t: Trial) -> None:
    kappas = [float(np.exp(t.rng.uniform(np.log(lo), np.log(10 * lo)))) for lo in (1.0, 10.0, 100.0)]
    judge_convergence(t, kappas, tol=float(10 ** t.rng.uniform(-8, -3)))
