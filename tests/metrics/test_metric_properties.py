"""Registry-driven properties of every metric (ranking ones included once registered): permutation invariance,
merge of two streams = their concatenation, update batch by batch = one call, state_dict round trip, pickling,
output kinds, get(name) = the class, and the spec's facts."""

from __future__ import annotations

import io
import math
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from metric_inputs import assert_close, cases, function, keywords, leaves, make, value_or_error

import almanac as am
from almanac.errors import ConfigError, ShapeError

CASES = cases()
IDS = [f"{name}-{task}" for name, task in CASES]
SEEDS = st.integers(0, 2**32 - 1)
RTOL = 1e-9


def _value(name: str, task: str, preds, target):
    return value_or_error(function(name), preds, target, **keywords(name, task))


@pytest.mark.parametrize(("name", "task"), CASES, ids=IDS)
@settings(max_examples=25)
@given(seed=SEEDS, n=st.integers(1, 40))
def test_permutation_invariance(name, task, seed, n):
    preds, target = make(name, task, n, seed)
    perm = np.random.default_rng(seed + 1).permutation(n)
    assert_close(_value(name, task, preds[perm], target[perm]), _value(name, task, preds, target), rtol=RTOL)


@pytest.mark.parametrize(("name", "task"), CASES, ids=IDS)
@settings(max_examples=25)
@given(seed=SEEDS, n=st.integers(1, 40), cut=st.floats(0, 1))
def test_merge_equals_concatenation(name, task, seed, n, cut):
    preds, target = make(name, task, n, seed)
    k = int(cut * n)
    left, right = am.metrics.get(name, **keywords(name, task)), am.metrics.get(name, **keywords(name, task))
    if k:
        left.update(preds[:k], target[:k])
    if k < n:
        right.update(preds[k:], target[k:])
    merged = value_or_error(lambda: left.merge(right).compute())
    assert_close(merged, _value(name, task, preds, target), rtol=RTOL)


@pytest.mark.parametrize(("name", "task"), CASES, ids=IDS)
@settings(max_examples=15)
@given(seed=SEEDS, n=st.integers(2, 40))
def test_streaming_equals_one_call_and_state_dict_round_trip(name, task, seed, n):
    preds, target = make(name, task, n, seed)
    kw = keywords(name, task)
    m = am.metrics.get(name, **kw)
    for chunk in np.array_split(np.arange(n), 3):
        if len(chunk):
            m.update(preds[chunk], target[chunk])
    whole = _value(name, task, preds, target)
    assert_close(value_or_error(m.compute), whole, rtol=RTOL)

    buffer = io.BytesIO()
    torch.save(m.state_dict(), buffer)
    buffer.seek(0)
    loaded = am.metrics.get(name, **kw)
    loaded.load_state_dict(torch.load(buffer, weights_only=True))
    assert_close(value_or_error(loaded.compute), value_or_error(m.compute), rtol=RTOL)
    assert_close(value_or_error(pickle.loads(pickle.dumps(m)).compute), value_or_error(m.compute), rtol=RTOL)


@pytest.mark.parametrize(("name", "task"), CASES, ids=IDS)
def test_output_kind_follows_the_input(name, task):
    kw = keywords(name, task)
    fn = function(name)
    for seed in range(20):  # a seed on which the metric is defined
        preds, target = make(name, task, 30, seed)
        from_numpy = value_or_error(fn, preds, target, **kw)
        if from_numpy is not am.UndefinedMetricError:
            break
    from_list = fn(preds.tolist(), target.tolist(), **kw)
    from_tensor = fn(torch.as_tensor(preds), torch.as_tensor(target), **kw)
    numpy_leaves, tensor_leaves = leaves(from_numpy), leaves(from_tensor)
    assert len(numpy_leaves) == len(tensor_leaves)
    for leaf, tensor in zip(numpy_leaves, tensor_leaves):
        assert isinstance(tensor, torch.Tensor)
        if tensor.ndim == 0:
            assert type(leaf) in (float, int)
        else:
            assert isinstance(leaf, np.ndarray)
    assert_close(from_list, from_numpy, rtol=RTOL)
    assert_close(from_tensor, from_numpy, rtol=1e-6)  # float64 tensors in, float64 results


@pytest.mark.parametrize("name", am.metrics.names())
def test_get_builds_the_class_and_rejects_unknown_parameters(name):
    m = am.metrics.get(name)
    assert isinstance(m, am.metrics.Metric) and m.spec is am.metrics.spec(name)
    assert type(m).__name__ in am.metrics.__all__ and getattr(am.metrics, type(m).__name__) is type(m)
    with pytest.raises(ConfigError):
        am.metrics.get(name, not_a_parameter=1)
    with pytest.raises(ConfigError):
        type(m)(not_a_parameter=1)


@pytest.mark.parametrize("name", am.metrics.names())
def test_spec_facts(name):
    spec = am.metrics.spec(name)
    assert spec.family == "metric" and spec.summary and spec.formula and spec.references
    assert spec.tasks and spec.needs in ("labels", "scores", "probabilities", "values")
    lo, hi = spec.range
    assert lo < hi and isinstance(spec.higher_is_better, bool) and isinstance(spec.differentiable, bool)
    fn = function(name)
    assert fn.__doc__ and ">>>" in fn.__doc__ and getattr(am.metrics, name) is fn


@pytest.mark.parametrize(("name", "task"), CASES, ids=IDS)
def test_value_within_the_spec_range(name, task):
    lo, hi = am.metrics.spec(name).range
    for seed in range(5):
        preds, target = make(name, task, 25, seed)
        value = _value(name, task, preds, target)
        if value is am.UndefinedMetricError or isinstance(value, tuple):  # curves hold thresholds too
            continue
        for leaf in leaves(value):
            arr = np.asarray(leaf, dtype=np.float64)
            arr = arr[~np.isnan(arr)]
            assert np.all(arr >= lo - 1e-12) and np.all(arr <= hi + 1e-12), (name, value)


@pytest.mark.parametrize(("name", "task"), [c for c in CASES if am.metrics.spec(c[0]).differentiable],
                         ids=[i for c, i in zip(CASES, IDS) if am.metrics.spec(c[0]).differentiable])
def test_differentiable_metrics_backpropagate(name, task):
    preds, target = make(name, task, 20, 0)
    preds = torch.tensor(preds, dtype=torch.float64).clamp(0.05, 0.95 if task != "regression" else math.inf)
    preds.requires_grad_(True)
    value = function(name)(preds, torch.as_tensor(target), **keywords(name, task))
    value.backward()
    assert preds.grad is not None and torch.isfinite(preds.grad).all()


@pytest.mark.parametrize(("name", "task"), CASES, ids=IDS)
def test_empty_input_raises(name, task):
    preds, target = make(name, task, 3, 0)
    with pytest.raises(ShapeError):
        function(name)(preds[:0], target[:0], **keywords(name, task))


@pytest.mark.parametrize("name", am.metrics.names())
def test_compute_before_update_raises(name):
    with pytest.raises(am.UndefinedMetricError):
        am.metrics.get(name).compute()
    assert am.metrics.get(name).state_dict() == {}


INVALID = {"task": "nonsense", "num_classes": 0, "num_labels": 0, "average": "mean", "threshold": 2.0,
           "from_logits": "yes", "ignore_index": 1.5, "zero_division": 5.0, "top_k": 0, "beta": -1.0,
           "normalize": "rows", "adjusted": "yes", "weights": "cubic", "fallback": "x", "n_bins": 0, "norm": "l3"}


@pytest.mark.parametrize("name", am.metrics.names())
def test_invalid_parameter_values_raise_at_construction(name):
    params = [p for p in am.metrics.spec(name).params if p in INVALID]
    for param in params:
        with pytest.raises(ConfigError, match=param):
            am.metrics.get(name, **{param: INVALID[param]})


@pytest.mark.parametrize("name", [n for n in am.metrics.names() if am.metrics.spec(n).differentiable])
def test_every_differentiable_metric_passes_gradcheck(name):
    g = torch.Generator().manual_seed(0)
    if "regression" in am.metrics.spec(name).tasks:
        preds = torch.rand(8, 2, dtype=torch.float64, generator=g).requires_grad_()
        target = (torch.rand(8, 2, dtype=torch.float64, generator=g) + 0.5).requires_grad_()
        assert torch.autograd.gradcheck(function(name), (preds, target))
        return
    # classification: gradients reach the predicted probabilities, multiclass and binary
    probs = torch.softmax(torch.randn(8, 3, dtype=torch.float64, generator=g), 1).requires_grad_()
    labels = torch.randint(0, 3, (8,), generator=g)
    assert torch.autograd.gradcheck(lambda p: function(name)(p, labels), (probs,))
    binary = torch.rand(8, dtype=torch.float64, generator=g).requires_grad_()
    assert torch.autograd.gradcheck(lambda p: function(name)(p, labels % 2), (binary,))


LOGIT_CASES = [(n, t) for n, t in CASES if "from_logits" in am.metrics.spec(n).params and t != "regression"]


@pytest.mark.parametrize(("name", "task"), LOGIT_CASES, ids=[f"{n}-{t}" for n, t in LOGIT_CASES])
def test_from_logits_equals_the_probabilities(name, task):
    preds, target = make(name, task, 40, 7)
    if not np.issubdtype(preds.dtype, np.floating):  # label metrics: draw scores of the same shape
        shape = (40, 3) if task == "multiclass" else preds.shape
        preds = np.random.default_rng(7).random(shape)
    logits = torch.as_tensor(np.random.default_rng(8).normal(0, 2, preds.shape))
    probs = torch.softmax(logits, 1) if task == "multiclass" else torch.sigmoid(logits)
    kw = keywords(name, task)
    via_logits = value_or_error(function(name), logits, torch.as_tensor(target), from_logits=True, **kw)
    via_probs = value_or_error(function(name), probs, torch.as_tensor(target), **kw)
    if isinstance(via_logits, tuple):  # curves: thresholds are on the logit scale; the rates must agree
        via_logits, via_probs = via_logits[:2], via_probs[:2]
    assert_close(via_logits, via_probs, rtol=1e-9, atol=1e-12)
