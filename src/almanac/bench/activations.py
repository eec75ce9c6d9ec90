"""``almanac bench activations``: every activation against its peer, forward and backward.

The peer is PyTorch's native function where PyTorch has one (target: ≤ 1.1× its time), on a (4096·scale, 1024)
float32 input. Where it has none (silu with β ≠ 1, swiglu, geglu, sparsemax, entmax15) the peer is the naive
composite of torch ops that people write, e.g. ``x * torch.sigmoid(beta * x)``, ``a, b = x.chunk(2, -1);
F.silu(a) * b`` or a sort-based sparsemax differentiated by autograd (target: ≤ 0.7× its time, and no more memory
kept for the backward than the input). When a C++ compiler is available and ``ALMANAC_BENCH_COMPILE`` is not "0"
(compiling takes seconds per case) the composite compiled with ``torch.compile`` is a second peer, for
information, and the "(compiled)" cases race the almanac function compiled against the compiled composite
(target: ≤ 1.0×).

swiglu and geglu are timed as a transformer's feed-forward gate uses them: on (B·T, 2·d) inputs with
B·T = 4096·scale tokens and d = 1024 and 4096, forward and backward in float32 and in bfloat16, and the forward
alone under ``torch.no_grad()`` (inference): cases "swiglu", "swiglu (d=4096)", "swiglu (bf16)", "swiglu
(forward)", "swiglu (compiled)", and the same for geglu.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from almanac import activations as act
from almanac.bench.harness import Case, Contender, fwd_bwd

__all__ = ["cases", "entmax15_composite", "sparsemax_composite"]

NATIVE_TARGET = "≤ 1.1× torch"
COMPOSITE_TARGET = "≤ 0.7× naive, saved ≤ input"
SILU_BETA = 1.5


def sparsemax_composite(x: Tensor, dim: int = -1) -> Tensor:
    """Sparsemax as plain torch ops (sort, cumsum, gather), differentiated by autograd: the naive peer."""
    z = x.movedim(dim, -1)
    zs = torch.sort(z, dim=-1, descending=True).values
    k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    cs = zs.cumsum(-1)
    size = (1 + k * zs > cs).sum(-1, keepdim=True)
    tau = (cs.gather(-1, size - 1) - 1) / size
    return torch.clamp(z - tau, min=0).movedim(-1, dim)


def entmax15_composite(x: Tensor, dim: int = -1) -> Tensor:
    """1.5-entmax as plain torch ops (sort-based threshold), differentiated by autograd: the naive peer."""
    z = x.movedim(dim, -1) / 2
    z = z - z.amax(-1, keepdim=True)
    zs = torch.sort(z, dim=-1, descending=True).values
    k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    mean = zs.cumsum(-1) / k
    ss = (zs**2).cumsum(-1) - k * mean**2
    tau = mean - torch.sqrt(torch.clamp((1 - ss) / k, min=0))
    size = (tau <= zs).sum(-1, keepdim=True)
    return torch.clamp(z - tau.gather(-1, size - 1), min=0).pow(2).movedim(-1, dim)


def _swiglu_composite(x: Tensor) -> Tensor:
    a, b = x.chunk(2, -1)
    return F.silu(a) * b


def _geglu_composite(x: Tensor) -> Tensor:
    a, b = x.chunk(2, -1)
    return F.gelu(a) * b


def _silu_beta_composite(x: Tensor) -> Tensor:
    return x * torch.sigmoid(SILU_BETA * x)


def _prelu_case(x: Tensor, shape: str) -> Case:
    """prelu with its learnable weight (init 0.25), which gets a gradient too."""
    weight = torch.full((1,), 0.25, device=x.device, requires_grad=True)
    return Case("prelu", shape, [
        Contender("almanac", fwd_bwd(lambda: act.prelu(x, weight), x, weight)),
        Contender("torch", fwd_bwd(lambda: F.prelu(x, weight), x, weight)),
    ], NATIVE_TARGET)


# name → (our call, peer call). Our calls go through the public function, validation included.
_NATIVE: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "relu": (act.relu, torch.relu),
    "leaky_relu": (act.leaky_relu, F.leaky_relu),
    "elu": (act.elu, F.elu),
    "selu": (act.selu, F.selu),
    "celu": (act.celu, F.celu),
    "gelu": (act.gelu, F.gelu),
    "gelu_tanh": (lambda x: act.gelu(x, approximate="tanh"), lambda x: F.gelu(x, approximate="tanh")),
    "silu": (act.silu, F.silu),
    "mish": (act.mish, F.mish),
    "sigmoid": (act.sigmoid, torch.sigmoid),
    "hard_sigmoid": (act.hard_sigmoid, F.hardsigmoid),
    "hard_swish": (act.hard_swish, F.hardswish),
    "tanh": (act.tanh, torch.tanh),
    "hard_tanh": (act.hard_tanh, F.hardtanh),
    "softplus": (act.softplus, F.softplus),
    "softsign": (act.softsign, F.softsign),
    "softmax": (act.softmax, lambda x: torch.softmax(x, -1)),
    "log_softmax": (act.log_softmax, lambda x: torch.log_softmax(x, -1)),
    "glu": (act.glu, F.glu),
    "identity": (act.identity, torch.nn.Identity()),
}

_COMPOSITE: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "silu_beta": (lambda x: act.silu(x, beta=SILU_BETA), _silu_beta_composite),
    "swiglu": (act.swiglu, _swiglu_composite),
    "geglu": (act.geglu, _geglu_composite),
    "sparsemax": (act.sparsemax, sparsemax_composite),
    "entmax15": (act.entmax15, entmax15_composite),
}


def _why_not_compiled() -> str | None:
    """None when the torch.compile peers run, else the reason they are left out."""
    if os.environ.get("ALMANAC_BENCH_COMPILE", "1") == "0":
        return "torch.compile peer skipped (ALMANAC_BENCH_COMPILE=0)"
    if shutil.which("g++") is None and shutil.which("c++") is None:
        return "torch.compile peer skipped: no C++ compiler for inductor's CPU kernels"
    return None


def _forward(function: Callable[[Tensor], Tensor], x: Tensor) -> Callable[[], None]:
    """A contender body for inference: the forward alone, under ``torch.no_grad()``."""

    def body() -> None:
        with torch.no_grad():
            function(x)

    return body


def _gated_cases(scale: float, device: str, skipped: str | None) -> list[Case]:
    """swiglu and geglu on (B·T, 2·d) inputs: forward + backward (float32, bfloat16), forward alone, compiled."""
    tokens = max(2, round(4096 * scale))
    generator = torch.Generator().manual_seed(0)
    out: list[Case] = []
    for name in ("swiglu", "geglu"):
        ours, composite = _COMPOSITE[name]
        for label, d, dtype in ((name, 1024, torch.float32), (f"{name} (d=4096)", 4096, torch.float32),
                                (f"{name} (bf16)", 4096, torch.bfloat16)):
            x = torch.randn(tokens, 2 * d, generator=generator).to(device, dtype).requires_grad_()
            shape = f"({tokens}, 2·{d}) {'f32' if dtype == torch.float32 else 'bf16'}"
            contenders = [Contender("almanac", fwd_bwd(lambda f=ours, x=x: f(x), x)),
                          Contender("naive", fwd_bwd(lambda f=composite, x=x: f(x), x))]
            if skipped is None:
                compiled = torch.compile(composite, dynamic=False)
                contenders.append(Contender("compiled", fwd_bwd(lambda f=compiled, x=x: f(x), x),
                                            target="(information)"))
            out.append(Case(label, shape, contenders, COMPOSITE_TARGET, notes=() if skipped is None else (skipped,)))
            if dtype != torch.float32 or d != 4096:
                continue
            out.append(Case(f"{name} (forward)", f"{shape}, no_grad", [
                Contender("almanac", _forward(ours, x), memory=False),
                Contender("naive", _forward(composite, x), memory=False)], "(information)"))
            if skipped is None:
                ours_c, composite_c = torch.compile(ours, dynamic=False), torch.compile(composite, dynamic=False)
                out.append(Case(f"{name} (compiled)", shape, [
                    Contender("torch.compile(almanac)", fwd_bwd(lambda f=ours_c, x=x: f(x), x)),
                    Contender("torch.compile(composite)", fwd_bwd(lambda f=composite_c, x=x: f(x), x))],
                    "≤ 1.0× compiled, saved ≤ input"))
    return out


def cases(scale: float, device: str = "cpu") -> list[Case]:
    """One case per activation on ``device`` (see the module's docstring for the shapes)."""
    rows = max(2, round(4096 * scale))
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(rows, 1024, generator=generator).to(device).requires_grad_()
    shape = f"({rows}, 1024) f32"
    out: list[Case] = []

    def body(function: Callable[[Tensor], Tensor]) -> Callable[[], None]:
        return fwd_bwd(lambda: function(x), x)

    for name, (ours, peer) in _NATIVE.items():
        out.append(Case(name, shape, [Contender("almanac", body(ours)), Contender("torch", body(peer))],
                        NATIVE_TARGET))
        if name == "leaky_relu":
            out.append(_prelu_case(x, shape))
    skipped = _why_not_compiled()
    for name, (ours, composite) in _COMPOSITE.items():
        if name in ("swiglu", "geglu"):
            continue
        contenders = [Contender("almanac", body(ours)), Contender("naive", body(composite))]
        if skipped is None:
            compiled = torch.compile(composite, dynamic=False)
            contenders.append(Contender("compiled", body(compiled), target="(information)"))
        out.append(Case(name, shape, contenders, COMPOSITE_TARGET, notes=() if skipped is None else (skipped,)))
    return out + _gated_cases(scale, device, skipped)
