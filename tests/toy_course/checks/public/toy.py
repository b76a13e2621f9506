"""Checks that exercise each way a check can reach student code."""

import numpy as np
import torch

from autograder.engine.checks import Trial, check
from autograder.reports import plots
from autograder.sandbox import components


@check("scale", "a function of arrays, with a figure of the answer against the reference")
def scale(t: Trial) -> None:
    x = t.rng.standard_normal(4)
    got, want = t.call("scale", x, 2.5), t.ref.scale(x, 2.5)
    paths = {"reference": [x[:2], want[:2]], "yours": [x[:2], got[:2]]}
    t.figure(plots.trajectory(title="scale(x, 2.5)", series=paths, losses={k: [float(p @ p) for p in v] for k, v in paths.items()}, quadratic=(np.eye(2), np.zeros(2))))
    t.close(got, want, what="scale(x, 2.5)")


@check("counter", "a stateful class driven through a program")
def counter(t: Trial) -> None:
    p = t.program()
    c = p.call("Counter", 1.0)
    p.method(p.method(c, "add", 2.0), "add", 3.5)
    total = p.run(p.attr(c, "total"))[0]
    ref = t.ref.Counter(1.0).add(2.0).add(3.5)
    t.close(total, np.asarray(ref.total), what="Counter(1).add(2).add(3.5).total")


@check("component", "student code called with a network the check supplies")
def component(t: Trial) -> None:
    weights = [t.rng.standard_normal(s) for s in ((5, 3), (5,), (2, 5), (2,))]
    x = t.rng.standard_normal((4, 3))
    p = t.program()
    net = p.component("mlp", *weights)
    got = p.run(p.call("apply", net, t.tensor(x)))[0]
    with torch.no_grad():
        want = t.ref.apply(components.build("mlp", *weights, device="cpu"), torch.tensor(x))
    t.close(got, want, what="apply(mlp, x)")


@check("broken", "a check with a bug: must fail closed")
def broken(t: Trial) -> None:
    raise RuntimeError("a bug in the check itself")
