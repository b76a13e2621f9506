"""Student stub of the self-test's toy topic."""

import numpy as np

def axpy(a: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """a * x + y, elementwise."""
    raise NotImplementedError("axpy")


def total(x: np.ndarray) -> float:
    """The sum of a 1-D array."""
    raise NotImplementedError("total")


def bump(v: float) -> float:
    """v squared, plus 1."""
    raise NotImplementedError("bump")
