"""Mistakes inside user-written losses and heads, and hints that name the right fix for the case at hand."""

from __future__ import annotations

import torch
from torch import nn

import almanac as am


def _seg() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1))


def _masks() -> torch.Tensor:
    y = torch.zeros(4, 1, 8, 8)
    y[:, :, 2:6, 2:6] = 1.0
    return y


def dice_on_scores(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    inter = (out * y).sum()
    return 1 - 2 * inter / (out.sum() + y.sum() + 1e-6)


def dice_on_probabilities(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(out)
    return 1 - 2 * (p * y).sum() / (p.sum() + y.sum() + 1e-6)


def test_dice_on_raw_logits_is_found_and_on_probabilities_is_not() -> None:
    x = torch.randn(4, 3, 8, 8)
    report = am.lint.check(_seg(), dice_on_scores, inputs=x, target=_masks())
    assert report.codes == ["AL003"] and report.findings[0].where == "2"
    assert "sigmoid" in report.findings[0].hint
    assert not am.lint.check(_seg(), dice_on_probabilities, inputs=x, target=_masks()).findings


def test_relu_just_before_the_final_log_softmax() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3), nn.ReLU(), nn.LogSoftmax(dim=1))
    report = am.lint.check(model, nn.NLLLoss(), inputs=torch.randn(8, 6), target=torch.arange(8) % 3)
    assert "AL020" in report.codes and report.findings[0].where == "3"
    assert "remove the nn.ReLU before the log_softmax" in report.findings[0].hint
    good = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3), nn.LogSoftmax(dim=1))
    assert not am.lint.check(good, nn.NLLLoss(), inputs=torch.randn(8, 6), target=torch.arange(8) % 3).findings


def test_float_class_labels_with_mse_without_task() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    y = (torch.arange(12) % 3).float()[:, None]
    assert "AL008" in am.lint.check(model, nn.MSELoss(), inputs=torch.randn(12, 6), target=y).codes
    one = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 1))  # ordinal regression on 0..2 is fine
    assert "AL008" not in am.lint.check(one, nn.MSELoss(), inputs=torch.randn(12, 6), target=y).codes


def _hint(model: nn.Module, loss: object, x: torch.Tensor, y: torch.Tensor) -> str:
    report = am.lint.check(model, loss, inputs=x, target=y)
    return report.findings[0].hint


def test_label_hints_name_the_fix() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    x = torch.randn(9, 6)
    assert "1-based" in _hint(model, nn.CrossEntropyLoss(), x, torch.arange(9) % 3 + 1)
    assert "target - 1" in _hint(model, nn.CrossEntropyLoss(), x, torch.arange(9) % 3 + 1)
    assert "ignore_index=-1" in _hint(model, nn.CrossEntropyLoss(), x, torch.arange(9) % 3 - 1)
    assert "output 5 units" in _hint(model, nn.CrossEntropyLoss(), x, torch.arange(9) % 5)


def test_mask_hints_say_divide_by_255() -> None:
    seg2 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 2, 1))
    x = torch.randn(4, 3, 8, 8)
    mask = (_masks()[:, 0] * 255).long()
    assert "divide them by 255" in _hint(seg2, nn.CrossEntropyLoss(), x, mask)
    assert "divide them by 255" in _hint(_seg(), nn.BCEWithLogitsLoss(), x, _masks() * 255)


def test_softmax_over_one_unit_blames_the_softmax_not_a_threshold() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 1), nn.Softmax(dim=1))
    y = (torch.arange(8) % 2).float()[:, None]
    report = am.lint.check(model, nn.BCELoss(), inputs=torch.randn(8, 6), target=y)
    al013 = next(f for f in report.findings if f.code == "AL013")
    assert "size 1 is constant" in al013.message and "sigmoid" in al013.hint
    assert "argmax" not in al013.message


def test_dead_relus_are_judged_only_on_enough_rows() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    with torch.no_grad():
        model[0].bias.fill_(-20.0)  # every unit dead
    few = am.lint.check(model, nn.CrossEntropyLoss(), inputs=torch.randn(4, 6), target=torch.arange(4) % 3)
    assert "AL014" not in few.codes  # 4 rows: a live unit is silent on all of them 6% of the time
    many = am.lint.check(model, nn.CrossEntropyLoss(), inputs=torch.randn(16, 6), target=torch.arange(16) % 3)
    assert "AL014" in many.codes and "the 16 sample rows" in str(many)
