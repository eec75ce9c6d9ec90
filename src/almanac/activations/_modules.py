"""The object form of an activation: a thin ``nn.Module`` that calls the pure function.

The module holds configuration (the keyword parameters) and, for ``prelu`` and ``silu(learnable=True)``, the
learnable tensors, passed to the function by keyword on every call. It adds no arithmetic. ``torch.jit.script``
compiles, in its place, the function's TorchScript kernel (``_script``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from almanac.activations._script import scripted

__all__ = ["Activation"]


class Activation(nn.Module):
    """``function(input, **params, **learnable)`` as an ``nn.Module``.

    ``function`` is a module-level function, so the module pickles and deep-copies; learnable tensors are
    ``nn.Parameter``s and appear in ``state_dict()``.
    """

    def __init__(
        self,
        name: str,
        function: Callable[..., Tensor],
        params: Mapping[str, Any] | None = None,
        learnable: Mapping[str, Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.function = function
        self.params = dict(params or {})
        for key, value in (learnable or {}).items():
            self.register_parameter(key, nn.Parameter(torch.as_tensor(value, dtype=torch.get_default_dtype())))

    def forward(self, input: Tensor) -> Tensor:
        return self.function(input, **self.params, **self._parameters)

    def __prepare_scriptable__(self) -> nn.Module:
        """What ``torch.jit.script`` compiles: the function's declared kernel with the configuration as typed
        constants and this module's parameters (shared, same names); see ``_script``."""
        return scripted(self.name, self.function, self.params, dict(self._parameters))

    def extra_repr(self) -> str:
        shown = [self.name, *(f"{k}={v!r}" for k, v in self.params.items())]
        shown += [f"{k}=<learnable {tuple(p.shape)}>" for k, p in self._parameters.items()]
        return ", ".join(shown)
