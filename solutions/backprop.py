"""Backpropagation by hand: a scalar reverse-mode engine, the backward graph of a forward graph, and the backward
passes of the layers of a small classifier.

Reverse mode applies the chain rule from the loss L back to every node n of the computation graph. A node's
gradient collects one contribution per use: if n feeds the operations o_1, ..., o_k, then

    dL/dn = sum_i dL/do_i * do_i/dn

where do_i/dn is the *local* partial derivative of operation o_i with respect to its input n, evaluated at the
forward values. So a node's gradient is complete only after every consumer has passed its contribution back:
visit the nodes in reverse topological order (a node after everything that uses it) and *add* (+=) contributions;
assigning (=) keeps only the last consumer's. A node used twice by one operation (x * x) gets two contributions
(2x); torch.autograd sums them the same way.

The layer functions use the conventions of torch.nn: a batch of N examples in the rows, Y = X W^T + b with W of
shape (out, in), and the loss of a batch is the *mean* over its examples. A backward function receives the upstream
gradient dY = dL/dY and returns the gradients of L with respect to the layer's inputs, each of its input's shape.
They are written in numpy from these formulas; torch.autograd is not used (the grader refuses it here).

Arguments are read-only: no function changes an array or tensor it is given (it returns new ones); a change made
in place fails the check it happens in, named as the mistake modifies-input.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

__all__ = ["Value", "backward_graph", "linear_backward", "relu_backward", "softmax_cross_entropy_backward", "mlp_backward"]


def _power(a: float, k: float) -> float:
    if a < 0 and not float(k).is_integer():
        raise ValueError(f"{a!r} ** {k!r}: a negative base needs an integer exponent (the real power is undefined)")
    return a**k


def _power_partial(a: float, k: float) -> float:
    return 0.0 if k == 0 else k * a ** (k - 1)  # k = 0: a constant, also at a = 0 (where a ** -1 would divide by 0)


class Value:
    """A scalar that remembers how it was computed, so that ``backward()`` can apply the chain rule in reverse.

    ``Value(data)`` is a leaf: ``.data`` is the number as a float, ``.grad`` is 0.0. Every operation returns a new
    Value whose ``.data`` is the result and which remembers its operands and the local partial derivatives:

        a + b, a - b, a * b, a / b, -a, a ** k (k an int or float, not a Value),
        a.exp(), a.log(), a.tanh(), a.relu() (relu'(0) = 0, as in torch),

    and a plain number works on either side: 2 * a, 1 - a, 1 / a, a + 0.5.

    ``out.backward()`` sets ``out.grad = 1.0`` (dout/dout) and then ``v.grad = dout/dv`` for every Value v that
    ``out`` depends on, summing the contributions of every use of v. A graph is differentiated once: call
    ``backward()`` on a graph only once (gradients would accumulate, as in torch).

    >>> x = Value(3.0)
    >>> y = x * x + x          # x is used three times
    >>> y.backward()
    >>> y.data, x.grad         # dy/dx = 2x + 1
    (12.0, 7.0)
    """

    def __init__(self, data: float):
        """A leaf Value holding ``float(data)``, with ``grad`` 0.0.

        Raises:
            TypeError: data is not a real number (a Value, a string, ...).
        """
        if isinstance(data, (Value, bool)) or not isinstance(data, (int, float)):
            raise TypeError(f"Value(data): data must be an int or float, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self._parents: tuple[Value, ...] = ()
        self._partials: tuple[float, ...] = ()  # d self / d parent, evaluated at the forward values

    @staticmethod
    def _lift(other: Any) -> "Value":
        return other if isinstance(other, Value) else Value(other)

    def _result(self, data: float, parents: tuple["Value", ...], partials: tuple[float, ...]) -> "Value":
        out = Value(data)
        out._parents, out._partials = parents, partials
        return out

    def __add__(self, other: "Value | float") -> "Value":
        """self + other; d/dself = 1, d/dother = 1."""
        other = self._lift(other)
        return self._result(self.data + other.data, (self, other), (1.0, 1.0))

    def __radd__(self, other: float) -> "Value":
        """other + self, for a plain number other."""
        return self + other

    def __sub__(self, other: "Value | float") -> "Value":
        """self - other; d/dself = 1, d/dother = -1."""
        other = self._lift(other)
        return self._result(self.data - other.data, (self, other), (1.0, -1.0))

    def __rsub__(self, other: float) -> "Value":
        """other - self, for a plain number other."""
        return self._lift(other) - self

    def __mul__(self, other: "Value | float") -> "Value":
        """self * other; d/dself = other, d/dother = self."""
        other = self._lift(other)
        return self._result(self.data * other.data, (self, other), (other.data, self.data))

    def __rmul__(self, other: float) -> "Value":
        """other * self, for a plain number other."""
        return self * other

    def __truediv__(self, other: "Value | float") -> "Value":
        """self / other; d/dself = 1/other, d/dother = -self/other**2.

        Raises:
            ZeroDivisionError: other is 0.
        """
        other = self._lift(other)
        return self._result(self.data / other.data, (self, other), (1.0 / other.data, -self.data / other.data**2))

    def __rtruediv__(self, other: float) -> "Value":
        """other / self, for a plain number other."""
        return self._lift(other) / self

    def __neg__(self) -> "Value":
        """-self; d/dself = -1."""
        return self._result(-self.data, (self,), (-1.0,))

    def __pow__(self, k: float) -> "Value":
        """self ** k for a constant k; d/dself = k self**(k-1), which is 0 for k = 0 (even at self = 0).

        Real powers only: a negative self needs an integer k (Python's float ** would return a complex number).

        Raises:
            TypeError: k is not an int or float (a Value exponent is not supported).
            ValueError: self is negative and k is not an integer.
            ZeroDivisionError: self is 0 and k < 0 (0 ** k is infinite), or 0 < k < 1 (the derivative k 0**(k-1) is
                infinite: raised by the operation or by backward(), whichever computes it).
        """
        if isinstance(k, (Value, bool)) or not isinstance(k, (int, float)):
            raise TypeError(f"Value ** k: k must be an int or float, got {type(k).__name__}")
        return self._result(_power(self.data, k), (self,), (_power_partial(self.data, k),))

    def exp(self) -> "Value":
        """e**self; d/dself = e**self."""
        e = math.exp(self.data)
        return self._result(e, (self,), (e,))

    def log(self) -> "Value":
        """The natural logarithm; d/dself = 1/self.

        Raises:
            ValueError: self.data <= 0.
        """
        if self.data <= 0:
            raise ValueError(f"Value.log: the logarithm needs data > 0, got {self.data!r}")
        return self._result(math.log(self.data), (self,), (1.0 / self.data,))

    def tanh(self) -> "Value":
        """tanh(self); d/dself = 1 - tanh(self)**2."""
        t = math.tanh(self.data)
        return self._result(t, (self,), (1.0 - t * t,))

    def relu(self) -> "Value":
        """max(self, 0); d/dself = 1 where self > 0, else 0 (also at 0, as in torch)."""
        return self._result(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def backward(self) -> None:
        """Set ``self.grad = 1`` and ``v.grad += dself/dv`` for every Value v that self depends on, visiting each
        node after all of its consumers (reverse topological order), so every contribution is summed in."""
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # an explicit stack: a deep graph must not hit Python's recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in node._parents)
        self.grad = 1.0
        for node in reversed(order):  # `order` is topological: parents before the nodes that use them
            for parent, partial in zip(node._parents, node._partials):
                parent.grad += partial * node.grad


# ---- the backward graph of a forward graph given as data ------------------------------------------------------------

# op -> (number of inputs, forward, the local partials d out/d input_i); `k` is the pow node's exponent.
_OPS: dict[str, tuple[int, Callable[..., float], Callable[..., tuple[float, ...]]]] = {
    "add": (2, lambda a, b, k: a + b, lambda a, b, k: (1.0, 1.0)),
    "sub": (2, lambda a, b, k: a - b, lambda a, b, k: (1.0, -1.0)),
    "mul": (2, lambda a, b, k: a * b, lambda a, b, k: (b, a)),
    "div": (2, lambda a, b, k: a / b, lambda a, b, k: (1.0 / b, -a / b**2)),
    "neg": (1, lambda a, k: -a, lambda a, k: (-1.0,)),
    "pow": (1, lambda a, k: _power(a, k), lambda a, k: (_power_partial(a, k),)),
    "exp": (1, lambda a, k: math.exp(a), lambda a, k: (math.exp(a),)),
    "log": (1, lambda a, k: math.log(a), lambda a, k: (1.0 / a,)),
    "tanh": (1, lambda a, k: math.tanh(a), lambda a, k: (1.0 - math.tanh(a) ** 2,)),
    "relu": (1, lambda a, k: max(a, 0.0), lambda a, k: (1.0 if a > 0 else 0.0,)),
}


def _parse_graph(forward_graph: list[dict[str, Any]]) -> list[tuple[str, str, tuple[str, ...], float]]:
    """(name, op, inputs, input value or pow exponent) per node; ValueError naming the node otherwise."""
    if not isinstance(forward_graph, (list, tuple)) or not forward_graph:
        raise ValueError("backward_graph: forward_graph must be a non-empty list of nodes")
    nodes, names = [], set()
    for i, node in enumerate(forward_graph):
        if not isinstance(node, dict) or not isinstance(node.get("name"), str) or node["name"] in names:
            raise ValueError(f"backward_graph: node {i} must be a dict with a new 'name' (a string)")
        name, op = node["name"], node.get("op")
        if op == "input":
            nodes.append((name, op, (), float(node["value"])))
        elif op in _OPS:
            inputs = tuple(node.get("inputs", ()))
            if len(inputs) != _OPS[op][0] or any(n not in names for n in inputs):
                raise ValueError(f"backward_graph: node {name!r} ({op}) needs {_OPS[op][0]} inputs among the nodes before it, got {inputs!r}")
            nodes.append((name, op, inputs, float(node["exponent"]) if op == "pow" else 0.0))
        else:
            raise ValueError(f"backward_graph: node {name!r} has op {op!r}; expected 'input' or one of {sorted(_OPS)}")
        names.add(name)
    return nodes


def backward_graph(forward_graph: list[dict[str, Any]]) -> tuple[dict[tuple[str, ...], float], set[tuple[tuple[str, ...], tuple[str, ...]]]]:
    """Build the backward graph of a forward graph and evaluate it: the local partials and the gradients dL/dn.

    The forward graph is a list of nodes in topological order (every input is defined before it is used); the last
    node is the loss L. A node is one of

        {"name": "x", "op": "input", "value": 1.5}
        {"name": "a", "op": "mul", "inputs": ["x", "w"]}          add, sub, mul, div (two inputs, in order)
        {"name": "t", "op": "tanh", "inputs": ["a"]}              neg, exp, log, tanh, relu (one input)
        {"name": "p", "op": "pow", "inputs": ["a"], "exponent": 3}       d/da = k a**(k-1), 0 for k = 0 (even at a = 0)

    The backward graph is built as the cheat sheet describes, starting from L and going backward:

    1. For each node n and each output o of n (a node that takes n as an input) that has a path to L, add a node
       ("partial", o, n) holding the local partial do/dn at the forward values, with edges from ("node", o) and from
       ("node", n) to it. If o uses n twice (x * x), do/dn is the whole derivative (2x): one node.
    2. For each node n that has a path to L (L included), add a node ("grad", n) holding dL/dn, with an edge from
       each ("partial", o, n) of step 1 and from each ("grad", o) of those outputs o. ("grad", L) holds 1.

    So dL/dn = sum over the outputs o of n of dL/do * do/dn. Nodes without a path to L get no backward nodes,
    and nothing is added for their outgoing edges.

    Returns:
        (values, edges): ``values`` maps each backward-graph node (a tuple as above) to its value as a float;
        ``edges`` is the set of (source, target) pairs, a forward node written ("node", name).

    Raises:
        ValueError: the graph is not a non-empty list of such nodes in topological order with unique names, or a
            value is not a real number: the log of a value <= 0, or a negative base with a non-integer exponent
            (Python's float ** would return a complex number).
        ZeroDivisionError: a division by 0, or a pow node at 0 with k < 0 (its value is infinite) or with 0 < k < 1
            on a path to L (its local partial is).

    >>> values, edges = backward_graph([{"name": "x", "op": "input", "value": 2.0},
    ...                                 {"name": "L", "op": "mul", "inputs": ["x", "x"]}])
    >>> values[("partial", "L", "x")], values[("grad", "x")], values[("grad", "L")]
    (4.0, 4.0, 1.0)
    >>> sorted(edges)[:2]
    [(('grad', 'L'), ('grad', 'x')), (('node', 'L'), ('partial', 'L', 'x'))]
    """
    nodes = _parse_graph(forward_graph)
    value: dict[str, float] = {}
    for name, op, inputs, k in nodes:
        value[name] = k if op == "input" else _OPS[op][1](*(value[i] for i in inputs), k)
    loss = nodes[-1][0]
    reaches = {loss}
    for name, op, inputs, k in reversed(nodes):
        if name in reaches:
            reaches.update(inputs)
    values: dict[tuple[str, ...], float] = {("grad", loss): 1.0}
    edges: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for name, op, inputs, k in reversed(nodes):  # every output of a node comes after it, so dL/do is complete
        if name not in reaches or op == "input":
            continue
        partials = _OPS[op][2](*(value[i] for i in inputs), k)
        for n, local in zip(inputs, partials):
            partial, grad = ("partial", name, n), ("grad", n)
            values[partial] = values.get(partial, 0.0) + local
            values[grad] = values.get(grad, 0.0) + local * values[("grad", name)]
            edges |= {(("node", name), partial), (("node", n), partial), (partial, grad), (("grad", name), grad)}
    return values, edges


# ---- layer backwards ------------------------------------------------------------------------------------------------


def _matrix(a: Any, name: str, func: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{func}: {name} must be 2-D, got shape {a.shape}")
    return a


def linear_backward(dY: np.ndarray, X: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of the linear layer Y = X W^T + b.

    With dY = dL/dY:  dX = dY W,  dW = dY^T X,  db = sum of dY over the batch (every example adds the same b).

    Args:
        dY: upstream gradient, shape (N, out).
        X: the layer's input, shape (N, in).
        W: the weight, shape (out, in) (torch.nn.Linear's layout).

    Returns:
        (dX, dW, db) as float64 arrays of shapes (N, in), (out, in) and (out,).

    Raises:
        ValueError: an argument is not 2-D, or the shapes do not fit together.

    >>> dX, dW, db = linear_backward(np.ones((2, 1)), np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, -1.0]]))
    >>> dX.tolist(), dW.tolist(), db.tolist()
    ([[0.5, -1.0], [0.5, -1.0]], [[4.0, 6.0]], [2.0])
    """
    dY, X, W = _matrix(dY, "dY", "linear_backward"), _matrix(X, "X", "linear_backward"), _matrix(W, "W", "linear_backward")
    if X.shape[1] != W.shape[1] or dY.shape != (X.shape[0], W.shape[0]):
        raise ValueError(f"linear_backward: X {X.shape} and W {W.shape} give Y of shape (N, out) = ({X.shape[0]}, {W.shape[0]}) when X is (N, in) and W is (out, in); got dY {dY.shape}")
    return dY @ W, dY.T @ X, dY.sum(axis=0)


def relu_backward(dY: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Backward pass of Y = max(X, 0) elementwise: dX = dY where X > 0, else 0 (also at X = 0, as in torch).

    Args:
        dY: upstream gradient, the shape of X.
        X: the input of the ReLU, any shape.

    Returns:
        dX, a float64 array of X's shape.

    Raises:
        ValueError: dY and X differ in shape.

    >>> relu_backward(np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 3.0]
    """
    dY, X = np.asarray(dY, dtype=np.float64), np.asarray(X, dtype=np.float64)
    if dY.shape != X.shape:
        raise ValueError(f"relu_backward: dY {dY.shape} must have the shape of X {X.shape}")
    return np.where(X > 0, dY, 0.0)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)  # exp never overflows: the largest term is e**0
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _targets(logits: np.ndarray, targets: Any, func: str) -> np.ndarray:
    targets = np.asarray(targets)
    if targets.shape != (logits.shape[0],) or targets.dtype.kind not in "iu":
        raise ValueError(f"{func}: targets must be integer class indices of shape ({logits.shape[0]},), got {targets.dtype} {targets.shape}")
    if targets.size and (targets.min() < 0 or targets.max() >= logits.shape[1]):
        raise ValueError(f"{func}: targets must lie in [0, {logits.shape[1]}), got values from {targets.min()} to {targets.max()}")
    return targets


def softmax_cross_entropy_backward(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Gradient of the mean softmax cross-entropy L = -(1/N) sum_i log softmax(logits_i)[targets_i] w.r.t. logits.

    dL/dlogits = (softmax(logits) - onehot(targets)) / N: each row sums to 0, and the 1/N comes from the mean
    (torch.nn.functional.cross_entropy's default reduction). Computed stably (the row maximum is subtracted).

    Args:
        logits: shape (N, C) with N >= 1 and C >= 1.
        targets: integer class indices, shape (N,), each in [0, C).

    Returns:
        A float64 array of shape (N, C).

    Raises:
        ValueError: logits is not 2-D with N >= 1, or targets has the wrong shape, dtype or range.

    >>> softmax_cross_entropy_backward(np.zeros((2, 2)), np.array([0, 1])).tolist()
    [[-0.25, 0.25], [0.25, -0.25]]
    """
    logits = _matrix(logits, "logits", "softmax_cross_entropy_backward")
    if logits.shape[0] == 0:
        raise ValueError("softmax_cross_entropy_backward: logits must hold at least one example (row)")
    targets = _targets(logits, targets, "softmax_cross_entropy_backward")
    grad = np.exp(_log_softmax(logits))
    grad[np.arange(len(targets)), targets] -= 1.0
    return grad / len(targets)


def mlp_backward(
    X: np.ndarray, targets: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Loss and parameter gradients of a two-layer classifier, forward and backward by hand:

        H = relu(X W1^T + b1),   logits = H W2^T + b2,   L = mean softmax cross-entropy(logits, targets),

    with M hidden units (H has shape (N, M)).

    The backward pass chains the layer backwards above: dlogits, then (dH, dW2, db2) through the second linear
    layer, dA = relu_backward(dH, A) at the pre-activation A = X W1^T + b1, then (dX, dW1, db1).

    Args:
        X: inputs, shape (N, D) with N >= 1.
        targets: integer class indices, shape (N,), in [0, C).
        W1, b1: first layer, shapes (M, D) and (M,).
        W2, b2: second layer, shapes (C, M) and (C,).

    Returns:
        (loss, dW1, db1, dW2, db2): the loss as a float, then float64 arrays of the parameters' shapes.

    Raises:
        ValueError: a shape does not fit, or a target is out of range.

    >>> loss, dW1, db1, dW2, db2 = mlp_backward(np.ones((1, 1)), np.array([0]), np.ones((1, 1)), np.zeros(1),
    ...                                          np.zeros((2, 1)), np.zeros(2))
    >>> round(loss, 6), dW2.tolist(), db2.tolist()
    (0.693147, [[-0.5], [0.5]], [-0.5, 0.5])
    """
    X, W1, W2 = _matrix(X, "X", "mlp_backward"), _matrix(W1, "W1", "mlp_backward"), _matrix(W2, "W2", "mlp_backward")
    b1, b2 = np.asarray(b1, dtype=np.float64), np.asarray(b2, dtype=np.float64)
    if X.shape[0] == 0 or W1.shape[1] != X.shape[1] or b1.shape != (W1.shape[0],) or W2.shape[1] != W1.shape[0] or b2.shape != (W2.shape[0],):
        raise ValueError(f"mlp_backward: expected X (N>=1, D), W1 (M, D), b1 (M,), W2 (C, M), b2 (C,); got X {X.shape}, W1 {W1.shape}, b1 {b1.shape}, W2 {W2.shape}, b2 {b2.shape}")
    A = X @ W1.T + b1
    H = np.maximum(A, 0.0)
    logits = H @ W2.T + b2
    targets = _targets(logits, targets, "mlp_backward")
    loss = float(-_log_softmax(logits)[np.arange(len(targets)), targets].mean())
    dH, dW2, db2 = linear_backward(softmax_cross_entropy_backward(logits, targets), H, W2)
    _, dW1, db1 = linear_backward(relu_backward(dH, A), X, W1)
    return loss, dW1, db1, dW2, db2
