"""The check API's programs: what a check asks the worker to run."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from autograder.engine.checks import Program, Trial


def _values(program: Program) -> list[dict]:
    return [s for s in program._steps if s["op"] == "value"]


def test_each_tensor_sent_is_its_own_even_when_it_is_a_temporary():
    """Tensors are matched by identity (so a gradient reaches the one passed in); a freed temporary's id is reused
    by the next object, which must still be sent as itself."""
    program = Program(SimpleNamespace(calls=set()))  # type: ignore[arg-type]
    for i in range(20):
        program.call("f", Trial.tensor(np.full(2, float(i))))
    assert len(_values(program)) == 20
    assert [a[0] for a in program._arrays] == [float(i) for i in range(20)]


def test_one_tensor_passed_twice_is_one_worker_tensor():
    program = Program(SimpleNamespace(calls=set()))  # type: ignore[arg-type]
    x = Trial.tensor(np.ones(3), grad=True)
    program.call("f", x, x)
    program.call("g", x)
    assert len(_values(program)) == 1


def test_a_loop_that_uses_its_iterate_twice_per_step_keeps_its_labels_short():
    """Each step's label names its arguments' labels; an iterate used twice per step would double it every step."""
    program = Program(SimpleNamespace(calls=set()))  # type: ignore[arg-type]
    x = program.call("start", Trial.tensor(np.ones(2)))
    for step in range(40):
        x = program.call("step", x, x, step)
    assert max(len(label) for label in program._labels) < 300
    assert "<the result of step>" in x.label and x.label.startswith("step(") and x.label.endswith(", 39)")
