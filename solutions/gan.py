"""Generative adversarial networks (torch): the discriminator's and the generator's losses from logits (saturating and
non-saturating), the least-squares losses, WGAN-GP's gradient penalty, the losses of one alternating training step,
and the theory of the game on 1-D densities: the optimal discriminator, the value of the game by quadrature, and the
Jensen-Shannon divergence it measures.

A generator G maps noise z ~ p_z to samples G(z), whose distribution is p_g; a discriminator D(x) in (0, 1) is the
probability that x is real (from p_data) rather than generated. They play the minimax game (Goodfellow et al., 2014)

    min_G max_D V(D, G),     V(D, G) = E_{x ~ p_data}[ log D(x) ] + E_{x ~ p_g}[ log(1 - D(x)) ].

For a fixed G, V is maximised pointwise by the optimal discriminator

    D*(x) = p_data(x) / (p_data(x) + p_g(x)),

and the value at D* is

    C(G) = V(D*, G) = -log 4 + 2 JSD(p_data || p_g),
    JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m),   m = (p + q) / 2,

so C(G) >= -log 4, with equality exactly when p_g = p_data (the JSD is 0 only then): -log 4 is the value at the
game's solution, not the value for every G.

A discriminator network outputs a logit l (any real number) and D = sigmoid(l). Its losses are computed from the
logits, never from probabilities: with log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l), both
exact for every l, the discriminator minimises

    d_loss = -mean_real log D(x) - mean_fake log(1 - D(G(z))) = mean softplus(-l_real) + mean softplus(l_fake),

(the SUM of the two batch means: -V estimated on a batch). sigmoid(l) rounds to exactly 0 or 1 for |l| > 37 in
float64, so log(sigmoid(l)) is log 0 = -inf where a logit is large, and adding 1e-8 inside the log caps the loss at
18.4 where it should be 1000 (l = -1e3). The generator minimises either

    saturating:      mean log(1 - D(G(z))) = -mean softplus(l_fake)       (the minimax game's own term), or
    non-saturating:  -mean log D(G(z))     =  mean softplus(-l_fake)      (the one to use).

Both push D(G(z)) towards 1, but early in training D rejects the fakes confidently (l_fake << 0), where the
saturating loss has almost no gradient: at l_fake = -6 its derivative is -sigmoid(-6) = -0.0025, against
-sigmoid(6) = -0.998 for the non-saturating loss. The non-saturating loss keeps G learning.

Least-squares GANs (Mao et al., 2017, with a = 0, b = c = 1) replace the log-loss with squared errors on the
discriminator's raw outputs (no sigmoid). WGAN-GP (Gulrajani et al., 2017) keeps a critic (a real-valued score, no
sigmoid) 1-Lipschitz by penalising (||grad_x critic(x_hat)||_2 - 1)^2 at points x_hat between real and fake
samples: a gradient of a gradient, which autograd computes only when the inner gradient keeps its graph
(create_graph=True).

Conventions: everything is in nats (the natural logarithm). Tensors are torch tensors of a floating dtype on any
device, and each result has their dtype and device; autograd differentiates through every function. A loss is
a 0-d tensor, a mean over its batch. The densities of the theory functions are values on a 1-D grid, and their
integrals are taken by the trapezoid rule on that grid (not necessarily evenly spaced). Their logarithms are taken
as differences of logs with 0 log 0 = 0 (torch.xlogy), so points where a density is 0 (or both are, far in the tails
where they underflow) add 0 rather than NaN.

Each exercise is its formula: library code that computes the whole of it is not allowed (the checks refuse it by
name, and each function's docstring lists what it may not call). torch.nn.functional.softplus,
torch.nn.functional.logsigmoid, torch.sigmoid, torch.xlogy, torch.trapezoid and torch.autograd.grad are fine.

Arguments are read-only: no function changes a tensor it is given (it returns new ones).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

__all__ = [
    "discriminator_loss",
    "generator_loss",
    "gan_losses",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "gradient_penalty",
    "optimal_discriminator",
    "gan_value",
    "jensen_shannon",
]

Net = Callable[[torch.Tensor], torch.Tensor]


def _batches(func: str, **batches: torch.Tensor) -> None:
    for name, values in batches.items():
        if values.numel() == 0:
            raise ValueError(f"{func}: {name} must hold at least one value (a loss is a mean over its batch), got shape {tuple(values.shape)}")


def _nonnegative(func: str, **densities: torch.Tensor) -> None:
    for name, p in densities.items():
        if torch.any(p < 0):
            raise ValueError(f"{func}: {name} is a density, so >= 0 everywhere; got a minimum of {p.min().item():g}")


def _on_grid(func: str, grid: torch.Tensor, **values: torch.Tensor) -> None:
    """Check a quadrature's grid (n >= 2 points, strictly increasing) and that each of `values` is given on it."""
    if grid.dim() != 1 or len(grid) < 2:
        raise ValueError(f"{func}: grid must have shape (n,) with n >= 2 points, got shape {tuple(grid.shape)}")
    if torch.any(grid[1:] <= grid[:-1]):
        raise ValueError(f"{func}: grid must be strictly increasing (every interval > 0), got repeated or decreasing points")
    for name, v in values.items():
        if v.shape != grid.shape:
            raise ValueError(f"{func}: {name} must be given on the grid, shape {tuple(grid.shape)}; got shape {tuple(v.shape)}")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss from its logits: -mean log D(x) - mean log(1 - D(G(z))), with D = sigmoid(logit),

        d_loss = mean softplus(-real_logits) + mean softplus(fake_logits),

    the sum of the two batch means (binary cross-entropy with label 1 for the real batch and 0 for the fake one;
    the batches may differ in size). log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l) are
    exact for every l (F.logsigmoid and F.softplus): the loss is finite and right at logits of +-1e3, where
    sigmoid rounds to 0 or 1. Its gradient is (sigmoid(l) - 1) / n_real for a real logit and sigmoid(l) / n_fake
    for a fake one.

    Not allowed (they compute the whole loss): torch.nn.functional.binary_cross_entropy_with_logits (and
    nn.BCEWithLogitsLoss), torch.nn.functional.binary_cross_entropy.

    Args:
        real_logits: D's logits on a batch of real data, any shape with at least one element (one per example).
        fake_logits: D's logits on a batch of generated data, any shape with at least one element.

    Returns:
        A 0-d tensor with the dtype and device of the logits.

    Raises:
        ValueError: either batch is empty.

    Example:
        >>> real, fake = torch.tensor([2.0, 0.0], dtype=torch.float64), torch.tensor([-1.0], dtype=torch.float64)
        >>> discriminator_loss(real, fake)  # (softplus(-2) + ln 2) / 2 + softplus(-1)
        tensor(0.7233, dtype=torch.float64)
        >>> discriminator_loss(torch.tensor([-1e3], dtype=torch.float64), torch.tensor([-1e3], dtype=torch.float64))
        tensor(1000., dtype=torch.float64)
    """
    _batches("discriminator_loss", real_logits=real_logits, fake_logits=fake_logits)
    return -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """The generator's loss from the discriminator's logits on a generated batch, D = sigmoid(logit):

        non-saturating (saturating=False, the default):  -mean log D(G(z)) = mean softplus(-fake_logits),
        saturating (saturating=True):                    mean log(1 - D(G(z))) = -mean softplus(fake_logits).

    The saturating loss is the generator's term of the minimax value V; the non-saturating one has the same aim
    (D(G(z)) -> 1) and a useful gradient where D rejects the fakes: d/dl of the saturating loss is -sigmoid(l)
    (-0.0025 at l = -6, a batch of one), of the non-saturating loss -sigmoid(-l) (-0.998 at l = -6). Computed from
    the logits (F.logsigmoid, F.softplus), both are exact at logits of +-1e3.

    Not allowed (they compute the whole loss): torch.nn.functional.binary_cross_entropy_with_logits (and
    nn.BCEWithLogitsLoss), torch.nn.functional.binary_cross_entropy.

    Args:
        fake_logits: D's logits on a batch of generated data, any shape with at least one element.
        saturating: False for the non-saturating loss, True for the saturating one.

    Returns:
        A 0-d tensor with the dtype and device of the logits.

    Raises:
        ValueError: the batch is empty.

    Example:
        >>> logits = torch.tensor([-6.0], dtype=torch.float64, requires_grad=True)
        >>> torch.autograd.grad(generator_loss(logits), logits)  # -sigmoid(6)
        (tensor([-0.9975], dtype=torch.float64),)
        >>> torch.autograd.grad(generator_loss(logits, saturating=True), logits)  # -sigmoid(-6): saturated
        (tensor([-0.0025], dtype=torch.float64),)
    """
    _batches("generator_loss", fake_logits=fake_logits)
    if saturating:
        return F.logsigmoid(-fake_logits).mean()
    return -F.logsigmoid(fake_logits).mean()


def gan_losses(generator: Net, discriminator: Net, real: torch.Tensor, z: torch.Tensor, saturating: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The two losses of one alternating training step: (d_loss, g_loss) on a real batch and a noise batch.

        fake = generator(z),
        d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach())),
        g_loss = generator_loss(discriminator(fake), saturating).

    The fake batch is detached in d_loss, so d_loss sends no gradient to the generator: D's step changes D only
    (an optimiser over both nets, or a G step whose gradients were not zeroed, would otherwise train G with D's
    objective, pushing its samples to look fake). In g_loss the fake batch keeps its graph: G learns through D.
    A training step then moves D along the gradient of d_loss, and G along the gradient of g_loss computed with
    the updated D (call gan_losses again with it).

    Args:
        generator: a callable from noise (m, k) to samples (m, d) (the checks pass a small trusted network).
        discriminator: a callable from samples (n, d) to logits (n, 1).
        real: a batch of real data, shape (n, d) with n >= 1.
        z: a batch of noise, shape (m, k) with m >= 1 (m need not be n).
        saturating: the generator's loss, as for generator_loss.

    Returns:
        (d_loss, g_loss), two 0-d tensors.

    Raises:
        ValueError: as discriminator_loss and generator_loss (an empty batch).

    Example:
        >>> shift = lambda z: z + 1.0  # a "generator" that moves the noise to 1
        >>> identity = lambda x: x     # a "discriminator" whose logit is x itself
        >>> real, z = torch.tensor([[2.0]], dtype=torch.float64), torch.tensor([[0.0]], dtype=torch.float64)
        >>> gan_losses(shift, identity, real, z)  # (softplus(-2) + softplus(1), softplus(-1))
        (tensor(1.4402, dtype=torch.float64), tensor(0.3133, dtype=torch.float64))
    """
    fake = generator(z)
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    return d_loss, generator_loss(discriminator(fake), saturating)


def lsgan_discriminator_loss(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """The least-squares discriminator loss (Mao et al., a = 0 for fake, b = 1 for real):

        0.5 mean (D(x) - 1)^2 + 0.5 mean D(G(z))^2,

    on the discriminator's raw outputs (no sigmoid: the squares replace the log-loss), the sum of the two batch
    means.

    Not allowed (it computes the whole loss): torch.nn.functional.mse_loss (and nn.MSELoss).

    Args:
        real_out: D's outputs on a real batch, any shape with at least one element.
        fake_out: D's outputs on a generated batch, any shape with at least one element.

    Returns:
        A 0-d tensor with the dtype and device of the outputs.

    Raises:
        ValueError: either batch is empty.

    Example:
        >>> lsgan_discriminator_loss(torch.tensor([1.5, 0.5], dtype=torch.float64), torch.tensor([0.5], dtype=torch.float64))
        tensor(0.2500, dtype=torch.float64)
    """
    _batches("lsgan_discriminator_loss", real_out=real_out, fake_out=fake_out)
    return 0.5 * ((real_out - 1) ** 2).mean() + 0.5 * (fake_out**2).mean()


def lsgan_generator_loss(fake_out: torch.Tensor) -> torch.Tensor:
    """The least-squares generator loss (Mao et al., c = 1): 0.5 mean (D(G(z)) - 1)^2, on D's raw outputs.

    Not allowed (it computes the whole loss): torch.nn.functional.mse_loss (and nn.MSELoss).

    Args:
        fake_out: D's outputs on a generated batch, any shape with at least one element.

    Returns:
        A 0-d tensor with the dtype and device of the outputs.

    Raises:
        ValueError: the batch is empty.

    Example:
        >>> lsgan_generator_loss(torch.tensor([0.5], dtype=torch.float64))
        tensor(0.1250, dtype=torch.float64)
    """
    _batches("lsgan_generator_loss", fake_out=fake_out)
    return 0.5 * ((fake_out - 1) ** 2).mean()


def gradient_penalty(critic: Net, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's gradient penalty: mean_i (||grad_x critic(x_hat_i)||_2 - 1)^2 at x_hat = alpha * real + (1 - alpha) * fake.

    Each x_hat_i lies on the segment between real_i and fake_i; the gradient is the critic's input gradient at
    x_hat_i, its Euclidean norm taken per sample (over the d features, not over the batch), and the penalty is
    centred at norm 1, the Lipschitz bound (not the norm itself, nor its square). No weight lambda: the caller
    multiplies by it (10 in the paper).

    The penalty is itself trained: it must be differentiable with respect to the critic's weights, a gradient of
    a gradient. Take the input gradient with torch.autograd.grad(..., create_graph=True) at an x_hat that requires
    grad; without create_graph, the penalty has no graph back to the critic and trains nothing. real and fake are
    data here: x_hat is detached from whatever produced them.

    Args:
        critic: a callable from (n, d) to scores (n, 1) (the checks pass a small trusted network whose weights
            they differentiate the penalty by).
        real, fake: shape (n, d) with n >= 1, the same shape.
        alpha: the interpolation weights, shape (n, 1) (one per pair), each in [0, 1].

    Returns:
        A 0-d tensor with the dtype and device of real; autograd reaches the critic's weights through it.

    Raises:
        ValueError: real is not 2-D or has no rows; fake's shape is not real's; alpha is not (n, 1); an alpha is
            outside [0, 1].

    Example:
        >>> w = torch.tensor([[3.0], [4.0]], dtype=torch.float64, requires_grad=True)
        >>> critic = lambda x: x @ w  # a linear critic: its input gradient is w, of norm 5, everywhere
        >>> real, fake = torch.zeros(2, 2, dtype=torch.float64), torch.ones(2, 2, dtype=torch.float64)
        >>> penalty = gradient_penalty(critic, real, fake, torch.tensor([[0.5], [1.0]], dtype=torch.float64))
        >>> penalty  # (5 - 1)^2
        tensor(16., dtype=torch.float64, grad_fn=<MeanBackward0>)
        >>> torch.autograd.grad(penalty, w)  # 2 (|w| - 1) w / |w|
        (tensor([[4.8000],
                [6.4000]], dtype=torch.float64),)
    """
    if real.dim() != 2 or real.shape[0] < 1:
        raise ValueError(f"gradient_penalty: real must have shape (n, d) with n >= 1, got {tuple(real.shape)}")
    if fake.shape != real.shape:
        raise ValueError(f"gradient_penalty: fake must have real's shape {tuple(real.shape)}, got {tuple(fake.shape)}")
    if alpha.shape != (real.shape[0], 1):
        raise ValueError(f"gradient_penalty: alpha must have shape (n, 1) = {(real.shape[0], 1)}, got {tuple(alpha.shape)}")
    if torch.any((alpha < 0) | (alpha > 1)):
        raise ValueError(f"gradient_penalty: alpha must lie in [0, 1] (x_hat on the segment from fake to real), got values from {alpha.min().item():g} to {alpha.max().item():g}")
    x_hat = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((torch.linalg.vector_norm(grad, dim=1) - 1) ** 2).mean()


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """The optimal discriminator for fixed densities: D*(x) = p_data(x) / (p_data(x) + p_g(x)), elementwise.

    It maximises p_data log D + p_g log(1 - D) at every x, so it maximises the value V over all discriminators.
    Where both densities are 0 every D is optimal; D* is defined as 1/2 there (no 0/0). It is 1 where only
    p_data is positive and 0 where only p_g is.

    Args:
        p_data, p_g: density values, tensors of the same shape, each entry >= 0.

    Returns:
        D*, a tensor of that shape with their dtype and device, in [0, 1].

    Raises:
        ValueError: the shapes differ; a density is negative somewhere.

    Example:
        >>> optimal_discriminator(torch.tensor([3.0, 0.0, 0.0, 2.0], dtype=torch.float64), torch.tensor([1.0, 0.0, 5.0, 0.0], dtype=torch.float64))
        tensor([0.7500, 0.5000, 0.0000, 1.0000], dtype=torch.float64)
    """
    if p_data.shape != p_g.shape:
        raise ValueError(f"optimal_discriminator: p_data and p_g must have the same shape, got {tuple(p_data.shape)} and {tuple(p_g.shape)}")
    _nonnegative("optimal_discriminator", p_data=p_data, p_g=p_g)
    total = p_data + p_g
    return torch.where(total > 0, p_data / total, 0.5)


def gan_value(p_data: torch.Tensor, p_g: torch.Tensor, D: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """The value of the game, V(D, G) = integral of [ p_data(x) log D(x) + p_g(x) log(1 - D(x)) ] dx, by the
    trapezoid rule on `grid`, in nats.

    Every term is x log y with 0 log y = 0 (torch.xlogy): a point where p_data is 0 adds nothing whatever D is
    there (D = 0 included), and likewise for p_g and 1 - D; p * torch.log(D) would give 0 * (-inf) = NaN there.
    The integral of f on points x_0 < ... < x_{n-1} is sum_i (x_{i+1} - x_i) (f_i + f_{i+1}) / 2 (the grid need
    not be evenly spaced). At D = optimal_discriminator(p_data, p_g), V = -log 4 + 2 JSD(p_data || p_g) for
    densities that integrate to 1 on the grid, and any other D gives less. D's values cannot hold what rounding
    hides: where p_g < 1e-16 p_data, D* rounds to exactly 1 and V(D*) from its values is -inf (far in the tails of
    two Gaussians of different widths); there, C(G) = -log 4 + 2 jensen_shannon(p_data, p_g, grid) stays exact.

    Args:
        p_data, p_g: density values on the grid, shape (n,), each entry >= 0.
        D: the discriminator's probabilities on the grid, shape (n,), each in [0, 1].
        grid: the points, shape (n,) with n >= 2, strictly increasing.

    Returns:
        A 0-d tensor with the dtype and device of the densities (-inf where D is 0 on p_data's support, or 1 on
        p_g's: a discriminator certain and wrong).

    Raises:
        ValueError: grid is not 1-D with n >= 2 points or not strictly increasing; p_data, p_g or D is not of the
            grid's shape; a density is negative somewhere; a D is outside [0, 1].

    Example:
        >>> grid = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
        >>> p = torch.full((3,), 1 / 3, dtype=torch.float64)  # uniform on [0, 3]
        >>> gan_value(p, p, torch.full((3,), 0.5, dtype=torch.float64), grid)  # -log 4 at p_g = p_data, D = 1/2
        tensor(-1.3863, dtype=torch.float64)
        >>> gan_value(p, torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64), grid)  # D certain and right
        tensor(0., dtype=torch.float64)
    """
    _on_grid("gan_value", grid, p_data=p_data, p_g=p_g, D=D)
    _nonnegative("gan_value", p_data=p_data, p_g=p_g)
    if torch.any((D < 0) | (D > 1)):
        raise ValueError(f"gan_value: D is a probability, in [0, 1]; got values from {D.min().item():g} to {D.max().item():g}")
    return torch.trapezoid(torch.xlogy(p_data, D) + torch.xlogy(p_g, 1 - D), grid)


def jensen_shannon(p: torch.Tensor, q: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """The Jensen-Shannon divergence JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q) / 2, in nats, by the
    trapezoid rule on `grid`:

        JSD = 1/2 integral of [ p (log p - log m) + q (log q - log m) ] dx.

    The log-ratios are written as differences of logs with 0 log 0 = 0 (torch.xlogy(p, p) - torch.xlogy(p, m)):
    where p is 0 its term is 0, and where both densities underflow to 0 in the tails no 0/0 is ever formed
    (log(p / m) there is NaN). For densities that integrate to 1 the JSD lies in [0, log 2], is 0 exactly when p = q
    and is symmetric in p and q.

    Not allowed (it computes the KL terms): torch.nn.functional.kl_div.

    Args:
        p, q: density values on the grid, shape (n,), each entry >= 0.
        grid: the points, shape (n,) with n >= 2, strictly increasing.

    Returns:
        A 0-d tensor with the dtype and device of the densities.

    Raises:
        ValueError: grid is not 1-D with n >= 2 points or not strictly increasing; p or q is not of the grid's
            shape; a density is negative somewhere.

    Example:
        >>> grid = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64)
        >>> p = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)
        >>> jensen_shannon(p, p, grid)
        tensor(0., dtype=torch.float64)
        >>> jensen_shannon(p, p.flip(0), grid)  # disjoint but for one interval: less than log 2 = 0.6931
        tensor(0.5199, dtype=torch.float64)
    """
    _on_grid("jensen_shannon", grid, p=p, q=q)
    _nonnegative("jensen_shannon", p=p, q=q)
    m = 0.5 * (p + q)
    return 0.5 * torch.trapezoid(torch.xlogy(p, p) - torch.xlogy(p, m) + torch.xlogy(q, q) - torch.xlogy(q, m), grid)
