"""Public checks of the backprop topic: inputs drawn from the trial's rng (the public seed in a student's own run, the
same every run; fresh ones when the course grades); students run these themselves.

Every check here grades gradients computed by hand, so it is declared ``autograd=False``: the student's code runs
with torch's autodiff refused, and a use of it is named (USES_AUTOGRAD). The expected values come from
torch.autograd in float64 *here*, in the grading process: on expression graphs for the Value engine and the
backward graph, and the reference (checked against central differences of its own forward) for the layers.

Expression graphs are data: a list of :class:`Node` in creation order, so every node's consumers come after it.
The check drives the student's Value class in the worker with Python's own operators and reads back only numbers.
When a gradient is wrong, the diagnosis looks at the *last* wrong node in creation order: all its consumers have
the right gradient, so either one local derivative is wrong (the node has one use) or the uses were not summed.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from autograder.engine.checks import Mistake, Trial, check
from autograder.engine.compare import describe

FORK_OVERWRITE = Mistake(
    "fork-overwrite",
    "the gradient of a node used more than once keeps only one use's contribution (= instead of +=)",
    "dL/dn = sum over the uses of n of dL/do * do/dn: accumulate with grad += ..., starting from 0, "
    "and let every consumer add its part before n passes its gradient on (reverse topological order).",
)
DEAD_BRANCH = Mistake(
    "dead-branch-included",
    "the backward graph has nodes for a branch that does not reach the loss",
    "Step 1 adds do/dn only for outputs o that have a path to the loss, and step 2 a dL/dn only for such nodes n: "
    "walk back from the loss and skip the rest.",
)
BIAS_NOT_SUMMED = Mistake(
    "bias-grad-not-summed",
    "the bias gradient is averaged over the batch (or not reduced at all) instead of summed",
    "Every example adds the same b, so db = dY.sum(axis=0); the 1/N of a mean loss is already inside dY.",
)
WEIGHT_GRAD_TRANSPOSED = Mistake(
    "weight-grad-transposed",
    "the weight gradient is transposed: X^T dY instead of dY^T X",
    "dW must have W's shape (out, in): for Y = X W^T + b, dW = dY^T X.",
)
MISSING_MEAN = Mistake(
    "missing-1/N",
    "the softmax cross-entropy gradient is missing the 1/N of the mean over the batch: N times too large",
    "The loss is the mean over the N examples, so dL/dlogits = (softmax(logits) - onehot(targets)) / N.",
)

# Gradients written by hand against central differences of the reference forward: torch.autograd.gradcheck's
# default tolerances (numerics.md), with its step size.
GRADCHECK_RTOL, GRADCHECK_ATOL, FD_EPS = 1e-3, 1e-5, 1e-6


# ---- expression graphs -----------------------------------------------------------------------------------------

BINARY = {"add": "+", "sub": "-", "mul": "*", "truediv": "/"}
METHODS = ("exp", "log", "tanh", "relu")


@dataclass(frozen=True)
class Node:
    """``op`` is "leaf" (``value`` is its data), a binary operator (BINARY), "pow", "neg" or a method (METHODS).
    ``args`` are operands: an int is the index of an earlier node, a float a constant (pow's exponent is one)."""

    op: str
    args: tuple[Any, ...] = ()
    value: float = 0.0


def describe_node(graph: Sequence[Node], i: int) -> str:
    node = graph[i]

    def arg(a: Any) -> str:
        return f"v{a}" if isinstance(a, int) else f"{a:g}"

    if node.op == "leaf":
        rhs = f"Value({node.value:.6g})"
    elif node.op in BINARY:
        rhs = f" {BINARY[node.op]} ".join(arg(a) for a in node.args)
    elif node.op == "pow":
        rhs = f"v{node.args[0]} ** {node.args[1]:g}"
    elif node.op == "neg":
        rhs = f"-v{node.args[0]}"
    else:
        rhs = f"v{node.args[0]}.{node.op}()"
    return f"v{i} = {rhs}"


def torch_graph(graph: Sequence[Node]) -> tuple[np.ndarray, np.ndarray, list[list[tuple[int, float]]]]:
    """Forward values and d out/d v_i (0 where v_i does not reach the output) by torch.autograd in float64, and per
    node the local partial derivatives d v_i/d operand for each operand that is a node: [(operand, partial), ...]."""
    values: list[torch.Tensor] = []
    for node in graph:
        if node.op == "leaf":
            v = torch.tensor(node.value, dtype=torch.float64, requires_grad=True)
        else:
            operands = [values[a] if isinstance(a, int) else torch.tensor(a, dtype=torch.float64) for a in node.args]
            v = _torch_op(node.op, operands)
            v.retain_grad()
        values.append(v)
    values[-1].backward()
    data = np.array([v.item() for v in values])
    grads = np.array([0.0 if v.grad is None else v.grad.item() for v in values])
    partials = []
    for node in graph:
        if node.op == "leaf":
            partials.append([])
            continue
        operands = [torch.tensor(data[a], dtype=torch.float64, requires_grad=True) if isinstance(a, int) else torch.tensor(a, dtype=torch.float64) for a in node.args]
        wrt = [(a, x) for a, x in zip(node.args, operands) if isinstance(a, int)]
        local = torch.autograd.grad(_torch_op(node.op, operands), [x for _, x in wrt])
        partials.append([(a, g.item()) for (a, _), g in zip(wrt, local)])
    return data, grads, partials


def _torch_op(op: str, x: list[torch.Tensor]) -> torch.Tensor:
    if op in BINARY:
        return {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "truediv": torch.div}[op](x[0], x[1])
    if op == "pow":
        return x[0] ** x[1]
    if op == "neg":
        return -x[0]
    return getattr(torch, op)(x[0])


def build_value(p: Any, graph: Sequence[Node]) -> list[Any]:
    """The steps that build ``graph`` with the student's Value class (program ``p``), one named Var per node."""
    nodes: list[Any] = []
    for i, node in enumerate(graph):
        operands = [nodes[a] if isinstance(a, int) else a for a in node.args]
        if node.op == "leaf":
            v = p.call("Value", node.value)
        elif node.op in BINARY or node.op == "pow":
            v = p.operator(node.op, *operands)
        elif node.op == "neg":
            v = p.operator("neg", operands[0])
        else:
            v = p.method(operands[0], node.op)
        nodes.append(type(v)(v.name, f"v{i}"))
    return nodes


def drive_value(t: Trial, graph: Sequence[Node]) -> tuple[list[Any], list[Any]]:
    """Build the graph with the student's Value class in the worker, call backward() on the last node, and read
    every node's .data and .grad (after backward) back as numbers."""
    p = t.program()
    nodes = build_value(p, graph)
    p.method(nodes[-1], "backward")
    got = p.run(*[p.attr(v, "data") for v in nodes], *[p.attr(v, "grad") for v in nodes])
    return got[: len(graph)], got[len(graph) :]


def _close(t: Trial, got: Any, want: float) -> bool:
    rtol, atol = t.tolerance(np.float64)
    return isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "fiu" and bool(np.isclose(got, want, rtol=rtol, atol=atol))


def _number(got: Any) -> str:
    return f"{float(got):.6g}" if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "fiu" else describe(got)


def diagnose_fork(t: Trial, what: str, node: str, got: Any, want: float, uses: list[tuple[str, float]]) -> None:
    """Fail for a node whose consumers are right but whose own gradient is not. ``uses``: (description, contribution
    dL/do * do/dn) per use of the node, one per operand slot. A sum of only some uses is the fork mistake."""
    if not uses:
        t.fail(f"{what}: the gradient of the output itself, {node}, is {_number(got)}; expected {want:.6g} (backward() starts from d out/d out = 1)")
    listed = "; ".join(f"{d}: {c:.6g}" for d, c in uses)
    if len(uses) == 1:
        t.fail(f"{what}: {node} has gradient {_number(got)}, expected {want:.6g}. Its only use ({listed}) has the right gradient, so the local derivative passed back through that operation is wrong")
    for size in range(1, len(uses)):
        for subset in itertools.combinations(uses, size):
            if _close(t, got, sum(c for _, c in subset)):
                t.fail(
                    f"{what}: {node} has gradient {_number(got)}, expected {want:.6g}, the sum of its {len(uses)} uses' contributions ({listed}); "
                    f"you kept {size} of them; your answer matches a known mistake: {FORK_OVERWRITE.title}. {FORK_OVERWRITE.fix}",
                    mistake=FORK_OVERWRITE,
                )
    t.fail(f"{what}: {node} has gradient {_number(got)}, expected {want:.6g}: the sum of its {len(uses)} uses' contributions ({listed}), whose own gradients are right")


def judge_value_graph(t: Trial, graph: Sequence[Node], what: str) -> None:
    """Forward values of every node, then the gradient of every node after backward() on the last one."""
    data, grads, partials = torch_graph(graph)
    got_data, got_grads = drive_value(t, graph)
    for i, got in enumerate(got_data):
        if not _close(t, got, data[i]):
            t.fail(f"{what}: {describe_node(graph, i)}: .data is {_number(got)}, expected {data[i]:.6g}")
    wrong = [i for i, got in enumerate(got_grads) if not _close(t, got, grads[i])]
    if wrong:
        n = wrong[-1]
        uses = [(describe_node(graph, o), grads[o] * partial) for o in range(n + 1, len(graph)) for a, partial in partials[o] if a == n]
        diagnose_fork(t, f"{what} ({len(graph)} nodes; out = v{len(graph) - 1})", f"v{n}", got_grads[n], grads[n], uses)


def _ok(op: str, args: Sequence[Any], values: Sequence[float]) -> float | None:
    """The forward value of a candidate node, or None where it is too close to a kink or the edge of a domain (or its
    value or local derivative too large) for a graph whose gradients must be unambiguous and well conditioned."""
    x = [values[a] if isinstance(a, int) else a for a in args]
    near_edge = {
        "log": lambda: x[0] < 0.2,
        "relu": lambda: abs(x[0]) < 0.05,
        "exp": lambda: abs(x[0]) > 2.5,
        "truediv": lambda: abs(x[1]) < 0.3,
        "pow": lambda: x[0] < 0.2 if x[1] != int(x[1]) else x[1] < 0 and abs(x[0]) < 0.3,
    }
    if op in near_edge and near_edge[op]():
        return None
    result = float(_torch_op(op, [torch.tensor(v, dtype=torch.float64) for v in x]))
    return result if math.isfinite(result) and abs(result) < 30 else None


def random_graph(rng: np.random.Generator, *, leaves: int, ops: int, constants: bool = True, dead: int = 0, recent: float = 0.5) -> list[Node]:
    """A random expression graph: ``leaves`` Values, ``ops`` operations, then sums of the remaining sinks into one
    output. Forks always appear: at least two nodes used by two or more operations, and one operation that uses a
    node twice (x * x or x + x). ``recent``: the chance an operand is the newest node (deep chains) rather than any
    earlier one (wide fan-out). ``dead``: sinks left out of the output (their gradient is 0). ``constants``: plain
    numbers as operands of binary operations (2 * v, 1 - v)."""
    while True:
        graph = [Node("leaf", (), float(np.round(rng.uniform(-2, 2), 3))) for _ in range(leaves)]
        values = [n.value for n in graph]
        twice = False
        while len(graph) < leaves + ops:
            op = str(rng.choice(["add", "sub", "mul", "truediv", "pow", "neg", "exp", "log", "tanh", "relu"]))
            a = len(graph) - 1 if rng.random() < recent else int(rng.integers(len(graph)))
            if op in BINARY:
                r = rng.random()
                if r < 0.15:
                    args = (a, a)
                elif constants and r < 0.35:
                    c = float(rng.choice([0.5, 2.0, 3.0, -1.5]))
                    args = (c, a) if rng.random() < 0.5 else (a, c)
                else:
                    args = (a, int(rng.integers(len(graph))))
            elif op == "pow":
                args = (a, float(rng.choice([2.0, 3.0, -1.0, 0.5])))
            else:
                args = (a,)
            value = _ok(op, args, values)
            if value is not None:
                twice |= len(args) == 2 and args[0] == args[1]
                graph.append(Node(op, args))
                values.append(value)
        uses = np.zeros(len(graph), int)
        for node in graph:
            for a in node.args:
                if isinstance(a, int):
                    uses[a] += 1
        if not twice or np.sum(uses >= 2) < 2:
            continue
        sinks = [i for i in range(len(graph) - 1) if uses[i] == 0]
        if len(sinks) < dead:
            continue
        rng.shuffle(sinks)
        for i in sinks[dead:]:
            graph.append(Node("add", (len(graph) - 1, i)))
        return graph


# ---- the backward graph ----------------------------------------------------------------------------------------

FORWARD_OPS = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "pow": "pow", "neg": "neg", "exp": "exp", "log": "log", "tanh": "tanh", "relu": "relu"}


def forward_graph(graph: Sequence[Node], names: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The graph in backward_graph's input format (no constant operands: those graphs are built without them)."""
    names = list(names) if names else [f"v{i}" for i in range(len(graph))]
    out = []
    for i, node in enumerate(graph):
        if node.op == "leaf":
            out.append({"name": names[i], "op": "input", "value": node.value})
        elif node.op == "pow":
            out.append({"name": names[i], "op": "pow", "inputs": [names[node.args[0]]], "exponent": node.args[1]})
        else:
            out.append({"name": names[i], "op": FORWARD_OPS[node.op], "inputs": [names[a] for a in node.args]})
    return out


def expected_backward_graph(graph: Sequence[Node], names: Sequence[str]) -> tuple[dict[tuple, float], set[tuple], list[tuple[tuple, str]], list[tuple[tuple, str]]]:
    """From torch: the backward graph's node values and edges, and keys and edges that must *not* be there, each
    with the reason (a branch without a path to the loss; an edge the wrong way round)."""
    data, grads, partials = torch_graph(graph)
    reaches = {len(graph) - 1}
    for o in range(len(graph) - 1, -1, -1):
        if o in reaches:
            reaches.update(a for a, _ in partials[o])
    values: dict[tuple, float] = {("grad", names[-1]): 1.0}
    edges: set[tuple] = set()
    absent_nodes: list[tuple[tuple, str]] = []
    absent_edges: list[tuple[tuple, str]] = []
    for o, node in enumerate(graph):
        for n, local in partials[o]:
            partial, grad = ("partial", names[o], names[n]), ("grad", names[n])
            if o in reaches:
                values[partial] = values.get(partial, 0.0) + local
                values[grad] = float(grads[n])
                edges |= {(("node", names[o]), partial), (("node", names[n]), partial), (partial, grad), (("grad", names[o]), grad)}
                absent_edges.append(((grad, ("grad", names[o])), "an edge the wrong way: dL/dn flows from dL/do, not to it"))
            else:
                absent_nodes.append((partial, f"{names[o]} has no path to the loss"))
    absent_nodes += [(("grad", names[n]), f"{names[n]} has no path to the loss") for n in range(len(graph)) if n not in reaches]
    return values, edges, list(dict(absent_nodes).items()), list(dict(absent_edges).items())  # x * x: one key per pair


def _key(key: tuple) -> str:
    return "(" + ", ".join(repr(k) for k in key) + ")"


def judge_backward_graph_structure(t: Trial, graph: Sequence[Node], names: Sequence[str], what: str) -> None:
    """Which backward nodes and edges exist: every expected one, none of the wrong ones, nothing else."""
    values, edges, absent_nodes, absent_edges = expected_backward_graph(graph, names)
    p = t.program()
    result = p.call("backward_graph", forward_graph(graph, names))
    got_values, got_edges = p.method(result, "__getitem__", 0), p.method(result, "__getitem__", 1)
    node_keys, absent_keys = list(values), [k for k, _ in absent_nodes]
    edge_keys, wrong_edges = sorted(edges), [e for e, _ in absent_edges]
    answers = iter(p.run(
        p.method(got_values, "__len__"),
        p.method(got_edges, "__len__"),
        *[p.method(got_values, "__contains__", k) for k in node_keys + absent_keys],
        *[p.method(got_edges, "__contains__", e) for e in edge_keys + wrong_edges],
    ))
    count_nodes, count_edges = next(answers), next(answers)
    has = [a.shape == () and bool(a) if isinstance(a, np.ndarray) else False for a in answers]
    has_node, has_absent = has[: len(node_keys)], has[len(node_keys) : len(node_keys) + len(absent_keys)]
    has_edge, has_wrong = has[len(node_keys) + len(absent_keys) : len(has) - len(wrong_edges)], has[len(has) - len(wrong_edges) :]
    missing = [k for k, there in zip(node_keys, has_node) if not there]
    extra = [(k, why) for (k, why), there in zip(absent_nodes, has_absent) if there]
    if extra:
        listed = "; ".join(f"{_key(k)} ({why})" for k, why in extra[:4])
        if not missing and _close(t, count_nodes, len(node_keys) + len(extra)):
            t.fail(f"{what}: your backward graph has {listed}; your answer matches a known mistake: {DEAD_BRANCH.title}. {DEAD_BRANCH.fix}", mistake=DEAD_BRANCH)
        t.fail(f"{what}: your backward graph has nodes that must not be there: {listed}")
    if missing:
        t.fail(f"{what}: the backward graph's values lack {len(missing)} of its {len(node_keys)} nodes, e.g. {', '.join(_key(k) for k in missing[:4])}")
    if not _close(t, count_nodes, len(node_keys)):
        t.fail(f"{what}: the backward graph has {_number(count_nodes)} nodes; expected {len(node_keys)}: one ('partial', o, n) per output o of n with a path to the loss and one ('grad', n) per node n with a path to it")
    reversed_edges = [(e, why) for (e, why), there in zip(absent_edges, has_wrong) if there]
    if reversed_edges:
        t.fail(f"{what}: the backward graph has the edge {_key(reversed_edges[0][0])}: {reversed_edges[0][1]}")
    missing = [e for e, there in zip(edge_keys, has_edge) if not there]
    if missing:
        t.fail(f"{what}: the backward graph lacks {len(missing)} of its {len(edge_keys)} edges, e.g. {', '.join(_key(e) for e in missing[:3])}")
    if not _close(t, count_edges, len(edge_keys)):
        t.fail(f"{what}: the backward graph has {_number(count_edges)} edges; expected {len(edge_keys)} (each from o and n to do/dn, and from do/dn and dL/do to dL/dn)")


def judge_backward_graph_values(t: Trial, graph: Sequence[Node], names: Sequence[str], what: str) -> None:
    """The local partials and the gradients dL/dn, against torch; a wrong gradient at a fork is diagnosed."""
    values, _, _, _ = expected_backward_graph(graph, names)
    _, grads, partials = torch_graph(graph)
    p = t.program()
    result = p.call("backward_graph", forward_graph(graph, names))
    got_values = p.method(result, "__getitem__", 0)
    keys = list(values)
    got = dict(zip(keys, p.run(*[p.method(got_values, "get", k) for k in keys])))
    for k in keys:
        if k[0] == "partial" and not _close(t, got[k], values[k]):
            t.fail(f"{what}: the local partial {_key(k)} = d{k[1]}/d{k[2]} is {_number(got[k])}, expected {values[k]:.6g}")
    wrong = [n for n in range(len(graph)) if ("grad", names[n]) in values and not _close(t, got[("grad", names[n])], values[("grad", names[n])])]
    if wrong:
        n = wrong[-1]
        uses = [(f"{names[o]} = {FORWARD_OPS[graph[o].op]}({', '.join(names[a] for a in graph[o].args if isinstance(a, int))})", grads[o] * partial) for o in range(n + 1, len(graph)) for a, partial in partials[o] if a == n]
        diagnose_fork(t, what, f"('grad', {names[n]!r})", got[("grad", names[n])], values[("grad", names[n])], uses)


def with_leaves(graph: Sequence[Node], values: Sequence[float]) -> list[Node]:
    """``graph`` with its leaves' values replaced, in order."""
    drawn = iter(values)
    return [Node("leaf", (), float(next(drawn))) if node.op == "leaf" else node for node in graph]


def signed(rng: np.random.Generator, low: float, high: float) -> float:
    """A magnitude in [low, high] with a random sign: away from 0, where a divisor or a kink would be."""
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(low, high))


def public_example(rng: np.random.Generator) -> tuple[list[Node], list[str]]:
    """PUBLIC_GRAPH with random leaves (x, a divisor, away from 0) and its nodes' names shuffled (the loss keeps L)."""
    graph = with_leaves(PUBLIC_GRAPH, [signed(rng, 0.3, 1.5), rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)])
    return graph, [*rng.permutation(PUBLIC_NAMES[:-1]).tolist(), PUBLIC_NAMES[-1]]


def each_op_example(rng: np.random.Generator) -> list[Node]:
    """EACH_OP_GRAPH with random leaves: x > 0 (log), y < 0 (relu's flat side, a divisor), z = 0 (relu's kink)."""
    return with_leaves(EACH_OP_GRAPH, [rng.uniform(0.3, 1.5), -rng.uniform(0.2, 1.5), 0.0])


# The public forward graph: a fork (a, x), a node used twice by one operation (q = h * h), and a dead branch (u, v).
# The checks draw its leaves (public_example); these are the documented ones.
PUBLIC_NAMES = ["x", "w", "b", "a", "z", "h", "q", "r", "u", "v", "s", "p", "L"]
PUBLIC_GRAPH = [
    Node("leaf", (), 0.7), Node("leaf", (), -1.3), Node("leaf", (), 0.4),
    Node("mul", (0, 1)), Node("add", (3, 2)), Node("tanh", (4,)), Node("mul", (5, 5)), Node("truediv", (5, 0)),
    Node("exp", (1,)), Node("relu", (8,)), Node("sub", (6, 7)), Node("pow", (10, 2.0)), Node("add", (11, 3)),
]


# Every operation on live nodes, each result multiplied by x: so both its local partial and its forward value (the
# partial d(op * x)/dx) are checked. relu meets a positive, a negative and a zero input (relu'(0) = 0).
_LEAVES = [Node("leaf", (), 0.9), Node("leaf", (), -0.4), Node("leaf", (), 0.0)]
_EACH_OP = [Node("neg", (0,)), Node("pow", (0, 3.0)), Node("exp", (1,)), Node("log", (0,)), Node("tanh", (1,)), Node("relu", (1,)), Node("relu", (0,)), Node("relu", (2,)), Node("truediv", (0, 1)), Node("sub", (1, 0)), Node("add", (0, 1))]
_PRODUCTS = [Node("mul", (3 + i, 0)) for i in range(len(_EACH_OP))]
_SUMS = [Node("add", (3 + len(_EACH_OP), 4 + len(_EACH_OP)))] + [Node("add", (3 + 2 * len(_EACH_OP) + i, 5 + len(_EACH_OP) + i)) for i in range(len(_EACH_OP) - 2)]
EACH_OP_GRAPH = _LEAVES + _EACH_OP + _PRODUCTS + _SUMS
EACH_OP_NAMES = ["x", "y", "z"] + [f"{n.op}{i}" for i, n in enumerate(_EACH_OP)] + [f"m{i}" for i in range(len(_PRODUCTS))] + [f"s{i}" for i in range(len(_SUMS) - 1)] + ["L"]


# ---- layer backwards -------------------------------------------------------------------------------------------


def _tuple(t: Trial, got: Any, size: int, what: str, names: str) -> tuple[Any, ...]:
    if not isinstance(got, tuple) or len(got) != size:
        t.fail(f"{what}: expected a tuple {names}, got {describe(got)}")
    return got


def directional(t: Trial, got: np.ndarray, forward: Any, at: np.ndarray, what: str, *, mask: np.ndarray | None = None) -> None:
    """<got, v> against the central difference of the reference ``forward`` at ``at`` along a random direction v
    (zero outside ``mask``: the forward is not differentiable there)."""
    v = t.rng.standard_normal(at.shape) * (1.0 if mask is None else mask)
    numeric = (forward(at + FD_EPS * v) - forward(at - FD_EPS * v)) / (2 * FD_EPS)
    t.close(np.asarray(np.sum(got * v)), np.asarray(numeric), what=f"{what}: <gradient, v> against central differences of the forward along a random v", rtol=GRADCHECK_RTOL, atol=GRADCHECK_ATOL)


def judge_linear_backward(t: Trial, X: np.ndarray, W: np.ndarray) -> None:
    b = t.rng.standard_normal(W.shape[0])
    dY = t.rng.standard_normal((X.shape[0], W.shape[0]))
    what = f"linear_backward(dY {dY.shape}, X {X.shape}, W {W.shape})"
    got = _tuple(t, t.call("linear_backward", dY, X, W), 3, what, "(dX, dW, db)")
    want = t.ref.linear_backward(dY, X, W)
    variants = {1: [(WEIGHT_GRAD_TRANSPOSED, want[1].T)], 2: [(BIAS_NOT_SUMMED, want[2] / len(X)), (BIAS_NOT_SUMMED, dY)]}
    for i, name in enumerate(("dX", "dW", "db")):
        t.close(got[i], want[i], what=f"{what}[{i}] ({name})", variants=variants.get(i, []))
    directional(t, got[0], lambda x: np.sum(dY * (x @ W.T + b)), X, f"{what}: dX")
    directional(t, got[1], lambda w: np.sum(dY * (X @ w.T + b)), W, f"{what}: dW")
    directional(t, got[2], lambda c: np.sum(dY * (X @ W.T + c)), b, f"{what}: db")


def judge_relu_backward(t: Trial, X: np.ndarray) -> None:
    dY = t.rng.standard_normal(X.shape)
    what = f"relu_backward(dY, X {X.shape}) with {int(np.sum(X == 0))} zeros in X"
    got = t.call("relu_backward", dY, X)
    t.close(got, t.ref.relu_backward(dY, X), what=what)
    directional(t, got, lambda x: np.sum(dY * np.maximum(x, 0)), X, f"{what}: dX", mask=np.abs(X) > 10 * FD_EPS)


def softmax_ce(logits: np.ndarray, targets: np.ndarray) -> float:
    z = logits - logits.max(axis=1, keepdims=True)
    return float(-np.mean(z[np.arange(len(targets)), targets] - np.log(np.exp(z).sum(axis=1))))


def judge_softmax_ce_backward(t: Trial, logits: np.ndarray, targets: np.ndarray) -> None:
    what = f"softmax_cross_entropy_backward(logits {logits.shape}, targets {targets.tolist()})"
    got = t.call("softmax_cross_entropy_backward", logits, targets)
    want = t.ref.softmax_cross_entropy_backward(logits, targets)
    t.close(got, want, what=what, variants=[(MISSING_MEAN, len(targets) * want)])
    directional(t, got, lambda z: softmax_ce(z, targets), logits, what)


def mlp_inputs(rng: np.random.Generator, n: int, d: int, h: int, c: int) -> tuple[np.ndarray, ...]:
    """X, targets, W1, b1, W2, b2 with every pre-activation at least 0.05 away from ReLU's kink, so central
    differences are exact to O(eps^2) and the gradient is unambiguous."""
    while True:
        X, W1, b1 = rng.standard_normal((n, d)), rng.standard_normal((h, d)), rng.standard_normal(h)
        if np.abs(X @ W1.T + b1).min() > 0.05:
            return X, rng.integers(0, c, n), W1, b1, rng.standard_normal((c, h)), rng.standard_normal(c)


def judge_mlp_backward(t: Trial, X: np.ndarray, targets: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> None:
    params = [W1, b1, W2, b2]
    what = f"mlp_backward(X {X.shape}, targets {targets.tolist()}, W1 {W1.shape}, b1, W2 {W2.shape}, b2)"
    got = _tuple(t, t.call("mlp_backward", X, targets, *params), 5, what, "(loss, dW1, db1, dW2, db2)")
    want = t.ref.mlp_backward(X, targets, *params)
    n = len(X)
    t.close(got[0], np.asarray(want[0]), what=f"{what}[0] (the loss)")
    names = ("dW1", "db1", "dW2", "db2")
    for i, name in enumerate(names, start=1):
        variants = [(MISSING_MEAN, n * want[i])]
        variants += [(WEIGHT_GRAD_TRANSPOSED, want[i].T)] if name.startswith("dW") else [(BIAS_NOT_SUMMED, want[i] / n)]
        t.close(got[i], want[i], what=f"{what}[{i}] ({name})", variants=variants)
    for i, name in enumerate(names):

        def loss(p: np.ndarray, i: int = i) -> float:
            return float(t.ref.mlp_backward(X, targets, *params[:i], p, *params[i + 1 :])[0])

        directional(t, got[i + 1], loss, params[i], f"{what}: {name}")


# ---- the public checks -----------------------------------------------------------------------------------------


def ops_graphs(rng: np.random.Generator) -> list[list[Node]]:
    """One graph per operation, with a number on either side for the binary ones: x > 0 (log, fractional powers),
    y < 0, constants away from 0 (divisors); relu at a positive, a negative and a zero input."""
    x, y, c, d = rng.uniform(0.3, 2.0), -rng.uniform(0.3, 1.5), signed(rng, 0.5, 3.0), signed(rng, 0.5, 3.0)
    return [
        [Node("leaf", (), x), Node("leaf", (), y), Node(op, (0, 1))] for op in BINARY
    ] + [
        [Node("leaf", (), x), Node(op, (c, 0))] for op in BINARY
    ] + [
        [Node("leaf", (), x), Node(op, (0, d))] for op in BINARY
    ] + [
        [Node("leaf", (), float(v)), Node(op, args)] for v, op, args in (
            (x, "pow", (0, 3.0)), (x, "pow", (0, -1.0)), (x, "pow", (0, 0.5)), (y, "neg", (0,)), (rng.uniform(-1.0, 1.0), "exp", (0,)),
            (x, "log", (0,)), (rng.uniform(-1.5, 1.5), "tanh", (0,)), (x, "relu", (0,)), (y, "relu", (0,)), (0.0, "relu", (0,)),
        )
    ]


@check("value_forward", "Value: the data of every operation, with numbers on either side", autograd=False)
def value_forward(t: Trial) -> None:
    # x > 0 (log, fractional powers) and y < 0 (relu's flat side, a divisor); constants away from 0 (divisors)
    graph = [Node("leaf", (), float(t.rng.uniform(0.3, 2.0))), Node("leaf", (), -float(t.rng.uniform(0.3, 1.5)))]
    c, d = signed(t.rng, 0.5, 3.0), signed(t.rng, 0.5, 3.0)
    for op in BINARY:
        graph += [Node(op, (0, 1)), Node(op, (c, 1)), Node(op, (0, d))]
    graph += [Node("pow", (0, float(t.rng.choice([2.0, 3.0, -1.0, 0.5])))), Node("neg", (1,)), *(Node(m, (0,)) for m in METHODS), Node("relu", (1,))]
    data, _, _ = torch_graph(graph)
    p = t.program()
    nodes = build_value(p, graph)
    for i, got in enumerate(p.run(*[p.attr(v, "data") for v in nodes])):
        if not _close(t, got, data[i]):
            t.fail(f"{describe_node(graph, i)}: .data is {_number(got)}, expected {data[i]:.6g}")


@check("value_ops_backward", "Value: the gradient through each operation on its own", autograd=False)
def value_ops_backward(t: Trial) -> None:
    for graph in ops_graphs(t.rng):
        judge_value_graph(t, graph, f"out = {describe_node(graph, len(graph) - 1).split(' = ')[1]}, out.backward()")


@check("value_fan_out", "Value: nodes used by several operations (and twice by one) sum their gradients", autograd=False)
def value_fan_out(t: Trial) -> None:
    x, w = Node("leaf", (), signed(t.rng, 0.3, 1.5)), Node("leaf", (), float(t.rng.uniform(-1.5, 1.5)))
    for graph, what in (
        ([x, Node("add", (0, 0))], "out = x + x"),
        ([x, Node("mul", (0, 0))], "out = x * x"),
        ([x, w, Node("mul", (0, 1)), Node("tanh", (2,)), Node("exp", (0,)), Node("add", (3, 4)), Node("mul", (5, 0))], "out = (tanh(x*w) + exp(x)) * x"),
    ):
        judge_value_graph(t, graph, what)


@check("value_graphs", "Value: random expression graphs of varying depth and fan-out against torch.autograd", autograd=False)
def value_graphs(t: Trial) -> None:
    for leaves, ops, recent in ((2, 8, 0.3), (3, 14, 0.8), (4, 20, 0.5)):
        judge_value_graph(t, random_graph(t.rng, leaves=leaves, ops=ops, recent=recent, dead=1), f"a random graph of {leaves} leaves and {ops} operations")


@check("value_contract", "Value: .grad is 0 before backward() and for unused nodes; out.grad = 1; TypeError and ValueError", autograd=False)
def value_contract(t: Trial) -> None:
    n, c = int(t.rng.integers(1, 10)), signed(t.rng, 0.5, 3.0)  # an int's data, and the constant out = x * c
    p = t.program()
    x, y = p.call("Value", n), p.call("Value", float(t.rng.uniform(-1.5, 1.5)))
    before = p.attr(x, "grad")
    out = p.operator("mul", x, c)
    unused = p.method(y, "tanh")
    p.method(out, "backward")
    got = p.run(p.attr(x, "data"), before, p.attr(out, "grad"), p.attr(x, "grad"), p.attr(y, "grad"), p.attr(unused, "grad"))
    expected = ((f"Value({n}).data", n), (f"Value({n}).grad before backward()", 0.0), (f"out.grad after out.backward(), out = x * {c:.6g}", 1.0), ("x.grad", c), ("y.grad (y is not used by out)", 0.0), ("y.tanh().grad (not used by out)", 0.0))
    for (what, want), value in zip(expected, got):
        if not _close(t, value, want):
            t.fail(f"{what}: got {_number(value)}, expected {want:.6g}")
    judge_value_graph(t, [Node("leaf", (), float(t.rng.uniform(-2.0, 2.0)))], "a lone leaf x, x.backward()")
    p = t.program()
    t.raises_in("ValueError", p, p.method(p.call("Value", -float(t.rng.uniform(0.1, 3.0))), "log"))
    p = t.program()
    x = p.call("Value", float(t.rng.uniform(0.5, 3.0)))
    t.raises_in("TypeError", p, p.operator("pow", x, x))


@check("backward_graph_structure", "backward_graph: which partial and gradient nodes and edges exist (a fork, x * x, a dead branch)", autograd=False)
def backward_graph_structure(t: Trial) -> None:
    judge_backward_graph_structure(t, *public_example(t.rng), "backward_graph(the example graph)")


@check("backward_graph_values", "backward_graph: the local partials and dL/dn against torch.autograd", autograd=False)
def backward_graph_values(t: Trial) -> None:
    judge_backward_graph_values(t, *public_example(t.rng), "backward_graph(the example graph)")
    judge_backward_graph_values(t, each_op_example(t.rng), EACH_OP_NAMES, "backward_graph(a graph with every operation, relu at 0)")


@check("backward_graph_contract", "backward_graph: a lone input is its own loss; ValueError for malformed graphs", autograd=False)
def backward_graph_contract(t: Trial) -> None:
    graph, name = [Node("leaf", (), float(t.rng.uniform(-2.0, 2.0)))], str(t.rng.choice(PUBLIC_NAMES))
    judge_backward_graph_structure(t, graph, [name], "backward_graph([one input node])")
    judge_backward_graph_values(t, graph, [name], "backward_graph([one input node])")
    x, y, z = (str(v) for v in t.rng.choice(PUBLIC_NAMES, 3, replace=False))
    given = {"name": x, "op": "input", "value": float(t.rng.uniform(-2.0, 2.0))}
    bad = ([], [given, {"name": y, "op": "sqrt", "inputs": [x]}], [given, {"name": y, "op": "mul", "inputs": [x, z]}], [given, {"name": y, "op": "exp", "inputs": [x, x]}], [given, given])
    for i in t.rng.permutation(len(bad)):
        t.raises("ValueError", "backward_graph", bad[i])


@check("linear_backward", "linear_backward by hand: dX, dW, db, and directional derivatives", autograd=False)
def linear_backward(t: Trial) -> None:
    judge_linear_backward(t, t.rng.standard_normal((4, 3)), t.rng.standard_normal((2, 3)))


@check("relu_backward", "relu_backward by hand, with zeros in the input (relu'(0) = 0)", autograd=False)
def relu_backward(t: Trial) -> None:
    X = t.rng.standard_normal((3, 5))
    X[0, :2] = 0.0
    judge_relu_backward(t, X)


@check("softmax_cross_entropy_backward", "softmax_cross_entropy_backward by hand: the mean over the batch", autograd=False)
def softmax_cross_entropy_backward(t: Trial) -> None:
    judge_softmax_ce_backward(t, t.rng.standard_normal((4, 3)), np.array([0, 2, 1, 2]))


@check("mlp_backward", "mlp_backward: a two-layer classifier's loss and gradients by hand", autograd=False)
def mlp_backward(t: Trial) -> None:
    judge_mlp_backward(t, *mlp_inputs(t.rng, 5, 3, 4, 3))


# ---- contracts -------------------------------------------------------------------------------------------------


@check("linear_backward_contract", "linear_backward: a batch of one, one output; ValueError for shapes that do not fit", autograd=False)
def linear_backward_contract(t: Trial) -> None:
    judge_linear_backward(t, t.rng.standard_normal((1, 3)), t.rng.standard_normal((1, 3)))
    X, W = t.rng.standard_normal((4, 3)), t.rng.standard_normal((2, 3))
    for dY, x, w in ((np.ones((4, 3)), X, W), (np.ones((4, 2)), X, W.T), (np.ones((4, 2)), X[0], W), (np.ones((3, 2)), X, W)):
        t.raises("ValueError", "linear_backward", dY, x, w)


@check("relu_backward_contract", "relu_backward: any shape; ValueError when dY and X differ in shape", autograd=False)
def relu_backward_contract(t: Trial) -> None:
    judge_relu_backward(t, np.array([0.0, -1.0, 2.0]))
    t.raises("ValueError", "relu_backward", np.ones(3), np.ones((3, 1)))


@check("softmax_cross_entropy_backward_contract", "softmax_cross_entropy_backward: one example, one class, logits of 1e3; ValueError for bad targets or no examples", autograd=False)
def softmax_cross_entropy_backward_contract(t: Trial) -> None:
    judge_softmax_ce_backward(t, t.rng.standard_normal((1, 4)), np.array([3]))
    judge_softmax_ce_backward(t, t.rng.standard_normal((2, 1)), np.array([0, 0]))
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 0.0, 1000.0]])
    want = t.ref.softmax_cross_entropy_backward(logits, np.array([1, 2]))
    got = t.call("softmax_cross_entropy_backward", logits, np.array([1, 2]))
    t.close(got, want, what="softmax_cross_entropy_backward(logits of +-1000, targets [1, 2]) (subtract the row maximum before exp)", variants=[(MISSING_MEAN, 2 * want)])
    logits = t.rng.standard_normal((2, 3))
    for targets in (np.array([0, 3]), np.array([-1, 0]), np.array([0.0, 1.0]), np.array([0, 1, 2])):
        t.raises("ValueError", "softmax_cross_entropy_backward", logits, targets)
    t.raises("ValueError", "softmax_cross_entropy_backward", np.zeros((0, 3)), np.zeros(0, dtype=np.int64))  # no examples


@check("mlp_backward_contract", "mlp_backward: a batch of one; ValueError for an empty batch or shapes that do not fit", autograd=False)
def mlp_backward_contract(t: Trial) -> None:
    judge_mlp_backward(t, *mlp_inputs(t.rng, 1, 2, 3, 2))
    X, targets, W1, b1, W2, b2 = mlp_inputs(t.rng, 3, 2, 4, 3)
    for args in ((X[:0], targets[:0], W1, b1, W2, b2), (X, targets, W1.T, b1, W2, b2), (X, targets, W1, b1[:-1], W2, b2), (X, targets, W1, b1, W2.T, b2), (X, targets, W1, b1, W2, b2[:-1]), (X, np.array([0, 1, 3]), W1, b1, W2, b2)):
        t.raises("ValueError", "mlp_backward", *args)
