"""The loss registry and the one generic ``nn.Module`` that ``get(name, **params)`` returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from almanac._checks import call_validation
from almanac.registry import LossSpec, Registry

__all__ = ["REGISTRY", "Loss"]


class Loss(nn.Module):
    """A loss with its hyperparameters bound: ``forward(*inputs)`` calls the pure function ``name``.

    The bound hyperparameters are checked once, here; a call checks only the keywords given to it (a batch's
    ``sample_weight``). Tensor hyperparameters (``class_weight``, ``pos_weight``, ``alpha``) are buffers, so
    ``.to(device)`` moves them.
    """

    def __init__(self, name: str, function: Callable[..., torch.Tensor], **params: Any):
        super().__init__()
        REGISTRY.check_params(name, params)
        self.name = name
        self.function = function
        self._bind()
        self._plain: dict[str, Any] = {}
        for key, value in params.items():
            if isinstance(value, torch.Tensor):
                self.register_buffer(key, value)
            else:
                self._plain[key] = value

    def _bind(self) -> None:
        """``_run``: the function without the per-call checks of the parameters checked in ``__init__``."""
        registered = self.function is REGISTRY.function(self.name)
        self._run = REGISTRY.unchecked(self.name) if registered else self.function

    def __getstate__(self) -> dict[str, Any]:  # pickled by reference: ``_run`` is a closure, rebound on load
        return {k: v for k, v in self.__dict__.items() if k != "_run"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._bind()

    @property
    def params(self) -> dict[str, Any]:
        """The bound hyperparameters."""
        return {**self._plain, **{k: v for k, v in self._buffers.items() if v is not None}}

    @property
    def spec(self) -> LossSpec:
        """The loss's :class:`~almanac.registry.LossSpec`."""
        return REGISTRY.spec(self.name)

    def forward(self, *inputs: Any, **overrides: Any) -> torch.Tensor:
        """``function(*inputs, **params)``; keywords given here (a batch's ``sample_weight``) override the bound
        ones."""
        params = self.params if self._buffers else self._plain
        if overrides:
            REGISTRY.check_params(self.name, overrides, bound=params)
            params = {**params, **overrides}
        return self._run(*inputs, **params)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self._plain.items())

    def _get_name(self) -> str:
        return f"Loss[{self.name}]"


_LOW_PRECISION = (torch.float16, torch.bfloat16)


def _call(function: Callable[..., torch.Tensor], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Every loss call: the ``validate=`` keyword, and low precision done as torch.nn does it.

    float16 / bfloat16 inputs are computed and accumulated in float32 (no overflowing spatial sums, no lost digits)
    and the loss comes back in the input's dtype; under ``torch.autocast`` the loss runs with autocast off and comes
    back in float32, as torch.nn's losses do.
    """
    if "validate" in kwargs:
        validate = kwargs.pop("validate")
        if validate is not None:
            with call_validation(validate):
                return _call(function, args, kwargs)
    first = args[0] if args else None
    if not isinstance(first, torch.Tensor):  # gradient_penalty: a critic first, run in the caller's precision
        return function(*args, **kwargs)
    low = first.dtype in _LOW_PRECISION
    if low:
        args = tuple(a.float() if isinstance(a, torch.Tensor) and a.dtype in _LOW_PRECISION else a for a in args)
    if torch._C._is_any_autocast_enabled() and torch.is_autocast_enabled(device := first.device.type):
        with torch.autocast(device, enabled=False):
            return function(*args, **kwargs).float()
    out = function(*args, **kwargs)
    return out.to(first.dtype) if low else out


_WEIGHT_FIX = ("pass class_weight= for one weight per class (PyTorch's `weight`), or sample_weight= for one weight "
               "per sample")


def _module(name: str, **params: Any) -> Loss:
    """``get(name, **params)``: the loss module."""
    return Loss(name, REGISTRY.function(name), **params)


REGISTRY: Registry[LossSpec] = Registry("loss", LossSpec, default_factory=_module,
                                        refused={"weight": _WEIGHT_FIX}, call=_call,
                                        common_params={"validate": None}, require_constraints=True)
