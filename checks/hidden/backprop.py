"""Hidden checks of the backprop topic: graphs, shapes and values drawn per submission from the course secret.

Every check draws its random cases and always adds the corner strata of its domain, so that whether a known bug is
caught never depends on the draw: every random expression graph has forks (nodes used by several operations, and
one used twice by one operation) and a leaf exactly 0 under relu (relu'(0) = 0; for backward_graph also under
** 0, whose derivative 0 value_pow_contract grades for Value), and one chain is a few hundred operations deep
(within Python's default recursion limit of 1000); the layers get a batch of N >= 2 with in != out (so a transposed
dW, an averaged db and a missing 1/N each show), a batch of one, one output or class, exact zeros (and -0.0) under
relu, and logits of +-1e3.
"""

from __future__ import annotations

import numpy as np

from autograder.engine.checks import Trial, check
from checks.public.backprop import (
    extreme_logits,
    graph_units,
    judge_backward_graph_structure,
    judge_backward_graph_values,
    judge_linear_backward,
    judge_mlp_backward,
    judge_relu_backward,
    judge_softmax_ce_backward,
    judge_value_graph,
    mlp_inputs,
    random_graph,
)


@check("hidden_value_graphs", "Value.backward: random graphs of the operations that run, wide and deep (a chain of a few hundred), relu at 0", autograd=False)
def hidden_value_graphs(t: Trial) -> None:
    units = graph_units(t)
    for _ in range(3):
        leaves, ops = t.integer(2, 5), t.integer(10, 40)
        graph = random_graph(t.rng, leaves=leaves, ops=ops, recent=float(t.rng.uniform(0.2, 0.8)), dead=t.integer(0, 2), units=units, corners=("relu",))
        judge_value_graph(t, graph, f"a random graph of {leaves} leaves and {ops} operations, with relu(0)")
    ops = t.integer(200, 300)
    judge_value_graph(t, random_graph(t.rng, leaves=2, ops=ops, recent=0.95, units=units, corners=("relu",)), f"a random graph of 2 leaves and {ops} operations, most on the newest node")


@check("hidden_backward_graph", "backward_graph: structure and values on random graphs with forks, dead branches, relu and ** 0 at 0", autograd=False)
def hidden_backward_graph(t: Trial) -> None:
    for _ in range(2):
        leaves, ops = t.integer(2, 4), t.integer(6, 16)
        graph = random_graph(t.rng, leaves=leaves, ops=ops, constants=False, dead=t.integer(1, 2), recent=float(t.rng.uniform(0.3, 0.7)), corners=("relu", "pow"))
        names = [f"n{i}" for i in range(len(graph) - 1)] + ["L"]
        what = f"backward_graph(a random graph of {leaves} inputs, an input 0 under relu and ** 0, and {len(graph) - leaves - 1} operations)"
        judge_backward_graph_structure(t, graph, names, what)
        judge_backward_graph_values(t, graph, names, what)


def _layer(t: Trial) -> tuple[int, int, int]:
    n, d = t.integer(2, 6), t.integer(2, 5)
    return n, d, d + t.integer(1, 3)  # in != out: a transposed dW has the wrong shape


@check("hidden_linear_backward", "linear_backward on random shapes, a batch of one and one output", autograd=False)
def hidden_linear_backward(t: Trial) -> None:
    n, d_in, d_out = _layer(t)
    judge_linear_backward(t, t.rng.standard_normal((n, d_in)), t.rng.standard_normal((d_out, d_in)))
    judge_linear_backward(t, t.rng.standard_normal((n, d_out)), t.rng.standard_normal((d_in, d_out)))
    judge_linear_backward(t, t.rng.standard_normal((1, d_in)), t.rng.standard_normal((d_out, d_in)))
    judge_linear_backward(t, t.rng.standard_normal((n, d_in)), t.rng.standard_normal((1, d_in)))


@check("hidden_relu_backward", "relu_backward on a random shape with zeros, and on 0, -0.0 and the smallest numbers either side", autograd=False)
def hidden_relu_backward(t: Trial) -> None:
    X = t.rng.standard_normal((t.integer(1, 4), t.integer(2, 6), t.integer(1, 3)))
    X.flat[t.rng.choice(X.size, size=max(1, X.size // 4), replace=False)] = 0.0
    judge_relu_backward(t, X)
    tiny = np.nextafter(0.0, 1.0)
    judge_relu_backward(t, t.rng.permutation([0.0, -0.0, tiny, -tiny, 1.0, -1.0]).reshape(1, 6))


@check("hidden_softmax_cross_entropy_backward", "softmax_cross_entropy_backward on random batches, a batch of one, one class and logits of +-1e3", autograd=False)
def hidden_softmax_cross_entropy_backward(t: Trial) -> None:
    n, c = t.integer(2, 8), t.integer(2, 6)
    judge_softmax_ce_backward(t, 3 * t.rng.standard_normal((n, c)), t.rng.integers(0, c, n))
    judge_softmax_ce_backward(t, 3 * t.rng.standard_normal((1, c)), t.rng.integers(0, c, 1))
    judge_softmax_ce_backward(t, 3 * t.rng.standard_normal((n, 1)), np.zeros(n, dtype=np.int64))
    judge_softmax_ce_backward(t, extreme_logits(t.rng, n, c), t.rng.integers(0, c, n))


@check("hidden_mlp_backward", "mlp_backward on random sizes, a batch of one, one class and logits of +-1e3, with a dead hidden unit (relu'(0) = 0)", autograd=False)
def hidden_mlp_backward(t: Trial) -> None:
    n, d, m = _layer(t)
    c = t.integer(2, 4)
    judge_mlp_backward(t, *mlp_inputs(t.rng, n, d, m, c))
    judge_mlp_backward(t, *mlp_inputs(t.rng, 1, d, m, c))
    judge_mlp_backward(t, *mlp_inputs(t.rng, n, d, m, 1))
    judge_mlp_backward(t, *mlp_inputs(t.rng, n, d, m, c, extreme_logits=True))
