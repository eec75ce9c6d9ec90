"""Generic tests over the table of every loss (tests/losses/conftest.py)."""

import pickle

import pytest
import torch
from loss_table import API_NAMES, EXAMPLES, N

import almanac as am
from almanac.errors import ConfigError, ShapeError, UnknownNameError
from almanac.registry import LOSS_EXPECTS, LOSS_TARGETS, TASKS

PER_SAMPLE_WEIGHT = sorted(set(EXAMPLES) - {"gradient_penalty"})  # its `coefficient` is the penalty λ (api.md)


def _call(name, reduction="mean", **extra):
    ex = EXAMPLES[name]
    kwargs = {**ex.kwargs, **extra}
    if "generator" in kwargs:  # the same interpolates in every call
        kwargs["generator"] = torch.Generator().manual_seed(5)
    return getattr(am.losses, name)(*ex.make(), **kwargs, reduction=reduction)


def test_every_api_loss_is_registered_and_exported():
    assert sorted(API_NAMES) == am.losses.names()
    for name in API_NAMES:
        assert callable(getattr(am.losses, name))
        assert am.losses.REGISTRY.function(name) is getattr(am.losses, name)
    assert set(EXAMPLES) == set(API_NAMES)


ALIASES = [("iou", "jaccard"), ("bce", "binary_cross_entropy"), ("ce", "cross_entropy"), ("l1", "mae"),
           ("l2", "mse"), ("pinball", "quantile"), ("wgan_gp", "gradient_penalty"), ("Focal-Loss", "focal")]


@pytest.mark.parametrize(("alias", "name"), ALIASES)
def test_aliases(alias, name):
    assert am.losses.spec(alias).name == name


def test_unknown_name_suggests():
    with pytest.raises(UnknownNameError, match="dice"):
        am.losses.get("dise")


def test_spec_facts(loss_name):
    spec = am.losses.spec(loss_name)
    assert spec.family == "loss" and spec.summary and spec.formula and spec.references
    assert spec.expects in LOSS_EXPECTS and spec.target in LOSS_TARGETS
    assert spec.tasks and set(spec.tasks) <= set(TASKS)
    assert spec.params["reduction"] == "mean"
    fn = getattr(am.losses, loss_name)
    assert fn.__doc__ and ">>>" in fn.__doc__


def test_spec_facts_are_true():
    spec = am.losses.spec
    assert spec("huber").robust_to_outliers and not spec("mse").robust_to_outliers
    assert spec("focal").for_imbalance and spec("dice").for_imbalance and not spec("cross_entropy").for_imbalance
    assert spec("cross_entropy").expects == "logits" and spec("mse").expects == "values"
    assert spec("wasserstein").expects == "critic_scores" and spec("dice").target == "mask"
    assert spec("kl_div").target == "soft_labels" and spec("cross_entropy").target == "class_indices"


def test_gradcheck(loss_name):
    ex = EXAMPLES[loss_name]
    fn = getattr(am.losses, loss_name)
    args = list(ex.make())
    if not ex.diff:  # gradient_penalty: gradcheck the penalty as a function of the critic's parameters
        critic, real, fake = args
        names = [n for n, _ in critic.named_parameters()]

        def penalty(*params):
            def call(x):
                return torch.func.functional_call(critic, dict(zip(names, params)), (x,))
            return fn(call, real, fake, generator=torch.Generator().manual_seed(5))

        params = tuple(p.detach().clone().requires_grad_(True) for p in critic.parameters())
        assert torch.autograd.gradcheck(penalty, params)
        return
    for i in ex.diff:
        args[i] = args[i].clone().requires_grad_(True)

    for reduction in ("mean", "none"):
        def f(*diff_args, reduction=reduction):
            full = list(args)
            for i, a in zip(ex.diff, diff_args):
                full[i] = a
            return fn(*full, **ex.kwargs, reduction=reduction)

        assert torch.autograd.gradcheck(f, tuple(args[i] for i in ex.diff))


def test_reductions_agree(loss_name):
    none = _call(loss_name, "none")
    total = _call(loss_name, "sum")
    mean = _call(loss_name, "mean")
    assert none.shape[0] == N
    torch.testing.assert_close(none.sum(), total)
    torch.testing.assert_close(mean, total / none.numel())


def test_bad_reduction_is_a_config_error(loss_name):
    with pytest.raises(ConfigError, match="reduction"):
        _call(loss_name, "avg")
    with pytest.raises(ConfigError):
        am.losses.get(loss_name, reduction="avg")


@pytest.mark.parametrize("name", PER_SAMPLE_WEIGHT)
def test_per_sample_weight(name):
    ones = torch.ones(N, dtype=torch.float64)
    torch.testing.assert_close(_call(name, sample_weight=ones), _call(name))
    w = torch.arange(N, dtype=torch.float64)
    none = _call(name, "none")
    per_sample = none.reshape(N, -1).sum(1)
    torch.testing.assert_close(_call(name, "sum", sample_weight=w), (w * per_sample).sum())
    torch.testing.assert_close(_call(name, "mean", sample_weight=w),
                               (w * per_sample).sum() / (w.sum() * none[0].numel()))
    assert float(_call(name, "mean", sample_weight=torch.zeros(N, dtype=torch.float64))) == 0.0
    with pytest.raises(ShapeError, match="one weight per sample"):
        _call(name, sample_weight=torch.ones(N + 1, dtype=torch.float64))


def test_batch_split_equals_whole(loss_name):
    if loss_name == "gradient_penalty":
        pytest.skip("random interpolates")
    ex = EXAMPLES[loss_name]
    fn = getattr(am.losses, loss_name)
    args = ex.make()
    whole = fn(*args, **ex.kwargs, reduction="sum")
    parts = sum(fn(*[a[:2] for a in args], **ex.kwargs, reduction="sum")
                + fn(*[a[2:] for a in args], **ex.kwargs, reduction="sum") for _ in [0])
    torch.testing.assert_close(parts, whole)


def test_module_equals_function_and_pickles(loss_name):
    ex = EXAMPLES[loss_name]
    kwargs = {k: v for k, v in ex.kwargs.items() if k != "generator"}
    module = am.losses.get(loss_name, **kwargs)
    assert isinstance(module, torch.nn.Module)
    if loss_name != "gradient_penalty":
        args = ex.make()
        torch.testing.assert_close(module(*args), getattr(am.losses, loss_name)(*args, **kwargs))
        assert pickle.loads(pickle.dumps(module)).params == module.params


def test_get_validates_hyperparameters_at_construction():
    for name, params in [("huber", {"delta": 0}), ("focal", {"gamma": -1}), ("focal", {"task": "multi"}),
                         ("tversky", {"alpha": -0.1}), ("quantile", {"q": 1.5}), ("cross_entropy",
                                                                                {"label_smoothing": 2.0}),
                         ("multiclass_hinge", {"kind": "ovr"}), ("dice", {"smooth": -1.0}),
                         ("binary_cross_entropy", {"pos_weight": -2.0}), ("focal", {"alpha": 1.5}),
                         ("cross_entropy", {"class_weight": [1.0, -1.0]})]:
        with pytest.raises(ConfigError):
            am.losses.get(name, **params)
    with pytest.raises(ConfigError, match="among"):
        am.losses.get("mse", delta=1.0)


def test_tensor_hyperparameters_are_buffers():
    module = am.losses.get("cross_entropy", class_weight=torch.tensor([1.0, 2.0]))
    assert "class_weight" in dict(module.named_buffers())
    assert module(torch.randn(3, 2), torch.tensor([0, 1, 1])).ndim == 0


def test_module_takes_a_batch_weight_and_knows_its_spec():
    module = am.losses.get("bce", pos_weight=2.0)
    x, t = torch.randn(4), torch.ones(4)
    w = torch.tensor([1.0, 0.0, 2.0, 1.0])
    torch.testing.assert_close(module(x, t, sample_weight=w),
                               am.losses.binary_cross_entropy(x, t, pos_weight=2.0, sample_weight=w))
    assert module.spec.name == "binary_cross_entropy" and "pos_weight=2.0" in repr(module)


def test_float32_agrees_with_float64(loss_name):
    if loss_name == "gradient_penalty":
        pytest.skip("its critic is float64")
    ex = EXAMPLES[loss_name]
    fn = getattr(am.losses, loss_name)
    args = ex.make()
    single = [a.float() if a.is_floating_point() else a for a in args]
    torch.testing.assert_close(fn(*single, **ex.kwargs, reduction="none").double(),
                               fn(*args, **ex.kwargs, reduction="none"), rtol=1e-4, atol=1e-5)


def test_weight_keyword_is_refused_naming_both_weights(loss_name):
    """PyTorch's ``weight=`` is a class weight; here it is refused, by the function and by the module (issue 10)."""
    ex = EXAMPLES[loss_name]
    for call in (lambda **kw: getattr(am.losses, loss_name)(*ex.make(), **ex.kwargs, **kw),
                 lambda **kw: am.losses.get(loss_name, **kw),
                 lambda **kw: am.losses.get(loss_name)(*ex.make(), **kw)):
        with pytest.raises(ConfigError, match=r"class_weight.*sample_weight"):
            call(weight=torch.ones(N, dtype=torch.float64))


def test_cross_entropy_weight_with_as_many_samples_as_classes_is_not_silently_a_sample_weight():
    x, y = torch.randn(3, 3), torch.tensor([0, 1, 2])
    with pytest.raises(ConfigError, match="class_weight"):
        am.losses.cross_entropy(x, y, weight=torch.tensor([1.0, 2.0, 3.0]))
    w = torch.tensor([1.0, 2.0, 3.0])
    torch.testing.assert_close(am.losses.cross_entropy(x, y, class_weight=w),
                               torch.nn.functional.cross_entropy(x, y, weight=w))
