"""Loss functions: pure functions, ``nn.Module``s through :func:`get`, and specs.

>>> import torch
>>> import almanac as am
>>> loss = am.losses.get("huber", delta=2.0)
>>> float(loss(torch.tensor([3.0]), torch.tensor([0.0])))
4.0
>>> am.losses.spec("bce").name
'binary_cross_entropy'
"""

from __future__ import annotations

from typing import Any

from almanac.losses._modules import REGISTRY, Loss
from almanac.losses.classification import binary_cross_entropy, cross_entropy
from almanac.losses.regression import huber, mae, mse, smooth_l1
from almanac.registry import LossSpec

__all__ = [
    "REGISTRY",
    "Loss",
    "binary_cross_entropy",
    "cross_entropy",
    "get",
    "huber",
    "mae",
    "mse",
    "names",
    "smooth_l1",
    "spec",
]


def get(name: str, **params: Any) -> Loss:
    """The loss ``name`` (or an alias) as an ``nn.Module`` with ``params`` bound; bad values raise ConfigError."""
    return REGISTRY.get(name, **params)


def names() -> list[str]:
    """Canonical loss names, sorted."""
    return REGISTRY.names()


def spec(name: str) -> LossSpec:
    """The frozen :class:`~almanac.registry.LossSpec` of ``name`` (or an alias)."""
    return REGISTRY.spec(name)
