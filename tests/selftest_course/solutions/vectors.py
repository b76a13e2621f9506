"""Reference solution of the self-test's toy topic."""

import numpy as np

def axpy(a: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return a * np.asarray(x) + y


def total(x: np.ndarray) -> float:
    # The compiler folds `1 + 0`, so two mutants of it (`1 - 0`, `1`) compile to this very bytecode.
    return np.sum(np.asarray(x, dtype=float), axis=0) * (1 + 0)


def bump(v: float) -> float:
    # Its check draws v = 0 or v near 1: `v * 2` and `v ** 3` agree with `v ** 2` at 0 only, so whether they are
    # caught depends on the secret.
    return v ** 2 + 1


def _offset(v: float) -> float:
    # No check reaches this helper, so its mutants survive.
    return v + 1
