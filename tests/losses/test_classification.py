import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import almanac as am
from almanac.errors import ConfigError, DomainError, ShapeError, TargetError

L = am.losses
GAMMAS = (0.0, 0.5, 1.0, 2.0)


def _g(seed=0):
    return torch.Generator().manual_seed(seed)


# -- cross-entropy -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_ce_matches_torch(reduction, smoothing):
    x = torch.randn(8, 5, 3, 2, dtype=torch.float64, generator=_g())
    y = torch.randint(0, 5, (8, 3, 2), generator=_g(1))
    y[0, 0, 0] = y[3, 1, 1] = 255
    cw = torch.rand(5, dtype=torch.float64, generator=_g(2)) + 0.5
    ours = L.cross_entropy(x, y, class_weight=cw, ignore_index=255, label_smoothing=smoothing, reduction=reduction)
    ref = F.cross_entropy(x, y, weight=cw, ignore_index=255, label_smoothing=smoothing, reduction=reduction)
    torch.testing.assert_close(ours, ref)


def test_ce_soft_targets_match_torch():
    x = torch.randn(6, 4, dtype=torch.float64, generator=_g())
    t = torch.softmax(torch.randn(6, 4, dtype=torch.float64, generator=_g(1)), 1)
    torch.testing.assert_close(L.cross_entropy(x, t, label_smoothing=0.1), F.cross_entropy(x, t, label_smoothing=0.1))


def test_ce_all_ignored_is_zero_with_zero_gradient():
    x = torch.randn(3, 4, requires_grad=True)
    loss = L.cross_entropy(x, torch.full((3,), -1), ignore_index=-1)
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(x.grad, torch.zeros(3, 4))


def test_ce_errors():
    x = torch.randn(3, 4)
    with pytest.raises(TargetError, match=r"\[0, 4\)"):
        L.cross_entropy(x, torch.tensor([0, 4, 1]))
    with pytest.raises(TargetError, match="integer class indices"):
        L.cross_entropy(x, torch.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ShapeError, match="squeeze"):
        L.cross_entropy(x, torch.tensor([[0], [1], [2]]))
    with pytest.raises(ShapeError, match="class_weight"):
        L.cross_entropy(x, torch.tensor([0, 1, 2]), sample_weight=torch.ones(4))
    with pytest.raises(ShapeError):
        L.cross_entropy(x, torch.tensor([0, 1, 2]), class_weight=[1.0, 2.0])
    with pytest.raises(TargetError):
        L.cross_entropy(x, torch.full((3, 4), 1.5))
    with pytest.raises(ConfigError):
        L.cross_entropy(x, torch.full((3, 4), 0.25), ignore_index=0)


# -- binary cross-entropy ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_matches_torch_with_pos_weight(reduction):
    x = torch.randn(7, 3, dtype=torch.float64, generator=_g()) * 4
    t = torch.rand(7, 3, dtype=torch.float64, generator=_g(1))
    pw = torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64)
    torch.testing.assert_close(L.binary_cross_entropy(x, t, pos_weight=pw, reduction=reduction),
                               F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction=reduction))
    torch.testing.assert_close(L.binary_cross_entropy(x, t, pos_weight=2.0, reduction=reduction),
                               F.binary_cross_entropy_with_logits(x, t, pos_weight=torch.tensor(2.0,
                                                                  dtype=torch.float64), reduction=reduction))
    p = torch.sigmoid(x)
    torch.testing.assert_close(L.binary_cross_entropy(p, t, from_logits=False, reduction=reduction),
                               F.binary_cross_entropy(p, t, reduction=reduction))
    torch.testing.assert_close(L.binary_cross_entropy(p, t, from_logits=False, pos_weight=pw, reduction=reduction),
                               F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction=reduction))


def test_bce_errors():
    with pytest.raises(TargetError, match=r"\[0, 1\]"):
        L.binary_cross_entropy(torch.randn(3), torch.tensor([-1.0, 1.0, 0.0]))
    with pytest.raises(DomainError, match="from_logits"):
        L.binary_cross_entropy(torch.tensor([0.5, 1.5]), torch.tensor([1.0, 0.0]), from_logits=False)
    with pytest.raises(ShapeError, match="squeeze"):
        L.binary_cross_entropy(torch.randn(3, 1), torch.ones(3))
    with pytest.raises(TargetError):
        L.binary_cross_entropy(torch.randn(2), torch.tensor([float("nan"), 1.0]))


# -- focal ---------------------------------------------------------------------------------------------------------
def _torchvision_style(x, t, gamma, alpha):
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss


@pytest.mark.parametrize("gamma", [*GAMMAS, 3.5])
@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_focal_matches_torchvision_formula(gamma, alpha, task):
    x = torch.randn(300, 3, dtype=torch.float64, generator=_g()) * 4
    t = (torch.rand(300, 3, generator=_g(1)) < 0.3).double()
    ref = _torchvision_style(x, t, gamma, alpha)
    torch.testing.assert_close(L.focal(x, t, gamma=gamma, alpha=alpha, task=task, reduction="none"), ref)
    torch.testing.assert_close(L.focal(x, t, gamma=gamma, alpha=alpha, task=task), ref.mean())
    torch.testing.assert_close(L.focal(x, t.bool(), gamma=gamma, alpha=alpha, task=task), ref.mean())
    torch.testing.assert_close(L.focal(torch.sigmoid(x), t, gamma=gamma, alpha=alpha, from_logits=False), ref.mean())


def test_focal_large_inputs_cross_chunks():
    x = torch.randn(70_000, 5, dtype=torch.float64, generator=_g()) * 3
    t = (torch.rand(70_000, 5, generator=_g(1)) < 0.5).double()
    ref = _torchvision_style(x, t, 2.0, 0.25)
    torch.testing.assert_close(L.focal(x, t, alpha=0.25), ref.mean())
    torch.testing.assert_close(L.focal(x, t, alpha=0.25, reduction="none"), ref)


def test_focal_soft_targets_are_the_label_expectation():
    x = torch.randn(50, dtype=torch.float64, generator=_g()) * 3
    t = torch.rand(50, dtype=torch.float64, generator=_g(1))
    ones, zeros = torch.ones_like(x), torch.zeros_like(x)
    ref = t * _torchvision_style(x, ones, 2.0, 0.25) + (1 - t) * _torchvision_style(x, zeros, 2.0, 0.25)
    torch.testing.assert_close(L.focal(x, t, alpha=0.25, reduction="none"), ref)
    x.requires_grad_(True)
    t.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: L.focal(a, b, gamma=0.5), (x, t))


def test_focal_gamma_zero_is_cross_entropy_exactly():
    x = torch.randn(20, 3, generator=_g()) * 5
    t = (torch.rand(20, 3, generator=_g(1)) < 0.5).float()
    torch.testing.assert_close(L.focal(x, t, gamma=0.0), L.binary_cross_entropy(x, t), rtol=1e-6, atol=1e-7)
    logits = torch.randn(20, 4, generator=_g(2)) * 5
    y = torch.randint(0, 4, (20,), generator=_g(3))
    alpha = [0.1, 0.4, 0.2, 0.3]
    for reduction in ("mean", "sum", "none"):
        torch.testing.assert_close(
            L.focal(logits, y, gamma=0.0, alpha=alpha, task="multiclass", reduction=reduction),
            L.cross_entropy(logits, y, class_weight=alpha, reduction=reduction))


@pytest.mark.parametrize("gamma", GAMMAS)
def test_focal_multiclass_matches_formula(gamma):
    x = torch.randn(40, 5, 3, dtype=torch.float64, generator=_g()) * 3
    y = torch.randint(0, 5, (40, 3), generator=_g(1))
    alpha = torch.rand(5, dtype=torch.float64, generator=_g(2))
    logp = F.log_softmax(x, 1).gather(1, y.unsqueeze(1)).squeeze(1)
    ref = -alpha[y] * (1 - logp.exp()) ** gamma * logp
    torch.testing.assert_close(L.focal(x, y, gamma=gamma, alpha=alpha, task="multiclass", reduction="none"), ref)
    torch.testing.assert_close(L.focal(x, y, gamma=gamma, alpha=alpha, task="multiclass"), ref.sum() / alpha[y].sum())
    torch.testing.assert_close(L.focal(torch.softmax(x, 1), y, gamma=gamma, task="multiclass", from_logits=False),
                               (-(1 - logp.exp()) ** gamma * logp).mean())


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_focal_finite_at_extreme_logits_float32(gamma, task, reduction):
    if task == "binary":
        x = torch.tensor([100.0, -100.0, 100.0, -100.0, 0.0], requires_grad=True)
        t = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0])
    else:
        x = torch.tensor([[100.0, -100.0, 0.0], [-100.0, 100.0, 0.0], [0.0, 0.0, 100.0]], requires_grad=True)
        t = torch.tensor([0, 0, 2])
    loss = L.focal(x, t, gamma=gamma, task=task, reduction=reduction)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()
    if task == "binary":  # confident and right: 0; confident and wrong: ≈ 100 with slope ±1
        per = L.focal(x.detach(), t, gamma=gamma, reduction="none")
        assert per[0] < 1e-30 and per[1] < 1e-30 and abs(float(per[2]) - 100) < 1e-3 and abs(float(per[3]) - 100) < 1e-3


def test_focal_errors():
    with pytest.raises(ConfigError):
        L.focal(torch.randn(3), torch.ones(3), alpha=[0.5, 0.5])
    with pytest.raises(ConfigError):
        L.focal(torch.randn(3, 2), torch.tensor([0, 1, 1]), task="multiclass", alpha=0.25)
    with pytest.raises(TargetError):
        L.focal(torch.randn(3, 2), torch.tensor([0.0, 1.0, 1.0]), task="multiclass")
    with pytest.raises(TargetError):
        L.focal(torch.randn(3), torch.tensor([0.0, 2.0, 1.0]))
    with pytest.raises(ConfigError):
        L.focal(torch.randn(3), torch.ones(3), ignore_index=-1)


# -- KL divergence -------------------------------------------------------------------------------------------------
def test_kl_div_is_the_batch_mean_with_zero_log_zero():
    x = torch.randn(5, 4, dtype=torch.float64, generator=_g())
    t = torch.softmax(torch.randn(5, 4, dtype=torch.float64, generator=_g(1)), 1)
    t[0] = torch.tensor([1.0, 0.0, 0.0, 0.0])
    ref = F.kl_div(F.log_softmax(x, 1), t, reduction="batchmean")
    torch.testing.assert_close(L.kl_div(x, t), ref)
    torch.testing.assert_close(L.kl_div(torch.softmax(x, 1), t, from_logits=False), ref)
    assert torch.isfinite(L.kl_div(x, t, reduction="none")).all()


@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 10_000))
def test_kl_div_is_non_negative_and_zero_at_the_target(n, c, seed):
    x = torch.randn(n, c, dtype=torch.float64, generator=_g(seed))
    t = torch.softmax(torch.randn(n, c, dtype=torch.float64, generator=_g(seed + 1)), 1)
    assert float(L.kl_div(x, t)) >= -1e-12
    assert abs(float(L.kl_div(torch.log(t), t))) < 1e-12


@given(st.lists(st.floats(-150, 150, width=32), min_size=1, max_size=40), st.sampled_from(GAMMAS),
       st.sampled_from([None, 0.25]), st.integers(0, 2**16))
def test_focal_float32_is_finite_and_matches_float64(values, gamma, alpha, seed):
    x = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    t = (torch.rand(len(values), generator=_g(seed)) < 0.5).float()
    loss = L.focal(x, t, gamma=gamma, alpha=alpha, reduction="none")
    (grad,) = torch.autograd.grad(loss.sum(), x)
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    x64 = x.detach().double().requires_grad_(True)
    ref = L.focal(x64, t.double(), gamma=gamma, alpha=alpha, reduction="none")
    (grad64,) = torch.autograd.grad(ref.sum(), x64)
    torch.testing.assert_close(loss.double(), ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad.double(), grad64, rtol=1e-4, atol=1e-6)
