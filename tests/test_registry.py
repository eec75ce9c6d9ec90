import math

import pytest

from almanac.errors import ConfigError, UnknownNameError
from almanac.registry import ActivationSpec, LossSpec, MetricSpec, Registry, normalize_name


def _registry():
    reg = Registry("activation", ActivationSpec, default_factory=lambda name, **p: (name, p))
    facts = dict(summary="s", formula="f", output_range=(0.0, math.inf), monotonic=True, smooth=False,
                 zero_centered=False, placement={"hidden"}, saves_for_backward="output")

    @reg.register(aliases=("rectifier",), **facts)
    def relu(x):
        return x

    @reg.register(factory_params=("learnable",), **facts)
    def silu(x, *, beta=1.0):
        return x

    return reg


def test_spec_name_and_params_come_from_the_function():
    reg = _registry()
    assert reg.names() == ["relu", "silu"]
    assert reg.spec("silu").params == {"beta": 1.0}
    assert reg.spec("relu").family == "activation"
    assert reg.spec("relu").placement == frozenset({"hidden"})


def test_aliases_and_spellings_resolve_to_the_canonical_name():
    reg = _registry()
    assert reg.resolve("rectifier") == "relu"
    assert reg.resolve("ReLU") == "relu"
    assert reg.spec("rectifier").name == "relu"
    assert "rectifier" in reg and "gelu" not in reg


def test_unknown_name_lists_the_closest_names():
    with pytest.raises(UnknownNameError, match="did you mean 'relu'") as info:
        _registry().spec("rlu")
    assert isinstance(info.value, KeyError)


def test_get_passes_declared_params_and_refuses_others():
    reg = _registry()
    assert reg.get("silu", beta=2.0, learnable=True) == ("silu", {"beta": 2.0, "learnable": True})
    with pytest.raises(ConfigError, match="among"):
        reg.get("relu", beta=2.0)


def test_specs_are_frozen_and_params_read_only():
    spec = _registry().spec("silu")
    with pytest.raises(AttributeError):
        spec.name = "x"
    with pytest.raises(TypeError):
        spec.params["beta"] = 3.0


def test_duplicate_names_and_bad_facts_are_refused():
    reg = _registry()
    with pytest.raises(ConfigError, match="twice"):
        reg.add(reg.spec("relu"), lambda x: x)
    with pytest.raises(ConfigError, match="expects"):
        LossSpec(name="l", family="loss", summary="", formula="", expects="nonsense", target="real",
                 tasks=("regression",), normalization="none")
    with pytest.raises(ConfigError, match="normalization"):
        LossSpec(name="l", family="loss", summary="", formula="", expects="logits", target="real",
                 tasks=("regression",), normalization="tanh")
    with pytest.raises(ConfigError, match="task"):
        LossSpec(name="l", family="loss", summary="", formula="", expects="logits", target="binary",
                 tasks=("binary",), normalization={"binary": "sigmoid"})


def test_loss_normalization_follows_task_and_from_logits():
    from almanac import losses

    assert losses.spec("cross_entropy").normalization_for() == "softmax"
    assert losses.spec("dice").normalization_for({"task": "multiclass"}) == "softmax"
    assert losses.spec("dice").normalization_for({"task": "binary"}) == "sigmoid"
    assert losses.spec("lovasz").normalization_for({"task": "binary"}) == "margin"
    assert losses.spec("focal").normalization_for({"from_logits": False}) == "none"
    assert losses.spec("poisson_nll").normalization_for({"log_input": False}) == "none"
    assert losses.spec("hinge").normalization_for() == "margin"
    with pytest.raises(ConfigError, match="tasks"):
        MetricSpec(name="m", family="metric", summary="", formula="", tasks=("ranking",), needs="labels",
                   higher_is_better=True)


def test_normalize_name():
    assert normalize_name(" Leaky-ReLU ") == "leaky_relu"
