"""Normalizing flows (torch): RealNVP's affine coupling layer and its inverse, a stack of couplings and permutations,
its log-density by the change of variables, sampling by running the stack backwards, and a planar flow with the
condition that keeps it invertible.

A flow is an invertible, differentiable map f from data x to a latent z = f(x) whose distribution, the base p_z, is
simple (here N(0, I)). The layers here run in the normalizing direction, data to latent (RealNVP's f: x -> z), so
the density of the data follows from the change of variables

    log p_x(x) = log p_z(f(x)) + log |det df/dx|,       f = f_L o ... o f_1,
    log |det df/dx| = sum_l log |det df_l/dh_{l-1}|      (h_0 = x, h_l = f_l(h_{l-1}), z = h_L),

a sum of the layers' log-determinants, each at its own input. Written from the generative side, x = g(z) with
g = f^-1, the same identity reads log p_x(x) = log p_z(z) - log |det dg/dz|: the inverse's log-determinant is minus
the forward's. Sampling draws z from the base and computes x = f^-1(z), the layers' inverses in reverse order.

An affine coupling layer splits the D features with a binary mask m (1 = the half passed through unchanged and
conditioned on, 0 = the half transformed). With x_a = m * x (the kept half, zeros elsewhere),

    s = tanh(scale_net(x_a)),   t = shift_net(x_a),
    y = x_a + (1 - m) * (x * exp(s) + t),

so the kept features are copied and each transformed feature is scaled by exp(s) (between 1/e and e: the tanh keeps
it tame) and shifted by t, where s and t depend on the kept half only. The Jacobian dy/dx is therefore triangular
(after ordering the kept features first), with 1 on the diagonal for the kept features and exp(s_i) for the
transformed ones:

    log |det dy/dx| = sum_i (1 - m_i) s_i,   one number per example.

The inverse needs no inversion of the nets: the kept half of y is x_a itself, so s and t can be recomputed from it,

    x = y_a + (1 - m) * (y - t) * exp(-s),   log |det dx/dy| = -sum_i (1 - m_i) s_i.

A coupling leaves half the features alone, so a stack alternates the mask (or permutes the features between
couplings) to transform every feature.

A planar flow (Rezende and Mohamed, 2015) is the other classic layer, and runs the other way, latent to data:
x = z + u_hat tanh(w . z + b) bends space along one direction. Its Jacobian I + u_hat psi^T is a rank-one update of
the identity, so its determinant is 1 + u_hat . psi (the matrix determinant lemma), and the layer is invertible
exactly when w . u_hat >= -1; it has no closed-form inverse, so it serves sampling and variational posteriors, where
log p(x) = log p_z(z) - log |det dx/dz| is needed only at the x it produced.

Tensors are batched: x of shape (N, D), one example per row; log-determinants and log-densities have shape (N,).
Everything stays in torch, in the dtype and on the device of the input, so autograd differentiates through it (a
check trains a flow with the gradient of your log-density with respect to the nets' weights).

Not allowed: torch.distributions in flow_log_prob and flow_sample (the base distribution is an argument: use its
log_prob). Arguments are read-only: no function changes a tensor it is given.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

__all__ = ["affine_coupling_forward", "affine_coupling_inverse", "flow_forward", "flow_log_prob", "flow_sample", "planar_flow"]

Net = Callable[[torch.Tensor], torch.Tensor]
_COUPLING_KEYS = {"mask", "scale", "shift"}


def _check_coupling(x: torch.Tensor, mask: torch.Tensor, func: str, name: str) -> None:
    if x.dim() != 2:
        raise ValueError(f"{func}: {name} must have shape (N, D), got {tuple(x.shape)}")
    _, d = x.shape
    if mask.shape != (d,):
        raise ValueError(f"{func}: mask must have shape (D,) = ({d},), got {tuple(mask.shape)}")
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError(f"{func}: mask must hold only 0s and 1s, got {mask.tolist()}")


def affine_coupling_forward(x: torch.Tensor, mask: torch.Tensor, scale_net: Net, shift_net: Net) -> tuple[torch.Tensor, torch.Tensor]:
    """RealNVP's affine coupling layer, data to latent: y = x_a + (1 - m) * (x * exp(s) + t) and log |det dy/dx|.

    With x_a = mask * x, s = tanh(scale_net(x_a)) and t = shift_net(x_a): the features where mask = 1 pass through
    unchanged (and are all the nets see), the others are scaled by exp(s) and shifted by t. The log-determinant of
    the Jacobian is the sum of s over the transformed features, per example: sum_i (1 - m_i) s_i. It is the sum of
    s = tanh(...), the log of the scale exp(s), not of the nets' raw output.

    Args:
        x: shape (N, D), a floating dtype, any device; autograd flows through it and through the nets.
        mask: shape (D,), only 0s and 1s, x's dtype and device: 1 = kept and conditioned on, 0 = transformed.
        scale_net, shift_net: callables from (N, D) to (N, D) (the checks pass small trusted networks); call each
            once, on mask * x.

    Returns:
        (y, logdet): y of shape (N, D) and logdet = log |det dy/dx| of shape (N,), x's dtype and device.

    Raises:
        ValueError: x is not 2-D; mask is not of shape (D,); mask holds a value other than 0 and 1.

    Example:
        >>> x, mask = torch.tensor([[1.0, 2.0]], dtype=torch.float64), torch.tensor([1.0, 0.0], dtype=torch.float64)
        >>> swap = lambda h: h.flip(-1)  # a "net" that moves the kept feature onto the transformed one
        >>> affine_coupling_forward(x, mask, swap, swap)  # s = tanh(1), t = 1: y_1 = 2 e^tanh(1) + 1
        (tensor([[1.0000, 5.2834]], dtype=torch.float64), tensor([0.7616], dtype=torch.float64))
    """
    _check_coupling(x, mask, "affine_coupling_forward", "x")
    keep, change = mask, 1 - mask  # mask = 1: passed through and conditioned on
    x_keep = keep * x
    raw, t = scale_net(x_keep), shift_net(x_keep)
    s = torch.tanh(raw)
    y = x_keep + change * (x * torch.exp(s) + t)
    logdet = s @ change  # sum_i (1 - m_i) s_i, per example
    return y, logdet


def affine_coupling_inverse(y: torch.Tensor, mask: torch.Tensor, scale_net: Net, shift_net: Net) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse of affine_coupling_forward, latent to data: x = y_a + (1 - m) * (y - t) * exp(-s), log |det dx/dy|.

    The kept half of y is the kept half of x, so s = tanh(scale_net(y_a)) and t = shift_net(y_a) with y_a = mask * y
    are the forward's own s and t: the transformed features are un-shifted, then divided by exp(s). The
    log-determinant is minus the forward's: -sum_i (1 - m_i) s_i, per example.

    Args:
        y: shape (N, D), a floating dtype, any device.
        mask, scale_net, shift_net: as for affine_coupling_forward (the same ones invert that layer).

    Returns:
        (x, logdet): x of shape (N, D) with affine_coupling_forward(x, ...)[0] == y, and logdet = log |det dx/dy| of
        shape (N,), y's dtype and device.

    Raises:
        ValueError: y is not 2-D; mask is not of shape (D,); mask holds a value other than 0 and 1.

    Example:
        >>> y, mask = torch.tensor([[1.0, 5.2834]], dtype=torch.float64), torch.tensor([1.0, 0.0], dtype=torch.float64)
        >>> swap = lambda h: h.flip(-1)
        >>> affine_coupling_inverse(y, mask, swap, swap)  # (5.2834 - 1) / e^tanh(1) = 2
        (tensor([[1.0000, 2.0000]], dtype=torch.float64), tensor([-0.7616], dtype=torch.float64))
    """
    _check_coupling(y, mask, "affine_coupling_inverse", "y")
    keep, change = mask, 1 - mask  # as in the forward: y's kept half is x's
    y_keep = keep * y
    raw, t = scale_net(y_keep), shift_net(y_keep)
    s = torch.tanh(raw)
    x = y_keep + change * (y - t) * torch.exp(-s)
    logdet = -s @ change
    return x, logdet


def _permutation(layer: dict[str, Any], d: int, index: int, func: str) -> torch.Tensor:
    perm = layer["perm"]
    if perm.dtype not in (torch.int32, torch.int64) or tuple(perm.shape) != (d,) or not torch.equal(perm.sort().values, torch.arange(d, device=perm.device, dtype=perm.dtype)):
        raise ValueError(f"{func}: layers[{index}]['perm'] must be a permutation of 0 .. {d - 1} (an integer tensor of shape ({d},)), got {perm.tolist()}")
    return perm


def _kind(layer: Any, index: int, func: str) -> str:
    if isinstance(layer, dict) and set(layer) == _COUPLING_KEYS:
        return "coupling"
    if isinstance(layer, dict) and set(layer) == {"perm"}:
        return "perm"
    keys = sorted(layer) if isinstance(layer, dict) else type(layer).__name__
    raise ValueError(f"{func}: layers[{index}] must be a dict with keys 'mask', 'scale', 'shift' or with the key 'perm', got {keys}")


def flow_forward(x: torch.Tensor, layers: list[dict[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Run a stack of layers, data to latent: z = f_L(... f_1(x)) and the total log |det dz/dx| = sum of the layers'.

    A layer is a dict: {"mask": m, "scale": scale_net, "shift": shift_net} is an affine coupling
    (affine_coupling_forward), {"perm": p} reorders the features, h -> h[:, p] (feature i of the output is feature
    p[i] of the input: a volume-preserving map, log-determinant 0). Layers apply in list order; each coupling's
    log-determinant is taken at its own input, and they add up.

    Args:
        x: shape (N, D), a floating dtype, any device.
        layers: a list of such dicts (possibly empty: the identity); a mask has shape (D,) and x's dtype and device,
            a permutation is an integer tensor of shape (D,) holding each of 0 .. D - 1 once.

    Returns:
        (z, logdet): z of shape (N, D) and logdet of shape (N,) (zeros for an empty stack), x's dtype and device.

    Raises:
        ValueError: a layer is not one of the two kinds of dict; a permutation is not a permutation of 0 .. D - 1;
            x or a mask is invalid (as in affine_coupling_forward).

    Example:
        >>> x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
        >>> swap = lambda h: h.flip(-1)
        >>> coupling = {"mask": torch.tensor([1.0, 0.0], dtype=torch.float64), "scale": swap, "shift": swap}
        >>> flow_forward(x, [coupling, {"perm": torch.tensor([1, 0])}])  # the coupling, then the features swapped
        (tensor([[5.2834, 1.0000]], dtype=torch.float64), tensor([0.7616], dtype=torch.float64))
    """
    if x.dim() != 2:
        raise ValueError(f"flow_forward: x must have shape (N, D), got {tuple(x.shape)}")
    n, d = x.shape
    z, total = x, torch.zeros(n, dtype=x.dtype, device=x.device)
    for index, layer in enumerate(layers):
        if _kind(layer, index, "flow_forward") == "perm":
            z = z[:, _permutation(layer, d, index, "flow_forward")]
        else:
            z, logdet = affine_coupling_forward(z, layer["mask"], layer["scale"], layer["shift"])
            total = total + logdet
    return z, total


def flow_log_prob(x: torch.Tensor, layers: list[dict[str, Any]], base: Any) -> torch.Tensor:
    """log p_x(x) = log p_z(f(x)) + log |det df/dx|, per example, with f the stack `layers` (see flow_forward).

    The base's log-density is taken at the latent z = f(x), and the flow's log-determinant is added: a layer that
    expands volume around x (|det| > 1) concentrates the base's mass, so it raises the density of x. Subtracting
    the log-determinant instead is the formula for the other direction (a generative map z -> x), not for this one.

    Not allowed: torch.distributions (the base is given: call base.log_prob).

    Args:
        x: shape (N, D), a floating dtype, any device.
        layers: as for flow_forward.
        base: the latent distribution, with base.log_prob(z) of shape (N,) for z of shape (N, D) (summed over the
            features) and base.dim = D; the checks pass a trusted N(0, I_D).

    Returns:
        A tensor of shape (N,), x's dtype and device; autograd reaches the nets' weights through it.

    Raises:
        ValueError: as flow_forward; x has another number of features than the base (base.log_prob raises it).

    Example:
        >>> normal = torch.distributions.Independent(torch.distributions.Normal(torch.zeros(1, dtype=torch.float64), 1.0), 1)
        >>> s = torch.tensor(2.5).log().atanh().item()  # tanh(s) = ln 2.5: the layer is z = 2.5 x
        >>> scale = lambda h: torch.full_like(h, s)
        >>> layer = {"mask": torch.zeros(1, dtype=torch.float64), "scale": scale, "shift": torch.zeros_like}
        >>> flow_log_prob(torch.tensor([[0.16]], dtype=torch.float64), [layer], normal)  # log N(0.4) + ln 2.5
        tensor([-0.0826], dtype=torch.float64)
    """
    z, logdet = flow_forward(x, layers)
    return base.log_prob(z) + logdet


def flow_sample(layers: list[dict[str, Any]], base: Any, z: torch.Tensor) -> torch.Tensor:
    """Samples of the flow: x = f^-1(z) for latent draws z of the base, the layers inverted in reverse order.

    A coupling is inverted by affine_coupling_inverse; a permutation {"perm": p} by the inverse permutation
    (h[:, p] = z, i.e. h = z[:, argsort(p)]). Given the same z, the samples are the same: the randomness is the
    caller's (z = torch.randn(N, D) for fresh samples). flow_forward(flow_sample(layers, base, z), layers)[0] == z.

    Not allowed: torch.distributions.

    Args:
        layers: as for flow_forward.
        base: the latent distribution (see flow_log_prob); z must have its dimension, base.dim.
        z: draws from the base, shape (N, base.dim), a floating dtype, any device.

    Returns:
        x of shape (N, D), z's dtype and device.

    Raises:
        ValueError: z is not 2-D or its number of features is not base.dim; a layer is invalid (as in flow_forward).

    Example:
        >>> swap = lambda h: h.flip(-1)
        >>> coupling = {"mask": torch.tensor([1.0, 0.0], dtype=torch.float64), "scale": swap, "shift": swap}
        >>> base = torch.distributions.Independent(torch.distributions.Normal(torch.zeros(2, dtype=torch.float64), 1.0), 1)
        >>> base.dim = 2  # the checks' base has it
        >>> flow_sample([coupling, {"perm": torch.tensor([1, 0])}], base, torch.tensor([[5.2834, 1.0]], dtype=torch.float64))
        tensor([[1.0000, 2.0000]], dtype=torch.float64)
    """
    if z.shape[1:] != (base.dim,):
        raise ValueError(f"flow_sample: z must have shape (N, base.dim) = (N, {base.dim}), got {tuple(z.shape)}")
    x = z
    for index in range(len(layers) - 1, -1, -1):
        layer = layers[index]
        if _kind(layer, index, "flow_sample") == "perm":
            x = x[:, torch.argsort(_permutation(layer, base.dim, index, "flow_sample"))]
        else:
            x, _ = affine_coupling_inverse(x, layer["mask"], layer["scale"], layer["shift"])
    return x


def planar_flow(z: torch.Tensor, w: torch.Tensor, u: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A planar flow, latent to data: x = z + u_hat tanh(w . z + b), and log |det dx/dz| = ln |1 + u_hat . psi|.

    With h = tanh(w . z + b) per example, psi = (1 - h^2) w is the gradient of h, the Jacobian is I + u_hat psi^T,
    and its determinant is 1 + u_hat . psi = 1 + (1 - h^2) (w . u_hat). Since 0 < 1 - h^2 <= 1, the determinant
    stays positive for every z, and the map is invertible, exactly when w . u_hat >= -1. An unconstrained u is
    mapped to one that satisfies it (Rezende and Mohamed, 2015, appendix A):

        u_hat = u + (m(w . u) - w . u) w / |w|^2,   m(a) = -1 + softplus(a) = -1 + ln(1 + e^a),

    which changes u only along w and gives w . u_hat = m(w . u) > -1. Use u_hat, not u, everywhere: with
    w . u < -1 the map with u itself folds space over (its determinant changes sign where |w . z + b| is small).

    Args:
        z: shape (N, D), a floating dtype, any device.
        w, u: shape (D,), z's dtype and device; w != 0.
        b: a 0-d tensor, z's dtype and device.

    Returns:
        (x, logdet): x of shape (N, D) and logdet = ln |det dx/dz| of shape (N,), z's dtype and device.

    Raises:
        ValueError: z is not 2-D; w or u is not of shape (D,); b is not 0-d; w is all zeros (u_hat divides by |w|^2).

    Example:
        >>> z = torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
        >>> w, u = torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor([-2.0, 1.0], dtype=torch.float64)
        >>> planar_flow(z, w, u, torch.tensor(0.0, dtype=torch.float64))  # w . u = -2: u_hat = [m(-2), 1] = [-0.873, 1]
        (tensor([[0.0000, 0.0000],
                [0.3351, 2.7616]], dtype=torch.float64), tensor([-2.0641, -0.4568], dtype=torch.float64))
    """
    if z.dim() != 2:
        raise ValueError(f"planar_flow: z must have shape (N, D), got {tuple(z.shape)}")
    _, d = z.shape
    if w.shape != (d,) or u.shape != (d,):
        raise ValueError(f"planar_flow: w and u must have shape (D,) = ({d},), got {tuple(w.shape)} and {tuple(u.shape)}")
    if b.dim() != 0:
        raise ValueError(f"planar_flow: b must be a 0-d tensor, got shape {tuple(b.shape)}")
    norm2 = (w * w).sum()
    if not bool(norm2 > 0):
        raise ValueError("planar_flow: w must not be all zeros")
    wu = (w * u).sum()
    u_hat = u + (F.softplus(wu) - 1 - wu) * w / norm2
    h = torch.tanh(z @ w + b)
    x = z + torch.outer(h, u_hat)
    logdet = torch.log(torch.abs(1 + (1 - h**2) * (w * u_hat).sum()))
    return x, logdet
