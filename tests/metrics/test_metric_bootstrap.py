"""Bootstrap intervals from the states: the same intervals as resampling the data, with the method named."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

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


def test_bootstrap_refuses_states_it_cannot_resample():
    with pytest.raises(ConfigError, match="sums"):
        am.metrics.bootstrap("mse", [1.0, 2.0], [1.5, 2.5])
    with pytest.raises(ConfigError, match="multilabel"):
        am.metrics.bootstrap("f1", [[0, 1], [1, 1]], [[0, 1], [1, 0]], task="multilabel", average="macro")
    m = am.metrics.F1()
    m.update([0, 1, 1], [0, 1, 0], sample_weight=[1.0, 2.0, 1.0])
    with pytest.raises(ConfigError, match="weight"):
        am.metrics.bootstrap(m)
    with pytest.raises(ConfigError, match="method"):
        am.metrics.bootstrap("f1", [0, 1], [0, 1], method="basic")
