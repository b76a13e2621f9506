"""Hidden checks of the convexity topic: random sizes and values drawn per submission from the course secret.

Every draw plants what each known mistake needs to show: a non-symmetric and an indefinite matrix (singular values
instead of eigenvalues), distinct extreme eigenvalues (L and mu swapped), a convex function next to a non-convex one
(the reversed first-order condition), a starting point off the minimiser with a component along the top eigenvector
(step 2/L), a non-zero step dx (the Taylor 1/2), a true gradient far from E[f(x)] (the missing score), a baseline
call (the missing baseline) and an equality constraint with non-zero multipliers (their sign). The corners of each
domain are always there too, whatever the draw: condition numbers at both ends (kappa = 1 for c I with c > 0, and a
large one), 1 x 1 and singular matrices, an affine f exactly on its tangents, dx = 0, a handful of draws, m = n.
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
    judge_reparameterization_exact,
    judge_score_exact,
    judge_smoothness,
    judge_taylor,
    nonconvex_points,
    permuted_diagonal,
    spd,
)


def _ill_conditioned(t: Trial, d: int) -> tuple[np.ndarray, float]:
    """A random SPD matrix with kappa in [1e3, 1e5] (rotated: beyond that, correct answers by another route, e.g.
    eigenvalues against singular values, differ by more than the course tolerance), and its kappa."""
    kappa = 10.0 ** float(t.rng.uniform(3.0, 5.0))
    lam = t.rng.uniform(1.0, kappa, d)
    lam[:2] = 1.0, kappa
    return spd(t.rng, lam), kappa


@check("hidden_condition_number", "condition_number: a random non-symmetric and a random indefinite matrix (ValueError), a random SPD one, then kappa = 1 (c I, 1 x 1), large kappas and a singular H")
def hidden_condition_number(t: Trial) -> None:
    d = t.integer(2, 7)
    h = t.rng.standard_normal((d, d))
    h[0, 1] = h[1, 0] + t.rng.uniform(0.5, 2.0)  # certainly not symmetric
    expect_value_error(t, f"a random H of shape {(d, d)} is not symmetric", "condition_number", h, variants=[(COND_SINGULAR_VALUES, np.linalg.cond(h))])
    lam = t.rng.uniform(0.5, 5.0, d)
    lam[0] = -t.rng.uniform(0.5, 2.0)
    h = spd(t.rng, lam)
    expect_value_error(t, f"a random symmetric H of shape {(d, d)} has the eigenvalue {lam[0]:.3g}", "condition_number", h, variants=[(COND_SINGULAR_VALUES, np.linalg.cond(h))])
    judge_condition_number(t, spd(t.rng, t.rng.uniform(0.1, 20.0, d)), f"condition_number(H) with a random SPD H of shape {(d, d)}")
    c = float(t.rng.uniform(0.1, 10.0))
    judge_condition_number(t, c * np.eye(d), f"condition_number({c:.6g} I) with d = {d} (kappa = 1)")
    judge_condition_number(t, np.array([[c]]), f"condition_number([[{c:.6g}]]) (1 x 1: kappa = 1)")
    h, kappa = _ill_conditioned(t, d)
    judge_condition_number(t, h, f"condition_number(H) with a random SPD H of shape {(d, d)} and kappa = {kappa:.4g}")
    lam = np.append(10.0 ** -float(t.rng.uniform(10.0, 12.0)), t.rng.uniform(0.5, 3.0, d - 1))
    judge_condition_number(t, permuted_diagonal(t, lam), f"condition_number(diag of {lam.tolist()} in some order) (kappa about 1e11)")
    lam[0] = 0.0
    judge_condition_number(t, permuted_diagonal(t, lam), f"condition_number(diag of {lam.tolist()} in some order) (singular: inf)")


@check("hidden_smoothness_and_strong_convexity", "smoothness_and_strong_convexity of a random SPD matrix, then c I (L = mu), 1 x 1, a large kappa and a singular A (mu = 0)")
def hidden_smoothness_and_strong_convexity(t: Trial) -> None:
    d = t.integer(2, 7)
    lam = t.rng.uniform(0.1, 5.0, d)
    lam[0], lam[1] = 0.05, 6.0  # mu and L well apart
    judge_smoothness(t, spd(t.rng, lam), f"smoothness_and_strong_convexity(A) with a random SPD A of shape {(d, d)}")
    c = float(t.rng.uniform(0.1, 10.0))
    judge_smoothness(t, c * np.eye(d), f"smoothness_and_strong_convexity({c:.6g} I) with d = {d} (L = mu = {c:.6g})")
    judge_smoothness(t, np.array([[c]]), f"smoothness_and_strong_convexity([[{c:.6g}]])")
    a, kappa = _ill_conditioned(t, d)
    judge_smoothness(t, a, f"smoothness_and_strong_convexity(A) with a random SPD A of shape {(d, d)} and kappa = {kappa:.4g}")
    lam[0] = 0.0
    judge_smoothness(t, permuted_diagonal(t, lam), f"smoothness_and_strong_convexity(diag of {np.round(lam, 4).tolist()} in some order) (singular: mu = 0)")


@check("hidden_first_order_convexity", "check_first_order_convexity on a random convex quadratic, a random indefinite one and the double well, then an affine f at tol = 0 and two points")
def hidden_first_order_convexity(t: Trial) -> None:
    d, n = t.integer(1, 5), t.integer(3, 7)
    a = spd(t.rng, t.rng.uniform(0.2, 3.0, d))
    judge_first_order(t, "quadratic", (a, t.rng.standard_normal(d)), t.rng.standard_normal((n, d)), f"check_first_order_convexity(convex quadratic, {n} points in R^{d})")
    lam = t.rng.uniform(-3.0, 3.0, d)
    lam[0] = -t.rng.uniform(0.5, 3.0)
    judge_first_order(t, "quadratic", (spd(t.rng, lam), t.rng.standard_normal(d)), t.rng.standard_normal((n, d)), f"check_first_order_convexity(indefinite quadratic, {n} points in R^{d})")
    judge_first_order(t, "double_well", (np.array(t.rng.uniform(0.5, 2.0)),), nonconvex_points(t.rng, n, d), f"check_first_order_convexity(double well, {n} points in R^{d})")
    # Affine with integer data: f(y) = f(x) + grad^T (y - x) exactly, which is no violation, even at tol = 0.
    slope, points = t.rng.integers(-3, 4, d).astype(float), t.rng.integers(-3, 4, (n, d)).astype(float)
    judge_first_order(t, "quadratic", (np.zeros((d, d)), slope), points, f"check_first_order_convexity(affine f, {n} integer points in R^{d}, tol=0.0) (equality is no violation)", tol=0.0)
    c = -float(t.rng.uniform(0.5, 3.0))
    judge_first_order(t, "quadratic", (np.array([[c]]), np.zeros(1)), t.rng.standard_normal((2, 1)), f"check_first_order_convexity({c / 2:.4g} x^2, two points) (both pairs violate)")


@check("hidden_gd_quadratic", "gd_quadratic on a random SPD quadratic: iterates, monotone decrease, the (1 - mu/L)^(2T) bound; then kappa = 1 (c I), a large kappa and d = 1")
def hidden_gd_quadratic(t: Trial) -> None:
    d, steps = t.integer(2, 6), t.integer(3, 30)
    lam = t.rng.uniform(0.2, 5.0, d)
    a = spd(t.rng, lam)
    judge_gd(t, a, t.rng.standard_normal(d), 3 * t.rng.standard_normal(d), steps, f"gd_quadratic(A, b, x0, {steps}) with a random SPD A of shape {(d, d)}")
    c = float(t.rng.uniform(0.1, 10.0))
    judge_gd(t, c * np.eye(d), t.rng.standard_normal(d), 3 * t.rng.standard_normal(d), steps, f"gd_quadratic({c:.6g} I, b, x0, {steps}) with d = {d} (kappa = 1: x_1 is the minimiser)")
    a, kappa = _ill_conditioned(t, d)
    judge_gd(t, a, t.rng.standard_normal(d), 3 * t.rng.standard_normal(d), steps, f"gd_quadratic(A, b, x0, {steps}) with a random SPD A of shape {(d, d)} and kappa = {kappa:.4g}")
    judge_gd(t, np.array([[c]]), t.rng.standard_normal(1), 3 * t.rng.standard_normal(1), steps, f"gd_quadratic([[{c:.6g}]], b, x0, {steps}) (d = 1)")


@check("hidden_taylor_second_order", "taylor_second_order of a random quadratic (exact) and a random double well, then dx = 0 and d = 1")
def hidden_taylor_second_order(t: Trial) -> None:
    d = t.integer(1, 6)
    a = spd(t.rng, t.rng.uniform(-2.0, 3.0, d))
    judge_taylor(t, "quadratic", (a, t.rng.standard_normal(d)), t.rng.standard_normal(d), t.rng.uniform(0.5, 1.5) * t.rng.standard_normal(d), f"taylor_second_order(quadratic, x0, dx) in R^{d}", exact=True)
    judge_taylor(t, "double_well", (np.array(t.rng.uniform(0.5, 2.0)),), t.rng.standard_normal(d), t.rng.uniform(0.1, 1.0) * t.rng.standard_normal(d), f"taylor_second_order(double well, x0, dx) in R^{d}")
    judge_taylor(t, "double_well", (np.array(t.rng.uniform(0.5, 2.0)),), t.rng.standard_normal(d), np.zeros(d), f"taylor_second_order(double well, x0, 0) in R^{d} (the approximation is f(x0))")
    judge_taylor(t, "double_well", (np.array(t.rng.uniform(0.5, 2.0)),), t.rng.standard_normal(1), t.rng.uniform(0.1, 1.0) * t.rng.standard_normal(1), "taylor_second_order(double well, x0, dx) in R^1")


def _cubic(t: Trial) -> tuple[np.ndarray, float]:
    """A random cubic and a mean mu at which E[f(x)] and its gradient are far apart (the missing score shows)."""
    coeffs = t.rng.uniform(-1.0, 1.0, 4)
    coeffs[3] = t.rng.uniform(0.2, 0.5) * t.rng.choice([-1.0, 1.0])
    return coeffs, float(t.rng.uniform(0.3, 1.0) * t.rng.choice([-1.0, 1.0]))


@check("hidden_score_function_gradient", "score_function_gradient of a random cubic, without and with the baseline, then n = 2 and a constant f")
def hidden_score_function_gradient(t: Trial) -> None:
    coeffs, mu = _cubic(t)
    n = t.integer(100_000, 200_000)
    z = t.rng.standard_normal(n)
    what = f"score_function_gradient(cubic with coefficients {np.round(coeffs, 3).tolist()}, mu={mu:.3f}, z) with n = {n}"
    judge_score(t, coeffs, mu, z, False, what)
    judge_score(t, coeffs, mu, z, True, f"{what[:-1]}, baseline=True)")
    few = z[:2]
    for baseline in (False, True):
        judge_score_exact(t, coeffs, mu, few, baseline, f"score_function_gradient(cubic, mu={mu:.3f}, z = {np.round(few, 4).tolist()}, {baseline}) (n = 2)")
    judge_score_exact(t, coeffs[:1], mu, z[:5], True, f"score_function_gradient(f = {coeffs[0]:.3g}, mu={mu:.3f}, 5 draws, True) (a constant f with the baseline: 0)")


@check("hidden_reparameterization_gradient", "reparameterization_gradient of a random cubic, then n = 2 and a constant f")
def hidden_reparameterization_gradient(t: Trial) -> None:
    coeffs, mu = _cubic(t)
    n = t.integer(50_000, 200_000)
    z = t.rng.standard_normal(n)
    judge_reparameterization(t, coeffs, mu, z, f"reparameterization_gradient(cubic with coefficients {np.round(coeffs, 3).tolist()}, mu={mu:.3f}, z) with n = {n}")
    judge_reparameterization_exact(t, coeffs, mu, z[:2], f"reparameterization_gradient(cubic, mu={mu:.3f}, z = {np.round(z[:2], 4).tolist()}) (n = 2)")
    judge_reparameterization_exact(t, coeffs[:1], mu, z[:5], f"reparameterization_gradient(f = {coeffs[0]:.3g}, mu={mu:.3f}, 5 draws) (a constant f: 0)")


@check("hidden_solve_equality_qp", "solve_equality_qp of a random strictly convex QP with random constraints, then Q = c I, an ill-conditioned Q and m = n")
def hidden_solve_equality_qp(t: Trial) -> None:
    n = t.integer(2, 7)
    m = t.integer(1, n - 1)
    q = spd(t.rng, t.rng.uniform(0.3, 4.0, n))
    judge_qp(t, q, t.rng.standard_normal(n), t.rng.standard_normal((m, n)), t.rng.standard_normal(m) + 1.0, f"solve_equality_qp(Q, c, A, b) with n = {n}, m = {m}")
    c = float(t.rng.uniform(0.1, 10.0))
    judge_qp(t, c * np.eye(n), t.rng.standard_normal(n), t.rng.standard_normal((m, n)), t.rng.standard_normal(m) + 1.0, f"solve_equality_qp({c:.6g} I, c, A, b) with n = {n}, m = {m}")
    q = spd(t.rng, np.append([1.0, 1e3], t.rng.uniform(1.0, 1e3, n - 2)))
    judge_qp(t, q, t.rng.standard_normal(n), t.rng.standard_normal((m, n)), t.rng.standard_normal(m) + 1.0, f"solve_equality_qp(Q, c, A, b) with n = {n}, m = {m}, kappa(Q) = 1e3")
    judge_qp(t, q, t.rng.standard_normal(n), t.rng.standard_normal((n, n)), t.rng.standard_normal(n) + 1.0, f"solve_equality_qp(Q, c, A, b) with m = n = {n} (x = A^-1 b)")


@check("hidden_frobenius_norm", "frobenius_norm of a random matrix, then 1 x 1, a row, a column, a rank-one matrix and zeros")
def hidden_frobenius_norm(t: Trial) -> None:
    shape = (t.integer(2, 6), t.integer(2, 6))
    judge_frobenius(t, t.rng.standard_normal(shape), f"frobenius_norm(A) with A of shape {shape}")
    m, n = shape
    for a, what in (
        (t.rng.standard_normal((1, 1)), "1 x 1"),
        (t.rng.standard_normal((1, n)), f"a row (1, {n})"),
        (t.rng.standard_normal((m, 1)), f"a column ({m}, 1)"),
        (np.outer(t.rng.standard_normal(m), t.rng.standard_normal(n)), f"rank one ({m}, {n})"),
        (np.zeros(shape), f"zeros {shape}"),
    ):
        judge_frobenius(t, a, f"frobenius_norm(A) with A {what}")
