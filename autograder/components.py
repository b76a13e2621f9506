"""Trusted building blocks a check can ask the worker to build and hand to student code.

A check cannot send objects to the worker, only arrays. When student code must be called *with* something (a small
network, an activation), the check names a builder here and sends its weights as arrays; the worker builds the
component next to the student's code. Builders take float arrays and return torch modules on the worker's device.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["BUILDERS", "build"]


def _linear(weight: np.ndarray, bias: np.ndarray, *, device: str) -> Any:
    import torch

    out_features, in_features = weight.shape
    layer = torch.nn.Linear(in_features, out_features, dtype=torch.float64, device=device)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight))
        layer.bias.copy_(torch.as_tensor(bias))
    return layer


def _mlp(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, *, device: str) -> Any:
    """Linear -> tanh -> Linear, the small smooth network the generative-model topics hand to students."""
    import torch

    return torch.nn.Sequential(_linear(w1, b1, device=device), torch.nn.Tanh(), _linear(w2, b2, device=device))


BUILDERS: dict[str, Callable[..., Any]] = {"linear": _linear, "mlp": _mlp}


def build(name: str, *args: Any, device: str, **kwargs: Any) -> Any:
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise ValueError(f"unknown component {name!r}; known: {', '.join(BUILDERS)}") from None
    return builder(*args, device=device, **kwargs)
