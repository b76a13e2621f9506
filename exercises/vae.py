"""Variational autoencoders: the reparameterization trick, the Gaussian KL to the prior, stable log-likelihoods, the
evidence lower bound (ELBO) and its importance-weighted tightening, and a small VAE module.

A VAE models data x with a latent z: a prior p(z) = N(0, I) over L latent dimensions and a decoder p(x|z). Its encoder
q(z|x) = N(mu(x), diag exp(logvar(x))) stands in for the intractable posterior p(z|x), and training maximises the
ELBO, a lower bound on the log-evidence log p(x):

    log p(x) >= ELBO(x) = E_{z ~ q(z|x)}[ log p(x|z) ] - KL(q(z|x) || p(z)),

    log p(x) - ELBO(x) = KL(q(z|x) || p(z|x)) >= 0,  so the bound is tight exactly when q is the true posterior.

The encoder outputs the log-variance logvar = ln sigma^2, so the standard deviation is sigma = exp(logvar / 2), not
exp(logvar). The expectation is estimated by sampling through the reparameterization z = mu + sigma * eps with
eps ~ N(0, I): the noise eps is an argument (the checks pass it), so every function is deterministic and gradients
flow to mu and logvar along the path (the pathwise gradient). With one sample per example the ELBO estimate is
log p(x|z) - KL(q || p), the KL in closed form:

    KL(N(mu, diag exp(logvar)) || N(0, I)) = 1/2 sum_l [ mu_l^2 + exp(logvar_l) - 1 - logvar_l ].

The log-weight log w = log p(x|z) + log p(z) - log q(z|x), z ~ q, averages to the ELBO, and its log-mean-exp over k
samples is the importance-weighted bound (IWAE), which rises with k towards log p(x):

    ELBO = L_1 <= L_k = E[ log (1/k) sum_i w_i ] <= L_2k <= ... -> log p(x) as k -> infinity.

Conventions: everything is in nats (the natural logarithm). Tensors are torch tensors of a floating dtype on any
device, and each result has their dtype and device. The LAST axis holds the dimensions of one vector (D data
dimensions, L latent ones); every axis before it is a batch axis. Densities and KL divergences are SUMMED over the
last axis, one value per example; vae_loss is the MEAN over the batch of the negative ELBO (the per-example scale
of torch's reduction='mean', so a learning rate does not depend on the batch size). The data x are in [0, 1]
(binary pixels, or probabilities of a pixel being on), modelled by Bernoulli distributions with logits.

Each exercise is its formula: library code that computes the whole of it is not allowed (the checks refuse it by
name, and each function's docstring lists what it may not call). torch.exp, torch.log, torch.logsumexp,
torch.nn.functional.softplus and torch.nn.functional.logsigmoid are fine.

Arguments are read-only: no function changes a tensor it is given (it returns new ones); a change made in place fails
the check it happens in, named as the mistake modifies-input.
"""

from __future__ import annotations

import math  # noqa: F401 - for your code

import torch
import torch.nn.functional as F  # noqa: F401 - for your code
from torch import nn

__all__ = [
    "reparameterize",
    "gaussian_kl_standard",
    "bernoulli_log_likelihood",
    "gaussian_log_likelihood",
    "elbo",
    "vae_loss",
    "elbo_to_bits_per_dim",
    "iwae_bound",
    "VAE",
]


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """A sample of N(mu, diag exp(logvar)) through the reparameterization trick: z = mu + exp(logvar / 2) * eps.

    exp(logvar / 2) is the standard deviation sigma (logvar = ln sigma^2). The noise eps ~ N(0, I) comes in as an
    argument, so z is a deterministic, differentiable function of mu and logvar: autograd gives the pathwise
    gradients dz/dmu = 1 and dz/dlogvar = eps * exp(logvar / 2) / 2 (elementwise), summed over any sample axes.

    eps broadcasts against mu: eps of shape (S, N, L) with mu of shape (N, L) draws S samples for each of the N
    examples, and z has the broadcast shape (S, N, L).

    Args:
        mu: means, shape (..., L) with at least one axis.
        logvar: log-variances ln sigma^2, the shape of mu.
        eps: standard normal noise whose last axis is L (each latent dimension its own noise) and whose shape
            broadcasts with mu's.

    Returns:
        z, of the broadcast shape of mu and eps, with their dtype and device.

    Raises:
        ValueError: mu is 0-d; logvar's shape is not mu's; eps's last axis is not L; eps and mu do not broadcast.

    Example:
        >>> mu = torch.tensor([0.0, 1.0], dtype=torch.float64)
        >>> logvar = torch.log(torch.tensor([1.0, 4.0], dtype=torch.float64))  # sigma = [1, 2]
        >>> reparameterize(mu, logvar, torch.tensor([1.0, -0.5], dtype=torch.float64))  # [0 + 1 * 1, 1 + 2 * -0.5]
        tensor([1., 0.], dtype=torch.float64)
        >>> reparameterize(mu, logvar, torch.zeros(3, 1, 2, dtype=torch.float64)).shape  # 3 samples of a batch of 1
        torch.Size([3, 1, 2])
    """
    raise NotImplementedError("reparameterize: implement z = mu + exp(logvar / 2) * eps (see the docstring)")


def gaussian_kl_standard(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) in nats, in closed form, summed over the last axis.

        KL = 1/2 sum_l [ mu_l^2 + exp(logvar_l) - 1 - logvar_l ],

    the diagonal case of 1/2 [tr(S) + mu^T mu - L - ln det S] with S = diag exp(logvar): >= 0, and 0 only for
    mu = 0, logvar = 0. It is the ELBO's penalty for an encoder that moves away from the prior. Its gradient is
    dKL/dmu = mu and dKL/dlogvar = (exp(logvar) - 1) / 2.

    Not allowed (it computes the whole KL): torch.distributions.

    Args:
        mu: means, shape (..., L) with at least one axis.
        logvar: log-variances, the shape of mu.

    Returns:
        Shape (...): one KL per row (0-d for 1-D inputs), with the dtype and device of mu.

    Raises:
        ValueError: mu is 0-d; logvar's shape is not mu's.

    Example:
        >>> gaussian_kl_standard(torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64))  # q = p
        tensor(0., dtype=torch.float64)
        >>> mu = torch.tensor([[1.0, -0.5, 0.5]], dtype=torch.float64)
        >>> gaussian_kl_standard(mu, torch.full((1, 3), -0.5, dtype=torch.float64))  # 0.75 + 1.5 (e^-0.5 - 0.5)
        tensor([0.9098], dtype=torch.float64)
    """
    raise NotImplementedError("gaussian_kl_standard: implement the closed-form KL to N(0, I), summed over the last axis (see the docstring)")


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x) under independent Bernoulli distributions with p = sigmoid(logits), summed over the last axis:

        log p(x) = sum_d [ x_d log sigmoid(l_d) + (1 - x_d) log(1 - sigmoid(l_d)) ]
                 = sum_d [ x_d l_d - softplus(l_d) ],          softplus(l) = log(1 + e^l),

    computed from the logits, never from the probabilities: log sigmoid(l) = -softplus(-l) and
    log(1 - sigmoid(l)) = -softplus(l) are exact for every l, while sigmoid(l) rounds to exactly 1 (or 0) for
    |l| > 37 in float64, where log(sigmoid(l)) is log 0 = -inf, and log(sigmoid(l) + 1e-8) is off by as much as
    the log-likelihood itself (-18.4 instead of -1000 at l = 1000, x = 0). The gradient is x - sigmoid(logits).
    It is minus torch's binary_cross_entropy_with_logits, summed over the last axis.

    Not allowed (they compute the whole formula): torch.distributions,
    torch.nn.functional.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy.

    Args:
        x: data in [0, 1], shape (..., D) with at least one axis.
        logits: the decoder's logits, shape (..., D) with the same D; the batch axes of x and logits broadcast
            (logits of shape (S, N, D) for S samples of z against x of shape (N, D)).

    Returns:
        The broadcast batch shape (0-d for two 1-D inputs), with the dtype and device of the logits; <= 0.

    Raises:
        ValueError: x or logits is 0-d; their last axes differ; their batch axes do not broadcast; x has an entry
            outside [0, 1].

    Example:
        >>> x = torch.tensor([1.0, 0.0], dtype=torch.float64)
        >>> bernoulli_log_likelihood(x, torch.zeros(2, dtype=torch.float64))  # 2 ln(1/2)
        tensor(-1.3863, dtype=torch.float64)
        >>> bernoulli_log_likelihood(x, torch.tensor([-1e3, 1e3], dtype=torch.float64))  # both wrong by 1000
        tensor(-2000., dtype=torch.float64)
        >>> bernoulli_log_likelihood(x, torch.tensor([40.0, -40.0], dtype=torch.float64))  # -2 ln(1 + e^-40)
        tensor(-8.4967e-18, dtype=torch.float64)
    """
    raise NotImplementedError("bernoulli_log_likelihood: implement the Bernoulli log-likelihood stably from the logits (see the docstring)")


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag exp(logvar)) in nats, summed over the last axis:

        log p(x) = -1/2 sum_d [ ln(2 pi) + logvar_d + (x_d - mean_d)^2 / exp(logvar_d) ].

    With mean = 0 and logvar = 0 it is the log-density of the prior N(0, I); with an encoder's mu and logvar, of
    q(z|x). exp(logvar) is the variance sigma^2 (not the standard deviation).

    Not allowed (they compute the whole formula): torch.distributions, torch.nn.functional.gaussian_nll_loss.

    Args:
        x, mean, logvar: tensors whose shapes broadcast together to a shape (..., D) with at least one axis (a
            0-d logvar is one variance for every dimension; x of shape (N, D) against means of shape (S, N, D)).

    Returns:
        The broadcast shape without its last axis (0-d for 1-D inputs), with the dtype and device of x.

    Raises:
        ValueError: the shapes do not broadcast, or all three are 0-d.

    Example:
        >>> x = torch.tensor([0.0, 1.0], dtype=torch.float64)
        >>> gaussian_log_likelihood(x, torch.tensor(0.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64))
        tensor(-2.3379, dtype=torch.float64)
        >>> gaussian_log_likelihood(x, x, torch.log(torch.tensor([4.0, 4.0], dtype=torch.float64)))  # -(ln 2 pi + ln 4)
        tensor(-3.2242, dtype=torch.float64)
    """
    raise NotImplementedError("gaussian_log_likelihood: implement the diagonal Gaussian log-density, summed over the last axis (see the docstring)")


def elbo(x: torch.Tensor, x_logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The single-sample ELBO estimate of each example: log p(x|z) - KL(q(z|x) || p(z)), in nats.

    log p(x|z) is bernoulli_log_likelihood(x, x_logits), the decoder's logits at one sample
    z = reparameterize(mu, logvar, eps); the KL is gaussian_kl_standard(mu, logvar), in closed form. Its expectation
    over eps is the ELBO <= log p(x). Higher is better: the loss to minimise is its negative (vae_loss).

    Not allowed (they compute the whole formula): torch.distributions,
    torch.nn.functional.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy.

    Args:
        x: data in [0, 1], shape (..., D).
        x_logits: the decoder's logits, shape (..., D); broadcasts with x as in bernoulli_log_likelihood.
        mu, logvar: the encoder's outputs, shape (..., L) (the same shape).

    Returns:
        One ELBO per example: the broadcast of the two terms' batch shapes, with the dtype and device of x_logits.

    Raises:
        ValueError: as bernoulli_log_likelihood and gaussian_kl_standard do; the batch shapes of the two terms
            do not broadcast.

    Example:
        >>> x, x_logits = torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64)
        >>> mu, logvar = torch.tensor([[1.0]], dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
        >>> elbo(x, x_logits, mu, logvar)  # 2 ln(1/2) - 1/2 (1 + 1 - 1 - 0)
        tensor([-1.8863], dtype=torch.float64)
    """
    raise NotImplementedError("elbo: implement the single-sample ELBO, log p(x|z) - KL(q || p), per example (see the docstring)")


def vae_loss(x: torch.Tensor, x_logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The VAE's training loss: the negative ELBO, summed over the dimensions and averaged over the batch,

        loss = -(1/N) sum_n elbo(x_n, x_logits_n, mu_n, logvar_n).

    Mean over the N examples (once), sum over the D data and L latent dimensions: the loss of one example does not
    shrink as D grows, and a learning rate suits any batch size. Its gradient is minus the mean of the ELBOs'
    gradients.

    Not allowed (they compute the whole formula): torch.distributions,
    torch.nn.functional.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy.

    Args:
        x: data in [0, 1], shape (N, D) with N >= 1.
        x_logits: the decoder's logits at one sample of z per example, shape (N, D).
        mu, logvar: the encoder's outputs, shape (N, L).

    Returns:
        A 0-d tensor with the dtype and device of x_logits.

    Raises:
        ValueError: x is not 2-D or has no rows; x_logits is not of x's shape; mu or logvar is not of shape (N, L)
            (as well as what elbo raises).

    Example:
        >>> x = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
        >>> x_logits, mu, logvar = torch.zeros(2, 2, dtype=torch.float64), torch.zeros(2, 1, dtype=torch.float64), torch.zeros(2, 1, dtype=torch.float64)
        >>> vae_loss(x, x_logits, mu, logvar)  # each example: -2 ln(1/2) + 0
        tensor(1.3863, dtype=torch.float64)
    """
    raise NotImplementedError("vae_loss: implement the negative ELBO averaged over the batch (see the docstring)")


def elbo_to_bits_per_dim(elbo: torch.Tensor, num_dims: int) -> torch.Tensor:
    """The negative ELBO in bits per data dimension: -elbo / (num_dims ln 2).

    An ELBO is in nats per example; dividing by ln 2 converts nats to bits, and by the number of data dimensions D
    gives a number comparable across data sizes (an upper bound on the model's bits per dimension, since
    -ELBO >= -log p(x)). A model that gives every binary pixel probability 1/2 has log p(x) = -D ln 2: exactly 1 bit
    per dimension.

    Args:
        elbo: ELBOs in nats, a tensor of any shape.
        num_dims: D, the number of data dimensions, an int >= 1.

    Returns:
        A tensor of elbo's shape, dtype and device.

    Raises:
        ValueError: num_dims is not an int, or is < 1.

    Example:
        >>> elbo_to_bits_per_dim(torch.tensor([-8 * math.log(2.0), -4.0], dtype=torch.float64), 8)
        tensor([1.0000, 0.7213], dtype=torch.float64)
    """
    raise NotImplementedError("elbo_to_bits_per_dim: implement -elbo / (num_dims ln 2) (see the docstring)")


def iwae_bound(log_w: torch.Tensor) -> torch.Tensor:
    """The importance-weighted bound from k log-weights per example: log (1/k) sum_i w_i, over axis 0.

    With z_i ~ q(z|x) and log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x), the estimate is

        L_k = logsumexp_i(log w_i) - ln k,

    the log of the MEAN weight (not the sum: the sum overshoots by ln k, not the mean of the logs: that is the ELBO
    estimate). It is computed stably, with logsumexp: log-weights of -1000 do not underflow exp to 0. k = 1 gives
    log w_1 itself (the ELBO estimate); on average L_k rises with k towards log p(x), and equals log p(x) for every
    sample when q is the true posterior (every w_i is then p(x)).

    Args:
        log_w: log-weights, shape (k, ...) with k >= 1 samples on axis 0.

    Returns:
        Shape (...): one bound per example, with the dtype and device of log_w.

    Raises:
        ValueError: log_w is 0-d, or k = 0.

    Example:
        >>> iwae_bound(torch.tensor([[0.0], [math.log(3.0)]], dtype=torch.float64))  # ln((1 + 3) / 2)
        tensor([0.6931], dtype=torch.float64)
        >>> iwae_bound(torch.tensor([-1000.0, -1000.0], dtype=torch.float64))  # exp(-1000) is 0 in float64
        tensor(-1000., dtype=torch.float64)
    """
    raise NotImplementedError("iwae_bound: implement logsumexp over axis 0 minus ln k (see the docstring)")


class VAE(nn.Module):
    """A small VAE for D-dimensional data in [0, 1]: a Gaussian encoder and a Bernoulli decoder, each one hidden
    tanh layer of width H, with an L-dimensional latent.

    The submodules must be exactly these (the checks load weights by these names: encoder.0.weight, encoder.0.bias,
    encoder.2.weight, encoder.2.bias, decoder.0.weight, decoder.0.bias, decoder.2.weight, decoder.2.bias):

        self.encoder = nn.Sequential(nn.Linear(D, H), nn.Tanh(), nn.Linear(H, 2 * L))
        self.decoder = nn.Sequential(nn.Linear(L, H), nn.Tanh(), nn.Linear(H, D))

    The encoder's output splits into mu = its first L entries and logvar = its last L entries; the decoder outputs
    the Bernoulli logits of x. The checks call .double() and .to(device) on your module, as for any nn.Module, and
    then load their weights with load_state_dict.

    Example:
        >>> model = VAE(4, 8, 2).double()
        >>> [name for name, _ in model.named_parameters()][:4]
        ['encoder.0.weight', 'encoder.0.bias', 'encoder.2.weight', 'encoder.2.bias']
        >>> x_logits, mu, logvar = model(torch.zeros(3, 4, dtype=torch.float64), torch.zeros(3, 2, dtype=torch.float64))
        >>> x_logits.shape, mu.shape, logvar.shape
        (torch.Size([3, 4]), torch.Size([3, 2]), torch.Size([3, 2]))
    """

    def __init__(self, data_dim: int, hidden_dim: int, latent_dim: int):
        """Build self.encoder and self.decoder as above, for D = data_dim, H = hidden_dim and L = latent_dim."""
        raise NotImplementedError("VAE.__init__: build self.encoder and self.decoder exactly as the class docstring says")

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of q(z|x), each of shape (..., L), for x of shape (..., D): the encoder's first and last L
        outputs."""
        raise NotImplementedError("VAE.encode: return (mu, logvar), the encoder's first and last L outputs")

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The Bernoulli logits of x, shape (..., D), for latents z of shape (..., L)."""
        raise NotImplementedError("VAE.decode: return the decoder's logits")

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x_logits, mu, logvar): encode x, draw z = reparameterize(mu, logvar, eps) (eps of mu's shape) and
        decode z. vae_loss(x, *model(x, eps)) is then the training loss."""
        raise NotImplementedError("VAE.forward: encode, reparameterize with eps, decode; return (x_logits, mu, logvar)")
