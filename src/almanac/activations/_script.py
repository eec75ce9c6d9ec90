"""TorchScript form of the activation modules.

``torch.jit.script`` cannot compile the eager module's ``function(input, **params)`` call, nor the custom
autograd Functions (swiglu, geglu, sparsemax, entmax15, silu with β ≠ 1). So each registered function declares a
*kernel* with ``@scriptable(kernel)``: a plain-tensor formula with typed positional parameters in the order of the
function's own keywords, the same math as the eager path, differentiated by autograd.
``Activation.__prepare_scriptable__`` (the hook ``torch.jit.script`` calls on every module it meets, also inside
a model) hands TorchScript a small module that calls the kernel with the configuration as typed constants and the
learnable tensors under their own names, so ``state_dict`` keys stay those of the eager module and the parameters
are shared with it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from almanac.activations._autograd import _candidates

__all__ = ["KERNEL", "scriptable", "scripted"]

KERNEL = "__script_kernel__"
_F = TypeVar("_F", bound=Callable[..., Any])


def scriptable(kernel: Callable[..., Tensor]) -> Callable[[_F], _F]:
    """Declare ``kernel`` (TorchScript-compilable, positional parameters) as the scripted form of a function."""

    def attach(function: _F) -> _F:
        setattr(function, KERNEL, kernel)
        return function

    return attach


# -- kernels: one per registered function, positional parameters in the function's keyword order ------------------

def relu(x: Tensor) -> Tensor:
    return torch.relu(x)


def leaky_relu(x: Tensor, negative_slope: float) -> Tensor:
    return F.leaky_relu(x, negative_slope)


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    return F.prelu(x, weight.reshape(-1))


def elu(x: Tensor, alpha: float) -> Tensor:
    return F.elu(x, alpha)


def selu(x: Tensor) -> Tensor:
    return F.selu(x)


def celu(x: Tensor, alpha: float) -> Tensor:
    return F.celu(x, alpha)


def gelu(x: Tensor, approximate: str) -> Tensor:
    return F.gelu(x, approximate=approximate)


def silu(x: Tensor, beta: Union[float, Tensor]) -> Tensor:  # noqa: UP007  (TorchScript reads typing.Union)
    if isinstance(beta, Tensor):
        return x * torch.sigmoid(x * beta.to(x.dtype))
    if beta == 1.0:
        return F.silu(x)
    return x * torch.sigmoid(x * beta)


def mish(x: Tensor) -> Tensor:
    return F.mish(x)


def sigmoid(x: Tensor) -> Tensor:
    return torch.sigmoid(x)


def hard_sigmoid(x: Tensor) -> Tensor:
    return F.hardsigmoid(x)


def hard_swish(x: Tensor) -> Tensor:
    return F.hardswish(x)


def tanh(x: Tensor) -> Tensor:
    return torch.tanh(x)


def hard_tanh(x: Tensor) -> Tensor:
    return F.hardtanh(x)


def softplus(x: Tensor, beta: float, threshold: float) -> Tensor:
    # ATen's formula written out, in float32 at least as ATen computes it: TorchScript's own derivative of
    # F.softplus tests the *output* against the threshold (gradient 1 instead of σ(βx) just below it).
    # logaddexp(βx, 0) = log(1 + exp(βx)) without overflow, so neither branch of the where makes an inf or a NaN.
    xf = x.float() if x.dtype == torch.float16 or x.dtype == torch.bfloat16 else x
    bx = xf * beta
    return torch.where(bx > threshold, xf, torch.logaddexp(bx, torch.zeros_like(bx)) / beta).to(x.dtype)


def softsign(x: Tensor) -> Tensor:
    return F.softsign(x)


def identity(x: Tensor) -> Tensor:
    return x


def softmax(x: Tensor, dim: int) -> Tensor:
    return torch.softmax(x, dim)


def log_softmax(x: Tensor, dim: int) -> Tensor:
    return torch.log_softmax(x, dim)


def glu(x: Tensor, dim: int) -> Tensor:
    return F.glu(x, dim)


def _halves(x: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    # chunk(2) of an odd size gives unequal halves, which broadcast silently when one has size 1
    if x.dim() == 0 or x.shape[dim] % 2 != 0:
        raise ValueError("input: expected an even size along dim (split into value and gate)")
    a, b = x.chunk(2, dim)
    return a, b


def swiglu(x: Tensor, dim: int) -> Tensor:
    a, b = _halves(x, dim)
    return F.silu(a) * b


def geglu(x: Tensor, dim: int) -> Tensor:
    a, b = _halves(x, dim)
    return F.gelu(a) * b


def _support(kind: str, x: Tensor, k: int) -> tuple[Tensor, Tensor, Tensor]:
    """τ_k, the row max and the support size of each row of ``x`` from its ``k`` largest values (``_autograd``)."""
    full = k >= x.shape[-1]
    top = torch.sort(x, dim=-1, descending=True)[0] if full else torch.topk(x, k, dim=-1, sorted=True).values
    top_max = top[..., :1]
    top = top - top_max
    if kind == "entmax15":
        top = top * 0.5
    tau, in_support = _candidates(kind, top)
    return tau, top_max, in_support.sum(-1, keepdim=True)


def _simplex(kind: str, x: Tensor, dim: int) -> Tensor:
    """max(x − τ, 0) (sparsemax) or max(x/2 − τ, 0)² (entmax15) along ``dim``.

    The eager kernels' exact search, which a script keeps (it runs its control flow, unlike a trace): τ from the
    16 largest values, then 8× more while a row's support may be longer, up to the full sort.
    """
    if x.numel() == 0:
        return x.clone()
    if x.dim() == 0:
        return torch.ones_like(x)
    xl = x.movedim(dim, -1)
    if xl.dtype == torch.float16 or xl.dtype == torch.bfloat16:
        xl = xl.float()
    n = xl.shape[-1]
    k = min(n, 16)
    tau, top_max, size = _support(kind, xl, k)
    while k < n and bool((size == k).any()):
        k = min(n, k * 8)
        tau, top_max, size = _support(kind, xl, k)
    z = xl - top_max
    if kind == "entmax15":
        z = z * 0.5
    y = (z - tau.gather(-1, (size - 1).clamp(min=0))).clamp(min=0)
    if kind == "entmax15":
        y = y * y
    return y.movedim(-1, dim).to(x.dtype)


def sparsemax(x: Tensor, dim: int) -> Tensor:
    return _simplex("sparsemax", x, dim)


def entmax15(x: Tensor, dim: int) -> Tensor:
    return _simplex("entmax15", x, dim)


# -- the module TorchScript compiles ------------------------------------------------------------------------------
# TorchScript needs a forward whose source names each attribute, so there is one small class per shape of the
# kernel's parameter list (not per activation): constants (int, float, str; TorchScript infers their types) or
# one learnable tensor, which keeps the eager module's parameter name (prelu's ``weight``, silu's ``beta``).

class _Scripted0(nn.Module):
    def __init__(self, name: str, kernel: Callable[..., Tensor]) -> None:
        super().__init__()
        self.name = name  # the canonical activation name, kept on the script module
        self.kernel = kernel

    def forward(self, input: Tensor) -> Tensor:
        return self.kernel(input)


class _Scripted1(_Scripted0):
    def forward(self, input: Tensor) -> Tensor:
        return self.kernel(input, self.arg0)


class _Scripted2(_Scripted0):
    def forward(self, input: Tensor) -> Tensor:
        return self.kernel(input, self.arg0, self.arg1)


class _ScriptedWeight(_Scripted0):
    def forward(self, input: Tensor) -> Tensor:
        return self.kernel(input, self.weight)


class _ScriptedBeta(_Scripted0):
    def forward(self, input: Tensor) -> Tensor:
        return self.kernel(input, self.beta)


_BY_ARITY: tuple[type[_Scripted0], ...] = (_Scripted0, _Scripted1, _Scripted2)
_BY_LEARNABLE: dict[str, type[_Scripted0]] = {"weight": _ScriptedWeight, "beta": _ScriptedBeta}


def scripted(name: str, function: Callable[..., Tensor], params: dict[str, Any],
             learnable: dict[str, nn.Parameter]) -> nn.Module:
    """The module TorchScript compiles in place of the eager activation ``name`` (shares its parameters).

    >>> import almanac as am
    >>> scripted = torch.jit.script(am.activations.get("sparsemax"))
    >>> scripted(torch.tensor([0.0, 0.5, 3.0]))
    tensor([0., 0., 1.])
    """
    kernel = getattr(function, KERNEL, None)
    if kernel is None:
        raise NotImplementedError(f"activation {name!r} declares no TorchScript kernel (@scriptable)")
    defaults = {key: p.default for key, p in inspect.signature(function).parameters.items()
                if p.default is not inspect.Parameter.empty}
    order = list(inspect.signature(kernel).parameters.values())[1:]
    if learnable:
        (key, parameter), = learnable.items()
        if key not in _BY_LEARNABLE or len(order) != 1:
            raise NotImplementedError(f"no TorchScript form for activation {name!r} learning {key!r}")
        module = _BY_LEARNABLE[key](name, kernel)
        module.register_parameter(key, parameter)
        return module
    module = _BY_ARITY[len(order)](name, kernel)
    for i, p in enumerate(order):
        value = params.get(p.name, defaults[p.name])
        if isinstance(value, int) and not isinstance(value, bool) and "float" in str(p.annotation):
            value = float(value)  # TorchScript passes no int where a float is declared
        setattr(module, f"arg{i}", value)
    return module
