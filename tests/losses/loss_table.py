"""The table of every loss: how to call it on a small float64 batch. Drives the generic tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

N = 6


def _g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@dataclass
class Example:
    """``make()`` returns the positional arguments; ``diff`` the indices of those to gradcheck."""

    make: Callable[[], tuple[Any, ...]]
    kwargs: dict[str, Any] = field(default_factory=dict)
    diff: tuple[int, ...] = (0,)


def _logits(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64, generator=_g(seed)) * 2


def _labels(*shape: int, high: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, high, shape, generator=_g(seed))


def _bits(*shape: int, seed: int = 1) -> torch.Tensor:
    return (torch.rand(*shape, generator=_g(seed)) < 0.4).double()


def _values(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64, generator=_g(seed))


def _critic() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()


EXAMPLES: dict[str, Example] = {
    "cross_entropy": Example(lambda: (_logits(N, 4), _labels(N, high=4))),
    "binary_cross_entropy": Example(lambda: (_logits(N, 3), _bits(N, 3))),
    "focal": Example(lambda: (_logits(N, 3), _bits(N, 3)), {"gamma": 2.0, "alpha": 0.25}),
    "hinge": Example(lambda: (_logits(N), _bits(N))),
    "squared_hinge": Example(lambda: (_logits(N), _bits(N) * 2 - 1)),
    "multiclass_hinge": Example(lambda: (_logits(N, 4), _labels(N, high=4))),
    "kl_div": Example(lambda: (_logits(N, 4), torch.softmax(_logits(N, 4, seed=3), 1))),
    "mse": Example(lambda: (_values(N, 2), _values(N, 2, seed=1))),
    "mae": Example(lambda: (_values(N, 2), _values(N, 2, seed=1))),
    "huber": Example(lambda: (_values(N, 2) * 2, _values(N, 2, seed=1)), {"delta": 1.0}),
    "smooth_l1": Example(lambda: (_values(N, 2) * 2, _values(N, 2, seed=1)), {"beta": 0.5}),
    "log_cosh": Example(lambda: (_values(N, 2) * 3, _values(N, 2, seed=1))),
    "quantile": Example(lambda: (_values(N, 2), _values(N, 2, seed=1)), {"q": 0.8}),
    "poisson_nll": Example(lambda: (_values(N, 2), _labels(N, 2, high=5).double())),
    "gaussian_nll": Example(lambda: (_values(N, 2), _values(N, 2, seed=1), torch.rand(N, 2, dtype=torch.float64,
                                                                                      generator=_g(2)) + 0.1),
                            diff=(0, 2)),
    "dice": Example(lambda: (_logits(N, 3, 5), _labels(N, 5, high=3)), {"task": "multiclass"}),
    "jaccard": Example(lambda: (_logits(N, 1, 5), _bits(N, 1, 5))),
    "tversky": Example(lambda: (_logits(N, 2, 5), _bits(N, 2, 5)), {"task": "multilabel", "alpha": 0.3, "beta": 0.7}),
    "focal_tversky": Example(lambda: (_logits(N, 3, 4), _labels(N, 4, high=3)), {"task": "multiclass"}),
    "lovasz": Example(lambda: (_logits(N, 1, 6), _bits(N, 1, 6))),
    "wasserstein": Example(lambda: (_values(N), _values(N, seed=1)), diff=(0, 1)),
    "wasserstein_generator": Example(lambda: (_values(N),)),
    "gradient_penalty": Example(lambda: (_critic(), _values(N, 3), _values(N, 3, seed=1)),
                                {"generator": _g(5)}, diff=()),
}

API_NAMES = (
    "cross_entropy", "binary_cross_entropy", "focal", "hinge", "squared_hinge", "multiclass_hinge", "kl_div",
    "mse", "mae", "huber", "smooth_l1", "log_cosh", "quantile", "poisson_nll", "gaussian_nll",
    "dice", "jaccard", "tversky", "focal_tversky", "lovasz",
    "wasserstein", "wasserstein_generator", "gradient_penalty",
)
