"""Adversarial losses of the Wasserstein GAN: the critic loss, the generator loss and the gradient penalty."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from almanac._checks import check_same_shape
from almanac.errors import ConfigError, problem
from almanac.losses._common import PLAIN, finite, float_input
from almanac.losses._modules import REGISTRY
from almanac.losses._reduction import check_weight, reduce
from almanac.registry import instance, real

__all__ = ["gradient_penalty", "wasserstein", "wasserstein_generator"]

_WGAN = "Arjovsky, Chintala & Bottou 2017, Wasserstein GAN"
_FACTS = dict(expects="critic_scores", target="real", tasks=("adversarial",), normalization="none")



@REGISTRY.register(
    aliases=("wasserstein_critic", "wgan_critic"),
    constraints=PLAIN,
    summary="Wasserstein critic loss: the critic scores real samples high and generated ones low.",
    formula="D(fake) - D(real)",
    references=(_WGAN,),
    **_FACTS,
)
def wasserstein(critic_real: Tensor, critic_fake: Tensor, *, reduction: str = "mean",
                sample_weight: Tensor | None = None) -> Tensor:
    """Critic loss of a Wasserstein GAN (minimised by the critic).

    The mean is ``mean D(fake) - mean D(real)``.

    Args:
        critic_real: critic scores of real samples ``(N, ...)``.
        critic_fake: critic scores of generated samples, same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(wasserstein(torch.tensor([2.0, 1.0]), torch.tensor([0.0, -1.0])))
    -2.0
    """
    float_input(critic_real, "critic_real")
    float_input(critic_fake, "critic_fake")
    check_same_shape(critic_real, critic_fake, "critic_real", "critic_fake")
    check_weight(sample_weight, critic_real.shape[0])
    return reduce(critic_fake - critic_real, reduction, sample_weight)


@REGISTRY.register(
    aliases=("wgan_generator",),
    constraints=PLAIN,
    summary="Wasserstein generator loss: the generator raises the critic's score of its samples.",
    formula="-D(fake)",
    references=(_WGAN,),
    **_FACTS,
)
def wasserstein_generator(critic_fake: Tensor, *, reduction: str = "mean",
                          sample_weight: Tensor | None = None) -> Tensor:
    """Generator loss of a Wasserstein GAN.

    Args:
        critic_fake: critic scores of generated samples ``(N, ...)``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(wasserstein_generator(torch.tensor([0.5, 1.5])))
    -1.0
    """
    float_input(critic_fake, "critic_fake")
    check_weight(sample_weight, critic_fake.shape[0])
    return reduce(-critic_fake, reduction, sample_weight)



@REGISTRY.register(
    aliases=("wgan_gp",),
    constraints={"coefficient": real(0.0), "reduction": PLAIN["reduction"],
                 "generator": instance(torch.Generator)},
    summary="WGAN-GP gradient penalty: keeps the critic 1-Lipschitz on random interpolates of real and fake.",
    formula="λ · (‖∇_x̂ D(x̂)‖₂ - 1)², x̂ = ε·real + (1 - ε)·fake, ε ~ U(0, 1)",
    references=("Gulrajani et al. 2017, Improved Training of Wasserstein GANs",),
    **_FACTS,
)
def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, *, coefficient: float = 10.0,
                     reduction: str = "mean", generator: torch.Generator | None = None) -> Tensor:
    """Gradient penalty of WGAN-GP, with double backpropagation (``create_graph=True``) so it trains the critic.

    One ε per sample. ``real`` and ``fake`` are detached: the penalty trains the critic only.

    Args:
        critic: the critic, a callable (``nn.Module``) mapping a batch to scores.
        real: real samples ``(N, ...)``.
        fake: generated samples, same shape.
        coefficient: the penalty coefficient λ ≥ 0 of the paper.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (shape ``(N,)``).
        generator: a ``torch.Generator`` for the interpolation coefficients (reproducibility).

    >>> import torch
    >>> critic = torch.nn.Linear(2, 1)
    >>> gp = gradient_penalty(critic, torch.randn(4, 2), torch.randn(4, 2))
    >>> gp.requires_grad and gp.ndim == 0
    True
    """
    if not callable(critic):
        raise problem(ConfigError, "critic", "to be a callable (an nn.Module)", type(critic).__name__,
                      "pass the critic network")
    float_input(real, "real")
    float_input(fake, "fake")
    check_same_shape(real, fake, "real", "fake")
    finite(fake, "fake")
    shape = (real.shape[0], *([1] * (real.ndim - 1)))
    eps = torch.rand(shape, dtype=real.dtype, device=real.device, generator=generator)
    mixed = torch.lerp(fake.detach(), real.detach(), eps).requires_grad_(True)
    scores = critic(mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = torch.linalg.vector_norm(grad.flatten(1), dim=1)
    return reduce(float(coefficient) * (norms - 1) ** 2, reduction)
