"""``derivative``: the closed forms against autograd, and its refusals."""

from __future__ import annotations

import pytest
import torch
from activation_cases import ELEMENTWISE, POINTS, Case

from almanac import activations as act
from almanac.errors import ConfigError, ShapeError, TargetError, UnknownNameError


@pytest.mark.parametrize("case", ELEMENTWISE, ids=lambda c: c.id)
def test_derivative_equals_autograd(case: Case):
    x = torch.from_numpy(POINTS).requires_grad_()
    params = case.params_for(x)
    (expected,) = torch.autograd.grad(act.REGISTRY.function(case.name)(x, **params).sum(), x)
    got = act.derivative(case.name, x.detach(), **params)
    assert got.dtype == x.dtype and got.shape == x.shape
    # rtol 1e-7: PyTorch's hardsigmoid/hardswish backward use a float32 1/6 even in float64
    torch.testing.assert_close(got, expected, rtol=1e-7, atol=1e-12)


def test_derivative_of_prelu_per_channel_and_of_an_alias():
    x = torch.tensor([[-1.0, -1.0], [2.0, -3.0]])  # (N, C=2): one slope per column
    torch.testing.assert_close(act.derivative("prelu", x, weight=torch.tensor([0.5, 0.1])),
                               torch.tensor([[0.5, 0.1], [1.0, 0.1]]))
    torch.testing.assert_close(act.derivative("swish", torch.zeros(1)), torch.tensor([0.5]))


@pytest.mark.parametrize("name", [n for n in act.names() if not act.spec(n).elementwise])
def test_derivative_of_a_map_along_a_dimension_is_a_config_error(name: str):
    with pytest.raises(ConfigError, match="elementwise"):
        act.derivative(name, torch.zeros(2, 4))


def test_derivative_refusals():
    with pytest.raises(UnknownNameError, match="'relu'"):
        act.derivative("rellu", torch.zeros(2))
    with pytest.raises(TargetError):
        act.derivative("relu", [1.0, 2.0])
    with pytest.raises(ConfigError, match="expected `alpha`"):
        act.derivative("elu", torch.zeros(2), alpha=0.0)
    with pytest.raises(ConfigError, match="among"):
        act.derivative("relu", torch.zeros(2), alpha=1.0)
    with pytest.raises(ConfigError, match="weight"):
        act.derivative("prelu", torch.zeros(2))
    with pytest.raises(ShapeError, match="num_parameters=3"):
        act.derivative("prelu", torch.zeros(2, 3), weight=torch.ones(2))


def test_prelu_derivative_of_a_0d_input_with_one_slope():
    for x, expected in ((torch.tensor(-2.0), 0.25), (torch.tensor(3.0), 1.0)):
        d = act.derivative("prelu", x, weight=torch.tensor([0.25]))
        assert d.shape == () and float(d) == expected
