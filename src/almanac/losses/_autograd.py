"""Fused custom autograd Functions of the composite losses, with the gradient written out.

Elementwise losses have a diagonal Jacobian, so the forward pass computes the loss and its local derivative
``dℓ/dx`` together and saves only that derivative: the backward pass is one multiplication. Large inputs are
processed in chunks that stay in the CPU cache, so the dozen arithmetic steps of a composite loss cost about one
pass over memory instead of a dozen. When the caller only needs the sum (``reduction="mean"``/``"sum"`` without a
per-sample weight) the forward never writes the elementwise loss at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

from almanac.errors import TargetError, problem

__all__ = [
    "CHUNK",
    "Elementwise",
    "FocalOfLogProb",
    "SigmoidFocal",
    "Tversky",
    "hinge_kernel",
    "log_cosh_kernel",
    "quantile_kernel",
]

CHUNK = 1 << 18  # elements per chunk: the scratch buffers of a chunk stay in the CPU caches


def _chunk(x: Tensor) -> int:
    """Chunk size for ``x``: CHUNK on the CPU; one chunk on an accelerator, whose kernels need no cache blocking."""
    return CHUNK if x.device.type == "cpu" else max(x.numel(), 1)


def _chunks(start: int, stop: int, chunk: int) -> Iterator[tuple[int, int]]:
    for i in range(start, stop, chunk):
        yield i, min(i + chunk, stop)


def _scratch(count: int, n: int, like: Tensor) -> list[Tensor]:
    return [torch.empty(n, dtype=like.dtype, device=like.device) for _ in range(count)]


def _power(base: Tensor, gamma: float, out: Tensor) -> Tensor:
    """``base ** gamma`` into ``out``, with the cheap cases spelled out (``0 ** 0 = 1``)."""
    if gamma == 0:
        return out.fill_(1.0)
    if gamma == 1:
        return out.copy_(base)
    if gamma == 2:
        return torch.mul(base, base, out=out)
    return torch.pow(base, gamma, out=out)


def _softplus_threshold(dtype: torch.dtype) -> float:
    """Where ``softplus(u) = u`` holds to the dtype's precision (e^-20 < float32 eps, e^-40 < float64 eps)."""
    return 40.0 if dtype == torch.float64 else 20.0


def _sigmoid_focal_hard(x: Tensor, t: Tensor, gamma: float, alpha: float | None, loss: Tensor | None,
                        deriv: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Focal loss of 0/1 targets with the sign trick: with ``s = 2t - 1`` and ``u = -s·x`` (minus the logit of the
    true label), ``-log p_t = softplus(u)`` and ``1 - p_t = σ(u)``, both exact at any logit.

    ℓ = α_t (1 - p_t)^γ softplus(u) and dℓ/dx = -s·α_t (1 - p_t)^γ (γ p_t softplus(u) + (1 - p_t)): no
    ``(1 - p_t)^(γ-1)`` factor, so it stays finite for γ < 1 too. Returns the summed loss, Σ (1 - 2t)² (equal to
    the element count exactly when every target in [0, 1] is 0 or 1) and the (min, max) of the targets.
    """
    xf, tf, df = x.reshape(-1), t.reshape(-1), deriv.view(-1)
    lf = None if loss is None else loss.view(-1)
    chunk = _chunk(x)

    def part(start: int, stop: int) -> tuple[Tensor, Tensor, Tensor]:
        ns, u, sp, q, w = _scratch(5, min(stop - start, chunk), x)
        total, squares = x.new_zeros((), dtype=torch.float64), x.new_zeros((), dtype=torch.float64)
        bounds = torch.tensor([math.inf, -math.inf], dtype=x.dtype, device=x.device)
        one = x.new_ones(())
        half = one / 2
        for i, j in _chunks(start, stop, chunk):
            k = j - i
            nk, uk, spk, qk, wk = ns[:k], u[:k], sp[:k], q[:k], w[:k]
            tk, dk = tf[i:j], df[i:j]
            lo, hi = torch.aminmax(tk)
            torch.minimum(bounds[0], lo, out=bounds[0])
            torch.maximum(bounds[1], hi, out=bounds[1])
            torch.add(one, tk, alpha=-2.0, out=nk)  # -s = 1 - 2t
            squares += torch.dot(nk, nk)
            torch.mul(xf[i:j], nk, out=uk)  # u = -(logit of the true label)
            torch.sigmoid(uk, out=qk)  # 1 - p_t = σ(u)
            # -log p_t = softplus(u) = max(u, 0) - log1p(-σ(-|u|)), with σ(-|u|) = min(q, 1 - q): one log1p on an
            # argument in [-½, 0], exact at any logit and faster than PyTorch's softplus kernel
            torch.sub(qk, 1.0, out=spk)
            torch.maximum(spk, torch.neg(qk, out=wk), out=spk).log1p_()
            torch.clamp(uk, min=0.0, out=wk)
            torch.sub(wk, spk, out=spk)
            _power(qk, gamma, wk)
            if alpha is not None:  # α_t = ½ + (½ - α)(1 - 2t): α for positives, 1 - α for negatives
                torch.add(half, nk, alpha=0.5 - alpha, out=uk)
                wk.mul_(uk)
            if lf is None:
                total += torch.dot(wk, spk)
            else:
                torch.mul(wk, spk, out=lf[i:j])
            torch.addcmul(spk, qk, spk, value=-1.0, out=spk)  # p_t·softplus(u)
            torch.add(qk, spk, alpha=gamma, out=spk)  # (1 - p_t) + γ p_t softplus(u)
            torch.mul(spk, wk, out=dk).mul_(nk)
        return total, squares, bounds

    return part(0, x.numel())


def _sigmoid_focal_soft(x: Tensor, t: Tensor, gamma: float, alpha: float | None, loss: Tensor | None,
                        deriv: Tensor) -> Tensor:
    """Focal loss of soft targets, the expectation over the label: ℓ = t·ℓ(x, 1) + (1 - t)·ℓ(x, 0)."""
    xf, tf, df = x.reshape(-1), t.reshape(-1), deriv.view(-1)
    lf = None if loss is None else loss.view(-1)
    chunk = _chunk(x)

    def part(start: int, stop: int) -> Tensor:
        a, b, p, q, u, v = _scratch(6, min(stop - start, chunk), x)
        total = x.new_zeros((), dtype=torch.float64)
        for i, j in _chunks(start, stop, chunk):
            k = j - i
            ak, bk, pk, qk, uk, vk = a[:k], b[:k], p[:k], q[:k], u[:k], v[:k]
            xk, tk, dk = xf[i:j], tf[i:j], df[i:j]
            F.logsigmoid(xk, out=ak)  # log p
            torch.sub(ak, xk, out=bk)  # log(1 - p) = log σ(-x)
            torch.exp(ak, out=pk)
            torch.exp(bk, out=qk)
            _power(qk, gamma, uk)  # (1 - p)^γ
            _power(pk, gamma, vk)  # p^γ
            if alpha is not None:
                uk.mul_(alpha)
                vk.mul_(1.0 - alpha)
            lk = torch.mul(uk, ak) if lf is None else torch.mul(uk, ak, out=lf[i:j])
            torch.mul(vk, bk, out=dk)
            torch.lerp(dk, lk, tk, out=lk).neg_()  # -(t·u·log p + (1 - t)·v·log(1 - p))
            if lf is None:
                total += lk.sum()
            ak.mul_(pk).mul_(gamma).sub_(qk).mul_(uk)  # dℓ₁/dx = u (γ p log p - (1 - p))
            bk.mul_(qk).mul_(-gamma).add_(pk).mul_(vk)  # dℓ₀/dx = v (p - γ (1 - p) log(1 - p))
            torch.lerp(bk, ak, tk, out=dk)
        return total

    return part(0, x.numel())


class SigmoidFocal(torch.autograd.Function):
    """Sigmoid focal loss on logits, summed (``summed=True``) or elementwise; the gradient flows to ``x`` only.

    The targets are validated on the way (range [0, 1], in the same pass), so the caller need not read them first.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, t: Tensor, gamma: float, alpha: float | None, summed: bool) -> Tensor:
        deriv = torch.empty_like(x, memory_format=torch.contiguous_format)
        loss = None if summed else torch.empty_like(x, memory_format=torch.contiguous_format)
        total, squares, bounds = _sigmoid_focal_hard(x, t, gamma, alpha, loss, deriv)
        lo, hi = bounds.tolist()
        if not (lo >= 0.0 and hi <= 1.0):  # NaN fails too
            raise problem(TargetError, "target", "to lie in [0, 1]", f"min {lo:g}, max {hi:g}",
                          "pass 0/1 labels or probabilities; map {-1, 1} labels with (t + 1) / 2")
        if float(squares) != t.numel():  # soft targets: the expectation over the label
            total = _sigmoid_focal_soft(x, t, gamma, alpha, loss, deriv)
        ctx.save_for_backward(deriv)
        return total.to(x.dtype) if summed else loss

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        (deriv,) = ctx.saved_tensors
        return grad * deriv, None, None, None, None


class FocalOfLogProb(torch.autograd.Function):
    """ℓ = -(1 - p)^γ · log p as a function of ``l = log p`` (elementwise), stable as ``p → 1`` for any γ ≥ 0.

    ``1 - p = -expm1(l)`` keeps its digits near ``p = 1``; the derivative dℓ/dl = (1 - p)^γ (γ p l / (1 - p) - 1)
    uses ``l / (1 - p) → -1`` where ``1 - p`` underflows to 0, so it never forms ``(1 - p)^(γ - 1)``.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, logp: Tensor, gamma: float) -> Tensor:
        q = torch.special.expm1(logp).neg_()  # 1 - p
        w = torch.pow(q, gamma)
        ratio = torch.where(q > 0, logp / q, torch.full_like(q, -1.0))  # log p / (1 - p) → -1 as p → 1
        deriv = w * (gamma * (1 - q) * ratio - 1)
        ctx.save_for_backward(deriv)
        return -w * logp

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        (deriv,) = ctx.saved_tensors
        return grad * deriv, None


Kernel = Callable[[Tensor, Tensor, Tensor, Tensor, list[Tensor]], Tensor | None]
"""``kernel(x, t, loss_out, deriv_out, scratch)`` writes ℓ and dℓ/dx of one chunk; it may return a number to sum
over the chunks (a check of the targets)."""


class Elementwise(torch.autograd.Function):
    """Chunked driver of an elementwise loss ``kernel``; ``summed`` returns the sum of ℓ without storing ℓ.

    ``target_grad``: the loss depends on ``x - t`` only, so dℓ/dt = -dℓ/dx (regression losses); otherwise the target
    gets no gradient (labels). ``extra`` (a float64 tensor or None) receives the sum of the kernel's returns.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, t: Tensor, kernel: Kernel, scratch: int, summed: bool,
                target_grad: bool, extra: Tensor | None = None) -> Tensor:
        xf, tf = x.reshape(-1), t.reshape(-1)
        deriv = torch.empty_like(x, memory_format=torch.contiguous_format)
        loss = None if summed else torch.empty_like(x, memory_format=torch.contiguous_format)
        chunk = _chunk(x)

        def part(start: int, stop: int) -> tuple[Tensor, Tensor]:
            out, *rest = _scratch(scratch + 1, min(stop - start, chunk), x)
            total, returned = x.new_zeros((), dtype=torch.float64), None
            for i, j in _chunks(start, stop, chunk):
                k = j - i
                lk = out[:k] if loss is None else loss.view(-1)[i:j]
                value = kernel(xf[i:j], tf[i:j], lk, deriv.view(-1)[i:j], [b[:k] for b in rest])
                if value is not None:
                    returned = value if returned is None else returned + value
                if loss is None:
                    total += lk.sum()
            return total, returned

        total, returned = part(0, x.numel())
        if extra is not None and returned is not None:
            extra.copy_(returned)
        ctx.save_for_backward(deriv)
        ctx.target_grad = target_grad
        return total.to(x.dtype) if loss is None else loss

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        (deriv,) = ctx.saved_tensors
        grad_x = grad * deriv
        grad_t = -grad_x if ctx.target_grad and ctx.needs_input_grad[1] else None
        return grad_x, grad_t, None, None, None, None, None


def log_cosh_kernel(x: Tensor, t: Tensor, loss: Tensor, deriv: Tensor, scratch: list[Tensor]) -> Tensor | None:
    """log cosh(e) = e + softplus(-2e) - log 2: exact for |e| of 1e3 where cosh overflows; dℓ/dx = tanh(e)."""
    del scratch
    torch.sub(x, t, out=deriv)  # e
    torch.mul(deriv, -2.0, out=loss)
    F.softplus(loss, 1.0, _softplus_threshold(x.dtype), out=loss).add_(deriv).sub_(math.log(2.0))
    deriv.tanh_()
    return None


def quantile_kernel(q: float) -> Kernel:
    """Pinball loss ℓ = max(q·e, (q - 1)·e) = ½|e| + (q - ½)e with e = y - x; dℓ/dx = ½ - q - ½·sign(e)
    (at e = 0 the mean of the two one-sided slopes)."""

    def kernel(x: Tensor, t: Tensor, loss: Tensor, deriv: Tensor, scratch: list[Tensor]) -> Tensor | None:
        (e,) = scratch
        torch.sub(t, x, out=e)
        torch.abs(e, out=deriv)
        torch.mul(e, q - 0.5, out=loss).add_(deriv, alpha=0.5)
        torch.sign(e, out=deriv).mul_(-0.5).add_(0.5 - q)
        return None

    return kernel


def hinge_kernel(squared: bool, count: bool = False) -> Kernel:
    """Hinge ℓ = max(0, 1 - s·x) (squared: its square) with s = +1 for a positive label (t > 0) and -1 otherwise, the
    same map for {0, 1} and {-1, 1} labels and no data-dependent branch; dℓ/dx = -s·1[ℓ > 0] (squared:
    -2s·max(0, 1 - s·x)). With ``count`` it returns (#labels not in {0, 1}, #labels not in {-1, 1}), counted
    exactly in the cached chunk (t² = t only at 0 and 1, t² = 1 only at ±1): the labels are valid when one is 0."""

    def kernel(x: Tensor, t: Tensor, loss: Tensor, deriv: Tensor, scratch: list[Tensor]) -> Tensor | None:
        (s,) = scratch
        counts = None
        if count:
            torch.mul(t, t, out=s)
            counts = torch.stack([torch.count_nonzero(s != t), torch.count_nonzero(s != 1)]).double()
        torch.heaviside(t, t.new_zeros(()), out=s).mul_(2.0).sub_(1.0)  # s = 2·[t > 0] - 1
        torch.mul(x, s, out=loss).neg_().add_(1.0).clamp_(min=0.0)  # max(0, 1 - s·x)
        if squared:
            torch.mul(loss, s, out=deriv).mul_(-2.0)
            loss.square_()
        else:
            torch.sign(loss, out=deriv).mul_(s).neg_()
        return counts

    return kernel


def _blocks(x: Tensor) -> list[tuple[int, int, int, int]]:
    """Blocks ``[n0:n1, :, s0:s1]`` of ``x (N, C, S)`` of about one chunk each, whole classes each."""
    n, c, s = x.shape
    chunk = _chunk(x)
    if c * s <= chunk:
        step = max(1, chunk // max(c * s, 1))
        return [(n0, min(n0 + step, n), 0, s) for n0 in range(0, n, step)]
    step = max(1, chunk // c)
    return [(n0, n0 + 1, s0, min(s0 + step, s)) for n0 in range(n) for s0 in range(0, s, step)]


def _probabilities(x: Tensor, mode: str) -> Tensor:
    if mode == "sigmoid":
        return torch.sigmoid(x)
    if mode == "softmax":
        return torch.softmax(x, dim=1)
    return x


def _dense_target(target: Tensor, index: bool, c: int, like: Tensor) -> Tensor:
    """A block of the target as a float mask ``(b, C, s)``: class-index maps become one-hot (C = 1: the 0/1 map)."""
    if not index:
        return target
    if c == 1:
        return target.unsqueeze(1).to(like.dtype)
    classes = torch.arange(c, device=target.device).view(1, c, 1)
    return (target.unsqueeze(1) == classes).to(like.dtype)


class Tversky(torch.autograd.Function):
    """Per-sample Tversky family loss on ``x (N, C, S)``, chunked; saves only its inputs.

    score_nc = (I + s) / (I + α(P - I) + β(T - I) + s) with I = Σ p·t, P = Σ p, T = Σ t over kept pixels;
    loss_n = mean_c (1 - score_nc)^γ. A class with an empty denominator (s = 0, nothing predicted, nothing true)
    scores 1 with a zero gradient. dloss/dp = v·(g_I·t + g_P) with g_I, g_P per (sample, class); the backward
    recomputes p block by block instead of storing it.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, target: Tensor, valid: Tensor | None, mode: str, index: bool,
                alpha: float, beta: float, smooth: float, gamma: float) -> Tensor:
        n, c = x.shape[:2]

        def part(blocks: list[tuple[int, int, int, int]]) -> Tensor:
            acc = torch.zeros(3, n, c, dtype=torch.float64, device=x.device)
            for n0, n1, s0, s1 in blocks:
                p = _probabilities(x[n0:n1, :, s0:s1], mode)
                if index and c > 1:  # class-index map: gather the true class instead of forming one-hot masks
                    y = target[n0:n1, s0:s1]
                    p_y = p.gather(1, y.unsqueeze(1)).squeeze(1)
                    if valid is None:
                        kept = p_y.new_ones(()).expand_as(p_y)
                        acc[1, n0:n1] += p.sum(2)
                    else:
                        kept = valid[n0:n1, s0:s1].to(p.dtype)
                        p_y = p_y * kept
                        acc[1, n0:n1] += torch.bmm(p, kept.unsqueeze(2)).squeeze(2)
                    # scatter_add adds pixel after pixel: in float64, so the sum keeps its digits at 512×512
                    acc[0, n0:n1] += acc.new_zeros(n1 - n0, c).scatter_add_(1, y, p_y.double())
                    acc[2, n0:n1] += acc.new_zeros(n1 - n0, c).scatter_add_(1, y, kept.double())
                    continue
                t = _dense_target(target[n0:n1, ..., s0:s1], index, c, x)
                if valid is not None:
                    v = valid[n0:n1, ..., s0:s1]
                    v = v.unsqueeze(1) if index else v
                    p, t = p * v, t * v
                acc[0, n0:n1] += torch.linalg.vecdot(p, t)
                acc[1, n0:n1] += p.sum(2)
                acc[2, n0:n1] += t.sum(2)
            return acc

        inter, pred, true = part(_blocks(x))
        denom = (1 - alpha - beta) * inter + alpha * pred + beta * true + smooth
        empty = denom <= 0
        denom = torch.where(empty, 1.0, denom)
        score = torch.where(empty, 1.0, (inter + smooth) / denom)
        miss = (1 - score).clamp_min(0.0)
        if gamma == 1:
            loss_c, dloss = miss, torch.full_like(miss, -1.0)
        else:  # (1 - score)^γ; at a perfect score the slope is taken as 0 (for γ < 1 it is infinite)
            loss_c = miss.pow(gamma)
            dloss = torch.where(miss > 0, -gamma * miss.pow(gamma - 1), 0.0)
        dloss = torch.where(empty, 0.0, dloss) / c
        coef_i = dloss * (1 - (inter + smooth) * (1 - alpha - beta) / denom) / denom
        coef_p = dloss * (-(inter + smooth) * alpha / denom / denom)
        ctx.save_for_backward(x, target, valid, coef_i.to(x.dtype), coef_p.to(x.dtype))
        ctx.mode, ctx.index = mode, index
        return loss_c.mean(1).to(x.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, target, valid, coef_i, coef_p = ctx.saved_tensors
        c = x.shape[1]
        grad_i, grad_p = (grad.unsqueeze(1) * coef_i).unsqueeze(2), (grad.unsqueeze(1) * coef_p).unsqueeze(2)
        grad_x = torch.empty_like(x)
        mode, index = ctx.mode, ctx.index

        def index_block(n0: int, n1: int, s0: int, s1: int) -> None:
            """dL/dp_c = v·(g_P,c + g_I,c·[c = y]); through the softmax: v·p_c·(g_P,c + g_I,y·[c = y] - a) with
            a = Σ_k p_k g_P,k + p_y g_I,y — no one-hot mask, and the sum over classes is one batched matmul."""
            y = target[n0:n1, s0:s1].unsqueeze(1)
            g_p, g_iy = grad_p[n0:n1], grad_i[n0:n1, :, 0].gather(1, y.squeeze(1)).unsqueeze(1)
            out = grad_x[n0:n1, :, s0:s1]
            if mode == "softmax":
                p = torch.softmax(x[n0:n1, :, s0:s1], dim=1)
                a = torch.baddbmm(p.gather(1, y) * g_iy, g_p.transpose(1, 2), p)
                h = torch.sub(g_p, a).scatter_add_(1, y, g_iy.expand_as(y).contiguous())
                torch.mul(h, p, out=out)
            else:
                out.copy_(g_p.expand_as(out)).scatter_add_(1, y, g_iy.expand_as(y).contiguous())
            if valid is not None:
                out.mul_(valid[n0:n1, s0:s1].unsqueeze(1))

        def part(blocks: list[tuple[int, int, int, int]]) -> None:
            for n0, n1, s0, s1 in blocks:
                if index and c > 1:
                    index_block(n0, n1, s0, s1)
                    continue
                xb = x[n0:n1, :, s0:s1]
                t = _dense_target(target[n0:n1, ..., s0:s1], index, c, x)
                g = torch.addcmul(grad_p[n0:n1], grad_i[n0:n1], t)  # dL/dp = g_P + g_I·t
                if valid is not None:
                    v = valid[n0:n1, ..., s0:s1]
                    g.mul_(v.unsqueeze(1) if index else v)
                out = grad_x[n0:n1, :, s0:s1]
                if mode == "sigmoid":
                    p = torch.sigmoid(xb)
                    g.mul_(p)
                    torch.mul(g, p.neg_().add_(1.0), out=out)  # g·p·(1 - p)
                elif mode == "softmax":
                    p = torch.softmax(xb, dim=1)
                    g.sub_(torch.linalg.vecdot(p, g, dim=1).unsqueeze(1))
                    torch.mul(g, p, out=out)  # p ⊙ (g - Σ_c p_c g_c)
                else:
                    out.copy_(g)

        part(_blocks(x))
        return grad_x, None, None, None, None, None, None, None, None
