"""The loss registry and the one generic ``nn.Module`` that ``get(name, **params)`` returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from almanac.registry import LossSpec, Registry

__all__ = ["REGISTRY", "Loss", "checked"]


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
        return {**self._plain, **dict(self.named_buffers(recurse=False))}

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


def checked(check: Callable[..., None]) -> Callable[..., Any]:
    """A factory that validates the hyperparameters with ``check(**params)`` when the module is built."""

    def factory(name: str, **params: Any) -> Loss:
        check(**params)
        return Loss(name, REGISTRY.function(name), **params)

    return factory


def _no_check(**params: Any) -> None:
    del params


_WEIGHT_FIX = ("pass class_weight= for one weight per class (PyTorch's `weight`), or sample_weight= for one weight "
               "per sample")
REGISTRY: Registry[LossSpec] = Registry("loss", LossSpec, default_factory=checked(_no_check),
                                        refused={"weight": _WEIGHT_FIX})
