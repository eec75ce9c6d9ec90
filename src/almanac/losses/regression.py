"""Regression losses on predicted values."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor

from almanac.losses._common import float_input, positive, real_target
from almanac.losses._modules import REGISTRY, checked
from almanac.losses._reduction import check_reduction, check_weight, reduce

__all__ = ["huber", "mae", "mse", "smooth_l1"]


def _prepare(input: Tensor, target: Tensor, reduction: str, weight: Tensor | None) -> Tensor:
    float_input(input)
    check_reduction(reduction)
    target = real_target(input, target)
    check_weight(weight, input.shape[0])
    return target


def _plain_params(reduction: str = "mean", weight: Any = None) -> None:
    check_reduction(reduction)
    del weight


@REGISTRY.register(
    aliases=("l2", "mean_squared_error", "squared_error"),
    factory=checked(_plain_params),
    summary="Mean squared error: the Gaussian negative log-likelihood up to constants; outliers dominate it.",
    formula="(x - y)²",
    references=("Gauss 1809, least squares",),
    expects="values", target="real", tasks=("regression",),
)
def mse(input: Tensor, target: Tensor, *, reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Squared error.

    Formula (unreduced): ``ℓ = (x - y)²``.

    Args:
        input: predictions ``(N, ...)``, floating point.
        target: true values, same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(mse(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0])))
    2.5

    Reference: PyTorch ``MSELoss``.
    """
    target = _prepare(input, target, reduction, weight)
    return reduce(F.mse_loss(input, target, reduction="none"), reduction, weight)


@REGISTRY.register(
    aliases=("l1", "mean_absolute_error", "absolute_error"),
    factory=checked(_plain_params),
    summary="Mean absolute error: the median regressor; robust to outliers, constant gradient.",
    formula="|x - y|",
    references=("Laplace 1774, least absolute deviations",),
    expects="values", target="real", tasks=("regression",), robust_to_outliers=True,
)
def mae(input: Tensor, target: Tensor, *, reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Absolute error.

    Formula (unreduced): ``ℓ = |x - y|``.

    Args:
        input: predictions ``(N, ...)``, floating point.
        target: true values, same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(mae(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0])))
    1.5

    Reference: PyTorch ``L1Loss``.
    """
    target = _prepare(input, target, reduction, weight)
    return reduce(F.l1_loss(input, target, reduction="none"), reduction, weight)


def _huber_params(delta: float = 1.0, reduction: str = "mean", weight: Any = None) -> None:
    positive(delta, "delta")
    check_reduction(reduction)
    del weight


@REGISTRY.register(
    factory=checked(_huber_params),
    summary="Huber loss: quadratic for errors below delta, linear beyond; robust with a smooth minimum.",
    formula="½(x - y)² if |x - y| ≤ δ else δ(|x - y| - ½δ)",
    references=("Huber 1964, Robust Estimation of a Location Parameter",),
    expects="values", target="real", tasks=("regression",), robust_to_outliers=True,
)
def huber(input: Tensor, target: Tensor, *, delta: float = 1.0, reduction: str = "mean",
          weight: Tensor | None = None) -> Tensor:
    """Huber loss.

    Formula (unreduced): ``ℓ = ½e²`` if ``|e| ≤ δ`` else ``δ(|e| - ½δ)``, with ``e = x - y``.

    Args:
        input: predictions ``(N, ...)``, floating point.
        target: true values, same shape.
        delta: δ > 0, where the loss turns linear.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(huber(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0])))
    1.3125

    Reference: Huber 1964; PyTorch ``HuberLoss``.
    """
    positive(delta, "delta")
    target = _prepare(input, target, reduction, weight)
    return reduce(F.huber_loss(input, target, reduction="none", delta=float(delta)), reduction, weight)


def _smooth_l1_params(beta: float = 1.0, reduction: str = "mean", weight: Any = None) -> None:
    positive(beta, "beta", allow_zero=True)
    check_reduction(reduction)
    del weight


@REGISTRY.register(
    factory=checked(_smooth_l1_params),
    summary="Smooth L1: Huber divided by beta; L1 beyond beta, quadratic below (beta = 0 is L1).",
    formula="½(x - y)²/β if |x - y| < β else |x - y| - ½β",
    references=("Girshick 2015, Fast R-CNN",),
    expects="values", target="real", tasks=("regression",), robust_to_outliers=True,
)
def smooth_l1(input: Tensor, target: Tensor, *, beta: float = 1.0, reduction: str = "mean",
              weight: Tensor | None = None) -> Tensor:
    """Smooth L1 loss (Huber with δ = β, divided by β).

    Formula (unreduced): ``ℓ = ½e²/β`` if ``|e| < β`` else ``|e| - ½β``, with ``e = x - y``; β = 0 gives ``|e|``.

    Args:
        input: predictions ``(N, ...)``, floating point.
        target: true values, same shape.
        beta: β ≥ 0.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(smooth_l1(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0])))
    1.3125

    Reference: Girshick 2015; PyTorch ``SmoothL1Loss``.
    """
    positive(beta, "beta", allow_zero=True)
    target = _prepare(input, target, reduction, weight)
    return reduce(F.smooth_l1_loss(input, target, reduction="none", beta=float(beta)), reduction, weight)
