"""Hidden checks of the backprop topic: graphs, shapes and values drawn per submission from the course secret.

Every random expression graph has forks (nodes used by several operations, and one used twice by one operation),
and the layer inputs have a batch of N >= 2 with in != out, so a transposed dW, an averaged db and a missing 1/N
each show.
"""

from __future__ import annotations

from autograder.engine.checks import Trial, check
from checks.public.backprop import (
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


def _int(t: Trial, low: int, high: int) -> int:
    return int(t.rng.integers(low, high + 1))


@check("hidden_value_graphs", "Value: random graphs, wide and deep (a chain of a few hundred operations)", autograd=False)
def hidden_value_graphs(t: Trial) -> None:
    for _ in range(3):
        leaves, ops = _int(t, 2, 5), _int(t, 10, 40)
        graph = random_graph(t.rng, leaves=leaves, ops=ops, recent=float(t.rng.uniform(0.2, 0.8)), dead=_int(t, 0, 2))
        judge_value_graph(t, graph, f"a random graph of {leaves} leaves and {ops} operations")
    ops = _int(t, 200, 300)
    judge_value_graph(t, random_graph(t.rng, leaves=2, ops=ops, recent=0.95), f"a random graph of 2 leaves and {ops} operations, most on the newest node")


@check("hidden_backward_graph", "backward_graph: structure and values on random graphs with forks and dead branches", autograd=False)
def hidden_backward_graph(t: Trial) -> None:
    for _ in range(2):
        leaves, ops = _int(t, 2, 4), _int(t, 6, 16)
        graph = random_graph(t.rng, leaves=leaves, ops=ops, constants=False, dead=_int(t, 1, 2), recent=float(t.rng.uniform(0.3, 0.7)))
        names = [f"n{i}" for i in range(len(graph) - 1)] + ["L"]
        what = f"backward_graph(a random graph of {leaves} inputs and {len(graph) - leaves} operations)"
        judge_backward_graph_structure(t, graph, names, what)
        judge_backward_graph_values(t, graph, names, what)


def _layer(t: Trial) -> tuple[int, int, int]:
    n, d = _int(t, 2, 6), _int(t, 2, 5)
    return n, d, d + _int(t, 1, 3)  # in != out: a transposed dW has the wrong shape


@check("hidden_linear_backward", "linear_backward on random shapes", autograd=False)
def hidden_linear_backward(t: Trial) -> None:
    n, d_in, d_out = _layer(t)
    judge_linear_backward(t, t.rng.standard_normal((n, d_in)), t.rng.standard_normal((d_out, d_in)))
    judge_linear_backward(t, t.rng.standard_normal((n, d_out)), t.rng.standard_normal((d_in, d_out)))


@check("hidden_relu_backward", "relu_backward on a random shape with zeros", autograd=False)
def hidden_relu_backward(t: Trial) -> None:
    X = t.rng.standard_normal((_int(t, 1, 4), _int(t, 2, 6), _int(t, 1, 3)))
    X.flat[t.rng.choice(X.size, size=max(1, X.size // 4), replace=False)] = 0.0
    judge_relu_backward(t, X)


@check("hidden_softmax_cross_entropy_backward", "softmax_cross_entropy_backward on random batches", autograd=False)
def hidden_softmax_cross_entropy_backward(t: Trial) -> None:
    n, c = _int(t, 2, 8), _int(t, 2, 6)
    judge_softmax_ce_backward(t, 3 * t.rng.standard_normal((n, c)), t.rng.integers(0, c, n))


@check("hidden_mlp_backward", "mlp_backward on random sizes", autograd=False)
def hidden_mlp_backward(t: Trial) -> None:
    n, d, h = _layer(t)
    judge_mlp_backward(t, *mlp_inputs(t.rng, n, d, h, _int(t, 2, 4)))
