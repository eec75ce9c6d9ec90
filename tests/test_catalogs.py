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
