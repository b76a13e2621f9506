"""Public checks of the optimizers topic: problems, starting points and schedules drawn from the trial's rng (the
public seed in a student's own run, the same every run; fresh ones when the course grades).

Each step function is checked on trajectories: the check holds the objective, calls the student's step once per
iteration with the gradient at the student's own current point, and passes back the state the student returned.
The trajectory is compared with the reference's, which must itself agree with torch.optim's (computed here, on the
grader's side; a disagreement is a bug in the check, raised as AssertionError). The known mistakes of this topic
are declared here (hidden checks import them), each with the trajectory of the wrong method, from the same start.
Every check that runs an update forbids torch.optim in the student's code (the stub says so); an input changed in
place fails any check, named by the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from autograder.course.recorded import NotRecorded
from autograder.engine.checks import CheckFailed, Mistake, StudentError, Trial, check
from autograder.engine.compare import describe
from autograder.reports import plots

# Every update of this topic is the student's to write: torch.optim (the grader's check on its own reference) is not.
FORBID = ("torch.optim",)

ADAM_NO_BIAS = Mistake(
    "adam-no-bias-correction",
    "Adam without bias correction: m and v are used as they are, so the first step is (1 - beta1)/sqrt(1 - beta2) times (3.16x) too large",
    "Divide m_t by 1 - beta1^t and v_t by 1 - beta2^t (t = 1 on the first step) before theta -= lr m_hat / (sqrt(v_hat) + eps).",
)
ADAM_ONLY_M = Mistake(
    "adam-only-m-corrected",
    "Adam with only the first moment bias-corrected: v is not divided by 1 - beta2^t, so the first steps are 31.6x too large",
    "Correct both moments: m_hat = m_t / (1 - beta1^t) and v_hat = v_t / (1 - beta2^t).",
)
ADAM_ONLY_V = Mistake(
    "adam-only-v-corrected",
    "Adam with only the second moment bias-corrected: m is not divided by 1 - beta1^t, so the first steps are 10x too small",
    "Correct both moments: m_hat = m_t / (1 - beta1^t) and v_hat = v_t / (1 - beta2^t).",
)
EPS_INSIDE = Mistake(
    "eps-inside-sqrt",
    "eps is added inside the square root (sqrt(v + eps)); torch adds it outside: sqrt(v) + eps",
    "Divide by np.sqrt(v) + eps (for Adam, np.sqrt(v_hat) + eps). The two agree only when eps is tiny next to v.",
)
RMSPROP_ALPHA = Mistake(
    "rmsprop-alpha-0.9",
    "RMSprop uses alpha = 0.9 (Hinton's lecture), not torch's default alpha = 0.99",
    "Give alpha the default 0.99, as torch.optim.RMSprop does.",
)
MOMENTUM_EMA = Mistake(
    "momentum-ema",
    "the momentum is an exponential moving average v = beta v + (1 - beta) g, which scales every step by 1 - beta; heavy ball adds beta (theta_t - theta_{t-1}) to a full gradient step",
    "Take d_t = beta d_{t-1} - lr g_t and theta_{t+1} = theta_t + d_t (torch's SGD momentum: buf = beta buf + g, no (1 - beta)).",
)
MOMENTUM_DAMPENING = Mistake(
    "momentum-dampening",
    "the momentum buffer is dampened (buf = beta buf + (1 - beta) g after the first step, torch's dampening = beta)",
    "Heavy ball has no dampening: d_t = beta d_{t-1} - lr g_t from the first step on.",
)
HEAVY_BALL_AS_NESTEROV = Mistake(
    "heavy-ball-as-nesterov",
    "nesterov computes heavy ball: it takes the step d_t from params as if the gradient were taken at theta_t, with no look-ahead",
    "params is the look-ahead point phi_t and grads is grad f(phi_t): return phi_t - lr g + beta d_t with "
    "d_t = beta d_{t-1} - lr g (see the change of variables in the docstring).",
)
NESTEROV_AS_HEAVY_BALL = Mistake(
    "nesterov-as-heavy-ball",
    "heavy_ball computes Nesterov's step: it adds the look-ahead beta d_t to the gradient step, so even the first step is (1 + beta) times too long",
    "Heavy ball steps by d_t = beta d_{t-1} - lr g_t and returns theta_t + d_t: the gradient is taken at theta_t itself, no look-ahead.",
)
ADAM_STEP_OFF_BY_ONE = Mistake(
    "adam-step-off-by-one",
    "Adam's step count is off by one: the bias corrections of step t use t + 1 (the count starts at 1) or t - 1 (the count before it is increased)",
    "Start from the count 0 (state None) and add 1 before correcting: the first step divides m_1 by 1 - beta1 and v_1 by 1 - beta2, and returns the count 1.",
)
ADAGRAD_AVERAGE = Mistake(
    "adagrad-average",
    "Adagrad divides by the root of the MEAN of the squared gradients; it uses their SUM",
    "Accumulate G_t = G_{t-1} + g_t^2 and divide by sqrt(G_t) + eps: the steps shrink as gradients accumulate.",
)
AVERAGE_LAGS = Mistake(
    "average-lags",
    "the average returned leaves out the iterate just passed (it lags one call)",
    "Fold the new iterate in first: bar x_k = bar x_{k-1} + (x_k - bar x_{k-1}) / k, and return bar x_k.",
)
RM_SQRT = Mistake(
    "robbins-monro-sqrt",
    "alpha_t = 1/sqrt(t) (p = 1/2) is judged to satisfy Robbins-Monro: but sum 1/t, its sum of squares, diverges",
    "Both conditions hold exactly for 1/2 < p <= 1: sum t^(-p) = inf needs p <= 1, sum t^(-2p) < inf needs p > 1/2 (strictly).",
)
RM_HARMONIC = Mistake(
    "robbins-monro-harmonic",
    "alpha_t = 1/t (p = 1) is judged to fail Robbins-Monro: but the harmonic series diverges, and sum 1/t^2 is finite",
    "sum t^(-p) = inf for every p <= 1 (p = 1 included): the condition is 1/2 < p <= 1.",
)

COUNT_OFF_BY_ONE = Mistake(
    "count-includes-start",
    "the count of steps is one too many: the starting point x0 is counted as a step (the count starts at 1)",
    "Count the calls to the step function: 0 if f(x0) - f* <= tol already, k if x_k is the first point within tol.",
)


# ---- problems and grader-side runs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    name: str
    grad: Callable[[np.ndarray], np.ndarray]
    loss: Callable[[np.ndarray], float]  # f(x) - min f, for the figure
    n: int
    quadratic: tuple[np.ndarray, np.ndarray] | None = None  # (A, b), drawn behind 2-D paths in the figure


def quadratic(rng: np.random.Generator, kappa: float, n: int) -> tuple[Problem, float]:
    """f(x) = 1/2 x^T A x - b^T x with eigenvalues from 1 to kappa (a random rotation); returns it and L = kappa.
    The figure's loss is f(x) - f(x*) = 1/2 (x - x*)^T A (x - x*), x* = A^-1 b."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = q @ np.diag(np.geomspace(1.0, kappa, n)) @ q.T
    b = rng.standard_normal(n)
    name = f"the quadratic 1/2 x^T A x - b^T x (n = {n}, condition number {kappa:g})"
    x_star = np.linalg.solve(a, b)
    return Problem(name, lambda x: a @ x - b, lambda x: float(0.5 * (x - x_star) @ a @ (x - x_star)), n, (a, b)), kappa


def rosenbrock_grad(x: np.ndarray) -> np.ndarray:
    u, w = x[0], x[1]
    return np.array([-2.0 * (1.0 - u) - 400.0 * u * (w - u * u), 200.0 * (w - u * u)])


def rosenbrock(x: np.ndarray) -> float:
    return float((1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2)


ROSENBROCK = Problem("Rosenbrock (1 - x)^2 + 100 (y - x^2)^2", rosenbrock_grad, rosenbrock, 2)


def reference_path(step: Callable[..., Any], problem: Problem, x0: np.ndarray, steps: int, **hyper: Any) -> tuple[np.ndarray, Any]:
    """The iterates x_1 .. x_steps of a grader-side step function (rows), and its last state."""
    x, state, rows = x0, None, []
    for _ in range(steps):
        with np.errstate(all="ignore"):  # a wrong method may overflow on Rosenbrock
            x, state = step(x, problem.grad(x), state, **hyper)
        rows.append(x)
    return np.array(rows), state


def torch_path(make: Callable[[list[torch.Tensor]], torch.optim.Optimizer], problem: Problem, x0: np.ndarray, steps: int) -> np.ndarray:
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt, rows = make([p]), []
    for _ in range(steps):
        p.grad = torch.tensor(problem.grad(p.detach().numpy().copy()))
        opt.step()
        rows.append(p.detach().numpy().copy())
    return np.array(rows)


def agrees_with_torch(path: np.ndarray, reference: np.ndarray, what: str) -> None:
    if not np.allclose(path, reference, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"the reference disagrees with torch.optim on {what}: the check is wrong")


# ---- wrong variants (grader side) -----------------------------------------------------------------------------------


def ema_momentum(params, grads, state, lr, beta):
    v = grads * 0.0 if state is None else state[0]
    v = beta * v + (1 - beta) * grads
    return params - lr * v, (v,)


def adagrad_wrong(params, grads, state, lr, eps, average=False, inside=False):
    step, total = (0, grads * 0.0) if state is None else state
    step, total = step + 1, total + grads**2
    acc = total / step if average else total
    return params - lr * grads / (np.sqrt(acc + eps) if inside else np.sqrt(acc) + eps), (step, total)


def rmsprop_inside(params, grads, state, lr, alpha, eps):
    v = grads * 0.0 if state is None else state[0]
    v = alpha * v + (1 - alpha) * grads**2
    return params - lr * grads / np.sqrt(v + eps), (v,)


def adam_wrong(params, grads, state, lr, beta1, beta2, eps, correct_m=True, correct_v=True, inside=False, offset=0):
    step, m, v = (0, grads * 0.0, grads * 0.0) if state is None else state
    step, m, v = step + 1, beta1 * m + (1 - beta1) * grads, beta2 * v + (1 - beta2) * grads**2
    m_hat = m / (1 - beta1 ** (step + offset)) if correct_m else m
    v_hat = v / (1 - beta2 ** (step + offset)) if correct_v else v
    return params - lr * m_hat / (np.sqrt(v_hat + eps) if inside else np.sqrt(v_hat) + eps), (step, m, v)


def lagging_average(params, state):
    return (np.zeros_like(params) if state is None else state[1]), None


def dampened_momentum(params, grads, state, lr, beta):
    d = -lr * grads if state is None else beta * state[0] - lr * (1 - beta) * grads
    return params + d, (d,)


# ---- the student's trajectory, and how it is judged ------------------------------------------------------------------


def fmt(x: np.ndarray) -> str:
    return np.array2string(np.asarray(x), precision=10, separator=", ")


def label(value: Any) -> str:
    """An argument as the student would write it: arrays in full, tuples of them, numbers."""
    if isinstance(value, np.ndarray):
        return fmt(value)
    if isinstance(value, tuple):
        return f"({', '.join(label(v) for v in value)}{',' if len(value) == 1 else ''})"
    return repr(value)


def describe_hyper(hyper: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in hyper.items())


def student_path(t: Trial, fn: str, problem: Problem, x0: np.ndarray, steps: int, hyper: dict[str, Any], what: str, like: np.ndarray) -> tuple[np.ndarray, Any, list[np.ndarray]]:
    """The student's iterates (rows), last state, and the gradients it was given; each params returned must be of
    the kind of ``like``, the reference's first params."""
    x, state, rows, given = x0, None, [], []
    for k in range(steps):
        with np.errstate(all="ignore"):  # a wrong step may overflow on Rosenbrock
            grads = problem.grad(x)
        given.append(grads)
        out = t.call(fn, x, grads, state, **hyper)
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], np.ndarray) and out[0].shape == x0.shape):
            t.fail(f"{what}: step {k + 1} returned {describe(out)}; expected (params, state) with params of shape {x0.shape}")
        t.same_kind(out[0], like, what=f"{what}: step {k + 1}")
        if out[0].dtype != np.float64:
            t.fail(f"{what}: step {k + 1} returned params of dtype {out[0].dtype}; expected float64")
        x, state = out
        rows.append(x)
    return np.array(rows), state, given


def judge_rows(t: Trial, got: np.ndarray, want: np.ndarray, what: str, variants: list[tuple[Mistake, np.ndarray]], unit: str = "step") -> None:
    """Rows of ``got`` against ``want``: name the first row that differs; name the mistake when a variant matches."""
    rtol, atol = t.tolerance(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.all(np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True), axis=1)
    if not bad.any():
        return
    k = int(np.argmax(bad))
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.max(np.abs(got[k] - want[k]))
    first = f"{what}: {unit} {k + 1} of {len(want)} is the first that differs: got {fmt(got[k])}, expected {fmt(want[k])} (max abs err {error:.3g})"
    for mistake, variant in variants:
        with np.errstate(invalid="ignore", over="ignore"):
            if np.all(np.isclose(got, variant, rtol=rtol, atol=atol, equal_nan=True)):
                t.fail(f"{first}; your answer matches a known mistake: {mistake.title}. {mistake.fix}", mistake=mistake)
    t.fail(f"{first}{f'; {unit}s 1 to {k} are right' if k else ''}")


def judge_state(t: Trial, got: Any, want: Any, what: str) -> None:
    if want is None:
        if got is not None:
            t.fail(f"{what}: the state returned is {describe(got)}; expected None")
        return
    if not isinstance(got, tuple) or len(got) != len(want):
        t.fail(f"{what}: the state returned is {describe(got)}; expected a tuple of {len(want)} values as documented")
    for i, (g, w) in enumerate(zip(got, want)):
        t.close(g, np.asarray(w), what=f"{what}: element {i} of the final state")


def judge_path(t: Trial, fn: str, problem: Problem, x0: np.ndarray, steps: int, hyper: dict[str, Any], want: tuple[np.ndarray, Any], torch_rows: np.ndarray, variants: list[tuple[Mistake, np.ndarray]]) -> None:
    what = f"{steps} steps of {fn}(params, grads, state{', ' if hyper else ''}{describe_hyper(hyper)}) on {problem.name} from x0 = {fmt(x0)}"
    rows, _ = want
    agrees_with_torch(torch_rows, rows, what)
    got, got_state, given = student_path(t, fn, problem, x0, steps, hyper, what, rows[0])
    paths = {"reference": np.vstack([x0, rows]), "yours": np.vstack([x0, got])}
    with np.errstate(all="ignore"):
        losses = {k: [problem.loss(x) for x in v] for k, v in paths.items()}
    title = f"{fn}({describe_hyper(hyper)}) on {problem.name}"
    t.figure(plots.trajectory(title=title, series=paths, losses=losses, quadratic=problem.quadratic if problem.n == 2 else None))
    judge_rows(t, got, rows, what, variants)
    # The state depends only on the gradients seen: replay the student's, so that a trajectory within tolerance of
    # the reference does not fail on a state that differs from the reference's by that same rounding. The student
    # bundle's recorded reference knows the reference's own path only: there, its final state is the answer.
    try:
        state = None
        for x, g in zip(np.vstack([x0, got[:-1]]), given):
            state = getattr(t.ref, fn)(x, g, state, **hyper)[1]
    except NotRecorded:
        state = want[1]
    judge_state(t, got_state, state, what)


def judge_momentum(t: Trial, fn: str, problem: Problem, x0: np.ndarray, steps: int, lr: float, beta: float) -> None:
    hyper = {"lr": lr, "beta": beta}
    ref = getattr(t.ref, fn)
    torch_rows = torch_path(lambda p: torch.optim.SGD(p, lr=lr, momentum=beta, nesterov=fn == "nesterov"), problem, x0, steps)
    variants = [
        (MOMENTUM_EMA, reference_path(ema_momentum, problem, x0, steps, **hyper)[0]),
        (MOMENTUM_DAMPENING, torch_path(lambda p: torch.optim.SGD(p, lr=lr, momentum=beta, dampening=beta), problem, x0, steps)),
    ]
    swapped = {"nesterov": (HEAVY_BALL_AS_NESTEROV, t.ref.heavy_ball), "heavy_ball": (NESTEROV_AS_HEAVY_BALL, t.ref.nesterov)}[fn]
    variants.append((swapped[0], reference_path(swapped[1], problem, x0, steps, **hyper)[0]))
    judge_path(t, fn, problem, x0, steps, hyper, reference_path(ref, problem, x0, steps, **hyper), torch_rows, variants)


def judge_sgd(t: Trial, problem: Problem, x0: np.ndarray, steps: int, lr: float) -> None:
    torch_rows = torch_path(lambda p: torch.optim.SGD(p, lr=lr), problem, x0, steps)
    judge_path(t, "sgd", problem, x0, steps, {"lr": lr}, reference_path(t.ref.sgd, problem, x0, steps, lr=lr), torch_rows, [])


def judge_adagrad(t: Trial, problem: Problem, x0: np.ndarray, steps: int, hyper: dict[str, Any]) -> None:
    full = {"lr": 0.01, "eps": 1e-10, **hyper}
    torch_rows = torch_path(lambda p: torch.optim.Adagrad(p, **full), problem, x0, steps)
    variants = [
        (ADAGRAD_AVERAGE, reference_path(adagrad_wrong, problem, x0, steps, average=True, **full)[0]),
        (EPS_INSIDE, reference_path(adagrad_wrong, problem, x0, steps, inside=True, **full)[0]),
    ]
    judge_path(t, "adagrad", problem, x0, steps, hyper, reference_path(t.ref.adagrad, problem, x0, steps, **hyper), torch_rows, variants)


def judge_rmsprop(t: Trial, problem: Problem, x0: np.ndarray, steps: int, hyper: dict[str, Any]) -> None:
    full = {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, **hyper}
    torch_rows = torch_path(lambda p: torch.optim.RMSprop(p, **full), problem, x0, steps)
    variants = [(EPS_INSIDE, reference_path(rmsprop_inside, problem, x0, steps, **full)[0])]
    if "alpha" not in hyper:
        variants.append((RMSPROP_ALPHA, reference_path(t.ref.rmsprop, problem, x0, steps, **{**full, "alpha": 0.9})[0]))
    judge_path(t, "rmsprop", problem, x0, steps, hyper, reference_path(t.ref.rmsprop, problem, x0, steps, **hyper), torch_rows, variants)


ADAM_FLAGS = (
    (ADAM_NO_BIAS, {"correct_m": False, "correct_v": False}),
    (ADAM_ONLY_M, {"correct_v": False}),
    (ADAM_ONLY_V, {"correct_m": False}),
    (EPS_INSIDE, {"inside": True}),
    (ADAM_STEP_OFF_BY_ONE, {"offset": 1}),
    (ADAM_STEP_OFF_BY_ONE, {"offset": -1}),
)


def adam_mistakes(hyper: dict[str, Any]) -> list[tuple[Mistake, Callable[..., Any]]]:
    """The wrong Adam steps, hyper-parameters not given taking torch's defaults."""
    full = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, **hyper}
    return [(mistake, lambda *a, flags=flags: adam_wrong(*a, **full, **flags)) for mistake, flags in ADAM_FLAGS]


def judge_adam(t: Trial, problem: Problem, x0: np.ndarray, steps: int, hyper: dict[str, Any]) -> None:
    full = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, **hyper}
    torch_rows = torch_path(lambda p: torch.optim.Adam(p, lr=full["lr"], betas=(full["beta1"], full["beta2"]), eps=full["eps"]), problem, x0, steps)
    variants = [(mistake, reference_path(step, problem, x0, steps)[0]) for mistake, step in adam_mistakes(hyper)]
    judge_path(t, "adam", problem, x0, steps, hyper, reference_path(t.ref.adam, problem, x0, steps, **hyper), torch_rows, variants)


def judge_polyak(t: Trial, iterates: np.ndarray, what: str) -> None:
    """Feed x_0 .. x_T in order; the averages must be the reference's running means (x_0 included), and the final
    state (k, mean) its final state."""
    want_state, means = None, []
    for x in iterates:
        average, want_state = t.ref.polyak_average(x, want_state)
        means.append(average)
    means = np.array(means)
    lagging = np.vstack([np.zeros_like(iterates[:1]), means[:-1]])
    state, rows = None, []
    for k, x in enumerate(iterates):
        out = t.call("polyak_average", x, state)
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], np.ndarray) and out[0].shape == x.shape):
            t.fail(f"{what}: call {k + 1} returned {describe(out)}; expected (average, state) with the average of shape {x.shape}")
        t.same_kind(out[0], means[k], what=f"{what}: call {k + 1}")
        rows.append(out[0])
        state = out[1]
    judge_rows(t, np.array(rows, dtype=float), means, what, [(AVERAGE_LAGS, lagging)], unit="call")
    judge_state(t, state, want_state, what)


def judge_robbins_monro(t: Trial, exponents: np.ndarray, horizon: int) -> None:
    what = f"robbins_monro({fmt(exponents)}, {horizon})"
    sums, squares, verdict = t.ref.robbins_monro(exponents, horizon)
    out = t.call("robbins_monro", exponents, horizon)
    if not (isinstance(out, tuple) and len(out) == 3):
        t.fail(f"{what}: returned {describe(out)}; expected a tuple (S1, S2, ok)")
    s1, s2, ok = out
    variants = [(RM_SQRT, verdict | (exponents == 0.5)), (RM_HARMONIC, verdict & (exponents != 1.0))]
    t.close(ok, verdict, what=f"{what}: ok, whether 1/2 < p <= 1 (sum alpha_t = inf and sum alpha_t^2 < inf)", variants=variants)
    t.close(s1, sums, what=f"{what}: S1 = sum_(t=1)^T t^(-p)")
    t.close(s2, squares, what=f"{what}: S2 = sum_(t=1)^T t^(-2p)")


# ---- the public checks ------------------------------------------------------------------------------------------


X0_ROSENBROCK = np.array([-1.2, 1.0])


@check("sgd", "sgd: 25 steps on a quadratic (condition number 10) and 15 on Rosenbrock, against torch.optim.SGD", forbid=FORBID)
def sgd(t: Trial) -> None:
    problem, big = quadratic(t.rng, 10.0, 3)
    judge_sgd(t, problem, t.rng.standard_normal(3), 25, 1.5 / big)
    judge_sgd(t, ROSENBROCK, X0_ROSENBROCK, 15, 1e-3)


@check("heavy_ball", "heavy_ball: 30 steps on a quadratic (condition number 25) and 20 on Rosenbrock, against SGD(momentum)", forbid=FORBID)
def heavy_ball(t: Trial) -> None:
    problem, big = quadratic(t.rng, 25.0, 2)
    judge_momentum(t, "heavy_ball", problem, t.rng.standard_normal(2), 30, 1.0 / big, 0.8)
    judge_momentum(t, "heavy_ball", ROSENBROCK, X0_ROSENBROCK, 20, 1e-3, 0.9)


@check("nesterov", "nesterov: 30 steps on a quadratic and 20 on Rosenbrock, against SGD(momentum, nesterov=True)", forbid=FORBID)
def nesterov(t: Trial) -> None:
    problem, big = quadratic(t.rng, 25.0, 2)
    judge_momentum(t, "nesterov", problem, t.rng.standard_normal(2), 30, 1.0 / big, 0.8)
    judge_momentum(t, "nesterov", ROSENBROCK, X0_ROSENBROCK, 20, 1e-3, 0.9)


@check("adagrad", "adagrad: 20 steps on a quadratic and on Rosenbrock (eps = 0.1), against torch.optim.Adagrad", forbid=FORBID)
def adagrad(t: Trial) -> None:
    problem, _ = quadratic(t.rng, 10.0, 3)
    judge_adagrad(t, problem, t.rng.standard_normal(3), 20, {"lr": 0.5})
    judge_adagrad(t, ROSENBROCK, X0_ROSENBROCK, 20, {"lr": 0.1, "eps": 0.1})


@check("rmsprop", "rmsprop: 20 steps with the default alpha on a quadratic, then eps = 0.1 on Rosenbrock, against RMSprop", forbid=FORBID)
def rmsprop(t: Trial) -> None:
    problem, _ = quadratic(t.rng, 10.0, 2)
    judge_rmsprop(t, problem, t.rng.standard_normal(2), 20, {"lr": 0.05})
    judge_rmsprop(t, ROSENBROCK, X0_ROSENBROCK, 20, {"lr": 0.01, "eps": 0.1})


@check("adam", "adam: 25 steps with default betas on a quadratic, then eps = 1 on Rosenbrock, against torch.optim.Adam", forbid=FORBID)
def adam(t: Trial) -> None:
    problem, _ = quadratic(t.rng, 10.0, 2)
    judge_adam(t, problem, t.rng.standard_normal(2), 25, {"lr": 0.05})
    judge_adam(t, ROSENBROCK, X0_ROSENBROCK, 25, {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1.0})


@check("polyak_average", "polyak_average: running means of x_0 .. x_T of a heavy-ball trajectory (x_0 included)", forbid=FORBID)
def polyak_average(t: Trial) -> None:
    problem, big = quadratic(t.rng, 10.0, 3)
    x0 = t.rng.standard_normal(3)
    rows, _ = reference_path(t.ref.heavy_ball, problem, x0, 12, lr=1.0 / big, beta=0.7)
    judge_polyak(t, np.vstack([x0, rows]), f"polyak_average called on x_0 .. x_12 of heavy ball on {problem.name}")


@check("robbins_monro", "robbins_monro: partial sums of t^(-p) and the verdict 1/2 < p <= 1 (1/sqrt(t) fails, 1/t passes)")
def robbins_monro(t: Trial) -> None:
    # p = 0, 1/2 and 1 exactly (the edges of the verdict), one exponent inside each region they bound, one anywhere.
    regions = t.rng.uniform([0.05, 0.55, 1.05, -0.5], [0.45, 0.95, 2.5, 2.5])
    judge_robbins_monro(t, t.rng.permutation(np.concatenate([[0.0, 0.5, 1.0], regions])), int(t.rng.integers(200, 1500)))
    judge_robbins_monro(t, t.rng.permutation(np.array([1.0, 0.5, t.rng.uniform(-0.5, 2.5)])), 1)


# ---- contracts: defaults, and each documented limit from both sides (inputs changed in place: the worker) ---------


def expect_value_error(t: Trial, why: str, fn: str, *args: Any, **kwargs: Any) -> None:
    try:
        t.raises("ValueError", fn, *args, **kwargs)
    except CheckFailed as failure:
        t.fail(f"{failure.message}: {why}")


def judge_one_step(t: Trial, fn: str, args: tuple, hyper: dict[str, Any], why: str, wrong: list[tuple[Mistake, Callable[..., Any]]] = ()) -> None:
    """One call against the reference: the new params (naming the mistake when a wrong step gives them), then the state."""
    what = f"{fn}({', '.join(label(a) for a in args)}{', ' if hyper else ''}{describe_hyper(hyper)}) ({why})"
    want, want_state = getattr(t.ref, fn)(*args, **hyper)
    out = t.call(fn, *args, **hyper)
    if not (isinstance(out, tuple) and len(out) == 2):
        t.fail(f"{what}: returned {describe(out)}; expected (params, state)")
    with np.errstate(all="ignore"):  # Adam's count off by one divides by 1 - beta^0 = 0
        variants = [(mistake, step(*args)[0]) for mistake, step in wrong]
    t.close(out[0], want, what=what, variants=variants)
    judge_state(t, out[1], want_state, what)


def expect_hyper_errors(t: Trial, fn: str, hyper: dict[str, Any], bad: list[tuple[str, float, str]]) -> None:
    x, g = t.rng.standard_normal(3), t.rng.standard_normal(3)
    for name, value, why in bad:
        expect_value_error(t, why, fn, x, g, None, **{**hyper, name: value})
    expect_value_error(t, "grads has shape (2,), params (3,)", fn, x, g[:2], None, **hyper)
    expect_value_error(t, "params is 2-D (a (3, 1) column)", fn, x[:, None], g[:, None], None, **hyper)


BAD_LR = ("lr", 0.0, "lr = 0 (the step size must be > 0)")


def beta_limits(name: str) -> list[tuple[str, float, str]]:
    return [(name, 1.0, f"{name} = 1 (it must be in [0, 1))"), (name, -0.1, f"{name} = -0.1 (it must be in [0, 1))")]


@check("sgd_contract", "sgd: returns (params, None), lr = 2 is taken as given; ValueError for lr <= 0 and bad shapes", forbid=FORBID)
def sgd_contract(t: Trial) -> None:
    judge_one_step(t, "sgd", (np.array([1.0, -2.0, 0.5]), np.array([0.5, 4.0, -1.0]), None), {"lr": 2.0}, "a large lr is the caller's choice")
    expect_hyper_errors(t, "sgd", {"lr": 0.1}, [BAD_LR, ("lr", -0.1, "lr < 0")])


@check("heavy_ball_contract", "heavy_ball: beta = 0 is gradient descent; ValueError for lr, beta, shapes, state", forbid=FORBID)
def heavy_ball_contract(t: Trial) -> None:
    x, g = t.rng.standard_normal(3), t.rng.standard_normal(3)
    judge_one_step(t, "heavy_ball", (x, g, (t.rng.standard_normal(3),)), {"lr": 0.1, "beta": 0.0}, "beta = 0: gradient descent, whatever the state")
    expect_hyper_errors(t, "heavy_ball", {"lr": 0.1, "beta": 0.9}, [BAD_LR, *beta_limits("beta")])
    expect_value_error(t, "the state holds an array of shape (2,) for params of shape (3,)", "heavy_ball", x, g, (np.zeros(2),), lr=0.1, beta=0.9)


@check("nesterov_contract", "nesterov: beta = 0 is gradient descent; ValueError for lr, beta, shapes, state", forbid=FORBID)
def nesterov_contract(t: Trial) -> None:
    x, g = t.rng.standard_normal(3), t.rng.standard_normal(3)
    judge_one_step(t, "nesterov", (x, g, (t.rng.standard_normal(3),)), {"lr": 0.1, "beta": 0.0}, "beta = 0: gradient descent, whatever the state")
    expect_hyper_errors(t, "nesterov", {"lr": 0.1, "beta": 0.9}, [BAD_LR, *beta_limits("beta")])
    expect_value_error(t, "the state is a tuple of 2 arrays; nesterov's is (d,)", "nesterov", x, g, (np.zeros(3), np.zeros(3)), lr=0.1, beta=0.9)


@check("adagrad_contract", "adagrad: defaults lr = 0.01, eps = 1e-10; eps = 0; ValueError for lr, eps, shapes, state", forbid=FORBID)
def adagrad_contract(t: Trial) -> None:
    x, g = t.rng.standard_normal(3), 1e-10 * t.rng.standard_normal(3)
    judge_one_step(t, "adagrad", (x, g, (4, 1e-20 * t.rng.uniform(0.5, 1.5, 3))), {}, "the defaults lr = 0.01, eps = 1e-10, with gradients near 1e-10",
                   [(ADAGRAD_AVERAGE, lambda *a: adagrad_wrong(*a, lr=0.01, eps=1e-10, average=True)), (EPS_INSIDE, lambda *a: adagrad_wrong(*a, lr=0.01, eps=1e-10, inside=True))])
    judge_one_step(t, "adagrad", (x, g, None), {"lr": 0.5, "eps": 0.0}, "eps = 0 is allowed")
    expect_hyper_errors(t, "adagrad", {}, [BAD_LR, ("eps", -1e-12, "eps = -1e-12 (it must be >= 0)")])
    expect_value_error(t, "the state (G,) lacks the step count: it must be (t, G)", "adagrad", x, g, (np.ones(3),))


@check("rmsprop_contract", "rmsprop: defaults lr = 0.01, alpha = 0.99, eps = 1e-8; alpha = 0; ValueError for bad input", forbid=FORBID)
def rmsprop_contract(t: Trial) -> None:
    x, g = t.rng.standard_normal(3), 1e-8 * t.rng.standard_normal(3)
    state = (1e-16 * t.rng.uniform(0.5, 1.5, 3),)
    judge_one_step(t, "rmsprop", (x, g, state), {}, "the defaults lr = 0.01, alpha = 0.99, eps = 1e-8, with gradients near 1e-8",
                   [(RMSPROP_ALPHA, lambda *a: t.ref.rmsprop(*a, alpha=0.9)), (EPS_INSIDE, lambda *a: rmsprop_inside(*a, lr=0.01, alpha=0.99, eps=1e-8))])
    judge_one_step(t, "rmsprop", (x, g, state), {"lr": 0.1, "alpha": 0.0, "eps": 0.0}, "alpha = 0 and eps = 0 are allowed")
    expect_hyper_errors(t, "rmsprop", {}, [BAD_LR, *beta_limits("alpha"), ("eps", -1e-12, "eps = -1e-12 (it must be >= 0)")])
    expect_value_error(t, "the state holds an array of shape (4,) for params of shape (3,)", "rmsprop", x, g, (np.ones(4),))


@check("adam_contract", "adam: defaults lr = 1e-3, betas 0.9, 0.999, eps = 1e-8; betas = 0; ValueError for bad input", forbid=FORBID)
def adam_contract(t: Trial) -> None:
    x, g = t.rng.standard_normal(3), 1e-8 * t.rng.standard_normal(3)
    state = (2, 1e-8 * t.rng.standard_normal(3), 1e-16 * t.rng.uniform(0.5, 1.5, 3))
    judge_one_step(t, "adam", (x, g, state), {}, "the defaults lr = 1e-3, betas (0.9, 0.999), eps = 1e-8, at step 3 with gradients near 1e-8", adam_mistakes({}))
    judge_one_step(t, "adam", (x, g, state), {"lr": 0.1, "beta1": 0.0, "beta2": 0.0, "eps": 0.0}, "beta1 = beta2 = 0 and eps = 0 are allowed")
    bad = [BAD_LR, *beta_limits("beta1"), *beta_limits("beta2"), ("eps", -1e-12, "eps = -1e-12 (it must be >= 0)")]
    expect_hyper_errors(t, "adam", {}, bad)
    expect_value_error(t, "the state (m, v) lacks the step count: it must be (t, m, v)", "adam", x, g, (np.zeros(3), np.zeros(3)))


@check("polyak_average_contract", "polyak_average: the first call returns x_1; the state (k, mean) is taken as given; ValueError", forbid=FORBID)
def polyak_average_contract(t: Trial) -> None:
    x = t.rng.standard_normal(4)
    lags = [(AVERAGE_LAGS, lagging_average)]
    judge_one_step(t, "polyak_average", (x, None), {}, "the first iterate is its own average", lags)
    judge_one_step(t, "polyak_average", (x, (3, t.rng.standard_normal(4))), {}, "three iterates averaged so far", lags)
    expect_value_error(t, "params is 2-D", "polyak_average", x[:, None], None)
    expect_value_error(t, "the state's mean has shape (3,) for params of shape (4,)", "polyak_average", x, (1, np.zeros(3)))


@check("robbins_monro_contract", "robbins_monro: T = 1, one schedule; ValueError for T < 1, non-integer T, a non-1-D or non-finite schedule")
def robbins_monro_contract(t: Trial) -> None:
    # Just past the edges of the verdict: p a hair above 1/2, a hair either side of 1.
    hair = float(10 ** t.rng.uniform(-8, -6))
    judge_robbins_monro(t, np.array([0.5 + hair]), int(t.rng.integers(2, 6)))
    judge_robbins_monro(t, t.rng.permutation(np.array([-t.rng.uniform(0.1, 2.0), 1 - hair, 1 + hair])), int(t.rng.integers(2, 6)))
    schedule, horizon, negative = t.rng.uniform(-0.5, 2.5, 3), int(t.rng.integers(1, 50)), -int(t.rng.integers(1, 5))
    with_nan = schedule.copy()
    with_nan[t.rng.integers(3)] = np.nan
    bad = (
        (schedule, 0, "horizon T = 0"),
        (schedule, negative, f"horizon T = {negative}"),
        (schedule, horizon + 0.5, f"horizon T = {horizon + 0.5} is not an integer"),
        (schedule, True, "horizon T = True is a bool, not an integer"),
        (schedule[0], horizon, "the schedule is a scalar, not a 1-D array"),
        (t.rng.uniform(-0.5, 2.5, (2, 2)), horizon, "the schedule is 2-D"),
        (with_nan, horizon, "the schedule has a NaN exponent"),
        (np.append(schedule[:1], np.inf), horizon, "the schedule has an infinite exponent"),
    )
    for i in t.rng.permutation(len(bad)):
        expect_value_error(t, bad[i][2], "robbins_monro", *bad[i][:2])


# ---- convergence: steps to reach the tolerance against the condition number -----------------------------------------

METHODS = ("gd", "heavy_ball", "adam")


def convergence_hyper(method: str, kappa: float) -> dict[str, float]:
    """The documented hyper-parameters of steps_to_tolerance for this method and kappa (L = kappa, mu = 1)."""
    root = np.sqrt(kappa)
    return {"gd": {"lr": 1.0 / kappa}, "heavy_ball": {"lr": 4.0 / (root + 1.0) ** 2, "beta": ((root - 1.0) / (root + 1.0)) ** 2}, "adam": {"lr": 0.01}}[method]


STEP_OF = {"gd": "sgd", "heavy_ball": "heavy_ball", "adam": "adam"}
PROBE_STEPS = 3  # the step mistakes a count inherits all show within the first three steps


def diagonal_quadratic(kappa: float) -> Problem:
    """steps_to_tolerance's problem, f(x) = 1/2 x^T diag(1, kappa) x."""
    d = np.array([1.0, kappa])
    return Problem(f"1/2 x^T diag(1, {kappa:g}) x", lambda x: d * x, lambda x: float(0.5 * np.sum(d * x * x)), 2)


def first_steps(t: Trial, method: str, kappa: float) -> tuple[np.ndarray, list[tuple[Mistake, np.ndarray]]]:
    """The first steps of `method`'s step function on steps_to_tolerance's problem from (1, 1): the reference's, and
    those of each wrong step function whose mistake changes the count (the student's count inherits it)."""
    wrong: list[tuple[Mistake, Callable[..., Any]]] = []
    if method == "heavy_ball":
        wrong = [(MOMENTUM_EMA, ema_momentum), (MOMENTUM_DAMPENING, dampened_momentum), (NESTEROV_AS_HEAVY_BALL, t.ref.nesterov)]
    if method == "adam":
        wrong = [(mistake, lambda x, g, s, lr, flags=flags: adam_wrong(x, g, s, lr, 0.9, 0.999, 1e-8, **flags)) for mistake, flags in ADAM_FLAGS]
    if not wrong:
        return np.ones((0, 2)), []
    problem, hyper = diagonal_quadratic(kappa), convergence_hyper(method, kappa)
    right = reference_path(getattr(t.ref, STEP_OF[method]), problem, np.ones(2), PROBE_STEPS, **hyper)[0]
    return right, [(mistake, reference_path(step, problem, np.ones(2), PROBE_STEPS, **hyper)[0]) for mistake, step in wrong]


def step_mistake(t: Trial, method: str, kappa: float, right: np.ndarray, wrong: list[tuple[Mistake, np.ndarray]]) -> Mistake | None:
    """The known mistake of the student's own step function for `method`, if its first steps on steps_to_tolerance's
    problem (the gradient taken at its own points) differ from the reference's and match a wrong step's."""
    if not wrong:
        return None
    problem, x, state, rows = diagonal_quadratic(kappa), np.ones(2), None, []
    try:
        for _ in range(PROBE_STEPS):
            out = t.call(STEP_OF[method], x, problem.grad(x), state, **convergence_hyper(method, kappa))
            if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], np.ndarray) and out[0].shape == (2,)):
                return None
            x, state = out
            rows.append(x)
    except StudentError:
        return None
    rtol, atol = t.tolerance(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        if np.allclose(rows, right, rtol=rtol, atol=atol):
            return None
        return next((mistake for mistake, want in wrong if np.allclose(rows, want, rtol=rtol, atol=atol, equal_nan=True)), None)


def as_count(value: Any) -> int | None:
    """An integer count as returned (an int comes back over the wire as a 0-d integer array); None for anything else."""
    if isinstance(value, np.ndarray) and value.shape == () and np.issubdtype(value.dtype, np.integer):
        return int(value)
    return int(value) if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) else None


def judge_convergence(t: Trial, kappas: list[float], tol: float | None = None, max_steps: int | None = None) -> None:
    """Every method at every kappa against the reference's count (exactly); the figure of both is attached first. A
    wrong count is explained by a known mistake of the student's own step function (its first steps, probed), or by the
    count's own off-by-one."""
    options = {k: v for k, v in (("tol", tol), ("max_steps", max_steps)) if v is not None}
    cap = (10_000 if max_steps is None else max_steps) + 1
    want = {m: [t.ref.steps_to_tolerance(m, k, **options) for k in kappas] for m in METHODS}
    steps = {m: [first_steps(t, m, k) for k in kappas] for m in METHODS}
    got = {m: [t.call("steps_to_tolerance", m, k, **options) for k in kappas] for m in METHODS}
    series: dict[str, tuple[list[float], list[float]]] = {}
    for m in METHODS:
        series[f"{m} (reference)"] = (kappas, want[m])
        mine = [(k, as_count(g)) for k, g in zip(kappas, got[m]) if as_count(g) is not None]
        series[f"{m} (yours)"] = ([k for k, _ in mine], [g for _, g in mine])
    t.figure(plots.curves(title="steps to reach f - f* <= tol against the condition number", x_label="condition number", y_label="steps", series=series))
    extra = "".join(f", {k}={v!r}" for k, v in options.items())
    for m in METHODS:
        counts = [as_count(g) for g in got[m]]
        for k, g, c, w in zip(kappas, got[m], counts, want[m]):
            t.same_kind(g, w, what=f"steps_to_tolerance({m!r}, {k!r}{extra})")
            if c is None:
                t.fail(f"steps_to_tolerance({m!r}, {k!r}{extra}) returned {describe(g)}; expected an int")
        if counts == want[m]:
            continue
        i = next(i for i, (c, w) in enumerate(zip(counts, want[m])) if c != w)
        first = f"steps_to_tolerance({m!r}, {kappas[i]!r}{extra}): got {counts[i]} steps, expected {want[m][i]} (condition numbers {', '.join(f'{k:g}' for k in kappas)}: got {counts}, expected {want[m]})"
        # Before the count's own off-by-one: Adam's step count off by one changes Adam's counts by exactly one too.
        mistake = step_mistake(t, m, kappas[i], *steps[m][i])
        if mistake is not None:
            t.fail(f"{first}; your answer matches a known mistake of your {STEP_OF[m]}, which the count inherits: {mistake.title}. {mistake.fix}", mistake=mistake)
        if counts == [min(w + 1, cap) for w in want[m]]:
            t.fail(f"{first}; your answer matches a known mistake: {COUNT_OFF_BY_ONE.title}. {COUNT_OFF_BY_ONE.fix}", mistake=COUNT_OFF_BY_ONE)
        t.fail(first)


def decades(t: Trial) -> list[float]:
    """One condition number in each of [1, 10), [10, 100), [100, 1000]: the momentum and Adam mistakes a count inherits
    change it there."""
    return [float(np.exp(t.rng.uniform(np.log(lo), np.log(10 * lo)))) for lo in (1.0, 10.0, 100.0)]


@check("convergence", "steps_to_tolerance: gd, heavy_ball and adam on condition numbers 1 and one in each decade up to 1000 (counts exactly the reference's)", forbid=FORBID)
def convergence(t: Trial) -> None:
    judge_convergence(t, [1.0, *decades(t)])


def judge_count(t: Trial, args: tuple, options: dict[str, Any], why: str) -> None:
    want = t.ref.steps_to_tolerance(*args, **options)
    got = t.call("steps_to_tolerance", *args, **options)
    what = f"steps_to_tolerance({', '.join(repr(a) for a in args)}{''.join(f', {k}={v!r}' for k, v in options.items())}) ({why})"
    t.same_kind(got, want, what=what)
    if as_count(got) is None:
        t.fail(f"{what}: returned {describe(got)}; expected an int")
    if as_count(got) != want:
        cap = options.get("max_steps", 10_000) + 1
        if as_count(got) == min(want + 1, cap):
            t.fail(f"{what}: got {got}, expected {want}; your answer matches a known mistake: {COUNT_OFF_BY_ONE.title}. {COUNT_OFF_BY_ONE.fix}", mistake=COUNT_OFF_BY_ONE)
        t.fail(f"{what}: got {got}, expected {want}")


@check("steps_to_tolerance_contract", "steps_to_tolerance: defaults tol = 1e-6, max_steps = 10_000; max_steps + 1 when not reached; 0 at x0; ValueError", forbid=FORBID)
def steps_to_tolerance_contract(t: Trial) -> None:
    def kappa(low: float, high: float) -> float:
        return float(np.exp(t.rng.uniform(np.log(low), np.log(high))))

    judge_count(t, ("gd", kappa(2.0, 50.0)), {}, "the defaults tol = 1e-6, max_steps = 10_000")
    judge_count(t, ("gd", int(t.rng.integers(2, 10))), {"tol": float(10 ** t.rng.uniform(-4, -2))}, "an int kappa")
    # gd needs about (kappa / 2) ln((1 + kappa) / (2 tol)) >= 13,000 steps here
    judge_count(t, ("gd", kappa(800.0, 1000.0)), {"tol": float(10 ** t.rng.uniform(-13, -12))}, "not reached in the default max_steps = 10_000 steps: 10001")
    cap = int(t.rng.integers(20, 200))
    judge_count(t, ("gd", kappa(500.0, 1000.0)), {"max_steps": cap}, f"not reached in {cap} steps: {cap + 1}")
    judge_count(t, ("gd", kappa(2.0, 1000.0)), {"max_steps": 0}, "max_steps = 0 and f(x0) > tol: 1")
    whole = int(t.rng.integers(2, 20))  # f(x0) - f* = (1 + kappa) / 2, exact for an int kappa
    judge_count(t, ("gd", whole), {"tol": (1 + whole) / 2}, f"f(x0) - f* = {(1 + whole) / 2:g} <= tol: 0 steps")
    reach, tol = kappa(2.0, 50.0), float(10 ** t.rng.uniform(-6, -3))
    judge_count(t, ("gd", reach), {"tol": tol, "max_steps": t.ref.steps_to_tolerance("gd", reach, tol=tol)}, "reached at exactly max_steps")
    valid, below = kappa(2.0, 100.0), float(t.rng.uniform(0.05, 0.95))
    bad = (
        (("nesterov", valid), {}, "method 'nesterov' is not one of gd, heavy_ball, adam"),
        (("GD", valid), {}, "method 'GD' (the names are lower case)"),
        (("gd", below), {}, f"kappa = {below:.6g} < 1"),
        (("heavy_ball", float("nan")), {}, "kappa is NaN"),
        (("adam", float("inf")), {}, "kappa is infinite"),
        (("gd", valid), {"tol": 0.0}, "tol = 0"),
        (("gd", valid), {"tol": -tol}, "tol < 0"),
        (("gd", valid), {"max_steps": -1}, "max_steps = -1"),
        (("gd", valid), {"max_steps": cap + 0.5}, f"max_steps = {cap + 0.5} is not an integer"),
        (("gd", valid), {"max_steps": True}, "max_steps = True is a bool, not an integer"),
    )
    for i in t.rng.permutation(len(bad)):
        args, options, why = bad[i]
        expect_value_error(t, why, "steps_to_tolerance", *args, **options)
