"""The ``gan`` scenario's training loop: a BCE GAN against a WGAN-GP on a ring of 8 Gaussians.

The real data is 8 Gaussians (standard deviation :data:`STD`) on a circle of radius 2. A generated sample is of
*high quality* when it lies within 3 standard deviations of a mode's centre; a mode is *covered* when at least
:data:`MIN_SAMPLES` of :data:`EVAL_SAMPLES` generated samples fall in it (the protocol of VEEGAN, Srivastava et al.,
2017). The BCE GAN trains its discriminator with :func:`almanac.losses.binary_cross_entropy` and its generator with
the non-saturating loss; the WGAN-GP trains its critic with :func:`almanac.losses.wasserstein` plus
:func:`almanac.losses.gradient_penalty` (5 critic steps per generator step) and its generator with
:func:`almanac.losses.wasserstein_generator`. Both use the same networks, optimiser and number of generator steps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["EVAL_SAMPLES", "MIN_SAMPLES", "MODES", "STD", "coverage", "ring", "train_gan"]

MODES = 8
RADIUS = 2.0
STD = 0.05
EVAL_SAMPLES = 2000
MIN_SAMPLES = 20
NOISE = 8


def centres() -> Tensor:
    """The (8, 2) centres of the modes on the circle of radius 2."""
    angle = torch.arange(MODES, dtype=torch.float32) * (2 * math.pi / MODES)
    return RADIUS * torch.stack([angle.cos(), angle.sin()], dim=1)


def ring(n: int, generator: torch.Generator) -> Tensor:
    """``n`` samples of the ring of 8 Gaussians."""
    which = torch.randint(MODES, (n,), generator=generator)
    return centres()[which] + STD * torch.randn(n, 2, generator=generator)


def coverage(samples: Tensor) -> tuple[int, float]:
    """(modes covered, fraction of high-quality samples) of generated ``samples`` (N, 2)."""
    distance = torch.cdist(samples, centres())
    nearest, mode = distance.min(dim=1)
    good = nearest <= 3 * STD
    counts = torch.bincount(mode[good], minlength=MODES)
    return int((counts >= MIN_SAMPLES).sum()), float(good.float().mean())


def _mlp(n_in: int, n_out: int, width: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, width), nn.ReLU(), nn.Linear(width, n_out))


def train_gan(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """Train one GAN (``config["loss"]`` is ``"bce"`` or ``"wgan_gp"``) and measure its mode coverage."""
    from almanac import losses

    steps, every, batch, width = (300, 30, 128, 64) if quick else (2000, 100, 256, 128)
    wgan = config["loss"] == "wgan_gp"
    torch.manual_seed(seed)
    data = torch.Generator().manual_seed(seed)
    gen, critic = _mlp(NOISE, 2, width), _mlp(2, 1, width)
    betas = (0.5, 0.9)
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3, betas=betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=betas)
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    fixed_noise = torch.randn(EVAL_SAMPLES, NOISE, generator=data)
    steps_x, modes, quality = [], [], []
    for step in range(1, steps + 1):
        for _ in range(5 if wgan else 1):
            real = ring(batch, data)
            with torch.no_grad():
                fake = gen(torch.randn(batch, NOISE))
            if wgan:
                loss_d = losses.wasserstein(critic(real).squeeze(1), critic(fake).squeeze(1))
                loss_d = loss_d + losses.gradient_penalty(critic, real, fake, coefficient=10.0)
            else:
                loss_d = (losses.binary_cross_entropy(critic(real).squeeze(1), ones)
                          + losses.binary_cross_entropy(critic(fake).squeeze(1), zeros))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        score = critic(gen(torch.randn(batch, NOISE))).squeeze(1)
        # the non-saturating generator loss of Goodfellow et al.: label the fakes as real
        loss_g = losses.wasserstein_generator(score) if wgan else losses.binary_cross_entropy(score, ones)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if step % every == 0:
            with torch.no_grad():
                covered, good = coverage(gen(fixed_noise))
            steps_x.append(step)
            modes.append(covered)
            quality.append(good)
    with torch.no_grad():
        final = gen(fixed_noise)
    return {
        "final": {"modes": modes[-1], "quality": quality[-1], "best_modes": max(modes)},
        "curves": {"modes": modes, "modes_x": steps_x, "quality": quality, "quality_x": steps_x},
        "info": {"samples": [[round(a, 4), round(b, 4)] for a, b in final[:600].tolist()]},
    }
