"""The optimizer of behaviour checks: a check trains with the student's gradients, on the grader's side.

A training check owns the parameters and the optimizer; the worker only evaluates the student's loss and its gradient
at the parameters it is sent, one round trip per step. So the trajectory is the grader's arithmetic, deterministic on
every device, and a submission cannot step its own way to a good number (see ../shared numerics, "Behaviour checks").

Public checks run in the student bundle against the *recorded* reference (autograder.course.recorded): every call they
make to ``t.ref`` must have arguments that depend only on the trial's rng, never on a student's answer. A public
training check therefore runs the reference's own trajectory first, compares the student's loss and gradient at the
reference's parameters (step parity), then steps with the student's gradients and judges the student's held-out metric
against the reference's recorded curve. A hidden check (run at submission, with the real reference) judges the
student's final parameters with the reference's own metric.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

__all__ = ["Adam", "SGD"]


class _Optimizer:
    """A dict of float64 arrays and the rule that steps them; subclasses define ``_update(name, param, grad)``."""

    def __init__(self, params: Mapping[str, np.ndarray], *, lr: float):
        self.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        self.lr = lr

    def step(self, grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Take one step along ``grads`` (one array per parameter, of its shape); return the new parameters (copies)."""
        name = type(self).__name__
        if set(grads) != set(self.params):
            raise ValueError(f"{name}.step: gradients for {sorted(grads)}, parameters {sorted(self.params)}")
        self._begin()
        for k, p in self.params.items():
            g = np.asarray(grads[k], dtype=np.float64)
            if g.shape != p.shape:
                raise ValueError(f"{name}.step: the gradient of {k!r} has shape {g.shape}, the parameter {p.shape}")
            self.params[k] = self._update(k, p, g)
        return {k: v.copy() for k, v in self.params.items()}

    def _begin(self) -> None:
        """Called once per step, before the parameters are updated."""

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class SGD(_Optimizer):
    """Plain gradient descent, p - lr * g, as torch.optim.SGD computes it without momentum."""

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        return param - self.lr * grad


class Adam(_Optimizer):
    """Adam (Kingma and Ba, 2015) on a dict of float64 arrays, as torch.optim.Adam computes it (no weight decay)."""

    def __init__(self, params: Mapping[str, np.ndarray], *, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr=lr)
        self.betas, self.eps = betas, eps
        self._m = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._v = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._t = 0

    def _begin(self) -> None:
        self._t += 1

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        b1, b2 = self.betas
        self._m[name] = b1 * self._m[name] + (1 - b1) * grad
        self._v[name] = b2 * self._v[name] + (1 - b2) * grad * grad
        m_hat = self._m[name] / (1 - b1**self._t)
        v_hat = self._v[name] / (1 - b2**self._t)
        return param - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
