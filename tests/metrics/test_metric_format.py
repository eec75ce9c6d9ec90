"""Input formatting: task inference rules, canonical shapes, and the error for each bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import almanac as am
from almanac.errors import ConfigError, DomainError, ShapeError, TargetError
from almanac.metrics._format import format_classification, format_regression

P = [0.2, 0.8, 0.6, 0.1]


@pytest.mark.parametrize(("preds", "target", "keywords", "task", "num_classes"), [
    (P, [0, 1, 1, 0], {}, "binary", 2),  # 1-D float preds, {0, 1} target
    ([0, 1, 1, 0], [0, 1, 0, 0], {}, "binary", 2),  # 1-D labels in {0, 1}
    ([0, 2, 1, 0], [0, 1, 3, 0], {}, "multiclass", 4),  # labels > 1: C = max + 1
    ([0, 1, 1, 0], [0, 1, 0, 0], {"num_classes": 3}, "multiclass", 3),  # num_classes means multiclass
    (np.full((4, 3), 1 / 3), [0, 1, 2, 0], {}, "multiclass", 3),  # one dimension more: (N, C) scores
    (np.full((4, 3, 5), 1 / 3), np.zeros((4, 5), dtype=int), {}, "multiclass", 3),  # (N, C, *) scores
    (np.full((4, 3), 0.5), np.ones((4, 3), dtype=int), {}, "multilabel", 3),  # (N, L) and (N, L) {0, 1}
    (np.full((4, 3), 0.5), np.ones((4, 3), dtype=int), {"num_labels": 3}, "multilabel", 3),
    ([1, 0], [True, False], {}, "binary", 2),  # bool target = 0/1 labels
])
def test_task_inference(preds, target, keywords, task, num_classes):
    batch = format_classification(preds, target, **keywords)
    assert (batch.task, batch.num_classes) == (task, num_classes)


@pytest.mark.parametrize(("preds", "target", "keyword"), [
    (P, [0, 1, 2, 0], "task="),  # float (N,) preds with > 2 classes in the target
    (np.zeros((4, 3, 2)), np.zeros((4, 3, 2), dtype=int), "task="),  # 3-D equal shapes
    (np.zeros((4, 3), dtype=int), np.full((4, 3), 2), "task="),  # 2-D labels beyond {0, 1}
])
def test_ambiguous_inputs_name_the_keyword(preds, target, keyword):
    with pytest.raises(ConfigError, match=keyword):
        format_classification(preds, target)


def test_num_classes_and_num_labels_together_are_ambiguous():
    with pytest.raises(ConfigError, match="num_classes"):
        am.metrics.F1(num_classes=3, num_labels=3)


def test_binary_accepts_the_consistent_num_classes_2():
    assert am.metrics.f1([0.2, 0.9], [0, 1], task="binary", num_classes=2) == 1.0


def test_canonical_forms():
    scores = torch.rand(2, 3, 4)
    scores = scores / scores.sum(1, keepdim=True)
    target = torch.randint(0, 3, (2, 4))
    batch = format_classification(scores, target, needs="probabilities")
    assert batch.preds.shape == (8, 3) and batch.target.shape == (8,)
    assert torch.equal(batch.preds, scores.movedim(1, -1).reshape(-1, 3))
    labels = format_classification(scores, target)
    assert torch.equal(labels.preds, scores.argmax(1).reshape(-1))
    multi = format_classification(torch.rand(2, 3, 4), torch.randint(0, 2, (2, 3, 4)), task="multilabel")
    assert multi.preds.shape == (8, 3) and multi.preds.dtype == torch.int64


def test_threshold_is_strict_and_logits_go_through_sigmoid():
    assert format_classification([0.5, 0.51], [0, 1]).preds.tolist() == [0, 1]
    assert format_classification([0.5, 0.7], [0, 1], threshold=0.6).preds.tolist() == [0, 1]
    logits = torch.tensor([-3.0, 0.1, 4.0])
    batch = format_classification(logits, torch.tensor([0, 1, 1]), from_logits=True)
    assert batch.preds.tolist() == [0, 1, 1]
    probs = format_classification(logits, torch.tensor([0, 1, 1]), from_logits=True, needs="probabilities")
    assert torch.allclose(probs.preds, torch.sigmoid(logits))
    raw = format_classification(logits, torch.tensor([0, 1, 1]), from_logits=True, needs="scores")
    assert torch.equal(raw.preds, logits)  # ranking scores keep the logits: no saturation


def test_logits_are_never_guessed_from_the_value_range():
    logits = torch.tensor([-2.0, 0.5, 3.0])
    with pytest.raises(DomainError, match="from_logits=True"):
        am.metrics.accuracy(logits, torch.tensor([0, 1, 1]))
    with pytest.raises(DomainError, match="from_logits=True"):
        am.metrics.log_loss(torch.randn(5, 3) * 5, torch.tensor([0, 1, 2, 0, 1]))
    assert am.metrics.accuracy(logits, torch.tensor([0, 1, 1]), from_logits=True) == 1.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("from_logits", [False, True])
def test_non_finite_scores_raise(bad, from_logits):
    with pytest.raises(DomainError):
        am.metrics.f1([0.1, bad, 0.7], [0, 1, 1], from_logits=from_logits)


@pytest.mark.parametrize(("preds", "target", "keywords", "error", "match"), [
    (P, [0, 1, 1], {}, ShapeError, "shape"),
    (np.zeros((4, 1)), [0, 1, 1, 0], {"task": "binary"}, ShapeError, "shape"),
    (np.zeros((4, 1)), [0, 1, 1, 0], {}, ShapeError, "squeeze"),
    ([0.2, 0.3], [0.0, 0.5], {}, TargetError, "fraction"),  # a float target with fractions is a regression target
    ([0, 1], [0, 2], {"task": "binary"}, TargetError, "multiclass"),
    ([0, 5], [0, 1], {"num_classes": 3}, TargetError, r"\[0, 3\)"),
    ([0, 1], [0, 7], {"num_classes": 3}, TargetError, "num_classes=8"),
    ([0, 1], [0, -2], {"num_classes": 3}, TargetError, "min -2"),
    (np.full((2, 3), 1 / 3), [0, 1], {"num_classes": 4}, ShapeError, "4"),
    ([0, 1], [0, 1], {"task": "multiclass", "num_classes": 2, "average": "mean"}, ConfigError, "average"),
    ([0, 1], [0, 1], {"threshold": 1.5}, ConfigError, "threshold"),
    ([0, 1], [0, 1], {"task": "regression"}, ConfigError, "task"),
    ([0, 1], [0, 1], {"zero_division": 2.0}, ConfigError, "zero_division"),
    ([0, 1], [0, 1], {"task": "binary", "num_classes": 3}, ConfigError, "num_classes"),
    ([0, 1], [0, 1], {"task": "binary", "num_labels": 2}, ConfigError, "num_classes"),
    ([], [], {}, ShapeError, "at least one"),
    (["a", "b"], [0, 1], {}, TargetError, "numbers"),
])
def test_errors(preds, target, keywords, error, match):
    with pytest.raises(error, match=match):
        am.metrics.f1(preds, target, **keywords)


def test_label_metrics_reject_hard_labels_where_probabilities_are_needed():
    with pytest.raises(TargetError, match="probabilities"):
        am.metrics.log_loss([0, 1, 1], [0, 1, 0])


def test_a_streaming_metric_reads_every_batch_like_its_first():
    m = am.metrics.get("accuracy")
    m.update([0, 1], [0, 1])  # binary, from the values
    with pytest.raises(TargetError, match="multiclass"):
        m.update([2, 1], [2, 1])
    m = am.metrics.get("accuracy", task="multiclass")
    m.update([0, 2], [0, 1])  # C = 3, read from the labels
    with pytest.raises(TargetError, match="num_classes"):
        m.update([3], [3])


def test_ignore_index_drops_samples_and_entries():
    t = np.array([0, 1, -1, 1, 2, -1])
    p = np.array([0, 1, 2, 0, 2, 1])
    keep = t != -1
    assert am.metrics.f1(p, t, num_classes=3, ignore_index=-1, average="macro") == am.metrics.f1(
        p[keep], t[keep], num_classes=3, average="macro")
    tm = np.array([[1, -1], [0, 1], [1, 0]])
    pm = np.array([[1, 0], [1, 1], [1, 1]])
    # label 0: tp 2, fp 1; label 1 (one entry ignored): tp 1, fp 1 → micro precision 3 / 5
    assert am.metrics.precision(pm, tm, num_labels=2, ignore_index=-1) == pytest.approx(3 / 5)
    with pytest.raises(am.UndefinedMetricError, match="ignored"):
        am.metrics.accuracy([0, 1], [-1, -1], task="binary", ignore_index=-1)


def test_regression_format():
    batch = format_regression([1, 2, 3], [1.0, 2.0, 2.5])
    assert batch.preds.dtype == torch.float64 and batch.num_classes == 1
    assert format_regression(np.zeros((3, 2)), np.ones((3, 2))).num_classes == 2
    with pytest.raises(ShapeError):
        format_regression([1.0, 2.0], [[1.0], [2.0]])
    with pytest.raises(ShapeError):
        format_regression(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
