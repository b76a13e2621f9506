"""The backprop topic: the graph oracle against the reference, a typical student engine, diagnoses, and submissions
that try to pass the hand-written checks without writing them."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.engine.results import FAILED, NOT_ATTEMPTED, PASSED
from checks.public.backprop import EACH_OP_GRAPH, EACH_OP_NAMES, PUBLIC_GRAPH, PUBLIC_NAMES, UNITS, expected_backward_graph, forward_graph, random_graph, torch_graph, unit_of
from solutions import backprop as ref

from conftest import ROOT, grade_source, statuses
from mistakes import known_mistakes

TOPIC = "backprop"
REFERENCE = (ROOT / "solutions" / f"{TOPIC}.py").read_text()
KNOWN = known_mistakes(TOPIC)
VALUE_CHECKS = {f"value_{unit.strip('_')}" for unit in UNITS} | {"value_forward", "value_pow_contract", "value_contract", "value_fan_out", "value_graphs", "hidden_value_graphs"}

GRAPHS = [
    pytest.param(dict(leaves=2, ops=8, recent=0.3, dead=1), id="shallow-wide"),
    pytest.param(dict(leaves=3, ops=20, recent=0.9), id="deep"),
    pytest.param(dict(leaves=4, ops=30, recent=0.5, dead=2, constants=False), id="no-constants-dead-branches"),
    pytest.param(dict(leaves=3, ops=20, recent=0.5, dead=1, units=("__sub__", "__mul__", "__rsub__", "__pow__", "exp", "relu"), corners=("relu", "pow")), id="some-operations-and-corners"),
]


def _with_value_class(source: str) -> str:
    """The reference with its Value class replaced by ``source``."""
    start, end = REFERENCE.index("class Value:"), REFERENCE.index("# ---- the backward graph")
    return REFERENCE[:start] + source + "\n\n" + REFERENCE[end:]


# ---- the oracle: random graphs, torch, and the reference agree ---------------------------------------------------


@pytest.mark.parametrize("params", GRAPHS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_graphs_have_forks_a_self_use_and_zero_gradients_off_the_output(params, seed: int):
    graph = random_graph(np.random.default_rng(seed), **params)
    uses = np.zeros(len(graph), int)
    for node in graph:
        for a in node.args:
            if isinstance(a, int):
                uses[a] += 1
    assert np.sum(uses >= 2) >= 2
    assert any(len(n.args) == 2 and n.args[0] == n.args[1] for n in graph)
    data, grads, _ = torch_graph(graph)
    assert np.all(np.isfinite(data)) and np.all(np.isfinite(grads))
    sinks = [i for i in range(len(graph) - 1) if uses[i] == 0]
    assert len(sinks) == params.get("dead", 0) and all(grads[i] == 0 for i in sinks)
    assert {unit_of(n) for n in graph if n.op != "leaf"} <= set(params.get("units", UNITS))
    if params.get("corners"):  # relu and ** 0 at a leaf 0, both reaching the output
        zero = next(i for i, n in enumerate(graph) if n.op == "leaf" and n.value == 0.0)
        at_zero = {n.op: i for i, n in enumerate(graph) if n.op in ("relu", "pow") and n.args[0] == zero and (n.op == "relu" or n.args[1] == 0.0)}
        assert set(at_zero) == {"relu", "pow"} and all(grads[i] != 0 for i in at_zero.values())
    assert random_graph(np.random.default_rng(seed), **params) == graph  # the same seed draws the same graph


@pytest.mark.parametrize("params", GRAPHS)
def test_reference_value_engine_matches_torch(params):
    graph = random_graph(np.random.default_rng(7), **params)
    data, grads, _ = torch_graph(graph)
    nodes = []
    for node in graph:
        operands = [nodes[a] if isinstance(a, int) else a for a in node.args]
        if node.op == "leaf":
            nodes.append(ref.Value(node.value))
        elif node.op in ("exp", "log", "tanh", "relu"):
            nodes.append(getattr(operands[0], node.op)())
        else:
            nodes.append({"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "truediv": lambda a, b: a / b, "pow": lambda a, b: a**b, "neg": lambda a: -a}[node.op](*operands))
    nodes[-1].backward()
    np.testing.assert_allclose([v.data for v in nodes], data, rtol=1e-12)
    np.testing.assert_allclose([v.grad for v in nodes], grads, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "graph, names",
    [
        pytest.param(PUBLIC_GRAPH, PUBLIC_NAMES, id="public-fork-and-dead-branch"),
        pytest.param(EACH_OP_GRAPH, EACH_OP_NAMES, id="every-operation"),
        *[pytest.param(random_graph(np.random.default_rng(s), leaves=3, ops=12, constants=False, dead=2), None, id=f"random-{s}") for s in range(3)],
    ],
)
def test_reference_backward_graph_matches_the_torch_oracle(graph, names):
    names = names or [f"n{i}" for i in range(len(graph))]
    values, edges, absent_nodes, absent_edges = expected_backward_graph(graph, names)
    got_values, got_edges = ref.backward_graph(forward_graph(graph, names))
    assert set(got_values) == set(values) and got_edges == edges
    for key, value in values.items():
        assert got_values[key] == pytest.approx(value, rel=1e-10, abs=1e-12), key
    assert not {k for k, _ in absent_nodes} & set(got_values) and not {e for e, _ in absent_edges} & got_edges


# ---- grading: a typical student's engine, and diagnoses ---------------------------------------------------------

MICROGRAD = '''
class Value:
    """A typical student engine: closures, a set of children, a recursive topological sort."""

    def __init__(self, data, _children=()):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)

    def _wrap(self, other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = self._wrap(other)
        out = Value(self.data + other.data, (self, other))
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._wrap(other)
        out = Value(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            raise TypeError("only numeric powers")
        if self.data < 0 and k != int(k):
            raise ValueError("no real power")
        out = Value(self.data ** k, (self,))
        def _backward():
            self.grad += (k * self.data ** (k - 1) if k else 0.0) * out.grad
        out._backward = _backward
        return out

    def _unary(self, value, local):
        out = Value(value, (self,))
        def _backward():
            self.grad += local * out.grad
        out._backward = _backward
        return out

    def exp(self):
        return self._unary(math.exp(self.data), math.exp(self.data))

    def log(self):
        return self._unary(math.log(self.data), 1 / self.data)

    def tanh(self):
        t = math.tanh(self.data)
        return self._unary(t, 1 - t * t)

    def relu(self):
        return self._unary(max(self.data, 0.0), float(self.data > 0))

    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other ** -1
    def __rtruediv__(self, other): return other * self ** -1

    def backward(self):
        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
'''


def test_a_micrograd_style_engine_scores_full_marks(grader):
    """Nothing in the checks depends on the reference's internals: closures, sets of children and a recursive sort
    (deep enough for the hidden chain of a few hundred operations) pass."""
    result = grade_source(grader, _with_value_class(MICROGRAD), TOPIC)
    assert {c.id: c.message for c in result.checks if c.status != PASSED} == {}


@pytest.mark.parametrize(
    "replace, with_, check, message",
    [
        pytest.param("return self._unary(t, 1 - t * t)", "return self._unary(t, t)", "value_tanh", r"v0 = Value\([-\d.]+\), v1 = v0.tanh\(\); v1.backward\(\) \(2 nodes; out = v1\): v0 has gradient [-\d.]+, expected [-\d.]+. Its only use \(v1 = v0.tanh\(\): [-\d.]+\) has the right gradient, so the local derivative passed back through that operation is wrong", id="local-derivative"),
        pytest.param("self.grad = 1.0\n        for v in reversed(topo)", "for v in reversed(topo)", "value_add", r"the gradient of the output itself, v2, is 0; expected 1 \(backward\(\) starts from d out/d out = 1\)", id="output-gradient-not-seeded"),
        pytest.param("return self._unary(math.exp(self.data), math.exp(self.data))", "return self._unary(math.exp(self.data) + 1, math.exp(self.data))", "value_forward", r"v\d+ = v0.exp\(\): .data is [\d.]+, expected [\d.]+", id="forward-value"),
        pytest.param("def __rsub__(self, other): return other + (-self)", "", "value_rsub", r"^v1 = [-\d.]+ - v0 with v0 = [-\d.]+ raised TypeError: unsupported operand type\(s\) for -: 'float' and 'Value'", id="missing-reflected-operator"),
        pytest.param("def __truediv__(self, other): return self * other ** -1", "def __truediv__(self, other): return Value(self.data / self._wrap(other).data, (self, 1))", "value_truediv", r"^v2.backward\(\) on v0 = Value\([-\d.]+\), v1 = Value\([-\d.]+\), v2 = v0 / v1 raised AttributeError: 'int' object has no attribute '_prev'", id="backward-of-a-broken-operation"),
        pytest.param("def __truediv__(self, other): return self * other ** -1", "def __truediv__(self, other): return Value(self.data / self._wrap(other).data, (self, 1))", "value_graphs", r"^v\d+.backward\(\) on a graph of \d+ nodes, out = v\d+ \(backward\(\) runs on every node before v(\d+) and raises on v\1 = v\d+ / (v\d+|[-\d.]+) with v\d+ = [-\d.]+.*: look there\) raised AttributeError", id="backward-traced-to-its-node"),
    ],
)
def test_value_failures_say_which_node_and_why(grader, replace: str, with_: str, check: str, message: str):
    source = _with_value_class(MICROGRAD)
    assert source.count(replace) == 1
    result = grade_source(grader, source.replace(replace, with_), TOPIC)
    failed = next(c for c in result.checks if c.id == check)
    assert failed.status == FAILED and failed.mistake is None
    assert re.search(message, failed.message), failed.message


@pytest.mark.parametrize(
    "replace, with_, lost",
    [
        pytest.param("    def log(self):\n        return self._unary(math.log(self.data), 1 / self.data)\n", "    def log(self):\n        raise NotImplementedError\n", {"value_log": NOT_ATTEMPTED}, id="no-log"),
        pytest.param("def __rsub__(self, other): return other + (-self)", "", {"value_rsub": FAILED}, id="no-rsub-method"),
        pytest.param("self.grad += (k * self.data ** (k - 1) if k else 0.0) * out.grad", "self.grad += k * self.data ** (k - 1) * out.grad", {"value_pow_contract": FAILED}, id="pow-derivative-at-0-divides-by-0"),
    ],
)
def test_an_engine_missing_one_operation_loses_only_its_check(grader, replace: str, with_: str, lost: dict[str, str]):
    """The random graphs are built from the operations that run, so a missing (or edge-case) operation costs only its
    own check: the best-known real engine has no log, and karpathy's ** divides by 0 at 0 ** 0."""
    source = _with_value_class(MICROGRAD)
    assert source.count(replace) == 1
    result = grade_source(grader, source.replace(replace, with_), TOPIC)
    assert {c.id: c.status for c in result.checks if c.status != PASSED} == lost


def test_the_reference_power_is_real_and_its_derivative_at_k_0_is_0():
    x = ref.Value(0.0)
    y = x**0
    y.backward()
    assert (y.data, x.grad) == (1.0, 0.0)
    values, _ = ref.backward_graph([{"name": "x", "op": "input", "value": 0.0}, {"name": "L", "op": "pow", "inputs": ["x"], "exponent": 0}])
    assert values[("partial", "L", "x")] == values[("grad", "x")] == 0.0
    with pytest.raises(ValueError):
        ref.Value(-8.0) ** (1 / 3)
    with pytest.raises(ValueError):
        ref.backward_graph([{"name": "x", "op": "input", "value": -8.0}, {"name": "L", "op": "pow", "inputs": ["x"], "exponent": 0.5}])
    for k in (-1, 0.5):
        with pytest.raises(ZeroDivisionError):
            ref.Value(0.0) ** k


# ---- submissions that try to pass without doing the work ---------------------------------------------------------

TORCH_VALUE = '''
class Value:
    """An engine that lets torch differentiate: refused and named."""

    def __init__(self, data, _t=None):
        import torch
        self._t = torch.tensor(float(data), dtype=torch.float64, requires_grad=True) if _t is None else _t
        self._t.retain_grad()

    data = property(lambda self: self._t.item())
    grad = property(lambda self: 0.0 if self._t.grad is None else self._t.grad.item())

    def _op(self, fn, *others):
        return Value(0.0, fn(self._t, *[o._t if isinstance(o, Value) else o for o in others]))

    def __add__(self, o): return self._op(lambda a, b: a + b, o)
    def __radd__(self, o): return self._op(lambda a, b: b + a, o)
    def __sub__(self, o): return self._op(lambda a, b: a - b, o)
    def __rsub__(self, o): return self._op(lambda a, b: b - a, o)
    def __mul__(self, o): return self._op(lambda a, b: a * b, o)
    def __rmul__(self, o): return self._op(lambda a, b: b * a, o)
    def __truediv__(self, o): return self._op(lambda a, b: a / b, o)
    def __rtruediv__(self, o): return self._op(lambda a, b: b / a, o)
    def __neg__(self): return self._op(lambda a: -a)
    def __pow__(self, k): return self._op(lambda a: a ** k)
    def exp(self): return self._op(lambda a: a.exp())
    def log(self): return self._op(lambda a: a.log())
    def tanh(self): return self._op(lambda a: a.tanh())
    def relu(self): return self._op(lambda a: a.relu())
    def backward(self): self._t.backward()
'''


def test_a_value_engine_built_on_torch_autograd_earns_nothing_for_its_gradients(grader):
    result = grade_source(grader, _with_value_class(TORCH_VALUE), TOPIC)
    by_id = {c.id: c for c in result.checks}
    for check_id in VALUE_CHECKS - {"value_forward"}:
        assert by_id[check_id].status == FAILED, check_id
        assert by_id[check_id].mistake and by_id[check_id].mistake["id"] == "uses-autograd", (check_id, by_id[check_id].message)
    assert "torch's backward engine" in by_id["value_graphs"].message
    assert by_id["value_forward"].status == PASSED  # the forward values are honest work


ALWAYS_THERE = '''
class _Everything(dict):
    def __contains__(self, key):
        return True


def backward_graph(forward_graph):
    values, edges = _reference_backward_graph(forward_graph)
    return _Everything(values), _Everything.fromkeys(edges)
'''


def test_a_container_that_claims_every_node_fails_the_structure_check_without_a_mistake_name(grader):
    source = REFERENCE.replace("def backward_graph(", "def _reference_backward_graph(") + ALWAYS_THERE
    result = grade_source(grader, source, TOPIC)
    check = next(c for c in result.checks if c.id == "backward_graph_structure")
    assert check.status == FAILED and check.mistake is None
    assert "nodes that must not be there" in check.message
    assert statuses(result)["backward_graph_values"] == PASSED


def test_gradients_returned_as_value_objects_are_refused_with_a_clear_message(grader):
    """A common slip: .grad accumulates Values (other instead of other.data); the worker hands back numbers only."""
    source = _with_value_class(MICROGRAD.replace("self.grad += other.data * out.grad", "self.grad += other * out.grad"))
    result = grade_source(grader, source, TOPIC)
    check = next(c for c in result.checks if c.id == "value_mul")
    assert check.status == FAILED
    assert "returned an object of type Value; expected an array, a tensor or a number" in check.message


# ---- Value.grad is a number: a tensor there is not the contract, whatever its value -------------------------------

GRAD_AS_TENSOR = """
import torch

_reference_backward = Value.backward


def _backward(self):
    _reference_backward(self)
    self.grad = torch.tensor(self.grad, dtype=torch.float64)


Value.backward = _backward
"""


def test_a_gradient_held_as_a_tensor_fails_saying_so(grader):
    result = grade_source(grader, REFERENCE + GRAD_AS_TENSOR, TOPIC, checks=["value_contract", "value_add"])
    for c in result.checks:
        assert c.status == FAILED and ".grad" in c.message and "returned a torch.Tensor of shape (), dtype torch.float64, on cpu; expected a float" in c.message, (c.id, c.message)
