"""The grader-side optimizers of behaviour checks: each must be its torch.optim counterpart, step for step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.engine.training import SGD, Adam

RNG = np.random.default_rng(0)


OPTIMIZERS = [
    pytest.param(lambda p: Adam(p, lr=1e-2), lambda p: torch.optim.Adam(p, lr=1e-2), id="adam-default-betas"),
    pytest.param(lambda p: Adam(p, lr=0.3, betas=(0.5, 0.9)), lambda p: torch.optim.Adam(p, lr=0.3, betas=(0.5, 0.9)), id="adam-other-betas"),
    pytest.param(lambda p: SGD(p, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05), id="sgd"),
]


@pytest.mark.parametrize("make_ours, make_theirs", OPTIMIZERS)
def test_each_optimizer_matches_torch_step_for_step(make_ours, make_theirs):
    start = {"w": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(3)}
    ours = make_ours(start)
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    optimizer = make_theirs(list(theirs.values()))
    for _ in range(5):
        grads = {k: RNG.standard_normal(v.shape) for k, v in start.items()}
        for k, p in theirs.items():
            p.grad = torch.tensor(grads[k])
        optimizer.step()
        new = ours.step(grads)
        for k in start:
            np.testing.assert_allclose(new[k], theirs[k].detach().numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("optimizer", [Adam, SGD], ids=["adam", "sgd"])
def test_a_step_returns_copies_and_leaves_its_input_alone(optimizer):
    start = {"w": np.ones(2)}
    stepper = optimizer(start, lr=0.1)
    new = stepper.step({"w": np.ones(2)})
    new["w"][:] = 99.0
    assert start["w"].tolist() == [1.0, 1.0] and stepper.params["w"].tolist() == pytest.approx([0.9, 0.9])


@pytest.mark.parametrize("optimizer", [Adam, SGD], ids=["adam", "sgd"])
@pytest.mark.parametrize(
    "grads, message",
    [({"v": np.ones(2)}, r"gradients for \['v'\], parameters \['w'\]"), ({"w": np.ones(3)}, r"the gradient of 'w' has shape \(3,\), the parameter \(2,\)")],
    ids=["other-names", "other-shape"],
)
def test_an_optimizer_refuses_gradients_that_do_not_fit(optimizer, grads, message):
    with pytest.raises(ValueError, match=f"{optimizer.__name__}.step: {message}"):
        optimizer({"w": np.zeros(2)}, lr=0.1).step(grads)
