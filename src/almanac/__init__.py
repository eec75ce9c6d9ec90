"""almanac — activation functions, losses and validation metrics for PyTorch.

>>> import almanac as am
>>> am.activations.names()[:3]  # doctest: +SKIP
['celu', 'elu', 'entmax15']
"""

from __future__ import annotations

import importlib
from typing import Any

from almanac.errors import (
    AlmanacError,
    ConfigError,
    DomainError,
    ShapeError,
    TargetError,
    UndefinedMetricError,
    UnknownNameError,
)

__version__ = "0.1.0"

__all__ = [
    "AlmanacError",
    "ConfigError",
    "DomainError",
    "ShapeError",
    "TargetError",
    "UndefinedMetricError",
    "UnknownNameError",
    "activations",
    "advise",
    "lab",
    "lint",
    "losses",
    "metrics",
    "train",
]

_SUBPACKAGES = ("activations", "losses", "metrics", "lint", "train", "lab", "bench")


def __getattr__(name: str) -> Any:
    # Subpackages load on first use, so `import almanac` stays light and the layers stay independent.
    if name in _SUBPACKAGES:
        return importlib.import_module(f"almanac.{name}")
    if name == "advise":  # the function; its module is almanac.advisor so the two names never clash
        return importlib.import_module("almanac.advisor").advise
    raise AttributeError(f"module 'almanac' has no attribute {name!r}")
