"""The table that drives the activation tests: every activation with its parameters and a float64 reference.

The references are written here independently of the library (NumPy / SciPy formulas; sparsemax and entmax15
by bisection on the threshold), and evaluated in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy import special

# The names api.md promises, in its order.
API_NAMES = (
    "relu", "leaky_relu", "prelu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "hard_sigmoid",
    "hard_swish", "tanh", "hard_tanh", "softplus", "softsign", "softmax", "log_softmax", "glu", "swiglu", "geglu",
    "sparsemax", "entmax15", "identity",
)

SELU_SCALE, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772


def _halves(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    return tuple(np.split(x, 2, axis=axis))  # type: ignore[return-value]


def _simplex_threshold(x: np.ndarray, power: float) -> np.ndarray:
    """τ with Σ max(x − τ, 0)^power = 1 along the last axis, by bisection (independent of the library)."""
    lo = x.max(-1, keepdims=True) - 1.0  # the sum is ≥ 1 here
    hi = x.max(-1, keepdims=True)  # and 0 here
    for _ in range(200):
        mid = (lo + hi) / 2
        total = (np.maximum(x - mid, 0) ** power).sum(-1, keepdims=True)
        lo, hi = np.where(total >= 1, mid, lo), np.where(total >= 1, hi, mid)
    return (lo + hi) / 2


def sparsemax_ref(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.moveaxis(x, axis, -1)
    return np.moveaxis(np.maximum(x - _simplex_threshold(x, 1.0), 0), -1, axis)


def entmax15_ref(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.moveaxis(x, axis, -1) / 2
    return np.moveaxis(np.maximum(x - _simplex_threshold(x, 2.0), 0) ** 2, -1, axis)


def _softplus(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    return np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta)


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


@dataclass(frozen=True)
class Case:
    """One activation with one set of parameters. ``reference(x_numpy)`` is the float64 truth."""

    name: str
    reference: Callable[[np.ndarray], np.ndarray]
    params: dict[str, Any] = field(default_factory=dict)
    dim: int | None = None  # the dimension mixed by a non-elementwise activation

    @property
    def id(self) -> str:
        shown = ",".join(f"{k}={v}" for k, v in self.params.items() if k != "weight")
        return f"{self.name}({shown})" if shown else self.name

    def params_for(self, x: torch.Tensor) -> dict[str, Any]:
        """Parameters as passed to the function, tensors moved to the dtype of ``x``."""
        return {k: v.to(x.dtype) if isinstance(v, torch.Tensor) else v for k, v in self.params.items()}


CASES = (
    Case("relu", lambda x: np.maximum(x, 0)),
    Case("leaky_relu", lambda x: np.where(x > 0, x, 0.01 * x)),
    Case("leaky_relu", lambda x: np.where(x > 0, x, 0.3 * x), {"negative_slope": 0.3}),
    Case("prelu", lambda x: np.where(x > 0, x, 0.25 * x), {"weight": torch.tensor([0.25])}),
    Case("elu", lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    Case("elu", lambda x: np.where(x > 0, x, 1.5 * np.expm1(np.minimum(x, 0))), {"alpha": 1.5}),
    Case("selu", lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))),
    Case("celu", lambda x: np.maximum(0, x) + 2.0 * np.expm1(np.minimum(x, 0) / 2.0), {"alpha": 2.0}),
    Case("gelu", lambda x: x * special.ndtr(x)),
    Case("gelu", _gelu_tanh, {"approximate": "tanh"}),
    Case("silu", lambda x: x * special.expit(x)),
    Case("silu", lambda x: x * special.expit(1.7 * x), {"beta": 1.7}),
    Case("silu", lambda x: x * special.expit(-0.5 * x), {"beta": -0.5}),
    Case("mish", lambda x: x * np.tanh(np.logaddexp(0, x))),
    Case("sigmoid", special.expit),
    Case("hard_sigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    Case("hard_swish", lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    Case("tanh", np.tanh),
    Case("hard_tanh", lambda x: np.clip(x, -1, 1)),
    Case("softplus", lambda x: _softplus(x, 1.0, 20.0)),
    Case("softplus", lambda x: _softplus(x, 2.0, 10.0), {"beta": 2.0, "threshold": 10.0}),
    Case("softsign", lambda x: x / (1 + np.abs(x))),
    Case("identity", lambda x: x),
    Case("softmax", lambda x: special.softmax(x, axis=-1), dim=-1),
    Case("softmax", lambda x: special.softmax(x, axis=0), {"dim": 0}, dim=0),
    Case("log_softmax", lambda x: special.log_softmax(x, axis=-1), dim=-1),
    Case("glu", lambda x: (lambda a, b: a * special.expit(b))(*_halves(x, -1)), dim=-1),
    Case("swiglu", lambda x: (lambda a, b: a * special.expit(a) * b)(*_halves(x, -1)), dim=-1),
    Case("swiglu", lambda x: (lambda a, b: a * special.expit(a) * b)(*_halves(x, 0)), {"dim": 0}, dim=0),
    Case("geglu", lambda x: (lambda a, b: a * special.ndtr(a) * b)(*_halves(x, -1)), dim=-1),
    Case("sparsemax", sparsemax_ref, dim=-1),
    Case("sparsemax", lambda x: sparsemax_ref(x, 0), {"dim": 0}, dim=0),
    Case("entmax15", entmax15_ref, dim=-1),
    Case("entmax15", lambda x: entmax15_ref(x, 0), {"dim": 0}, dim=0),
)

ELEMENTWISE = tuple(c for c in CASES if c.dim is None)
ALONG_DIM = tuple(c for c in CASES if c.dim is not None)

# Points for the elementwise ones: a dense middle, large magnitudes, and the neighbourhood of zero.
POINTS = np.concatenate([np.linspace(-12, 12, 97), [-1e4, -100, -30, -1e-3, 0.0, 1e-3, 30, 100, 1e4]])


def along_dim_input(seed: int = 0) -> np.ndarray:
    """Rows of 8 values at scales 0.1 to 1e4 (rows are along the last dim; transpose for dim=0)."""
    rng = np.random.default_rng(seed)
    scales = np.array([0.1, 1, 3, 10, 100, 1e4])[:, None, None]
    return (rng.standard_normal((6, 5, 8)) * scales).reshape(30, 8)
