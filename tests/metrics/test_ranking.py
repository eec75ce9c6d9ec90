"""Ranking metrics against scikit-learn, their kernels, bins=K, streaming and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

import almanac as am
from almanac.metrics import _ranking_kernels as K

TOL = 1e-9
M = am.metrics


def _data(kind: str, n: int, rate: float, seed: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = {
        "random": lambda: rng.random(n),
        "ties": lambda: np.round(rng.random(n), 1),
        "equal": lambda: np.full(n, 0.25),
        "saturated": lambda: np.where(rng.random(n) < 0.5, 0.0, np.where(rng.random(n) < 0.5, 1.0, rng.random(n))),
    }[kind]().astype(dtype)
    t = (rng.random(n) < rate).astype(np.int64)
    t[0], t[-1] = 0, 1  # both classes present
    return s, t


CASES = [(kind, n, rate, dtype) for kind in ("random", "ties", "equal", "saturated") for n in (2, 7, 300)
         for rate in (0.5,) for dtype in (np.float32, np.float64)]
CASES += [("random", 20000, 0.01, np.float32), ("ties", 20000, 0.02, np.float64), ("random", 20000, 0.4, np.float32),
          ("saturated", 9000, 0.05, np.float32)]


@pytest.mark.parametrize(("kind", "n", "rate", "dtype"), CASES)
def test_binary_matches_sklearn(kind, n, rate, dtype):
    s, t = _data(kind, n, rate, seed=n, dtype=dtype)
    assert abs(M.auroc(s, t) - skm.roc_auc_score(t, s)) <= TOL
    assert abs(M.average_precision(s, t) - skm.average_precision_score(t, s)) <= TOL
    fpr, tpr, thr = M.roc_curve(s, t)
    fpr_r, tpr_r, thr_r = skm.roc_curve(t, s)
    np.testing.assert_allclose(fpr, fpr_r, atol=TOL)
    np.testing.assert_allclose(tpr, tpr_r, atol=TOL)
    np.testing.assert_array_equal(thr, thr_r.astype(np.float64))
    p, r, thr = M.pr_curve(s, t)
    p_r, r_r, thr_r = skm.precision_recall_curve(t, s)
    np.testing.assert_allclose(p, p_r, atol=TOL)
    np.testing.assert_allclose(r, r_r, atol=TOL)
    np.testing.assert_array_equal(thr, thr_r.astype(np.float64))


def test_roc_curve_keeps_every_threshold_without_drop_intermediate():
    s, t = _data("random", 200, 0.5, seed=3)
    for got, want in zip(M.roc_curve(s, t, drop_intermediate=False), skm.roc_curve(t, s, drop_intermediate=False)):
        np.testing.assert_allclose(got, want, atol=TOL)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_logits_of_any_sign_and_tensor_output(dtype):
    rng = np.random.default_rng(1)
    logits = np.round(rng.normal(scale=4.0, size=3000), 2)
    logits[:5] = [0.0, -0.0, 1e-30, -1e-30, 0.0]  # -0.0 ties with +0.0
    t = (rng.random(3000) < 0.3).astype(np.int64)
    x = torch.from_numpy(logits).to(dtype)
    ref_scores = x.double().numpy()
    got = M.auroc(x, torch.from_numpy(t), from_logits=True)
    assert isinstance(got, torch.Tensor) and got.ndim == 0
    assert got.dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
    assert abs(got.item() - skm.roc_auc_score(t, ref_scores)) <= (TOL if dtype == torch.float64 else 1e-7)
    ap = M.average_precision(x, torch.from_numpy(t), from_logits=True)
    assert abs(ap.item() - skm.average_precision_score(t, ref_scores)) <= (TOL if dtype == torch.float64 else 1e-7)


def test_wide_float64_span_uses_the_split_sort():
    rng = np.random.default_rng(2)
    s = np.concatenate([-rng.random(500) * 1e300, rng.random(500) * 1e300, [0.0, -0.0, 5e-324, -5e-324]])
    t = (rng.random(s.size) < 0.5).astype(np.int64)
    assert abs(M.auroc(s, t, from_logits=True) - skm.roc_auc_score(t, s)) <= TOL
    assert abs(M.average_precision(s, t, from_logits=True) - skm.average_precision_score(t, s)) <= TOL


# -- multiclass and multilabel -------------------------------------------------------------------------------------
def _multiclass(n=400, c=4, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    s = rng.random((n, c))
    if ties:
        s = np.round(s, 1) + 0.05
    s /= s.sum(1, keepdims=True)
    y = rng.integers(0, c, n)
    return s, y


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", "none"])
@pytest.mark.parametrize("ties", [False, True])
def test_multiclass_one_vs_rest_matches_sklearn(average, ties):
    s, y = _multiclass(ties=ties)
    sk_avg = None if average == "none" else average
    np.testing.assert_allclose(M.auroc(s, y, average=average),
                               skm.roc_auc_score(y, s, multi_class="ovr", average=sk_avg), atol=TOL)
    np.testing.assert_allclose(M.average_precision(s, y, average=average),
                               skm.average_precision_score(y, s, average=sk_avg), atol=TOL)


def test_multiclass_logits_get_a_softmax():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(300, 3)).astype(np.float32)
    y = rng.integers(0, 3, 300)
    probs = torch.softmax(torch.from_numpy(logits), -1).numpy()
    want = skm.roc_auc_score(y, probs.astype(np.float64), multi_class="ovr")
    assert abs(M.auroc(logits, y, from_logits=True) - want) <= 1e-7


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", "none"])
def test_multilabel_matches_sklearn(average):
    rng = np.random.default_rng(5)
    s = np.round(rng.random((300, 5)), 2)
    y = (rng.random((300, 5)) < [0.1, 0.3, 0.5, 0.7, 0.9]).astype(np.int64)
    sk_avg = None if average == "none" else average
    np.testing.assert_allclose(M.auroc(s, y, average=average), skm.roc_auc_score(y, s, average=sk_avg), atol=TOL)
    np.testing.assert_allclose(M.average_precision(s, y, average=average),
                               skm.average_precision_score(y, s, average=sk_avg), atol=TOL)


def test_multilabel_ignore_index_drops_entries_per_label():
    rng = np.random.default_rng(6)
    s = rng.random((200, 3))
    y = (rng.random((200, 3)) < 0.5).astype(np.int64)
    y_ignored = y.copy()
    y_ignored[rng.random((200, 3)) < 0.2] = -1
    got = M.auroc(s, y_ignored, task="multilabel", ignore_index=-1, average="none")
    want = [skm.roc_auc_score(y_ignored[y_ignored[:, j] >= 0, j], s[y_ignored[:, j] >= 0, j]) for j in range(3)]
    np.testing.assert_allclose(got, want, atol=TOL)


def test_curves_per_class_for_multiclass():
    s, y = _multiclass(n=100, c=3)
    fprs, tprs, thrs = M.roc_curve(s, y)
    assert len(fprs) == len(tprs) == len(thrs) == 3
    for c in range(3):
        want = skm.roc_curve(y == c, s[:, c])
        for got, ref in zip((fprs[c], tprs[c], thrs[c]), want):
            np.testing.assert_allclose(got, ref, atol=TOL)


# -- undefined and errors ------------------------------------------------------------------------------------------
def test_one_class_present_is_undefined_unless_a_fallback_is_given():
    s = [0.2, 0.3, 0.9]
    with pytest.raises(am.UndefinedMetricError, match="both classes"):
        M.auroc(s, [1, 1, 1])
    with pytest.raises(am.UndefinedMetricError, match="a positive"):
        M.average_precision(s, [0, 0, 0])
    assert M.auroc(s, [0, 0, 0], fallback=0.5) == 0.5
    assert M.average_precision(s, [1, 1, 1]) == 1.0  # no negative: every precision is 1
    with pytest.raises(am.UndefinedMetricError):
        M.roc_curve(s, [0, 0, 0])
    with pytest.raises(am.UndefinedMetricError):
        M.pr_curve(s, [0, 0, 0])


def test_missing_class_names_the_class_and_fallback_enters_the_average():
    s, y = _multiclass(n=60, c=3)
    y[y == 2] = 1
    with pytest.raises(am.UndefinedMetricError, match="class 2"):
        M.auroc(s, y, num_classes=3)
    per_class = M.auroc(s, y, num_classes=3, average="none", fallback=0.0)
    assert per_class[2] == 0.0
    assert M.auroc(s, y, num_classes=3, fallback=0.0) == pytest.approx(per_class.mean(), abs=TOL)


@pytest.mark.parametrize(("preds", "target", "kwargs", "error"), [
    ([0.1, float("nan")], [0, 1], {}, am.DomainError),
    ([0.1, float("inf")], [0, 1], {"from_logits": True}, am.DomainError),
    ([0.1, 1.5], [0, 1], {}, am.DomainError),  # never guesses logits
    ([[0.5, 0.6], [0.1, 0.9]], [0, 1], {}, am.DomainError),  # rows must sum to 1
    ([0.1, 0.2, 0.3], [0, 1], {}, am.ShapeError),
    ([], [], {}, am.ShapeError),
    ([0.1, 0.2], [0.0, 0.5], {}, am.TargetError),  # fractions: not float-coded labels
    ([0.1, 0.2], [0, 1], {"bins": 1}, am.ConfigError),
    ([0.1, 0.2], [0, 1], {"average": "mean"}, am.ConfigError),
    ([0.1, 0.2], [0, 1], {"fallback": "x"}, am.ConfigError),
])
def test_errors(preds, target, kwargs, error):
    with pytest.raises(error):
        M.auroc(preds, target, **kwargs)


def test_error_bound_needs_bins():
    m = M.get("auroc")
    m.update([0.1, 0.9], [0, 1])
    with pytest.raises(am.ConfigError, match="bins"):
        m.error_bound()


def test_specs():
    assert M.spec("auc_pr").name == "average_precision"
    for name in ("auroc", "average_precision", "roc_curve", "pr_curve"):
        spec = M.spec(name)
        assert spec.needs == "scores" and spec.range == (0.0, 1.0) and not spec.differentiable
        assert set(spec.tasks) == {"binary", "multiclass", "multilabel"}
        assert "bins" in spec.params
    assert M.spec("auroc").higher_is_better and M.spec("auroc").params["fallback"] is None


# -- kernels -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_order_keys_sort_like_the_floats_and_invert(dtype):
    info = np.finfo(dtype)
    x = np.array([-np.inf, -info.max, -1.0, -info.tiny, -info.smallest_subnormal, -0.0, 0.0,
                  info.smallest_subnormal, info.tiny, 0.5, 1.0, info.max, np.inf], dtype=dtype)
    keys = K.order_keys(x)
    assert keys[5] == keys[6] == 0
    assert np.all(np.diff(np.delete(keys, 5)) > 0)
    np.testing.assert_array_equal(K.scores_from_keys(keys, x.dtype), x)


def test_bucket_kernel_equals_the_sort_on_imbalanced_and_tied_inputs():
    rng = np.random.default_rng(7)
    for s in (rng.random(50_000), np.round(rng.random(50_000), 3), rng.normal(size=50_000).astype(np.float32)):
        t = (rng.random(s.size) < 0.01).astype(np.int64)
        _, pos, neg = K.tie_groups(s, t)
        for metric, fn in (("auroc", K.auroc_from_groups), ("ap", K.average_precision_from_groups)):
            bpos, bneg = K._bucket_groups(s, t, metric)
            assert bpos.size < s.size  # the bucket path ran and merged groups
            assert abs(fn(bpos, bneg) - fn(pos, neg)) <= 1e-12


@pytest.mark.parametrize("n", [3000, 6000])  # below and above the size where many ties switch to the group pass
@pytest.mark.parametrize("share", [0, 0.005, 0.5])  # no tie; a few (binary-search correction); many
def test_exact_kernels_on_every_tie_regime(n, share):
    rng = np.random.default_rng(n)
    s = rng.random(n).astype(np.float32)
    tied = int(share * n)
    s[:tied] = s[tied:2 * tied]
    t = (rng.random(n) < 0.5).astype(np.int64)
    assert abs(K.exact_auroc(s, t) - skm.roc_auc_score(t, s)) <= TOL
    assert abs(K.exact_average_precision(s, t) - skm.average_precision_score(t, s)) <= TOL


def test_bin_edges_are_the_smallest_value_of_each_bin():
    edges = K.bin_lower_edges(64)
    assert edges[0] == 0.0 and np.all(np.diff(edges) > 0)
    assert np.array_equal(K.bin_index(edges, 64), np.arange(64))
    below = np.nextafter(edges[1:].astype(np.float32), np.float32(0))
    assert np.array_equal(K.bin_index(below, 64), np.arange(63))


# -- properties ----------------------------------------------------------------------------------------------------
_labels = st.lists(st.integers(0, 1), min_size=2, max_size=60)


def _inputs(draw_labels, seed, ties):
    t = np.array(draw_labels, dtype=np.int64)
    t[0], t[1] = 0, 1
    rng = np.random.default_rng(seed)
    s = rng.random(t.size)
    return (np.round(s, 1) if ties else s), t


@given(_labels, st.integers(0, 2**32 - 1), st.booleans())
def test_permutation_invariance(labels, seed, ties):
    s, t = _inputs(labels, seed, ties)
    perm = np.random.default_rng(seed + 1).permutation(t.size)
    assert M.auroc(s[perm], t[perm]) == M.auroc(s, t)
    assert M.average_precision(s[perm], t[perm]) == pytest.approx(M.average_precision(s, t), abs=1e-15)


@given(_labels, st.integers(0, 2**32 - 1), st.booleans())
def test_invariance_to_a_strictly_monotone_transform(labels, seed, ties):
    s, t = _inputs(labels, seed, ties)
    distinct = np.unique(s)
    new = np.sort(np.random.default_rng(seed).normal(scale=50.0, size=distinct.size))
    if np.unique(new).size < distinct.size:
        return
    moved = new[np.searchsorted(distinct, s)]  # strictly increasing map of the distinct scores
    assert M.auroc(moved, t, from_logits=True) == M.auroc(s, t)
    assert M.average_precision(moved, t, from_logits=True) == pytest.approx(M.average_precision(s, t), abs=1e-15)


def _plain(x):
    if isinstance(x, tuple):
        return tuple(_plain(v) for v in x)
    return (x.item() if x.ndim == 0 else x.numpy()) if isinstance(x, torch.Tensor) else x


@given(_labels, _labels, st.integers(0, 2**32 - 1), st.sampled_from([None, 64]))
def test_merge_of_two_streams_equals_their_concatenation(a, b, seed, bins):
    s1, t1 = _inputs(a, seed, False)
    s2, t2 = _inputs(b, seed + 1, True)
    for name in ("auroc", "average_precision", "roc_curve"):
        m1, m2 = M.get(name, bins=bins), M.get(name, bins=bins)
        m1.update(s1, t1)
        m2.update(s2[:1], t2[:1])
        m2.update(s2[1:], t2[1:])
        m3 = M.get(name, bins=bins)
        m3.load_state_dict(m1.merge(m2).state_dict())
        want = M.get(name, bins=bins)
        want.update(np.concatenate([s1, s2]), np.concatenate([t1, t2]))
        np.testing.assert_equal(m1.compute(), want.compute())
        for got, ref in zip(np.atleast_1d(_plain(m3.compute())), np.atleast_1d(want.compute())):
            np.testing.assert_allclose(got, ref, rtol=1e-6)  # a loaded state_dict computes float32 tensors
        if bins is None:
            np.testing.assert_equal(want.compute(), getattr(M, name)(np.concatenate([s1, s2]),
                                                                      np.concatenate([t1, t2])))


@given(_labels, st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([4, 32, 1024]))
def test_binned_value_is_within_its_error_bound(labels, seed, ties, bins):
    s, t = _inputs(labels, seed, ties)
    for name in ("auroc", "average_precision"):
        m = M.get(name, bins=bins)
        m.update(s, t)
        assert abs(m.compute() - getattr(M, name)(s, t)) <= m.error_bound() + 1e-12


def test_error_bound_shrinks_to_zero_as_bins_grow():
    rng = np.random.default_rng(8)
    s = rng.permutation(np.linspace(0.005, 0.995, 200))  # distinct scores
    t = (rng.random(200) < 0.4).astype(np.int64)
    bounds = []
    for bins in (4, 64, 1024, 65536):
        m = M.get("auroc", bins=bins)
        m.update(s, t)
        bounds.append(m.error_bound())
    assert bounds == sorted(bounds, reverse=True) and bounds[0] > 0 and bounds[-1] == 0.0
    ap = M.get("average_precision", bins=65536)
    ap.update(s, t)
    assert ap.error_bound() == 0.0 and ap.compute() == pytest.approx(M.average_precision(s, t), abs=1e-12)


def test_binned_multiclass_and_logits():
    s, y = _multiclass(n=500, c=3)
    log_probs, target = torch.from_numpy(np.log(s)), torch.from_numpy(y)
    with pytest.raises(am.DomainError, match="from_logits"):
        M.get("auroc", bins=4096).update(log_probs, target)
    m = M.get("auroc", bins=4096, average="weighted", from_logits=True)  # softmax of log-probabilities is s
    m.update(log_probs, target)
    assert abs(m.compute().item() - M.auroc(s, y, average="weighted")) <= m.error_bound().item() + 1e-6


def test_binned_curves_are_exact_points_at_the_bin_edges():
    s, t = _data("random", 1000, 0.5, seed=9, dtype=np.float32)
    fpr, tpr, thr = M.roc_curve(s, t, bins=16, drop_intermediate=False)
    assert thr[0] == np.inf and set(thr[1:]) <= set(K.bin_lower_edges(16))
    np.testing.assert_array_equal(tpr[1:], [(s[t == 1] >= x).mean() for x in thr[1:]])
    np.testing.assert_array_equal(fpr[1:], [(s[t == 0] >= x).mean() for x in thr[1:]])
    p, r, thr = M.pr_curve(s, t, bins=16)
    np.testing.assert_array_equal(r[:-1], [(s[t == 1] >= x).mean() for x in thr])
    np.testing.assert_allclose(p[:-1], [t[s >= x].mean() for x in thr], rtol=1e-15)


def test_collection_shares_the_batch():
    s, y = _multiclass(n=80, c=3)
    c = M.collection(["auroc", "auc_pr"], num_classes=3)
    c.update(torch.from_numpy(s), torch.from_numpy(y))
    out = c.compute()
    assert out["auroc"].item() == pytest.approx(M.auroc(s, y), abs=1e-6)
    assert out["auc_pr"].item() == pytest.approx(M.average_precision(s, y), abs=1e-6)
