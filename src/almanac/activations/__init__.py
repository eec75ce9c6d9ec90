"""Activation functions: pure functions, ``nn.Module`` objects through ``get``, specs and derivatives.

>>> import almanac as am
>>> am.activations.gelu(torch.tensor([1.0]))
tensor([0.8413])
>>> am.activations.get("leaky_relu", negative_slope=0.2)
Activation(leaky_relu, negative_slope=0.2)
>>> am.activations.spec("swish").name
'silu'
"""

from __future__ import annotations

from typing import Any

import torch  # noqa: F401  (the doctests above use it)
from torch import nn

from almanac.activations._derivatives import derivative
from almanac.activations._functions import (
    REGISTRY,
    celu,
    elu,
    entmax15,
    geglu,
    gelu,
    glu,
    hard_sigmoid,
    hard_swish,
    hard_tanh,
    identity,
    leaky_relu,
    log_softmax,
    mish,
    prelu,
    relu,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    sparsemax,
    swiglu,
    tanh,
)
from almanac.activations._modules import Activation
from almanac.registry import ActivationSpec

__all__ = [
    "REGISTRY",
    "Activation",
    "celu",
    "derivative",
    "elu",
    "entmax15",
    "geglu",
    "gelu",
    "get",
    "glu",
    "hard_sigmoid",
    "hard_swish",
    "hard_tanh",
    "identity",
    "leaky_relu",
    "log_softmax",
    "mish",
    "names",
    "prelu",
    "relu",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "sparsemax",
    "spec",
    "swiglu",
    "swish",
    "tanh",
]

swish = silu


def get(name: str, **params: Any) -> nn.Module:
    """The activation ``name`` (or an alias) as an ``nn.Module`` with keyword ``params``.

    ``get("prelu", num_parameters=C, init=0.25)`` and ``get("silu", beta=1.0, learnable=True)`` hold learnable
    parameters. Unknown names raise :class:`~almanac.UnknownNameError`, unknown or invalid parameters
    :class:`~almanac.ConfigError`.

    >>> get("gelu", approximate="tanh")(torch.tensor([1.0]))
    tensor([0.8412])
    """
    return REGISTRY.get(name, **params)


def names() -> list[str]:
    """Canonical activation names, sorted."""
    return REGISTRY.names()


def spec(name: str) -> ActivationSpec:
    """The frozen :class:`~almanac.registry.ActivationSpec` of ``name`` (or an alias)."""
    return REGISTRY.spec(name)
