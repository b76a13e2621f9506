"""Public checks of the flows topic: inputs drawn from the trial's rng (the public seed in a student's own run, the
same every run; fresh ones when the course grades); students run these themselves.

The known mistakes of this topic are declared here (hidden checks import them). Their wrong answers come from a
small grader-side flow (`coupling`, `stack`, `log_prob`, `planar` below) that computes what the reference computes,
or what a submission with one of the mistakes computes: the recorded reference of a student bundle answers only what
it was asked when it was built, and a wrong variant (or a student's trained weights) is a question it was never asked.

Flows here are data (`Coupling`, `Perm`) until a check sends them: to the worker as trusted components built there
(`remote`), or to the reference as the same components built on this side (`local`). Every coupling has both
halves (a mask with 0s and 1s), so a swapped mask shows; every stack of three or more features permutes them with a
permutation that is not its own inverse, so an inverted permutation shows; every batch has several examples, so a
log-determinant summed over the batch shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.distributions import AffineTransform, Independent, Normal, TransformedDistribution

from autograder.engine.checks import CheckFailed, Mistake, Program, Trial, check
from autograder.engine.compare import describe
from autograder.engine.training import Adam
from autograder.reports import plots
from autograder.sandbox import components

LOGDET_SIGN = Mistake(
    "logdet-sign",
    "the log-determinant has the wrong sign: log p_x(x) = log p_z(f(x)) - log|det df/dx| is the formula for a map from latent to data, not for f: x -> z",
    "In the normalizing direction (x -> z), log p_x(x) = log p_z(f(x)) + log|det df/dx|; a coupling's log|det dy/dx| is +sum (1 - m) s, and its inverse's is -sum (1 - m) s.",
)
RAW_SCALE = Mistake(
    "logdet-raw-scale",
    "the log-determinant sums the scale net's raw output, but the scale is exp(tanh(raw)): log|det| is the sum of s = tanh(raw)",
    "Take s = tanh(scale_net(mask * x)) once and use the same s in exp(s) and in the log-determinant sum((1 - mask) * s).",
)
WRONG_HALF = Mistake(
    "coupling-wrong-half",
    "the coupling transforms the half where mask = 1 and keeps the half where mask = 0: mask and 1 - mask are swapped",
    "mask = 1 marks the features passed through unchanged and fed to the nets (x_a = mask * x); the features where mask = 0 are scaled and shifted: y = x_a + (1 - mask) * (x * exp(s) + t).",
)
BATCH_SUM = Mistake(
    "logdet-summed-over-batch",
    "the log-determinant is summed over the batch as well: one number for all examples instead of one per example",
    "Sum over the features only (dim=-1): the log-determinant has shape (N,), one value per example, like the log-density.",
)
INVERSE_EXP = Mistake(
    "inverse-exp-sign",
    "the inverse multiplies by exp(s) instead of exp(-s): it scales a second time instead of undoing the scale",
    "Undo the forward step in reverse order: subtract t, then divide by exp(s): x = y_a + (1 - mask) * (y - t) * exp(-s).",
)
CONDITIONER_SEES_ALL = Mistake(
    "conditioner-sees-transformed-half",
    "the scale and shift nets see the whole input, the half they transform included: the Jacobian is no longer triangular, log|det| is not sum (1 - mask) s, and the inverse cannot recompute s and t",
    "Feed the nets the kept half only, scale_net(mask * x) and shift_net(mask * x): that is what makes the layer invertible and its log-determinant cheap.",
)
PERM_INVERTED = Mistake(
    "permutation-inverted",
    "the permutation runs the wrong way: h[:, argsort(p)] where the forward pass takes h[:, p] (or h[:, p] where the inverse pass needs argsort(p))",
    "Forward, {'perm': p} maps h to h[:, p] (feature i of the output is feature p[i]); the inverse undoes it with h[:, argsort(p)].",
)
PLANAR_NO_U_HAT = Mistake(
    "planar-u-not-constrained",
    "the planar flow uses u as given, not u_hat: with w . u < -1 the map is not invertible (its determinant 1 + (1 - h^2) w . u changes sign)",
    "Use u_hat = u + (m(w . u) - w . u) w / |w|^2 with m(a) = -1 + softplus(a), so that w . u_hat > -1, in x and in the log-determinant alike.",
)

FORWARD_MISTAKES = (WRONG_HALF, CONDITIONER_SEES_ALL, LOGDET_SIGN, RAW_SCALE, BATCH_SUM)
INVERSE_MISTAKES = (INVERSE_EXP, WRONG_HALF, CONDITIONER_SEES_ALL, LOGDET_SIGN, RAW_SCALE, BATCH_SUM)
FORBID = ("torch.distributions",)  # for flow_log_prob and flow_sample: the base is given, and so is its log_prob
HIDDEN = 8  # the width of every scale and shift net


# ---- flows as data, and where they are built ------------------------------------------------------------------------


@dataclass(frozen=True)
class Coupling:
    """An affine coupling: mask (D,) of 0.0 and 1.0; scale and shift nets as (w1 (H, D), b1 (H,), w2 (D, H), b2 (D,))
    (arrays; tensors with grad where a check trains them)."""

    mask: np.ndarray
    scale: tuple[Any, ...]
    shift: tuple[Any, ...]


@dataclass(frozen=True)
class Perm:
    perm: np.ndarray  # int64 (D,)


Layer = Coupling | Perm


def net(rng: np.random.Generator, d: int, gain: float) -> tuple[np.ndarray, ...]:
    """Random weights of a D -> HIDDEN -> D tanh net whose outputs are of order `gain`."""
    return (rng.normal(0.0, 1.0, (HIDDEN, d)), rng.normal(0.0, 0.5, HIDDEN), rng.normal(0.0, gain / np.sqrt(HIDDEN), (d, HIDDEN)), rng.normal(0.0, 0.3, d))


def random_mask(rng: np.random.Generator, d: int) -> np.ndarray:
    """A mask with both halves (d >= 2): at least one 1 and one 0."""
    mask = np.zeros(d)
    mask[rng.choice(d, int(rng.integers(1, d)), replace=False)] = 1.0
    return mask


def random_perm(rng: np.random.Generator, d: int) -> np.ndarray:
    """A permutation of d >= 3 features that is not its own inverse (p[p] != identity), so inverting it shows."""
    while True:
        perm = rng.permutation(d)
        if not np.array_equal(perm[perm], np.arange(d)):
            return perm


def random_flow(rng: np.random.Generator, d: int, couplings: int, gain: float = 1.5) -> list[Layer]:
    """`couplings` couplings, the mask alternating (m, 1 - m, ...), with a permutation between two couplings when d >= 3."""
    mask, layers = random_mask(rng, d), []
    for i in range(couplings):
        if i and d >= 3:
            layers.append(Perm(random_perm(rng, d)))
        layers.append(Coupling(mask if i % 2 == 0 else 1.0 - mask, net(rng, d, gain), net(rng, d, gain)))
    return layers


def local(layers: Sequence[Layer]) -> list[dict[str, Any]]:
    """The layers as the reference and the grader-side flow take them: CPU tensors and trusted nets built here."""
    return [
        {"perm": torch.from_numpy(np.asarray(l.perm))} if isinstance(l, Perm) else {"mask": torch.from_numpy(l.mask), "scale": components.build("mlp", *l.scale, device="cpu"), "shift": components.build("mlp", *l.shift, device="cpu")}
        for l in layers
    ]


def remote(t: Trial, p: Program, layers: Sequence[Layer]) -> list[dict[str, Any]]:
    """The layers as the student's code gets them: tensors on the trial's device and trusted nets built in the worker."""
    return [
        {"perm": t.tensor(l.perm)} if isinstance(l, Perm) else {"mask": t.tensor(l.mask), "scale": p.component("mlp", *l.scale), "shift": p.component("mlp", *l.shift)}
        for l in layers
    ]


def base(d: int) -> Any:
    return components.build("standard_normal", np.array(d), device="cpu")


def describe_flow(layers: Sequence[Layer]) -> str:
    parts = [f"perm {l.perm.tolist()}" if isinstance(l, Perm) else f"coupling mask {l.mask.astype(int).tolist()}" for l in layers]
    return f"[{', '.join(parts)}]" if parts else "[] (no layers)"


# ---- the grader-side flow: what the reference computes, or what a submission with `mistake` computes -------------


def coupling(x: torch.Tensor, layer: dict[str, Any], *, inverse: bool = False, mistake: Mistake | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """affine_coupling_forward (or _inverse) of a local layer, with `mistake` made in it."""
    mask = layer["mask"]
    keep, change = (1 - mask, mask) if mistake is WRONG_HALF else (mask, 1 - mask)
    seen = x if mistake is CONDITIONER_SEES_ALL else keep * x
    raw, t = layer["scale"](seen), layer["shift"](seen)
    s = torch.tanh(raw)
    if inverse:
        out = keep * x + change * (x - t) * torch.exp(s if mistake is INVERSE_EXP else -s)
    else:
        out = keep * x + change * (x * torch.exp(s) + t)
    logdet = (change * (raw if mistake is RAW_SCALE else s)).sum(dim=-1)
    if inverse != (mistake is LOGDET_SIGN):
        logdet = -logdet
    return out, logdet.sum() if mistake is BATCH_SUM else logdet


def stack(x: torch.Tensor, layers: Sequence[dict[str, Any]], *, inverse: bool = False, mistake: Mistake | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """flow_forward (inverse=False) or the inverse pass of flow_sample, with the total log-determinant."""
    total = torch.zeros(x.shape[0], dtype=x.dtype)
    for layer in reversed(layers) if inverse else layers:
        if "perm" in layer:
            x = x[:, layer["perm"] if inverse == (mistake is PERM_INVERTED) else torch.argsort(layer["perm"])]
        else:
            x, logdet = coupling(x, layer, inverse=inverse, mistake=mistake)
            total = total + logdet
    return x, total


def log_prob(x: torch.Tensor, layers: Sequence[dict[str, Any]], d: int, mistake: Mistake | None = None) -> torch.Tensor:
    z, logdet = stack(x, layers, mistake=mistake)
    return base(d).log_prob(z) + logdet


def tensor(a: Any) -> torch.Tensor:
    return torch.from_numpy(np.array(a, dtype=np.float64))


def no_grad(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with torch.no_grad():
        return fn(*args, **kwargs)


def pair_variants(x: np.ndarray, layer: dict[str, Any], mistakes: Sequence[Mistake], inverse: bool = False) -> list[tuple[Mistake, tuple[torch.Tensor, torch.Tensor]]]:
    return [(m, no_grad(coupling, tensor(x), layer, inverse=inverse, mistake=m)) for m in mistakes]


def stack_variants(x: np.ndarray, layers: list[dict[str, Any]], mistakes: Sequence[Mistake], inverse: bool = False) -> list[tuple[Mistake, tuple[torch.Tensor, torch.Tensor]]]:
    found = [(m, no_grad(stack, tensor(x), layers, inverse=inverse, mistake=m)) for m in mistakes]
    # A total started at 0 rather than at zeros(N) stays one number when each layer's is: the same mistake, 0-d.
    return found + [(BATCH_SUM, (z, logdet[0])) for m, (z, logdet) in found if m is BATCH_SUM]


def log_prob_variants(x: np.ndarray, layers: list[dict[str, Any]], d: int) -> list[tuple[Mistake, torch.Tensor]]:
    return [(m, no_grad(log_prob, tensor(x), layers, d, m)) for m in (*FORWARD_MISTAKES, PERM_INVERTED)]


# ---- judging ----------------------------------------------------------------------------------------------------------


def judge_pair(t: Trial, got: Any, want: tuple[Any, Any], what: str, names: tuple[str, str], variants: Sequence[tuple[Mistake, tuple[Any, Any]]]) -> None:
    """A (y, logdet)-like answer: a tuple of two tensors, each against the reference's, naming known mistakes."""
    t.same_kind(got, want, what=what)
    if len(got) != 2:
        t.fail(f"{what}: returned a tuple of {len(got)} values; expected 2, {names[0]} and {names[1]}")
    for i, name in enumerate(names):
        t.close(got[i], want[i], what=f"{what}: {name}", variants=[(m, v[i]) for m, v in variants])


def jacobian(t: Trial, fn: str, x: np.ndarray, rest: Callable[[Program], list[Any]]) -> np.ndarray:
    """The autograd Jacobian of the student's fn(x, *rest)[0] at each example, shape (N, D, D): J[n, i, j] =
    d out[n, i] / d x[n, j]. Examples are independent, so one backward pass gives them all: x is repeated D times
    as one batch, and copy i gets the upstream gradient e_i, which makes its gradient row i of each Jacobian."""
    n, d = x.shape
    upstream = np.repeat(np.eye(d), n, axis=0)  # copy i (rows i*n .. i*n + n - 1): e_i
    p = t.program()
    xt = t.tensor(np.tile(x, (d, 1)), grad=True)
    args = rest(p)
    (grads,) = p.run(p.grad(p.method(p.call(fn, xt, *args), "__getitem__", 0), [xt], upstream))
    if grads is None:
        t.fail(f"{fn}(x, ...)[0]: no autograd graph leads back to x (was it detached, or computed through numpy?); the checks differentiate your output to get its Jacobian")
    return np.asarray(grads[0]).reshape(d, n, d).transpose(1, 0, 2)


def judge_slogdet(t: Trial, logdet: Any, jac: np.ndarray, what: str, variants: Sequence[tuple[Mistake, Any]]) -> None:
    """The student's log-determinant against log|det J| of the student's own Jacobian (np.linalg.slogdet)."""
    want = np.linalg.slogdet(jac)[1]
    t.close(np.asarray(logdet), want, what=f"{what}: the log-det against log|det J| of the autograd Jacobian J of your own output (np.linalg.slogdet)", variants=[(LOGDET_SIGN, -want), (BATCH_SUM, want.sum()), *variants])


def name_mistake(judge: Callable[[], None]) -> None:
    """Run `judge` (a comparison against the reference with the known mistakes' variants) and raise its failure only
    when it names one: a known mistake explains a broken identity best, otherwise the identity's own message does."""
    try:
        judge()
    except CheckFailed as failure:
        if failure.mistake is not None:
            raise


def expect_value_error(t: Trial, why: str, p: Program, step: Any) -> None:
    try:
        t.raises_in("ValueError", p, step)
    except CheckFailed as failure:
        t.fail(f"{failure.message}: {why}")


# ---- the coupling layer -------------------------------------------------------------------------------------------


def coupling_case(rng: np.random.Generator, n: int, d: int, gain: float = 1.5) -> tuple[np.ndarray, Coupling]:
    return rng.normal(0.0, 1.5, (n, d)), Coupling(random_mask(rng, d), net(rng, d, gain), net(rng, d, gain))


def coupling_call(p: Program, fn: str, x: Any, rem: dict[str, Any]) -> Any:
    """fn(x, mask, scale_net, shift_net) with a layer sent by `remote` (the caller keeps x and rem: Program keys
    what it was sent by id, which a dead object hands on)."""
    return p.call(fn, x, rem["mask"], rem["scale"], rem["shift"])


def judge_coupling(t: Trial, fn: str, x: np.ndarray, layer: Coupling, what: str) -> None:
    """affine_coupling_forward or _inverse against the reference, naming the known mistakes."""
    inverse = fn == "affine_coupling_inverse"
    (loc,) = local([layer])
    want = getattr(t.ref, fn)(tensor(x), loc["mask"], loc["scale"], loc["shift"])
    p = t.program()
    (rem,), xt = remote(t, p, [layer]), t.tensor(x)
    (got,) = p.run(coupling_call(p, fn, xt, rem))
    names = ("x (the first value)", "logdet = log|det dx/dy|") if inverse else ("y (the first value)", "logdet = log|det dy/dx|")
    judge_pair(t, got, want, what, names, pair_variants(x, loc, INVERSE_MISTAKES if inverse else FORWARD_MISTAKES, inverse))


def coupling_what(fn: str, x: np.ndarray, layer: Coupling) -> str:
    return f"{fn}({'y' if 'inverse' in fn else 'x'} of shape {x.shape}, mask {layer.mask.astype(int).tolist()}, scale_net, shift_net)"


@check("coupling_forward", "affine_coupling_forward: y and the log-det against the reference on a random batch")
def coupling_forward(t: Trial) -> None:
    x, layer = coupling_case(t.rng, 6, 4)
    judge_coupling(t, "affine_coupling_forward", x, layer, coupling_what("affine_coupling_forward", x, layer))


@check("coupling_jacobian", "affine_coupling_forward: the log-det is log|det| of the autograd Jacobian of your y, the Jacobian is triangular, and both match the reference")
def coupling_jacobian(t: Trial) -> None:
    x, layer = coupling_case(t.rng, 5, 3)
    what = coupling_what("affine_coupling_forward", x, layer)
    (loc,) = local([layer])
    want = t.ref.affine_coupling_forward(tensor(x), loc["mask"], loc["scale"], loc["shift"])
    variants = pair_variants(x, loc, FORWARD_MISTAKES)
    p = t.program()
    (rem,), xt = remote(t, p, [layer]), t.tensor(x)
    (got,) = p.run(coupling_call(p, "affine_coupling_forward", xt, rem))
    t.same_kind(got, want, what=what)

    def rest(p: Program) -> list[Any]:
        (rem,) = remote(t, p, [layer])
        return [rem["mask"], rem["scale"], rem["shift"]]

    jac = jacobian(t, "affine_coupling_forward", x, rest)
    # Kept features are copied (rows of the identity); a transformed feature depends on the kept ones and on itself
    # only: the Jacobian is triangular, with exp(s) on its diagonal.
    keep = layer.mask == 1
    off = np.abs(jac[:, ~keep][:, :, ~keep] * (1 - np.eye(int((~keep).sum())))).max()
    problem = None
    if not np.allclose(jac[:, keep], np.eye(len(keep))[keep], rtol=0, atol=1e-12):
        problem = "the rows of the kept features (mask = 1) are not rows of the identity"
    elif off > 1e-12:
        problem = f"a transformed feature depends on another transformed one (|dy_i/dx_j| up to {off:.3g}): the nets must see mask * x only"
    try:
        judge_slogdet(t, got[1], jac, what, [(m, v[1]) for m, v in variants if m is RAW_SCALE])
        if problem:
            t.fail(f"{what}: the Jacobian dy/dx (autograd) is not triangular: {problem}")
    except CheckFailed as failure:
        if failure.mistake is None:
            name_mistake(lambda: judge_pair(t, got, want, what, ("y", "logdet"), variants))
        raise
    judge_pair(t, got, want, what, ("y (the first value)", "logdet = log|det dy/dx|"), variants)


@check("coupling_mask", "affine_coupling_forward: the mask = 1 half passes through, and moving the mask = 0 half changes neither it nor the log-det (the nets never see it)")
def coupling_mask(t: Trial) -> None:
    x, layer = coupling_case(t.rng, 6, 5)
    keep = layer.mask == 1
    moved = x + (1 - layer.mask) * t.rng.normal(0.0, 2.0, x.shape)  # only the transformed half moves
    what = coupling_what("affine_coupling_forward", x, layer)
    (loc,) = local([layer])
    want = t.ref.affine_coupling_forward(tensor(x), loc["mask"], loc["scale"], loc["shift"])
    p = t.program()
    (rem,), xt, moved_t = remote(t, p, [layer]), t.tensor(x), t.tensor(moved)
    got, got_moved = p.run(coupling_call(p, "affine_coupling_forward", xt, rem), coupling_call(p, "affine_coupling_forward", moved_t, rem))
    t.same_kind(got, want, what=what)
    t.same_kind(got_moved, want, what=what)
    y, y_moved = np.asarray(got[0]), np.asarray(got_moved[0])
    rtol, atol = t.tolerance(np.float64)
    problem = None
    if y.shape != x.shape or not np.allclose(y[:, keep], x[:, keep], rtol=rtol, atol=atol):
        problem = f"the features where mask = 1 (columns {np.flatnonzero(keep).tolist()}) must pass through unchanged: y[:, mask == 1] differs from x[:, mask == 1]"
    elif not np.allclose(y_moved[:, keep], moved[:, keep], rtol=rtol, atol=atol) or np.shape(got[1]) != np.shape(got_moved[1]) or not np.allclose(got[1], got_moved[1], rtol=rtol, atol=atol):
        change = np.abs(np.asarray(got[1]) - np.asarray(got_moved[1])).max() if np.shape(got[1]) == np.shape(got_moved[1]) else np.nan
        problem = f"moving only x[:, mask == 0] changed the log-det (by up to {change:.3g}) or the kept half: s and t must depend on mask * x alone"
    if problem:
        name_mistake(lambda: judge_pair(t, got, want, what, ("y", "logdet"), pair_variants(x, loc, FORWARD_MISTAKES)))
        t.fail(f"{what}: {problem}")


@check("coupling_inverse", "affine_coupling_inverse: undoes the reference's forward (x back, log-det = -forward's), and matches the reference's inverse")
def coupling_inverse(t: Trial) -> None:
    x, layer = coupling_case(t.rng, 6, 4)
    (loc,) = local([layer])
    y, logdet = t.ref.affine_coupling_forward(tensor(x), loc["mask"], loc["scale"], loc["shift"])
    want = (tensor(x), -logdet)
    p = t.program()
    (rem,), yt = remote(t, p, [layer]), t.tensor(y.numpy())
    (got,) = p.run(coupling_call(p, "affine_coupling_inverse", yt, rem))
    what = f"affine_coupling_inverse(y, mask {layer.mask.astype(int).tolist()}, ...) with y = affine_coupling_forward(x, ...) (the reference's), x of shape {x.shape}"
    judge_pair(t, got, want, what, ("x (expected the x that went in)", "logdet (expected minus the forward's)"), pair_variants(y.numpy(), loc, INVERSE_MISTAKES, inverse=True))
    y2, layer2 = coupling_case(t.rng, 5, 3)
    judge_coupling(t, "affine_coupling_inverse", y2, layer2, coupling_what("affine_coupling_inverse", y2, layer2))


@check("coupling_round_trip", "your own affine_coupling_inverse after your affine_coupling_forward gives x back, and the reverse gives y back, log-dets adding to 0 (combines the two)", combines=("affine_coupling_forward",))
def coupling_round_trip(t: Trial) -> None:
    x, layer = coupling_case(t.rng, 6, 4)
    y = t.rng.normal(0.0, 1.5, x.shape)
    (loc,) = local([layer])
    p = t.program()
    (rem,), xt, yt = remote(t, p, [layer]), t.tensor(x), t.tensor(y)
    fwd = coupling_call(p, "affine_coupling_forward", xt, rem)
    back = coupling_call(p, "affine_coupling_inverse", p.method(fwd, "__getitem__", 0), rem)
    inv = coupling_call(p, "affine_coupling_inverse", yt, rem)
    again = coupling_call(p, "affine_coupling_forward", p.method(inv, "__getitem__", 0), rem)
    got = p.run(fwd, back, inv, again)
    like = no_grad(coupling, tensor(x), loc)
    for value in got:
        t.same_kind(value, like, what="affine_coupling_forward / affine_coupling_inverse")
    mask = layer.mask.astype(int).tolist()
    for start, first, second, (a, b) in ((x, False, True, got[:2]), (y, True, False, got[2:])):
        names = ("forward", "inverse") if not first else ("inverse", "forward")
        what = f"affine_coupling_{names[1]}(affine_coupling_{names[0]}(u, mask {mask}, ...)[0], ...) with u of shape {start.shape} (your two functions)"
        variants = []
        for m in INVERSE_MISTAKES:
            for wrong_first in (True, False):  # the mistake in the function that runs first, or in the second
                if m is INVERSE_EXP and wrong_first != first:  # a mistake of the inverse only
                    continue
                inner = no_grad(coupling, tensor(start), loc, inverse=first, mistake=m if wrong_first else None)
                outer = no_grad(coupling, inner[0], loc, inverse=second, mistake=None if wrong_first else m)
                variants.append((m, (outer[0], inner[1] + outer[1])))
        t.close(b[0], tensor(start), what=f"{what}: expected u back", variants=[(m, v[0]) for m, v in variants])
        total = np.asarray(a[1]) + np.asarray(b[1])
        t.close(total, np.zeros(len(start)), what=f"{what}: the two log-dets must add up to 0 per example", variants=[(m, v[1]) for m, v in variants])


def contract_cases(t: Trial, fn: str) -> None:
    """The corners a coupling accepts (a mask of all 1s is the identity, all 0s an elementwise affine map, N = 1),
    then ValueError for each documented limit."""
    x, layer = coupling_case(t.rng, 4, 3)
    for mask, why in ((np.ones(3), "mask all 1s: the identity, log-det 0"), (np.zeros(3), "mask all 0s: every feature scaled and shifted by constants")):
        corner = Coupling(mask, layer.scale, layer.shift)
        judge_coupling(t, fn, x, corner, f"{coupling_what(fn, x, corner)} ({why})")
    judge_coupling(t, fn, x[:1], layer, coupling_what(fn, x[:1], layer) + " (a batch of one)")
    for bad_x, bad_mask, why in (
        (x[0], layer.mask, "the input has shape (3,), not (N, D)"),
        (x[None], layer.mask, "the input has shape (1, 4, 3), not (N, D)"),
        (x, np.append(layer.mask, 1.0), "mask has 4 entries for D = 3"),
        (x, layer.mask[None], "mask has shape (1, 3), not (D,)"),
        (x, np.where(layer.mask == 1, 0.5, 0.0), "mask holds 0.5, not only 0s and 1s"),
        (x, np.where(layer.mask == 1, 2.0, 0.0), "mask holds 2, not only 0s and 1s"),
    ):
        p = t.program()
        (rem,) = remote(t, p, [layer])
        expect_value_error(t, why, p, p.call(fn, t.tensor(bad_x), t.tensor(bad_mask), rem["scale"], rem["shift"]))


@check("coupling_forward_contract", "affine_coupling_forward: masks of all 1s and all 0s, N = 1; ValueError for inputs not (N, D) and masks not (D,) of 0s and 1s")
def coupling_forward_contract(t: Trial) -> None:
    contract_cases(t, "affine_coupling_forward")


@check("coupling_inverse_contract", "affine_coupling_inverse: masks of all 1s and all 0s, N = 1; ValueError for inputs not (N, D) and masks not (D,) of 0s and 1s")
def coupling_inverse_contract(t: Trial) -> None:
    contract_cases(t, "affine_coupling_inverse")


# ---- the stack ------------------------------------------------------------------------------------------------------


def judge_flow_forward(t: Trial, x: np.ndarray, layers: list[Layer], what: str) -> None:
    loc = local(layers)
    want = t.ref.flow_forward(tensor(x), loc)
    p = t.program()
    (got,) = p.run(p.call("flow_forward", t.tensor(x), remote(t, p, layers)))
    judge_pair(t, got, want, what, ("z (the first value)", "logdet = log|det dz/dx|"), stack_variants(x, loc, (*FORWARD_MISTAKES, PERM_INVERTED)))


@check("flow_forward", "flow_forward: z and the total log-det of a stack of couplings and permutations against the reference")
def flow_forward(t: Trial) -> None:
    layers = random_flow(t.rng, 4, 3)
    x = t.rng.normal(0.0, 1.5, (6, 4))
    judge_flow_forward(t, x, layers, f"flow_forward(x of shape {x.shape}, layers {describe_flow(layers)})")


@check("flow_jacobian", "flow_forward: the total log-det is log|det| of the autograd Jacobian of your z, and matches the reference")
def flow_jacobian(t: Trial) -> None:
    layers = random_flow(t.rng, 3, 3)
    x = t.rng.normal(0.0, 1.5, (5, 3))
    what = f"flow_forward(x of shape {x.shape}, layers {describe_flow(layers)})"
    loc = local(layers)
    want = t.ref.flow_forward(tensor(x), loc)
    variants = stack_variants(x, loc, (*FORWARD_MISTAKES, PERM_INVERTED))
    p = t.program()
    (got,) = p.run(p.call("flow_forward", t.tensor(x), remote(t, p, layers)))
    t.same_kind(got, want, what=what)
    jac = jacobian(t, "flow_forward", x, lambda p: [remote(t, p, layers)])
    try:
        judge_slogdet(t, got[1], jac, what, [(m, v[1]) for m, v in variants if m is RAW_SCALE])
    except CheckFailed as failure:
        if failure.mistake is None:
            name_mistake(lambda: judge_pair(t, got, want, what, ("z", "logdet"), variants))
        raise
    judge_pair(t, got, want, what, ("z (the first value)", "logdet = log|det dz/dx|"), variants)


@check("flow_forward_contract", "flow_forward: no layers (the identity, log-det 0), a permutation alone; ValueError for other dicts, bad permutations, x not (N, D)")
def flow_forward_contract(t: Trial) -> None:
    x = t.rng.normal(0.0, 1.0, (4, 3))
    judge_flow_forward(t, x, [], f"flow_forward(x of shape {x.shape}, []) (no layers: z = x, log-det 0)")
    perms = [Perm(random_perm(t.rng, 3))]
    judge_flow_forward(t, x, perms, f"flow_forward(x of shape {x.shape}, {describe_flow(perms)}) (log-det 0)")
    (layer,) = random_flow(t.rng, 3, 1)
    for bad, bad_x, why in (
        ([Perm(np.array([0, 0, 2]))], x, "the permutation [0, 0, 2] repeats 0 and misses 1"),
        ([Perm(np.array([1, 0]))], x, "the permutation [1, 0] has 2 entries for D = 3"),
        ([Perm(np.array([2.0, 0.0, 1.0]))], x, "the permutation holds floats, not integer indices"),
        ([layer], x[0], "x has shape (3,), not (N, D)"),
    ):
        p = t.program()
        expect_value_error(t, why, p, p.call("flow_forward", t.tensor(bad_x), remote(t, p, bad)))
    p = t.program()
    (rem,) = remote(t, p, [layer])
    expect_value_error(t, "layers[0] has the keys 'mask' and 'scale' but no 'shift'", p, p.call("flow_forward", t.tensor(x), [{"mask": rem["mask"], "scale": rem["scale"]}]))


# ---- the log-density ------------------------------------------------------------------------------------------------


def judge_log_prob(t: Trial, x: np.ndarray, layers: list[Layer], what: str, want: Any = None) -> None:
    """flow_log_prob against `want` (the reference's by default), naming known mistakes."""
    d = x.shape[1]
    loc = local(layers)
    if want is None:
        want = t.ref.flow_log_prob(tensor(x), loc, base(d))
    p = t.program()
    (got,) = p.run(p.call("flow_log_prob", t.tensor(x), remote(t, p, layers), p.component("standard_normal", np.array(d))))
    t.close(got, want, what=what, variants=log_prob_variants(x, loc, d))


def constant_net(value: float) -> tuple[np.ndarray, ...]:
    """A 1 -> HIDDEN -> 1 net whose output is `value` everywhere."""
    return (np.zeros((HIDDEN, 1)), np.zeros(HIDDEN), np.zeros((1, HIDDEN)), np.array([value]))


def transformed_distribution(layers: list[Layer]) -> TransformedDistribution:
    """A 1-D stack as torch.distributions sees it. With D = 1 a coupling with mask [0] feeds its nets zeros, so it is
    the affine map x -> x exp(s) + t with constants s = tanh(scale_net(0)), t = shift_net(0); with mask [1] it is the
    identity. The distribution of x = f^-1(z) applies the inverses from the last layer to the first."""
    transforms = []
    for layer in reversed(local(layers)):
        if layer["mask"].item() == 0:
            zero = torch.zeros(1, 1, dtype=torch.float64)
            s, shift = torch.tanh(layer["scale"](zero))[0], layer["shift"](zero)[0]
            transforms.append(AffineTransform(shift, torch.exp(s), event_dim=1).inv)
    normal = Independent(Normal(torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)), 1)
    return TransformedDistribution(normal, transforms)


@check("flow_log_prob_1d", "flow_log_prob in 1-D against torch.distributions.TransformedDistribution: z = 2.5 x at x = 0.16 (log p = -0.0826, not -1.915), then a random stack", forbid=FORBID)
def flow_log_prob_1d(t: Trial) -> None:
    x = np.array([[0.16], [t.rng.uniform(-2.0, 2.0)]])
    layers = [Coupling(np.zeros(1), constant_net(float(np.arctanh(np.log(2.5)))), constant_net(0.0))]
    with torch.no_grad():
        want = transformed_distribution(layers).log_prob(tensor(x))
    judge_log_prob(t, x, layers, f"flow_log_prob(x = {x.ravel().round(4).tolist()}, one coupling with mask [0] and s = ln 2.5, t = 0: z = 2.5 x) (against TransformedDistribution: log N(2.5 x) + ln 2.5)", want)
    masks = [0.0, 1.0, 0.0, 0.0]
    layers = [Coupling(np.array([m]), net(t.rng, 1, 1.5), net(t.rng, 1, 1.0)) for m in masks]
    x = t.rng.normal(0.0, 2.0, (7, 1))
    with torch.no_grad():
        want = transformed_distribution(layers).log_prob(tensor(x))
    judge_log_prob(t, x, layers, f"flow_log_prob(x of shape {x.shape}, couplings with masks {masks}) (against TransformedDistribution with one AffineTransform per mask [0])", want)


@check("flow_log_prob", "flow_log_prob of a stack of couplings and permutations against the reference, in 2-D and 4-D", forbid=FORBID)
def flow_log_prob(t: Trial) -> None:
    for d, n in ((2, 6), (4, 5)):
        layers = random_flow(t.rng, d, 4)
        x = t.rng.normal(0.0, 1.5, (n, d))
        judge_log_prob(t, x, layers, f"flow_log_prob(x of shape {x.shape}, layers {describe_flow(layers)}, N(0, I_{d}))")


GRID = 140  # points per axis of the quadrature grid
GRID_TOL = 1e-6  # |integral - 1| allowed: the midpoint rule's own error is below 3e-7 on every flow of 1,000 draws


def smooth_flow(rng: np.random.Generator) -> list[Layer]:
    """A 2-D flow of 4 couplings gentle enough for quadrature: each scale net is close to a constant in (0.8, 1.6)
    (s = tanh of it, far from the raw value), each shift net is a full nonlinear net."""
    mask, layers = random_mask(rng, 2), []
    for i in range(4):
        w1, b1, w2, _ = net(rng, 2, 0.3)
        layers.append(Coupling(mask if i % 2 == 0 else 1.0 - mask, (w1, b1, w2, rng.uniform(0.8, 1.6, 2)), net(rng, 2, 1.0)))
    return layers


def grid_for(layers: list[dict[str, Any]], radius: float = 6.0) -> tuple[np.ndarray, tuple[float, float, float, float], float]:
    """A GRID x GRID grid (points (GRID^2, 2), extent, cell area) over the box around f^-1 of the circle |z| = radius:
    it bounds the image of the disk, which holds all but exp(-radius^2 / 2) = 1.5e-8 of the flow's mass. The box
    holds the mass of the flow with its masks swapped too: that is a flow as well, whose density integrates to 1."""
    angle = np.linspace(0.0, 2 * np.pi, 720, endpoint=False)
    circle = tensor(radius * np.stack([np.cos(angle), np.sin(angle)], axis=1))
    edge = np.concatenate([no_grad(stack, circle, layers, inverse=True, mistake=m)[0].numpy() for m in (None, WRONG_HALF)])
    lo, hi = edge.min(axis=0), edge.max(axis=0)
    lo, hi = lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)
    xs, ys = (np.linspace(lo[i], hi[i], GRID, endpoint=False) + (hi[i] - lo[i]) / (2 * GRID) for i in range(2))
    gx, gy = np.meshgrid(xs, ys)  # row 0 at y_lo
    return np.stack([gx.ravel(), gy.ravel()], axis=1), (lo[0], hi[0], lo[1], hi[1]), float(np.prod((hi - lo) / GRID))


@check("flow_log_prob_normalized", f"exp(flow_log_prob) integrates to 1 over the plane: midpoint rule on a {GRID} x {GRID} grid around the flow's mass, within {GRID_TOL:g}", forbid=FORBID)
def flow_log_prob_normalized(t: Trial) -> None:
    layers = smooth_flow(t.rng)
    loc = local(layers)
    points, extent, cell = grid_for(loc)
    p = t.program()
    (got,) = p.run(p.call("flow_log_prob", t.tensor(points), remote(t, p, layers), p.component("standard_normal", np.array(2))))
    what = f"flow_log_prob on a {GRID} x {GRID} grid over [{extent[0]:.3g}, {extent[1]:.3g}] x [{extent[2]:.3g}, {extent[3]:.3g}], layers {describe_flow(layers)}"
    want = no_grad(log_prob, tensor(points), loc, 2)  # the reference's formula on this side: no 19,600 values to record
    t.same_kind(got, want, what=what)
    values = np.asarray(got, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        integral = float(np.exp(values).sum() * cell) if values.shape == (len(points),) else np.nan
    if not abs(integral - 1.0) <= GRID_TOL:
        name_mistake(lambda: t.close(got, want, what=f"{what} (exp(log p) integrates to {integral:.9g}, not 1)", variants=log_prob_variants(points, loc, 2)))
        t.fail(f"{what}: exp(log p) integrates to {integral:.9g}, not 1 (within {GRID_TOL:g}): a density must integrate to 1; check the change of variables")


@check("flow_log_prob_contract", "flow_log_prob: no layers (the base's log-density); ValueError when x's D differs from base.dim or a layer is not a valid dict", forbid=FORBID)
def flow_log_prob_contract(t: Trial) -> None:
    x = t.rng.normal(0.0, 1.0, (5, 3))
    judge_log_prob(t, x, [], f"flow_log_prob(x of shape {x.shape}, [], N(0, I_3)) (no layers: the base's log-density)")
    for bad, d, why in (([], 2, "x has D = 3 features, the base 2"), ([Perm(np.array([0, 2, 2]))], 3, "the permutation [0, 2, 2] is not one")):
        p = t.program()
        expect_value_error(t, why, p, p.call("flow_log_prob", t.tensor(x), remote(t, p, bad), p.component("standard_normal", np.array(d))))


# ---- sampling -------------------------------------------------------------------------------------------------------


def judge_sample(t: Trial, z: np.ndarray, layers: list[Layer], what: str) -> None:
    d = z.shape[1]
    loc = local(layers)
    want = t.ref.flow_sample(loc, base(d), tensor(z))
    p = t.program()
    (got,) = p.run(p.call("flow_sample", remote(t, p, layers), p.component("standard_normal", np.array(d)), t.tensor(z)))
    variants = [(m, v[0]) for m, v in stack_variants(z, loc, (*INVERSE_MISTAKES, PERM_INVERTED), inverse=True)]
    t.close(got, want, what=what, variants=variants)


@check("flow_sample", "flow_sample: the reference's samples from the same latent draws z, through couplings and permutations", forbid=FORBID)
def flow_sample(t: Trial) -> None:
    layers = random_flow(t.rng, 4, 3)
    z = t.rng.standard_normal((6, 4))
    judge_sample(t, z, layers, f"flow_sample(layers {describe_flow(layers)}, N(0, I_4), z of shape {z.shape})")


@check("flow_sample_contract", "flow_sample: no layers (x = z), a permutation alone; ValueError for z not (N, base.dim) and bad permutations", forbid=FORBID)
def flow_sample_contract(t: Trial) -> None:
    z = t.rng.standard_normal((4, 3))
    judge_sample(t, z, [], f"flow_sample([], N(0, I_3), z of shape {z.shape}) (no layers: x = z)")
    perms = [Perm(random_perm(t.rng, 3))]
    judge_sample(t, z, perms, f"flow_sample({describe_flow(perms)}, N(0, I_3), z of shape {z.shape})")
    for bad, bad_z, why in (([], z[:, :2], "z has 2 features, base.dim is 3"), ([], z[0], "z has shape (3,), not (N, 3)"), ([Perm(np.array([1, 1, 0]))], z, "the permutation [1, 1, 0] is not one")):
        p = t.program()
        expect_value_error(t, why, p, p.call("flow_sample", remote(t, p, bad), p.component("standard_normal", np.array(3)), t.tensor(bad_z)))


# ---- behaviour: training a flow with the student's log-density ----------------------------------------------------

COUPLINGS, STEPS, LR, PARITY = 4, 40, 0.06, 3  # a 2-D flow of 4 couplings trained for 40 full-batch Adam steps
MARGIN = 0.5  # nats the held-out log-likelihood must gain: the reference gains 0.73 or more (40 seeds: mean 0.99, sd 0.16)
BAND = 0.5  # nats around the reference's final held-out log-likelihood: about 4 sd of its spread over seeds (sd 0.12)
WEIGHTS = ("w1", "b1", "w2", "b2")


def two_moons(rng: np.random.Generator, n: int) -> np.ndarray:
    """n points of two interleaved half circles with noise 0.1, centred and scaled to standard deviations of about
    1/2: denser than the base N(0, I), so a flow that learns gains about a nat of log-likelihood."""
    angle, upper = rng.uniform(0.0, np.pi, n), rng.integers(0, 2, n) == 1
    x = np.where(upper[:, None], np.stack([np.cos(angle), np.sin(angle)], 1), np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], 1))
    return (x + rng.normal(0.0, 0.1, x.shape) - [0.5, 0.25]) / [1.74, 1.0]


def initial_weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Nets whose outputs start small (w2 ~ N(0, 0.1^2), b2 = 0): the flow starts near the identity."""
    params = {}
    for layer in range(COUPLINGS):
        for name in ("scale", "shift"):
            shapes = {"w1": (HIDDEN, 2), "b1": (HIDDEN,), "w2": (2, HIDDEN), "b2": (2,)}
            scales = {"w1": 1.0, "b1": 0.5, "w2": 0.1, "b2": 0.0}
            params.update({f"{layer}.{name}.{w}": rng.normal(0.0, scales[w], shapes[w]) for w in WEIGHTS})
    return params


def training_flow(params: dict[str, Any]) -> list[Layer]:
    """Couplings with masks [1, 0], [0, 1], ... whose nets are params' entries (arrays, or tensors to train)."""
    masks = (np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    return [Coupling(masks[layer % 2], *(tuple(params[f"{layer}.{name}.{w}"] for w in WEIGHTS) for name in ("scale", "shift"))) for layer in range(COUPLINGS)]


def held_out(x: np.ndarray, params: dict[str, np.ndarray]) -> float:
    """The mean held-out log-likelihood at params, by the grader-side flow (the reference's formula: a student
    bundle's recorded reference knows nothing of a student's weights)."""
    return float(no_grad(log_prob, tensor(x), local(training_flow(params)), 2).mean())


def log_prob_and_grads(log_p: Callable[..., torch.Tensor], x: np.ndarray, params: dict[str, np.ndarray]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """log_p(x, layers, base) at params, and the gradient of the mean negative log-likelihood with respect to them."""
    weights = {k: tensor(v).requires_grad_() for k, v in params.items()}
    value = log_p(tensor(x), local(training_flow(weights)), base(2))
    upstream = torch.full((len(x),), -1.0 / len(x), dtype=torch.float64)  # d(mean negative log-likelihood)/d(log p)
    return value.detach(), dict(zip(weights, torch.autograd.grad(value, list(weights.values()), upstream)))


def reference_run(x: np.ndarray, test: np.ndarray, init: dict[str, np.ndarray]) -> tuple[list[dict[str, np.ndarray]], list[float]]:
    """The reference's trajectory by the grader-side flow: the parameters before each step, and the held-out
    log-likelihood every 5 steps and at the end."""
    adam, path, curve = Adam(init, lr=LR), [init], []
    for step in range(STEPS + 1):
        if step % 5 == 0 or step == STEPS:
            curve.append(held_out(test, path[-1]))
        if step < STEPS:
            path.append(adam.step({k: g.numpy() for k, g in log_prob_and_grads(lambda *a: log_prob(a[0], a[1], 2), x, path[-1])[1].items()}))
    return path, curve


@check("flow_training", f"trains a 2-D flow of {COUPLINGS} couplings on two moons with your flow_log_prob ({STEPS} Adam steps): the first {PARITY} log-densities and gradients are the reference's, the held-out log-likelihood gains >= {MARGIN} nats and ends within {BAND} of the reference's", forbid=FORBID)
def flow_training(t: Trial) -> None:
    data = two_moons(t.rng, 256)
    x, test = data[:128], data[128:]
    init = initial_weights(t.rng)
    path, curve = reference_run(x, test, init)
    upstream = np.full(len(x), -1.0 / len(x))
    adam, params, yours = Adam(init, lr=LR), init, []
    for step in range(STEPS):
        if step % 5 == 0:
            yours.append(held_out(test, params))
        sent = path[step] if step < PARITY else params  # parity: your answers at the reference's parameters
        p = t.program()
        weights = {k: t.tensor(v, grad=True) for k, v in sent.items()}
        layers, xt = remote(t, p, training_flow(weights)), t.tensor(x)
        out = p.call("flow_log_prob", xt, layers, p.component("standard_normal", np.array(2)))
        value, got = p.run(out, p.grad(out, list(weights.values()), upstream))
        what = f"step {step + 1} of {STEPS}: flow_log_prob(x of shape {x.shape}, the flow being trained, N(0, I_2))"
        if got is None:
            t.fail(f"{what}: returned {describe(value)}, not a tensor with an autograd graph back to the nets' weights; the check trains them with the gradient of your log-density")
        if step < PARITY:
            want, grads = log_prob_and_grads(t.ref.flow_log_prob, x, path[step])
            t.close(value, want, what=what, variants=log_prob_variants(x, local(training_flow(path[step])), 2) if step == 0 else [])
            for (name, grad), g in zip(grads.items(), got):
                t.close(g, grad, what=f"{what}: the gradient of the mean negative log-likelihood with respect to {name} (autograd through your log-density)")
        params = adam.step(dict(zip(weights, (np.asarray(g) for g in got))))
    yours.append(held_out(test, params))
    steps = [*range(0, STEPS, 5), STEPS]
    t.figure(plots.curves(title=f"held-out log-likelihood (nats per point) while training, Adam lr {LR}", x_label="step", y_label="mean log p(x)", series={"reference": (steps, curve), "yours": (steps, yours)}))
    flow = local(training_flow(params))
    points, extent = density_grid(data)
    samples = no_grad(stack, tensor(t.rng.standard_normal((256, 2))), flow, inverse=True)[0].numpy()
    density = np.exp(no_grad(log_prob, tensor(points), flow, 2).numpy()).reshape(DENSITY_GRID, DENSITY_GRID)
    t.figure(plots.density(title="the density of the flow trained with your flow_log_prob, the data and samples from it", extent=extent, values=density, points={"data": data, "samples": samples}))
    setting = f"two moons ({len(x)} training, {len(test)} held-out points), {COUPLINGS} couplings, Adam lr {LR}, {STEPS} steps with your log-densities and gradients"
    if not yours[-1] - yours[0] >= MARGIN:
        t.fail(f"{setting}: the held-out log-likelihood went from {yours[0]:.4f} to {yours[-1]:.4f} nats per point; it must gain at least {MARGIN} (the reference's run goes from {curve[0]:.4f} to {curve[-1]:.4f})")
    if not abs(yours[-1] - curve[-1]) <= BAND:
        t.fail(f"{setting}: the final held-out log-likelihood is {yours[-1]:.4f} nats per point, the reference's run ends at {curve[-1]:.4f}; they must agree within {BAND} (about 4 standard deviations of the reference's over seeds)")


DENSITY_GRID = 60


def density_grid(data: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Grid points (DENSITY_GRID^2, 2), row-major from y_lo, over the data's box with a margin; and its extent."""
    lo, hi = data.min(axis=0) - 0.3, data.max(axis=0) + 0.3
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], DENSITY_GRID), np.linspace(lo[1], hi[1], DENSITY_GRID))
    return np.stack([gx.ravel(), gy.ravel()], axis=1), (lo[0], hi[0], lo[1], hi[1])


# ---- the planar flow ---------------------------------------------------------------------------------------------


def planar(z: torch.Tensor, w: torch.Tensor, u: torch.Tensor, b: torch.Tensor, mistake: Mistake | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """planar_flow on the grader's side, with `mistake` made in it."""
    wu = w @ u
    u_hat = u if mistake is PLANAR_NO_U_HAT else u + (torch.nn.functional.softplus(wu) - 1 - wu) * w / (w @ w)
    h = torch.tanh(z @ w + b)
    logdet = torch.log(torch.abs(1 + (1 - h**2) * (w @ u_hat)))
    return z + torch.outer(h, u_hat), -logdet if mistake is LOGDET_SIGN else logdet


def planar_case(rng: np.random.Generator, n: int, d: int, fold: bool) -> tuple[np.ndarray, ...]:
    """z (n, d), w, u (d,) and b (0-d), with w . u in (-4, -1.5) when `fold` (u itself folds space over), else in
    (-0.5, 2): away from -0.541, the one value of w . u for which u_hat = u."""
    w, u = rng.normal(0.0, 1.0, d), rng.normal(0.0, 1.0, d)
    u = u + (rng.uniform(-4.0, -1.5) if fold else rng.uniform(-0.5, 2.0)) * w / (w @ w) - (w @ u) * w / (w @ w)
    return rng.normal(0.0, 1.5, (n, d)), w, u, np.array(rng.normal(0.0, 0.5))


def planar_what(z: np.ndarray, w: np.ndarray, u: np.ndarray, b: np.ndarray) -> str:
    return f"planar_flow(z of shape {z.shape}, w, u, b = {float(b):.3g}) with w . u = {w @ u:.3g}"


def judge_planar(t: Trial, z: np.ndarray, w: np.ndarray, u: np.ndarray, b: np.ndarray, what: str, got: Any = None) -> None:
    """planar_flow against the reference (on `got` when the check has it already), naming the known mistakes."""
    args = [tensor(a) for a in (z, w, u, b)]
    if got is None:
        got = t.call("planar_flow", *(t.tensor(a) for a in (z, w, u, b)))
    variants = [(m, no_grad(planar, *args, mistake=m)) for m in (PLANAR_NO_U_HAT, LOGDET_SIGN)]
    judge_pair(t, got, t.ref.planar_flow(*args), what, ("x (the first value)", "logdet = ln|det dx/dz|"), variants)


@check("planar_flow", "planar_flow: x and the log-det against the reference, for w . u above -1 and below it (where u_hat matters most)")
def planar_flow(t: Trial) -> None:
    for fold in (False, True):
        case = planar_case(t.rng, 6, 3, fold)
        judge_planar(t, *case, planar_what(*case))


@check("planar_flow_invertible", "planar_flow with w . u < -1: det dx/dz of your x (autograd) is positive everywhere, the hyperplane w . z + b = 0 included, and your log-det is ln of it")
def planar_flow_invertible(t: Trial) -> None:
    z, w, u, b = planar_case(t.rng, 6, 3, fold=True)
    z[:3] -= np.outer(z[:3] @ w + b, w) / (w @ w)  # onto w . z + b = 0, where tanh' = 1 and the determinant is smallest
    what = planar_what(z, w, u, b) + ", rows 0-2 on the hyperplane w . z + b = 0"
    got = t.call("planar_flow", t.tensor(z), t.tensor(w), t.tensor(u), t.tensor(b))
    t.same_kind(got, t.ref.planar_flow(*(tensor(a) for a in (z, w, u, b))), what=what)
    jac = jacobian(t, "planar_flow", z, lambda p: [t.tensor(w), t.tensor(u), t.tensor(b)])
    sign, _ = np.linalg.slogdet(jac)
    try:
        if not np.all(sign > 0):
            n = int(np.argmin(sign > 0))
            t.fail(f"{what}: det dx/dz (of the autograd Jacobian of your x) is {np.linalg.det(jac[n]):.4g} at row {n}: the map folds space over there and is not invertible; it is invertible only when w . u_hat >= -1")
        judge_slogdet(t, got[1], jac, what, [])
    except CheckFailed as failure:
        if failure.mistake is None:
            name_mistake(lambda: judge_planar(t, z, w, u, b, what, got))
        raise
    judge_planar(t, z, w, u, b, what, got)


@check("planar_flow_contract", "planar_flow: D = 1 with |w| < 1, a batch of one; ValueError for z not (N, D), w or u not (D,), b not 0-d, w = 0")
def planar_flow_contract(t: Trial) -> None:
    z, w, u, b = planar_case(t.rng, 4, 1, fold=True)
    w, u = 0.5 * np.sign(w), u * abs(w) / 0.5  # |w| = 0.5 (any w != 0 is allowed), w . u kept
    judge_planar(t, z, w, u, b, planar_what(z, w, u, b) + " (D = 1, |w| = 0.5)")
    z, w, u, b = planar_case(t.rng, 3, 3, fold=False)
    judge_planar(t, z[:1], w, u, b, planar_what(z[:1], w, u, b) + " (a batch of one)")
    for args, why in (
        ((z[0], w, u, b), "z has shape (3,), not (N, D)"),
        ((z, w[:2], u, b), "w has 2 entries for D = 3"),
        ((z, w, u[None], b), "u has shape (1, 3), not (D,)"),
        ((z, w, u, b[None]), "b has shape (1,), not 0-d"),
        ((z, np.zeros(3), u, b), "w is all zeros"),
    ):
        p = t.program()
        expect_value_error(t, why, p, p.call("planar_flow", *(t.tensor(a) for a in args)))
