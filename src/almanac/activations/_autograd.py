"""Custom autograd functions for the activations PyTorch has no fused kernel for.

Each keeps only what its backward needs (the input for silu with β, swiglu and geglu; the output for sparsemax
and entmax15, which is the size of the input) and writes the gradient out in closed form. The kernels assume
valid input: the public functions in ``_functions`` check it first.

Backward has two paths. The usual one (grad mode off, ``create_graph=False``) writes into preallocated memory
with ``out=`` and in-place operations, to avoid one allocation and one pass per step; when a double backward is
being recorded (grad mode on), the same formula is written with out-of-place, differentiable operations.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd import Function

__all__ = ["Entmax15", "GatedUnit", "SiLUBeta", "Sparsemax", "entmax15_forward", "sparsemax_forward"]

_aten = torch.ops.aten
_SIGMOID_IS_ONE = 80.0  # σ(t) = 1 − e^(−t) rounds to 1 in float64 beyond this


def _silu_grad(grad: Tensor, u: Tensor) -> Tensor:
    """grad · silu'(u) = grad · σ(u)(1 + u(1 − σ(u))), in differentiable ops (ATen's silu_backward has no
    derivative of its own, so a double backward needs this form)."""
    s = torch.sigmoid(u)
    return grad * s * (1 + u * (1 - s))


def _like(beta: float | Tensor, x: Tensor) -> float | Tensor:
    """β in the dtype of x, so a float32 β never promotes a half-precision x."""
    return beta.to(x.dtype) if isinstance(beta, Tensor) else beta


class SiLUBeta(Function):
    """x · sigmoid(βx) for β ≠ 1 (a float, or a tensor broadcastable to x that may require grad).

    Forward: one pass for a float β (see below); for a tensor β, u = βx, then sigmoid and multiply in place.
    Backward: d/dx = silu'(βx), which ATen's fused ``silu_backward`` computes in one pass from u = βx;
    d/dβ = x² σ(βx)(1 − σ(βx)), summed to β's shape, only when β requires grad.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, beta: float | Tensor) -> Tensor:
        if isinstance(beta, Tensor):
            ctx.save_for_backward(x, beta)
        else:
            ctx.save_for_backward(x)
        if isinstance(beta, Tensor):
            ctx.beta = None
            return (x * _like(beta, x)).sigmoid_().mul_(x)
        ctx.beta = beta
        # One pass: ATen's softplus_backward(grad, x, β, threshold) is grad · σ(βx), σ computed as z / (1 + z)
        # with z = exp(βx), and exactly 1 above the threshold; with grad = x it is x · σ(βx). At 80, σ is 1 to
        # float64 precision and exp(80) still fits in float32.
        return _aten.softplus_backward(x, x, beta, _SIGMOID_IS_ONE)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, *rest = ctx.saved_tensors
        beta = rest[0] if rest else ctx.beta
        u = x * _like(beta, x)
        grad_beta = None
        if rest and ctx.needs_input_grad[1]:
            s = torch.sigmoid(u)
            grad_beta = (grad * x * x * s * (1 - s)).sum_to_size(beta.shape).to(beta.dtype)
        if not ctx.needs_input_grad[0]:
            return None, grad_beta
        if torch.is_grad_enabled():
            return _silu_grad(grad, u), grad_beta
        return _aten.silu_backward.grad_input(grad, u, grad_input=u), grad_beta


def _act(kind: str, a: Tensor, out: Tensor | None = None) -> Tensor:
    if kind == "silu":
        return F.silu(a) if out is None else _aten.silu.out(a, out=out)
    return F.gelu(a) if out is None else _aten.gelu.out(a, out=out)


def _act_backward(kind: str, grad: Tensor, a: Tensor, out: Tensor | None = None) -> Tensor:
    if kind == "silu":
        return _silu_grad(grad, a) if out is None else _aten.silu_backward.grad_input(grad, a, grad_input=out)
    if out is None:
        return _aten.gelu_backward(grad, a)
    return _aten.gelu_backward.grad_input(grad, a, grad_input=out)


class GatedUnit(Function):
    """act(a) · b with (a, b) = x.chunk(2, dim); ``kind`` is "silu" (SwiGLU) or "gelu" (GEGLU, exact erf form).

    Saves x only. Backward: ∂/∂a = act'(a) · g · b (ATen's fused act_backward on g · b), ∂/∂b = act(a) · g,
    both written straight into the two halves of one gradient tensor (no concatenation).
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int, kind: str) -> Tensor:
        ctx.save_for_backward(x)
        ctx.dim, ctx.kind = dim, kind
        a, b = x.chunk(2, dim)
        return _act(kind, a).mul_(b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (x,) = ctx.saved_tensors
        dim, kind = ctx.dim, ctx.kind
        a, b = x.chunk(2, dim)
        if torch.is_grad_enabled():  # a double backward is recorded: differentiable ops, no out=
            return torch.cat([_act_backward(kind, grad * b, a), _act(kind, a) * grad], dim), None, None
        grad_x = torch.empty_like(x)
        grad_a, grad_b = grad_x.chunk(2, dim)
        torch.mul(grad, b, out=grad_a)
        _act_backward(kind, grad_a, a, out=grad_a)
        _act(kind, a, out=grad_b).mul_(grad)
        return grad_x, None, None


# -- sparse maps onto the simplex -------------------------------------------------------------------------------
#
# Both maps are y = p(x − τ) with τ the threshold that makes y sum to 1, p(t) = max(t, 0) for sparsemax and
# max(t, 0)² for entmax15 (on x = z / 2). τ comes from the values sorted in decreasing order: for the k largest,
# the candidate τ_k is the one that makes them sum to 1, and the support is the longest prefix whose smallest
# value still exceeds its τ_k (the test is true on a prefix and false after). Only the top of the sort matters,
# so the kernels sort the K largest values with ``topk`` (K = 16, then ×8 for the rows whose support may be
# longer, up to the full sort): exact, and far cheaper than a full sort when the support is small.

_FIRST_K = 16


def _candidates(kind: str, top: Tensor) -> tuple[Tensor, Tensor]:
    """τ_k for each prefix length k of ``top`` (sorted, decreasing, last dim) and whether k is in the support."""
    k = torch.arange(1, top.shape[-1] + 1, dtype=top.dtype, device=top.device)
    if kind == "sparsemax":
        tau = (top.cumsum(-1) - 1) / k
    else:
        # Σ_{j≤k}(x_j − τ)² = 1 → τ_k = mean_k − sqrt((1 − ss_k) / k), ss_k = Σ(x_j − mean_k)² computed as
        # Σx_j² − k·mean_k²; the values are shifted (largest = 0), so this difference does not cancel
        # catastrophically where the support lies.
        mean = top.cumsum(-1) / k
        ss = (top * top).cumsum(-1) - k * mean * mean
        tau = mean - ((1 - ss) / k).clamp_(min=0).sqrt_()
    return tau, tau < top


def _threshold(kind: str, x: Tensor, k: int = 0) -> tuple[Tensor, Tensor]:
    """(τ, max) of every row of ``x`` along the last dim, each of shape (..., 1).

    τ is relative to the row's max (and for entmax15 on the halved scale), so the caller forms x − max first:
    large logits (±1e4 in float32) then keep their precision near the top, where the support lies. Rows whose
    support may be longer than the k values sorted are searched again, alone, with 8k.
    """
    n = x.shape[-1]
    # Compiling, tracing or exporting: a graph cannot hold the data-dependent search below, so sort everything
    k = n if _tracing() else min(n, k or _FIRST_K)
    top = torch.topk(x, k, dim=-1, sorted=True).values if k < n else torch.sort(x, dim=-1, descending=True)[0]
    top_max = top[..., :1]
    top = top - top_max
    if kind == "entmax15":
        top = top / 2
    tau, in_support = _candidates(kind, top)
    size = in_support.sum(-1, keepdim=True)
    tau = tau.gather(-1, (size - 1).clamp_(min=0))
    if k < n:
        unsure = (size == k).squeeze(-1)
        if bool(unsure.any()):  # one host sync per call: the price of sorting 16 values instead of all
            tau[unsure], top_max[unsure] = _threshold(kind, x[unsure], k * 8)
    return tau, top_max


def _tracing() -> bool:
    """True while torch.compile, torch.jit.trace or torch.onnx.export records a graph."""
    return torch.compiler.is_compiling() or torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


def _last(x: Tensor, dim: int) -> Tensor:
    """``x`` with ``dim`` moved last, in float32 at least (half precision is too coarse for the threshold)."""
    x = x.movedim(dim, -1)
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def sparsemax_forward(x: Tensor, dim: int) -> Tensor:
    """Sparsemax without autograd: argmin_{y ∈ simplex} ‖y − x‖², i.e. max(x − τ, 0)."""
    if x.numel() == 0:
        return x.clone()
    if x.ndim == 0:  # one value: the simplex of one class
        return torch.ones_like(x)
    xl = _last(x, dim)
    tau, top_max = _threshold("sparsemax", xl)
    return (xl - top_max).sub_(tau).clamp_(min=0).movedim(-1, dim).to(x.dtype)


def entmax15_forward(x: Tensor, dim: int) -> Tensor:
    """1.5-entmax without autograd: max(x/2 − τ, 0)²."""
    if x.numel() == 0:
        return x.clone()
    if x.ndim == 0:
        return torch.ones_like(x)
    xl = _last(x, dim)
    tau, top_max = _threshold("entmax15", xl)
    return (xl - top_max).mul_(0.5).sub_(tau).clamp_(min=0).square_().movedim(-1, dim).to(x.dtype)


class Sparsemax(Function):
    """Sparsemax; saves the output. With S the support (y > 0): ∂L/∂x = 1_S · (g − mean_S(g))."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int) -> Tensor:
        y = sparsemax_forward(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (y,) = ctx.saved_tensors
        support = y > 0
        g = torch.where(support, grad, 0)
        mean = g.sum(ctx.dim, keepdim=True) / support.sum(ctx.dim, keepdim=True)
        if torch.is_grad_enabled():
            return torch.where(support, g - mean, 0), None
        return g.sub_(mean).mul_(support), None


class Entmax15(Function):
    """1.5-entmax; saves the output. With s = √y: ∂L/∂x = s·g − s · Σ(s·g) / Σs."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int) -> Tensor:
        y = entmax15_forward(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (y,) = ctx.saved_tensors
        if torch.is_grad_enabled():  # √ has an infinite slope at 0: keep the zeros out of its derivative
            support = y > 0
            s = torch.where(support, torch.where(support, y, 1).sqrt(), 0)
            sg = s * grad
            return sg - s * (sg.sum(ctx.dim, keepdim=True) / s.sum(ctx.dim, keepdim=True)), None
        s = y.sqrt()
        sg = s * grad
        q = sg.sum(ctx.dim, keepdim=True) / s.sum(ctx.dim, keepdim=True)
        return sg.addcmul_(s, q, value=-1), None
