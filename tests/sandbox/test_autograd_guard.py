"""The autograd guard: every way into torch's autodiff is refused inside it, and torch works again outside it."""

from __future__ import annotations

import pytest
import torch

from autograder.sandbox.autograd_guard import AutogradNotAllowed, forbidden


def _leaf() -> torch.Tensor:
    return torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)


def _swallowed() -> None:
    try:
        (_leaf() ** 2).sum().backward()
    except RuntimeError:
        pass


def _engine_replaced() -> None:
    from torch.autograd.variable import Variable

    Variable._execution_engine = next(c for c in object.__subclasses__() if c.__name__ == "_EngineBase")()


ROUTES = [
    pytest.param(lambda: (_leaf() ** 2).sum().backward(), "backward engine", id="Tensor.backward"),
    pytest.param(lambda: torch.autograd.grad((_leaf() ** 2).sum(), _leaf()), "backward engine", id="autograd.grad"),
    pytest.param(lambda: torch.autograd.functional.jacobian(lambda x: x**2, torch.ones(2)), "backward engine", id="functional.jacobian"),
    pytest.param(lambda: torch.func.grad(lambda x: (x**2).sum())(torch.ones(2)), "backward engine", id="func.grad"),
    pytest.param(lambda: torch.func.jacrev(lambda x: x**2)(torch.ones(2)), "backward engine", id="func.jacrev"),
    pytest.param(lambda: torch.func.jacfwd(lambda x: x**2)(torch.ones(2)), "forward-mode", id="func.jacfwd"),
    pytest.param(lambda: torch.func.jvp(lambda x: x**2, (torch.ones(2),), (torch.ones(2),)), "forward-mode", id="func.jvp"),
    pytest.param(lambda: torch.autograd.forward_ad.dual_level().__enter__(), "forward-mode", id="forward_ad.dual_level"),
    pytest.param(lambda: torch._C._ImperativeEngine().run_backward(((_leaf() ** 2).sum(),), (torch.ones((), dtype=torch.float64),), False, False, (), True, True), "a new torch._C._ImperativeEngine", id="fresh-C-engine"),
    pytest.param(_swallowed, "backward engine", id="refusal-caught-by-the-code"),
    pytest.param(_engine_replaced, "its guard was removed", id="guard-removed"),
]


@pytest.mark.parametrize("route, named", ROUTES)
def test_every_route_into_autodiff_is_refused_and_named(route, named: str):
    with pytest.raises(AutogradNotAllowed, match=named):
        with forbidden():
            route()
    x = _leaf()
    (x**2).sum().backward()  # restored: autograd works again after the block
    assert x.grad.tolist() == [2.0, 4.0]


def test_torch_without_autodiff_runs_untouched():
    with forbidden():
        y = torch.relu(torch.tensor([-1.0, 2.0])) @ torch.tensor([3.0, 4.0])
    assert y.item() == 8.0


def test_the_guard_does_not_hide_the_codes_own_error():
    with pytest.raises(ZeroDivisionError):
        with forbidden():
            1 / 0
