"""Bootstrap intervals from the states: the same intervals as resampling the data, with the method named."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import scipy.stats
import torch
from sklearn import metrics as skm

import almanac as am
from almanac.errors import ConfigError

RNG = np.random.default_rng(5)


def _data_bootstrap(fn, preds, target, resamples=400, seed=0):
    rng = np.random.default_rng(seed)
    n = len(target)
    values = []
    for _ in range(resamples):
        idx = rng.integers(0, n, n)
        with contextlib.suppress(am.errors.UndefinedMetricError):
            values.append(float(fn(preds[idx], target[idx])))
    return np.quantile(values, [0.025, 0.975])


def test_accuracy_interval_is_the_binomial_one():
    target = RNG.integers(0, 3, 400)
    preds = np.where(RNG.random(400) < 0.7, target, RNG.integers(0, 3, 400))
    ci = am.metrics.bootstrap("accuracy", preds, target, seed=0, n_resamples=4000)
    p = float((preds == target).mean())
    half = 1.96 * np.sqrt(p * (1 - p) / 400)
    assert ci.value == p and ci.method == "percentile" and ci.resampling == "multinomial"
    assert ci.low == pytest.approx(p - half, abs=0.01) and ci.high == pytest.approx(p + half, abs=0.01)


@pytest.mark.parametrize(("name", "kw"), [("f1", {"average": "macro", "num_classes": 3}), ("auroc", {}),
                                          ("average_precision", {}), ("auroc", {"num_classes": 3}),
                                          ("accuracy", {"top_k": 2})])
def test_interval_matches_resampling_the_data(name, kw):
    n = 1500
    target = RNG.integers(0, 3 if "num_classes" in kw or "top_k" in kw else 2, n)
    if ("num_classes" in kw and name == "auroc") or "top_k" in kw:
        preds = RNG.dirichlet(np.ones(3), n) + np.eye(3)[target] * 0.5
        preds /= preds.sum(1, keepdims=True)
    elif name == "f1":
        preds = np.where(RNG.random(n) < 0.6, target, RNG.integers(0, 3, n))
    else:
        preds = np.round((RNG.random(n) + 0.4 * target) / 1.4, 3)  # ties
    ci = am.metrics.bootstrap(name, preds, target, seed=1, n_resamples=400 if "num_classes" in kw else 1000, **kw)
    want = _data_bootstrap(lambda p, t: am.metrics.get(name, **kw).evaluate(p, t), preds, target)
    width = want[1] - want[0]
    assert ci.low == pytest.approx(want[0], abs=0.15 * width) and ci.high == pytest.approx(want[1], abs=0.15 * width)


def test_pooled_groups_keep_the_interval_centred_on_the_exact_value():
    n = 20_000  # > 2048 distinct scores: neighbouring groups are pooled
    target = RNG.integers(0, 2, n)
    scores = torch.from_numpy((RNG.random(n) + 0.3 * target) / 1.3)
    m = am.metrics.AUROC()
    m.update(scores, torch.from_numpy(target))
    ci = am.metrics.bootstrap(m, seed=2, n_resamples=500)
    assert ci.resampling == "poisson" and ci.low < ci.value < ci.high
    assert (ci.low + ci.high) / 2 == pytest.approx(ci.value, abs=0.2 * (ci.high - ci.low))
    want = _data_bootstrap(am.metrics.auroc, scores.numpy(), target, resamples=150)
    width = want[1] - want[0]
    assert ci.low == pytest.approx(want[0], abs=0.2 * width) and ci.high == pytest.approx(want[1], abs=0.2 * width)


def test_bca_corrects_a_skewed_statistic():
    target = np.r_[np.ones(95), np.zeros(5)].astype(int)  # recall near 1: a skewed bootstrap distribution
    preds = target.copy()
    preds[:3] = 0
    pct = am.metrics.bootstrap("recall", preds, target, seed=3)
    bca = am.metrics.bootstrap("recall", preds, target, seed=3, method="bca")
    assert bca.method == "bca" and pct.method == "percentile"
    assert (bca.low, bca.high) != (pct.low, pct.high)
    assert bca.low <= bca.value <= bca.high


def _scipy(statistic, n, seed, resamples, method):
    """scipy's bootstrap of a statistic of the row indices: the draws almanac's data path makes."""
    res = scipy.stats.bootstrap((np.arange(n),), statistic, paired=True, vectorized=False, batch=1,
                                n_resamples=resamples, method=method, rng=np.random.default_rng(seed))
    return res.confidence_interval.low, res.confidence_interval.high


_N = 240
_Y = RNG.normal(size=_N)
_P = _Y + 0.6 * RNG.normal(size=_N)
_W = RNG.uniform(0.2, 3.0, _N)
_LABELS = RNG.integers(0, 2, _N)
_PROBS = np.clip(0.25 + 0.5 * _LABELS + 0.3 * RNG.normal(size=_N), 0.01, 0.99)
_ML_T = RNG.integers(0, 2, (_N, 3))
_ML_P = np.where(RNG.random((_N, 3)) < 0.75, _ML_T, 1 - _ML_T)
_MC_T = RNG.integers(0, 3, _N)
_MC_P = np.where(RNG.random(_N) < 0.7, _MC_T, RNG.integers(0, 3, _N))
_FAMILIES = {  # almanac call -> the same statistic by scikit-learn on rows i (float64)
    "mse": (("mse", _P, _Y, {}), lambda i: skm.mean_squared_error(_Y[i], _P[i])),
    "r2": (("r2", _P, _Y, {}), lambda i: skm.r2_score(_Y[i], _P[i])),
    "mae_weighted": (("mae", _P, _Y, {"sample_weight": _W}),
                     lambda i: skm.mean_absolute_error(_Y[i], _P[i], sample_weight=_W[i])),
    "log_loss": (("log_loss", _PROBS, _LABELS, {}), lambda i: skm.log_loss(_LABELS[i], _PROBS[i], labels=[0, 1])),
    "calibration": (("calibration_error", _PROBS, _LABELS, {"n_bins": 5}), None),
    "f1_multilabel": (("f1", _ML_P, _ML_T, {"task": "multilabel", "average": "macro"}),
                      lambda i: skm.f1_score(_ML_T[i], _ML_P[i], average="macro", zero_division=0)),
    "f1_weighted_stream": (("f1", _MC_P, _MC_T, {"average": "macro", "num_classes": 3, "sample_weight": _W}),
                           lambda i: skm.f1_score(_MC_T[i], _MC_P[i], average="macro", sample_weight=_W[i],
                                                  labels=[0, 1, 2], zero_division=0)),
}


def _ece(i, bins=5):
    """torchmetrics' binary top-label ECE (confidence p, correctness the target), in float64."""
    p, y = _PROBS[i], _LABELS[i]
    index = np.clip(np.ceil(p * bins).astype(int) - 1, 0, bins - 1)
    count = np.bincount(index, minlength=bins)
    gap = np.abs(np.bincount(index, p, bins) - np.bincount(index, y.astype(float), bins))
    return gap.sum() / count.sum()


@pytest.mark.parametrize("family", list(_FAMILIES))
@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_data_bootstrap_equals_scipy_with_the_same_draws(family, method):
    (name, preds, target, kw), reference = _FAMILIES[family]
    reference = reference or _ece
    ci = am.metrics.bootstrap(name, preds, target, seed=7, n_resamples=150, method=method, **kw)
    low, high = _scipy(reference, _N, 7, 150, method)
    assert ci.resampling == "data" and ci.method == method
    assert ci.value == pytest.approx(reference(np.arange(_N)), rel=1e-9)
    assert (ci.low, ci.high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))


def test_state_bootstrap_equals_numpy_on_the_same_draws():
    """Counting metrics resample the confusion cells, binary AUROC the (tie group, class) cells: the interval is the
    quantiles of the metric computed by scikit-learn on the same multinomial draws of the cells."""
    cm = skm.confusion_matrix(_MC_T, _MC_P).astype(float)
    draws = np.random.default_rng(4).multinomial(_N, cm.ravel() / _N, size=300)
    want = [skm.f1_score(*np.divmod(np.repeat(np.arange(9), d), 3), average="macro", labels=[0, 1, 2],
                         zero_division=0) for d in draws]
    ci = am.metrics.bootstrap("f1", _MC_P, _MC_T, seed=4, n_resamples=300, average="macro", num_classes=3)
    assert ci.resampling == "multinomial"
    assert (ci.low, ci.high) == tuple(pytest.approx(q, rel=1e-9) for q in np.quantile(want, [0.025, 0.975]))

    scores = np.round(_PROBS, 2)  # ties
    keys = np.unique(scores)
    pos = np.array([np.sum((scores == k) & (_LABELS == 1)) for k in keys])
    neg = np.array([np.sum((scores == k) & (_LABELS == 0)) for k in keys])
    counts = np.r_[pos, neg].astype(float)
    draws = np.random.default_rng(5).multinomial(_N, counts / _N, size=300)
    g = keys.size
    y_cells, s_cells = np.r_[np.ones(g), np.zeros(g)], np.r_[keys, keys]
    want = [skm.roc_auc_score(y_cells, s_cells, sample_weight=d) for d in draws]
    ci = am.metrics.bootstrap("auroc", scores, _LABELS, seed=5, n_resamples=300)
    assert (ci.low, ci.high) == tuple(pytest.approx(q, rel=1e-9) for q in np.quantile(want, [0.025, 0.975]))


def test_bootstrap_refuses_states_it_cannot_resample():
    m = am.metrics.get("mse")
    m.update([1.0, 2.0], [1.5, 2.5])
    with pytest.raises(ConfigError, match=r"bootstrap\('mse', preds, target"):
        am.metrics.bootstrap(m)
    m = am.metrics.F1()
    m.update([0, 1, 1], [0, 1, 0], sample_weight=[1.0, 2.0, 1.0])
    with pytest.raises(ConfigError, match="weighted"):
        am.metrics.bootstrap(m)
    with pytest.raises(ConfigError, match="method"):
        am.metrics.bootstrap("f1", [0, 1], [0, 1], method="basic")
