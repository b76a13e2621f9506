"""Public checks of the convexity topic: inputs drawn from the trial's rng (the public seed in a student's own run, the
same every run; fresh ones when the course grades); students run these themselves.

The known mistakes of this topic are declared here (hidden checks import them), each with the wrong variant that
reveals it, computed on the grader's own copies of the inputs. Functions handed to student code (f, grad) are trusted
components built in the worker from arrays (autograder/sandbox/components.py): quadratics, a double well, polynomials.
Linear algebra is compared exactly (float64, course tolerances); the Monte Carlo estimators are compared with the
true gradient within 5 standard errors (the CLT) and with the reference on the same draws z.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from autograder.engine.checks import Mistake, StudentError, Trial, check
from autograder.engine.compare import describe
from autograder.reports import plots
from autograder.sandbox import components

COND_SINGULAR_VALUES = Mistake(
    "cond-singular-values",
    "the condition number was computed from singular values (np.linalg.cond, or |eigenvalues|) of a matrix that is not symmetric positive semi-definite",
    "kappa = lambda_max / lambda_min is defined here for symmetric PSD matrices: check symmetry and the sign of the "
    "eigenvalues (np.linalg.eigvalsh) and raise ValueError otherwise; singular values describe a different quantity.",
)
L_MU_SWAPPED = Mistake(
    "l-mu-swapped",
    "L and mu are swapped: L is the largest eigenvalue, mu the smallest",
    "np.linalg.eigvalsh returns eigenvalues in ascending order: L = lam[-1], mu = lam[0].",
)
FIRST_ORDER_REVERSED = Mistake(
    "first-order-reversed",
    "the first-order condition is reversed (Jensen in the wrong direction): a convex f lies ABOVE its tangents",
    "f is convex iff f(y) >= f(x) + grad f(x)^T (y - x); a violation is f(y) < f(x) + grad f(x)^T (y - x) - tol.",
)
STEP_2_OVER_L = Mistake(
    "step-2-over-l",
    "gradient descent uses the step 2/L instead of 1/L",
    "Step 1/L guarantees descent; at 2/L the top eigen-direction of A never shrinks (1 - 2 lambda_max/L = -1), and "
    "above 2/L GD on a quadratic diverges.",
)
TAYLOR_NO_HALF = Mistake(
    "taylor-no-half",
    "the second-order term of the Taylor approximation is missing its 1/2",
    "f(x0 + dx) ~ f(x0) + grad^T dx + 1/2 dx^T H dx: the quadratic term has the factor 1/2! = 1/2.",
)
SCORE_MISSING = Mistake(
    "score-missing",
    "the score-function estimator is missing the score (x - mu): it estimates E[f(x)], not its gradient",
    "d/dmu E[f(x)] = E[f(x) d/dmu log p(x)] = E[f(x) (x - mu)] for N(mu, 1): multiply each f(x_i) by x_i - mu = z_i.",
)
BASELINE_MISSING = Mistake(
    "baseline-missing",
    "baseline=True is ignored: the sample mean of f(x) is not subtracted",
    "With baseline=True, use (f(x_i) - c)(x_i - mu) with c = mean_i f(x_i).",
)
KKT_SIGN = Mistake(
    "kkt-multiplier-sign",
    "the multipliers have the opposite sign: this is the Lagrangian with - nu^T (A x - b)",
    "With L(x, nu) = 1/2 x^T Q x + c^T x + nu^T (A x - b), stationarity is Q x + c + A^T nu = 0: the KKT matrix is "
    "[[Q, A^T], [A, 0]] with right-hand side [-c, b].",
)
NUCLEAR_NORM = Mistake(
    "nuclear-not-frobenius",
    "the singular-value route sums the singular values (the nuclear norm) instead of sqrt(sum sigma_i^2)",
    "||A||_F^2 = tr(A^T A) = sum_i sigma_i^2: square the singular values, sum, take the square root.",
)

SE_FACTOR = 5.0  # Monte Carlo estimates must lie within this many standard errors of the truth


# ---- inputs and wrong variants (grader side) ----------------------------------------------------------------------


def spd(rng: np.random.Generator, eigenvalues: np.ndarray) -> np.ndarray:
    """A random symmetric matrix with these eigenvalues (exactly symmetric: (M + M^T) / 2)."""
    q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    m = q @ np.diag(eigenvalues) @ q.T
    return (m + m.T) / 2


def local(name: str, *params: np.ndarray):
    """The component `name` built here, for the reference."""
    return components.build(name, *params, device="cpu")


def expect_value_error(t: Trial, why: str, fn: str, *args, variants=()) -> None:
    """The student's fn must raise ValueError; a returned value that matches a known mistake names it."""
    try:
        got = t.call(fn, *args)
    except StudentError as exc:
        if exc.not_attempted:
            raise
        if exc.type == "ValueError":
            return
        t.fail(f"{fn}: raised {exc.type} ({exc.text}); expected ValueError: {why}")
    for mistake, value in variants:
        if isinstance(got, np.ndarray) and got.shape == () and np.isclose(got, value, rtol=1e-9, atol=0):
            t.fail(f"{fn}: returned {float(got):.6g} where {why}; expected ValueError; your answer matches a known mistake: {mistake.title}. {mistake.fix}", mistake=mistake)
    t.fail(f"{fn}: returned normally ({describe(got)}); expected ValueError: {why}")


def parts(t: Trial, got, n: int, what: str) -> tuple[np.ndarray, ...]:
    """`got` as a tuple of n arrays, or a failure that says what came back."""
    if not isinstance(got, tuple) or len(got) != n or not all(isinstance(g, np.ndarray) for g in got):
        t.fail(f"{what}: returned {describe(got)}; expected a tuple of {n} arrays or numbers")
    return got


# condition number and smoothness ------------------------------------------------------------------------------------


def judge_condition_number(t: Trial, h: np.ndarray, what: str) -> None:
    t.close(t.call("condition_number", h), np.asarray(t.ref.condition_number(h)), what=what)


def l_mu(got: tuple[np.ndarray, ...]) -> np.ndarray:
    """(L, mu) as the array [L, mu] when both are scalars; otherwise the first part, whose shape the comparison reports."""
    return np.stack([np.asarray(g, dtype=float) for g in got]) if all(g.shape == () for g in got) else got[0]


def judge_smoothness(t: Trial, a: np.ndarray, what: str) -> None:
    L, mu = t.ref.smoothness_and_strong_convexity(a)
    got = parts(t, t.call("smoothness_and_strong_convexity", a), 2, what)
    t.same_kind(got, (L, mu), what=what)
    t.close(l_mu(got), np.array([L, mu]), what=f"{what} as [L, mu]", variants=[(L_MU_SWAPPED, np.array([mu, L]))])


# first-order condition ----------------------------------------------------------------------------------------------


def reversed_search(f, grad, points: np.ndarray, tol: float):
    """The search with the inequality reversed (the mistake): the first pair with f(y) > f(x) + grad(x)^T (y - x) + tol."""
    values = [float(f(p)) for p in points]
    for i, x in enumerate(points):
        g = grad(x)
        for j, y in enumerate(points):
            if j != i and values[j] > values[i] + g @ (y - x) + tol:
                return x, y
    return None


def encode_pair(pair) -> np.ndarray | object:
    """None as an empty array, a pair (x, y) of equal shapes as the stacked (2, d) array; anything else as it is."""
    if pair is None:
        return np.zeros((0,))
    if isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(v, np.ndarray) for v in pair) and pair[0].shape == pair[1].shape:
        return np.stack(pair)
    return pair


def judge_first_order(t: Trial, name: str, params: tuple[np.ndarray, ...], points: np.ndarray, what: str, tol: float | None = None) -> None:
    extra = () if tol is None else (tol,)
    p = t.program()
    f, g = p.component(name, *params), p.component(f"{name}_grad", *params)
    got = p.run(p.call("check_first_order_convexity", f, g, points, *extra))[0]
    fl, gl = local(name, *params), local(f"{name}_grad", *params)
    want = t.ref.check_first_order_convexity(fl, gl, points, *extra)
    wrong = reversed_search(fl, gl, points, 1e-9 if tol is None else tol)
    expected = "None (no violation among these points)" if want is None else f"the pair (points[{_row(points, want[0])}], points[{_row(points, want[1])}])"
    t.same_kind(got, want, what=what)
    t.close(encode_pair(got), encode_pair(want), what=f"{what}: expected {expected}; compared as [x, y] (empty for None)", variants=[(FIRST_ORDER_REVERSED, encode_pair(wrong))])


def _row(points: np.ndarray, x: np.ndarray) -> int:
    return int(np.flatnonzero((points == x).all(axis=1))[0])


def nonconvex_points(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Points in [-1.2, 1.2]^d: the double well with a = 1 is non-convex where some |x_i| < 1/sqrt(3)."""
    return rng.uniform(-1.2, 1.2, (n, d))


# gradient descent ---------------------------------------------------------------------------------------------------


def gd_with_step(a: np.ndarray, b: np.ndarray, x0: np.ndarray, steps: int, eta: float) -> np.ndarray:
    xs = [x0]
    for _ in range(steps):
        xs.append(xs[-1] - eta * (a @ xs[-1] - b))
    return np.stack(xs)


def quadratic_values(a: np.ndarray, b: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """f(x_t) - f* for each row of xs, with f* at x* = A^-1 b (A positive definite)."""
    x_star = np.linalg.solve(a, b)
    e = xs - x_star
    return 0.5 * np.einsum("ti,ij,tj->t", e, a, e)


def judge_gd(t: Trial, a: np.ndarray, b: np.ndarray, x0: np.ndarray, steps: int, what: str, figure: bool = False) -> None:
    """Exact iterates against the reference, then monotone decrease and the (1 - mu/L)^(2T) bound on the student's own.
    `figure`: attach the paths (yours, step 1/L, and 2.2/L, which diverges) with f(x_t) - f*, for a 2-D problem."""
    lam = np.linalg.eigvalsh(a)
    L, mu = lam[-1], lam[0]
    got = t.call("gd_quadratic", a, b, x0, steps)
    want = t.ref.gd_quadratic(a, b, x0, steps)
    variants = [(STEP_2_OVER_L, gd_with_step(a, b, x0, steps, 2.0 / L))]
    if figure:
        paths = {"step 1/L (reference)": want, "step 2.2/L (diverges)": gd_with_step(a, b, x0, steps, 2.2 / L)}
        if isinstance(got, np.ndarray) and got.shape == want.shape and got.dtype.kind == "f":
            paths = {"yours": got, **paths}
        t.figure(plots.trajectory(title=what, series={k: v.tolist() for k, v in paths.items()}, losses={k: quadratic_values(a, b, v).tolist() for k, v in paths.items()}, quadratic=(a, b)))
    t.close(got, want, what=what, variants=variants)
    gap = quadratic_values(a, b, got)
    slack = 1e-9 * gap[0] + 1e-12
    rises = np.flatnonzero(np.diff(gap) > slack)
    if rises.size:
        s = int(rises[0])
        t.fail(f"{what}: f rises from step {s} to {s + 1} ({gap[s]:.6g} -> {gap[s + 1]:.6g} above f*); step 1/L must decrease f at every step")
    bound = (1 - mu / L) ** (2 * np.arange(steps + 1)) * gap[0]
    over = np.flatnonzero(gap > bound + slack)
    if over.size:
        s = int(over[0])
        t.fail(f"{what}: f(x_{s}) - f* = {gap[s]:.6g} exceeds the bound (1 - mu/L)^(2*{s}) (f(x_0) - f*) = {bound[s]:.6g} (L = {L:.4g}, mu = {mu:.4g})")


# Taylor -------------------------------------------------------------------------------------------------------------


def judge_taylor(t: Trial, name: str, params: tuple[np.ndarray, ...], x0: np.ndarray, dx: np.ndarray, what: str, exact: bool = False) -> None:
    p = t.program()
    f = p.component(name, *params)
    got = parts(t, p.run(p.call("taylor_second_order", f, t.tensor(x0), t.tensor(dx)))[0], 4, what)
    value, grad, hess, approx = t.ref.taylor_second_order(local(name, *params), torch.tensor(x0), torch.tensor(dx))  # tensors, as asked
    no_half = value.numpy() + grad.numpy() @ dx + dx @ hess.numpy() @ dx
    for label, g, w in (("the value f(x0)", got[0], value), ("the gradient", got[1], grad), ("the Hessian", got[2], hess)):
        t.close(g, w, what=f"{what}: {label}")
    t.close(got[3], approx, what=f"{what}: the approximation f(x0) + g^T dx + 1/2 dx^T H dx", variants=[(TAYLOR_NO_HALF, no_half)])
    if exact:  # a quadratic equals its second-order expansion (the numbers alone: its kind was judged above)
        t.close(np.asarray(got[3]), np.asarray(local(name, *params)(x0 + dx)), what=f"{what}: the approximation of a quadratic must equal f(x0 + dx)", rtol=1e-9, atol=1e-9)


# Monte Carlo estimators ----------------------------------------------------------------------------------------------


def gaussian_moment(k: int, mu: float) -> float:
    """E[(mu + z)^k] for z ~ N(0, 1): sum over even j of C(k, j) mu^(k-j) (j-1)!!."""
    return sum(math.comb(k, j) * mu ** (k - j) * math.prod(range(j - 1, 0, -2)) for j in range(0, k + 1, 2))


def true_gradient(coeffs: np.ndarray, mu: float) -> float:
    """d/dmu E_{N(mu,1)}[p(x)] = E[p'(x)] for the polynomial p with these coefficients (c_0 first)."""
    return sum(k * c * gaussian_moment(k - 1, mu) for k, c in enumerate(coeffs) if k)


def judge_estimate(t: Trial, got, want: float, truth: float, terms: np.ndarray, what: str, variants=()) -> None:
    """Within SE_FACTOR standard errors of the truth (the standard error from the per-sample terms), then the reference
    on the same z exactly."""
    se = float(np.std(terms, ddof=1) / np.sqrt(len(terms)))
    if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind == "f" and abs(float(got) - truth) > SE_FACTOR * se:
        off = f"{what}: the estimate {float(got):.6g} is {abs(float(got) - truth) / se:.1f} standard errors (SE {se:.3g}) from the true gradient {truth:.6g}"
        for mistake, value in variants:
            if np.isclose(got, value, rtol=1e-9, atol=1e-12):
                t.fail(f"{off}; your answer matches a known mistake: {mistake.title}. {mistake.fix}", mistake=mistake)
        t.fail(f"{off}; more than {SE_FACTOR:g} is not chance")
    t.close(got, np.asarray(want), what=f"{what} against the reference on the same z (true gradient {truth:.6g}, SE {se:.3g})", variants=[(m, np.asarray(v)) for m, v in variants])


def judge_score(t: Trial, coeffs: np.ndarray, mu: float, z: np.ndarray, baseline: bool, what: str) -> None:
    p = t.program()
    f = p.component("polynomial", coeffs)
    got = p.run(p.call("score_function_gradient", f, mu, z, *((True,) if baseline else ())))[0]  # the default is baseline=False
    fl = local("polynomial", coeffs)
    fx = fl(mu + z)
    want = t.ref.score_function_gradient(fl, mu, z, baseline)
    c = fx.mean() if baseline else 0.0
    variants = [(SCORE_MISSING, float(np.mean(fx - c)))]
    if baseline:
        variants.append((BASELINE_MISSING, t.ref.score_function_gradient(fl, mu, z, False)))
    judge_estimate(t, got, want, true_gradient(coeffs, mu), (fx - c) * z, what, variants)


def judge_reparameterization(t: Trial, coeffs: np.ndarray, mu: float, z: np.ndarray, what: str) -> None:
    p = t.program()
    f = p.component("polynomial", coeffs)
    got = p.run(p.call("reparameterization_gradient", f, mu, z))[0]
    fl = local("polynomial", coeffs)
    want = t.ref.reparameterization_gradient(fl, mu, z)
    derivative = np.polynomial.polynomial.polyder(coeffs) if len(coeffs) > 1 else np.zeros(1)
    terms = np.polynomial.polynomial.polyval(mu + z, derivative)
    judge_estimate(t, got, want, true_gradient(coeffs, mu), terms, what, [(SCORE_MISSING, float(np.mean(fl(mu + z))))])


# quadratic programme and Frobenius norm -----------------------------------------------------------------------------


def judge_qp(t: Trial, q: np.ndarray, c: np.ndarray, a: np.ndarray, b: np.ndarray, what: str) -> None:
    """Feasibility and stationarity on the student's own answer, then the reference (naming the sign mistake)."""
    x, nu = parts(t, t.call("solve_equality_qp", q, c, a, b), 2, what)
    want_x, want_nu = t.ref.solve_equality_qp(q, c, a, b)
    t.close(x, want_x, what=f"{what}: x")
    if x.shape == want_x.shape and nu.shape == want_nu.shape:
        scale = np.abs(q).max() * np.abs(x).max() + np.abs(c).max()
        residual = np.abs(q @ x + c + a.T @ nu).max()
        if residual > 1e-8 * scale:
            if np.allclose(nu, -want_nu, rtol=1e-9, atol=1e-11):
                t.fail(f"{what}: Q x + c + A^T nu is {residual:.3g}, not 0; your answer matches a known mistake: {KKT_SIGN.title}. {KKT_SIGN.fix}", mistake=KKT_SIGN)
            t.fail(f"{what}: stationarity fails: max |Q x + c + A^T nu| = {residual:.3g}")
    t.close(nu, want_nu, what=f"{what}: nu", variants=[(KKT_SIGN, -want_nu)])


def judge_frobenius(t: Trial, a: np.ndarray, what: str) -> None:
    want = t.ref.frobenius_norm(a)
    sigma = np.linalg.svd(a, compute_uv=False)
    exact = np.full(3, np.linalg.norm(a, "fro"))
    t.close(t.call("frobenius_norm", a), exact, what=f"{what} as [by entries, by trace, by singular values], against np.linalg.norm(A, 'fro')", variants=[(NUCLEAR_NORM, np.array([want[0], want[1], sigma.sum()]))])


# ---- the public checks ------------------------------------------------------------------------------------------


@check("condition_number", "condition_number: a diagonal matrix in closed form, then a random SPD matrix with known eigenvalues")
def condition_number(t: Trial) -> None:
    t.close(t.call("condition_number", np.diag([4.0, 0.5, 2.0])), np.asarray(8.0), what="condition_number(diag(4, 0.5, 2)) (expected 4 / 0.5 = 8)")
    lam = np.array([1.5, 2.0, 7.0, 30.0])
    h = spd(t.rng, lam)
    t.close(t.call("condition_number", h), np.asarray(20.0), what="condition_number(Q diag(1.5, 2, 7, 30) Q^T) (expected 30 / 1.5 = 20)", rtol=1e-9)
    judge_condition_number(t, spd(t.rng, t.rng.uniform(0.5, 10.0, 6)), "condition_number(H) with a random SPD H of shape (6, 6)")


@check("smoothness_and_strong_convexity", "smoothness_and_strong_convexity: (L, mu) of quadratics with known spectra")
def smoothness_and_strong_convexity(t: Trial) -> None:
    a = spd(t.rng, np.array([0.25, 1.0, 4.0]))
    got = parts(t, t.call("smoothness_and_strong_convexity", a), 2, "smoothness_and_strong_convexity(A)")
    t.close(l_mu(got), np.array([4.0, 0.25]), what="smoothness_and_strong_convexity(Q diag(0.25, 1, 4) Q^T) as [L, mu] (expected [4, 0.25])", rtol=1e-9, variants=[(L_MU_SWAPPED, np.array([0.25, 4.0]))])
    judge_smoothness(t, spd(t.rng, t.rng.uniform(0.1, 5.0, 5)), "smoothness_and_strong_convexity(A) with a random SPD A of shape (5, 5)")


@check("first_order_convexity", "check_first_order_convexity: None for convex quadratics, the first violating pair for non-convex functions")
def first_order_convexity(t: Trial) -> None:
    pts = t.rng.standard_normal((5, 3))
    a = spd(t.rng, np.array([0.5, 1.0, 3.0]))
    judge_first_order(t, "quadratic", (a, t.rng.standard_normal(3)), pts, "check_first_order_convexity(convex quadratic, 5 points in R^3)")
    a = spd(t.rng, np.array([-2.0, 1.0, 3.0]))
    judge_first_order(t, "quadratic", (a, t.rng.standard_normal(3)), t.rng.standard_normal((6, 3)), "check_first_order_convexity(indefinite quadratic, 6 points in R^3)")
    judge_first_order(t, "double_well", (np.array(1.0),), nonconvex_points(t.rng, 6, 2), "check_first_order_convexity(double well sum(x^4/4 - x^2/2), 6 points in R^2)")


@check("gd_quadratic", "gd_quadratic: the iterates with step 1/L, monotone decrease and the (1 - mu/L)^(2T) bound")
def gd_quadratic(t: Trial) -> None:
    a = spd(t.rng, np.array([0.5, 1.0, 2.0, 5.0]))
    judge_gd(t, a, t.rng.standard_normal(4), 3 * t.rng.standard_normal(4), 25, "gd_quadratic(A, b, x0, 25) with eigenvalues of A 0.5, 1, 2, 5")
    judge_gd(t, np.diag([2.0, 1.0]), np.array([2.0, 1.0]), np.zeros(2), 4, "gd_quadratic(diag(2, 1), [2, 1], [0, 0], 4) (L = 2: x_1 = [1, 0.5])", figure=True)


@check("taylor_second_order", "taylor_second_order: exact for a quadratic, the double well against the reference")
def taylor_second_order(t: Trial) -> None:
    a, b = spd(t.rng, np.array([-1.0, 0.5, 2.0])), t.rng.standard_normal(3)
    judge_taylor(t, "quadratic", (a, b), t.rng.standard_normal(3), t.rng.standard_normal(3), "taylor_second_order(quadratic, x0, dx) in R^3", exact=True)
    judge_taylor(t, "double_well", (np.array(1.5),), t.rng.standard_normal(4), 0.3 * t.rng.standard_normal(4), "taylor_second_order(double well, x0, dx) in R^4")


@check("score_function_gradient", "score_function_gradient of E[x^2] under N(mu, 1): within 5 standard errors of 2 mu, and the reference on the same z")
def score_function_gradient(t: Trial) -> None:
    z = t.rng.standard_normal(200_000)
    judge_score(t, np.array([0.0, 0.0, 1.0]), -0.5, z, False, "score_function_gradient(x^2, mu=-0.5, z) with n = 2e5")
    judge_score(t, np.array([0.0, 0.0, 1.0]), 0.8, z, True, "score_function_gradient(x^2, mu=0.8, z, baseline=True) with n = 2e5")


@check("reparameterization_gradient", "reparameterization_gradient of E[x^2] and a cubic under N(mu, 1): within 5 standard errors, and the reference")
def reparameterization_gradient(t: Trial) -> None:
    z = t.rng.standard_normal(200_000)
    judge_reparameterization(t, np.array([0.0, 0.0, 1.0]), 0.8, z, "reparameterization_gradient(x^2, mu=0.8, z) with n = 2e5")
    judge_reparameterization(t, np.array([1.0, -2.0, 0.5, 0.3]), -1.2, z[:50_000], "reparameterization_gradient(1 - 2x + 0.5x^2 + 0.3x^3, mu=-1.2, z) with n = 5e4")


@check("solve_equality_qp", "solve_equality_qp: feasibility, stationarity and the reference's (x, nu)")
def solve_equality_qp(t: Trial) -> None:
    x, nu = np.array([0.5, 0.5]), np.array([-0.5])
    got = parts(t, t.call("solve_equality_qp", np.eye(2), np.zeros(2), np.array([[1.0, 1.0]]), np.array([1.0])), 2, "solve_equality_qp(I, 0, [[1, 1]], [1])")
    what = "solve_equality_qp(I, 0, [[1, 1]], [1]) (the point of x1 + x2 = 1 closest to 0)"
    t.close(got[0], x, what=f"{what}: x (expected [0.5, 0.5])")
    t.close(got[1], nu, what=f"{what}: nu (expected [-0.5], from x + A^T nu = 0)", variants=[(KKT_SIGN, -nu)])
    q = spd(t.rng, t.rng.uniform(0.5, 3.0, 5))
    judge_qp(t, q, t.rng.standard_normal(5), t.rng.standard_normal((2, 5)), t.rng.standard_normal(2), "solve_equality_qp(Q, c, A, b) with n = 5, m = 2")


@check("frobenius_norm", "frobenius_norm three ways against np.linalg.norm(A, 'fro')")
def frobenius_norm(t: Trial) -> None:
    t.close(t.call("frobenius_norm", np.array([[3.0, 0.0], [0.0, -4.0]])), np.full(3, 5.0), what="frobenius_norm([[3, 0], [0, -4]]) (expected 5 three times)", variants=[(NUCLEAR_NORM, np.array([5.0, 5.0, 7.0]))])
    judge_frobenius(t, t.rng.standard_normal((3, 5)), "frobenius_norm(A) with A of shape (3, 5)")


# ---- contracts: edge cases and each documented limit from both sides --------------------------------------------


def permuted_diagonal(t: Trial, values: np.ndarray) -> np.ndarray:
    """diag(values) in a random order: eigvalsh returns its entries exactly (a rotated one would blur a 0 to +-1e-16)."""
    return np.diag(t.rng.permutation(values))


@check("condition_number_contract", "condition_number: ValueError for non-symmetric or indefinite H (singular values are not the answer); inf when singular; tolerances straddled")
def condition_number_contract(t: Trial) -> None:
    d = int(t.rng.integers(2, 5))
    h = spd(t.rng, t.rng.uniform(0.5, 3.0, d))
    h[0, 1] += t.rng.uniform(0.5, 2.0)
    expect_value_error(t, f"a random H of shape {h.shape} with H[0, 1] != H[1, 0] is not symmetric", "condition_number", h, variants=[(COND_SINGULAR_VALUES, np.linalg.cond(h))])
    lam = t.rng.uniform(0.5, 3.0, d)
    lam[0] = -t.rng.uniform(0.5, 2.0)
    h = spd(t.rng, lam)
    expect_value_error(t, f"a random symmetric H of shape {h.shape} is indefinite (an eigenvalue {lam[0]:.3g})", "condition_number", h, variants=[(COND_SINGULAR_VALUES, np.linalg.cond(h))])
    c = float(t.rng.uniform(0.1, 5.0))
    t.close(t.call("condition_number", c * np.eye(d)), np.asarray(1.0), what=f"condition_number({c:.6g} I) (expected 1)")
    t.close(t.call("condition_number", np.array([[c]])), np.asarray(1.0), what=f"condition_number([[{c:.6g}]]) (expected 1)")
    c = 2.0 ** int(t.rng.integers(-3, 4))  # a power of 2: the zero eigenvalue stays exactly 0
    t.close(t.call("condition_number", c * np.ones((2, 2))), np.asarray(np.inf), what=f"condition_number([[{c:g}, {c:g}], [{c:g}, {c:g}]]) (singular: expected inf)")
    t.close(t.call("condition_number", np.zeros((d, d))), np.asarray(np.inf), what=f"condition_number(zeros {(d, d)}) (symmetric, PSD, singular: expected inf)")
    # lambda_min straddles -1e-10 lambda_max: within it (PSD, singular: inf), then past it by less than twice
    # (ValueError), so a tolerance doubled or negated shows; lambda_max >= 20, so one divided by it instead shows too.
    top = float(t.rng.uniform(20.0, 60.0))
    for share, accepted in ((t.rng.uniform(0.2, 0.9), True), (t.rng.uniform(1.2, 1.8), False)):
        h = permuted_diagonal(t, np.array([top, t.rng.uniform(0.1, top), -share * 1e-10 * top]))
        what = f"diag of {np.diag(h).tolist()}: lambda_min = {share:.2f} x -1e-10 lambda_max"
        if accepted:
            t.close(t.call("condition_number", h), np.asarray(np.inf), what=f"condition_number({what}) (PSD within tolerance, singular: expected inf)")
        else:
            expect_value_error(t, f"{what} is past -1e-10 lambda_max", "condition_number", h)
    # max |H - H^T| straddles 1e-10 max |H| (accepted, then ValueError), the same way; max |H| >= lambda_max / d >= 5.
    for share, accepted in ((t.rng.uniform(0.2, 0.9), True), (t.rng.uniform(1.2, 1.8), False)):
        h = spd(t.rng, t.rng.uniform(20.0, 60.0, d))
        h[1, 0] += share * 1e-10 * np.abs(h).max()
        what = f"a random H of shape {h.shape} with max |H - H^T| = {share:.2f}e-10 max |H|"
        if accepted:
            t.close(t.call("condition_number", h), np.asarray(t.ref.condition_number(h)), what=f"condition_number({what}) (accepted)")
        else:
            expect_value_error(t, what, "condition_number", h)
    with_nan = spd(t.rng, t.rng.uniform(0.5, 3.0, d))
    with_nan[tuple(t.rng.integers(d, size=2))] = np.nan
    bad = ((np.ones((d, d + 1)), f"H of shape {(d, d + 1)} is not square"), (np.ones((1, d)), f"H of shape {(1, d)} is not square"), (np.ones(d), "H is 1-D"), (np.zeros((0, 0)), "H is empty"), (with_nan, "H has a NaN entry"))
    for i in t.rng.permutation(len(bad)):
        expect_value_error(t, bad[i][1], "condition_number", bad[i][0])


@check("smoothness_and_strong_convexity_contract", "smoothness_and_strong_convexity: mu = 0 for a singular A, d = 1; ValueError for non-symmetric or indefinite A")
def smoothness_and_strong_convexity_contract(t: Trial) -> None:
    c, d = 2.0 ** int(t.rng.integers(-3, 4)), int(t.rng.integers(2, 5))  # c: the zero eigenvalue stays exactly 0
    what = f"smoothness_and_strong_convexity([[{c:g}, {c:g}], [{c:g}, {c:g}]])"
    got = parts(t, t.call("smoothness_and_strong_convexity", c * np.ones((2, 2))), 2, what)
    t.close(l_mu(got), np.array([2 * c, 0.0]), what=f"{what} as [L, mu] (expected [{2 * c:g}, 0])", variants=[(L_MU_SWAPPED, np.array([0.0, 2 * c]))])
    a = float(t.rng.uniform(0.1, 5.0))
    judge_smoothness(t, np.array([[a]]), f"smoothness_and_strong_convexity([[{a:.6g}]])")
    asymmetric = spd(t.rng, t.rng.uniform(0.5, 3.0, d))
    asymmetric[0, 1] += t.rng.uniform(0.5, 2.0)
    indefinite = permuted_diagonal(t, np.append(t.rng.uniform(0.5, 3.0, d - 1), -t.rng.uniform(0.1, 1.0)))
    bad = ((asymmetric, "A is not symmetric"), (indefinite, "A is indefinite"), (np.ones((d + 1, d)), "A is not square"))
    for i in t.rng.permutation(len(bad)):
        expect_value_error(t, bad[i][1], "smoothness_and_strong_convexity", bad[i][0])


@check("check_first_order_convexity_contract", "check_first_order_convexity: the documented search order, tol straddled, affine f; ValueError for bad points or tol")
def check_first_order_convexity_contract(t: Trial) -> None:
    # f(x) = -x^2 in 1-D: every ordered pair violates; the first is (points[0], points[1]).
    pts = np.array([[0.3], [-1.0], [2.0]])
    judge_first_order(t, "quadratic", (np.array([[-2.0]]), np.zeros(1)), pts, "check_first_order_convexity(-x^2, points [0.3, -1, 2]) (every pair violates)")
    # f(x) = x^2 - 3 x1^2 with points where only later pairs violate.
    a = np.diag([2.0, -1.0])
    judge_first_order(t, "quadratic", (a, np.zeros(2)), np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.5], [0.0, -0.5]]), "check_first_order_convexity(x0^2 - x1^2/2, 4 points)")
    # Exactly on the tangent plane: affine f (A = 0) never violates.
    judge_first_order(t, "quadratic", (np.zeros((3, 3)), t.rng.standard_normal(3)), t.rng.standard_normal((4, 3)), "check_first_order_convexity(affine f, 4 points) (no violation)")
    # 1/2 a (y - x)^2 with a = -3e-9, points 1 apart: below the tangent by 1.5e-9; with a = -1e-9 by 0.5e-9.
    two = np.array([[0.0], [1.0]])
    judge_first_order(t, "quadratic", (np.array([[-3e-9]]), np.zeros(1)), two, "check_first_order_convexity(-1.5e-9 x^2, points [0, 1]) (1.5e-9 below the tangent: a violation at tol = 1e-9)")
    judge_first_order(t, "quadratic", (np.array([[-1e-9]]), np.zeros(1)), two, "check_first_order_convexity(-0.5e-9 x^2, points [0, 1]) (0.5e-9 below the tangent: within tol = 1e-9)")
    judge_first_order(t, "quadratic", (np.array([[-3e-9]]), np.zeros(1)), two, "check_first_order_convexity(-1.5e-9 x^2, points [0, 1], tol=2e-9) (within tol)", tol=2e-9)
    judge_first_order(t, "quadratic", (np.array([[1.0]]), np.zeros(1)), two, "check_first_order_convexity(x^2/2, points [0, 1], tol=0.0)", tol=0.0)
    # Affine with integer data: f(y) = f(x) + grad^T (y - x) exactly, which is no violation, even at tol = 0.
    judge_first_order(t, "quadratic", (np.zeros((2, 2)), np.array([1.0, -2.0])), np.array([[0.0, 1.0], [2.0, -1.0], [3.0, 3.0]]), "check_first_order_convexity(affine f = x1 - 2 x0 ... with integer points, tol=0.0) (equality is no violation)", tol=0.0)
    for args, why in (
        ((np.array([[0.5]]),), "one point: no pair"),
        ((np.array([0.0, 1.0, 2.0]),), "points is 1-D, not (n, d)"),
        ((np.array([[0.0], [np.inf]]),), "points has an inf"),
        ((two, -1e-9), "tol < 0"),
    ):
        p = t.program()
        f, g = p.component("quadratic", np.eye(1), np.zeros(1)), p.component("quadratic_grad", np.eye(1), np.zeros(1))
        try:
            got = p.run(p.call("check_first_order_convexity", f, g, *args))[0]
        except StudentError as exc:
            if exc.not_attempted:
                raise
            if exc.type == "ValueError":
                continue
            t.fail(f"check_first_order_convexity: raised {exc.type} ({exc.text}); expected ValueError: {why}")
        t.fail(f"check_first_order_convexity: returned {describe(got)}; expected ValueError: {why}")


@check("gd_quadratic_contract", "gd_quadratic: steps = 0, d = 1, x0 at the minimiser; ValueError for bad A, shapes and steps")
def gd_quadratic_contract(t: Trial) -> None:
    a = spd(t.rng, np.array([1.0, 3.0]))
    b, x0 = t.rng.standard_normal(2), t.rng.standard_normal(2)
    t.close(t.call("gd_quadratic", a, b, x0, 0), x0[None, :], what="gd_quadratic(A, b, x0, 0) (expected [x0], shape (1, 2))")
    judge_gd(t, np.array([[4.0]]), np.array([2.0]), np.array([3.0]), 3, "gd_quadratic([[4]], [2], [3], 3) (d = 1, L = 4: one step lands on 0.5)")
    judge_gd(t, spd(t.rng, np.array([0.1, 0.4, 0.6])), t.rng.standard_normal(3), t.rng.standard_normal(3), 5, "gd_quadratic(A, b, x0, 5) with eigenvalues of A 0.1, 0.4, 0.6 (L < 1)")
    x_star = np.linalg.solve(a, b)
    t.close(t.call("gd_quadratic", a, b, x_star, 3), np.tile(x_star, (4, 1)), what="gd_quadratic(A, b, A^-1 b, 3) (starting at the minimiser: it stays)", rtol=1e-9, atol=1e-12)
    for args, why in (
        ((np.zeros((2, 2)), b, x0, 3), "A = 0: L = 0"),
        ((np.array([[1.0, 0.5], [0.0, 1.0]]), b, x0, 3), "A is not symmetric"),
        ((np.diag([1.0, -1.0]), b, x0, 3), "A is indefinite"),
        ((a, np.zeros(3), x0, 3), "b has shape (3,), A is (2, 2)"),
        ((a, b, np.zeros((2, 1)), 3), "x0 has shape (2, 1)"),
        ((a, b, x0, -1), "steps = -1"),
        ((a, b, x0, 2.5), "steps = 2.5 is not an integer"),
    ):
        expect_value_error(t, why, "gd_quadratic", *args)


@check("taylor_second_order_contract", "taylor_second_order: d = 1, dx = 0; ValueError for x0 not 1-D or dx of another shape")
def taylor_second_order_contract(t: Trial) -> None:
    # d = 1 at |x0| >= 0.9, where the curvature 3 x0^2 - a >= 0.9: the missing 1/2 shows.
    a, x0, dx = float(t.rng.uniform(0.5, 1.5)), float(t.rng.choice([-1.0, 1.0]) * t.rng.uniform(0.9, 1.5)), float(t.rng.uniform(0.1, 0.5))
    judge_taylor(t, "double_well", (np.array(a),), np.array([x0]), np.array([-dx]), f"taylor_second_order(double well a = {a:.6g}, [{x0:.6g}], [{-dx:.6g}]) (d = 1)")
    d = int(t.rng.integers(2, 5))
    judge_taylor(t, "double_well", (np.array(a),), t.rng.uniform(-1.5, 1.5, d), np.zeros(d), "taylor_second_order(double well, x0, 0) (the approximation is f(x0))")
    for x0, dx, why in (
        (t.rng.standard_normal((d, 2)), t.rng.standard_normal((d, 2)), "x0 is 2-D"),
        (t.rng.standard_normal(d + 1), t.rng.standard_normal(d), f"dx has shape ({d},), x0 ({d + 1},)"),
        (np.zeros(0), np.zeros(0), "x0 is empty"),
    ):
        p = t.program()
        f = p.component("double_well", np.array(a))
        try:
            got = p.run(p.call("taylor_second_order", f, t.tensor(x0), t.tensor(dx)))[0]
        except StudentError as exc:
            if exc.not_attempted:
                raise
            if exc.type == "ValueError":
                continue
            t.fail(f"taylor_second_order: raised {exc.type} ({exc.text}); expected ValueError: {why}")
        t.fail(f"taylor_second_order: returned {describe(got)}; expected ValueError: {why}")


def _estimator_errors(t: Trial, fn: str) -> None:
    for mu, z, why in (
        (0.5, t.rng.standard_normal((10, 2)), "z is 2-D"),
        (0.5, np.array([0.3]), "z holds one draw (n >= 2)"),
        (float("nan"), t.rng.standard_normal(10), "mu is NaN"),
        (np.array([0.5, 0.5]), t.rng.standard_normal(10), "mu has shape (2,), not a scalar"),
        (0.5, np.array([0.1, np.inf, 0.2]), "z has an inf"),
    ):
        p = t.program()
        f = p.component("polynomial", np.array([0.0, 0.0, 1.0]))
        try:
            got = p.run(p.call(fn, f, mu, z))[0]
        except StudentError as exc:
            if exc.not_attempted:
                raise
            if exc.type == "ValueError":
                continue
            t.fail(f"{fn}: raised {exc.type} ({exc.text}); expected ValueError: {why}")
        t.fail(f"{fn}: returned {describe(got)}; expected ValueError: {why}")


def judge_score_exact(t: Trial, coeffs: np.ndarray, mu: float, z: np.ndarray, baseline: bool, what: str) -> None:
    """The reference on the same few draws z, exactly: no Monte Carlo tolerance (n is too small for one)."""
    p = t.program()
    got = p.run(p.call("score_function_gradient", p.component("polynomial", coeffs), mu, z, baseline))[0]
    fl = local("polynomial", coeffs)
    fx = fl(mu + z)
    variants = [(SCORE_MISSING, np.asarray(np.mean(fx - (fx.mean() if baseline else 0.0))))]
    if baseline:
        variants.append((BASELINE_MISSING, np.asarray(t.ref.score_function_gradient(fl, mu, z))))
    t.close(got, np.asarray(t.ref.score_function_gradient(fl, mu, z, baseline)), what=what, variants=variants, atol=1e-12)


def judge_reparameterization_exact(t: Trial, coeffs: np.ndarray, mu: float, z: np.ndarray, what: str) -> None:
    p = t.program()
    got = p.run(p.call("reparameterization_gradient", p.component("polynomial", coeffs), mu, z))[0]
    fl = local("polynomial", coeffs)
    t.close(got, np.asarray(t.ref.reparameterization_gradient(fl, mu, z)), what=what, variants=[(SCORE_MISSING, np.asarray(np.mean(fl(mu + z))))], atol=1e-12)


@check("score_function_gradient_contract", "score_function_gradient: n = 2, a constant f (0 with the baseline); ValueError for bad mu or z")
def score_function_gradient_contract(t: Trial) -> None:
    z = np.array([-0.4, 1.3])
    for coeffs, baseline, why in ((np.array([0.0, 1.0, 2.0]), False, "n = 2"), (np.array([0.0, 1.0, 2.0]), True, "n = 2, baseline"), (np.array([3.0]), True, "f = 3: the baseline makes every term 0")):
        judge_score_exact(t, coeffs, 0.25, z, baseline, f"score_function_gradient(p, 0.25, z = [-0.4, 1.3], {baseline}) ({why})")
    _estimator_errors(t, "score_function_gradient")


@check("reparameterization_gradient_contract", "reparameterization_gradient: n = 2, a constant f (0); ValueError for bad mu or z")
def reparameterization_gradient_contract(t: Trial) -> None:
    z = np.array([-0.4, 1.3])
    for coeffs in (np.array([0.0, 1.0, 2.0]), np.array([3.0])):
        judge_reparameterization_exact(t, coeffs, 0.25, z, f"reparameterization_gradient(p with coefficients {coeffs.tolist()}, 0.25, [-0.4, 1.3])")
    _estimator_errors(t, "reparameterization_gradient")


@check("solve_equality_qp_contract", "solve_equality_qp: m = n, Q singular but definite on the null space of A; ValueError for bad shapes, asymmetric Q, a singular KKT matrix")
def solve_equality_qp_contract(t: Trial) -> None:
    q = spd(t.rng, np.array([1.0, 2.0, 4.0]))
    a, b = t.rng.standard_normal((3, 3)), t.rng.standard_normal(3)
    judge_qp(t, q, t.rng.standard_normal(3), a, b, "solve_equality_qp(Q, c, A, b) with m = n = 3 (x = A^-1 b)")
    judge_qp(t, np.diag([1.0, 0.0]), np.array([0.5, -1.0]), np.array([[0.0, 1.0]]), np.array([2.0]), "solve_equality_qp(diag(1, 0), [0.5, -1], [[0, 1]], [2]) (Q singular, definite on A's null space)")
    c2, a2, b2 = np.zeros(3), t.rng.standard_normal((2, 3)), np.zeros(2)
    for args, why in (
        ((q, c2, np.vstack([a2[0], a2[0]]), b2), "A has two equal rows (no full row rank): the KKT matrix is singular"),
        ((q, c2, t.rng.standard_normal((4, 3)), np.zeros(4)), "A has more rows (4) than columns (3)"),
        ((q + np.triu(np.ones((3, 3)), 1), c2, a2, b2), "Q is not symmetric"),
        ((q, np.zeros(2), a2, b2), "c has shape (2,), Q is (3, 3)"),
        ((q, c2, a2, np.zeros(3)), "b has shape (3,), A has 2 rows"),
        ((q, c2, t.rng.standard_normal((2, 4)), b2), "A has 4 columns, Q is (3, 3)"),
    ):
        expect_value_error(t, why, "solve_equality_qp", *args)


@check("frobenius_norm_contract", "frobenius_norm: 1 x 1, a column, zeros; ValueError for arrays that are not non-empty matrices")
def frobenius_norm_contract(t: Trial) -> None:
    t.close(t.call("frobenius_norm", np.array([[-2.5]])), np.full(3, 2.5), what="frobenius_norm([[-2.5]]) (expected 2.5 three times)")
    judge_frobenius(t, t.rng.standard_normal((4, 1)), "frobenius_norm(A) with A of shape (4, 1)")
    t.close(t.call("frobenius_norm", np.zeros((2, 3))), np.zeros(3), what="frobenius_norm(zeros (2, 3))")
    for bad, why in ((np.ones(3), "A is 1-D"), (np.ones((2, 2, 2)), "A is 3-D"), (np.zeros((0, 3)), "A is empty"), (np.array([[1.0, np.nan]]), "A has a NaN")):
        expect_value_error(t, why, "frobenius_norm", bad)
