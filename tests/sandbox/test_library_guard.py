"""The library guard: a forbidden function is noticed however the code reaches it, and nothing else is."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.sandbox.library_guard import LibraryNotAllowed, forbidden

X, W = torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2)
RULES = ("torch.nn.functional.conv2d", "numpy.convolve", "torch.optim", "numpy.logaddexp", "not_imported_yet")


def _caught() -> None:
    try:
        F.conv2d(X, W)
        raise ValueError
    except ValueError:
        pass


def _by_name() -> None:
    getattr(sys.modules["torch.nn.functional"], "conv" + "2d")(X, W)


ROUTES = [
    pytest.param(lambda: F.conv2d(X, W), "torch.nn.functional.conv2d", id="F.conv2d"),
    pytest.param(lambda: torch.conv2d(X, W), "torch.nn.functional.conv2d", id="alias-torch.conv2d"),
    pytest.param(lambda: torch.nn.Conv2d(1, 1, 2)(X), "torch.nn.functional.conv2d", id="through-nn.Conv2d"),
    pytest.param(_by_name, "torch.nn.functional.conv2d", id="looked-up-by-name"),
    pytest.param(_caught, "torch.nn.functional.conv2d", id="the-code-carries-on-afterwards"),
    pytest.param(lambda: np.convolve([1.0, 2.0], [3.0]), "numpy.convolve", id="dispatching-numpy-function"),
    pytest.param(lambda: torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), r"torch\.optim\.sgd\.SGD\.__init__", id="anything-in-a-module"),
    pytest.param(lambda: np.logaddexp(1.0, 2.0), "numpy.logaddexp", id="a-ufunc-through-its-module"),
    pytest.param(lambda: sys.setprofile(None), "the grader's watch for forbidden library code was removed", id="guard-removed"),
]


@pytest.mark.parametrize("route, named", ROUTES)
def test_every_route_to_a_forbidden_function_is_named(route, named: str):
    with pytest.raises(LibraryNotAllowed, match=named):
        with forbidden(RULES):
            route()
    assert sys.getprofile() is None and np.logaddexp(0.0, 0.0) == np.log(2.0)  # hook and watch are gone afterwards
    assert type(np.logaddexp).__name__ == "ufunc"


@pytest.mark.parametrize("allowed", [
    pytest.param(lambda: F.unfold(X, 2), id="a-neighbour-in-the-same-module"),
    pytest.param(lambda: np.correlate([1.0, 2.0], [3.0]), id="a-neighbour-numpy-function"),
    pytest.param(lambda: __import__("torch.optim.lr_scheduler"), id="importing-is-not-using"),
])
def test_everything_else_runs_untouched(allowed):
    with forbidden(RULES):
        allowed()


def test_nothing_forbidden_installs_no_hook():
    with forbidden(()):
        assert sys.getprofile() is None


def test_the_guard_does_not_hide_the_codes_own_error():
    with pytest.raises(ZeroDivisionError), forbidden(RULES):
        1 / 0
