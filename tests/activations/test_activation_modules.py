"""``get``: the nn.Module form of every activation, learnable parameters, pickling, state_dict."""

from __future__ import annotations

import copy
import io
import pickle

import pytest
import torch
from activation_cases import API_NAMES

from almanac import activations as act
from almanac.errors import ConfigError


@pytest.mark.parametrize("name", API_NAMES)
def test_module_calls_the_function_and_survives_pickle_and_deepcopy(name: str):
    module = act.get(name)
    assert isinstance(module, torch.nn.Module)
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    expected = act.prelu(x, torch.tensor([0.25])) if name == "prelu" else act.REGISTRY.function(name)(x)
    torch.testing.assert_close(module(x), expected)
    for clone in (pickle.loads(pickle.dumps(module)), copy.deepcopy(module)):
        torch.testing.assert_close(clone(x), expected)
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    assert name in repr(module)


def test_params_reach_the_function_and_show_in_repr():
    module = act.get("leaky_relu", negative_slope=0.2)
    assert "negative_slope=0.2" in repr(module)
    torch.testing.assert_close(module(torch.tensor([-1.0])), torch.tensor([-0.2]))
    assert act.get("softmax", dim=0)(torch.ones(2, 3)).sum(0).allclose(torch.ones(3))


def test_invalid_params_fail_when_the_module_is_built():
    with pytest.raises(ConfigError, match="expected `alpha`"):
        act.get("elu", alpha=-1.0)
    with pytest.raises(ConfigError, match="among"):
        act.get("relu", alpha=1.0)
    with pytest.raises(ConfigError, match="expected `num_parameters`"):
        act.get("prelu", num_parameters=0)
    with pytest.raises(ConfigError, match="expected `learnable`"):
        act.get("silu", learnable="yes")


def _train_step(module: torch.nn.Module, parameter: str) -> torch.Tensor:
    before = getattr(module, parameter).detach().clone()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
    loss = (module(x) - x.abs()).pow(2).mean()
    loss.backward()
    grad = getattr(module, parameter).grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    optimizer.step()
    return getattr(module, parameter).detach() - before


def test_prelu_holds_a_learnable_weight_that_trains():
    module = act.get("prelu", num_parameters=3)
    assert [n for n, _ in module.named_parameters()] == ["weight"]
    torch.testing.assert_close(module.weight.detach(), torch.full((3,), 0.25))
    assert "weight" in module.state_dict()
    assert _train_step(module, "weight").abs().sum() > 0


def test_silu_with_learnable_beta_trains_and_starts_at_beta():
    module = act.get("silu", beta=1.5, learnable=True)
    assert float(module.beta.detach()) == 1.5 and module.beta.requires_grad
    x = torch.randn(5)
    torch.testing.assert_close(module(x), act.silu(x, beta=1.5))
    assert _train_step(module, "beta").abs() > 0
    state = module.state_dict()
    clone = act.get("silu", learnable=True)
    clone.load_state_dict(state)
    torch.testing.assert_close(clone(x), module(x))


def test_silu_without_learnable_has_no_parameters():
    assert list(act.get("silu", beta=2.0).parameters()) == []
