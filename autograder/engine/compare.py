"""Numeric comparison with messages that teach: structure first, then the worst element, then how many are off.

A comparison can also name a known mistake: the check passes the outputs of known-wrong variants of the reference
(computed on the grader's own copies of the inputs), and when the student's answer matches one of them, the
failure says which mistake it is and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = ["Mistake", "CheckFailed", "assert_close", "describe"]


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``id`` is stable (tests and statistics use it), ``title`` and ``fix`` are for students."""

    id: str
    title: str
    fix: str


class CheckFailed(Exception):
    """A check's verdict: the submission's answer is wrong; ``message`` says how, ``mistake`` names it if known."""

    def __init__(self, message: str, *, mistake: Mistake | None = None):
        super().__init__(message)
        self.message = message
        self.mistake = mistake


def describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} values"
    return f"shape {tuple(value.shape)}, dtype {value.dtype}"


def _fmt(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, (float, np.floating)) else str(x)


def _kind_problem(got: np.ndarray, want: np.ndarray) -> str | None:
    if want.dtype.kind == "f":
        if got.dtype.kind not in "fiu":
            return f"dtype {got.dtype}, expected floating point ({want.dtype})"
        if got.dtype.kind == "f" and got.dtype.itemsize < want.dtype.itemsize:
            return f"dtype {got.dtype}, expected {want.dtype}: precision was lost (compute in {want.dtype})"
    elif want.dtype.kind in "iu":
        if got.dtype.kind not in "iu":
            return f"dtype {got.dtype}, expected an integer"
    elif want.dtype.kind == "b" and got.dtype.kind != "b":
        return f"dtype {got.dtype}, expected bool"
    return None


def _matches(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> bool:
    if got.shape != want.shape or _kind_problem(got, want):
        return False
    return bool(np.all(np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)))


def _named(what: str, got: np.ndarray, variants: Sequence[tuple[Mistake, Any]], rtol: float, atol: float) -> None:
    for mistake, variant in variants:
        if _matches(got, np.asarray(variant), rtol, atol):
            raise CheckFailed(
                f"{what}: your answer matches a known mistake: {mistake.title}. {mistake.fix}", mistake=mistake
            )


def assert_close(
    got: Any,
    want: Any,
    *,
    what: str,
    rtol: float,
    atol: float,
    variants: Sequence[tuple[Mistake, Any]] = (),
) -> None:
    """Raise CheckFailed unless ``got`` has ``want``'s shape and kind and every element is within tolerance."""
    want = np.asarray(want)
    if not isinstance(got, np.ndarray):
        raise CheckFailed(f"{what}: returned {describe(got)}; expected an array of {describe(want)}")
    problem = _kind_problem(got, want)
    if problem:
        raise CheckFailed(f"{what}: {problem}")
    if got.shape != want.shape:
        _named(what, got, variants, rtol, atol)
        raise CheckFailed(f"{what}: shape {tuple(got.shape)}, expected {tuple(want.shape)}")
    close = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return
    _named(what, got, variants, rtol, atol)

    g, w = got.astype(np.float64), want.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        excess = np.abs(g - w) - (atol + rtol * np.abs(w))
    # The worst element is among those out of tolerance (a matching inf has a NaN distance, yet is right).
    excess = np.where(close, -np.inf, np.where(np.isnan(excess), np.inf, excess))
    worst = np.unravel_index(int(np.argmax(excess)), got.shape) if got.shape else ()
    gw, ww = g[worst], w[worst]
    bad = int((~close).sum())
    where = f" at index {tuple(int(i) for i in worst)}" if got.shape else ""
    if not np.isfinite(gw) and np.isfinite(ww):
        detail = f"got {_fmt(gw)}{where}, expected {_fmt(ww)} (a non-finite value where the answer is finite)"
    elif not np.isfinite(ww):
        detail = f"got {_fmt(gw)}{where}, expected {_fmt(ww)} (the answer is not finite here)"
    else:
        abs_err = abs(gw - ww)
        rel_err = abs_err / abs(ww) if ww != 0 else float("inf")
        detail = f"worst{where}: got {_fmt(gw)}, expected {_fmt(ww)} (abs err {abs_err:.3g}, rel err {rel_err:.3g})"
    count = f"; {bad} of {got.size} elements ({100 * bad / got.size:.3g}%) are off" if got.size > 1 else ""
    raise CheckFailed(f"{what}: {detail}{count}; tolerance rtol={rtol:g}, atol={atol:g}")
