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

    Tensor hyperparameters (``class_weight``, ``pos_weight``, ``alpha``) are buffers, so ``.to(device)`` moves them.
    """

    def __init__(self, name: str, function: Callable[..., torch.Tensor], **params: Any):
        super().__init__()
        self.name = name
        self.function = function
        self._plain: dict[str, Any] = {}
        for key, value in params.items():
            if isinstance(value, torch.Tensor):
                self.register_buffer(key, value)
            else:
                self._plain[key] = value

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
        return self.function(*inputs, **{**self.params, **overrides})

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
    validate = kwargs.pop("validate", None)
    first = args[0] if args else None
    if not isinstance(first, torch.Tensor):  # gradient_penalty: a critic first, run in the caller's precision
        with call_validation(validate):
            return function(*args, **kwargs)
    device = first.device.type
    autocast = torch.is_autocast_enabled(device)
    low = first.dtype in _LOW_PRECISION
    if low:
        args = tuple(a.float() if isinstance(a, torch.Tensor) and a.dtype in _LOW_PRECISION else a for a in args)
    with call_validation(validate):
        if autocast:
            with torch.autocast(device, enabled=False):
                return function(*args, **kwargs).float()
        out = function(*args, **kwargs)
    return out.to(first.dtype) if low else out


_WEIGHT_FIX = ("pass class_weight= for one weight per class (PyTorch's `weight`), or sample_weight= for one weight "
               "per sample")
def _module(name: str, **params: Any) -> Loss:
    """``get(name, **params)``: the registry checked ``params`` against the spec's constraints on the way in."""
    return Loss(name, REGISTRY.function(name), **params)


REGISTRY: Registry[LossSpec] = Registry("loss", LossSpec, default_factory=_module,
                                        refused={"weight": _WEIGHT_FIX}, call=_call,
                                        common_params={"validate": None}, require_constraints=True)
