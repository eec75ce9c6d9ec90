import pytest
import torch
import torch.nn.functional as F

import almanac as am
from almanac.errors import ConfigError, ShapeError, TargetError


def test_ce_matches_torch_with_class_weight_ignore_and_smoothing():
    torch.manual_seed(0)
    x = torch.randn(6, 4, 3, dtype=torch.float64)
    y = torch.randint(0, 4, (6, 3))
    y[0, 0] = -1
    cw = torch.rand(4, dtype=torch.float64) + 0.5
    ours = am.losses.cross_entropy(x, y, class_weight=cw, ignore_index=-1, label_smoothing=0.1)
    ref = F.cross_entropy(x, y, weight=cw, ignore_index=-1, label_smoothing=0.1)
    torch.testing.assert_close(ours, ref)


def test_first_set_registered_and_modules_work():
    for name in ("cross_entropy", "binary_cross_entropy", "mse", "mae", "huber"):
        assert name in am.losses.names()
    assert am.losses.spec("l1").name == "mae"
    loss = am.losses.get("ce", label_smoothing=0.1)
    assert loss(torch.randn(3, 2), torch.tensor([0, 1, 1])).ndim == 0
    with pytest.raises(ConfigError):
        am.losses.get("huber", delta=-1.0)


def test_errors():
    with pytest.raises(TargetError):
        am.losses.cross_entropy(torch.randn(3, 2), torch.tensor([0, 2, 1]))
    with pytest.raises(TargetError):
        am.losses.cross_entropy(torch.randn(3, 2), torch.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ShapeError):
        am.losses.mse(torch.randn(3, 1), torch.randn(3))
    with pytest.raises(TargetError):
        am.losses.binary_cross_entropy(torch.randn(3), torch.tensor([0.0, 2.0, 1.0]))
