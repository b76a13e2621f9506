"""The convexity topic end to end: reference, stub, every known mistake, and the reference itself against numpy's
linear algebra, torch.autograd.functional and a brute-force solution of the constrained problem."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from autograder.engine.results import PASSED
from autograder.sandbox import components
from checks.public.convexity import gaussian_moment, spd, true_gradient
from solutions import convexity as ref

from conftest import ROOT, grade_source, wrapped
from mistakes import known_mistakes

TOPIC = "convexity"
REFERENCE = (ROOT / "solutions" / f"{TOPIC}.py").read_text()


KNOWN = known_mistakes(TOPIC)


def test_estimator_messages_state_estimate_standard_error_and_truth(grader):
    result = grade_source(grader, KNOWN["score_missing"].source, TOPIC)
    message = next(c.message for c in result.checks if c.id == "score_function_gradient")
    # The numbers depend on the inputs, which the course's secret draws afresh: their form and size are the contract.
    found = re.match(r"score_function_gradient\(x\^2, mu=-0.5, z\) with n = 2e5: the estimate (\S+) is (\S+) standard errors \(SE (\S+)\) from the true gradient -1\b", message)
    assert found, message
    estimate, distance, se = map(float, found.groups())
    assert abs(estimate - 1.25) < 0.05 and 0.009 < se < 0.011 and abs(distance - abs(estimate + 1) / se) < 0.1
    assert "missing the score (x - mu)" in message


def test_step_2_over_l_message_explains_divergence(grader):
    result = grade_source(grader, KNOWN["step_2_over_l"].source, TOPIC)
    message = next(c.message for c in result.checks if c.id == "gd_quadratic")
    assert "step 2/L instead of 1/L" in message and "above 2/L GD on a quadratic diverges" in message


# ---- the reference against independent computations --------------------------------------------------------------

RNG = np.random.default_rng(0)


def test_reference_condition_number_and_smoothness_match_numpy():
    h = spd(RNG, RNG.uniform(0.2, 9.0, 6))
    np.testing.assert_allclose(ref.condition_number(h), np.linalg.cond(h), rtol=1e-10)  # singular values = eigenvalues here
    L, mu = ref.smoothness_and_strong_convexity(h)
    s = np.linalg.svd(h, compute_uv=False)
    np.testing.assert_allclose([L, mu], [s.max(), s.min()], rtol=1e-10)
    assert ref.condition_number(np.ones((3, 3))) == np.inf


def test_reference_first_order_search_matches_brute_force():
    a = spd(RNG, np.array([-1.0, 0.5, 2.0]))
    f, g = components.build("quadratic", a, np.zeros(3), device="cpu"), components.build("quadratic_grad", a, np.zeros(3), device="cpu")
    pts = RNG.standard_normal((6, 3))
    pairs = [(i, j) for i in range(6) for j in range(6) if i != j and 0.5 * (pts[j] - pts[i]) @ a @ (pts[j] - pts[i]) < -1e-9]
    x, y = ref.check_first_order_convexity(f, g, pts)
    i, j = pairs[0]
    np.testing.assert_array_equal(np.stack([x, y]), pts[[i, j]])
    convex = spd(RNG, np.array([0.1, 1.0, 2.0]))
    assert ref.check_first_order_convexity(components.build("quadratic", convex, np.ones(3), device="cpu"), components.build("quadratic_grad", convex, np.ones(3), device="cpu"), pts) is None


def test_reference_gd_matches_closed_form_and_torch_sgd():
    a = spd(RNG, np.array([0.5, 2.0, 4.0]))
    b, x0 = RNG.standard_normal(3), RNG.standard_normal(3)
    xs = ref.gd_quadratic(a, b, x0, 10)
    x_star = np.linalg.solve(a, b)
    m = np.eye(3) - a / 4.0  # the error contracts by I - A/L each step
    np.testing.assert_allclose(xs[10] - x_star, np.linalg.matrix_power(m, 10) @ (x0 - x_star), rtol=1e-9, atol=1e-12)
    p = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.25)
    for _ in range(10):
        opt.zero_grad()
        (0.5 * p @ torch.tensor(a) @ p - torch.tensor(b) @ p).backward()
        opt.step()
    np.testing.assert_allclose(xs[-1], p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_reference_taylor_matches_torch_autograd_functional_and_finite_differences():
    f = components.build("double_well", np.array(1.3), device="cpu")
    x0, dx = torch.tensor(RNG.standard_normal(4)), torch.tensor(1e-3 * RNG.standard_normal(4))
    value, g, h, approx = ref.taylor_second_order(f, x0, dx)
    torch.testing.assert_close(g, torch.autograd.functional.jacobian(f, x0), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(h, torch.diag(3 * x0**2 - 1.3), rtol=1e-12, atol=1e-14)
    assert abs(f(x0 + dx) - approx) < 1e-8  # remainder O(|dx|^3)
    assert value.shape == approx.shape == ()


@pytest.mark.parametrize("mu", [-0.5, 0.8])
def test_reference_estimators_agree_with_the_truth_and_the_documented_standard_errors(mu: float):
    z = np.random.default_rng(1).standard_normal(200_000)
    square = components.build("polynomial", np.array([0.0, 0.0, 1.0]), device="cpu")
    x = mu + z
    for estimate, terms in (
        (ref.score_function_gradient(square, mu, z), x**2 * z),
        (ref.score_function_gradient(square, mu, z, baseline=True), (x**2 - np.mean(x**2)) * z),
        (ref.reparameterization_gradient(square, mu, z), 2 * x),
    ):
        se = np.std(terms) / np.sqrt(len(z))
        assert abs(estimate - 2 * mu) < 5 * se
    if mu == 0.8:  # docs/mistakes.md: 0.011, 0.0087, 0.0045
        assert round(np.std(x**2 * z) / np.sqrt(len(z)), 3) == 0.011
        assert round(np.std((x**2 - np.mean(x**2)) * z) / np.sqrt(len(z)), 4) == 0.0087
        assert round(np.std(2 * x) / np.sqrt(len(z)), 4) == 0.0045


def test_a_baseline_can_raise_the_variance_as_the_docstring_says():
    """Per term, Var[(f - c) z] = Var[f z] + c^2 - 2 c E[f z^2]. For f = exp(-5 x^2) at mu = 0 (N(0, 1) moments):
    E[f z^2] = 11^-1.5, E[f] = 11^-0.5, E[f^2 z^2] = 21^-1.5, E[f z] = 0."""
    z = np.random.default_rng(2).standard_normal(200_000)
    f = lambda x: np.exp(-5 * x**2)  # noqa: E731
    e_fz2, e_f, e_f2z2 = 11**-1.5, 11**-0.5, 21**-1.5
    assert round(e_f, 2) == 0.30 and round(2 * e_fz2, 3) == 0.055
    se_without, se_with = math.sqrt(e_f2z2 / 2e5), math.sqrt((e_f2z2 + e_f**2 - 2 * e_f * e_fz2) / 2e5)
    assert (round(se_without, 5), round(se_with, 5)) == (0.00023, 0.00065)
    fx = f(z)
    np.testing.assert_allclose([np.std(fx * z), np.std((fx - fx.mean()) * z)], [math.sqrt(e_f2z2), math.sqrt(e_f2z2 + e_f**2 - 2 * e_f * e_fz2)], rtol=0.02)
    assert abs(ref.score_function_gradient(f, 0.0, z)) < 5 * se_without and abs(ref.score_function_gradient(f, 0.0, z, baseline=True)) < 5 * se_with
    assert round(2 / math.sqrt(2e5), 4) == 0.0045  # the pathwise SE of x^2 at every mu


@pytest.mark.parametrize("c, want", [(0.5, 1.0), (3.0, 1.0), (0.0, np.inf)])
def test_condition_number_of_multiples_of_the_identity(c: float, want: float):
    assert ref.condition_number(c * np.eye(3)) == want


def test_true_gradient_of_polynomials():
    assert gaussian_moment(2, 0.3) == pytest.approx(1.09)
    assert gaussian_moment(4, 0.0) == 3
    assert true_gradient(np.array([1.0, -2.0, 0.5, 0.3]), -1.2) == pytest.approx(-2.0 + 0.5 * 2 * -1.2 + 0.9 * (1.44 + 1))


def test_reference_qp_matches_brute_force_null_space_solution():
    n, m = 5, 2
    q = spd(RNG, RNG.uniform(0.5, 3.0, n))
    c, a, b = RNG.standard_normal(n), RNG.standard_normal((m, n)), RNG.standard_normal(m)
    x, nu = ref.solve_equality_qp(q, c, a, b)
    # x = x_p + N w with A N = 0: minimise over w in closed form.
    x_p = np.linalg.lstsq(a, b, rcond=None)[0]
    null = np.linalg.svd(a)[2][m:].T
    w = np.linalg.solve(null.T @ q @ null, -null.T @ (q @ x_p + c))
    np.testing.assert_allclose(x, x_p + null @ w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a @ x, b, atol=1e-12)
    np.testing.assert_allclose(q @ x + c + a.T @ nu, 0, atol=1e-12)
    objective = lambda v: 0.5 * v @ q @ v + c @ v  # noqa: E731
    for _ in range(20):
        assert objective(x + null @ RNG.standard_normal(n - m)) >= objective(x)


def test_reference_frobenius_matches_numpy_and_torch():
    a = RNG.standard_normal((4, 7))
    want = np.linalg.norm(a, "fro")
    np.testing.assert_allclose(ref.frobenius_norm(a), [want] * 3, rtol=1e-12)
    np.testing.assert_allclose(want, torch.linalg.matrix_norm(torch.tensor(a)).item(), rtol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ref.condition_number([[1.0, 2.0], [0.0, 1.0]]), "condition_number: H must be symmetric"),
        (lambda: ref.condition_number([[1.0, 2.0], [2.0, 1.0]]), "condition_number: H must be positive semi-definite"),
        (lambda: ref.condition_number(np.ones(3)), "condition_number: H must be a non-empty square matrix"),
        (lambda: ref.smoothness_and_strong_convexity([[1.0, 0.0], [1.0, 1.0]]), "smoothness_and_strong_convexity: A must be symmetric"),
        (lambda: ref.check_first_order_convexity(abs, abs, [[1.0]]), "check_first_order_convexity: points must have shape"),
        (lambda: ref.check_first_order_convexity(abs, abs, [[1.0], [2.0]], -1.0), "check_first_order_convexity: tol must be >= 0"),
        (lambda: ref.gd_quadratic(np.zeros((2, 2)), np.zeros(2), np.zeros(2), 1), "gd_quadratic: A is zero"),
        (lambda: ref.gd_quadratic(np.eye(2), np.zeros(2), np.zeros(2), -1), "gd_quadratic: steps must be an integer"),
        (lambda: ref.gd_quadratic(np.eye(2), np.zeros(3), np.zeros(2), 1), r"gd_quadratic: b must have shape \(2,\)"),
        (lambda: ref.taylor_second_order(abs, torch.zeros(2, 2), torch.zeros(2, 2)), "taylor_second_order: x0 must be a 1-D tensor"),
        (lambda: ref.taylor_second_order(abs, torch.zeros(2), torch.zeros(3)), "taylor_second_order: dx must be a tensor"),
        (lambda: ref.score_function_gradient(abs, 0.0, np.zeros((2, 2))), "score_function_gradient: z must be"),
        (lambda: ref.score_function_gradient(np.sum, 0.0, np.zeros(3)), "score_function_gradient: f must map"),
        (lambda: ref.reparameterization_gradient(abs, float("nan"), np.zeros(3)), "reparameterization_gradient: mu must be"),
        (lambda: ref.solve_equality_qp(np.eye(2), np.zeros(2), np.ones((2, 2)), np.zeros(2)), "solve_equality_qp: the KKT matrix is singular"),
        (lambda: ref.solve_equality_qp(np.eye(2), np.zeros(2), np.ones((3, 2)), np.zeros(3)), "solve_equality_qp: A must have shape"),
        (lambda: ref.frobenius_norm(np.ones(3)), "frobenius_norm: A must be a non-empty 2-D matrix"),
    ],
    ids=["cond-asym", "cond-indefinite", "cond-1d", "smooth-asym", "fo-points", "fo-tol", "gd-zero", "gd-steps", "gd-b", "taylor-x0", "taylor-dx", "score-z", "score-f", "reparam-mu", "qp-singular", "qp-shape", "frob-1d"],
)
def test_reference_rejects_bad_input_naming_function_and_argument(call, message: str):
    with pytest.raises(ValueError, match=message):
        call()


# ---- what a function returns is part of its contract: a float is any scalar, tensors stay tensors -------------------


@pytest.mark.parametrize(
    "fn, result, checks, message",
    [
        pytest.param("condition_number", "np.float64(y)", ["condition_number", "condition_number_contract"], None, id="numpy-scalar-for-float"),
        pytest.param("condition_number", "np.asarray(y)", ["condition_number"], None, id="0-d-array-for-float"),
        pytest.param("condition_number", "torch.tensor(y, dtype=torch.float64)", ["condition_number"], "dtype torch.float64, on cpu; condition_number must return a float (a Python or numpy scalar, or a 0-d numpy.ndarray)", id="0-d-tensor-for-float"),
        pytest.param("smoothness_and_strong_convexity", "tuple(torch.tensor(v, dtype=torch.float64) for v in y)", ["smoothness_and_strong_convexity"], "smoothness_and_strong_convexity(...)[0] must be a float", id="tuple-of-0-d-tensors-for-floats"),
        pytest.param("taylor_second_order", "list(y)", ["taylor_second_order"], None, id="list-of-tensors-for-a-tuple"),
        pytest.param("taylor_second_order", "tuple(v.numpy() for v in y)", ["taylor_second_order"], "taylor_second_order(...)[0] must be a torch.Tensor", id="numpy-for-tensors"),
        pytest.param("check_first_order_convexity", "None if y is None else tuple(torch.from_numpy(v) for v in y)", ["first_order_convexity"], "check_first_order_convexity(...)[0] must be a numpy.ndarray", id="pair-of-tensors-for-arrays"),
    ],
)
def test_an_answer_of_another_kind_than_the_references_fails_saying_what_was_returned(grader, fn: str, result: str, checks: list[str], message: str | None):
    graded = grade_source(grader, REFERENCE + wrapped(fn, result), TOPIC, checks=checks)
    failed = {c.id: c.message for c in graded.checks if c.status != PASSED}
    if message is None:
        assert failed == {}
    else:
        assert set(failed) == set(checks) and all(message in m for m in failed.values()), failed
