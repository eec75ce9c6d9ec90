"""Validation at the public edge. Kernels behind it assume valid input.

Every check raises one of the typed errors of :mod:`almanac.errors` with the message template of
:func:`almanac.errors.problem`: what was expected, what came, and the fix. Checks that read values
(ranges, finiteness) cost one reduction each; call them once per public call, never inside a loop.

Two kinds of checks, two costs:

* shape, dtype and hyperparameter checks read only metadata: no kernel, no host sync, nothing in a compiled graph.
  They are always on.
* value checks (label ranges, probabilities in [0, 1], finiteness) run one reduction over the tensor and read the
  result on the host: one device-to-host sync per check on a GPU, a graph break under ``torch.compile``. They run
  only when :func:`values_checked` says so: in eager mode (never while compiling, tracing or exporting), unless
  turned off globally (:func:`set_validation`, :func:`validation`) or per call (``validate=False``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from almanac.errors import ConfigError, DomainError, ShapeError, TargetError, problem

__all__ = [
    "check_choice",
    "check_class_indices",
    "check_finite",
    "check_floating",
    "check_in_range",
    "check_ndim",
    "check_number",
    "check_per_class",
    "check_probabilities",
    "check_same_shape",
    "check_tensor",
    "is_tensor",
    "set_validation",
    "to_tensor",
    "validation",
    "values_checked",
]

_ENABLED = True  # the global switch of the value checks (set_validation)
# the ``validate=`` of the call in progress in this thread or task (None: unset); a ContextVar reads in ~50 ns
_LOCAL: contextvars.ContextVar[bool | None] = contextvars.ContextVar("almanac_validate", default=None)


def set_validation(enabled: bool) -> None:
    """Turn the value checks on or off for the whole process (shape, dtype and parameter checks stay on).

    Off, bad values (labels out of range, probabilities outside [0, 1], NaN) give undefined numbers instead of a
    :class:`~almanac.errors.TargetError` / :class:`~almanac.errors.DomainError`, and a GPU step has no host sync.
    """
    global _ENABLED
    if not isinstance(enabled, bool):
        raise problem(ConfigError, "enabled", "to be True or False", repr(enabled), "pass True or False")
    _ENABLED = enabled


@contextlib.contextmanager
def validation(enabled: bool) -> Iterator[None]:
    """``with validation(False): ...`` — :func:`set_validation` for a block, restored on exit.

    >>> import torch
    >>> import almanac as am
    >>> with am.losses.validation(False):
    ...     am.losses.values_checked()
    False
    """
    previous = _ENABLED
    set_validation(enabled)
    try:
        yield
    finally:
        set_validation(previous)


def values_checked() -> bool:
    """Whether a value check (one reduction and one host sync) should run now: eager mode, and not turned off."""
    if not compiler_free():
        return False
    local = _LOCAL.get()
    return _ENABLED if local is None else local


@contextlib.contextmanager
def call_validation(validate: bool | None) -> Iterator[None]:
    """The ``validate=`` keyword of one call (None: the global switch decides), for the checks it makes."""
    if validate is None or torch.compiler.is_compiling():  # compiled: value checks are off anyway
        yield
        return
    if not isinstance(validate, bool):
        raise problem(ConfigError, "validate", "to be True, False or None", repr(validate),
                      "pass validate=False to skip the value checks")
    token = _LOCAL.set(validate)
    try:
        yield
    finally:
        _LOCAL.reset(token)


def check_choice(value: Any, name: str, allowed: Iterable[Any]) -> Any:
    """``value`` must be one of ``allowed`` (ConfigError)."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise problem(ConfigError, name, f"to be one of {', '.join(map(repr, allowed))}", repr(value),
                      f"pass {name}={allowed[0]!r} or another of these")
    return value


def check_number(
    value: Any,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> Any:
    """``value`` must be a real number (an int when ``integer``) in the interval given (ConfigError).

    NumPy scalars count (``num_classes=y.max() + 1``); the value comes back as a Python ``int`` or ``float``.
    """
    kind = "an integer" if integer else "a number"
    ok_type = isinstance(value, numbers.Integral if integer else numbers.Real)
    if isinstance(value, (bool, np.bool_)) or not ok_type:
        raise problem(ConfigError, name, f"to be {kind}", f"{value!r} ({type(value).__name__})",
                      f"pass {name} as {kind}")
    value = int(value) if isinstance(value, numbers.Integral) else float(value)
    lo_ok = value > low if low_open else value >= low
    hi_ok = value < high if high_open else value <= high
    if not (lo_ok and hi_ok) or (not integer and math.isnan(value)):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise problem(ConfigError, name, f"to be in {interval}", repr(value), f"pass {name} within {interval}")
    return value


def is_tensor(value: Any) -> bool:
    """Whether ``value`` is a ``torch.Tensor``."""
    return isinstance(value, torch.Tensor)


def check_per_class(value: Any, name: str, *, number: bool = False) -> None:
    """A per-class vector: a 1-d sequence or tensor of finite non-negative numbers (``number``: or one number).

    Reads the values of a tensor (one host sync): call it once, when the hyperparameter is given.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        if number:
            check_number(value, name, low=0.0, high=math.inf, low_open=True, high_open=True)
            return
        raise problem(ConfigError, name, "to be a sequence with one value per class", repr(value),
                      f"pass {name}=[w0, w1, ...]")
    try:
        vector = torch.as_tensor(value).detach().double()
    except (TypeError, ValueError, RuntimeError) as error:  # strings, ragged lists: say what is wrong
        raise problem(ConfigError, name, "to be a 1-d sequence of numbers", repr(value),
                      f"pass {name}=[w0, w1, ...]") from error
    if vector.ndim != 1 and not (number and vector.ndim == 0):
        raise problem(ConfigError, name, "to be a 1-d sequence of numbers", f"shape {tuple(vector.shape)}",
                      f"pass {name}=[w0, w1, ...]")
    reads = values_checked() if isinstance(value, torch.Tensor) else True  # a list is on the host already
    if vector.numel() and reads and not bool(torch.isfinite(vector).all() and (vector >= 0).all()):
        raise problem(ConfigError, name, "to hold finite, non-negative numbers", repr(value),
                      f"pass finite, non-negative {name}")


def compiler_free() -> bool:
    """Not compiling, tracing or exporting: a check may read a tensor's values. Runs on every loss call, so it reads
    the exporters' flags directly where it can (``torch.onnx.is_in_onnx_export()`` imports two modules on each call,
    ~1 µs)."""
    return not (torch.compiler.is_compiling() or torch._C._is_tracing() or _in_onnx_export()())


@functools.cache
def _in_onnx_export() -> Callable[[], bool]:
    """A reader of the flags ``torch.onnx.is_in_onnx_export()`` reads (TorchScript and dynamo exporters); that
    function itself where torch keeps them elsewhere."""
    try:
        from torch.onnx._internal.exporter import _flags
        from torch.onnx._internal.torchscript_exporter._globals import GLOBALS
    except ImportError:
        return torch.onnx.is_in_onnx_export
    return lambda: GLOBALS.in_onnx_export or _flags._is_onnx_exporting


def to_tensor(value: Any, name: str) -> torch.Tensor:
    """A tensor from a tensor, NumPy array or (nested) list of numbers (ShapeError/TargetError otherwise)."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic, list, tuple, int, float)):
        array = np.asarray(value)
        if array.dtype == object or array.dtype.kind not in "biuf":
            raise problem(TargetError, name, "to hold numbers", f"dtype {array.dtype}",
                          "convert it to a numeric array")
        return torch.from_numpy(np.ascontiguousarray(array))
    raise problem(TargetError, name, "to be a tensor, NumPy array or list of numbers", type(value).__name__,
                  "convert it with torch.as_tensor")


def check_tensor(value: Any, name: str) -> torch.Tensor:
    """``value`` must be a ``torch.Tensor`` (TargetError)."""
    if not isinstance(value, torch.Tensor):
        raise problem(TargetError, name, "to be a torch.Tensor", type(value).__name__,
                      "convert it with torch.as_tensor")
    return value


def check_floating(value: torch.Tensor, name: str) -> torch.Tensor:
    """``value`` must have a floating dtype (TargetError)."""
    if not value.is_floating_point():
        raise problem(TargetError, name, "to be a floating-point tensor", f"dtype {value.dtype}",
                      f"pass {name}.float()")
    return value


def check_ndim(value: torch.Tensor, name: str, allowed: Sequence[int] | None = None, *, at_least: int = 0) -> None:
    """``value.ndim`` must be one of ``allowed`` and at least ``at_least`` (ShapeError)."""
    if (allowed is not None and value.ndim not in allowed) or value.ndim < at_least:
        want = f"{' or '.join(map(str, allowed))} dimensions" if allowed is not None else f"≥ {at_least} dimensions"
        raise problem(ShapeError, name, f"to have {want}", f"shape {tuple(value.shape)}",
                      "reshape it (for example with .view or .unsqueeze)")


def check_same_shape(a: torch.Tensor, b: torch.Tensor, a_name: str = "input", b_name: str = "target") -> None:
    """Shapes must be equal; almanac never broadcasts silently (ShapeError)."""
    if a.shape != b.shape:
        fix = (f"squeeze the trailing 1 of `{a_name if a.ndim > b.ndim else b_name}`"
               if abs(a.ndim - b.ndim) == 1 and (a.squeeze(-1).shape == b.shape or b.squeeze(-1).shape == a.shape)
               else "pass tensors of the same shape; almanac never broadcasts")
        raise problem(ShapeError, b_name, f"to have the shape of `{a_name}` {tuple(a.shape)}",
                      f"{tuple(b.shape)}", fix)


def check_finite(value: torch.Tensor, name: str) -> None:
    """No NaN or inf in ``value`` (DomainError). One reduction, one sync."""
    if value.is_floating_point() and not bool(torch.isfinite(value).all()):
        bad = int((~torch.isfinite(value)).sum())
        raise problem(DomainError, name, "to be finite", f"{bad} NaN or inf values",
                      "remove or impute them before calling")


def check_in_range(
    value: torch.Tensor, name: str, low: float, high: float, error: type = DomainError, fix: str = ""
) -> None:
    """All values of ``value`` in [low, high], NaN included as a failure. One ``aminmax`` pass."""
    if value.numel() == 0:
        return
    lo, hi = torch.aminmax(value.detach() if value.requires_grad else value)
    lo_v, hi_v = lo.item(), hi.item()
    if not (lo_v >= low and hi_v <= high):  # NaN fails both comparisons
        raise problem(error, name, f"to lie in [{low:g}, {high:g}]", f"min {lo_v:g}, max {hi_v:g}",
                      fix or f"map {name} into [{low:g}, {high:g}]")


def check_probabilities(value: torch.Tensor, name: str, *, logits_keyword: str = "from_logits=True") -> None:
    """Probabilities in [0, 1] (DomainError). Never guesses logits from values: it asks for the keyword."""
    check_in_range(value, name, 0.0, 1.0, DomainError,
                   f"pass probabilities, or pass {logits_keyword} if these are logits")


def check_class_indices(
    target: torch.Tensor,
    name: str,
    num_classes: int | None,
    ignore_index: int | None = None,
    *,
    classes_of: str = "input",
) -> None:
    """Integer class indices in [0, num_classes), ``ignore_index`` allowed (TargetError).

    ``classes_of`` names what sets ``num_classes`` (the scores' class dimension), for the fix the message gives.
    """
    if target.is_floating_point() or target.dtype == torch.bool or target.is_complex():
        raise problem(TargetError, name, "to hold integer class indices", f"dtype {target.dtype}",
                      f"pass {name}.long(), or probabilities of the same shape as the scores")
    if target.numel() == 0 or num_classes is None:
        return
    valid = target if ignore_index is None else target[target != ignore_index]
    if valid.numel() == 0:
        return
    lo, hi = (int(v) for v in torch.aminmax(valid))
    if lo < 0 or hi >= num_classes:
        got = f"min {lo}" if lo < 0 else f"max {hi}"
        fix = (f"fix the labels, or give `{classes_of}` {hi + 1} classes" if hi >= num_classes and lo >= 0
               else "fix the labels" + ("" if ignore_index is None else f" or mark them ignore_index={ignore_index}"))
        raise problem(TargetError, name, f"to hold class indices in [0, {num_classes})", got, fix)
