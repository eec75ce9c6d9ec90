"""Every non-ranking metric against scikit-learn (torchmetrics for calibration error): random inputs, ties,
missing classes, zero-division cases and tiny inputs, for every task and average."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from metric_inputs import assert_close
from torchmetrics.functional.classification import binary_calibration_error, multiclass_calibration_error

import almanac as am
from almanac.errors import DomainError, UndefinedMetricError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
warnings.filterwarnings("ignore", module="sklearn")

C = 4
TASKS = ("binary", "multiclass", "multilabel")
SCENARIOS = ("random", "ties", "missing", "no_positive_pred", "tiny")
AVERAGES = (None, "micro", "macro", "weighted", "none")
ZERO_DIVISION = (0.0, 1.0, float("nan"))


def scores(task: str, scenario: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and a target for ``task`` in one of the SCENARIOS."""
    rng = np.random.default_rng(seed)
    n = 1 if scenario == "tiny" else 60
    grid = scenario in ("ties", "tiny")
    if task == "multiclass":
        raw = rng.integers(1, 4, (n, C)).astype(float) if grid else rng.random((n, C))
        target = rng.integers(0, C, n)
        if scenario == "missing":  # class 3 in neither, class 1 never the target
            raw[:, 3] = 0.0
            target = rng.choice([0, 2], n)
        if scenario == "no_positive_pred":  # every prediction is class 0
            raw[:, 0] = raw.sum(1)
        return raw / raw.sum(1, keepdims=True), target
    shape = (n,) if task == "binary" else (n, C)
    probs = rng.integers(0, 5, shape) / 4 if grid else rng.random(shape)  # the grid holds 0.5 = the threshold
    target = rng.integers(0, 2, shape)
    if scenario == "missing":
        target = np.zeros(shape, dtype=np.int64) if task == "binary" else target * np.array([1, 0, 1, 1])
        if task == "multilabel":
            probs[:, 1] = 0.0
    if scenario == "no_positive_pred":
        probs = probs * 0.5
    return probs, target


def hard(probs: np.ndarray, task: str) -> np.ndarray:
    return probs.argmax(1) if task == "multiclass" else (probs > 0.5).astype(np.int64)


def task_keywords(task: str) -> dict:
    return {"task": task, **({"num_classes": C} if task == "multiclass" else {}),
            **({"num_labels": C} if task == "multilabel" else {})}


def sk_average(task: str, average: str | None) -> dict:
    if task == "binary" and average is None:
        return {"average": "binary"}
    labels = {"labels": list(range(2 if task == "binary" else C))} if task != "multilabel" else {}
    return {"average": {None: "micro", "none": None}.get(average, average), **labels}


# -- precision, recall, F-scores, IoU, Dice -----------------------------------------------------------------------
def sk_jaccard(target, predicted, *, average, zero_division, **kw):
    """``jaccard_score``, extended to ``zero_division=nan`` (0 / 0 classes left out of averages) as sklearn's
    precision / recall / F-scores do."""
    if not np.isnan(zero_division):
        return skm.jaccard_score(target, predicted, average=average, zero_division=zero_division, **kw)
    if average in ("micro", "binary"):
        low = skm.jaccard_score(target, predicted, average=average, zero_division=0.0, **kw)
        high = skm.jaccard_score(target, predicted, average=average, zero_division=1.0, **kw)
        return low if low == high else np.nan
    low = skm.jaccard_score(target, predicted, average=None, zero_division=0.0, **kw)
    high = skm.jaccard_score(target, predicted, average=None, zero_division=1.0, **kw)
    per_class = np.where(low == high, low, np.nan)
    if average is None:
        return per_class
    keep = ~np.isnan(per_class)
    if not keep.any():
        return np.nan
    support = (target[:, None] == np.arange(per_class.size)).sum(0) if target.ndim == 1 else target.sum(0)
    if average == "weighted" and support[keep].sum() > 0:
        return np.average(per_class[keep], weights=support[keep])
    return per_class[keep].mean()


SK_RATIOS = {
    "precision": (am.metrics.precision, skm.precision_score),
    "recall": (am.metrics.recall, skm.recall_score),
    "f1": (am.metrics.f1, skm.f1_score),
    "fbeta": (partial(am.metrics.fbeta, beta=2.0), partial(skm.fbeta_score, beta=2.0)),
    "fbeta_half": (partial(am.metrics.fbeta, beta=0.5), partial(skm.fbeta_score, beta=0.5)),
    "iou": (am.metrics.iou, sk_jaccard),
    "dice": (am.metrics.dice, skm.f1_score),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", SK_RATIOS)
def test_ratio_metrics_match_sklearn(name, task, average, scenario):
    ours, theirs = SK_RATIOS[name]
    probs, target = scores(task, scenario)
    for zd in ZERO_DIVISION:
        got = ours(probs, target, **task_keywords(task), average=average, zero_division=zd)
        want = theirs(target, hard(probs, task), **sk_average(task, average), zero_division=zd)
        assert_close(got, want)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("task", TASKS)
def test_accuracy_matches_sklearn(task, average, scenario):
    probs, target = scores(task, scenario)
    labels = hard(probs, task)
    for zd in ZERO_DIVISION:
        got = am.metrics.accuracy(probs, target, **task_keywords(task), average=average, zero_division=zd)
        if task == "multilabel":  # per-label accuracy; micro is 1 − Hamming loss
            per_label = (labels == target).mean(0)
            support = target.sum(0)
            want = {None: 1 - skm.hamming_loss(target, labels), "micro": 1 - skm.hamming_loss(target, labels),
                    "macro": per_label.mean(), "none": per_label,
                    "weighted": np.average(per_label, weights=support) if support.sum() else per_label.mean()}
        else:  # macro: mean per-class recall (torchmetrics' definition); weighted by support = micro
            k = list(range(2 if task == "binary" else C))
            want = {None: skm.accuracy_score(target, labels), "micro": skm.accuracy_score(target, labels),
                    "weighted": skm.accuracy_score(target, labels),
                    "macro": skm.recall_score(target, labels, labels=k, average="macro", zero_division=zd),
                    "none": skm.recall_score(target, labels, labels=k, average=None, zero_division=zd)}
        assert_close(got, want[average])


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("average", [None, "macro", "none"])
def test_top_k_accuracy_matches_sklearn(k, average):
    rng = np.random.default_rng(k)
    probs, target = rng.dirichlet(np.ones(C), 80), rng.integers(0, C, 80)
    got = am.metrics.accuracy(probs, target, num_classes=C, top_k=k, average=average)
    if average is None:
        assert_close(got, skm.top_k_accuracy_score(target, probs, k=k, labels=list(range(C))))
    else:
        hit = (np.argsort(-probs, 1)[:, :k] == target[:, None]).any(1)
        per_class = np.array([hit[target == c].mean() for c in range(C)])
        assert_close(got, per_class.mean() if average == "macro" else per_class)


# -- confusion-matrix based ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_matches_sklearn(task, scenario, normalize):
    probs, target = scores(task, scenario)
    got = am.metrics.confusion_matrix(probs, target, **task_keywords(task), normalize=normalize)
    labels = hard(probs, task)
    if task == "multilabel":
        want = skm.multilabel_confusion_matrix(target, labels).astype(np.float64)
        if normalize:
            axis = {"true": 2, "pred": 1, "all": (1, 2)}[normalize]
            total = want.sum(axis=axis, keepdims=True)
            want = np.divide(want, total, out=np.zeros_like(want), where=total > 0)
    else:
        want = skm.confusion_matrix(target, labels, labels=list(range(2 if task == "binary" else C)),
                                    normalize=normalize)
    assert_close(got, want)
    if normalize is None:
        assert got.dtype == np.int64


SK_AGREEMENT = {
    "balanced_accuracy": (am.metrics.balanced_accuracy, skm.balanced_accuracy_score),
    "balanced_accuracy_adjusted": (partial(am.metrics.balanced_accuracy, adjusted=True),
                                   partial(skm.balanced_accuracy_score, adjusted=True)),
    "matthews_corrcoef": (am.metrics.matthews_corrcoef, skm.matthews_corrcoef),
    "cohen_kappa": (am.metrics.cohen_kappa, skm.cohen_kappa_score),
    "cohen_kappa_linear": (partial(am.metrics.cohen_kappa, weights="linear"),
                           partial(skm.cohen_kappa_score, weights="linear")),
    "cohen_kappa_quadratic": (partial(am.metrics.cohen_kappa, weights="quadratic"),
                              partial(skm.cohen_kappa_score, weights="quadratic")),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("name", SK_AGREEMENT)
def test_agreement_metrics_match_sklearn(name, task, scenario):
    ours, theirs = SK_AGREEMENT[name]
    probs, target = scores(task, scenario)
    want = theirs(target, hard(probs, task))
    if not np.isfinite(want):  # undefined (kappa: one shared class; adjusted balanced accuracy: one class present)
        with pytest.raises(UndefinedMetricError):
            ours(probs, target, **task_keywords(task))
        if "kappa" in name:  # ... unless a fallback is given
            assert ours(probs, target, **task_keywords(task), fallback=0.25) == 0.25
    else:
        assert_close(ours(probs, target, **task_keywords(task)), want)


@pytest.mark.parametrize("name", ["balanced_accuracy", "matthews_corrcoef", "cohen_kappa"])
def test_agreement_metrics_refuse_multilabel(name):
    probs, target = scores("multilabel", "random")
    for keywords in ({}, {"task": "multilabel"}):
        with pytest.raises(am.ConfigError, match="task"):
            getattr(am.metrics, name)(probs, target, **keywords)


# -- probabilistic --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("task", TASKS)
def test_log_loss_matches_sklearn_including_clipping(task, scenario, dtype):
    probs, target = scores(task, scenario)
    probs = probs.astype(dtype)
    if task == "binary":  # exact 0 and 1 on the wrong side exercise the clipping at the dtype's eps
        probs[: min(2, len(probs))] = 1 - target[: min(2, len(probs))]
    got = am.metrics.log_loss(probs, target, **task_keywords(task))
    if task == "multilabel":
        want = skm.log_loss(target.ravel(), probs.ravel(), labels=[0, 1])
    else:
        want = skm.log_loss(target, probs, labels=list(range(2 if task == "binary" else C)))
    assert_close(got, want, rtol=1e-12 if dtype == np.float64 else 2e-6)


def test_log_loss_from_logits_is_log_loss_of_softmax():
    logits = torch.randn(50, C, dtype=torch.float64)
    target = torch.randint(0, C, (50,))
    assert_close(am.metrics.log_loss(logits, target, from_logits=True),
                 am.metrics.log_loss(torch.softmax(logits, 1), target))


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
@pytest.mark.parametrize("n_bins", [1, 5, 15])
@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("scenario", ["random", "ties", "tiny"])
def test_calibration_error_matches_torchmetrics(task, n_bins, norm, scenario):
    probs, target = scores(task, scenario)
    # torchmetrics rounds multiclass confidences to float32: compare on float32 inputs there
    p, t = torch.as_tensor(probs, dtype=torch.float64 if task == "binary" else torch.float32), torch.as_tensor(target)
    got = am.metrics.calibration_error(p, t, task=task, n_bins=n_bins, norm=norm)
    if task == "binary":
        want = binary_calibration_error(p, t, n_bins=n_bins, norm=norm)
    else:
        want = multiclass_calibration_error(p, t, num_classes=C, n_bins=n_bins, norm=norm)
    assert_close(got, want, rtol=1e-7 if task == "binary" else 1e-6, atol=1e-9)


# -- regression ---------------------------------------------------------------------------------------------------
SK_REGRESSION = {
    "mse": skm.mean_squared_error,
    "rmse": skm.root_mean_squared_error,
    "mae": skm.mean_absolute_error,
    "msle": skm.mean_squared_log_error,
    "rmsle": skm.root_mean_squared_log_error,
    "mape": skm.mean_absolute_percentage_error,
    "r2": skm.r2_score,
    "explained_variance": skm.explained_variance_score,
}


def regression_data(scenario: str, outputs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 2 if scenario == "tiny" else 200
    shape = (n,) if outputs == 1 else (n, outputs)
    target = rng.gamma(2.0, 3.0, shape)
    if scenario == "ties":
        target = target.round()
    if scenario == "offset":  # |mean| ≫ std: the float32 moments must not cancel
        target = 1e4 + rng.normal(0, 1, shape)
    if scenario == "zeros":  # MAPE's eps floor
        target[:5] = 0.0
    preds = np.clip(target + rng.normal(0, 1, shape), 0, None)
    return preds, target


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("scenario", ["random", "ties", "tiny", "offset", "zeros"])
@pytest.mark.parametrize("name", SK_REGRESSION)
def test_regression_matches_sklearn(name, scenario, outputs, dtype):
    preds, target = regression_data(scenario, outputs)
    want = SK_REGRESSION[name](target, preds)
    got = getattr(am.metrics, name)(preds, target)
    assert isinstance(got, float)
    # raw float64 moments lose log10(mean² / var) ≈ 8 digits of the spread when |mean| / std = 1e4
    atol = 5e-8 if scenario == "offset" else 1e-12
    assert_close(got, want, rtol=1e-10, atol=atol)
    got32 = getattr(am.metrics, name)(torch.tensor(preds, dtype=dtype), torch.tensor(target, dtype=dtype))
    assert got32.dtype == dtype
    if dtype == torch.float64:
        assert_close(got32, want, rtol=1e-10, atol=atol)
    else:  # against scikit-learn on the same float32-rounded values
        want32 = SK_REGRESSION[name](target.astype(np.float32).astype(np.float64),
                                     preds.astype(np.float32).astype(np.float64))
        assert_close(got32, want32, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["r2", "explained_variance"])
def test_constant_target_is_undefined_unless_fallback(name):
    fn = getattr(am.metrics, name)
    with pytest.raises(UndefinedMetricError, match="constant"):
        fn([1.0, 2.0, 3.0], [0.1, 0.1, 0.1])  # 0.1 is inexact in binary: the spread must still be exactly 0
    with pytest.raises(UndefinedMetricError):
        fn([1.0], [2.0])
    assert fn([1.0, 2.0, 3.0], [0.1, 0.1, 0.1], fallback=0.0) == 0.0
    # two outputs, one constant: the fallback scores that one, the other is computed
    preds, target = np.array([[1.0, 1.0], [2.0, 2.5], [3.0, 2.5]]), np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0]])
    want = (SK_REGRESSION[name](target[:, 0], preds[:, 0]) + 0.5) / 2
    assert_close(fn(preds, target, fallback=0.5), want)


def test_msle_rejects_values_at_or_below_minus_one():
    with pytest.raises(DomainError, match="greater than"):
        am.metrics.msle([0.0, -1.0], [1.0, 2.0])
    assert_close(am.metrics.msle([-0.5, 1.0], [0.0, 2.0]), skm.mean_squared_log_error([0.0, 2.0], [-0.5, 1.0]))


@pytest.mark.parametrize("name", SK_REGRESSION)
def test_regression_rejects_non_finite(name):
    with pytest.raises(DomainError, match="finite"):
        getattr(am.metrics, name)([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(DomainError, match="finite"):
        getattr(am.metrics, name)([1.0, 2.0], [1.0, float("inf")])
