"""The facts in every activation's spec, checked numerically (they hold for the default parameters)."""

from __future__ import annotations

import math

import pytest
import torch
from activation_cases import API_NAMES

from almanac import activations as act
from almanac.bench.harness import saved_bytes
from almanac.registry import ActivationSpec

ELEMENTWISE = [n for n in API_NAMES if act.spec(n).elementwise]
ALONG_DIM = [n for n in API_NAMES if not act.spec(n).elementwise]
PRELU_WEIGHT = torch.tensor([0.25], dtype=torch.float64)  # the default of get("prelu")


def _f(name: str):
    function = act.REGISTRY.function(name)
    return (lambda x: function(x, PRELU_WEIGHT.to(x.dtype))) if name == "prelu" else function


# A dense grid, with the kinks (0, ±1, ±3) on it, and large magnitudes at the ends.
GRID = torch.cat([torch.tensor([-1e4, -300.0]), torch.linspace(-60, 60, 240_001, dtype=torch.float64),
                  torch.tensor([300.0, 1e4])]).to(torch.float64)


def test_specs_have_the_declared_types_and_the_function_params():
    for name in API_NAMES:
        spec = act.spec(name)
        assert isinstance(spec, ActivationSpec) and spec.family == "activation" and spec.name == name
        assert spec.summary and spec.formula and spec.references and spec.saves_for_backward
        assert spec.placement and spec.placement <= {"hidden", "output"}
    assert act.spec("silu").aliases == ("swish",)
    assert dict(act.spec("softplus").params) == {"beta": 1.0, "threshold": 20.0}
    assert dict(act.spec("gelu").params) == {"approximate": "none"}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_output_range_holds_and_is_tight(name: str):
    lo, hi = act.spec(name).output_range
    y = _f(name)(GRID)
    y_min, y_max = float(y.min()), float(y.max())
    assert lo - 1e-9 <= y_min and y_max <= hi + 1e-9
    # tight: a finite bound is approached within 1e-3; an infinite one is left far behind
    assert y_min <= lo + 1e-3 if math.isfinite(lo) else y_min < -50
    assert y_max >= hi - 1e-3 if math.isfinite(hi) else y_max > 50


@pytest.mark.parametrize("name", ALONG_DIM)
def test_output_range_holds_along_a_dimension(name: str):
    lo, hi = act.spec(name).output_range
    x = torch.randn(2000, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 20
    y = act.REGISTRY.function(name)(x)
    assert lo - 1e-9 <= float(y.min()) and float(y.max()) <= hi + 1e-9


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_monotonic_means_non_decreasing_on_the_grid(name: str):
    steps = torch.diff(_f(name)(GRID))
    assert bool((steps >= 0).all()) is act.spec(name).monotonic


@pytest.mark.parametrize("name", ALONG_DIM)
def test_monotonic_along_a_dimension(name: str):
    """True: raising x_i never lowers y_i. False: raising some input lowers some output."""
    x = torch.randn(500, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 3
    f = act.REGISTRY.function(name)
    y = f(x)
    if act.spec(name).monotonic:
        for i in range(8):
            bumped = x.clone()
            bumped[:, i] += 0.05
            assert (f(bumped)[:, i] >= y[:, i] - 1e-12).all()
    else:
        bumped = x.clone()
        bumped[:, -1] += 0.05  # a gate input
        assert (f(bumped) < y - 1e-9).any()


def _derivative_jump(values: torch.Tensor) -> float:
    return float(torch.diff(values).abs().max())


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_smooth_means_a_continuous_derivative(name: str):
    """On a grid of step 5e-4 (kinks on it), a continuous derivative moves by ≪ 0.01 between neighbours."""
    x = torch.linspace(-6, 6, 24_001, dtype=torch.float64).requires_grad_()
    (grad,) = torch.autograd.grad(_f(name)(x).sum(), x)
    assert (_derivative_jump(grad) < 0.01) is act.spec(name).smooth


@pytest.mark.parametrize("name", ALONG_DIM)
def test_smooth_along_a_dimension(name: str):
    """dy_0/dx_0 along a line x = (t, 0.3, −0.2, 0.1, ...), t on a fine grid: jumps only if not smooth."""
    t = torch.linspace(-4, 4, 16_001, dtype=torch.float64)
    x = torch.tensor([0.0, 0.3, -0.2, 0.1, 0.5, -0.4], dtype=torch.float64).repeat(len(t), 1)
    x[:, 0] = t
    x.requires_grad_()
    (grad,) = torch.autograd.grad(act.REGISTRY.function(name)(x)[:, 0].sum(), x)
    assert (_derivative_jump(grad[:, 0]) < 0.01) is act.spec(name).smooth


@pytest.mark.parametrize("name", API_NAMES)
def test_zero_centered_means_mean_zero_on_standard_normal_input(name: str):
    x = torch.randn(500_000, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    mean = abs(float(_f(name)(x).mean()))
    if act.spec(name).zero_centered:
        assert mean < 0.005
    else:
        assert mean > 0.05


_SAVED = {"input": 1, "output": 1, "nothing": 0, "input and weight": 1, "input and 1 + |input|": 2}


@pytest.mark.parametrize("name", API_NAMES)
def test_saves_for_backward_is_what_autograd_keeps(name: str):
    x = torch.randn(64, 16, dtype=torch.float64, requires_grad=True)
    spec = act.spec(name)
    weight = PRELU_WEIGHT.clone().requires_grad_()
    run = (lambda: act.prelu(x, weight)) if name == "prelu" else (lambda: act.REGISTRY.function(name)(x))
    extra = weight.untyped_storage().nbytes() if "weight" in spec.saves_for_backward else 0
    assert saved_bytes(run) == _SAVED[spec.saves_for_backward] * x.untyped_storage().nbytes() + extra


def test_output_capable_activations():
    can_output = {n for n in API_NAMES if "output" in act.spec(n).placement}
    assert can_output == {"sigmoid", "softmax", "log_softmax", "sparsemax", "entmax15", "identity", "tanh",
                          "softplus"}
