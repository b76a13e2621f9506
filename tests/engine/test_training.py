"""The grader-side optimizer of behaviour checks: it must be torch.optim.Adam, step for step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.engine.training import Adam

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("lr, betas", [(1e-2, (0.9, 0.999)), (0.3, (0.5, 0.9))], ids=["default-betas", "other-betas"])
def test_adam_matches_torch_step_for_step(lr, betas):
    start = {"w": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(3)}
    ours = Adam(start, lr=lr, betas=betas)
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    optimizer = torch.optim.Adam(list(theirs.values()), lr=lr, betas=betas)
    for _ in range(5):
        grads = {k: RNG.standard_normal(v.shape) for k, v in start.items()}
        for k, p in theirs.items():
            p.grad = torch.tensor(grads[k])
        optimizer.step()
        new = ours.step(grads)
        for k in start:
            np.testing.assert_allclose(new[k], theirs[k].detach().numpy(), rtol=1e-12, atol=1e-15)


def test_adam_returns_copies_and_leaves_its_input_alone():
    start = {"w": np.ones(2)}
    adam = Adam(start, lr=0.1)
    new = adam.step({"w": np.ones(2)})
    new["w"][:] = 99.0
    assert start["w"].tolist() == [1.0, 1.0] and adam.params["w"].tolist() == pytest.approx([0.9, 0.9])


@pytest.mark.parametrize(
    "grads, message",
    [({"v": np.ones(2)}, r"gradients for \['v'\], parameters \['w'\]"), ({"w": np.ones(3)}, r"the gradient of 'w' has shape \(3,\), the parameter \(2,\)")],
    ids=["other-names", "other-shape"],
)
def test_adam_refuses_gradients_that_do_not_fit(grads, message):
    with pytest.raises(ValueError, match=message):
        Adam({"w": np.zeros(2)}, lr=0.1).step(grads)
