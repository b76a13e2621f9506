"""Units of a stub, a unit removed from the reference, what reaches what, and the partial-credit rule."""

from __future__ import annotations

import pytest

from autograder.selftest.runner import _partial_credit
from autograder.selftest.units import reach, remove, units

STUB = '''
import numpy as np


def sgd(params, grads):
    """One step."""
    raise NotImplementedError("sgd")


def _helper():
    return 1


class Value:
    def __init__(self, data):
        self.data = data

    def __add__(self, other):
        """Sum."""
        raise NotImplementedError

    def log(self):
        raise NotImplementedError("log")
'''
REFERENCE = '''
import numpy as np


def sgd(params, grads):
    """One step."""
    step = grads * 0.1
    return params - step


class Value:
    def __init__(self, data):
        self.data = data

    def __add__(self, other):
        """Sum."""
        return Value(self.data + other.data)

    def __radd__(self, other):
        return self + other

    def log(self):
        return Value(np.log(self.data))


def train(x):
    return sgd(x, x)
'''


def test_units_are_what_the_stub_leaves_raising_not_implemented():
    assert units(STUB) == ["sgd", "Value.__add__", "Value.log"]


@pytest.mark.parametrize("unit, kept, gone", [
    pytest.param("sgd", '    """One step."""\n    raise NotImplementedError\n\n\nclass Value:', "step = grads * 0.1", id="function-keeps-its-docstring"),
    pytest.param("Value.log", "    def log(self):\n        raise NotImplementedError\n", "np.log(self.data)", id="method"),
])
def test_remove_replaces_the_body_only(unit, kept, gone):
    removed = remove(REFERENCE, unit)
    assert kept in removed.source and gone not in removed.source
    compile(removed.source, "<removed>", "exec")


def test_remove_names_an_unknown_unit():
    with pytest.raises(KeyError, match="the reference defines no 'nope'"):
        remove(REFERENCE, "nope")


@pytest.mark.parametrize("name, runs", [
    pytest.param("train", {"train", "sgd"}, id="call"),
    pytest.param("Value.__radd__", {"Value.__radd__", "Value.__add__", "Value.__init__"}, id="operator-and-constructor"),
    pytest.param("Value.log", {"Value.log", "Value.__init__"}, id="a-module-attribute-is-not-a-method"),
    pytest.param("sgd", {"sgd"}, id="numpy-arithmetic-reaches-no-method-of-its-own-module"),
])
def test_reach(name, runs):
    assert reach(REFERENCE)[name] >= runs
    assert "Value.log" not in reach(REFERENCE)["Value.__radd__"]


UNITS = ["sgd", "heavy_ball", "steps", "Value.__add__", "Value.backward"]
RUNS = {"steps": {"steps", "sgd", "heavy_ball"}, "sgd": {"sgd"}, "heavy_ball": {"heavy_ball"}, "Value.__add__": {"Value.__add__"}, "Value.backward": {"Value.backward"}}


@pytest.mark.parametrize("removed, combines, problems", [
    pytest.param({"sgd": ["sgd"], "heavy_ball": ["hb"]}, {"sgd": (), "hb": ()}, [], id="one-unit-per-check"),
    pytest.param({"sgd": ["sgd", "conv"], "heavy_ball": ["conv"], "steps": ["conv"]}, {"conv": ()}, [], id="units-the-reference-runs-are-its-own"),
    pytest.param({"sgd": ["both"], "heavy_ball": ["both"]}, {"both": ()}, ["check both loses its points when any of heavy_ball, sgd is missing"], id="bundled"),
    pytest.param({"Value.__add__": ["add"], "Value.backward": ["add"]}, {"add": ("Value.backward",)}, [], id="declared-combination"),
    pytest.param({"sgd": ["sgd"], "heavy_ball": []}, {"sgd": ()}, ["removing heavy_ball alone from the reference costs no check: nothing grades heavy_ball"], id="ungraded-unit"),
    pytest.param({"sgd": ["sgd"], "heavy_ball": ["hb"]}, {"sgd": ("heavy_ball",)}, ["check sgd declares combines='heavy_ball', but keeps its points without it"], id="needless-declaration"),
    pytest.param({"sgd": ["sgd"]}, {"sgd": ("adam",)}, ["check sgd declares combines='adam', which is not a unit of the stub"], id="unknown-unit"),
])
def test_partial_credit_rule(removed, combines, problems):
    found = _partial_credit(removed, RUNS, combines, [u for u in UNITS if u in removed])
    assert len(found) == len(problems) and all(f.startswith(p) for f, p in zip(found, problems)), found
