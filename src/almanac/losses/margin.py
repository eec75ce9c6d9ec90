"""Margin (hinge) losses on raw scores."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from almanac._checks import values_checked
from almanac.errors import TargetError, problem
from almanac.losses._autograd import Elementwise, hinge_kernel
from almanac.losses._common import PLAIN, class_index_target, float_input, real_target
from almanac.losses._modules import REGISTRY
from almanac.losses._reduction import check_weight, finish, fusable, reduce
from almanac.registry import choice, real

__all__ = ["hinge", "multiclass_hinge", "squared_hinge"]

_LABELS_FIX = "pass labels in {0, 1} or in {-1, 1}"


def _binary_hinge(input: Tensor, target: Tensor, squared: bool, reduction: str, sample_weight: Tensor | None) -> Tensor:
    float_input(input)
    target = real_target(input, target)
    check_weight(sample_weight, input.shape[0])
    if torch.compiler.is_compiling():  # plain ops, which inductor fuses; the chunked kernel is for eager mode
        return reduce(_CompiledHinge.apply(input, target, squared), reduction, sample_weight)
    summed = fusable(reduction, sample_weight)
    check = values_checked() and target.numel() > 0
    counts = input.new_zeros(2, dtype=torch.float64) if check else None
    out = Elementwise.apply(input, target, hinge_kernel(squared, check), 1, summed, False, counts)
    if counts is not None:  # labels all in {0, 1} or all in {-1, 1}, counted in the kernel's pass: one host sync
        not_01, not_pm1 = counts.tolist()
        if not_01 and not_pm1:
            kind = "{-1, 1}" if not_01 < target.numel() and bool((target < 0).any()) else "{0, 1}"
            raise problem(TargetError, "target", f"to hold labels in {kind}", "other values", _LABELS_FIX)
    return finish(out, reduction, input.numel()) if summed else reduce(out, reduction, sample_weight)



class _CompiledHinge(torch.autograd.Function):
    """The elementwise hinge under ``torch.compile``, in arithmetic that inductor fuses into one pass: max(0, m) is
    (m + |m|) / 2 and the saved slope is a float, never a boolean mask (inductor stores the mask of a clamp one byte at
    a time, several times slower than the loss itself). Same values and slopes as the eager kernel, ties included."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, t: Tensor, squared: bool) -> Tensor:
        s = torch.sign(2 * t - 1)  # +1 for a positive label, -1 for 0 or -1
        m = 1 - s * x
        hinge = (m + m.abs()) * 0.5
        ctx.save_for_backward(-2 * s * hinge if squared else -s * torch.sign(hinge))
        return hinge * hinge if squared else hinge

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        (slope,) = ctx.saved_tensors
        return grad * slope, None, None


@REGISTRY.register(
    aliases=("binary_hinge",),
    constraints=PLAIN,
    summary="Hinge loss of a binary max-margin classifier (SVM): zero once the score is beyond the margin.",
    formula="max(0, 1 - s·x), s = ±1",
    references=("Cortes & Vapnik 1995, Support-Vector Networks",),
    expects="logits", target="binary", tasks=("binary",), normalization="margin",
)
def hinge(input: Tensor, target: Tensor, *, reduction: str = "mean", sample_weight: Tensor | None = None) -> Tensor:
    """Binary hinge loss on raw scores.

    ``{0, 1}`` labels map to ``s = 2t - 1``.

    Args:
        input: scores ``(N, ...)``, floating point.
        target: labels in ``{0, 1}`` or ``{-1, 1}``, same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(hinge(torch.tensor([2.0, 0.5, 0.0]), torch.tensor([1.0, 1.0, 0.0])))
    0.5
    """
    return _binary_hinge(input, target, False, reduction, sample_weight)


@REGISTRY.register(
    aliases=("l2_hinge",),
    constraints=PLAIN,
    summary="Squared hinge: a smooth hinge whose gradient grows with the margin violation.",
    formula="max(0, 1 - s·x)², s = ±1",
    references=("Lee & Mangasarian 2001, SSVM: A Smooth Support Vector Machine",),
    expects="logits", target="binary", tasks=("binary",), normalization="margin",
)
def squared_hinge(input: Tensor, target: Tensor, *, reduction: str = "mean",
                  sample_weight: Tensor | None = None) -> Tensor:
    """Squared binary hinge loss on raw scores.

    ``{0, 1}`` labels map to ``s = 2t - 1``.

    Args:
        input: scores ``(N, ...)``, floating point.
        target: labels in ``{0, 1}`` or ``{-1, 1}``, same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(squared_hinge(torch.tensor([2.0, 0.5, 0.0]), torch.tensor([1.0, 1.0, 0.0])))
    0.4166666567325592
    """
    return _binary_hinge(input, target, True, reduction, sample_weight)


_KINDS = ("weston_watkins", "crammer_singer")



@REGISTRY.register(
    aliases=("multi_margin", "multiclass_svm"),
    constraints={"margin": real(0.0), "kind": choice(*_KINDS), **PLAIN},
    summary="Multiclass hinge: the true class must beat the others by a margin (Weston–Watkins or Crammer–Singer).",
    formula="WW: Σ_{c≠y} max(0, m - x_y + x_c);  CS: max(0, m - x_y + max_{c≠y} x_c)",
    references=("Weston & Watkins 1999, Support Vector Machines for Multi-Class Pattern Recognition",
                "Crammer & Singer 2001, On the Algorithmic Implementation of Multiclass Kernel-based Vector Machines"),
    expects="logits", target="class_indices", tasks=("multiclass",), normalization="margin",
)
def multiclass_hinge(input: Tensor, target: Tensor, *, margin: float = 1.0, kind: str = "weston_watkins",
                     reduction: str = "mean", sample_weight: Tensor | None = None) -> Tensor:
    """Multiclass hinge loss on scores ``(N, C, d1, ...)`` and class indices ``(N, d1, ...)``.

    Weston–Watkins is the papers' sum; PyTorch's ``multi_margin_loss`` also divides by C.

    Args:
        input: scores ``(N, C, d1, ...)``, floating point.
        target: class indices ``(N, d1, ...)``.
        margin: m ≥ 0.
        kind: ``"weston_watkins"`` or ``"crammer_singer"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> x = torch.tensor([[2.0, 1.5, 0.0]])
    >>> y = torch.tensor([0])
    >>> float(multiclass_hinge(x, y)), float(multiclass_hinge(x, y, kind="crammer_singer"))
    (0.5, 0.5)
    """
    float_input(input, at_least=2)
    target = class_index_target(input, target, None)
    check_weight(sample_weight, input.shape[0])
    index = target.unsqueeze(1)
    true_score = input.gather(1, index)
    if kind == "weston_watkins":
        violations = (input - true_score + margin).clamp_min(0.0)
        loss = violations.sum(1) - violations.gather(1, index).squeeze(1)  # drop the c = y term (= margin)
    else:
        others = input.scatter(1, index, float("-inf"))
        loss = (others.amax(1) - true_score.squeeze(1) + margin).clamp_min(0.0)
    return reduce(loss, reduction, sample_weight)
