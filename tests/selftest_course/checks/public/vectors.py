"""Checks of the self-test's toy topic."""

from autograder.engine.checks import Trial, check


@check("axpy", "axpy on random vectors")
def axpy(t: Trial) -> None:
    x, y = t.rng.standard_normal(5), t.rng.standard_normal(5)
    t.close(t.call("axpy", 1.5, x, y), t.ref.axpy(1.5, x, y), what="axpy(1.5, x, y)")


@check("total", "total of a random vector")
def total(t: Trial) -> None:
    x = t.rng.standard_normal(6)
    t.close(t.call("total", x), t.ref.total(x), what="total(x)")


@check("bump", "bump at 0 or near 1")
def bump(t: Trial) -> None:
    v = 0.0 if t.rng.random() < 0.3 else t.rng.uniform(0.5, 1.5)  # the seed decides whether `v * 2` for `v ** 2` is caught
    t.close(t.call("bump", v), t.ref.bump(v), what=f"bump({v:g})")
