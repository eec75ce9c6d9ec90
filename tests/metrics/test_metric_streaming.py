"""The streaming protocol beyond the registry-driven properties: collections, merge / load refusals, the autograd
boundary, segmentation maps, and the trainer's use."""

from __future__ import annotations

import io

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from metric_inputs import assert_close

import almanac as am
from almanac.errors import ConfigError

C = 4


def _multiclass(n: int = 100, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(n, C, generator=g), 1), torch.randint(0, C, (n,), generator=g)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_trainer_collection(task):
    g = torch.Generator().manual_seed(1)
    if task == "binary":
        probs, target, kw = torch.rand(200, generator=g), torch.randint(0, 2, (200,), generator=g), {}
    elif task == "multiclass":
        (probs, target), kw = _multiclass(200), {"num_classes": C}
    else:
        probs, target, kw = torch.rand(200, C, generator=g), torch.randint(0, 2, (200, C), generator=g), {
            "num_labels": C}
    names = ["accuracy", "f1", "auroc", "log_loss"]
    c = am.metrics.collection(names, task=task, **kw)
    for part in range(4):
        c.update(probs[part * 50:(part + 1) * 50], target[part * 50:(part + 1) * 50])
    values = c.compute()
    assert list(values) == names
    for name in names:
        assert_close(values[name], getattr(am.metrics, name)(probs, target, task=task, **kw), rtol=1e-6)


def test_collection_shares_one_confusion_matrix_per_batch(monkeypatch):
    probs, target = _multiclass()
    calls = []
    original = torch.bincount
    monkeypatch.setattr(torch, "bincount", lambda *a, **k: calls.append(1) or original(*a, **k))
    c = am.metrics.collection(["accuracy", "precision", "recall", "f1", "matthews_corrcoef", "cohen_kappa"],
                              num_classes=C, average="macro")
    c.update(probs, target)
    assert len(calls) == 1
    values = c.compute()
    assert_close(values["f1"], am.metrics.f1(probs, target, num_classes=C, average="macro"))
    assert_close(values["cohen_kappa"], am.metrics.cohen_kappa(probs, target, num_classes=C))


def test_collection_forms_and_errors():
    probs, target = _multiclass()
    c = am.metrics.collection({"f1_macro": "f1", "f1_micro": am.metrics.F1(average="micro"),
                               "acc": "accuracy"}, average="macro")
    c.update(probs.numpy(), target.numpy())
    values = c.compute()
    assert isinstance(values["acc"], float) and values["f1_micro"] == pytest.approx(
        am.metrics.accuracy(probs, target).item())
    assert values["f1_macro"] == pytest.approx(skm.f1_score(target, probs.argmax(1), average="macro"))
    with pytest.raises(ConfigError, match="not_a_keyword"):
        am.metrics.collection(["f1"], not_a_keyword=1)
    with pytest.raises(ConfigError, match="once"):
        am.metrics.collection(["f1", "f1"])
    with pytest.raises(am.UnknownNameError, match="accuracy"):
        am.metrics.collection(["acuracy"])
    # a shared keyword goes only to the metrics that take it
    mixed = am.metrics.collection(["accuracy", "log_loss"], threshold=0.3)
    assert "threshold" not in mixed["log_loss"].params and mixed["accuracy"].params["threshold"] == 0.3


def test_collection_merge_state_dict_reset():
    probs, target = _multiclass(120)
    a = am.metrics.collection(["accuracy", "f1", "log_loss"], num_classes=C, average="macro")
    b = am.metrics.collection(["accuracy", "f1", "log_loss"], num_classes=C, average="macro")
    a.update(probs[:70], target[:70])
    b.update(probs[70:], target[70:])
    whole = am.metrics.collection(["accuracy", "f1", "log_loss"], num_classes=C, average="macro")
    whole.update(probs, target)
    buffer = io.BytesIO()
    torch.save(a.merge(b).state_dict(), buffer)
    buffer.seek(0)
    loaded = am.metrics.collection(["accuracy", "f1", "log_loss"], num_classes=C, average="macro")
    loaded.load_state_dict(torch.load(buffer, weights_only=True))
    for k, v in whole.compute().items():
        assert_close(loaded.compute()[k], v)
    loaded.reset()
    with pytest.raises(am.UndefinedMetricError):
        loaded.compute()


def test_merge_refuses_other_configurations():
    a, b = am.metrics.F1(average="macro"), am.metrics.F1(average="micro")
    with pytest.raises(ConfigError, match="same parameters"):
        a.merge(b)
    with pytest.raises(ConfigError):
        am.metrics.F1().merge(am.metrics.Precision())
    a, b = am.metrics.F1(), am.metrics.F1()
    a.update([0, 1], [0, 1])  # binary
    b.update([0, 2], [0, 1])  # multiclass, C = 3
    with pytest.raises(ConfigError, match="task="):
        a.merge(b)
    nan_a, nan_b = am.metrics.F1(zero_division=float("nan")), am.metrics.F1(zero_division=float("nan"))
    nan_b.update([0, 1], [0, 1])
    assert nan_a.merge(nan_b).compute() == 1.0  # an empty metric adopts the other's stream


def test_load_state_dict_refuses_foreign_states():
    m = am.metrics.MSE()
    m.update([1.0, 2.0], [1.0, 3.0])
    with pytest.raises(ConfigError):
        am.metrics.F1().load_state_dict(m.state_dict())
    with pytest.raises(ConfigError):
        am.metrics.F1().load_state_dict({"confmat": torch.zeros(2, 2)})


def test_get_equals_the_class_and_aliases_resolve():
    assert type(am.metrics.get("jaccard_index")) is am.metrics.IoU
    assert am.metrics.get("f1", average="macro").params == am.metrics.F1(average="macro").params
    assert repr(am.metrics.F1(average="macro")) == "F1(average='macro')"


def test_streaming_states_hold_no_graph_but_the_function_does():
    preds = torch.tensor([0.5, 2.0, 3.0], requires_grad=True)
    target = torch.tensor([1.0, 2.0, 2.0])
    m = am.metrics.MSE()
    m.update(preds, target)
    assert not m.compute().requires_grad
    am.metrics.mse(preds, target).backward()
    assert preds.grad is not None


def test_segmentation_maps_match_sklearn_on_flattened_pixels():
    g = torch.Generator().manual_seed(3)
    scores = torch.softmax(torch.randn(2, C, 8, 8, generator=g), 1)
    target = torch.randint(0, C, (2, 8, 8), generator=g)
    flat_t, flat_p = target.reshape(-1).numpy(), scores.argmax(1).reshape(-1).numpy()
    for average in ("macro", "micro", "weighted"):
        assert_close(am.metrics.iou(scores, target, average=average),
                     skm.jaccard_score(flat_t, flat_p, average=average), rtol=1e-6)
        assert_close(am.metrics.dice(scores, target, average=average, task="segmentation"),
                     skm.f1_score(flat_t, flat_p, average=average), rtol=1e-6)
    masks = torch.rand(2, 8, 8, generator=g)
    truth = torch.randint(0, 2, (2, 8, 8), generator=g)  # equal-shape maps: binary masks
    assert_close(am.metrics.iou(masks, truth),
                 skm.jaccard_score(truth.reshape(-1), (masks > 0.5).long().reshape(-1)), rtol=1e-6)
    labels = torch.randint(0, C, (2, 8, 8), generator=g)  # label maps beyond {0, 1}: multiclass
    assert_close(am.metrics.iou(labels, target, average="macro"),
                 skm.jaccard_score(target.reshape(-1), labels.reshape(-1), average="macro"), rtol=1e-6)


def test_mean_iou_can_leave_absent_classes_out():
    preds, target = [[0, 0, 1, 1]], [[0, 0, 1, 0]]  # classes 2 and 3 absent everywhere
    assert am.metrics.iou(preds, target, num_classes=4, average="macro") == pytest.approx((2 / 3 + 1 / 2) / 4)
    assert am.metrics.iou(preds, target, num_classes=4, average="macro",
                          zero_division=float("nan")) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_tensor_results_keep_float64_and_default_to_float32():
    probs, target = _multiclass()
    assert am.metrics.f1(probs, target).dtype == torch.float32
    assert am.metrics.f1(probs.double(), target).dtype == torch.float64
    assert am.metrics.confusion_matrix(probs, target).dtype == torch.int64
    per_class = am.metrics.recall(probs.numpy(), target.numpy(), average="none")
    assert isinstance(per_class, np.ndarray) and per_class.shape == (C,)
