import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import almanac as am
from almanac.errors import DomainError, ShapeError, TargetError

L = am.losses


def _pair(seed=0, n=9, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 4, dtype=torch.float64, generator=g) * scale, torch.randn(n, 4, dtype=torch.float64,
                                                                                       generator=g)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_against_torch(reduction):
    x, y = _pair()
    torch.testing.assert_close(L.mse(x, y, reduction=reduction), F.mse_loss(x, y, reduction=reduction))
    torch.testing.assert_close(L.mae(x, y, reduction=reduction), F.l1_loss(x, y, reduction=reduction))
    torch.testing.assert_close(L.huber(x, y, delta=1.5, reduction=reduction),
                               F.huber_loss(x, y, delta=1.5, reduction=reduction))
    torch.testing.assert_close(L.smooth_l1(x, y, beta=0.7, reduction=reduction),
                               F.smooth_l1_loss(x, y, beta=0.7, reduction=reduction))
    counts = torch.poisson(torch.rand(9, 4, dtype=torch.float64) * 4)
    for log_input, full in [(True, False), (True, True), (False, False)]:
        pred = x if log_input else x.abs()
        torch.testing.assert_close(L.poisson_nll(pred, counts, log_input=log_input, full=full, reduction=reduction),
                                   F.poisson_nll_loss(pred, counts, log_input=log_input, full=full,
                                                      reduction=reduction))
    var = torch.rand(9, 4, dtype=torch.float64) + 0.01
    torch.testing.assert_close(L.gaussian_nll(x, y, var, full=True, reduction=reduction),
                               F.gaussian_nll_loss(x, y, var, full=True, reduction=reduction))


def test_log_cosh_formula_and_extreme_errors():
    x, y = _pair(scale=10.0)
    torch.testing.assert_close(L.log_cosh(x, y, reduction="none"), torch.log(torch.cosh(x - y)))
    big = torch.tensor([1e3, -1e3, 1e4], requires_grad=True)
    loss = L.log_cosh(big, torch.zeros(3), reduction="none")
    loss.sum().backward()
    torch.testing.assert_close(loss, big.detach().abs() - math.log(2))
    torch.testing.assert_close(big.grad, torch.tensor([1.0, -1.0, 1.0]))


def test_quantile_formula():
    x, y = _pair()
    for q in (0.1, 0.5, 0.9):
        e = y - x
        torch.testing.assert_close(L.quantile(x, y, q=q, reduction="none"), torch.maximum(q * e, (q - 1) * e))
    torch.testing.assert_close(L.quantile(x, y, q=0.5), 0.5 * L.mae(x, y))


def test_target_gradient_of_fused_losses():
    x, y = _pair()
    y.requires_grad_(True)
    x.requires_grad_(True)
    for fn in (L.log_cosh, lambda a, b: L.quantile(a, b, q=0.3)):
        assert torch.autograd.gradcheck(fn, (x, y))


def test_large_inputs_cross_chunks():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(300_001, generator=g, dtype=torch.float64), torch.randn(300_001, generator=g,
                                                                               dtype=torch.float64)
    torch.testing.assert_close(L.log_cosh(x, y), torch.log(torch.cosh(x - y)).mean())
    torch.testing.assert_close(L.quantile(x, y, q=0.2, reduction="none"),
                               torch.maximum(0.2 * (y - x), -0.8 * (y - x)))


def test_errors():
    with pytest.raises(ShapeError, match="squeeze"):
        L.mse(torch.randn(4, 1), torch.randn(4))
    with pytest.raises(TargetError):
        L.poisson_nll(torch.randn(3), torch.tensor([1.0, -1.0, 0.0]))
    with pytest.raises(DomainError):
        L.poisson_nll(torch.tensor([-1.0]), torch.tensor([1.0]), log_input=False)
    with pytest.raises(DomainError):
        L.gaussian_nll(torch.zeros(2), torch.zeros(2), torch.tensor([1.0, -1.0]))
    with pytest.raises(ShapeError):
        L.gaussian_nll(torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(2, 1))


@given(st.integers(2, 12), st.integers(0, 10_000), st.sampled_from(["mse", "mae", "huber", "log_cosh", "quantile"]))
def test_reductions_and_batch_split(n, seed, name):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, 3, generator=g, dtype=torch.float64), torch.randn(n, 3, generator=g, dtype=torch.float64)
    fn = getattr(L, name)
    total = fn(x, y, reduction="sum")
    torch.testing.assert_close(fn(x, y) * x.numel(), total)
    k = n // 2
    torch.testing.assert_close(fn(x[:k], y[:k], reduction="sum") + fn(x[k:], y[k:], reduction="sum"), total)
    w = torch.rand(n, generator=g, dtype=torch.float64)
    # the weighted mean is scale-free
    torch.testing.assert_close(fn(x, y, sample_weight=w * 3), fn(x, y, sample_weight=w))
