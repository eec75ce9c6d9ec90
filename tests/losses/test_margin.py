import pytest
import torch
import torch.nn.functional as F

import almanac as am
from almanac.errors import ShapeError, TargetError

L = am.losses


def _scores(*shape, seed=0):
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) * 2


def test_hinge_formulas_for_both_label_conventions():
    x = _scores(50)
    t01 = (torch.rand(50, generator=torch.Generator().manual_seed(1)) < 0.5).double()
    s = 2 * t01 - 1
    ref = (1 - s * x).clamp_min(0)
    for target in (t01, s, t01.long(), t01.bool()):
        torch.testing.assert_close(L.hinge(x, target, reduction="none"), ref)
        torch.testing.assert_close(L.squared_hinge(x, target, reduction="none"), ref**2)


def test_hinge_rejects_other_labels():
    with pytest.raises(TargetError, match=r"\{0, 1\}"):
        L.hinge(torch.randn(3), torch.tensor([0.0, 0.5, 1.0]))
    with pytest.raises(TargetError, match=r"\{-1, 1\}"):
        L.hinge(torch.randn(3), torch.tensor([-1.0, 0.0, 1.0]))
    with pytest.raises(TargetError):
        L.squared_hinge(torch.randn(3), torch.tensor([0.0, 2.0, 1.0]))
    with pytest.raises(ShapeError):
        L.hinge(torch.randn(3, 1), torch.ones(3))


def test_hinge_large_input_crosses_chunks():
    x = _scores(400_000)
    t = (torch.rand(400_000, generator=torch.Generator().manual_seed(1)) < 0.5).double()
    torch.testing.assert_close(L.hinge(x, t), (1 - (2 * t - 1) * x).clamp_min(0).mean())


@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_weston_watkins_is_torch_multi_margin_times_c(margin):
    x = _scores(20, 5)
    y = torch.randint(0, 5, (20,), generator=torch.Generator().manual_seed(1))
    ref = F.multi_margin_loss(x, y, margin=margin, reduction="none") * 5
    torch.testing.assert_close(L.multiclass_hinge(x, y, margin=margin, reduction="none"), ref)


def test_crammer_singer_formula():
    x = _scores(20, 5)
    y = torch.randint(0, 5, (20,), generator=torch.Generator().manual_seed(1))
    true = x.gather(1, y[:, None]).squeeze(1)
    other = x.scatter(1, y[:, None], float("-inf")).amax(1)
    torch.testing.assert_close(L.multiclass_hinge(x, y, kind="crammer_singer", reduction="none"),
                               (1 - true + other).clamp_min(0))


def test_multiclass_hinge_errors():
    with pytest.raises(TargetError):
        L.multiclass_hinge(torch.randn(3, 4), torch.tensor([0, 4, 1]))
    with pytest.raises(TargetError):
        L.multiclass_hinge(torch.randn(3, 4), torch.tensor([0.0, 1.0, 1.0]))
