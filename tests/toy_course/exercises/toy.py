"""Stub of the engine-test topic."""

import numpy as np


def scale(x: np.ndarray, a: float) -> np.ndarray:
    """Return a * x."""
    raise NotImplementedError("scale")


class Counter:
    """Keeps a running total: Counter(1).add(2).total == 3."""

    def __init__(self, start: float):
        raise NotImplementedError("Counter")

    def add(self, value: float) -> "Counter":
        raise NotImplementedError("Counter.add")


def apply(net, x):
    """Return net(x)."""
    raise NotImplementedError("apply")
