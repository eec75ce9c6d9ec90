"""``almanac bench losses``: forward + backward of the losses against the composites people write.

Peers: the torchvision-style sigmoid focal loss (torch ops, autograd) and ``binary_cross_entropy_with_logits``;
segmentation_models_pytorch-style soft Dice / Jaccard / Tversky (softmax, one-hot, sums over the batch and pixels);
PyTorch's ``cross_entropy``; and the naive composites of log-cosh, pinball (quantile) and hinge. Where a C++
compiler is available (and ``ALMANAC_BENCH_COMPILE`` is not "0") the composites are also shown compiled with
``torch.compile``, and the "compiled" cases race almanac's loss compiled with inductor against the compiled composite
(target ≤ 1.0×). The "validation" cases time one call at n = 1 000, where the per-call checks dominate, against
torch.nn's loss module and against almanac with ``validate=False`` (target ≤ 1.2× torch.nn); focal, which torch.nn
lacks, against the torchvision-style composite (information).
"""

from __future__ import annotations

import os
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
    if os.environ.get("ALMANAC_BENCH_COMPILE", "1") == "0":
        return None
    if args[0].device.type == "cpu" and shutil.which("g++") is None and shutil.which("c++") is None:
        return None
    compiled = torch.compile(fn, dynamic=False)
    try:
        compiled(*args).backward()
    except Exception:
        return None
    for a in args:
        a.grad = None
    return compiled


def cases(scale: float, *, compile: bool = True, device: str = "cpu") -> list[Case]:
    """Cases at about 4M elements × ``scale``, float32, forward and backward, on ``device``; ``compile=False``
    skips the ``torch.compile`` rows."""
    g = torch.Generator().manual_seed(0)
    n = max(64, round(4_194_304 * scale))
    x = (torch.randn(n, generator=g) * 2).to(device).requires_grad_()
    bits = (torch.rand(n, generator=g) < 0.1).float().to(device)
    y = torch.randn(n, generator=g).to(device)
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
    scores = torch.randn(8, c, s, generator=g).to(device).requires_grad_()
    labels = torch.randint(0, c, (8, s), generator=g).to(device)
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
    logits = torch.randn(rows, 1024, generator=g).to(device).requires_grad_()
    classes = torch.randint(0, 1024, (rows,), generator=g).to(device)
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

    def dice_call(a: Tensor, b: Tensor) -> Tensor:
        return L.dice(a, b, task="multiclass", smooth=0.0)

    def tversky_call(a: Tensor, b: Tensor) -> Tensor:
        return L.tversky(a, b, task="multiclass", smooth=0.0, alpha=0.3, beta=0.7)

    if compile:  # both sides compiled with inductor: almanac's loss against the composite people would compile
        for name, ours, naive, args, shape in (
                ("focal", focal, torchvision_focal, (x, bits), flat), ("dice", dice_call, smp_style("dice"),
                                                                       (scores, labels), seg),
                ("tversky", tversky_call, smp_style("tversky"), (scores, labels), seg),
                ("log_cosh", L.log_cosh, _log_cosh_naive, (x, y), flat), ("quantile", quantile, _quantile_naive,
                                                                           (x, y), flat),
                ("hinge", L.hinge, _hinge_naive, (x, bits), flat)):
            ours_c, naive_c = _compiled(ours, *args), _compiled(naive, *args)
            if ours_c is not None and naive_c is not None:
                out.append(Case(f"{name} (compiled)", shape, [
                    Contender("torch.compile(almanac)", body(ours_c, *args)),
                    Contender("torch.compile(composite)", body(naive_c, *args), target="≤ 1.0×")]))
    out += _validation_cases(device)
    return out


def _validation_cases(device: str) -> list[Case]:
    """One forward + backward at n = 1 000, where the per-call checks are most of the time."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1000, generator=g).to(device).requires_grad_()
    t = (torch.rand(1000, generator=g) < 0.3).float().to(device)
    logits = torch.randn(100, 10, generator=g).to(device).requires_grad_()
    labels = torch.randint(0, 10, (100,), generator=g).to(device)
    bce, bce_fast, bce_nn = L.get("bce"), L.get("bce", validate=False), torch.nn.BCEWithLogitsLoss()
    ce, ce_fast, ce_nn = L.get("cross_entropy"), L.get("cross_entropy", validate=False), torch.nn.CrossEntropyLoss()
    focal = L.get("focal", gamma=GAMMA, alpha=ALPHA)
    focal_fast = L.get("focal", gamma=GAMMA, alpha=ALPHA, validate=False)
    return [
        Case("validation: bce", "(1000,) f32", [
            Contender("almanac", fwd_bwd(lambda: bce(x, t), x)),
            Contender("torch.nn.BCEWithLogitsLoss", fwd_bwd(lambda: bce_nn(x, t), x), target="≤ 1.2×"),
            Contender("almanac validate=False", fwd_bwd(lambda: bce_fast(x, t), x), target="(cost of the checks)")]),
        Case("validation: cross_entropy", "(100, 10) f32", [
            Contender("almanac", fwd_bwd(lambda: ce(logits, labels), logits)),
            Contender("torch.nn.CrossEntropyLoss", fwd_bwd(lambda: ce_nn(logits, labels), logits), target="≤ 1.2×"),
            Contender("almanac validate=False", fwd_bwd(lambda: ce_fast(logits, labels), logits),
                      target="(cost of the checks)")]),
        Case("validation: focal", "(1000,) f32", [  # torch.nn has no focal loss: the composite people write
            Contender("almanac", fwd_bwd(lambda: focal(x, t), x)),
            Contender("torchvision-style", fwd_bwd(lambda: torchvision_focal(x, t), x), target="(information)"),
            Contender("almanac validate=False", fwd_bwd(lambda: focal_fast(x, t), x),
                      target="(cost of the checks)")]),
    ]
