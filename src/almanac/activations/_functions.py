"""The activation catalog: each pure function declared once with its spec.

Facts in the specs hold for the default parameters. ``zero_centered`` means that a standard-normal input (i.i.d.
entries) gives outputs of mean 0; ``smooth`` means continuously differentiable; ``monotonic`` means
non-decreasing (for the dimension-mixing maps: each output in its own input). ``saves_for_backward`` says which
tensors autograd keeps for the backward pass ("input", "output", "input and weight", "nothing").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from almanac._checks import check_choice, check_floating, check_number, check_tensor
from almanac.activations import _script
from almanac.activations._autograd import Entmax15, GatedUnit, SiLUBeta, Sparsemax
from almanac.activations._modules import Activation
from almanac.activations._script import scriptable
from almanac.errors import ConfigError, ShapeError, problem
from almanac.registry import ActivationSpec, Registry, choice, integer, real

__all__ = [
    "REGISTRY",
    "celu",
    "check_params",
    "check_prelu_weight",
    "elu",
    "entmax15",
    "geglu",
    "gelu",
    "glu",
    "hard_sigmoid",
    "hard_swish",
    "hard_tanh",
    "identity",
    "leaky_relu",
    "log_softmax",
    "mish",
    "prelu",
    "relu",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "sparsemax",
    "swiglu",
    "tanh",
]

INF = math.inf
HIDDEN = frozenset({"hidden"})
OUTPUT = frozenset({"output"})
BOTH = HIDDEN | OUTPUT


# -- validation (at the edge, once per call) ---------------------------------------------------------------------
# Each hyperparameter's constraint is declared in its function's register(...) call; the registry checks the
# keywords passed, on every call and in get().

_SLOPE = real()  # any finite number
_POSITIVE = real(0.0, INF, low_open=True)
_DIM = {"dim": integer()}


def _finite(value: Any, name: str) -> None:
    check_number(value, name, low=-INF, high=INF, low_open=True, high_open=True)


def check_params(function: str, params: Mapping[str, Any]) -> None:
    """Check the hyperparameters ``params`` of activation ``function`` against its spec (ConfigError)."""
    REGISTRY.check_params(function, params)


def _check(x: Any, function: str, **params: Any) -> None:
    """The input of ``function``; its hyperparameters were checked by the registry on the way in."""
    del function, params
    check_tensor(x, "input")
    check_floating(x, "input")


def _check_dim(x: Tensor, function: str, dim: int, *, halves: bool = False) -> None:
    _check(x, function, dim=dim)
    n = max(x.ndim, 1)
    if not -n <= dim < n:
        raise problem(ConfigError, "dim", f"to be in [{-n}, {n - 1}] for an input of {x.ndim} dimensions",
                      str(dim), "pass a dim of the input")
    if halves and (x.ndim == 0 or x.shape[dim] % 2):
        size = "a scalar" if x.ndim == 0 else f"size {x.shape[dim]} (shape {tuple(x.shape)})"
        raise problem(ShapeError, "input", f"to have an even size along dim={dim} (split into value and gate)",
                      size, "make that dimension even, e.g. double the width of the layer before")


def check_prelu_weight(x: Tensor, weight: Any) -> None:
    """prelu's ``weight``: a floating tensor of 1 value or one per channel (dim 1 of ``x``)."""
    check_tensor(weight, "weight")
    check_floating(weight, "weight")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim > 1 or weight.numel() not in (1, channels):
        raise problem(ShapeError, "weight", f"to be 1-D with 1 or {channels} (channels, dim 1 of the input) values",
                      f"shape {tuple(weight.shape)}", f"pass get('prelu', num_parameters={channels})")


def _broadcasts_to(t: Tensor, x: Tensor) -> bool:
    if t.ndim > x.ndim:
        return False
    return all(a in (1, b) for a, b in zip(reversed(t.shape), reversed(x.shape)))


# -- object form -------------------------------------------------------------------------------------------------

def _module(name: str, **params: Any) -> Activation:
    return Activation(name, REGISTRY.function(name), params)


def _prelu_module(name: str, *, num_parameters: int = 1, init: float = 0.25) -> Activation:
    check_number(num_parameters, "num_parameters", low=1, integer=True)
    _finite(init, "init")
    return Activation(name, prelu, learnable={"weight": torch.full((num_parameters,), float(init))})


def _silu_module(name: str, *, beta: float = 1.0, learnable: bool = False) -> Activation:
    check_choice(learnable, "learnable", (False, True))
    if learnable:
        return Activation(name, silu, learnable={"beta": torch.tensor(float(beta))})
    return Activation(name, silu, {"beta": beta})


REGISTRY: Registry[ActivationSpec] = Registry("activation", ActivationSpec, default_factory=_module,
                                              require_constraints=True)


# -- rectifiers --------------------------------------------------------------------------------------------------

@REGISTRY.register(
    summary="Rectified linear unit: passes positives, zeroes negatives.",
    formula="max(x, 0)",
    references=("Nair & Hinton 2010, Rectified Linear Units Improve Restricted Boltzmann Machines",),
    output_range=(0.0, INF), monotonic=True, smooth=False, zero_centered=False, placement=HIDDEN,
    saves_for_backward="output",
)
@scriptable(_script.relu)
def relu(x: Tensor) -> Tensor:
    """Rectified linear unit.

    Args:
        x: floating tensor of any shape.

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> relu(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
    """
    _check(x, "relu")
    return torch.relu(x)


@REGISTRY.register(
    summary="ReLU with a small fixed slope for negatives, so no unit dies.",
    formula="x if x > 0 else negative_slope · x",
    references=("Maas et al. 2013, Rectifier Nonlinearities Improve Neural Network Acoustic Models",),
    output_range=(-INF, INF), monotonic=True, smooth=False, zero_centered=False, placement=HIDDEN,
    saves_for_backward="input",
    constraints={"negative_slope": _SLOPE},
)
@scriptable(_script.leaky_relu)
def leaky_relu(x: Tensor, *, negative_slope: float = 0.01) -> Tensor:
    """Leaky ReLU.

    Args:
        x: floating tensor of any shape.
        negative_slope: slope for negative inputs (finite).

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> leaky_relu(torch.tensor([-2.0, 3.0]), negative_slope=0.5)
    tensor([-1.,  3.])
    """
    _check(x, "leaky_relu", negative_slope=negative_slope)
    return F.leaky_relu(x, negative_slope)


@REGISTRY.register(
    summary="Leaky ReLU whose negative slope is learnt (one per channel or shared).",
    formula="x if x > 0 else a · x (a learnt, init 0.25)",
    references=("He et al. 2015, Delving Deep into Rectifiers",),
    output_range=(-INF, INF), monotonic=True, smooth=False, zero_centered=False, placement=HIDDEN,
    saves_for_backward="input and weight", factory=_prelu_module, factory_params=("num_parameters", "init"),
)
@scriptable(_script.prelu)
def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """Parametric ReLU.

    ``a = weight``: one value, or one per channel along dim 1.

    Args:
        x: floating tensor, shape (N, C, ...) when ``weight`` has C > 1 values.
        weight: floating tensor of 1 or C values. ``get("prelu", num_parameters=C)`` holds it as a parameter.

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> prelu(torch.tensor([-2.0, 3.0]), torch.tensor([0.25]))
    tensor([-0.5000,  3.0000])
    """
    _check(x, "prelu")
    check_prelu_weight(x, weight)
    return F.prelu(x, weight.reshape(-1))


# -- exponential units -------------------------------------------------------------------------------------------

@REGISTRY.register(
    summary="Exponential linear unit: identity for positives, saturates to −alpha for negatives.",
    formula="x if x > 0 else alpha · (exp(x) − 1)",
    references=("Clevert et al. 2016, Fast and Accurate Deep Network Learning by Exponential Linear Units",),
    output_range=(-1.0, INF), monotonic=True, smooth=True, zero_centered=False, placement=HIDDEN,
    saves_for_backward="input",
    constraints={"alpha": _POSITIVE},
)
@scriptable(_script.elu)
def elu(x: Tensor, *, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit (continuously differentiable for alpha = 1).

    Args:
        x: floating tensor of any shape.
        alpha: saturation value for negative inputs (> 0).

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> elu(torch.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """
    _check(x, "elu", alpha=alpha)
    return F.elu(x, alpha)


@REGISTRY.register(
    summary="Scaled ELU with constants that keep activations at mean 0, variance 1 (self-normalising).",
    formula="λ · (x if x > 0 else α · (exp(x) − 1)), λ ≈ 1.0507, α ≈ 1.6733",
    references=("Klambauer et al. 2017, Self-Normalizing Neural Networks",),
    output_range=(-1.7581, INF), monotonic=True, smooth=False, zero_centered=True, placement=HIDDEN,
    saves_for_backward="input",
)
@scriptable(_script.selu)
def selu(x: Tensor) -> Tensor:
    """Scaled exponential linear unit.

    λ = 1.0507009873554805, α = 1.6732632423543772.

    Args:
        x: floating tensor of any shape.

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> selu(torch.tensor([-1.0, 1.0]))
    tensor([-1.1113,  1.0507])
    """
    _check(x, "selu")
    return F.selu(x)


@REGISTRY.register(
    summary="Continuously differentiable ELU for every alpha.",
    formula="max(0, x) + min(0, alpha · (exp(x / alpha) − 1))",
    references=("Barron 2017, Continuously Differentiable Exponential Linear Units",),
    output_range=(-1.0, INF), monotonic=True, smooth=True, zero_centered=False, placement=HIDDEN,
    saves_for_backward="input",
    constraints={"alpha": _POSITIVE},
)
@scriptable(_script.celu)
def celu(x: Tensor, *, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable exponential linear unit.

    Args:
        x: floating tensor of any shape.
        alpha: saturation value for negative inputs (> 0).

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> celu(torch.tensor([-2.0, 2.0]), alpha=2.0)
    tensor([-1.2642,  2.0000])
    """
    _check(x, "celu", alpha=alpha)
    return F.celu(x, alpha)


# -- smooth gates ------------------------------------------------------------------------------------------------

@REGISTRY.register(
    summary="Gaussian error linear unit: x weighted by the standard normal CDF (transformers' default).",
    formula="x · Φ(x); approximate='tanh': 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))",
    references=("Hendrycks & Gimpel 2016, Gaussian Error Linear Units (GELUs)",),
    output_range=(-0.17, INF), monotonic=False, smooth=True, zero_centered=False, placement=HIDDEN,
    saves_for_backward="input",
    constraints={"approximate": choice("none", "tanh")},
)
@scriptable(_script.gelu)
def gelu(x: Tensor, *, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit.

    Φ is the standard normal CDF; ``approximate="tanh"`` uses ``0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 ·
    x³)))``.

    Args:
        x: floating tensor of any shape.
        approximate: "none" (exact, erf) or "tanh".

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> gelu(torch.tensor([-1.0, 1.0]))
    tensor([-0.1587,  0.8413])
    """
    _check(x, "gelu", approximate=approximate)
    return F.gelu(x, approximate=approximate)


@REGISTRY.register(
    aliases=("swish",),
    summary="Sigmoid-weighted linear unit (Swish); beta sharpens the gate, and can be learnt.",
    formula="x · sigmoid(βx)",
    references=("Elfwing et al. 2018, Sigmoid-Weighted Linear Units for Neural Network Function Approximation",
                "Ramachandran et al. 2017, Searching for Activation Functions"),
    output_range=(-0.2785, INF), monotonic=False, smooth=True, zero_centered=False, placement=HIDDEN,
    saves_for_backward="input", factory=_silu_module, factory_params=("learnable",),
    constraints={"beta": real(tensor=True)},
)
@scriptable(_script.silu)
def silu(x: Tensor, *, beta: float | Tensor = 1.0) -> Tensor:
    """SiLU / Swish.

    β = 1 runs PyTorch's fused kernel; any other β (a float, or a tensor that may require grad, as in ``get("silu",
    learnable=True)``) runs a custom autograd function that keeps only the input for the backward pass.

    Args:
        x: floating tensor of any shape.
        beta: finite float, or a floating tensor broadcastable to ``x``.

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> silu(torch.tensor([-1.0, 2.0]), beta=2.0)
    tensor([-0.1192,  1.9640])
    """
    _check(x, "silu", beta=beta)
    if isinstance(beta, Tensor) and not _broadcasts_to(beta, x):
        raise problem(ShapeError, "beta", f"to broadcast to the input's shape {tuple(x.shape)}",
                      f"shape {tuple(beta.shape)}", "pass one β (a 0-d tensor) or one per trailing feature")
    if not isinstance(beta, Tensor) and beta == 1.0:
        return F.silu(x)
    return SiLUBeta.apply(x, beta)


@REGISTRY.register(
    summary="Self-regularised non-monotonic activation.",
    formula="x · tanh(softplus(x))",
    references=("Misra 2019, Mish: A Self Regularized Non-Monotonic Activation Function",),
    output_range=(-0.3089, INF), monotonic=False, smooth=True, zero_centered=False, placement=HIDDEN,
    saves_for_backward="input",
)
@scriptable(_script.mish)
def mish(x: Tensor) -> Tensor:
    """Mish.

    Args:
        x: floating tensor of any shape.

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> mish(torch.tensor([-1.0, 1.0]))
    tensor([-0.3034,  0.8651])
    """
    _check(x, "mish")
    return F.mish(x)


# -- squashing functions -----------------------------------------------------------------------------------------

@REGISTRY.register(
    summary="Logistic function: a probability for binary and multi-label outputs; gates in LSTMs.",
    formula="1 / (1 + exp(−x))",
    references=("Rumelhart, Hinton & Williams 1986, Learning Representations by Back-Propagating Errors",),
    output_range=(0.0, 1.0), monotonic=True, smooth=True, zero_centered=False, placement=OUTPUT,
    saves_for_backward="output",
)
@scriptable(_script.sigmoid)
def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid.

    Args:
        x: floating tensor of any shape.

    Returns:
        A tensor of the shape and dtype of ``x``, in [0, 1].

    >>> sigmoid(torch.tensor([0.0, 2.0]))
    tensor([0.5000, 0.8808])
    """
    _check(x, "sigmoid")
    return torch.sigmoid(x)


@REGISTRY.register(
    summary="Piecewise-linear sigmoid, cheap on mobile hardware.",
    formula="clamp(x / 6 + 1/2, 0, 1)",
    references=("Howard et al. 2019, Searching for MobileNetV3",),
    output_range=(0.0, 1.0), monotonic=True, smooth=False, zero_centered=False, placement=HIDDEN,
    saves_for_backward="input",
)
@scriptable(_script.hard_sigmoid)
def hard_sigmoid(x: Tensor) -> Tensor:
    """Hard sigmoid (PyTorch's definition, ReLU6(x + 3) / 6).

    Args:
        x: floating tensor of any shape.

    Returns:
        A tensor of the shape and dtype of ``x``, in [0, 1].

    >>> hard_sigmoid(torch.tensor([-4.0, 0.0, 1.5]))
    tensor([0.0000, 0.5000, 0.7500])
    """
    _check(x, "hard_sigmoid")
    return F.hardsigmoid(x)


@REGISTRY.register(
    summary="x times hard sigmoid: a piecewise-polynomial Swish for mobile networks.",
    formula="x · clamp(x / 6 + 1/2, 0, 1)",
    references=("Howard et al. 2019, Searching for MobileNetV3",),
    output_range=(-0.375, INF), monotonic=False, smooth=False, zero_centered=False, placement=HIDDEN,
    saves_for_backward="input",
)
@scriptable(_script.hard_swish)
def hard_swish(x: Tensor) -> Tensor:
    """Hard Swish.

    Args:
        x: floating tensor of any shape.

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> hard_swish(torch.tensor([-1.5, 0.0, 4.0]))
    tensor([-0.3750,  0.0000,  4.0000])
    """
    _check(x, "hard_swish")
    return F.hardswish(x)


@REGISTRY.register(
    summary="Hyperbolic tangent: zero-centred squashing to (−1, 1); RNN cells and bounded outputs.",
    formula="(exp(x) − exp(−x)) / (exp(x) + exp(−x))",
    references=("LeCun et al. 1998, Efficient BackProp",),
    output_range=(-1.0, 1.0), monotonic=True, smooth=True, zero_centered=True, placement=BOTH,
    saves_for_backward="output",
)
@scriptable(_script.tanh)
def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent.

    Args:
        x: floating tensor of any shape.

    Returns:
        A tensor of the shape and dtype of ``x``, in [−1, 1].

    >>> tanh(torch.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7616])
    """
    _check(x, "tanh")
    return torch.tanh(x)


@REGISTRY.register(
    summary="Piecewise-linear tanh: identity on [−1, 1], clipped outside.",
    formula="clamp(x, −1, 1)",
    references=("Collobert 2004, Large Scale Machine Learning (PhD thesis)",),
    output_range=(-1.0, 1.0), monotonic=True, smooth=False, zero_centered=True, placement=HIDDEN,
    saves_for_backward="input",
)
@scriptable(_script.hard_tanh)
def hard_tanh(x: Tensor) -> Tensor:
    """Hard tanh.

    Args:
        x: floating tensor of any shape.

    Returns:
        A tensor of the shape and dtype of ``x``, in [−1, 1].

    >>> hard_tanh(torch.tensor([-3.0, 0.5, 2.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    _check(x, "hard_tanh")
    return F.hardtanh(x)


@REGISTRY.register(
    summary="Smooth ReLU, always positive: hidden units, or an output that must be positive (a scale, a rate).",
    formula="log(1 + exp(β·x)) / β, and x where β·x > threshold",
    references=("Dugas et al. 2001, Incorporating Second-Order Functional Knowledge for Better Option Pricing",),
    output_range=(0.0, INF), monotonic=True, smooth=True, zero_centered=False, placement=BOTH,
    saves_for_backward="input",
    constraints={"beta": _POSITIVE, "threshold": _POSITIVE},
)
@scriptable(_script.softplus)
def softplus(x: Tensor, *, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Softplus.

    Where ``β · x > threshold`` it returns ``x`` (equal in floating point, and no overflow).

    Args:
        x: floating tensor of any shape.
        beta: sharpness (> 0).
        threshold: above it (in β · x) the function is linear (> 0).

    Returns:
        A tensor of the shape and dtype of ``x``.

    >>> softplus(torch.tensor([0.0, 30.0]))
    tensor([ 0.6931, 30.0000])
    """
    _check(x, "softplus", beta=beta, threshold=threshold)
    # exp(β·x) overflows past log(dtype max); there log(1 + exp(β·x)) = β·x already, so the threshold is capped
    # there: the values are unchanged and a large threshold (200) no longer gives inf and NaN gradients
    if x.is_floating_point():
        threshold = min(float(threshold), math.log(torch.finfo(x.dtype).max) - 1.0)
    return F.softplus(x, beta, threshold)


@REGISTRY.register(
    summary="x / (1 + |x|): a tanh-like squashing with polynomial (slower) saturation.",
    formula="x / (1 + |x|)",
    references=("Bergstra et al. 2009, Quadratic Polynomials Learn Better Image Features",),
    output_range=(-1.0, 1.0), monotonic=True, smooth=True, zero_centered=True, placement=HIDDEN,
    saves_for_backward="input and 1 + |input|",
)
@scriptable(_script.softsign)
def softsign(x: Tensor) -> Tensor:
    """Softsign.

    Args:
        x: floating tensor of any shape.

    Returns:
        A tensor of the shape and dtype of ``x``, in (−1, 1).

    >>> softsign(torch.tensor([-3.0, 1.0]))
    tensor([-0.7500,  0.5000])
    """
    _check(x, "softsign")
    return F.softsign(x)


@REGISTRY.register(
    summary="No activation: the identity, for outputs that are logits or unbounded values.",
    formula="x",
    references=("Goodfellow, Bengio & Courville 2016, Deep Learning, §6.2.2",),
    output_range=(-INF, INF), monotonic=True, smooth=True, zero_centered=True, placement=OUTPUT,
    saves_for_backward="nothing",
)
@scriptable(_script.identity)
def identity(x: Tensor) -> Tensor:
    """Identity (returns ``x`` itself).

    Args:
        x: floating tensor of any shape.

    Returns:
        ``x``.

    >>> identity(torch.tensor([-1.0, 2.0]))
    tensor([-1.,  2.])
    """
    _check(x, "identity")
    return x


# -- maps along a dimension --------------------------------------------------------------------------------------

@REGISTRY.register(
    summary="Normalised exponentials along dim: a probability distribution over classes.",
    formula="exp(x_i − max x) / Σ_j exp(x_j − max x)",
    references=("Bridle 1990, Probabilistic Interpretation of Feedforward Classification Network Outputs",),
    output_range=(0.0, 1.0), monotonic=True, smooth=True, zero_centered=False, placement=OUTPUT,
    saves_for_backward="output", elementwise=False,
    constraints=_DIM,
)
@scriptable(_script.softmax)
def softmax(x: Tensor, *, dim: int = -1) -> Tensor:
    """Softmax along ``dim``.

    Shifted by the max (``exp(x_i − max x)``), so large logits do not overflow.

    Args:
        x: floating tensor of any shape.
        dim: the dimension that holds the classes.

    Returns:
        A tensor of the shape and dtype of ``x``; non-negative, sums to 1 along ``dim``.

    >>> softmax(torch.tensor([1.0, 1.0, 2.0]))
    tensor([0.2119, 0.2119, 0.5761])
    """
    _check_dim(x, "softmax", dim)
    return torch.softmax(x, dim)


@REGISTRY.register(
    summary="Log of softmax, computed stably: log-probabilities for a negative log-likelihood.",
    formula="x_i − max x − log Σ_j exp(x_j − max x)",
    references=("Bridle 1990, Probabilistic Interpretation of Feedforward Classification Network Outputs",),
    output_range=(-INF, 0.0), monotonic=True, smooth=True, zero_centered=False, placement=OUTPUT,
    saves_for_backward="output", elementwise=False,
    constraints=_DIM,
)
@scriptable(_script.log_softmax)
def log_softmax(x: Tensor, *, dim: int = -1) -> Tensor:
    """Log-softmax along ``dim``.

    Shifted by the max; never ``log(softmax(x))``, which gives −inf when a probability underflows.

    Args:
        x: floating tensor of any shape.
        dim: the dimension that holds the classes.

    Returns:
        A tensor of the shape and dtype of ``x``; ≤ 0, its exp sums to 1 along ``dim``.

    >>> log_softmax(torch.tensor([0.0, 0.0]))
    tensor([-0.6931, -0.6931])
    """
    _check_dim(x, "log_softmax", dim)
    return torch.log_softmax(x, dim)


@REGISTRY.register(
    summary="Gated linear unit: one half of dim gated by the sigmoid of the other half.",
    formula="a · sigmoid(b), (a, b) = x.chunk(2, dim)",
    references=("Dauphin et al. 2017, Language Modeling with Gated Convolutional Networks",),
    output_range=(-INF, INF), monotonic=False, smooth=True, zero_centered=True, placement=HIDDEN,
    saves_for_backward="input", elementwise=False,
    constraints=_DIM,
)
@scriptable(_script.glu)
def glu(x: Tensor, *, dim: int = -1) -> Tensor:
    """Gated linear unit; halves ``dim``.

    Args:
        x: floating tensor whose size along ``dim`` is even.
        dim: the dimension split into value and gate.

    Returns:
        A tensor of the dtype of ``x``, half its size along ``dim``.

    >>> glu(torch.tensor([2.0, 0.0]))
    tensor([1.])
    """
    _check_dim(x, "glu", dim, halves=True)
    return F.glu(x, dim)


def _gated(x: Tensor, dim: int, kind: str) -> Tensor:
    """act(a) · b: the autograd function in eager mode; the plain formula while compiling, which inductor fuses
    into one kernel each way (its partitioner then keeps only the input for the backward, as the function does)."""
    if torch.compiler.is_compiling():
        a, b = x.chunk(2, dim)
        return (F.silu(a) if kind == "silu" else F.gelu(a)) * b
    return GatedUnit.apply(x, dim, kind)


@REGISTRY.register(
    summary="SiLU-gated linear unit, the feed-forward gate of LLaMA and PaLM.",
    formula="silu(a) · b, (a, b) = x.chunk(2, dim)",
    references=("Shazeer 2020, GLU Variants Improve Transformer",),
    output_range=(-INF, INF), monotonic=False, smooth=True, zero_centered=True, placement=HIDDEN,
    saves_for_backward="input", elementwise=False,
    constraints=_DIM,
)
@scriptable(_script.swiglu)
def swiglu(x: Tensor, *, dim: int = -1) -> Tensor:
    """SwiGLU; halves ``dim``. Eager: an autograd function that keeps only the input; compiled: the plain formula.

    Args:
        x: floating tensor whose size along ``dim`` is even.
        dim: the dimension split into value and gate.

    Returns:
        A tensor of the dtype of ``x``, half its size along ``dim``.

    >>> swiglu(torch.tensor([1.0, 2.0]))
    tensor([1.4621])
    """
    _check_dim(x, "swiglu", dim, halves=True)
    return _gated(x, dim, "silu")


@REGISTRY.register(
    summary="GELU-gated linear unit (exact GELU), a transformer feed-forward gate.",
    formula="gelu(a) · b, (a, b) = x.chunk(2, dim)",
    references=("Shazeer 2020, GLU Variants Improve Transformer",),
    output_range=(-INF, INF), monotonic=False, smooth=True, zero_centered=True, placement=HIDDEN,
    saves_for_backward="input", elementwise=False,
    constraints=_DIM,
)
@scriptable(_script.geglu)
def geglu(x: Tensor, *, dim: int = -1) -> Tensor:
    """GEGLU; halves ``dim``. Eager: an autograd function that keeps only the input; compiled: the plain formula.

    GELU is the exact (erf) form.

    Args:
        x: floating tensor whose size along ``dim`` is even.
        dim: the dimension split into value and gate.

    Returns:
        A tensor of the dtype of ``x``, half its size along ``dim``.

    >>> geglu(torch.tensor([1.0, 2.0]))
    tensor([1.6827])
    """
    _check_dim(x, "geglu", dim, halves=True)
    return _gated(x, dim, "gelu")


@REGISTRY.register(
    summary="Euclidean projection onto the simplex: a softmax that gives exact zeros.",
    formula="max(x − τ, 0), τ such that the outputs sum to 1",
    references=("Martins & Astudillo 2016, From Softmax to Sparsemax",),
    output_range=(0.0, 1.0), monotonic=True, smooth=False, zero_centered=False, placement=OUTPUT,
    saves_for_backward="output", elementwise=False,
    constraints=_DIM,
)
@scriptable(_script.sparsemax)
def sparsemax(x: Tensor, *, dim: int = -1) -> Tensor:
    """Sparsemax along ``dim``; exact (threshold from the sorted largest values), keeps only the output.

    τ makes the outputs sum to 1 along ``dim``.

    Args:
        x: floating tensor of any shape (half precision is computed in float32).
        dim: the dimension that holds the classes.

    Returns:
        A tensor of the shape and dtype of ``x``; non-negative, sums to 1 along ``dim``.

    >>> sparsemax(torch.tensor([0.0, 0.5, 3.0]))
    tensor([0., 0., 1.])
    """
    _check_dim(x, "sparsemax", dim)
    return Sparsemax.apply(x, dim)


@REGISTRY.register(
    summary="1.5-entmax: between softmax and sparsemax, sparse yet smooth.",
    formula="max(x/2 − τ, 0)², τ such that the outputs sum to 1",
    references=("Peters, Niculae & Martins 2019, Sparse Sequence-to-Sequence Models",),
    output_range=(0.0, 1.0), monotonic=True, smooth=True, zero_centered=False, placement=OUTPUT,
    saves_for_backward="output", elementwise=False,
    constraints=_DIM,
)
@scriptable(_script.entmax15)
def entmax15(x: Tensor, *, dim: int = -1) -> Tensor:
    """1.5-entmax along ``dim``; exact sort-based threshold, keeps only the output.

    τ makes the outputs sum to 1 along ``dim``.

    Args:
        x: floating tensor of any shape (half precision is computed in float32).
        dim: the dimension that holds the classes.

    Returns:
        A tensor of the shape and dtype of ``x``; non-negative, sums to 1 along ``dim``.

    >>> entmax15(torch.tensor([0.0, 1.0, 4.0]))
    tensor([0., 0., 1.])
    """
    _check_dim(x, "entmax15", dim)
    return Entmax15.apply(x, dim)
