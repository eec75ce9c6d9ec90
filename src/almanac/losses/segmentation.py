"""Segmentation losses on scores ``(N, C, d1, ...)`` against masks of the same shape or class-index maps.

Shared rules:

* ``task="binary"`` takes one channel (C = 1) and a 0/1 mask or index map; ``"multilabel"`` a sigmoid per channel
  and masks; ``"multiclass"`` a softmax over the channels and an index map ``(N, d1, ...)`` or one-hot/soft masks.
* Each loss is computed per sample and per class, averaged over the classes: ``reduction="none"`` gives ``(N,)``.
* ``ignore_index``: pixels whose target equals it count for nothing (in an index map, the whole pixel; in a mask,
  that element).
* Classes absent from both prediction and target: ``smooth > 0`` makes their score ``s / s = 1`` — loss 0 with a
  finite gradient (the region predicted empty on an empty target is a perfect score, and any false positive still
  costs); with ``smooth = 0`` an empty denominator is defined as a perfect score with a zero gradient.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from almanac._checks import check_class_indices, check_tensor, values_checked
from almanac.errors import ShapeError, TargetError, problem
from almanac.losses._autograd import Tversky
from almanac.losses._common import (
    NON_NEGATIVE,
    PLAIN,
    POSITIVE,
    TASK,
    check_alpha_beta,
    float_input,
    in_bounds,
    in_range,
    probability_input,
)
from almanac.losses._modules import REGISTRY
from almanac.losses._reduction import check_weight, reduce

__all__ = ["dice", "focal_tversky", "jaccard", "lovasz", "tversky"]

_REFS_SEG = "Milletari et al. 2016, V-Net"



def _prepare(input: Tensor, target: Any, task: str, from_logits: bool, ignore_index: int | None,
             sample_weight: Tensor | None) -> tuple[Tensor, Tensor, Tensor | None, bool]:
    """Validate and flatten: ``x (N, C, S)``, target ``(N, C, S)`` mask or ``(N, S)`` index map, kept-pixel mask."""
    float_input(input, at_least=2)
    check_tensor(target, "target")
    n, c = input.shape[:2]
    if task == "binary" and c != 1:
        raise problem(ShapeError, "input", "to have one channel (N, 1, ...) for task='binary'",
                      f"shape {tuple(input.shape)}", "pass task='multiclass' or 'multilabel' for several channels")
    spatial = (n, *input.shape[2:])
    spatial_size = math.prod(input.shape[2:])
    index = target.shape == spatial and (c > 1 or task == "binary")
    if index:
        if task == "multilabel":
            raise problem(ShapeError, "target", f"to be masks of the input's shape {tuple(input.shape)}",
                          f"shape {tuple(target.shape)}", "pass one 0/1 mask per label")
        if target.is_floating_point():
            fix = ("pass target.long(), or a float mask of shape (N, 1, ...) with target.unsqueeze(1)"
                   if task == "binary" else "pass target.long(), or one-hot masks of the input's shape")
            raise problem(TargetError, "target", "to hold integer class indices", f"dtype {target.dtype}", fix)
        target = target if target.dtype == torch.int64 else target.long()
        if values_checked():
            check_class_indices(target, "target", max(c, 2), ignore_index)
        else:
            target = in_bounds(target, max(c, 2), ignore_index)
        valid = None if ignore_index is None else target != ignore_index
        if valid is not None:
            target = torch.where(valid, target, 0)
        target = target.reshape(n, spatial_size)
    elif target.shape == input.shape:
        if target.dtype == torch.bool:
            target = target.to(input.dtype)
        valid = None if ignore_index is None else target != ignore_index
        kept = target if valid is None else target[valid]
        in_range(kept, "target", 0.0, 1.0, TargetError, "pass 0/1 masks or probabilities in [0, 1]")
        target = target.to(input.dtype)
        if valid is not None:
            target = torch.where(valid, target, 0.0)
        target = target.reshape(n, c, spatial_size)
    else:
        raise problem(ShapeError, "target", f"to be masks of shape {tuple(input.shape)} or a class-index map of "
                      f"shape {spatial}", f"shape {tuple(target.shape)}", "pass one of these; almanac never broadcasts")
    probability_input(input, from_logits)
    check_weight(sample_weight, n)
    if valid is not None:
        valid = valid.reshape(n, spatial_size) if index else valid.reshape(n, c, spatial_size)
    return input.reshape(n, c, spatial_size), target, valid, index


def _mode(task: str, from_logits: bool) -> str:
    if not from_logits:
        return "identity"
    return "softmax" if task == "multiclass" else "sigmoid"


def _tversky_family(input: Tensor, target: Tensor, alpha: float, beta: float, smooth: float, gamma: float,
                    task: str, from_logits: bool, ignore_index: int | None, reduction: str,
                    sample_weight: Tensor | None) -> Tensor:
    x, t, valid, index = _prepare(input, target, task, from_logits, ignore_index, sample_weight)
    loss = Tversky.apply(x, t, valid, _mode(task, from_logits), index, alpha, beta, smooth, gamma)
    return reduce(loss, reduction, sample_weight)


_SEG_ARGS = """Args:
        input: scores ``(N, C, d1, ...)``: logits, or probabilities with ``from_logits=False``.
        target: masks of the input's shape (0/1 or soft, in [0, 1]), or a class-index map ``(N, d1, ...)``
            (multiclass, or binary 0/1).
        task: ``"binary"`` (C = 1, sigmoid), ``"multilabel"`` (sigmoid per channel), ``"multiclass"`` (softmax).
        from_logits: False when ``input`` holds probabilities (validated).
        smooth: s ≥ 0 added to numerator and denominator (see the module docstring for empty classes).
        ignore_index: a target value whose pixels count for nothing.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (shape ``(N,)``).
        sample_weight: per-sample weights ``(N,)``."""



_SEG = {**TASK, "smooth": NON_NEGATIVE, **PLAIN}
_SEG_FACTS = dict(expects="logits", target="mask", tasks=("segmentation", "binary", "multilabel", "multiclass"),
                  for_imbalance=True,
                  normalization={"binary": "sigmoid", "multilabel": "sigmoid", "multiclass": "softmax"})


@REGISTRY.register(
    aliases=("dice_loss", "soft_dice"),
    constraints=_SEG,
    summary="Soft Dice loss: 1 - the Dice coefficient of the predicted and true masks; insensitive to class size.",
    formula="1 - (2·Σ p·t + s) / (Σ p + Σ t + s)",
    references=(_REFS_SEG, "Sudre et al. 2017, Generalised Dice overlap as a deep learning loss function"),
    **_SEG_FACTS,
)
def dice(input: Tensor, target: Tensor, *, task: str = "binary", from_logits: bool = True, smooth: float = 1.0,
         ignore_index: int | None = None, reduction: str = "mean", sample_weight: Tensor | None = None) -> Tensor:
    """Soft Dice loss, per sample and class, averaged over classes.

    Per sample n, with sums over its pixels, then the mean over classes.

    {args}

    >>> x = torch.tensor([[[4.0, -4.0, 4.0, -4.0]]])
    >>> round(float(dice(x, torch.tensor([[[1.0, 0.0, 1.0, 0.0]]]))), 4)
    0.0144
    """
    return _tversky_family(input, target, 0.5, 0.5, float(smooth) / 2, 1.0, task, from_logits, ignore_index,
                           reduction, sample_weight)


@REGISTRY.register(
    aliases=("iou", "jaccard_loss", "soft_jaccard", "iou_loss"),
    constraints=_SEG,
    summary="Soft Jaccard (IoU) loss: 1 - intersection over union of the predicted and true masks.",
    formula="1 - (Σ p·t + s) / (Σ p + Σ t - Σ p·t + s)",
    references=("Rahman & Wang 2016, Optimizing Intersection-Over-Union in Deep Neural Networks",),
    **_SEG_FACTS,
)
def jaccard(input: Tensor, target: Tensor, *, task: str = "binary", from_logits: bool = True, smooth: float = 1.0,
            ignore_index: int | None = None, reduction: str = "mean", sample_weight: Tensor | None = None) -> Tensor:
    """Soft Jaccard (IoU) loss, per sample and class, averaged over classes.

    {args}

    >>> x = torch.tensor([[[4.0, -4.0, 4.0, -4.0]]])
    >>> round(float(jaccard(x, torch.tensor([[[1.0, 0.0, 1.0, 0.0]]]))), 4)
    0.0237
    """
    return _tversky_family(input, target, 1.0, 1.0, float(smooth), 1.0, task, from_logits, ignore_index,
                           reduction, sample_weight)


@REGISTRY.register(
    constraints={**_SEG, "alpha": NON_NEGATIVE, "beta": NON_NEGATIVE},
    rules=check_alpha_beta,
    summary="Tversky loss: a Dice/Jaccard generalisation that weighs false positives (α) and false negatives (β).",
    formula="1 - (I + s) / (I + α·Σ p(1 - t) + β·Σ (1 - p)t + s)",
    references=("Salehi et al. 2017, Tversky loss function for image segmentation using 3D FCNs",),
    **_SEG_FACTS,
)
def tversky(input: Tensor, target: Tensor, *, alpha: float = 0.5, beta: float = 0.5, task: str = "binary",
            from_logits: bool = True, smooth: float = 1.0, ignore_index: int | None = None, reduction: str = "mean",
            sample_weight: Tensor | None = None) -> Tensor:
    """Tversky loss, per sample and class, averaged over classes. α = β = ½ is Dice (up to the smoothing), α = β = 1
    is Jaccard; β > α favours recall (small objects).

    {args}
        alpha: weight α ≥ 0 of false positives.
        beta: weight β ≥ 0 of false negatives.

    >>> x = torch.tensor([[[4.0, -4.0, 4.0, -4.0]]])
    >>> round(float(tversky(x, torch.tensor([[[1.0, 0.0, 1.0, 0.0]]]), alpha=0.3, beta=0.7)), 4)
    0.012
    """
    return _tversky_family(input, target, float(alpha), float(beta), float(smooth), 1.0, task, from_logits,
                           ignore_index, reduction, sample_weight)


@REGISTRY.register(
    constraints={**_SEG, "alpha": NON_NEGATIVE, "beta": NON_NEGATIVE, "gamma": POSITIVE},
    rules=check_alpha_beta,
    summary="Focal Tversky loss: (1 - Tversky index)^γ, focusing on the classes segmented worst.",
    formula="(1 - (I + s) / (I + α·FP + β·FN + s))^γ",
    references=("Abraham & Khan 2019, A Novel Focal Tversky Loss Function with Improved Attention U-Net",),
    **_SEG_FACTS,
)
def focal_tversky(input: Tensor, target: Tensor, *, alpha: float = 0.3, beta: float = 0.7, gamma: float = 0.75,
                  task: str = "binary", from_logits: bool = True, smooth: float = 1.0,
                  ignore_index: int | None = None, reduction: str = "mean",
                  sample_weight: Tensor | None = None) -> Tensor:
    """Focal Tversky loss, per sample and class, averaged over classes.

    Per sample, the mean over classes of ``(1 - TI_c)^γ`` with ``TI`` the Tversky index of :func:`tversky`. For γ <
    1 the slope at a perfect class (TI = 1) is infinite; it is taken as 0 there.

    {args}
        alpha: weight α ≥ 0 of false positives (default 0.3).
        beta: weight β ≥ 0 of false negatives (default 0.7: recall first).
        gamma: γ > 0 (Abraham & Khan's 1/γ, default 0.75).

    >>> x = torch.tensor([[[4.0, -4.0, 4.0, -4.0]]])
    >>> round(float(focal_tversky(x, torch.tensor([[[1.0, 0.0, 1.0, 0.0]]]))), 4)
    0.0362
    """
    return _tversky_family(input, target, float(alpha), float(beta), float(smooth), float(gamma), task,
                           from_logits, ignore_index, reduction, sample_weight)


def _lovasz_grad(gt_sorted: Tensor) -> Tensor:
    """Gradient of the Lovász extension of the Jaccard loss w.r.t. sorted errors (Berman et al. 2018, alg. 1)."""
    gts = gt_sorted.sum(-1, keepdim=True)
    intersection = gts - gt_sorted.cumsum(-1)
    union = gts + (1 - gt_sorted).cumsum(-1)  # ≥ 1 everywhere, so no division by zero
    jac = 1 - intersection / union
    return torch.cat([jac[..., :1], jac[..., 1:] - jac[..., :-1]], dim=-1)



@REGISTRY.register(
    aliases=("lovasz_hinge", "lovasz_softmax"),
    constraints={**TASK, **PLAIN},
    summary="Lovász loss: a convex surrogate that optimises the Jaccard index directly (hinge or softmax form).",
    formula="Σ_k m_(k) · ΔJ_k: sorted errors m times the Lovász gradient of the Jaccard loss",
    references=("Berman et al. 2018, The Lovász-Softmax loss: A tractable surrogate for the optimization of the "
                "intersection-over-union measure in neural networks",),
    **{**_SEG_FACTS, "normalization": {"binary": "margin", "multilabel": "margin", "multiclass": "softmax"}},
)
def lovasz(input: Tensor, target: Tensor, *, task: str = "binary", from_logits: bool = True,
           ignore_index: int | None = None, reduction: str = "mean", sample_weight: Tensor | None = None) -> Tensor:
    """Lovász loss per sample (Berman et al. 2018): the Lovász hinge on logits for binary and multilabel
    channels, the Lovász-softmax for multiclass (and the error ``|t - p|`` on probabilities with
    ``from_logits=False``). Every class counts, present or not: a class absent from the target costs its false
    positives and nothing when predicted empty (Berman's ``classes="all"``); there is no ``smooth``.

    Per sample, the mean over classes; the errors are (hinge) ``max(0, 1 - x·(2t - 1))`` or (softmax) ``|t - p|``,
    sorted in decreasing order, and the Lovász gradient is that of the Jaccard loss of the target sorted alike.

    Args:
        input: scores ``(N, C, d1, ...)``.
        target: masks of the input's shape or a class-index map ``(N, d1, ...)`` (0/1 values).
        task: ``"binary"`` (C = 1), ``"multilabel"`` or ``"multiclass"``.
        from_logits: False when ``input`` holds probabilities.
        ignore_index: a target value whose pixels count for nothing.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (shape ``(N,)``).
        sample_weight: per-sample weights ``(N,)``.

    >>> x = torch.tensor([[[3.0, -2.0, 0.5, -1.0]]])
    >>> round(float(lovasz(x, torch.tensor([[[1, 0, 1, 0]]]).float())), 4)
    0.25
    """
    x, t, valid, index = _prepare(input, target, task, from_logits, ignore_index, sample_weight)
    n, c, _ = x.shape
    if index:
        t = t.unsqueeze(1).to(x.dtype) if c == 1 else F.one_hot(t, c).transpose(1, 2).to(x.dtype)
        valid = None if valid is None else valid.unsqueeze(1).expand(n, c, -1)
    if task != "multiclass" and from_logits:
        errors = (1 - x * (2 * t - 1)).clamp_min(0.0)  # hinge errors; relu(-inf) = 0 for ignored pixels
        drop = float("-inf")
    else:
        p = torch.softmax(x, dim=1) if from_logits else x
        errors = (t - p).abs()
        drop = 0.0  # errors ≥ 0: ignored pixels sort last and add 0
    if valid is not None:
        errors = torch.where(valid, errors, drop)
        t = torch.where(valid, t, 0.0)
    errors_sorted, order = torch.sort(errors, dim=-1, descending=True)
    grad = _lovasz_grad(t.gather(-1, order))
    per_class = (errors_sorted.clamp_min(0.0) * grad).sum(-1)
    return reduce(per_class.mean(1), reduction, sample_weight)


for _f in (dice, jaccard, tversky, focal_tversky):
    _f.__doc__ = (_f.__doc__ or "").replace("{args}", _SEG_ARGS)
