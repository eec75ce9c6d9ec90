"""Argument checks shared by the losses (tensor layout, targets, hyperparameters). One pass over a tensor each.

Checks that read values go through :func:`in_range` / :func:`finite`, which run only when
:func:`almanac._checks.values_checked` allows it (eager mode, validation on): see :mod:`almanac._checks` for the cost.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from almanac._checks import (
    check_class_indices,
    check_finite,
    check_floating,
    check_in_range,
    check_number,
    check_probabilities,
    check_same_shape,
    check_tensor,
    values_checked,
)
from almanac.errors import ConfigError, DomainError, ShapeError, TargetError, problem
from almanac.registry import boolean, choice, instance, integer, real

__all__ = [
    "NON_NEGATIVE",
    "PLAIN",
    "POSITIVE",
    "TASK",
    "check_alpha_beta",
    "class_index_target",
    "class_vector",
    "finite",
    "float_input",
    "in_range",
    "positive",
    "probability_input",
    "real_target",
    "unit_interval",
    "unit_target",
]


# The constraints the losses share, declared in each loss's register(constraints=...).
PLAIN = {"reduction": choice("mean", "sum", "none"), "sample_weight": instance(Tensor)}
TASK = {"task": choice("binary", "multiclass", "multilabel"), "from_logits": boolean(),
        "ignore_index": integer(optional=True)}
NON_NEGATIVE = real(0.0)
POSITIVE = real(0.0, low_open=True)


def check_alpha_beta(params: Any) -> None:
    """Tversky's α + β > 0 (a rule across two parameters)."""
    if params["alpha"] + params["beta"] == 0:
        raise problem(ConfigError, "alpha + beta", "to be > 0", "0", "pass alpha=0.5, beta=0.5 (Dice)")


def in_range(value: Tensor, name: str, low: float, high: float, error: type = DomainError, fix: str = "") -> None:
    """:func:`~almanac._checks.check_in_range` when values are checked (one ``aminmax`` and one host sync)."""
    if values_checked():
        check_in_range(value, name, low, high, error, fix)


def finite(value: Tensor, name: str) -> None:
    """:func:`~almanac._checks.check_finite` when values are checked (one reduction and one host sync)."""
    if values_checked():
        check_finite(value, name)


def float_input(input: Tensor, name: str = "input", *, at_least: int = 1) -> Tensor:
    """A floating-point tensor with at least ``at_least`` dimensions."""
    check_tensor(input, name)
    check_floating(input, name)
    if input.ndim < at_least:
        raise problem(ShapeError, name, f"to have ≥ {at_least} dimensions (batch first)", f"shape {tuple(input.shape)}",
                      "add the batch dimension, for example with .unsqueeze(0)")
    return input


def probability_input(input: Tensor, from_logits: bool) -> None:
    """With ``from_logits=False`` the input holds probabilities (DomainError)."""
    if not from_logits and values_checked():
        check_probabilities(input, "input")


def real_target(input: Tensor, target: Any, name: str = "target") -> Tensor:
    """A real-valued target of the input's shape, in the input's dtype."""
    check_tensor(target, name)
    check_same_shape(input, target, "input", name)
    if target.is_complex():
        raise problem(TargetError, name, "to hold real numbers", f"dtype {target.dtype}", "pass a real tensor")
    return target if target.dtype == input.dtype else target.to(input.dtype)


def unit_target(input: Tensor, target: Any, what: str = "binary targets") -> Tensor:
    """A target of the input's shape with values in [0, 1] (TargetError), in the input's dtype. One ``aminmax``."""
    target = real_target(input, target)
    in_range(target, "target", 0.0, 1.0, TargetError,
             f"pass {what} in [0, 1] (0/1 labels or probabilities); map {{-1, 1}} labels with (t + 1) / 2")
    return target


def class_index_target(input: Tensor, target: Any, ignore_index: int | None) -> Tensor:
    """Integer class indices of shape ``(N, d1, ...)`` for scores ``(N, C, d1, ...)``, in [0, C) or ignored; returned
    as int64 (any integer dtype is read as indices: uint8 masks from PNG files, int32, ...).

    Float labels where indices are needed raise TargetError; other shapes raise ShapeError. The range check (one
    ``aminmax`` in the common case, every label valid) runs when values are checked.
    """
    check_tensor(target, "target")
    expected = (input.shape[0], *input.shape[2:])
    if target.shape != expected:
        fix = ("squeeze the trailing 1 of `target`" if target.shape == (*expected, 1)
               else "pass class indices of shape (N, d1, ...) or probabilities of the scores' shape")
        raise problem(ShapeError, "target", f"to have shape {expected} for scores of shape {tuple(input.shape)}",
                      f"{tuple(target.shape)}", fix)
    if target.is_floating_point() or target.dtype == torch.bool or target.is_complex():
        raise problem(TargetError, "target", "to hold integer class indices", f"dtype {target.dtype}",
                      "pass target.long(), or probabilities of the same shape as the scores")
    target = target if target.dtype == torch.int64 else target.long()
    if values_checked():
        _index_range(target, input.shape[1], ignore_index)
        return target
    return in_bounds(target, input.shape[1], ignore_index)


def in_bounds(target: Tensor, num_classes: int, ignore_index: int | None) -> Tensor:
    """Unchecked class indices clamped into [0, C) (``ignore_index`` kept): a wrong label gives a wrong number, never
    an out-of-bounds read (a device-side assert that kills the CUDA context). One elementwise pass, no sync."""
    safe = target.clamp(0, num_classes - 1)
    return safe if ignore_index is None else torch.where(target == ignore_index, target, safe)


def _index_range(target: Tensor, num_classes: int, ignore_index: int | None) -> None:
    if target.numel():
        lo, hi = torch.aminmax(target)
        if lo.item() >= 0 and hi.item() < num_classes:
            return
    check_class_indices(target, "target", num_classes, ignore_index)


def class_vector(value: Any, name: str, num_classes: int, like: Tensor) -> Tensor:
    """A per-class vector (``class_weight``, ``alpha``): a sequence or tensor of C finite non-negative numbers."""
    vector = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if vector.shape != (num_classes,):
        raise problem(ShapeError, name, f"to hold one value per class, shape ({num_classes},)",
                      f"shape {tuple(vector.shape)}", f"pass {num_classes} values")
    if values_checked():
        _finite_non_negative(vector, name)
    return vector


def _finite_non_negative(vector: Tensor, name: str) -> None:
    check_in_range(vector, name, 0.0, math.inf, ConfigError, f"pass finite, non-negative {name}")
    if vector.numel() and not bool(torch.isfinite(vector).all()):
        raise problem(ConfigError, name, "to be finite", "inf", f"pass finite, non-negative {name}")



def positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """A finite positive (or non-negative) number (ConfigError)."""
    return check_number(value, name, low=0.0, high=math.inf, low_open=not allow_zero, high_open=True)


def unit_interval(value: Any, name: str) -> float:
    """A number in [0, 1] (ConfigError)."""
    return check_number(value, name, low=0.0, high=1.0)
