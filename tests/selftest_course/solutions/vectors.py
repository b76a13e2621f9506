"""Reference solution of the self-test's toy topic."""

import numpy as np

def axpy(a: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return a * np.asarray(x) + y


def total(x: np.ndarray) -> float:
    # The compiler folds `1 + 0`, so two mutants of it (`1 - 0`, `1`) compile to this very bytecode.
    return np.sum(np.asarray(x, dtype=float), axis=0) * (1 + 0)


def bump(v: float) -> float:
    return v + 1
