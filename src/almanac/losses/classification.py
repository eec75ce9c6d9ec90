"""Classification losses on logits (or probabilities with ``from_logits=False``), computed in log space."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from almanac._checks import check_same_shape, check_tensor, values_checked
from almanac.errors import ConfigError, ShapeError, TargetError, problem
from almanac.losses._autograd import FocalOfLogProb, SigmoidFocal
from almanac.losses._common import (
    NON_NEGATIVE,
    PLAIN,
    TASK,
    class_index_target,
    class_vector,
    float_input,
    in_range,
    positive,
    probability_input,
    unit_interval,
    unit_target,
)
from almanac.losses._modules import REGISTRY
from almanac.losses._reduction import check_weight, finish, fusable, reduce
from almanac.registry import boolean, integer, per_class, real

__all__ = ["binary_cross_entropy", "cross_entropy", "focal", "kl_div"]

_CE_REFS = ("PyTorch torch.nn.CrossEntropyLoss",
            "Szegedy et al. 2016, Rethinking the Inception Architecture (label smoothing)")



@REGISTRY.register(
    aliases=("ce", "softmax_cross_entropy", "categorical_cross_entropy"),
    constraints={"class_weight": per_class(), "ignore_index": integer(optional=True),
                 "label_smoothing": real(0.0, 1.0), **PLAIN},
    summary="Softmax cross-entropy: the negative log-likelihood of the true class under softmax(logits).",
    formula="-Σ_c y_c · log_softmax(x)_c  (y one-hot, smoothed, or probabilities)",
    references=_CE_REFS,
    expects="logits", target="class_indices", tasks=("multiclass", "segmentation"), normalization="softmax",
)
def cross_entropy(
    input: Tensor,
    target: Tensor,
    *,
    class_weight: Tensor | Sequence[float] | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    sample_weight: Tensor | None = None,
) -> Tensor:
    """Softmax cross-entropy on logits.

    ``y`` is the one-hot target smoothed by ``label_smoothing`` (``(1 - ε)·onehot + ε/C``), or the given class
    probabilities; ``class_weight`` multiplies class c's term by ``w_c``.

    Args:
        input: logits ``(N, C)`` or ``(N, C, d1, ...)``, floating point.
        target: class indices ``(N,)`` / ``(N, d1, ...)`` (integer), or probabilities of the input's shape.
        class_weight: per-class weights ``(C,)`` (PyTorch's ``weight``); with index targets the mean divides by the
            summed class weight of the kept targets, as PyTorch does.
        ignore_index: a label whose positions count for nothing (index targets only).
        label_smoothing: ε in [0, 1].
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (shape ``(N, d1, ...)``).
        sample_weight: per-sample weights ``(N,)``.

    Returns:
        The loss (a scalar unless ``reduction="none"``).

    >>> x = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> round(float(cross_entropy(x, torch.tensor([0, 1]))), 4)
    0.3606
    """
    float_input(input, at_least=2)
    num_classes = input.shape[1]
    soft = target.is_floating_point() and target.shape == input.shape if isinstance(target, Tensor) else False
    if soft:
        if ignore_index is not None:
            raise problem(ConfigError, "ignore_index", "to be None with probability targets", repr(ignore_index),
                          "mask the samples with sample_weight=0 instead")
        in_range(target, "target", 0.0, 1.0, TargetError, "pass class probabilities in [0, 1]")
        target = target.to(input.dtype)
    else:
        target = class_index_target(input, target, ignore_index)
    cw = None if class_weight is None else class_vector(class_weight, "class_weight", num_classes, input)
    check_weight(sample_weight, input.shape[0], "pass one weight per sample; per-class weights go in class_weight=")
    # PyTorch's fused reduction follows the same rule as reduce(), but for the mean of an empty batch (NaN, here 0)
    if sample_weight is None and ignore_index is None and (reduction != "mean" or target.numel()):
        return F.cross_entropy(input, target, weight=cw, label_smoothing=label_smoothing, reduction=reduction)
    loss = F.cross_entropy(input, target, weight=cw, ignore_index=-100 if ignore_index is None else ignore_index,
                           label_smoothing=label_smoothing, reduction="none")
    mask = None if soft or ignore_index is None else target != ignore_index
    denom = None
    if cw is not None and not soft:
        denom = cw[target if mask is None else torch.where(mask, target, 0)]
    return reduce(loss, reduction, sample_weight, mask=mask, denom=denom)



def _pos_weight(pos_weight: Any, input: Tensor) -> Tensor | None:
    """``pos_weight``: a positive number, or one per class (dimension 1 of the input), as a broadcastable tensor."""
    if pos_weight is None:
        return None
    if isinstance(pos_weight, (int, float)) and not isinstance(pos_weight, bool):
        positive(pos_weight, "pos_weight")
        return input.new_tensor(float(pos_weight))
    if input.ndim < 2:  # one number: a float, or PyTorch's spelling torch.tensor([3.0])
        vector = class_vector(pos_weight, "pos_weight", 1, input) if _numel(pos_weight) == 1 else None
        if vector is None:
            raise problem(ShapeError, "pos_weight", "to be one number for a 1-d input", f"{pos_weight!r}",
                          "pass pos_weight as a float, or scores of shape (N, C) for one per class")
        return vector.reshape(())
    return class_vector(pos_weight, "pos_weight", input.shape[1], input).view(-1, *([1] * (input.ndim - 2)))


def _numel(value: Any) -> int:
    try:
        return int(torch.as_tensor(value).numel())
    except (TypeError, ValueError, RuntimeError):
        return -1


@REGISTRY.register(
    aliases=("bce", "bce_with_logits", "sigmoid_cross_entropy"),
    constraints={"from_logits": boolean(), "pos_weight": per_class(number=True), **PLAIN},
    summary="Binary cross-entropy of a sigmoid output, for binary and multi-label targets.",
    formula="-[p_w · y · log σ(x) + (1 - y) · log(1 - σ(x))]",
    references=("PyTorch torch.nn.BCEWithLogitsLoss",),
    expects="logits", target="binary", tasks=("binary", "multilabel", "segmentation"), normalization="sigmoid",
)
def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    *,
    from_logits: bool = True,
    pos_weight: float | Tensor | Sequence[float] | None = None,
    reduction: str = "mean",
    sample_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy, on logits by default (log-sigmoid form, stable at any logit).

    Computed as ``(1 - y)·x + (1 + (p_w - 1)·y)·softplus(-x)``.

    Args:
        input: logits (or probabilities with ``from_logits=False``) of any shape ``(N, ...)``.
        target: labels in [0, 1] (0/1 or soft), same shape as ``input``.
        from_logits: False when ``input`` holds probabilities (validated to lie in [0, 1]).
        pos_weight: weight of the positive term: a number, or one per class (dimension 1 of ``input``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> round(float(binary_cross_entropy(torch.tensor([0.0, 2.0]), torch.tensor([1.0, 0.0]))), 4)
    1.41
    """
    float_input(input)
    target = unit_target(input, target)
    probability_input(input, from_logits)
    pw = _pos_weight(pos_weight, input)
    check_weight(sample_weight, input.shape[0])
    if not from_logits and not values_checked():  # PyTorch asserts p in [0, 1] on the device: keep unchecked p in
        input = torch.nan_to_num(input.clamp(0.0, 1.0), nan=0.5)  # it (an undefined number, never a device assert)
    # PyTorch's fused reduction follows the rule of reduce(), but for an empty mean (NaN there, 0 here)
    if from_logits and sample_weight is None and (reduction != "mean" or input.numel()):
        return F.binary_cross_entropy_with_logits(input, target, pos_weight=pw, reduction=reduction)
    if from_logits:
        loss = F.binary_cross_entropy_with_logits(input, target, pos_weight=pw, reduction="none")
    elif pw is None:
        loss = F.binary_cross_entropy(input, target, reduction="none")
    else:  # PyTorch's probability BCE has no pos_weight: weight the positive and negative terms apart
        loss = (pw * target * F.binary_cross_entropy(input, torch.ones_like(input), reduction="none")
                + (1 - target) * F.binary_cross_entropy(input, torch.zeros_like(input), reduction="none"))
    return reduce(loss, reduction, sample_weight)




def _clamped_log(p: Tensor) -> Tensor:
    """log p of probabilities, clamped before the log so the gradient at p = 0 is 0 and not 0 · inf."""
    return p.clamp_min(torch.finfo(p.dtype).tiny).log()



def _focal_rules(params: Any) -> None:
    """alpha: one number in [0, 1] for binary/multilabel, one per class for multiclass; ignore_index: multiclass."""
    task, alpha = params["task"], params["alpha"]
    if task == "multiclass":
        if alpha is not None and not isinstance(alpha, Tensor) and isinstance(alpha, (int, float)):
            raise problem(ConfigError, "alpha", "to be one weight per class for task='multiclass'", repr(alpha),
                          "pass alpha=[w0, w1, ...]")
    elif alpha is not None:
        unit_interval(alpha, "alpha")
    if params["ignore_index"] is not None and task != "multiclass":
        raise problem(ConfigError, "ignore_index", "to be None unless task='multiclass'", repr(params["ignore_index"]),
                      "drop the ignored elements or give them weight 0")


@REGISTRY.register(
    aliases=("focal_loss", "sigmoid_focal"),
    constraints={"gamma": NON_NEGATIVE, "alpha": per_class(number=True), **TASK, **PLAIN},
    rules=_focal_rules,
    summary="Focal loss: cross-entropy scaled by (1 - p_t)^γ, which down-weights easy examples (imbalance, detection).",
    formula="-α_t · (1 - p_t)^γ · log p_t",
    references=("Lin et al. 2017, Focal Loss for Dense Object Detection",),
    expects="logits", target="binary", tasks=("binary", "multilabel", "multiclass", "segmentation"),
    normalization={"binary": "sigmoid", "multilabel": "sigmoid", "multiclass": "softmax"},
    for_imbalance=True,
)
def focal(
    input: Tensor,
    target: Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | Sequence[float] | Tensor | None = None,
    task: str = "binary",
    from_logits: bool = True,
    ignore_index: int | None = None,
    reduction: str = "mean",
    sample_weight: Tensor | None = None,
) -> Tensor:
    """Focal loss (sigmoid for binary and multi-label, softmax for multiclass).

    ``p_t`` is the probability of the true label. For soft binary targets ``t`` the loss is the expectation over the
    label, ``t·ℓ(x, 1) + (1 - t)·ℓ(x, 0)``. ``γ = 0`` is the (α-weighted) cross-entropy exactly: binary
    cross-entropy, or :func:`cross_entropy` with ``class_weight=alpha`` (the mean divides by the summed α of the
    targets, as there).

    Stable at any logit: ``log p_t`` is a log-sigmoid / log-softmax and ``(1 - p_t)^γ`` comes from
    ``σ(-z)`` or ``-expm1(log p_t)``; the gradient is written out without the ``(1 - p_t)^(γ-1)`` factor that is
    infinite for γ < 1 at ``p_t = 1`` (the NaN of kornia #918 and optax #1267).

    Args:
        input: logits (probabilities with ``from_logits=False``): any shape ``(N, ...)`` for binary/multilabel,
            ``(N, C, d1, ...)`` for multiclass.
        target: binary/multilabel: labels in [0, 1] of the input's shape; multiclass: class indices ``(N, d1, ...)``.
        gamma: focusing parameter γ ≥ 0.
        alpha: binary/multilabel: the weight α of positives (negatives get 1 - α); multiclass: one weight per class.
            None weighs all alike.
        task: ``"binary"``, ``"multilabel"`` or ``"multiclass"``.
        from_logits: False when ``input`` holds probabilities (validated).
        ignore_index: multiclass only: a label whose positions count for nothing.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> x = torch.tensor([3.0, -1.0, 0.5])
    >>> round(float(focal(x, torch.tensor([1.0, 0.0, 0.0]), gamma=2.0)), 4)
    0.1334
    """
    gamma = float(gamma)
    if task == "multiclass":
        return _softmax_focal(input, target, gamma, alpha, from_logits, ignore_index, reduction, sample_weight)
    float_input(input)
    check_weight(sample_weight, input.shape[0])
    a = None if alpha is None else float(alpha)
    check_tensor(target, "target")
    # The fused kernel checks the targets and picks its hard/soft form by reading them (a host sync): eager and
    # validating only. Compiled, or with validate=False, the composite below (no sync; inductor fuses it).
    if from_logits and not target.requires_grad and values_checked():
        check_same_shape(input, target)
        if target.dtype != input.dtype:
            target = target.to(input.dtype)
        # SigmoidFocal checks the target range in its own pass over the data
        if fusable(reduction, sample_weight):
            return finish(SigmoidFocal.apply(input, target, gamma, a, True), reduction, input.numel())
        return reduce(SigmoidFocal.apply(input, target, gamma, a, False), reduction, sample_weight)
    target = unit_target(input, target)
    probability_input(input, from_logits)
    if from_logits and gamma >= 1 and torch.compiler.is_compiling():  # one exp and one log1p, which inductor fuses
        u = -input
        e = torch.exp(u.clamp_max(88.0))  # e^u, finite: past 88, q = 1 and nlp = u anyway
        q = e / (1 + e)  # 1 - p = σ(-x)
        # -log p = softplus(-x) (= u past where e^-u is below the dtype's precision); -log(1 - p) = nlp + x
        nlp = torch.where(u > (40.0 if input.dtype == torch.float64 else 20.0), u, torch.log1p(e))
        w_pos, w_neg = target * q.pow(gamma), (1 - target) * (1 - q).pow(gamma)  # slopes γ·q^(γ-1) finite for γ ≥ 1
        if a is not None:
            w_pos, w_neg = a * w_pos, (1 - a) * w_neg
        return reduce((w_pos + w_neg) * nlp + w_neg * input, reduction, sample_weight)
    if from_logits:  # eager without the value checks: plain ops, saving less for backward; -log q = -log p + x
        nlp = F.softplus(-input)
        if gamma >= 1:  # (1 - p)^γ = σ(-x)^γ, whose slope γ·σ(-x)^(γ-1) is finite
            positive_part = torch.sigmoid(-input).pow(gamma) * nlp
            negative_part = torch.sigmoid(input).pow(gamma) * (nlp + input)
        else:  # γ < 1: (1 - p)^γ = exp(-γ·softplus(x)), finite slope where σ(-x) underflows to 0
            positive_part = torch.exp(-gamma * (nlp + input)) * nlp
            negative_part = torch.exp(-gamma * nlp) * (nlp + input)
    else:
        log_p, log_q = _clamped_log(input), _clamped_log(1 - input)
        positive_part = FocalOfLogProb.apply(log_p, gamma)
        negative_part = FocalOfLogProb.apply(log_q, gamma)
    if a is not None:
        positive_part, negative_part = a * positive_part, (1 - a) * negative_part
    return reduce(torch.lerp(negative_part, positive_part, target), reduction, sample_weight)


def _softmax_focal(input: Tensor, target: Tensor, gamma: float, alpha: Any, from_logits: bool,
                   ignore_index: int | None, reduction: str, sample_weight: Tensor | None) -> Tensor:
    float_input(input, at_least=2)
    target = class_index_target(input, target, ignore_index)
    probability_input(input, from_logits)
    check_weight(sample_weight, input.shape[0])
    mask = None if ignore_index is None else target != ignore_index
    index = target if mask is None else torch.where(mask, target, 0)
    if from_logits:
        log_p = F.log_softmax(input, dim=1).gather(1, index.unsqueeze(1)).squeeze(1)
    else:
        log_p = _clamped_log(input.gather(1, index.unsqueeze(1)).squeeze(1))
    if mask is not None:  # an ignored position reads class 0, maybe at logit -inf: its log p must not reach the
        log_p = torch.where(mask, log_p, 0.0)  # focal term (0 · inf = NaN in the gradient); log p = 0 costs nothing
    loss = FocalOfLogProb.apply(log_p, gamma)
    denom = None
    if alpha is not None:
        denom = class_vector(alpha, "alpha", input.shape[1], input)[index]
        loss = loss * denom
    return reduce(loss, reduction, sample_weight, mask=mask, denom=denom)



@REGISTRY.register(
    aliases=("kl_divergence", "kullback_leibler"),
    constraints={"from_logits": boolean(), **PLAIN},
    summary="Kullback–Leibler divergence KL(target ‖ softmax(logits)): distillation and soft targets.",
    formula="Σ_c t_c · (log t_c - log_softmax(x)_c), with 0 · log 0 = 0",
    references=("Kullback & Leibler 1951, On Information and Sufficiency",
                "Hinton et al. 2015, Distilling the Knowledge in a Neural Network"),
    expects="logits", target="soft_labels", tasks=("multiclass",), normalization="softmax",
)
def kl_div(input: Tensor, target: Tensor, *, from_logits: bool = True, reduction: str = "mean",
           sample_weight: Tensor | None = None) -> Tensor:
    """KL divergence from the predicted distribution to the target distribution, over dimension 1.

    One value per sample, with the probabilities ``q = softmax(x)``. The mean is over samples (and spatial
    positions), the sum over classes — the true batch mean, unlike PyTorch's ``reduction="mean"`` that also divides
    by the number of classes.

    Args:
        input: logits ``(N, C, d1, ...)`` (probabilities with ``from_logits=False``).
        target: class probabilities of the same shape (rows summing to 1).
        from_logits: False when ``input`` holds probabilities (validated).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (shape ``(N, d1, ...)``).
        sample_weight: per-sample weights ``(N,)``.

    >>> x = torch.tensor([[0.0, 0.0]])
    >>> round(float(kl_div(x, torch.tensor([[1.0, 0.0]]))), 4)
    0.6931
    """
    float_input(input, at_least=2)
    target = unit_target(input, target, "class probabilities")
    probability_input(input, from_logits)
    check_weight(sample_weight, input.shape[0])
    log_q = F.log_softmax(input, dim=1) if from_logits else _clamped_log(input)
    loss = (torch.special.xlogy(target, target) - target * log_q).sum(1)
    return reduce(loss, reduction, sample_weight)
