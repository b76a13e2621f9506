"""The recorded reference: a call with components and layers of nets (a flow) replays its value and its gradients."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch

from autograder.course.recorded import NotRecorded, Recorder, load
from autograder.sandbox import components

RNG = np.random.default_rng(0)


def _reference() -> types.ModuleType:
    def log_prob(x, layers, base):
        z = x
        for layer in layers:
            z = z + layer["shift"](z)
        return base.log_prob(z)

    return types.SimpleNamespace(log_prob=log_prob)  # type: ignore[return-value]


def _inputs():
    weights = [torch.tensor(RNG.standard_normal(s), requires_grad=True) for s in ((3, 2), (3,), (2, 3), (2,))]
    layers = [{"mask": torch.tensor([1.0, 0.0]), "shift": components.build("mlp", *weights, device="cpu")}]
    return torch.tensor(RNG.standard_normal((4, 2))), layers, components.build("standard_normal", np.array(2), device="cpu"), weights


def test_a_call_on_components_replays_its_value_and_its_gradient_through_their_weights(tmp_path):
    x, layers, base, weights = _inputs()
    recorder = Recorder(module=_reference())
    upstream = torch.tensor(RNG.standard_normal(4))
    value = recorder.log_prob(x, layers, base)
    grads = torch.autograd.grad(value, weights, upstream)
    recorder.record.save(tmp_path / "answers.npz")
    replay = load(path=tmp_path / "answers.npz", topic="flows")
    again = replay.log_prob(x, layers, base)
    np.testing.assert_array_equal(again.detach(), value.detach())
    for got, want in zip(torch.autograd.grad(again, weights, upstream), grads):
        np.testing.assert_array_equal(got, want)


def test_other_weights_are_another_call(tmp_path):
    x, layers, base, weights = _inputs()
    recorder = Recorder(module=_reference())
    recorder.log_prob(x, layers, base)
    recorder.record.save(tmp_path / "answers.npz")
    replay = load(path=tmp_path / "answers.npz", topic="flows")
    moved = [{**layers[0], "shift": components.build("mlp", *(w.detach() + 1e-12 for w in weights), device="cpu")}]
    with pytest.raises(NotRecorded, match="has no answer for log_prob"):
        replay.log_prob(x, moved, base)
