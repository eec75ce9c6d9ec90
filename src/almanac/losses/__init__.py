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

Validation. Shape, dtype and hyperparameter checks are always on and cost nothing on the device. Value checks —
class indices in [0, C) (one ``aminmax``), labels/probabilities in [0, 1] (one ``aminmax``), {0, 1} / {-1, 1}
hinge labels (three comparisons), finite non-negative ``sample_weight`` / ``class_weight`` (two reductions),
finite ``fake`` of the gradient penalty (one reduction) — each read their result on the host: one sync on a GPU.
They run in eager mode only (never while compiling, tracing or exporting, so they never break a graph) and are
turned off per call or per module with ``validate=False``, or for the process with :func:`set_validation` /
the :func:`validation` context manager. Without them bad values give undefined numbers, never a crash.

Precision. float16 / bfloat16 inputs are computed and accumulated in float32 and the loss has the input's dtype;
under ``torch.autocast`` every loss returns float32, as torch.nn's losses do.
"""

from __future__ import annotations

from typing import Any

from almanac._checks import set_validation, validation, values_checked
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
    "set_validation",
    "smooth_l1",
    "spec",
    "squared_hinge",
    "tversky",
    "validation",
    "values_checked",
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
