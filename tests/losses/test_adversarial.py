import pytest
import torch

import almanac as am
from almanac.errors import ConfigError, ShapeError

L = am.losses


def test_wasserstein_losses():
    real, fake = torch.tensor([2.0, 1.0, 0.0]), torch.tensor([0.5, -1.0, 0.5])
    torch.testing.assert_close(L.wasserstein(real, fake), fake.mean() - real.mean())
    torch.testing.assert_close(L.wasserstein_generator(fake, reduction="sum"), -fake.sum())
    with pytest.raises(ShapeError):
        L.wasserstein(real, fake[:2])


def test_gradient_penalty_of_a_linear_critic_is_exact():
    critic = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0]]))  # gradient norm 5 everywhere
    gp = L.gradient_penalty(critic, torch.randn(8, 3), torch.randn(8, 3), coefficient=2.0, reduction="none")
    torch.testing.assert_close(gp, torch.full((8,), 2.0 * 16))


def test_gradient_penalty_double_backprop_reaches_the_critic_only():
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    fake = torch.randn(16, 2, requires_grad=True)
    gp = am.losses.get("wgan_gp")(critic, torch.randn(16, 2), fake)
    gp.backward()
    weights = [critic[0].weight, critic[0].bias, critic[2].weight]  # the last bias does not move ∇x D
    assert all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in weights)
    assert fake.grad is None


def test_gradient_penalty_is_reproducible_and_validates():
    critic = torch.nn.Linear(4, 1)
    real, fake = torch.randn(5, 4), torch.randn(5, 4)
    a = L.gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(1))
    b = L.gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    with pytest.raises(ShapeError):
        L.gradient_penalty(critic, real, fake[:3])
    with pytest.raises(ConfigError):
        L.gradient_penalty(critic, real, fake, coefficient=-1.0)
    with pytest.raises(ConfigError):
        L.gradient_penalty("critic", real, fake)
