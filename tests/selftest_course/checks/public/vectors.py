"""Checks of the self-test's toy topic (none calls `bump`, on purpose)."""

from autograder.engine.checks import Trial, check


@check("axpy", "axpy on random vectors")
def axpy(t: Trial) -> None:
    x, y = t.rng.standard_normal(5), t.rng.standard_normal(5)
    t.close(t.call("axpy", 1.5, x, y), t.ref.axpy(1.5, x, y), what="axpy(1.5, x, y)")


@check("total", "total of a random vector")
def total(t: Trial) -> None:
    x = t.rng.standard_normal(6)
    t.close(t.call("total", x), t.ref.total(x), what="total(x)")
