"""The one reduction helper of the loss catalog: ``reduction``, per-sample ``sample_weight`` and ignore masks.

Every loss computes an unreduced loss (one value per element, or per sample) and hands it to :func:`reduce`.
The rule, the same for every loss:

* ``weight`` (the loss's ``sample_weight``, shape ``(N,)``) multiplies the losses of sample ``i`` by ``weight[i]``;
* ``mask`` (the shape of the loss, ``False`` where the target is ``ignore_index``) zeroes ignored elements;
* ``denom`` (optional, the shape of the loss) is what each kept element counts for in the mean, for example the
  class weight of its target in a class-weighted cross-entropy (PyTorch's convention);
* ``"none"`` returns the weighted, masked losses; ``"sum"`` their sum; ``"mean"`` their sum divided by the sum of
  the weights of the kept elements, so ``weight=None`` is the plain mean of the kept elements and a batch where every
  element is ignored (or weighs 0) has loss 0 with a zero gradient, never NaN.
"""

from __future__ import annotations

import torch
from torch import Tensor

from almanac._checks import check_finite, check_floating, check_in_range, check_tensor, values_checked
from almanac.errors import ShapeError, problem

__all__ = ["check_weight", "finish", "fusable", "reduce"]

def check_weight(weight: Tensor | None, n: int, hint: str = "") -> Tensor | None:
    """A ``sample_weight``: a finite, non-negative float tensor of shape ``(N,)`` (ShapeError, DomainError)."""
    if weight is None:
        return None
    check_tensor(weight, "sample_weight")
    check_floating(weight, "sample_weight")
    if weight.shape != (n,):
        raise problem(ShapeError, "sample_weight", f"to hold one weight per sample, shape ({n},)",
                      f"shape {tuple(weight.shape)}", hint or "pass a 1-d tensor with one weight per sample")
    if values_checked():
        check_finite(weight, "sample_weight")
        check_in_range(weight, "sample_weight", 0.0, float("inf"), fix="pass non-negative weights")
    return weight


def _per_sample(weight: Tensor, like: Tensor) -> Tensor:
    return weight.to(like.dtype).view(weight.shape[0], *([1] * (like.ndim - 1)))


def reduce(
    loss: Tensor,
    reduction: str,
    weight: Tensor | None = None,
    *,
    mask: Tensor | None = None,
    denom: Tensor | None = None,
) -> Tensor:
    """Reduce an unreduced ``loss`` of shape ``(N, ...)`` (see the module docstring for the rule)."""
    if mask is not None:
        loss = torch.where(mask, loss, loss.new_zeros(()))
    if weight is not None:
        loss = loss * _per_sample(weight, loss)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if mask is None and denom is None and weight is None:
        return total / max(loss.numel(), 1)
    if mask is None and denom is None:  # only a per-sample weight: each sample counts for its elements
        count = weight.to(loss.dtype).sum() * (loss.numel() // max(loss.shape[0], 1))
    else:
        if denom is None:
            count = mask.to(loss.dtype)
        else:
            count = denom if mask is None else torch.where(mask, denom, denom.new_zeros(()))
        if weight is not None:
            count = count * _per_sample(weight, count)
        count = count.sum()
    # Nothing kept (every element ignored or weighing 0): the numerator is 0 too, so the loss is 0, not NaN.
    return total / count.clamp_min(torch.finfo(loss.dtype).tiny)


def fusable(reduction: str, weight: Tensor | None) -> bool:
    """True when a fused kernel may sum the loss itself: ``"mean"``/``"sum"`` with no per-sample weight."""
    return reduction != "none" and weight is None


def finish(total: Tensor, reduction: str, count: int) -> Tensor:
    """The reduction of a loss a fused kernel already summed over ``count`` elements (see :func:`fusable`)."""
    return total / max(count, 1) if reduction == "mean" else total
