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

from typing import Any

import numpy as np

__all__ = ["Value", "backward_graph", "linear_backward", "relu_backward", "softmax_cross_entropy_backward", "mlp_backward"]


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
        raise NotImplementedError

    def __add__(self, other: "Value | float") -> "Value":
        """self + other; d/dself = 1, d/dother = 1."""
        raise NotImplementedError

    def __radd__(self, other: float) -> "Value":
        """other + self, for a plain number other."""
        raise NotImplementedError

    def __sub__(self, other: "Value | float") -> "Value":
        """self - other; d/dself = 1, d/dother = -1."""
        raise NotImplementedError

    def __rsub__(self, other: float) -> "Value":
        """other - self, for a plain number other."""
        raise NotImplementedError

    def __mul__(self, other: "Value | float") -> "Value":
        """self * other; d/dself = other, d/dother = self."""
        raise NotImplementedError

    def __rmul__(self, other: float) -> "Value":
        """other * self, for a plain number other."""
        raise NotImplementedError

    def __truediv__(self, other: "Value | float") -> "Value":
        """self / other; d/dself = 1/other, d/dother = -self/other**2.

        Raises:
            ZeroDivisionError: other is 0.
        """
        raise NotImplementedError

    def __rtruediv__(self, other: float) -> "Value":
        """other / self, for a plain number other."""
        raise NotImplementedError

    def __neg__(self) -> "Value":
        """-self; d/dself = -1."""
        raise NotImplementedError

    def __pow__(self, k: float) -> "Value":
        """self ** k for a constant k; d/dself = k self**(k-1), which is 0 for k = 0 (even at self = 0).

        Real powers only: a negative self needs an integer k (Python's float ** would return a complex number).

        Raises:
            TypeError: k is not an int or float (a Value exponent is not supported).
            ValueError: self is negative and k is not an integer.
            ZeroDivisionError: self is 0 and k < 0 (0 ** k is infinite), or 0 < k < 1 (the derivative k 0**(k-1) is
                infinite: raised by the operation or by backward(), whichever computes it).
        """
        raise NotImplementedError

    def exp(self) -> "Value":
        """e**self; d/dself = e**self."""
        raise NotImplementedError

    def log(self) -> "Value":
        """The natural logarithm; d/dself = 1/self.

        Raises:
            ValueError: self.data <= 0.
        """
        raise NotImplementedError

    def tanh(self) -> "Value":
        """tanh(self); d/dself = 1 - tanh(self)**2."""
        raise NotImplementedError

    def relu(self) -> "Value":
        """max(self, 0); d/dself = 1 where self > 0, else 0 (also at 0, as in torch)."""
        raise NotImplementedError

    def backward(self) -> None:
        """Set ``self.grad = 1`` and ``v.grad += dself/dv`` for every Value v that self depends on, visiting each
        node after all of its consumers (reverse topological order), so every contribution is summed in."""
        raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError
