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

        w1, b1, w2, b2 = self.params
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
