"""Hidden checks of the convexity topic: random sizes and values drawn per submission from the course secret.

Every draw plants what each known mistake needs to show: a non-symmetric and an indefinite matrix (singular values
instead of eigenvalues), distinct extreme eigenvalues (L and mu swapped), a convex function next to a non-convex one
(the reversed first-order condition), a starting point off the minimiser with a component along the top eigenvector
(step 2/L), a non-zero step dx (the Taylor 1/2), a true gradient far from E[f(x)] (the missing score), a baseline
call (the missing baseline) and an equality constraint with non-zero multipliers (their sign).
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check
from checks.public.convexity import (
    COND_SINGULAR_VALUES,
    expect_value_error,
    judge_condition_number,
    judge_first_order,
    judge_frobenius,
    judge_gd,
    judge_qp,
    judge_reparameterization,
    judge_score,
    judge_smoothness,
    judge_taylor,
    nonconvex_points,
    spd,
)


def _int(t: Trial, low: int, high: int) -> int:
    return int(t.rng.integers(low, high + 1))


@check("hidden_condition_number", "condition_number: a random non-symmetric and a random indefinite matrix (ValueError), then a random SPD one")
def hidden_condition_number(t: Trial) -> None:
    d = _int(t, 2, 7)
    h = t.rng.standard_normal((d, d))
    h[0, 1] = h[1, 0] + t.rng.uniform(0.5, 2.0)  # certainly not symmetric
    expect_value_error(t, f"a random H of shape {(d, d)} is not symmetric", "condition_number", h, variants=[(COND_SINGULAR_VALUES, np.linalg.cond(h))])
    lam = t.rng.uniform(0.5, 5.0, d)
    lam[0] = -t.rng.uniform(0.5, 2.0)
    h = spd(t.rng, lam)
    expect_value_error(t, f"a random symmetric H of shape {(d, d)} has the eigenvalue {lam[0]:.3g}", "condition_number", h, variants=[(COND_SINGULAR_VALUES, np.linalg.cond(h))])
    judge_condition_number(t, spd(t.rng, t.rng.uniform(0.1, 20.0, d)), f"condition_number(H) with a random SPD H of shape {(d, d)}")


@check("hidden_smoothness_and_strong_convexity", "smoothness_and_strong_convexity of a random SPD matrix")
def hidden_smoothness_and_strong_convexity(t: Trial) -> None:
    d = _int(t, 2, 7)
    lam = t.rng.uniform(0.1, 5.0, d)
    lam[0], lam[1] = 0.05, 6.0  # mu and L well apart
    judge_smoothness(t, spd(t.rng, lam), f"smoothness_and_strong_convexity(A) with a random SPD A of shape {(d, d)}")


@check("hidden_first_order_convexity", "check_first_order_convexity on a random convex quadratic, a random indefinite one and the double well")
def hidden_first_order_convexity(t: Trial) -> None:
    d, n = _int(t, 1, 5), _int(t, 3, 7)
    a = spd(t.rng, t.rng.uniform(0.2, 3.0, d))
    judge_first_order(t, "quadratic", (a, t.rng.standard_normal(d)), t.rng.standard_normal((n, d)), f"check_first_order_convexity(convex quadratic, {n} points in R^{d})")
    lam = t.rng.uniform(-3.0, 3.0, d)
    lam[0] = -t.rng.uniform(0.5, 3.0)
    judge_first_order(t, "quadratic", (spd(t.rng, lam), t.rng.standard_normal(d)), t.rng.standard_normal((n, d)), f"check_first_order_convexity(indefinite quadratic, {n} points in R^{d})")
    judge_first_order(t, "double_well", (np.array(t.rng.uniform(0.5, 2.0)),), nonconvex_points(t.rng, n, d), f"check_first_order_convexity(double well, {n} points in R^{d})")


@check("hidden_gd_quadratic", "gd_quadratic on a random SPD quadratic: iterates, monotone decrease, the (1 - mu/L)^(2T) bound")
def hidden_gd_quadratic(t: Trial) -> None:
    d, steps = _int(t, 2, 6), _int(t, 3, 30)
    lam = t.rng.uniform(0.2, 5.0, d)
    a = spd(t.rng, lam)
    judge_gd(t, a, t.rng.standard_normal(d), 3 * t.rng.standard_normal(d), steps, f"gd_quadratic(A, b, x0, {steps}) with a random SPD A of shape {(d, d)}")


@check("hidden_taylor_second_order", "taylor_second_order of a random quadratic (exact) and a random double well")
def hidden_taylor_second_order(t: Trial) -> None:
    d = _int(t, 1, 6)
    a = spd(t.rng, t.rng.uniform(-2.0, 3.0, d))
    judge_taylor(t, "quadratic", (a, t.rng.standard_normal(d)), t.rng.standard_normal(d), t.rng.uniform(0.5, 1.5) * t.rng.standard_normal(d), f"taylor_second_order(quadratic, x0, dx) in R^{d}", exact=True)
    judge_taylor(t, "double_well", (np.array(t.rng.uniform(0.5, 2.0)),), t.rng.standard_normal(d), t.rng.uniform(0.1, 1.0) * t.rng.standard_normal(d), f"taylor_second_order(double well, x0, dx) in R^{d}")


def _cubic(t: Trial) -> tuple[np.ndarray, float]:
    """A random cubic and a mean mu at which E[f(x)] and its gradient are far apart (the missing score shows)."""
    coeffs = t.rng.uniform(-1.0, 1.0, 4)
    coeffs[3] = t.rng.uniform(0.2, 0.5) * t.rng.choice([-1.0, 1.0])
    return coeffs, float(t.rng.uniform(0.3, 1.0) * t.rng.choice([-1.0, 1.0]))


@check("hidden_score_function_gradient", "score_function_gradient of a random cubic, without and with the baseline")
def hidden_score_function_gradient(t: Trial) -> None:
    coeffs, mu = _cubic(t)
    n = _int(t, 100_000, 200_000)
    z = t.rng.standard_normal(n)
    what = f"score_function_gradient(cubic with coefficients {np.round(coeffs, 3).tolist()}, mu={mu:.3f}, z) with n = {n}"
    judge_score(t, coeffs, mu, z, False, what)
    judge_score(t, coeffs, mu, z, True, f"{what[:-1]}, baseline=True)")


@check("hidden_reparameterization_gradient", "reparameterization_gradient of a random cubic")
def hidden_reparameterization_gradient(t: Trial) -> None:
    coeffs, mu = _cubic(t)
    n = _int(t, 50_000, 200_000)
    judge_reparameterization(t, coeffs, mu, t.rng.standard_normal(n), f"reparameterization_gradient(cubic with coefficients {np.round(coeffs, 3).tolist()}, mu={mu:.3f}, z) with n = {n}")


@check("hidden_solve_equality_qp", "solve_equality_qp of a random strictly convex QP with random constraints")
def hidden_solve_equality_qp(t: Trial) -> None:
    n = _int(t, 2, 7)
    m = _int(t, 1, n - 1)
    q = spd(t.rng, t.rng.uniform(0.3, 4.0, n))
    judge_qp(t, q, t.rng.standard_normal(n), t.rng.standard_normal((m, n)), t.rng.standard_normal(m) + 1.0, f"solve_equality_qp(Q, c, A, b) with n = {n}, m = {m}")


@check("hidden_frobenius_norm", "frobenius_norm of a random matrix")
def hidden_frobenius_norm(t: Trial) -> None:
    shape = (_int(t, 2, 6), _int(t, 2, 6))
    judge_frobenius(t, t.rng.standard_normal(shape), f"frobenius_norm(A) with A of shape {shape}")
