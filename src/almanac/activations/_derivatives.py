"""Closed-form derivatives d activation / dx of the elementwise activations (no autograd).

At a kink the value is the one-sided derivative PyTorch's backward uses (e.g. relu'(0) = 0, leaky_relu'(0) =
negative_slope), so ``derivative`` and autograd agree everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from almanac._checks import check_floating, check_tensor
from almanac.activations._functions import REGISTRY, check_params, check_prelu_weight
from almanac.errors import ConfigError, problem

__all__ = ["derivative"]

_SELU_SCALE = 1.0507009873554805
_SELU_ALPHA = 1.6732632423543772
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _gelu(x: Tensor, *, approximate: str = "none") -> Tensor:
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        t = torch.tanh(inner)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
    pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return 0.5 * (1 + torch.erf(x / math.sqrt(2.0))) + x * pdf


def _silu(x: Tensor, *, beta: float | Tensor = 1.0) -> Tensor:
    s = torch.sigmoid(beta * x)
    return s * (1 + beta * x * (1 - s))


def _mish(x: Tensor) -> Tensor:
    t = torch.tanh(torch.nn.functional.softplus(x))
    return t + x * (1 - t * t) * torch.sigmoid(x)


def _softplus(x: Tensor, *, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return torch.where(beta * x > threshold, torch.ones_like(x), torch.sigmoid(beta * x))


def _prelu(x: Tensor, *, weight: Tensor) -> Tensor:
    weight = weight.reshape(-1)
    # one slope per channel along dim 1, or one slope as a 0-d value that broadcasts to any x, a 0-d x included
    weight = weight.reshape(-1, *([1] * (x.ndim - 2))) if weight.numel() > 1 else weight.reshape(())
    return torch.where(x > 0, torch.ones_like(x), weight.to(x.dtype).expand_as(x))


_DERIVATIVES: dict[str, Callable[..., Tensor]] = {
    "relu": lambda x: (x > 0).to(x.dtype),
    "leaky_relu": lambda x, *, negative_slope=0.01: torch.where(x > 0, 1.0, torch.full_like(x, negative_slope)),
    "prelu": _prelu,
    "elu": lambda x, *, alpha=1.0: torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(x)),
    "selu": lambda x: _SELU_SCALE * torch.where(x > 0, torch.ones_like(x), _SELU_ALPHA * torch.exp(x)),
    "celu": lambda x, *, alpha=1.0: torch.where(x > 0, torch.ones_like(x), torch.exp(x / alpha)),
    "gelu": _gelu,
    "silu": _silu,
    "mish": _mish,
    "sigmoid": lambda x: torch.sigmoid(x) * torch.sigmoid(-x),
    "hard_sigmoid": lambda x: ((x > -3) & (x < 3)).to(x.dtype) / 6,
    "hard_swish": lambda x: torch.where(x <= -3, 0.0, torch.where(x < 3, x / 3 + 0.5, 1.0)),
    "tanh": lambda x: 1 - torch.tanh(x) ** 2,
    "hard_tanh": lambda x: ((x > -1) & (x < 1)).to(x.dtype),
    "softplus": _softplus,
    "softsign": lambda x: 1 / (1 + x.abs()) ** 2,
    "identity": torch.ones_like,
}


def derivative(name: str, x: Tensor, **params: Any) -> Tensor:
    """The derivative d activation / dx at every element of ``x``, in closed form.

    Only for elementwise activations (``spec(name).elementwise``); the maps along a dimension (softmax, glu,
    sparsemax, ...) have a Jacobian, not a derivative, and raise :class:`~almanac.ConfigError`.

    Args:
        name: activation name or alias.
        x: floating tensor of any shape.
        params: the activation's keyword parameters (``weight=`` for prelu).

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> derivative("relu", torch.tensor([-1.0, 2.0]))
    tensor([0., 1.])
    >>> derivative("sigmoid", torch.tensor([0.0]))
    tensor([0.2500])
    """
    canonical = REGISTRY.resolve(name)
    if not REGISTRY.spec(canonical).elementwise:
        raise problem(ConfigError, "name", "to be an elementwise activation", repr(name),
                      "differentiate this one with torch.autograd (its Jacobian is not diagonal)")
    check_tensor(x, "input")
    check_floating(x, "input")
    if canonical == "prelu":
        if "weight" not in params:
            raise problem(ConfigError, "weight", "to be passed for prelu", "no weight", "pass weight=<tensor>")
        check_prelu_weight(x, params["weight"])
    else:
        allowed = set(REGISTRY.spec(canonical).params)
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise problem(ConfigError, "params", f"to be among {sorted(allowed)}", str(unknown),
                          f"see almanac.activations.spec({canonical!r}).params")
        check_params(canonical, params)
    return _DERIVATIVES[canonical](x, **params)
