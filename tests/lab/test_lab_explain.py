"""almanac explain (almanac.lab.describe): text from specs, curves from functions, families from registries."""

import pytest

import almanac as am
from almanac.errors import ConfigError, UnknownNameError
from almanac.lab import describe as ex


def test_activation_text_and_plot(tmp_path):
    result = ex.explain(["gelu", "swish", "softmax"], out=tmp_path / "a.png")
    assert "gelu (activation)" in result.text and am.activations.spec("gelu").formula in result.text
    assert "silu (activation)" in result.text  # the alias resolves
    assert "not element by element" in result.text  # softmax: described, not drawn
    assert result.figure.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("name", [n for n in am.activations.names() if am.activations.spec(n).elementwise])
def test_every_elementwise_activation_is_drawn_with_its_derivative(name):
    result = ex.explain([name])  # prelu needs its slope: the module's default value is used
    assert "nothing to plot" not in result.text


def test_a_name_in_two_families_is_explained_in_both_and_a_prefix_picks_one():
    both = ex.lookup("mse")
    assert sorted(s.family for s in both) == ["loss", "metric"]
    assert [s.family for s in ex.lookup("loss:mse")] == ["loss"]
    assert [s.family for s in ex.lookup("metrics:mse")] == ["metric"]
    with pytest.raises(ConfigError):
        ex.lookup("optimizer:adam")


def test_unknown_name_lists_close_names_across_families():
    with pytest.raises(UnknownNameError, match="gelu"):
        ex.lookup("gelux")


@pytest.mark.parametrize("name", ["huber", "binary_cross_entropy", "cross_entropy", "focal", "dice", "wasserstein",
                                  "wasserstein_generator", "gaussian_nll", "kl_div", "hinge"])
def test_loss_curves_have_the_expected_gradient_sign(name):
    spec = am.losses.spec(name)
    function = getattr(am.losses, name)
    probe = ex._loss_probe(spec, function)
    values, grads = ex._loss_curve(probe, function)
    assert len(values) == len(probe.grid)
    if spec.expects != "critic_scores" and spec.target not in ("real", "soft_labels"):
        # a higher score for the true class never raises the loss
        assert max(grads) <= 1e-9


def test_regression_loss_gradient_matches_the_formula():
    probe = ex._loss_probe(am.losses.spec("mse"), am.losses.mse)
    values, grads = ex._loss_curve(probe, am.losses.mse)
    for z, v, g in zip(probe.grid.tolist(), values, grads):
        assert v == pytest.approx((z - 1) ** 2) and g == pytest.approx(2 * (z - 1))


def test_gradient_penalty_is_described_not_drawn():
    assert ex._loss_probe(am.losses.spec("gradient_penalty"), am.losses.gradient_penalty) is None


def test_metric_text_says_when_to_use_it_and_when_not():
    text = ex.explain(["accuracy", "average_precision"]).text
    assert "use it for:" in text and "not for:" in text and "imbalanced data" in text
    assert "range: [0, 1], higher is better" in text


def test_families_are_counted_from_the_registries():
    table = ex.families()
    assert f"activations ({len(am.activations.names())})" in table
    assert f"losses ({len(am.losses.names())})" in table and f"metrics ({len(am.metrics.names())})" in table
    differentiable = sum(am.metrics.spec(n).differentiable for n in am.metrics.names())
    assert f"{differentiable} of {len(am.metrics.names())}" in table
