"""Trusted building blocks a check can ask the worker to build and hand to student code.

A check cannot send objects to the worker, only arrays. When student code must be called *with* something (a small
network, a base distribution, an activation), the check names a builder here and sends its weights as arrays; the
worker builds the component next to the student's code. Builders take float arrays (or tensors) and return torch
modules on the worker's device, or plain callables (the convexity topic's test functions) that work on numpy arrays
and on torch tensors alike, so torch.autograd differentiates through them. A check builds the same components on its
own side for the reference (``build(..., device="cpu")``); each is a :class:`Component`, whose name and parameters
say what it is (the recorded reference keys its calls by them).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

__all__ = ["BUILDERS", "Component", "build"]


def _linear(weight: np.ndarray, bias: np.ndarray, *, device: str) -> Any:
    import torch

    out_features, in_features = weight.shape
    layer = torch.nn.Linear(in_features, out_features, dtype=torch.float64, device=device)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight))
        layer.bias.copy_(torch.as_tensor(bias))
    return layer


class Component:
    """A trusted component: ``name`` and ``params`` (the arrays or tensors it was built from) say what it is."""

    name: str
    params: tuple[Any, ...]

    def __repr__(self) -> str:
        return f"<{self.name}>"


def _tensor(value: Any, device: str) -> Any:
    """A float64 tensor on ``device``: an array is converted; a tensor is kept as it is (gradients reach it)."""
    import torch

    if isinstance(value, torch.Tensor):
        return value
    return torch.as_tensor(np.asarray(value, dtype=np.float64), device=device)


class _Net(Component):
    """x -> tanh(x @ w1^T + b1) @ w2^T + b2 on the last axis of x: the small smooth network the generative-model
    topics hand to students (a flow's scale and shift, a critic). It keeps the tensors it is given, so a check that
    sends its weights with grad=True gets the gradients of a student's loss with respect to them."""

    name = "mlp"

    def __init__(self, w1: Any, b1: Any, w2: Any, b2: Any, *, device: str):
        self.params = tuple(_tensor(p, device) for p in (w1, b1, w2, b2))
        self.in_features, self.out_features = self.params[0].shape[1], self.params[2].shape[0]

    def __call__(self, x: Any) -> Any:
        import torch

        w1, b1, w2, b2 = self.params[:4]
        return torch.tanh(x @ w1.T + b1) @ w2.T + b2


class _StandardNormal(Component):
    """The base distribution N(0, I_d) of a flow: ``log_prob(z)`` sums over the last axis of z (shape z.shape[:-1]).
    Written out rather than torch.distributions, so a check may forbid torch.distributions without catching it."""

    name = "standard_normal"

    def __init__(self, dim: Any, *, device: str):
        self.dim = int(np.asarray(dim))
        if self.dim < 1:
            raise ValueError(f"standard_normal: the dimension must be >= 1, got {self.dim}")
        self.params = (np.asarray(self.dim),)

    def log_prob(self, z: Any) -> Any:
        if z.shape[-1:] != (self.dim,):
            raise ValueError(f"standard_normal({self.dim}).log_prob: z must have shape (..., {self.dim}), got {tuple(z.shape)}")
        return -0.5 * (z * z).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)

    def __repr__(self) -> str:
        return f"<standard_normal({self.dim})>"


def _timesteps(t: Any, n: int, steps: int, name: str, device: Any) -> Any:
    """The diffusion time of each of n rows as a long tensor (n,): an int, or an integer tensor of shape () or (n,),
    every value in 1..steps; anything else is the caller's mistake, said in its terms."""
    import torch

    if isinstance(t, bool) or not isinstance(t, (int, torch.Tensor)) or isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex() or t.dim() > 1 or t.dim() == 1 and len(t) != n):
        got = f"a {t.dtype} tensor of shape {tuple(t.shape)}" if isinstance(t, torch.Tensor) else type(t).__name__
        raise ValueError(f"{name}: t must be an int or an integer tensor of shape () or ({n},), got {got}")
    ts = torch.as_tensor(t, device=device).long().expand(n)
    if n and (int(ts.min()) < 1 or int(ts.max()) > steps):
        raise ValueError(f"{name}: t must be in 1..{steps} (t = 1..T, beta_t = betas[t - 1]), got values in {int(ts.min())}..{int(ts.max())}")
    return ts


def _rows(x: Any, d: int, name: str) -> None:
    import torch

    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != d:
        got = f"shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name}: x must be a tensor of shape (n, {d}), got {got}")


class _MixtureEps(Component):
    """The optimal epsilon-predictor of a DDPM whose data is the Gaussian mixture sum_k w_k N(mu_k, Sigma_k), for the
    schedule ``betas`` (beta_t = betas[t - 1], t = 1..T): x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps is the mixture
    with means sqrt(abar_t) mu_k and covariances C_k = abar_t Sigma_k + (1 - abar_t) I, so
    eps*(x, t) = E[eps | x_t = x] = -sqrt(1 - abar_t) grad log p_t(x) = sqrt(1 - abar_t) sum_k r_k(x) C_k^{-1} (x - sqrt(abar_t) mu_k),
    with r_k the responsibilities. Exact at every noise level: a sampler handed it must reproduce the mixture.

    ``trail`` (calls, min(n, 8), d) and ``times`` record the first rows of x and the t of each call, so a check can draw
    the reverse trajectories of a few points after a student's sampler ran; ``reset()`` clears them."""

    name = "gmm_eps"

    def __init__(self, weights: Any, means: Any, covs: Any, betas: Any, *, device: str):
        import torch

        self.params = tuple(_tensor(p, device) for p in (weights, means, covs, betas))
        w, mu, cov, b = self.params
        k, d = mu.shape if mu.dim() == 2 else (-1, -1)
        if w.shape != (k,) or cov.shape != (k, d, d) or b.dim() != 1 or not len(b):
            raise ValueError(f"gmm_eps: expected weights (K,), means (K, d), covs (K, d, d), betas (T,); got {tuple(w.shape)}, {tuple(mu.shape)}, {tuple(cov.shape)}, {tuple(b.shape)}")
        self.dim, self.steps = d, len(b)
        self.alpha_bars = torch.cat([torch.ones(1, dtype=b.dtype, device=b.device), torch.cumprod(1 - b, 0)])
        self._trail: list[Any] = []
        self.times: list[int] = []

    def __call__(self, x: Any, t: Any) -> Any:
        import torch

        w, mu, cov, _ = self.params
        _rows(x, self.dim, "gmm_eps")
        ts = _timesteps(t, len(x), self.steps, "gmm_eps", x.device)
        self._trail.append(x[:8].detach().to(mu.dtype).clone())
        self.times.append(int(ts[0]) if len(ts) else 0)
        x = x.to(mu.dtype)
        # One factorisation per distinct t (a sampler's call has one), gathered back to the rows.
        levels, row_level = torch.unique(ts, return_inverse=True)
        ab = self.alpha_bars[levels][:, None, None, None]  # (U, 1, 1, 1)
        c = ab * cov + (1 - ab) * torch.eye(self.dim, dtype=mu.dtype, device=mu.device)  # (U, K, d, d)
        chol = torch.linalg.cholesky(c)
        abar = self.alpha_bars[ts][:, None, None]  # (n, 1, 1)
        diff = x[:, None, :] - abar.sqrt() * mu  # (n, K, d)
        solved = torch.cholesky_solve(diff[..., None], chol[row_level])[..., 0]  # C_k^{-1} (x - m_k)
        log_det = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)[row_level]  # (n, K)
        resp = torch.softmax(torch.log(w) - 0.5 * (diff * solved).sum(-1) - 0.5 * log_det, dim=1)
        return (1 - abar[:, 0]).sqrt() * (resp[..., None] * solved).sum(1)

    @property
    def trail(self) -> Any:
        import torch

        return torch.stack(self._trail) if self._trail else torch.zeros((0, 0, self.dim), dtype=self.params[1].dtype)

    def reset(self) -> None:
        self._trail.clear()
        self.times.clear()


class _TimeNet(_Net):
    """A small time-conditioned epsilon-network: eps(x, t) = mlp([x, t / T]) for x (n, d) and t as gmm_eps takes it;
    like ``mlp`` it keeps the tensors it is given, so gradients of a student's loss reach weights sent with grad=True."""

    name = "eps_mlp"

    def __init__(self, w1: Any, b1: Any, w2: Any, b2: Any, steps: Any, *, device: str):
        super().__init__(w1, b1, w2, b2, device=device)
        self.steps = int(np.asarray(steps))
        self.params = (*self.params, np.asarray(self.steps))
        if self.steps < 1 or self.in_features != self.out_features + 1:
            raise ValueError(f"eps_mlp: expected w1 (h, d + 1), w2 (d, h) and T >= 1; got w1 {tuple(self.params[0].shape)}, w2 {tuple(self.params[2].shape)}, T = {self.steps}")

    def __call__(self, x: Any, t: Any) -> Any:  # type: ignore[override]
        import torch

        _rows(x, self.out_features, "eps_mlp")
        ts = _timesteps(t, len(x), self.steps, "eps_mlp", x.device)
        time = (ts.to(self.params[0].dtype) / self.steps)[:, None]
        return super().__call__(torch.cat([x.to(time.dtype), time], dim=1))


class _Function(Component):
    """A test function of x: numpy in, numpy out; a torch tensor in, a tensor (with autograd) out.

    ``rule(x, *params)`` is written once with operators both libraries share; the parameters are converted to the
    kind, dtype and device of each x they meet.
    """

    def __init__(self, name: str, rule: Callable[..., Any], *params: np.ndarray):
        self.name = name
        self._rule = rule
        self.params = tuple(np.array(p, dtype=np.float64) for p in params)

    def __call__(self, x: Any) -> Any:
        import torch

        if isinstance(x, torch.Tensor):
            return self._rule(x, *(torch.as_tensor(p, dtype=x.dtype, device=x.device) for p in self.params))
        return self._rule(np.asarray(x, dtype=np.float64), *self.params)

def _quadratic(a: np.ndarray, b: np.ndarray, *, device: str) -> _Function:
    """f(x) = 1/2 x^T A x - b^T x for x of shape (d,), with A (d, d) and b (d,): a scalar (0-d)."""
    return _Function("quadratic", lambda x, a, b: 0.5 * (x @ (a @ x)) - b @ x, a, b)


def _quadratic_grad(a: np.ndarray, b: np.ndarray, *, device: str) -> _Function:
    """The gradient of the quadratic for symmetric A: A x - b, shape (d,)."""
    return _Function("quadratic_grad", lambda x, a, b: a @ x - b, a, b)


def _double_well(a: np.ndarray, *, device: str) -> _Function:
    """f(x) = sum_i (x_i^4 / 4 - a x_i^2 / 2) for x of shape (d,), a scalar a > 0: smooth, non-convex where
    x_i^2 < a / 3 for some i; its minima are at x_i = +-sqrt(a)."""
    return _Function("double_well", lambda x, a: (x**4 / 4 - a * x**2 / 2).sum(), a)


def _double_well_grad(a: np.ndarray, *, device: str) -> _Function:
    """The gradient of the double well: x_i^3 - a x_i, shape (d,)."""
    return _Function("double_well_grad", lambda x, a: x**3 - a * x, a)


def _polynomial(c: np.ndarray, *, device: str) -> _Function:
    """Elementwise p(x) = c_0 + c_1 x + ... + c_k x^k (Horner's rule), x of any shape, c of shape (k + 1,)."""

    def rule(x: Any, c: Any) -> Any:
        y = c[-1] + 0 * x
        for i in range(len(c) - 2, -1, -1):
            y = y * x + c[i]
        return y

    return _Function("polynomial", rule, c)


BUILDERS: dict[str, Callable[..., Any]] = {
    "linear": _linear,
    "mlp": _Net,
    "standard_normal": _StandardNormal,
    "gmm_eps": _MixtureEps,
    "eps_mlp": _TimeNet,
    "quadratic": _quadratic,
    "quadratic_grad": _quadratic_grad,
    "double_well": _double_well,
    "double_well_grad": _double_well_grad,
    "polynomial": _polynomial,
}


def build(name: str, *args: Any, device: str, **kwargs: Any) -> Any:
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise ValueError(f"unknown component {name!r}; known: {', '.join(BUILDERS)}") from None
    return builder(*args, device=device, **kwargs)
