"""Regression losses on predicted values."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from almanac.errors import DomainError, TargetError
from almanac.losses._autograd import Elementwise, log_cosh_kernel, quantile_kernel
from almanac.losses._common import NON_NEGATIVE, PLAIN, POSITIVE, float_input, in_range, real_target
from almanac.losses._modules import REGISTRY
from almanac.losses._reduction import check_weight, finish, fusable, reduce
from almanac.registry import boolean, real

__all__ = ["gaussian_nll", "huber", "log_cosh", "mae", "mse", "poisson_nll", "quantile", "smooth_l1"]


def _prepare(input: Tensor, target: Tensor, reduction: str, sample_weight: Tensor | None) -> Tensor:
    float_input(input)
    target = real_target(input, target)
    check_weight(sample_weight, input.shape[0])
    return target



@REGISTRY.register(
    aliases=("l2", "mean_squared_error", "squared_error"),
    constraints=PLAIN,
    summary="Mean squared error: the Gaussian negative log-likelihood up to constants; outliers dominate it.",
    formula="(x - y)²",
    references=("Gauss 1809, least squares", "PyTorch torch.nn.MSELoss"),
    expects="values", target="real", tasks=("regression",), normalization="none",
)
def mse(input: Tensor, target: Tensor, *, reduction: str = "mean", sample_weight: Tensor | None = None) -> Tensor:
    """Squared error.

    Args:
        input: predictions ``(N, ...)``, floating point.
        target: true values, same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(mse(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0])))
    2.5
    """
    target = _prepare(input, target, reduction, sample_weight)
    return reduce(F.mse_loss(input, target, reduction="none"), reduction, sample_weight)


@REGISTRY.register(
    aliases=("l1", "mean_absolute_error", "absolute_error"),
    constraints=PLAIN,
    summary="Mean absolute error: the median regressor; robust to outliers, constant gradient.",
    formula="|x - y|",
    references=("Laplace 1774, least absolute deviations", "PyTorch torch.nn.L1Loss"),
    expects="values", target="real", tasks=("regression",), normalization="none", robust_to_outliers=True,
)
def mae(input: Tensor, target: Tensor, *, reduction: str = "mean", sample_weight: Tensor | None = None) -> Tensor:
    """Absolute error.

    Args:
        input: predictions ``(N, ...)``, floating point.
        target: true values, same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(mae(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0])))
    1.5
    """
    target = _prepare(input, target, reduction, sample_weight)
    return reduce(F.l1_loss(input, target, reduction="none"), reduction, sample_weight)



@REGISTRY.register(
    constraints={"delta": POSITIVE, **PLAIN},
    summary="Huber loss: quadratic for errors below delta, linear beyond; robust with a smooth minimum.",
    formula="½(x - y)² if |x - y| ≤ δ else δ(|x - y| - ½δ)",
    references=("Huber 1964, Robust Estimation of a Location Parameter", "PyTorch torch.nn.HuberLoss"),
    expects="values", target="real", tasks=("regression",), normalization="none", robust_to_outliers=True,
)
def huber(input: Tensor, target: Tensor, *, delta: float = 1.0, reduction: str = "mean",
          sample_weight: Tensor | None = None) -> Tensor:
    """Huber loss.

    Args:
        input: predictions ``(N, ...)``, floating point.
        target: true values, same shape.
        delta: δ > 0, where the loss turns linear.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(huber(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0])))
    1.3125
    """
    target = _prepare(input, target, reduction, sample_weight)
    return reduce(F.huber_loss(input, target, reduction="none", delta=float(delta)), reduction, sample_weight)



@REGISTRY.register(
    constraints={"beta": NON_NEGATIVE, **PLAIN},
    summary="Smooth L1: Huber divided by beta; L1 beyond beta, quadratic below (beta = 0 is L1).",
    formula="½(x - y)²/β if |x - y| < β else |x - y| - ½β",
    references=("Girshick 2015, Fast R-CNN", "PyTorch torch.nn.SmoothL1Loss"),
    expects="values", target="real", tasks=("regression",), normalization="none", robust_to_outliers=True,
)
def smooth_l1(input: Tensor, target: Tensor, *, beta: float = 1.0, reduction: str = "mean",
              sample_weight: Tensor | None = None) -> Tensor:
    """Smooth L1 loss (Huber with δ = β, divided by β).

    β = 0 gives ``|x - y|``.

    Args:
        input: predictions ``(N, ...)``, floating point.
        target: true values, same shape.
        beta: β ≥ 0.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(smooth_l1(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0])))
    1.3125
    """
    target = _prepare(input, target, reduction, sample_weight)
    return reduce(F.smooth_l1_loss(input, target, reduction="none", beta=float(beta)), reduction, sample_weight)


@REGISTRY.register(
    aliases=("logcosh",),
    constraints=PLAIN,
    summary="Log-cosh: quadratic near zero and linear for large errors, smooth everywhere (a smooth Huber).",
    formula="log cosh(x - y)",
    references=("Chen et al. 2019, Log Hyperbolic Cosine Loss Improves Variational Auto-Encoder",),
    expects="values", target="real", tasks=("regression",), normalization="none", robust_to_outliers=True,
)
def log_cosh(input: Tensor, target: Tensor, *, reduction: str = "mean", sample_weight: Tensor | None = None) -> Tensor:
    """Log-cosh loss, stable for any error.

    Computed as ``e + softplus(-2e) - log 2`` with ``e = x - y`` (``cosh`` overflows in float32 beyond |e| ≈ 89;
    this form is exact at |e| = 1e3); dℓ/dx = tanh(e).

    Args:
        input: predictions ``(N, ...)``, floating point.
        target: true values, same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(log_cosh(torch.tensor([1000.0]), torch.tensor([0.0])))
    999.3068237304688
    """
    target = _prepare(input, target, reduction, sample_weight)
    if torch.compiler.is_compiling():  # plain ops, which inductor fuses; the chunked kernel is for eager mode
        e = input - target
        return reduce(e + F.softplus(-2.0 * e) - math.log(2.0), reduction, sample_weight)
    summed = fusable(reduction, sample_weight)
    out = Elementwise.apply(input, target, log_cosh_kernel, 0, summed, True)
    return finish(out, reduction, input.numel()) if summed else reduce(out, reduction, sample_weight)



@REGISTRY.register(
    aliases=("pinball",),
    constraints={"q": real(0.0, 1.0, low_open=True, high_open=True), **PLAIN},
    summary="Quantile (pinball) loss: its minimiser is the q-quantile of the target; q = 0.5 is half the MAE.",
    formula="max(q·(y - x), (q - 1)·(y - x))",
    references=("Koenker & Bassett 1978, Regression Quantiles",),
    expects="values", target="real", tasks=("regression",), normalization="none", robust_to_outliers=True,
)
def quantile(input: Tensor, target: Tensor, *, q: float = 0.5, reduction: str = "mean",
             sample_weight: Tensor | None = None) -> Tensor:
    """Quantile (pinball) loss.

    At ``x = y`` the gradient is the mean of the two one-sided slopes, ``½ - q``.

    Args:
        input: predicted quantiles ``(N, ...)``, floating point.
        target: true values, same shape.
        q: the quantile, in (0, 1).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(quantile(torch.tensor([0.0, 0.0]), torch.tensor([1.0, -1.0]), q=0.9))
    0.5
    """
    target = _prepare(input, target, reduction, sample_weight)
    summed = fusable(reduction, sample_weight)
    out = Elementwise.apply(input, target, quantile_kernel(float(q)), 1, summed, True)
    return finish(out, reduction, input.numel()) if summed else reduce(out, reduction, sample_weight)



@REGISTRY.register(
    aliases=("poisson",),
    constraints={"log_input": boolean(), "full": boolean(), "eps": POSITIVE, **PLAIN},
    summary="Poisson negative log-likelihood, for count targets; the model predicts the log rate by default.",
    formula="exp(x) - y·x (log_input) or x - y·log(x + eps); + Stirling term of log y! if full",
    references=("PyTorch torch.nn.PoissonNLLLoss", "Nelder & Wedderburn 1972, Generalized Linear Models"),
    expects="values", target="real", tasks=("regression",), normalization="exp",
)
def poisson_nll(input: Tensor, target: Tensor, *, log_input: bool = True, full: bool = False, eps: float = 1e-8,
                reduction: str = "mean", sample_weight: Tensor | None = None) -> Tensor:
    """Poisson negative log-likelihood of counts.

    ``full`` adds the Stirling approximation of ``log y!`` for ``y > 1``.

    Args:
        input: log rates (rates with ``log_input=False``, then ≥ 0) ``(N, ...)``.
        target: non-negative counts, same shape.
        log_input: whether ``input`` is the log of the rate.
        full: add the Stirling term.
        eps: added inside the log when ``log_input=False``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> round(float(poisson_nll(torch.tensor([0.0]), torch.tensor([2.0]))), 4)
    1.0
    """
    target = _prepare(input, target, reduction, sample_weight)
    in_range(target, "target", 0.0, math.inf, TargetError, "pass non-negative counts")
    if not log_input:
        in_range(input, "input", 0.0, math.inf, DomainError, "pass non-negative rates, or log_input=True")
    loss = F.poisson_nll_loss(input, target, log_input=log_input, full=full, eps=float(eps), reduction="none")
    return reduce(loss, reduction, sample_weight)



@REGISTRY.register(
    aliases=("gaussian", "heteroscedastic"),
    constraints={"full": boolean(), "eps": POSITIVE, **PLAIN},
    summary="Gaussian negative log-likelihood of a predicted mean and variance (heteroscedastic regression).",
    formula="½(log max(var, eps) + (mean - y)² / max(var, eps)) (+ ½ log 2π if full)",
    references=("Nix & Weigend 1994, Estimating the Mean and Variance of the Target Probability Distribution",
                "PyTorch torch.nn.GaussianNLLLoss"),
    expects="values", target="real", tasks=("regression",), normalization="none",
)
def gaussian_nll(input: Tensor, target: Tensor, var: Tensor, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean", sample_weight: Tensor | None = None) -> Tensor:
    """Gaussian negative log-likelihood; ``input`` is the predicted mean and ``var`` the predicted variance.

    Args:
        input: predicted means ``(N, ...)``.
        target: true values, same shape.
        var: predicted variances (≥ 0), same shape — never broadcast; expand a shared variance explicitly.
        full: add the constant term.
        eps: lower clamp of the variance (the gradient does not flow through the clamp).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        sample_weight: per-sample weights ``(N,)``.

    >>> import torch
    >>> float(gaussian_nll(torch.tensor([0.0]), torch.tensor([2.0]), torch.tensor([1.0])))
    2.0
    """
    target = _prepare(input, target, reduction, sample_weight)
    var = real_target(input, var, "var")
    in_range(var, "var", 0.0, math.inf, DomainError, "pass non-negative variances (for example softplus(v))")
    # PyTorch's GaussianNLLLoss, written out: its own `var < 0` test is a data-dependent branch (a graph break and a
    # host sync). var is clamped at eps in value only; the gradient passes through as if unclamped, as there.
    v = var.detach().clamp(min=float(eps)) + (var - var.detach())
    loss = 0.5 * (torch.log(v) + (input - target).square() / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce(loss, reduction, sample_weight)
