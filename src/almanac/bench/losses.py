"""``almanac bench losses``: forward + backward of the losses against the composites people write.

Peers: the torchvision-style sigmoid focal loss (torch ops, autograd) and ``binary_cross_entropy_with_logits``;
segmentation_models_pytorch-style soft Dice / Jaccard / Tversky (softmax, one-hot, sums over the batch and pixels);
PyTorch's ``cross_entropy``; and the naive composites of log-cosh, pinball (quantile) and hinge. Where a C++
compiler is available the composites are also shown compiled with ``torch.compile``, for information.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from almanac import losses as L
from almanac.bench.harness import Case, Contender, fwd_bwd

__all__ = ["cases", "smp_style", "torchvision_focal"]

ALPHA, GAMMA = 0.25, 2.0  # torchvision's defaults
QUANTILE = 0.9


def torchvision_focal(x: Tensor, t: Tensor, alpha: float = ALPHA, gamma: float = GAMMA) -> Tensor:
    """The sigmoid focal loss as torchvision writes it (torch ops differentiated by autograd), mean-reduced."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    alpha_t = alpha * t + (1 - alpha) * (1 - t)
    return (alpha_t * loss).mean()


def smp_style(kind: str, alpha: float = 0.3, beta: float = 0.7) -> Callable[[Tensor, Tensor], Tensor]:
    """Multiclass soft Dice / Jaccard / Tversky as segmentation_models_pytorch writes them: softmax, one-hot
    targets, sums over batch and pixels, classes absent from the target masked out (``smooth = 0``, ``eps = 1e-7``)."""

    def loss(x: Tensor, y: Tensor) -> Tensor:
        n, c = x.shape[:2]
        p = x.log_softmax(dim=1).exp().view(n, c, -1)
        t = F.one_hot(y.view(n, -1), c).permute(0, 2, 1).type_as(p)
        dims = (0, 2)
        inter = torch.sum(p * t, dim=dims)
        if kind == "dice":
            score = 2.0 * inter / torch.sum(p + t, dim=dims).clamp_min(1e-7)
        elif kind == "jaccard":
            score = inter / (torch.sum(p + t, dim=dims) - inter).clamp_min(1e-7)
        else:
            fp, fn = torch.sum(p * (1 - t), dim=dims), torch.sum((1 - p) * t, dim=dims)
            score = inter / (inter + alpha * fp + beta * fn).clamp_min(1e-7)
        present = t.sum(dims) > 0
        return ((1 - score) * present.to(score.dtype)).mean()

    return loss


def _log_cosh_naive(x: Tensor, y: Tensor) -> Tensor:
    return torch.log(torch.cosh(x - y)).mean()


def _quantile_naive(x: Tensor, y: Tensor) -> Tensor:
    e = y - x
    return torch.max(QUANTILE * e, (QUANTILE - 1) * e).mean()


def _hinge_naive(x: Tensor, t: Tensor) -> Tensor:
    return torch.clamp(1 - (2 * t - 1) * x, min=0).mean()


def _compiled(fn: Callable[..., Tensor], *args: Tensor) -> Callable[..., Tensor] | None:
    """``torch.compile(fn)`` if a C++ compiler is there and it compiles (forward and backward) on ``args``."""
    if shutil.which("g++") is None and shutil.which("c++") is None:
        return None
    compiled = torch.compile(fn, dynamic=False)
    try:
        compiled(*args).backward()
    except Exception:
        return None
    for a in args:
        a.grad = None
    return compiled


def cases(scale: float, *, compile: bool = True) -> list[Case]:
    """Cases at about 4M elements × ``scale``, float32, forward and backward; ``compile=False`` skips the
    ``torch.compile`` rows."""
    g = torch.Generator().manual_seed(0)
    n = max(64, round(4_194_304 * scale))
    x = (torch.randn(n, generator=g) * 2).requires_grad_()
    bits = (torch.rand(n, generator=g) < 0.1).float()
    y = torch.randn(n, generator=g)
    flat = f"({n},) f32"
    out: list[Case] = []

    def body(fn: Callable[..., Tensor], *args: Tensor) -> Callable[[], None]:
        return fwd_bwd(lambda: fn(*args), *[a for a in args if a.requires_grad])

    def with_compiled(contenders: list[Contender], fn: Callable[..., Tensor], *args: Tensor) -> list[Contender]:
        compiled = _compiled(fn, *args) if compile else None
        if compiled is not None:
            contenders.append(Contender("torch.compile(composite)", body(compiled, *args), target=""))
        return contenders

    def focal(a: Tensor, t: Tensor) -> Tensor:
        return L.focal(a, t, gamma=GAMMA, alpha=ALPHA)

    out.append(Case("focal", flat, with_compiled([
        Contender("almanac", body(focal, x, bits)),
        Contender("torchvision-style", body(torchvision_focal, x, bits), target="≤ 0.4×"),
        Contender("bce_with_logits", body(F.binary_cross_entropy_with_logits, x, bits),
                  target="≤ 1.5×, saved ≤ 0.5×"),
    ], torchvision_focal, x, bits)))

    c, s = 4, max(4, n // 32)
    scores = torch.randn(8, c, s, generator=g).requires_grad_()
    labels = torch.randint(0, c, (8, s), generator=g)
    seg = f"(8, {c}, {s}) f32, index map"
    for kind, ours in (("dice", L.dice), ("jaccard", L.jaccard), ("tversky", L.tversky)):
        params = {"alpha": 0.3, "beta": 0.7} if kind == "tversky" else {}

        def ours_call(a: Tensor, b: Tensor, ours: Callable[..., Tensor] = ours, params: dict = params) -> Tensor:
            return ours(a, b, task="multiclass", smooth=0.0, **params)

        composite = smp_style(kind)
        contenders = [Contender("almanac", body(ours_call, scores, labels)),
                      Contender("smp-style", body(composite, scores, labels), target="≤ 0.7×")]
        if kind == "dice":
            contenders = with_compiled(contenders, composite, scores, labels)
        out.append(Case(kind, seg, contenders))

    rows = max(2, n // 1024)
    logits = torch.randn(rows, 1024, generator=g).requires_grad_()
    classes = torch.randint(0, 1024, (rows,), generator=g)
    out.append(Case("cross_entropy", f"({rows}, 1024) f32", [
        Contender("almanac", body(L.cross_entropy, logits, classes)),
        Contender("torch", body(F.cross_entropy, logits, classes), target="≤ 1.1×"),
    ]))

    def quantile(a: Tensor, b: Tensor) -> Tensor:
        return L.quantile(a, b, q=QUANTILE)

    for name, ours, naive, target in (("log_cosh", L.log_cosh, _log_cosh_naive, y),
                                      ("quantile", quantile, _quantile_naive, y),
                                      ("hinge", L.hinge, _hinge_naive, bits)):
        contenders = [Contender("almanac", body(ours, x, target)),
                      Contender("naive", body(naive, x, target), target="(information)")]
        if name == "log_cosh":
            contenders = with_compiled(contenders, naive, x, target)
        out.append(Case(name, flat, contenders))
    return out
