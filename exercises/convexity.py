"""Analysis and convexity: conditioning and smoothness of quadratics, the first-order condition of convexity, gradient
descent with step 1/L, second-order Taylor expansions with torch.autograd, two Monte Carlo gradient estimators, an
equality-constrained quadratic programme through its KKT system, and the Frobenius norm three ways.

A twice-differentiable f is convex when its Hessian is positive semi-definite everywhere, equivalently when

    f(y) >= f(x) + grad f(x)^T (y - x)   for all x, y        (the first-order condition: f lies above its tangents)

It is L-smooth when its gradient is L-Lipschitz (every Hessian eigenvalue has |lambda| <= L) and mu-strongly convex
when the Hessian eigenvalues are >= mu > 0. For the quadratic f(x) = 1/2 x^T A x - b^T x with A symmetric, the
Hessian is A; when A is also positive semi-definite, L = lambda_max(A), mu = lambda_min(A) (for an indefinite A,
L = max |lambda| and f is not convex), and the condition number is kappa = L / mu. Gradient descent with step 1/L
decreases f at every step, and on a quadratic f(x_T) - f* <= (1 - mu/L)^(2T) (f(x_0) - f*); with a step above 2/L it
diverges along the top eigenvector.

Matrices and vectors are array-likes converted to float64 numpy arrays; functions passed in (f, grad) are called
with numpy arrays, except in taylor_second_order and reparameterization_gradient, which call f with float64 torch
tensors and differentiate through it.

Arguments are read-only: no function changes an array or tensor it is given (it returns new ones); a change made
in place fails the check it happens in, named as the mistake modifies-input.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "condition_number",
    "smoothness_and_strong_convexity",
    "check_first_order_convexity",
    "gd_quadratic",
    "taylor_second_order",
    "score_function_gradient",
    "reparameterization_gradient",
    "solve_equality_qp",
    "frobenius_norm",
]


def condition_number(H: np.ndarray) -> float:
    """Condition number kappa = lambda_max / lambda_min of a symmetric positive semi-definite matrix.

    From the eigenvalues (np.linalg.eigvalsh), which for a symmetric PSD H are its singular values. For a matrix that
    is not symmetric PSD the eigenvalue ratio is not the condition number of anything useful and the singular-value
    one (np.linalg.cond) is a different quantity: both are refused. A singular H (lambda_min <= 0, within rounding)
    has kappa = inf. kappa >= 1, with kappa = 1 exactly for positive multiples of the identity (c I with c > 0;
    0 I is singular: inf).

    Args:
        H: shape (d, d), d >= 1, finite, symmetric (max |H - H^T| <= 1e-10 max |H|) and positive semi-definite
            (lambda_min >= -1e-10 |lambda_max|).

    Returns:
        A Python float: lambda_max / lambda_min, or inf when lambda_min <= 0.

    Raises:
        ValueError: H is not a non-empty square matrix, has a non-finite entry, is not symmetric or not PSD.

    Example:
        >>> condition_number([[4.0, 0.0], [0.0, 0.5]])  # 4 / 0.5
        8.0
        >>> condition_number([[2.0, 1.0], [1.0, 2.0]])  # eigenvalues 1 and 3
        3.0
        >>> condition_number([[1.0, 1.0], [1.0, 1.0]])  # singular
        inf
    """
    raise NotImplementedError("condition_number: implement kappa = lambda_max / lambda_min from np.linalg.eigvalsh, refusing non-symmetric or non-PSD H (see the docstring)")


def smoothness_and_strong_convexity(A: np.ndarray) -> tuple[float, float]:
    """(L, mu) of the quadratic f(x) = 1/2 x^T A x: its gradient A x is L-Lipschitz and f is mu-strongly convex.

    The Hessian is A everywhere, so L = lambda_max(A) and mu = lambda_min(A) (mu = 0: convex, not strongly). A linear
    term b^T x changes neither.

    Args:
        A: shape (d, d), d >= 1, finite, symmetric and positive semi-definite (the tolerances of condition_number).

    Returns:
        A tuple of two Python floats (L, mu), L >= mu >= 0 up to rounding.

    Raises:
        ValueError: A is not a non-empty square matrix, has a non-finite entry, is not symmetric or not PSD.

    Example:
        >>> smoothness_and_strong_convexity([[2.0, 1.0], [1.0, 2.0]])  # eigenvalues 1 and 3
        (3.0, 1.0)
    """
    raise NotImplementedError("smoothness_and_strong_convexity: implement (L, mu) = (lambda_max(A), lambda_min(A)) for symmetric PSD A (see the docstring)")


def check_first_order_convexity(f, grad, points: np.ndarray, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray] | None:
    """Search the given points for a violation of the first-order condition of convexity.

    A pair (x, y) violates it when f(y) < f(x) + grad(x)^T (y - x) - tol: y lies below the tangent plane of f at x,
    so f is not convex. Every ordered pair of distinct rows is tried, x = points[i], y = points[j], in the order
    i = 0, 1, ..., n - 1 and, for each i, j = 0, 1, ..., n - 1 skipping j = i; the first violating pair is returned.
    Finding none does not prove f convex (only these points were tried).

    Args:
        f: a function of one point x (a float64 numpy array of shape (d,)) returning a scalar.
        grad: its gradient, a function of x returning an array of shape (d,).
        points: shape (n, d), n >= 2, finite.
        tol: slack >= 0 for rounding, in units of f.

    Returns:
        (x, y), two float64 arrays of shape (d,) (copies of the rows), or None when no pair violates the condition.

    Raises:
        ValueError: points is not 2-D with at least two rows, or not finite; tol < 0.

    Example:
        >>> f = lambda x: float(x[0] ** 2 - x[1] ** 2)       # a saddle: not convex
        >>> grad = lambda x: np.array([2 * x[0], -2 * x[1]])
        >>> check_first_order_convexity(f, grad, [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # 0 - 1 < 0 at (x0, x2)
        (array([0., 0.]), array([0., 1.]))
        >>> print(check_first_order_convexity(lambda x: float(x @ x), lambda x: 2 * x, [[0.0, 0.0], [1.0, 2.0]]))
        None
    """
    raise NotImplementedError("check_first_order_convexity: implement the search for a pair (x, y) with f(y) < f(x) + grad(x)^T (y - x) - tol, in the documented order (see the docstring)")


def gd_quadratic(A: np.ndarray, b: np.ndarray, x0: np.ndarray, steps: int) -> np.ndarray:
    """Gradient descent with step 1/L on f(x) = 1/2 x^T A x - b^T x, L = lambda_max(A).

        x_{t+1} = x_t - (1/L) grad f(x_t) = x_t - (A x_t - b) / L

    With step 1/L, f decreases at every step (unless x_t is a minimiser), and when mu = lambda_min(A) > 0,
    f(x_T) - f* <= (1 - mu/L)^(2T) (f(x_0) - f*). A step of 2/L no longer contracts the top eigen-direction, and a
    step above 2/L makes it grow: GD diverges.

    Args:
        A: shape (d, d), symmetric positive semi-definite, not zero (so L > 0).
        b: shape (d,).
        x0: the starting point, shape (d,).
        steps: the number of steps T, an integer >= 0.

    Returns:
        The iterates x_0, x_1, ..., x_T as a float64 array of shape (T + 1, d); row 0 is x0.

    Raises:
        ValueError: A is not symmetric PSD or is zero; b or x0 is not of shape (d,); steps is not an integer >= 0.

    Example:
        >>> gd_quadratic([[2.0, 0.0], [0.0, 1.0]], [2.0, 1.0], [0.0, 0.0], 2)  # L = 2; minimiser (1, 1)
        array([[0.  , 0.  ],
               [1.  , 0.5 ],
               [1.  , 0.75]])
    """
    raise NotImplementedError("gd_quadratic: implement gradient descent with step 1/L, returning the T + 1 iterates (see the docstring)")


def taylor_second_order(f, x0: torch.Tensor, dx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Value, gradient and Hessian of f at x0 (torch.autograd.functional), and the second-order Taylor approximation

        f(x0 + dx) ~ f(x0) + grad f(x0)^T dx + 1/2 dx^T H(x0) dx.

    The remainder is O(|dx|^3) for a smooth f, and zero for a quadratic.

    Args:
        f: a function of a float64 tensor of shape (d,) returning a 0-d tensor, differentiable twice by torch.
        x0: the expansion point, a float64 tensor of shape (d,), d >= 1.
        dx: the step, a tensor of shape (d,).

    Returns:
        (value, gradient, hessian, approximation): float64 tensors of shapes (), (d,), (d, d), (); detached.

    Raises:
        ValueError: x0 is not a 1-D tensor with d >= 1; dx is not of its shape.

    Example:
        >>> f = lambda x: (x**3).sum()
        >>> x0, dx = torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([0.1, 0.0], dtype=torch.float64)
        >>> value, g, h, approx = taylor_second_order(f, x0, dx)
        >>> value.item(), g.tolist(), h.tolist(), round(approx.item(), 12)  # 9; 3x^2; diag(6x); 9 + 0.3 + 0.03
        (9.0, [3.0, 12.0], [[6.0, 0.0], [0.0, 12.0]], 9.33)
    """
    raise NotImplementedError("taylor_second_order: implement value, gradient, Hessian (torch.autograd.functional) and the second-order approximation (see the docstring)")


def score_function_gradient(f, mu: float, z: np.ndarray, baseline: bool = False) -> float:
    """Score-function (REINFORCE) estimate of d/dmu E_{x ~ N(mu, 1)}[f(x)] from the given standard-normal draws z.

    With x_i = mu + z_i, the score of N(mu, 1) is d/dmu log p(x) = x - mu = z, and

        g = (1/n) sum_i (f(x_i) - c) (x_i - mu),    c = (1/n) sum_i f(x_i) with baseline=True, else c = 0.

    The function draws nothing: z is given, so the estimate is a deterministic function of (f, mu, z). A constant c
    adds no bias (E[x - mu] = 0; the sample mean as c adds O(1/n)) and changes the variance of each term by
    c^2 - 2 c E[f(x) z^2]: a baseline lowers the variance only when c lies between 0 and 2 E[f(x) z^2], not always.
    For f(x) = x^2 (true gradient 2 mu) at mu = 0.8 and n = 2e5 the standard errors are 0.011 without and 0.0087
    with the baseline; for f(x) = exp(-5 x^2) at mu = 0 and n = 2e5 they are 0.00023 without and 0.00065 with it
    (E[f(x)] = 0.30 is past 2 E[f(x) z^2] = 0.055).

    Args:
        f: a function applied elementwise to a float64 numpy array of shape (n,), returning shape (n,).
        mu: the mean, a finite scalar.
        z: standard-normal draws, shape (n,), n >= 2, finite.
        baseline: subtract the sample mean of f(x) first.

    Returns:
        The estimate as a Python float.

    Raises:
        ValueError: mu is not a finite scalar; z is not a finite 1-D array with n >= 2; f(x) is not of shape (n,).

    Example:
        >>> z = np.array([-1.0, 0.0, 1.0, 2.0])
        >>> score_function_gradient(lambda x: x**2, 1.0, z)  # x = [0, 1, 2, 3]: (0 + 0 + 4 + 18) / 4
        5.5
        >>> score_function_gradient(lambda x: x**2, 1.0, z, baseline=True)  # c = 3.5: 5.5 - 3.5 * mean(z) = 5.5 - 1.75
        3.75
    """
    raise NotImplementedError("score_function_gradient: implement the score-function estimate mean((f(x) - c)(x - mu)) on x = mu + z (see the docstring)")


def reparameterization_gradient(f, mu: float, z: np.ndarray) -> float:
    """Reparameterisation (pathwise) estimate of d/dmu E_{x ~ N(mu, 1)}[f(x)] from the given standard-normal draws z.

    Writing x = mu + z with z ~ N(0, 1) moves mu into the function: d/dmu E[f(mu + z)] = E[f'(mu + z)], estimated by

        g = (1/n) sum_i f'(mu + z_i),

    with f' from torch.autograd (the gradient of the sample mean of f(mu + z) with respect to mu). Nothing is drawn:
    z is given. Usually far less variance than the score function: for f(x) = x^2 at n = 2e5 the standard error is
    0.0045 at every mu (2 / sqrt(n)), against 0.011 for the score function at mu = 0.8.

    Args:
        f: a function applied elementwise to a float64 torch tensor of shape (n,), returning shape (n,),
            differentiable by torch.
        mu: the mean, a finite scalar.
        z: standard-normal draws, a numpy array of shape (n,), n >= 2, finite.

    Returns:
        The estimate as a Python float.

    Raises:
        ValueError: mu is not a finite scalar; z is not a finite 1-D array with n >= 2; f(x) is not of shape (n,).

    Example:
        >>> reparameterization_gradient(lambda x: x**2, 1.0, np.array([-1.0, 0.0, 1.0, 2.0]))  # mean of 2x, x = [0, 1, 2, 3]
        3.0
    """
    raise NotImplementedError("reparameterization_gradient: implement the pathwise estimate mean(f'(mu + z)) with torch.autograd (see the docstring)")


def solve_equality_qp(Q: np.ndarray, c: np.ndarray, A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimise 1/2 x^T Q x + c^T x subject to A x = b through the KKT system of the Lagrangian.

    With the Lagrangian L(x, nu) = 1/2 x^T Q x + c^T x + nu^T (A x - b), stationarity and feasibility give

        [ Q  A^T ] [ x  ]   [ -c ]
        [ A   0  ] [ nu ] = [  b ],      i.e.  Q x + c + A^T nu = 0,  A x = b.

    The sign of nu follows this Lagrangian (+ nu^T (A x - b)). The solution is the minimiser when Q is positive
    definite on the null space of A, and the KKT matrix is then non-singular when A has full row rank.

    Args:
        Q: shape (n, n), symmetric (max |Q - Q^T| <= 1e-10 max |Q|).
        c: shape (n,).
        A: shape (m, n) with 1 <= m <= n.
        b: shape (m,).

    Returns:
        (x, nu): float64 arrays of shapes (n,) and (m,).

    Raises:
        ValueError: a shape does not fit; Q is not symmetric; an entry is not finite; the KKT matrix is singular
            (A without full row rank, or Q singular on the null space of A), judged by its rank
            (np.linalg.matrix_rank(K) < n + m): np.linalg.solve alone is not enough, since rounding often leaves a
            singular matrix a tiny non-zero pivot and solve then returns a huge, meaningless answer.

    Example:
        >>> x, nu = solve_equality_qp(np.eye(2), np.zeros(2), np.array([[1.0, 1.0]]), np.array([1.0]))
        >>> x, nu  # the point of x1 + x2 = 1 closest to 0; Q x + A^T nu = 0
        (array([0.5, 0.5]), array([-0.5]))
    """
    raise NotImplementedError("solve_equality_qp: implement the solution of the KKT system [[Q, A^T], [A, 0]] [x; nu] = [-c; b] (see the docstring)")


def frobenius_norm(A: np.ndarray) -> np.ndarray:
    """The Frobenius norm of a matrix computed three ways, which must agree:

        entries:          sqrt(sum_ij A_ij^2)
        trace:            sqrt(tr(A^T A))
        singular values:  sqrt(sum_i sigma_i^2)

    (not sum_i sigma_i, the nuclear norm, nor sigma_max, the spectral norm).

    Args:
        A: shape (m, n), non-empty, finite; need not be square.

    Returns:
        A float64 array of shape (3,): [by entries, by trace, by singular values].

    Raises:
        ValueError: A is not a non-empty 2-D matrix or has a non-finite entry.

    Example:
        >>> frobenius_norm([[3.0, 0.0], [0.0, 4.0]])  # sqrt(9 + 16) three times (the nuclear norm would be 7)
        array([5., 5., 5.])
    """
    raise NotImplementedError("frobenius_norm: implement the Frobenius norm by entries, by trace and by singular values (see the docstring)")
