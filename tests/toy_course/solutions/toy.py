"""Reference of the engine-test topic."""

import numpy as np


def scale(x: np.ndarray, a: float) -> np.ndarray:
    return a * np.asarray(x, dtype=float)


class Counter:
    def __init__(self, start: float):
        self.total = float(start)

    def add(self, value: float) -> "Counter":
        self.total += float(value)
        return self


def apply(net, x):
    """Call a network the grader built."""
    return net(x)
