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

Credit follows what was implemented: each operation of Value (its reflected form apart: ``2 - v`` is ``__rsub__``)
has a check of its own, graded with ``backward()``; the fan-out check needs only + and *; the random graphs are
built from the operations that run at all (each is probed once), so a missing operation costs only its own check.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch

from autograder.engine.checks import Mistake, StudentError, Trial, check
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
RELU_AT_ZERO = Mistake(
    "relu-derivative-at-zero",
    "relu'(0) is taken as 1: the gradient passes where the input is exactly 0 (x >= 0 instead of x > 0)",
    "relu is flat left of 0 and the course, like torch, takes relu'(0) = 0: pass the gradient only where x > 0.",
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
SOFTMAX_OVERFLOW = Mistake(
    "softmax-overflow",
    "the softmax does not subtract each row's maximum before exp: at logits of 1e3 exp overflows to inf "
    "(and at -1e3 every term underflows to 0), giving inf or nan",
    "softmax(z) = softmax(z - max(z)) for each row: subtract the row's maximum first, so the largest term is e**0 = 1.",
)

# Gradients written by hand against central differences of the reference forward: torch.autograd.gradcheck's
# default tolerances (numerics.md), with its step size.
GRADCHECK_RTOL, GRADCHECK_ATOL, FD_EPS = 1e-3, 1e-5, 1e-6


# ---- expression graphs -----------------------------------------------------------------------------------------

BINARY = {"add": "+", "sub": "-", "mul": "*", "truediv": "/"}
METHODS = ("exp", "log", "tanh", "relu")
# The Value operations a submission implements or not, each graded by a check of its own.
UNITS = (*(f"__{op}__" for op in BINARY), *(f"__r{op}__" for op in BINARY), "__neg__", "__pow__", *METHODS)


@dataclass(frozen=True)
class Node:
    """``op`` is "leaf" (``value`` is its data), a binary operator (BINARY), "pow", "neg" or a method (METHODS).
    ``args`` are operands: an int is the index of an earlier node, a float a constant (pow's exponent is one)."""

    op: str
    args: tuple[Any, ...] = ()
    value: float = 0.0


def unit_of(node: Node) -> str:
    """The Value method a node runs: ``c - v`` is ``__rsub__``, ``v - c`` and ``v - w`` are ``__sub__``."""
    if node.op in BINARY:
        return f"__{node.op}__" if isinstance(node.args[0], int) else f"__r{node.op}__"
    return f"__{node.op}__" if node.op in ("neg", "pow") else node.op


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


def describe_graph(graph: Sequence[Node]) -> str:
    """Every node of a small graph ("v0 = Value(1.5), v1 = v0.exp()"); the size of a large one."""
    if len(graph) <= 8:
        return ", ".join(describe_node(graph, i) for i in range(len(graph)))
    return f"a graph of {len(graph)} nodes, out = v{len(graph) - 1}"


def _operands(graph: Sequence[Node], data: Sequence[float], i: int) -> str:
    nodes = dict.fromkeys(a for a in graph[i].args if isinstance(a, int))
    return f" with {', '.join(f'v{a} = {data[a]:.6g}' for a in nodes)}" if nodes else ""


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
    """The steps that build ``graph`` with the student's Value class (program ``p``), one step and one named Var per
    node, in order: step i builds v_i."""
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


def _first_failing_backward(t: Trial, graph: Sequence[Node]) -> int | None:
    """The first node, in creation order, whose own backward() raises: every node before it has a backward() that
    runs, so the culprit is that node's operation. None if none raises this time."""
    p = t.program()
    for v in build_value(p, graph):
        p.method(v, "backward")
    try:
        p.run()
    except StudentError as exc:
        return exc.step - len(graph) if exc.step is not None and exc.step >= len(graph) else None
    return None


def in_graph(t: Trial, graph: Sequence[Node], exc: StudentError) -> StudentError:
    """``exc`` (raised while a program built ``graph`` and called backward() on its last node) retold so that it
    names the expression that failed and its operands' values; a backward() that fails in a large graph is traced
    to the first node whose own backward() fails."""
    n = len(graph)
    data = torch_graph(graph)[0]
    if exc.step is not None and exc.step < n:
        call = f"{describe_node(graph, exc.step)}{_operands(graph, data, exc.step)}"
    elif exc.step == n:
        call = f"v{n - 1}.backward() on {describe_graph(graph)}"
        culprit = _first_failing_backward(t, graph) if n > 8 and not exc.not_attempted else None
        if culprit is not None:
            call += f" (backward() runs on every node before v{culprit} and raises on {describe_node(graph, culprit)}{_operands(graph, data, culprit)}: look there)"
    else:
        call = f"{exc.call}, after v{n - 1}.backward() on {describe_graph(graph)}"
    return StudentError(call, {"type": exc.type, "message": exc.text, "traceback": exc.traceback, "where": exc.where}, step=exc.step)


def drive_value(t: Trial, graph: Sequence[Node], *, backward: bool = True) -> tuple[list[Any], list[Any]]:
    """Build the graph with the student's Value class in the worker, call backward() on the last node, and read
    every node's .data and .grad (after backward) back as numbers (``backward=False``: only .data, no backward)."""
    p = t.program()
    nodes = build_value(p, graph)
    if backward:
        p.method(nodes[-1], "backward")
    read = [p.attr(v, "data") for v in nodes] + ([p.attr(v, "grad") for v in nodes] if backward else [])
    try:
        got = p.run(*read)
    except StudentError as exc:
        raise in_graph(t, graph, exc) from None
    built = describe_graph(graph)
    for var, value in zip(read, got):
        t.same_kind(value, 0.0, what=f"{var.label} in {built}")  # numbers, as the reference's Value holds
    return got[: len(graph)], got[len(graph) :]


def _close(t: Trial, got: Any, want: float) -> bool:
    rtol, atol = t.tolerance(np.float64)
    return isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "fiu" and bool(np.isclose(got, want, rtol=rtol, atol=atol))


def _number(got: Any) -> str:
    return f"{float(got):.6g}" if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "fiu" else describe(got)


def named(message: str, mistake: Mistake) -> str:
    return f"{message}; your answer matches a known mistake: {mistake.title}. {mistake.fix}"


def diagnose_fork(t: Trial, what: str, node: str, got: Any, want: float, uses: list[tuple[str, float]], relu_at_zero: float = 0.0) -> None:
    """Fail for a node whose consumers are right but whose own gradient is not. ``uses``: (description, contribution
    dL/do * do/dn) per use of the node, one per operand slot. A sum of only some uses is the fork mistake.
    ``relu_at_zero``: what the uses by a relu at input 0 would add if relu'(0) were 1 (0.0: none)."""
    if not uses:
        t.fail(f"{what}: the gradient of the output itself, {node}, is {_number(got)}; expected {want:.6g} (backward() starts from d out/d out = 1)")
    listed = "; ".join(f"{d}: {c:.6g}" for d, c in uses)
    if relu_at_zero and _close(t, got, want + relu_at_zero):
        t.fail(named(f"{what}: {node} = 0 has gradient {_number(got)}, expected {want:.6g}: the relu of it passed its gradient back ({listed})", RELU_AT_ZERO), mistake=RELU_AT_ZERO)
    if len(uses) == 1:
        t.fail(f"{what}: {node} has gradient {_number(got)}, expected {want:.6g}. Its only use ({listed}) has the right gradient, so the local derivative passed back through that operation is wrong")
    for size in range(1, len(uses)):
        for subset in itertools.combinations(uses, size):
            if _close(t, got, sum(c for _, c in subset)):
                t.fail(named(f"{what}: {node} has gradient {_number(got)}, expected {want:.6g}, the sum of its {len(uses)} uses' contributions ({listed}); you kept {size} of them", FORK_OVERWRITE), mistake=FORK_OVERWRITE)
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
        relu_at_zero = sum(grads[o] for o in range(n + 1, len(graph)) if graph[o].op == "relu" and graph[o].args[0] == n and data[n] == 0)
        diagnose_fork(t, f"{what} ({len(graph)} nodes; out = v{len(graph) - 1})", f"v{n}", got_grads[n], grads[n], uses, relu_at_zero)


def judge_value_data(t: Trial, graph: Sequence[Node], what: str) -> None:
    """The forward value of every node, without backward()."""
    data = torch_graph(graph)[0]
    got_data, _ = drive_value(t, graph, backward=False)
    for i, got in enumerate(got_data):
        if not _close(t, got, data[i]):
            t.fail(f"{what}: {describe_node(graph, i)}: .data is {_number(got)}, expected {data[i]:.6g}")


def raises_somewhere(t: Trial, exception: str, graph: Sequence[Node]) -> None:
    """Expect building ``graph`` and calling backward() on its last node to raise ``exception``, either in the
    operation or in backward(): where a derivative is computed is the student's choice."""
    p = t.program()
    nodes = build_value(p, graph)
    step = p.method(nodes[-1], "backward")
    what = f"{describe_graph(graph)}, then v{len(graph) - 1}.backward()"
    try:
        p.run(step)
    except StudentError as exc:
        if exc.not_attempted:
            raise in_graph(t, graph, exc) from None
        if exc.type != exception:
            t.fail(f"{what}: raised {exc.type} ({exc.text}); expected {exception}")
        return
    t.fail(f"{what}: ran without an error; expected {exception}")


def available_units(t: Trial) -> tuple[set[str], dict[str, StudentError]]:
    """The Value operations (UNITS) that run at all, each probed once on Values 1.5 and 0.75, and the error of each
    that does not. A graph check builds its graphs from these alone, so that an operation a submission lacks costs
    only its own check. When none runs, the first one's error is raised (not attempted if NotImplementedError)."""
    probes = {unit_of(node): node for node in _PROBES}
    left, errors = list(UNITS), {}
    while left:
        graph = [Node("leaf", (), 1.5), Node("leaf", (), 0.75), *(probes[u] for u in left)]
        p = t.program()
        build_value(p, graph)
        try:
            p.run()
            return set(left), errors
        except StudentError as exc:
            if exc.step is None or exc.step < 2:  # Value(...) itself
                raise in_graph(t, graph, exc) from None
            errors[left.pop(exc.step - 2)] = in_graph(t, graph, exc)
    raise errors[UNITS[0]]


_PROBES = [
    *(Node(op, (0, 1)) for op in BINARY), *(Node(op, (2.0, 0)) for op in BINARY),
    Node("neg", (0,)), Node("pow", (0, 2.0)), *(Node(m, (0,)) for m in METHODS),
]


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


def random_graph(rng: np.random.Generator, *, leaves: int, ops: int, constants: bool = True, dead: int = 0, recent: float = 0.5, units: Sequence[str] = UNITS, corners: Sequence[str] = ()) -> list[Node]:
    """A random expression graph: ``leaves`` Values, ``ops`` operations, then the remaining sinks combined into one
    output. Forks always appear: at least two nodes used by two or more operations, and one operation that uses a
    node twice (x * x or x + x). ``recent``: the chance an operand is the newest node (deep chains) rather than any
    earlier one (wide fan-out). ``dead``: sinks left out of the output (their gradient is 0). ``constants``: plain
    numbers as operands of binary operations (2 * v, 1 - v). ``units``: the Value operations to use (ValueError
    when none of +, -, *, / between two Values is among them). ``corners``: a leaf exactly 0 under "relu" (relu'(0)
    = 0; the relu then shifted away from 0, so that a product with it keeps the rest of the gradients) and under
    "pow" ** 0 (a derivative of 0), on the output's path (where those operations are among ``units``)."""
    forms = {op: [f for f, unit in (("vv", f"__{op}__"), ("vc", f"__{op}__"), ("cv", f"__r{op}__")) if unit in units and (constants or f == "vv")] for op in BINARY}
    pairs = [op for op in BINARY if "vv" in forms[op]]
    if not pairs:
        raise ValueError("a graph needs one of +, -, *, / between two Values")
    choices = [op for op in BINARY if forms[op]] + [op for op in ("pow", "neg", *METHODS) if unit_of(Node(op, (0,))) in units]
    while True:
        graph = [Node("leaf", (), float(np.round(rng.uniform(-2, 2), 3))) for _ in range(leaves)]
        values = [n.value for n in graph]
        kept = _corners(graph, values, units, corners, constants) if corners else []  # nodes the output must use
        start, twice = len(graph), False
        zeros = {i for i in range(leaves, start) if values[i] == 0.0}  # the leaf 0 and relu(0) feed the corners only
        while len(graph) < start + ops:
            op = str(rng.choice(choices))
            a = len(graph) - 1 if rng.random() < recent else int(rng.integers(len(graph)))
            if op in BINARY:
                r, with_constant = rng.random(), [f for f in forms[op] if f != "vv"]
                if "vv" in forms[op] and r < 0.15:
                    args = (a, a)
                elif with_constant and (r < 0.35 or "vv" not in forms[op]):
                    c = float(rng.choice([0.5, 2.0, 3.0, -1.5]))
                    args = (c, a) if rng.choice(with_constant) == "cv" else (a, c)
                else:
                    args = (a, int(rng.integers(len(graph))))
            elif op == "pow":
                args = (a, float(rng.choice([2.0, 3.0, -1.0, 0.5])))
            else:
                args = (a,)
            value = None if zeros.intersection(i for i in args if isinstance(i, int)) else _ok(op, args, values)
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
        sinks = [i for i in range(len(graph) - 1) if uses[i] == 0 and i not in kept]
        if len(sinks) < dead:
            continue
        rng.shuffle(sinks)
        if _combine(graph, values, sinks[dead:] + kept, pairs[0]):
            return graph


def _corners(graph: list[Node], values: list[float], units: Sequence[str], corners: Sequence[str], constants: bool) -> list[int]:
    """Append a leaf 0, then relu(0) shifted by the first leaf (or 2, or through exp) and 0 ** 0, as far as
    ``corners`` ask and ``units`` allow; the nodes the output must use."""
    zero = len(graph)
    shifts = [Node("add", (zero + 1, 0)), Node("sub", (zero + 1, 0))] + [Node("add", (2.0, zero + 1)), Node("sub", (2.0, zero + 1))] * constants + [Node("exp", (zero + 1,))]
    shift = next((node for node in shifts if unit_of(node) in units), None) if "relu" in corners and "relu" in units else None
    at_zero = ([Node("relu", (zero,)), shift] if shift else []) + ([Node("pow", (zero, 0.0))] if "pow" in corners and "__pow__" in units else [])
    if not at_zero:
        return []
    graph.append(Node("leaf", (), 0.0))
    values.append(0.0)
    for node in at_zero:
        graph.append(node)
        values.append(_ok(node.op, node.args, values) if node is shift else 0.0 if node.op == "relu" else 1.0)
    return [i for i in range(zero + 1, len(graph)) if graph[i].op != "relu"]


def _combine(graph: list[Node], values: list[float], nodes: Sequence[int], op: str) -> bool:
    """Append ``out op n`` (or ``n op out``) for each of ``nodes``; False where neither is well conditioned."""
    for i in nodes:
        for args in ((len(graph) - 1, i), (i, len(graph) - 1)):
            value = _ok(op, args, values)
            if value is not None:
                graph.append(Node(op, args))
                values.append(value)
                break
        else:
            return False
    return True


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
            t.fail(named(f"{what}: your backward graph has {listed}", DEAD_BRANCH), mistake=DEAD_BRANCH)
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
    data, grads, partials = torch_graph(graph)
    p = t.program()
    result = p.call("backward_graph", forward_graph(graph, names))
    got_values = p.method(result, "__getitem__", 0)
    keys = list(values)
    got = dict(zip(keys, p.run(*[p.method(got_values, "get", k) for k in keys])))
    for k in keys:
        t.same_kind(got[k], values[k], what=f"{what}: the value of {_key(k)}")
    for k in keys:
        if k[0] == "partial" and not _close(t, got[k], values[k]):
            message = f"{what}: the local partial {_key(k)} = d{k[1]}/d{k[2]} is {_number(got[k])}, expected {values[k]:.6g}"
            if graph[names.index(k[1])].op == "relu" and data[names.index(k[2])] == 0 and _close(t, got[k], 1.0):
                t.fail(named(f"{message} at {k[2]} = 0", RELU_AT_ZERO), mistake=RELU_AT_ZERO)
            t.fail(message)
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
    """EACH_OP_GRAPH with random leaves: 0 < x < 1 (log, relu's slope below 1), y < 0 (relu's flat side, a divisor),
    z = 0 (relu's kink, ** 0)."""
    return with_leaves(EACH_OP_GRAPH, [rng.uniform(0.3, 0.95), -rng.uniform(0.2, 1.5), 0.0])


# The public forward graph: a fork (a, x), a node used twice by one operation (q = h * h), and a dead branch (u, v).
# The checks draw its leaves (public_example); these are the documented ones.
PUBLIC_NAMES = ["x", "w", "b", "a", "z", "h", "q", "r", "u", "v", "s", "p", "L"]
PUBLIC_GRAPH = [
    Node("leaf", (), 0.7), Node("leaf", (), -1.3), Node("leaf", (), 0.4),
    Node("mul", (0, 1)), Node("add", (3, 2)), Node("tanh", (4,)), Node("mul", (5, 5)), Node("truediv", (5, 0)),
    Node("exp", (1,)), Node("relu", (8,)), Node("sub", (6, 7)), Node("pow", (10, 2.0)), Node("add", (11, 3)),
]


# Every operation on live nodes, each result multiplied by x: so both its local partial and its forward value (the
# partial d(op * x)/dx) are checked. relu meets a positive, a negative and a zero input (relu'(0) = 0); z ** 0 at
# z = 0 has the partial 0.
_LEAVES = [Node("leaf", (), 0.9), Node("leaf", (), -0.4), Node("leaf", (), 0.0)]
_EACH_OP = [Node("neg", (0,)), Node("pow", (0, 3.0)), Node("exp", (1,)), Node("log", (0,)), Node("tanh", (1,)), Node("relu", (1,)), Node("relu", (0,)), Node("relu", (2,)), Node("truediv", (0, 1)), Node("sub", (1, 0)), Node("add", (0, 1)), Node("pow", (2, 0.0))]
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
    want = t.ref.relu_backward(dY, X)
    t.close(got, want, what=what, variants=[(RELU_AT_ZERO, want + dY * (X == 0))])
    directional(t, got, lambda x: np.sum(dY * np.maximum(x, 0)), X, f"{what}: dX", mask=np.abs(X) > 10 * FD_EPS)


def softmax_ce(logits: np.ndarray, targets: np.ndarray) -> float:
    z = logits - logits.max(axis=1, keepdims=True)
    return float(-np.mean(z[np.arange(len(targets)), targets] - np.log(np.exp(z).sum(axis=1))))


# Beyond these, exp(z) overflows to inf or every exp(z) of a row underflows to 0 in float64.
EXP_OVERFLOWS, EXP_UNDERFLOWS = math.log(np.finfo(np.float64).max), math.log(np.finfo(np.float64).smallest_subnormal)


def extreme(logits: np.ndarray) -> bool:
    """Whether a softmax of these logits overflows (or underflows to 0/0) unless each row's maximum is subtracted."""
    return bool(logits.max() > EXP_OVERFLOWS or logits.max(axis=1).min() < EXP_UNDERFLOWS)


def call_softmax(t: Trial, what: str, at_extremes: bool, call: Callable[[], Any]) -> Any:
    """``call()``, where an overflow error at extreme logits (math.exp, 0.0 / 0.0 in Python) is SOFTMAX_OVERFLOW."""
    try:
        return call()
    except StudentError as exc:
        if at_extremes and exc.type in ("OverflowError", "FloatingPointError", "ZeroDivisionError"):
            t.fail(named(f"{what}: raised {exc.type} ({exc.text})", SOFTMAX_OVERFLOW), mistake=SOFTMAX_OVERFLOW)
        raise


def finite(t: Trial, got: Any, what: str, at_extremes: bool) -> None:
    """At extreme logits, inf or nan where every answer is finite is SOFTMAX_OVERFLOW."""
    if at_extremes and isinstance(got, np.ndarray) and got.dtype.kind == "f" and not np.all(np.isfinite(got)):
        bad = int(np.sum(~np.isfinite(got)))
        t.fail(named(f"{what}: {bad} of {got.size} values are inf or nan (e.g. {got.flat[int(np.argmin(np.isfinite(got)))]}), where every one is finite", SOFTMAX_OVERFLOW), mistake=SOFTMAX_OVERFLOW)


def judge_softmax_ce_backward(t: Trial, logits: np.ndarray, targets: np.ndarray) -> None:
    what = f"softmax_cross_entropy_backward(logits {logits.shape}{' of about +-1e3' if extreme(logits) else ''}, targets {targets.tolist()})"
    want = t.ref.softmax_cross_entropy_backward(logits, targets)
    got = call_softmax(t, what, extreme(logits), lambda: t.call("softmax_cross_entropy_backward", logits, targets))
    finite(t, got, what, extreme(logits))
    t.close(got, want, what=what, variants=[(MISSING_MEAN, len(targets) * want)])
    directional(t, got, lambda z: softmax_ce(z, targets), logits, what)


def extreme_logits(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    """n >= 2 rows of c >= 2 logits: the first with 1e3 and -1e3 in it (exp(1e3) overflows), the second all near -1e3
    (every exp underflows to 0), the rest drawn."""
    logits = 3 * rng.standard_normal((n, c))
    logits[0, rng.choice(c, 2, replace=False)] = 1e3, -1e3
    logits[1] -= 1e3
    return logits


def mlp_inputs(rng: np.random.Generator, n: int, d: int, m: int, c: int, *, extreme_logits: bool = False) -> tuple[np.ndarray, ...]:
    """X, targets, W1, b1, W2, b2. Hidden unit 0 is dead: W1[0] = 0 and b1[0] = 0, so its pre-activation is exactly 0
    for every example (relu'(0) = 0 there); every other pre-activation is at least 0.05 away from ReLU's kink, so
    central differences are exact to O(eps^2) and the gradient is unambiguous. ``extreme_logits``: b2 = +-1e3."""
    while True:
        X, W1, b1 = rng.standard_normal((n, d)), rng.standard_normal((m, d)), rng.standard_normal(m)
        W1[0], b1[0] = 0.0, 0.0
        if m == 1 or np.abs(X @ W1[1:].T + b1[1:]).min() > 0.05:
            b2 = 1e3 * rng.permutation(np.resize([1.0, -1.0], c)) if extreme_logits else rng.standard_normal(c)
            return X, rng.integers(0, c, n), W1, b1, rng.standard_normal((c, m)), b2


def judge_mlp_backward(t: Trial, X: np.ndarray, targets: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> None:
    """For inputs from mlp_inputs: hidden unit 0's pre-activation is 0, so relu'(0) = 1 gives the gradients of b1[0]
    nudged just above 0."""
    params = [W1, b1, W2, b2]
    at_extremes = bool(np.abs(b2).max() > EXP_OVERFLOWS)
    what = f"mlp_backward(X {X.shape}, targets {targets.tolist()}, W1 {W1.shape} (row 0 and b1[0] are 0: a dead unit), b1, W2 {W2.shape}, b2{' of +-1e3' if at_extremes else ''})"
    want = t.ref.mlp_backward(X, targets, *params)
    nudged = b1.copy()
    nudged[0] = np.nextafter(0.0, 1.0)
    at_zero = t.ref.mlp_backward(X, targets, W1, nudged, W2, b2)
    got = _tuple(t, call_softmax(t, what, at_extremes, lambda: t.call("mlp_backward", X, targets, *params)), 5, what, "(loss, dW1, db1, dW2, db2)")
    for value, name in zip(got, ("the loss", "dW1", "db1", "dW2", "db2")):
        finite(t, np.asarray(value) if isinstance(value, float) else value, f"{what}: {name}", at_extremes)
    n = len(X)
    t.close(got[0], np.asarray(want[0]), what=f"{what}[0] (the loss)")
    names = ("dW1", "db1", "dW2", "db2")
    for i, name in enumerate(names, start=1):
        variants = [(MISSING_MEAN, n * want[i]), (RELU_AT_ZERO, at_zero[i])]
        variants += [(WEIGHT_GRAD_TRANSPOSED, want[i].T)] if name.startswith("dW") else [(BIAS_NOT_SUMMED, want[i] / n)]
        t.close(got[i], want[i], what=f"{what}[{i}] ({name})", variants=variants)
    alive = [np.arange(len(p)).reshape(-1, *[1] * (p.ndim - 1)) != 0 if j < 2 else None for j, p in enumerate(params)]
    for i, name in enumerate(names):

        def loss(p: np.ndarray, i: int = i) -> float:
            return float(t.ref.mlp_backward(X, targets, *params[:i], p, *params[i + 1 :])[0])

        directional(t, got[i + 1], loss, params[i], f"{what}: {name}", mask=alive[i])


# ---- the public checks: Value, one operation each ----------------------------------------------------------------


def unit_graphs(rng: np.random.Generator, unit: str) -> list[list[Node]]:
    """Small graphs that use one Value operation and nothing else: x > 0, y < 0 and constants away from 0 (divisors,
    log, fractional powers); relu at positive inputs below and around 1, a negative and a zero one."""
    x, y, c = rng.uniform(0.3, 2.0), -rng.uniform(0.3, 1.5), signed(rng, 0.5, 3.0)
    leaf = [Node("leaf", (), float(v)) for v in (x, y)]
    op = unit.strip("_")
    if op in BINARY:
        return [[*leaf, Node(op, (0, 1))], [*leaf[::-1], Node(op, (0, 1))], [leaf[1], Node(op, (0, c))]]
    if op[1:] in BINARY:  # the reflected form: a plain number on the left
        return [[leaf[0], Node(op[1:], (c, 0))], [leaf[1], Node(op[1:], (signed(rng, 0.5, 3.0), 0))]]
    if op == "pow":
        return [[leaf[0], Node("pow", (0, k))] for k in (3.0, -1.0, 0.5, 2.5)] + [[leaf[1], Node("pow", (0, k))] for k in (2.0, 3.0, -1.0)]
    if op == "relu":
        return [[Node("leaf", (), float(v)), Node("relu", (0,))] for v in (rng.uniform(0.05, 0.95), x, y, 0.0)]
    inputs = {"neg": (x, y), "log": (x, rng.uniform(2.0, 10.0)), "exp": rng.uniform(-2.0, 2.0, 2), "tanh": rng.uniform(-2.0, 2.0, 2)}[op]
    return [[Node("leaf", (), float(v)), Node(op, (0,))] for v in inputs]


def judge_unit(t: Trial, unit: str) -> None:
    for graph in unit_graphs(t.rng, unit):
        judge_value_graph(t, graph, f"{describe_graph(graph)}; v{len(graph) - 1}.backward()")


@check("value_add", "Value: v + w and v + 2, their data and gradients (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_add(t: Trial) -> None:
    judge_unit(t, "__add__")


@check("value_radd", "Value: 2 + v (__radd__), its data and gradient (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_radd(t: Trial) -> None:
    judge_unit(t, "__radd__")


@check("value_sub", "Value: v - w and v - 2, their data and gradients (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_sub(t: Trial) -> None:
    judge_unit(t, "__sub__")


@check("value_rsub", "Value: 2 - v (__rsub__), its data and gradient (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_rsub(t: Trial) -> None:
    judge_unit(t, "__rsub__")


@check("value_mul", "Value: v * w and v * 2, their data and gradients (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_mul(t: Trial) -> None:
    judge_unit(t, "__mul__")


@check("value_rmul", "Value: 2 * v (__rmul__), its data and gradient (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_rmul(t: Trial) -> None:
    judge_unit(t, "__rmul__")


@check("value_truediv", "Value: v / w and v / 2, their data and gradients (with Value.backward); ZeroDivisionError for v / 0", autograd=False, combines=("Value.backward",))
def value_truediv(t: Trial) -> None:
    judge_unit(t, "__truediv__")
    for divisor in ("Value", 0.0):
        p = t.program()
        x = p.call("Value", float(t.rng.uniform(0.5, 2.0)))
        t.raises_in("ZeroDivisionError", p, p.operator("truediv", x, p.call("Value", 0.0) if divisor == "Value" else divisor))


@check("value_rtruediv", "Value: 2 / v (__rtruediv__), its data and gradient (with Value.backward); ZeroDivisionError for 2 / Value(0)", autograd=False, combines=("Value.backward",))
def value_rtruediv(t: Trial) -> None:
    judge_unit(t, "__rtruediv__")
    p = t.program()
    t.raises_in("ZeroDivisionError", p, p.operator("truediv", signed(t.rng, 0.5, 3.0), p.call("Value", 0.0)))


@check("value_neg", "Value: -v, its data and gradient (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_neg(t: Trial) -> None:
    judge_unit(t, "__neg__")


@check("value_pow", "Value: v ** k for integer and fractional k, negative and positive v: data and gradients (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_pow(t: Trial) -> None:
    judge_unit(t, "__pow__")


@check("value_exp", "Value: v.exp(), its data and gradient (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_exp(t: Trial) -> None:
    judge_unit(t, "exp")


@check("value_log", "Value: v.log(), its data and gradient (with Value.backward); ValueError for v <= 0", autograd=False, combines=("Value.backward",))
def value_log(t: Trial) -> None:
    judge_unit(t, "log")
    for data in (-float(t.rng.uniform(0.1, 3.0)), 0.0):
        p = t.program()
        t.raises_in("ValueError", p, p.method(p.call("Value", data), "log"))


@check("value_tanh", "Value: v.tanh(), its data and gradient (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_tanh(t: Trial) -> None:
    judge_unit(t, "tanh")


@check("value_relu", "Value: v.relu() at v > 0, v < 0 and v = 0 (relu'(0) = 0), its data and gradient (with Value.backward)", autograd=False, combines=("Value.backward",))
def value_relu(t: Trial) -> None:
    judge_unit(t, "relu")


@check("value_pow_contract", "Value: v ** k at the edges of its domain: k = 0 at v = 0 (derivative 0, with Value.backward); TypeError, ValueError, ZeroDivisionError", autograd=False, combines=("Value.backward",))
def value_pow_contract(t: Trial) -> None:
    for v, k in ((0.0, 0.0), (0.0, 2.0), (0.0, 1.0), (signed(t.rng, 0.3, 2.0), 0.0)):
        graph = [Node("leaf", (), v), Node("pow", (0, k))]
        judge_value_graph(t, graph, f"{describe_graph(graph)}; v1.backward()")
    p = t.program()
    x = p.call("Value", float(t.rng.uniform(0.5, 3.0)))
    t.raises_in("TypeError", p, p.operator("pow", x, x))
    for base in (-t.rng.uniform(0.1, 0.9), -t.rng.uniform(1.1, 3.0)):  # a negative base either side of -1
        p = t.program()
        t.raises_in("ValueError", p, p.operator("pow", p.call("Value", float(base)), float(t.rng.choice([0.5, 1 / 3, 2.5]))))
    p = t.program()
    t.raises_in("ZeroDivisionError", p, p.operator("pow", p.call("Value", 0.0), float(t.rng.choice([-1.0, -2.0, -0.5]))))
    raises_somewhere(t, "ZeroDivisionError", [Node("leaf", (), 0.0), Node("pow", (0, float(t.rng.choice([0.5, 0.25]))))])  # an infinite derivative


# ---- the public checks: Value, backward() on graphs --------------------------------------------------------------


@check("value_forward", "Value: the data of every operation that runs, with numbers on either side (no backward)", autograd=False)
def value_forward(t: Trial) -> None:
    units, _ = available_units(t)
    # x > 0 (log, fractional powers) and y < 0 (relu's flat side, a divisor); constants away from 0 (divisors)
    graph = [Node("leaf", (), float(t.rng.uniform(0.3, 2.0))), Node("leaf", (), -float(t.rng.uniform(0.3, 1.5)))]
    c, d = signed(t.rng, 0.5, 3.0), signed(t.rng, 0.5, 3.0)
    for op in BINARY:
        graph += [Node(op, (0, 1)), Node(op, (c, 1)), Node(op, (0, d))]
    graph += [Node("pow", (0, float(t.rng.choice([2.0, 3.0, -1.0, 0.5])))), Node("neg", (1,)), *(Node(m, (0,)) for m in METHODS), Node("relu", (1,))]
    graph = [node for node in graph if node.op == "leaf" or unit_of(node) in units]
    judge_value_data(t, graph, "the data of each operation")


@check("value_contract", "Value.backward: a leaf holds float(data) and grad 0.0; backward() on a lone leaf sets its grad to 1 and leaves other Values at 0", autograd=False)
def value_contract(t: Trial) -> None:
    n = int(t.rng.integers(1, 10))
    p = t.program()
    x, y = p.call("Value", n), p.call("Value", float(t.rng.uniform(-1.5, 1.5)))
    before = p.attr(x, "grad")
    p.method(x, "backward")
    got = p.run(p.attr(x, "data"), before, p.attr(x, "grad"), p.attr(y, "grad"))
    expected = ((f"Value({n}).data", n), (f"Value({n}).grad before backward()", 0.0), (f"x.grad after x.backward(), x = Value({n})", 1.0), ("y.grad (y is another Value)", 0.0))
    for (what, want), value in zip(expected, got):
        t.same_kind(value, float(want), what=what)  # numbers, as the reference's Value holds
        if not _close(t, value, want):
            t.fail(f"{what}: got {_number(value)}, expected {want:.6g}")


@check("value_fan_out", "Value.backward with + and *: nodes used by several operations (and twice by one) sum their gradients", autograd=False, combines=("Value.__add__", "Value.__mul__"))
def value_fan_out(t: Trial) -> None:
    x, w = Node("leaf", (), signed(t.rng, 0.3, 1.5)), Node("leaf", (), signed(t.rng, 0.3, 1.5))
    for graph, what in (
        ([x, Node("add", (0, 0))], "out = x + x"),
        ([x, Node("mul", (0, 0))], "out = x * x"),
        ([x, w, Node("mul", (0, 1)), Node("add", (2, 0)), Node("mul", (3, 0))], "out = (x * w + x) * x"),
        ([x, w, Node("mul", (0, 1)), Node("add", (2, 1)), Node("mul", (2, 3))], "a = x * w, out = a * (a + w)"),
    ):
        judge_value_graph(t, graph, f"{what}: {describe_graph(graph)}")


def graph_units(t: Trial) -> set[str]:
    """The operations that run (available_units), with one of +, -, *, / between two Values among them: else the
    error of + (not attempted when + raises NotImplementedError)."""
    units, errors = available_units(t)
    if not any(f"__{op}__" in units for op in BINARY):
        raise errors["__add__"]
    return units


@check("value_graphs", "Value.backward: random graphs of varying depth and fan-out, of the operations that run, against torch.autograd", autograd=False)
def value_graphs(t: Trial) -> None:
    units = graph_units(t)
    for leaves, ops, recent in ((2, 8, 0.3), (3, 14, 0.8), (4, 20, 0.5)):
        judge_value_graph(t, random_graph(t.rng, leaves=leaves, ops=ops, recent=recent, dead=1, units=units), f"a random graph of {leaves} leaves and {ops} operations")


# ---- the public checks: the backward graph and the layers --------------------------------------------------------


@check("backward_graph_structure", "backward_graph: which partial and gradient nodes and edges exist (a fork, x * x, a dead branch)", autograd=False)
def backward_graph_structure(t: Trial) -> None:
    judge_backward_graph_structure(t, *public_example(t.rng), "backward_graph(the example graph)")


@check("backward_graph_values", "backward_graph: the local partials and dL/dn against torch.autograd", autograd=False)
def backward_graph_values(t: Trial) -> None:
    judge_backward_graph_values(t, *public_example(t.rng), "backward_graph(the example graph)")
    judge_backward_graph_values(t, each_op_example(t.rng), EACH_OP_NAMES, "backward_graph(a graph with every operation, relu and ** 0 at 0)")


@check("backward_graph_contract", "backward_graph: a lone input is its own loss; ValueError for malformed graphs and values that are not real", autograd=False)
def backward_graph_contract(t: Trial) -> None:
    graph, name = [Node("leaf", (), float(t.rng.uniform(-2.0, 2.0)))], str(t.rng.choice(PUBLIC_NAMES))
    judge_backward_graph_structure(t, graph, [name], "backward_graph([one input node])")
    judge_backward_graph_values(t, graph, [name], "backward_graph([one input node])")
    x, y, z = (str(v) for v in t.rng.choice(PUBLIC_NAMES, 3, replace=False))
    given = {"name": x, "op": "input", "value": float(t.rng.uniform(-2.0, 2.0))}
    negative = {"name": x, "op": "input", "value": -float(t.rng.uniform(0.5, 2.0))}
    bad = (
        [], [given, {"name": y, "op": "sqrt", "inputs": [x]}], [given, {"name": y, "op": "mul", "inputs": [x, z]}], [given, {"name": y, "op": "exp", "inputs": [x, x]}], [given, given],
        [negative, {"name": y, "op": "pow", "inputs": [x], "exponent": float(t.rng.choice([0.5, 1 / 3, 2.5]))}],  # a complex power
        [negative, {"name": y, "op": "log", "inputs": [x]}],
    )
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


@check("mlp_backward", "mlp_backward: a two-layer classifier's loss and gradients by hand (a dead hidden unit: relu'(0) = 0)", autograd=False)
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


@check("softmax_cross_entropy_backward_contract", "softmax_cross_entropy_backward: one example, one class, logits of +-1e3; ValueError for bad targets or no examples", autograd=False)
def softmax_cross_entropy_backward_contract(t: Trial) -> None:
    judge_softmax_ce_backward(t, t.rng.standard_normal((1, 4)), np.array([3]))
    judge_softmax_ce_backward(t, t.rng.standard_normal((2, 1)), np.array([0, 0]))
    judge_softmax_ce_backward(t, extreme_logits(t.rng, 2, 3), np.array([1, 2]))
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
