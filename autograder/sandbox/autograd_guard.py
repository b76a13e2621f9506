"""Refusing torch.autograd while a hand-written backward pass runs (worker side).

A check that grades a backward pass written by hand declares ``autograd=False``; the worker then runs the
student's code with torch's differentiation engines replaced by a guard. Every way into reverse mode
(``Tensor.backward``, ``torch.autograd.grad``, ``torch.autograd.functional``, ``torch.func.grad``/``vjp``/``jacrev``)
ends in ``Variable._execution_engine``; forward mode (``torch.autograd.forward_ad``, ``torch.func.jvp``/``jacfwd``)
must enter a dual level first. A use is recorded even when the student's code catches the error, and a guard the
code removed counts as a use. This detects the APIs; it does not stop code written to evade it, which can still
reach the engine's C class another way (``object.__subclasses__()``) or keep a handle taken before the check ran.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import Any, Iterator

__all__ = ["AutogradNotAllowed", "forbidden"]


class AutogradNotAllowed(RuntimeError):
    """Student code asked torch to differentiate where the backward pass is to be written by hand."""


class _Refusal:
    """Stands in for an engine or an entry point: any use is recorded, then refused."""

    def __init__(self, what: str, uses: list[str]):
        self._what, self._uses = what, uses

    def _refuse(self) -> AutogradNotAllowed:
        self._uses.append(self._what)
        return AutogradNotAllowed(f"{self._what} was called; this exercise is to compute the gradient by hand, without torch.autograd")

    def __getattr__(self, name: str) -> Any:
        raise self._refuse()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise self._refuse()


# (module, attribute, what a student did to reach it)
_ENTRY_POINTS = (
    ("torch.autograd.variable", "Variable._execution_engine", "torch's backward engine (Tensor.backward, torch.autograd.grad, torch.func)"),
    ("torch._C", "_ImperativeEngine", "torch's backward engine (a new torch._C._ImperativeEngine)"),
    ("torch._functorch.predispatch", "_enter_dual_level", "forward-mode autodiff (torch.autograd.forward_ad, torch.func.jvp)"),
    ("torch._C", "_enter_dual_level", "forward-mode autodiff (torch._C._enter_dual_level)"),
)


def _owner(module: str, attribute: str) -> tuple[Any, str] | None:
    try:
        owner: Any = importlib.import_module(module)
    except ImportError:
        return None
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    return (owner, name) if hasattr(owner, name) else None


@contextlib.contextmanager
def forbidden() -> Iterator[None]:
    """Run the block with torch's autodiff refused; raise AutogradNotAllowed afterwards if it was used."""
    uses: list[str] = []
    patched = []
    for module, attribute, what in _ENTRY_POINTS:
        found = _owner(module, attribute)
        if found is not None:
            owner, name = found
            guard = _Refusal(what, uses)
            patched.append((owner, name, getattr(owner, name), guard, what))
            setattr(owner, name, guard)
    try:
        yield
    finally:
        for owner, name, original, guard, what in patched:
            if getattr(owner, name, None) is not guard:
                uses.append(f"{what} (its guard was removed)")
            setattr(owner, name, original)
        if uses:  # also when the student's code caught the refusal and went on, or failed otherwise afterwards
            raise AutogradNotAllowed(f"{uses[0]} was used; this exercise is to compute the gradient by hand, without torch.autograd")
