"""Regression tests for the defects of issue 11: each case gave a silently wrong number or a raw error before."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from metric_inputs import assert_close

import almanac as am
from almanac.errors import ConfigError, DomainError, ShapeError, TargetError


# -- label dtypes -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8, torch.int16, torch.int32])
@pytest.mark.parametrize("name", ["iou", "dice", "confusion_matrix", "f1"])
def test_integer_labels_of_any_dtype_read_as_int64(name, dtype):
    g = torch.Generator().manual_seed(0)
    hi = 21 if dtype != torch.int8 else 13  # a 21-class uint8 mask from a PNG; int8 tops out at 127
    target = torch.randint(0, hi, (8, 16, 16), generator=g)
    preds = torch.where(torch.rand(target.shape, generator=g) < 0.7, target, torch.randint(0, hi, target.shape,
                                                                                         generator=g))
    kw = {"num_classes": hi} | ({"average": "macro"} if name != "confusion_matrix" else {})
    fn = getattr(am.metrics, name)
    if name == "f1":
        preds, target = preds.reshape(-1), target.reshape(-1)
    want = fn(preds, target, **kw)
    assert_close(fn(preds.to(dtype), target.to(dtype), **kw), want)


# -- top-k ------------------------------------------------------------------------------------------------------------
def test_top_k_accuracy_never_decreases_with_k_on_ties():
    rng = np.random.default_rng(0)
    preds = torch.as_tensor(rng.integers(0, 3, (200, 6)) / 4.0)  # many tied scores
    target = torch.as_tensor(rng.integers(0, 6, 200))
    values = [float(am.metrics.accuracy(preds, target, top_k=k, task="multiclass")) for k in range(1, 7)]
    assert values == sorted(values) and values[-1] == 1.0, values
    # k = 1 is arg-max's accuracy (ties: the lowest class), and every k counts the target's rank in
    # (score descending, class ascending)
    assert values[0] == pytest.approx(float(am.metrics.accuracy(preds.argmax(1), target, num_classes=6)))
    p, t = preds.numpy(), target.numpy()
    own = p[np.arange(200), t][:, None]
    rank = ((p > own) | ((p == own) & (np.arange(6) < t[:, None]))).sum(1)
    assert values == pytest.approx([float((rank < k).mean()) for k in range(1, 7)])


def test_top_k_accuracy_on_one_tied_row():
    preds, target = torch.tensor([[0.25, 0.25, 0.25, 0.25]]), torch.tensor([0])
    assert [float(am.metrics.accuracy(preds, target, top_k=k)) for k in (1, 2, 3)] == [1.0, 1.0, 1.0]


# -- ranking: weighted average with no positive -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["auroc", "average_precision"])
def test_weighted_ranking_without_positives_gives_the_fallback(name):
    preds = torch.rand(20, 3, generator=torch.Generator().manual_seed(1))
    target = torch.zeros(20, 3, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = getattr(am.metrics, name)(preds, target, task="multilabel", average="weighted", fallback=0.25)
    assert float(got) == 0.25


# -- ignore_index -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["accuracy", "precision", "recall", "f1", "iou"])
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_ignored_class_is_not_averaged(name, average):
    target = torch.tensor([0, 1, 2, 2, 0, 1, 1])
    assert float(getattr(am.metrics, name)(target, target, num_classes=3, ignore_index=0, average=average)) == 1.0


def test_ignored_class_matches_scikit_learn():
    rng = np.random.default_rng(3)
    target, preds = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    keep = target != 0
    for name, sk in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        got = getattr(am.metrics, name)(preds, target, num_classes=4, ignore_index=0, average="macro")
        # scikit-learn on the kept samples, over the classes other than the ignored one
        want = sk(target[keep], preds[keep], labels=[1, 2, 3], average="macro", zero_division=0)
        assert got == pytest.approx(want), name


def test_top_k_accuracy_leaves_the_ignored_class_out_of_macro():
    target = torch.tensor([0, 1, 2, 2, 1])
    preds = torch.nn.functional.one_hot(target, 3).double()
    assert float(am.metrics.accuracy(preds, target, top_k=2, ignore_index=0, average="macro")) == 1.0


# -- calibration bins -------------------------------------------------------------------------------------------------
def test_calibration_bins_do_not_depend_on_half_precision():
    g = torch.Generator().manual_seed(0)
    probs = torch.rand(2000, generator=g).to(torch.bfloat16)
    target = (torch.rand(2000, generator=g) < probs.float()).long()
    for n_bins in (7, 15):
        assert_close(am.metrics.calibration_error(probs, target, n_bins=n_bins),
                     am.metrics.calibration_error(probs.float(), target, n_bins=n_bins), rtol=1e-6)


# -- NumPy scalars as keyword values ----------------------------------------------------------------------------------
def test_numpy_scalars_are_accepted_as_keywords():
    y = np.array([0, 1, 2, 2, 1])
    assert am.metrics.f1(y, y, num_classes=y.max() + 1, average="macro") == 1.0
    assert am.metrics.f1([0.2, 0.8], [0, 1], threshold=np.float32(0.5), from_logits=np.False_) == 1.0
    assert am.metrics.accuracy(np.eye(3), [0, 1, 2], top_k=np.int64(2)) == 1.0
    assert am.metrics.balanced_accuracy([0, 1], [0, 1], adjusted=np.True_) == 1.0
    m = am.metrics.F1(num_classes=np.int32(3))
    assert type(m.params["num_classes"]) is int
    assert m.merge(am.metrics.F1(num_classes=3)) is m  # the same parameters


# -- multilabel values ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["target", "preds"])
@pytest.mark.parametrize("column", [0, 2])
def test_multilabel_labels_must_be_zero_or_one(where, column):
    target = torch.tensor([[1, 0, 1], [0, 1, 1]])
    bad = target.clone()
    bad[0, column] = 2
    args = (target, bad) if where == "target" else (bad, target)
    with pytest.raises(TargetError, match=rf"`{where}` to hold labels in \{{0, 1\}}"):
        am.metrics.f1(*args, task="multilabel", num_labels=3, average="none")


# -- collection atomicity ---------------------------------------------------------------------------------------------
def test_collection_update_is_atomic():
    c = am.metrics.collection(["f1", "accuracy", "auroc"], task="multiclass", num_classes=3)
    c.update(torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.2, 0.2]]), torch.tensor([1, 0]))
    before = {k: v.clone() for k, v in c.state_dict().items()}
    with pytest.raises(TargetError):  # auroc needs scores; f1 and accuracy would have counted the labels
        c.update(torch.tensor([1, 2]), torch.tensor([1, 2]))
    after = c.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


def test_collection_update_is_atomic_when_a_later_statistic_fails():
    c = am.metrics.collection({"acc": am.metrics.Accuracy(), "top5": am.metrics.Accuracy(top_k=5)})
    with pytest.raises(ConfigError, match="top_k"):
        c.update(torch.tensor([[0.2, 0.5, 0.3]]), torch.tensor([1]))
    assert c["acc"].state_dict() == {}


# -- load_state_dict --------------------------------------------------------------------------------------------------
def _state(name, preds, target, **kw):
    m = am.metrics.get(name, **kw)
    m.update(preds, target)
    return m.state_dict()


@pytest.mark.parametrize("change", ["shape", "negative", "float", "task", "kind", "nan", "size", "missing"])
def test_load_state_dict_checks_shapes_dtypes_and_settings(change):
    name, kw = ("mse", {}) if change == "nan" else ("f1", {"num_classes": 4})
    good = _state(name, [0.5, 1.0], [1.0, 1.0]) if name == "mse" else _state(name, [0, 1, 3], [0, 1, 2], **kw)
    bad = dict(good)
    if change == "shape":
        bad["confmat"] = torch.ones(3, 3, dtype=torch.long)
    elif change == "negative":
        bad["confmat"] = good["confmat"] - 5
    elif change == "float":
        bad["confmat"] = good["confmat"].double()
    elif change == "task":
        bad["_task"] = torch.tensor(-1)
    elif change == "kind":
        bad["_kind"] = torch.tensor(7)
    elif change == "nan":
        key = next(k for k, v in good.items() if v.is_floating_point() and not k.startswith("constant"))
        bad[key] = torch.full_like(good[key], float("nan"))
    elif change == "size":
        bad["_num_classes"] = torch.tensor(5)
    else:
        del bad["confmat"]
    m = am.metrics.get(name, **kw)
    m.load_state_dict(good)  # the good one loads
    with pytest.raises(ConfigError, match="state_dict"):
        m.load_state_dict(bad)
    kept = m.state_dict()  # a rejected dict leaves the metric as it was, not half loaded
    assert kept.keys() == good.keys() and all(torch.equal(kept[k], good[k]) for k in good)


# -- one input rule ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, p, t", [("f1", 1, 1), ("accuracy", 0, 1), ("mse", 1.5, 2.0), ("mae", 3, 1)])
def test_zero_d_inputs_are_one_sample_whatever_their_kind(name, p, t):
    fn = getattr(am.metrics, name)
    want = fn([p], [t])
    for pp, tt in ((p, t), (np.asarray(p), np.asarray(t)), (np.int64(p) if isinstance(p, int) else np.float64(p), t)):
        assert fn(pp, tt) == pytest.approx(want)
    assert float(fn(torch.tensor(p), torch.tensor(t))) == pytest.approx(want)


def test_complex_inputs_are_rejected():
    z = torch.tensor([1 + 2j, 3 + 0j])
    with pytest.raises(TargetError, match="real numbers"):
        am.metrics.mse(z, z.real.to(z.dtype))
    with pytest.raises(TargetError, match="real numbers"):
        am.metrics.mae(z.real, z)
    with pytest.raises(TargetError, match="real numbers"):
        am.metrics.f1(torch.tensor([0.2, 0.7]), torch.tensor([0, 1], dtype=torch.complex64))


@pytest.mark.parametrize("name", ["f1", "mse", "auroc"])
def test_ragged_lists_raise_a_shape_error(name):
    with pytest.raises(ShapeError, match="ragged"):
        getattr(am.metrics, name)([[0.1, 0.9], [0.5]], [[0, 1], [1]])


def test_label_metrics_take_multiclass_logits():
    logits = torch.randn(50, 4, generator=torch.Generator().manual_seed(2)) * 3
    target = torch.randint(0, 4, (50,), generator=torch.Generator().manual_seed(3))
    assert_close(am.metrics.f1(logits, target, average="macro"),
                 am.metrics.f1(logits.argmax(1), target, num_classes=4, average="macro"))
    with pytest.raises(DomainError):  # binary probabilities are thresholded: out of [0, 1] they must be logits
        am.metrics.f1(torch.tensor([-1.0, 2.0]), torch.tensor([0, 1]))
