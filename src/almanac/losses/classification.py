"""Classification losses on logits (or probabilities with ``from_logits=False``), computed in log space."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from almanac._checks import check_in_range, check_number
from almanac.errors import ConfigError, ShapeError, TargetError, problem
from almanac.losses._common import (
    check_bool,
    check_class_sequence,
    class_index_target,
    class_vector,
    float_input,
    positive,
    probability_input,
    unit_interval,
    unit_target,
)
from almanac.losses._modules import REGISTRY, checked
from almanac.losses._reduction import check_reduction, check_weight, reduce

__all__ = ["binary_cross_entropy", "cross_entropy"]

_CE_REFS = ("PyTorch torch.nn.CrossEntropyLoss",
            "Szegedy et al. 2016, Rethinking the Inception Architecture (label smoothing)")


def _ce_params(class_weight: Any = None, ignore_index: int | None = None, label_smoothing: float = 0.0,
               reduction: str = "mean", weight: Any = None) -> None:
    check_class_sequence(class_weight, "class_weight")
    if ignore_index is not None:
        check_number(ignore_index, "ignore_index", integer=True)
    unit_interval(label_smoothing, "label_smoothing")
    check_reduction(reduction)
    del weight


@REGISTRY.register(
    aliases=("ce", "softmax_cross_entropy", "categorical_cross_entropy"),
    factory=checked(_ce_params),
    summary="Softmax cross-entropy: the negative log-likelihood of the true class under softmax(logits).",
    formula="-Σ_c y_c · log_softmax(x)_c  (y one-hot, smoothed, or probabilities)",
    references=_CE_REFS,
    expects="logits", target="class_indices", tasks=("multiclass", "segmentation"),
)
def cross_entropy(
    input: Tensor,
    target: Tensor,
    *,
    class_weight: Tensor | Sequence[float] | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Softmax cross-entropy on logits.

    Formula (unreduced): ``ℓ = -Σ_c w_c · y_c · log_softmax(x)_c`` with ``y`` the one-hot target smoothed by
    ``label_smoothing`` (``(1 - ε)·onehot + ε/C``), or the given class probabilities.

    Args:
        input: logits ``(N, C)`` or ``(N, C, d1, ...)``, floating point.
        target: class indices ``(N,)`` / ``(N, d1, ...)`` (integer), or probabilities of the input's shape.
        class_weight: per-class weights ``(C,)`` (PyTorch's ``weight``); with index targets the mean divides by the
            summed class weight of the kept targets, as PyTorch does.
        ignore_index: a label whose positions count for nothing (index targets only).
        label_smoothing: ε in [0, 1].
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (shape ``(N, d1, ...)``).
        weight: per-sample weights ``(N,)``.

    Returns:
        The loss (a scalar unless ``reduction="none"``).

    >>> x = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> round(float(cross_entropy(x, torch.tensor([0, 1]))), 4)
    0.3606

    Reference: PyTorch ``CrossEntropyLoss``; Szegedy et al. 2016 for label smoothing.
    """
    float_input(input, at_least=2)
    check_reduction(reduction)
    unit_interval(label_smoothing, "label_smoothing")
    num_classes = input.shape[1]
    soft = target.is_floating_point() and target.shape == input.shape if isinstance(target, Tensor) else False
    if soft:
        if ignore_index is not None:
            raise problem(ConfigError, "ignore_index", "to be None with probability targets", repr(ignore_index),
                          "mask the samples with weight=0 instead")
        check_in_range(target, "target", 0.0, 1.0, TargetError, "pass class probabilities in [0, 1]")
        target = target.to(input.dtype)
    else:
        if ignore_index is not None:
            check_number(ignore_index, "ignore_index", integer=True)
        class_index_target(input, target, ignore_index)
    cw = None if class_weight is None else class_vector(class_weight, "class_weight", num_classes, input)
    check_weight(weight, input.shape[0], "pass one weight per sample; per-class weights go in class_weight=")
    loss = F.cross_entropy(input, target, weight=cw, ignore_index=-100 if ignore_index is None else ignore_index,
                           label_smoothing=label_smoothing, reduction="none")
    mask = None if soft or ignore_index is None else target != ignore_index
    denom = None
    if cw is not None and not soft:
        denom = cw[target if mask is None else torch.where(mask, target, 0)]
    return reduce(loss, reduction, weight, mask=mask, denom=denom)


def _bce_params(from_logits: bool = True, pos_weight: Any = None, reduction: str = "mean", weight: Any = None) -> None:
    check_bool(from_logits, "from_logits")
    if isinstance(pos_weight, (int, float)) and not isinstance(pos_weight, bool):
        positive(pos_weight, "pos_weight")
    else:
        check_class_sequence(pos_weight, "pos_weight")
    check_reduction(reduction)
    del weight


def _pos_weight(pos_weight: Any, input: Tensor) -> Tensor | None:
    """``pos_weight``: a positive number, or one per class (dimension 1 of the input), as a broadcastable tensor."""
    if pos_weight is None:
        return None
    if isinstance(pos_weight, (int, float)) and not isinstance(pos_weight, bool):
        positive(pos_weight, "pos_weight")
        return input.new_tensor(float(pos_weight))
    if input.ndim < 2:
        raise problem(ShapeError, "pos_weight", "to be a number for a 1-d input", f"{pos_weight!r}",
                      "pass pos_weight as a float, or scores of shape (N, C) for one per class")
    return class_vector(pos_weight, "pos_weight", input.shape[1], input).view(-1, *([1] * (input.ndim - 2)))


@REGISTRY.register(
    aliases=("bce", "bce_with_logits", "sigmoid_cross_entropy"),
    factory=checked(_bce_params),
    summary="Binary cross-entropy of a sigmoid output, for binary and multi-label targets.",
    formula="-[p_w · y · log σ(x) + (1 - y) · log(1 - σ(x))]",
    references=("PyTorch torch.nn.BCEWithLogitsLoss",),
    expects="logits", target="binary", tasks=("binary", "multilabel", "segmentation"),
)
def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    *,
    from_logits: bool = True,
    pos_weight: float | Tensor | Sequence[float] | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy, on logits by default (log-sigmoid form, stable at any logit).

    Formula (unreduced): ``ℓ = -[p_w·y·log σ(x) + (1 - y)·log(1 - σ(x))]``, computed as
    ``(1 - y)·x + (1 + (p_w - 1)·y)·softplus(-x)``.

    Args:
        input: logits (or probabilities with ``from_logits=False``) of any shape ``(N, ...)``.
        target: labels in [0, 1] (0/1 or soft), same shape as ``input``.
        from_logits: False when ``input`` holds probabilities (validated to lie in [0, 1]).
        pos_weight: weight of the positive term: a number, or one per class (dimension 1 of ``input``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        weight: per-sample weights ``(N,)``.

    >>> round(float(binary_cross_entropy(torch.tensor([0.0, 2.0]), torch.tensor([1.0, 0.0]))), 4)
    1.41

    Reference: PyTorch ``BCEWithLogitsLoss``.
    """
    float_input(input)
    check_bool(from_logits, "from_logits")
    check_reduction(reduction)
    target = unit_target(input, target)
    probability_input(input, from_logits)
    pw = _pos_weight(pos_weight, input)
    check_weight(weight, input.shape[0])
    if from_logits:
        loss = F.binary_cross_entropy_with_logits(input, target, pos_weight=pw, reduction="none")
    elif pw is None:
        loss = F.binary_cross_entropy(input, target, reduction="none")
    else:  # PyTorch's probability BCE has no pos_weight: weight the positive and negative terms apart
        loss = (pw * target * F.binary_cross_entropy(input, torch.ones_like(input), reduction="none")
                + (1 - target) * F.binary_cross_entropy(input, torch.zeros_like(input), reduction="none"))
    return reduce(loss, reduction, weight)
