"""am.advise: task inference, loss parameters from the data, metrics, and advice that never trips the checker."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import almanac as am


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


TARGETS = {
    "binary": lambda: (np.arange(200) % 2),
    "imbalanced_binary": lambda: np.array([1] * 8 + [0] * 192),
    "multiclass": lambda: np.arange(300) % 5,
    "imbalanced_multiclass": lambda: np.array([0] * 150 + [1] * 144 + [2] * 6),
    "multilabel": lambda: (_rng(1).random((200, 4)) < [0.5, 0.3, 0.05, 0.6]).astype(np.float32),
    "regression": lambda: _rng(2).normal(3.0, 2.0, 300),
    "outliers": lambda: np.concatenate([_rng(3).normal(0, 1, 290), np.full(10, 40.0)]),
    "count": lambda: _rng(4).poisson(30.0, 300),
    "bounded": lambda: _rng(5).uniform(0.0, 1.0, 300),
    "segmentation": lambda: (_rng(6).random((8, 16, 16)) < 0.2).astype(np.int64),
    "segmentation_multiclass": lambda: _rng(7).integers(0, 3, (8, 16, 16)),
    "segmentation_rare": lambda: (_rng(8).random((8, 16, 16)) < 0.05).astype(np.int64),
    "segmentation_rare_multiclass": lambda: np.where(_rng(9).random((8, 16, 16)) < 0.06,
                                                     _rng(10).integers(1, 3, (8, 16, 16)), 0),
}
EXPECTED_TASK = {"binary": "binary", "imbalanced_binary": "binary", "multiclass": "multiclass",
                 "imbalanced_multiclass": "multiclass", "multilabel": "multilabel", "regression": "regression",
                 "outliers": "regression", "count": "count", "bounded": "bounded", "segmentation": "segmentation",
                 "segmentation_multiclass": "segmentation", "segmentation_rare": "segmentation",
                 "segmentation_rare_multiclass": "segmentation"}


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_task_is_inferred(kind: str) -> None:
    assert am.advise(TARGETS[kind]()).task == EXPECTED_TASK[kind]


def test_imbalanced_binary_gets_pos_weight_and_ranking_metrics() -> None:
    advice = am.advise(TARGETS["imbalanced_binary"]())
    assert advice.loss == "binary_cross_entropy" and advice.loss_params["pos_weight"] == pytest.approx(24.0)
    assert advice.metrics[0] == "average_precision" and "accuracy" not in advice.metrics
    assert advice.facts["minority_fraction"] == pytest.approx(0.04)
    assert advice.output_activation == "identity" and advice.inference_activation == "sigmoid"


def test_imbalanced_multiclass_gets_focal_alpha_from_frequencies() -> None:
    advice = am.advise(TARGETS["imbalanced_multiclass"]())
    assert advice.loss == "focal" and advice.loss_params["task"] == "multiclass"
    alpha = advice.loss_params["alpha"]
    assert alpha[2] > alpha[1] > alpha[0] or alpha[2] > alpha[0]
    assert sum(alpha) == pytest.approx(1.0, abs=1e-3)
    assert advice.metrics[0] == "balanced_accuracy"


def test_outliers_get_huber_with_delta_from_the_spread() -> None:
    advice = am.advise(TARGETS["outliers"]())
    assert advice.loss == "huber"
    assert 0.8 < advice.loss_params["delta"] < 2.0  # 1.345 × robust std of N(0, 1)
    assert advice.facts["outlier_fraction"] == pytest.approx(10 / 300, abs=1e-3)
    assert advice.metrics[0] == "mae"
    clean = am.advise(TARGETS["regression"]())
    assert clean.loss == "mse" and clean.metrics[0] == "rmse"


def test_rare_foreground_binary_masks_get_dice_and_overlap_metrics() -> None:
    advice = am.advise(TARGETS["segmentation_rare"]())
    assert advice.facts["foreground_fraction"] < 0.1
    assert advice.loss == "dice" and dict(advice.loss_params) == {"task": "binary"}
    assert advice.metrics == ("iou", "dice")
    assert advice.output_activation == "identity" and advice.inference_activation == "sigmoid"
    assert "foreground is" in advice.reasons["loss"]


def test_rare_foreground_class_maps_keep_a_per_pixel_loss_weighted_for_the_rare_classes() -> None:
    # Dice alone stalls on class maps (measured on `shapes`: IoU 0.30 vs 0.59 with the advised focal loss)
    advice = am.advise(TARGETS["segmentation_rare_multiclass"]())
    assert advice.facts["foreground_fraction"] < 0.1
    assert advice.loss == "focal" and len(advice.loss_params["alpha"]) == 3
    assert advice.inference_activation == "softmax" and advice.metrics[:2] == ("iou", "dice")


@pytest.mark.parametrize("kind", ["segmentation", "segmentation_multiclass"])
def test_common_foreground_masks_keep_the_pixel_losses(kind: str) -> None:
    advice = am.advise(TARGETS[kind]())
    assert advice.facts["foreground_fraction"] >= 0.1
    assert advice.loss in ("binary_cross_entropy", "cross_entropy") and advice.metrics[:2] == ("iou", "dice")


def test_string_labels_and_forced_task() -> None:
    advice = am.advise(["cat", "dog", "dog", "cat", "bird"])
    assert advice.task == "multiclass" and advice.facts["classes"] == ["bird", "cat", "dog"]
    assert "0..2" in advice.reasons["labels"]
    assert "labels" not in am.advise([0, 1, 2, 1]).reasons
    assert am.advise(np.arange(100) % 7, task="regression").task == "regression"


def test_advice_is_frozen_printable_and_builds_its_loss() -> None:
    advice = am.advise(TARGETS["imbalanced_binary"]())
    with pytest.raises(AttributeError):
        advice.loss = "mse"  # type: ignore[misc]
    text = str(advice)
    for part in ("task", "binary_cross_entropy(pos_weight=24.0)", "average_precision (primary)"):
        assert part in text
    assert isinstance(advice.loss_fn(), nn.Module)
    assert set(advice.reasons) >= {"task", "output_activation", "loss", "metrics"}


def test_inputs_scale_is_reported_and_checked() -> None:
    y = np.arange(50) % 2
    advice = am.advise(y, inputs=np.random.default_rng(0).normal(500, 100, (50, 3)))
    assert "inputs" in advice.reasons
    with pytest.raises(am.ShapeError):
        am.advise(y, inputs=np.zeros((10, 3)))


def test_bad_targets_raise() -> None:
    with pytest.raises(am.TargetError):
        am.advise([1.0])
    with pytest.raises(am.TargetError):
        am.advise([0.0, float("nan"), 1.0])
    with pytest.raises(am.TargetError):
        am.advise([1, 1, 1], task="binary")
    with pytest.raises(am.ConfigError):
        am.advise([0, 1], task="ranking")


def _head_and_target(kind: str, advice: am.advisor.Advice, y: np.ndarray) -> tuple[nn.Module, torch.Tensor,
                                                                                     torch.Tensor]:
    """The model the advice describes (an MLP, or a small CNN for masks) and the target in the loss's format."""
    torch.manual_seed(0)
    if advice.task == "segmentation":
        classes = len(advice.facts["classes"])
        out = 1 if classes <= 2 else classes
        layers: list[nn.Module] = [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, out, 1)]
        x = torch.randn(y.shape[0], 1, *y.shape[1:])
        target = torch.as_tensor(y).float().unsqueeze(1) if out == 1 else torch.as_tensor(y).long()
    else:
        if advice.task == "multiclass":
            out = len(advice.facts["classes"])
            target = torch.as_tensor(y).long()
        elif advice.task == "multilabel":
            out = y.shape[1]
            target = torch.as_tensor(y).float()
        else:
            out = 1
            target = torch.as_tensor(y).float().reshape(-1, 1)
        layers = [nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, out)]
        x = torch.randn(y.shape[0], 6)
    if advice.output_activation != "identity":
        layers.append(am.activations.get(advice.output_activation))
    return nn.Sequential(*layers), x, target


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_advice_never_trips_the_checker(kind: str) -> None:
    y = TARGETS[kind]()
    advice = am.advise(y)
    model, x, target = _head_and_target(kind, advice, y)
    report = am.lint.check(model, advice.loss_fn(), inputs=x, target=target, metrics=list(advice.metrics))
    assert report.findings == [], str(report)
