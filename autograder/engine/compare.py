"""Numeric comparison with messages that teach: what kind of object first, then structure, then the worst element,
then how many are off.

The reference is the oracle, for the kind of its answer too. A value the student's code returned comes back from the
worker saying what it was (:class:`Returned`: autograder.sandbox.worker.to_wire), and is judged against the kind of
the reference's answer before its numbers:

=====================================================  =============================================================
the reference returns                                  the student's code may return
=====================================================  =============================================================
a torch.Tensor (any shape, 0-d included)               a torch.Tensor on the device of the check's inputs
a numpy.ndarray, a numpy scalar or a Python number     any of these: a float, a numpy float64 and a 0-d array are the
                                                       same answer to a scalar question (the shape and dtype are
                                                       judged next, so a float where an array of shape (3,) is asked
                                                       fails on its shape)
a tuple or a list                                      a tuple or a list (each element judged by this table): the
                                                       stubs document groups of results as ``(dx, dw, db)``, which a
                                                       caller unpacks the same from either
None (an optional answer)                              anything: whether there is an answer is the check's question
=====================================================  =============================================================

So a list of numbers (``x.tolist()``) or a torch.Tensor where a numpy.ndarray is asked fails, and so do a
numpy.ndarray where a torch.Tensor is asked and a 0-d tensor where a float is asked. A value computed in the
grading process (no :class:`Returned`) is judged on its numbers alone.

A comparison can also name a known mistake: the check passes the outputs of known-wrong variants of the reference
(computed on the grader's own copies of the inputs), and when the student's answer matches one of them, the
failure says which mistake it is and how to fix it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = ["Mistake", "CheckFailed", "Returned", "ReturnedArray", "ReturnedTuple", "assert_close", "kind_problem", "as_array", "describe"]


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


# ---- what the student's code returned --------------------------------------------------------------------------

_NUMBERS = ("ndarray", "numpy-scalar", "float", "int", "bool")  # the numpy family of kinds (see the table above)


@dataclass(frozen=True)
class Returned:
    """What a value was in the student's code: ``kind`` (tensor, ndarray, numpy-scalar, float, int, bool, tuple,
    list); ``fn``, the student function whose result it is or is part of, and ``at``, where in that result
    (``"[0]"``; ``""`` the result itself); a tensor's ``device`` and whether it required grad (``grad``)."""

    kind: str
    fn: str | None = None
    at: str = ""
    device: str | None = None
    grad: bool = False


class ReturnedArray(np.ndarray):
    """An array as the worker sent it back, with :attr:`returned`. Views and results of arithmetic are plain answers
    of the grading process (their ``returned`` is None)."""

    returned: Returned | None = None

    @staticmethod
    def of(array: Any, returned: Returned) -> ReturnedArray:
        value = np.asarray(array).view(ReturnedArray)
        value.returned = returned
        return value


class ReturnedTuple(tuple):
    """A tuple or list as the worker sent it back (a tuple either way, so checks unpack both), with :attr:`returned`."""

    returned: Returned | None

    def __new__(cls, items: Sequence[Any], returned: Returned) -> ReturnedTuple:
        self = super().__new__(cls, items)
        self.returned = returned
        return self


def _returned(value: Any) -> Returned | None:
    return value.returned if isinstance(value, (ReturnedArray, ReturnedTuple)) else None


def _tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")  # no tensor exists before torch is imported
    return torch is not None and isinstance(value, torch.Tensor)


def as_array(value: Any) -> np.ndarray:
    """A reference answer as an array of the grading process (a tensor detached and moved to the CPU)."""
    return value.detach().cpu().numpy() if _tensor(value) else np.asarray(value)


def _family(value: Any) -> str:
    """tensor, numpy or sequence: what a reference's answer (or a returned value) is, by the table above."""
    returned = _returned(value)
    if returned is not None:
        return "tensor" if returned.kind == "tensor" else "numpy" if returned.kind in _NUMBERS else "sequence"
    if _tensor(value):
        return "tensor"
    return "sequence" if isinstance(value, (tuple, list)) else "numpy"


def _asked(want: Any) -> str:
    """What the contract asks for, from the reference's answer."""
    family = _family(want)
    if family == "tensor":
        return "a torch.Tensor"
    if family == "sequence":
        return f"a tuple of {len(want)} values"
    array = np.asarray(want)
    if array.ndim:
        return "a numpy.ndarray"
    number = {"b": "a bool", "i": "an int", "u": "an int"}.get(array.dtype.kind, "a float")
    return f"{number} (a Python or numpy scalar, or a 0-d numpy.ndarray)"


def _must(returned: Returned, asked: str) -> str:
    if returned.fn is None:
        return f"expected {asked}"
    if returned.at:
        return f"{returned.fn}(...){returned.at} must be {asked}"
    return f"{returned.fn} must return {asked}"


def kind_problem(got: Any, want: Any, *, device: str = "cpu") -> str | None:
    """Why the kind of ``got`` (a value the worker returned) is not the kind of the reference's answer ``want``,
    by the table above, the elements of a tuple included; None when it is, when ``got`` was computed in the grading
    process, or when ``want`` is None (an optional answer: whether there is one is the check's question). ``device``:
    where the check's inputs were sent (cpu, cuda), so where a returned tensor belongs."""
    returned = _returned(got)
    if returned is None or want is None:
        return None
    family = _family(want)
    if _family(got) != family:
        return f"returned {describe(got)}; {_must(returned, _asked(want))}"
    if family == "tensor" and (returned.device or "cpu").split(":")[0] != device:
        return f"returned a torch.Tensor on {returned.device}; {_must(returned, f'a torch.Tensor on {device}, the device of its inputs')}"
    if family == "sequence" and len(got) == len(want):  # another length is the check's to explain
        return next((problem for g, w in zip(got, want) if (problem := kind_problem(g, w, device=device))), None)
    return None


def describe(value: Any) -> str:
    """What a value is, for messages: a returned one as the student's code had it ("a list of 12 numbers")."""
    if value is None:
        return "None"
    returned = _returned(value)
    if isinstance(value, (tuple, list)):
        kind = returned.kind if returned else type(value).__name__
        if not value:
            return f"an empty {kind}"
        items = "number" if all(not isinstance(v, (tuple, list)) and np.ndim(v) == 0 for v in value) else "value"
        return f"a {kind} of {len(value)} {items}{'s' if len(value) > 1 else ''}"
    if _tensor(value):
        return f"a torch.Tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
    if returned is None:
        return f"shape {tuple(value.shape)}, dtype {value.dtype}"
    if returned.kind == "tensor":
        return f"a torch.Tensor of shape {tuple(value.shape)}, dtype torch.{value.dtype}, on {returned.device}"
    if returned.kind == "ndarray":
        return f"a numpy.ndarray of shape {tuple(value.shape)}, dtype {value.dtype}"
    if returned.kind == "numpy-scalar":
        return f"a numpy.{value.dtype} scalar"
    return f"a Python {returned.kind}"


def _fmt(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, (float, np.floating)) else str(x)


def _dtype_problem(got: np.ndarray, want: np.ndarray) -> str | None:
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
    if got.shape != want.shape or _dtype_problem(got, want):
        return False
    return bool(np.all(np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)))


def _named(what: str, got: np.ndarray, variants: Sequence[tuple[Mistake, Any]], rtol: float, atol: float) -> None:
    for mistake, variant in variants:
        if _matches(got, as_array(variant), rtol, atol):
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
    device: str = "cpu",
) -> None:
    """Raise CheckFailed unless ``got`` is of the kind of the reference's answer ``want`` (the table above; ``device``:
    where the check's inputs were sent), has its shape and dtype kind, and every element is within tolerance."""
    problem = kind_problem(got, want, device=device)
    if problem:
        raise CheckFailed(f"{what}: {problem}")
    want = as_array(want)
    if not isinstance(got, np.ndarray):
        raise CheckFailed(f"{what}: returned {describe(got)}; expected an array of {describe(want)}")
    problem = _dtype_problem(got, want)
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
