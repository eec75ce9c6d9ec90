"""What every function of the three catalogs owes its users, whatever its family."""

import pytest

import almanac as am
from almanac.registry import ActivationSpec, LossSpec, MetricSpec

FAMILIES = {"activation": (am.activations, ActivationSpec), "loss": (am.losses, LossSpec),
            "metric": (am.metrics, MetricSpec)}
ENTRIES = [(family, name) for family, (module, _) in FAMILIES.items() for name in module.names()]


@pytest.mark.parametrize(("family", "name"), ENTRIES)
def test_spec_is_complete_and_of_its_family(family, name):
    module, spec_type = FAMILIES[family]
    spec = module.spec(name)
    assert isinstance(spec, spec_type) and spec.family == family and spec.name == name
    assert spec.summary.strip() and spec.formula.strip(), "summary and formula are shown to users"
    assert spec.references, "every function cites where it comes from"
    for alias in spec.aliases:
        assert module.spec(alias) is spec


@pytest.mark.parametrize(("family", "name"), ENTRIES)
def test_pure_function_is_exported_and_documented_with_an_example(family, name):
    module, _ = FAMILIES[family]
    function = getattr(module, name)
    doc = function.__doc__ or ""
    assert ">>>" in doc, f"{family} {name} needs a runnable example in its docstring"


@pytest.mark.parametrize("family", FAMILIES)
def test_names_are_sorted_unique_and_unknown_names_suggest(family):
    module, _ = FAMILIES[family]
    names = module.names()
    assert names == sorted(set(names))
    with pytest.raises(am.UnknownNameError, match="did you mean"):
        module.spec(names[0][:-1] + "x")


def test_no_alias_is_a_canonical_name_of_its_own_family():
    for module, _ in FAMILIES.values():
        for name in module.names():
            for alias in module.spec(name).aliases:
                assert alias not in module.names()


# -- declared hyperparameter constraints (activations and losses) -------------------------------------------------

CONSTRAINED = {"activation": am.activations, "loss": am.losses}
BAD_PARAMS = [(family, name, param, value)
              for family, module in CONSTRAINED.items() for name in module.names()
              for param, rule in module.spec(name).constraints.items() for value in rule.invalid()]


@pytest.mark.parametrize("family", CONSTRAINED)
def test_every_hyperparameter_declares_its_constraint(family):
    module = CONSTRAINED[family]
    for name in module.names():
        spec = module.spec(name)
        assert set(spec.constraints) == set(spec.params), name
        for param, default in spec.params.items():  # the defaults satisfy their own constraints
            spec.constraints[param].check(default, param)


def _inputs(family, name):
    import torch

    if family == "activation":
        return (torch.randn(4, 8),)
    x = torch.randn(4, 3)
    return (torch.nn.Linear(3, 1), x, x) if name == "gradient_penalty" else (x, x)


@pytest.mark.parametrize(("family", "name", "param", "value"), BAD_PARAMS,
                         ids=[f"{f}-{n}-{p}-{v!r}" for f, n, p, v in BAD_PARAMS])
def test_an_invalid_hyperparameter_is_a_config_error_in_the_function_and_in_get(family, name, param, value):
    """Generic: every declared parameter of every activation and loss, fed values its constraint refuses."""
    module = CONSTRAINED[family]
    with pytest.raises(am.ConfigError, match=param):
        getattr(module, name)(*_inputs(family, name), **{param: value})
    with pytest.raises(am.ConfigError, match=param):
        module.get(name, **{param: value})


def test_rules_across_parameters_are_checked_too():
    with pytest.raises(am.ConfigError, match="alpha"):
        am.losses.get("tversky", alpha=0.0, beta=0.0)
    with pytest.raises(am.ConfigError, match="ignore_index"):
        am.losses.get("focal", ignore_index=0)
    with pytest.raises(am.ConfigError, match="alpha"):
        am.losses.get("focal", alpha=1.5)
    with pytest.raises(am.ConfigError, match="alpha"):
        am.losses.get("focal", task="multiclass", alpha=0.5)
