"""Loss functions: pure functions, ``nn.Module``s through :func:`get`, and specs.

Every loss is ``name(input, target, *, <hyperparameters>, reduction="mean", sample_weight=None)`` with the
prediction first; ``sample_weight`` holds one weight per sample (``weight=`` is refused: PyTorch means class weights
by it, here ``class_weight``) and the reduction rule is the same everywhere (see
:mod:`almanac.losses._reduction`). ``get(name, **params)`` returns an ``nn.Module`` whose ``forward`` takes the
same positional arguments as the function.

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
from almanac.losses.adversarial import gradient_penalty, wasserstein, wasserstein_generator
from almanac.losses.classification import binary_cross_entropy, cross_entropy, focal, kl_div
from almanac.losses.margin import hinge, multiclass_hinge, squared_hinge
from almanac.losses.regression import gaussian_nll, huber, log_cosh, mae, mse, poisson_nll, quantile, smooth_l1
from almanac.losses.segmentation import dice, focal_tversky, jaccard, lovasz, tversky
from almanac.registry import LossSpec

__all__ = [
    "REGISTRY",
    "Loss",
    "binary_cross_entropy",
    "cross_entropy",
    "dice",
    "focal",
    "focal_tversky",
    "gaussian_nll",
    "get",
    "gradient_penalty",
    "hinge",
    "huber",
    "jaccard",
    "kl_div",
    "log_cosh",
    "lovasz",
    "mae",
    "mse",
    "multiclass_hinge",
    "names",
    "poisson_nll",
    "quantile",
    "smooth_l1",
    "spec",
    "squared_hinge",
    "tversky",
    "wasserstein",
    "wasserstein_generator",
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
