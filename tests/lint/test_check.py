"""am.lint.check: the model is left as it was, the report's format, the argument checks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import almanac as am
from almanac.lint import RULES, Finding, Report


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))


@pytest.mark.parametrize("training", [True, False])
def test_check_leaves_parameters_buffers_grads_modes_and_rng_unchanged(training: bool) -> None:
    model = _model()
    model.train(training)
    model[4].weight.grad = torch.ones_like(model[4].weight)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(32, 6), torch.arange(32) % 3
    rng = torch.get_rng_state()
    report = am.lint.check(model, nn.CrossEntropyLoss(), inputs=x, target=y)
    assert report.ok
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert torch.equal(model[4].weight.grad, torch.ones_like(model[4].weight))
    assert model[0].weight.grad is None
    assert all(m.training == training for m in model.modules())
    assert torch.equal(torch.get_rng_state(), rng)


def test_check_leaves_the_model_unchanged_without_inputs() -> None:
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    am.lint.check(model, nn.CrossEntropyLoss())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training


def test_report_prints_one_finding_a_line_and_orders_errors_first() -> None:
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3), nn.Softmax(dim=1))
    report = am.lint.check(model, nn.CrossEntropyLoss())
    assert report.codes == ["AL001", "AL006"]
    lines = str(report).splitlines()
    assert lines[0].startswith("2: error AL001: double softmax")
    assert lines[1].startswith("1: warning AL006:")
    assert lines[-1] == "1 error, 1 warning"
    assert not report.ok


def test_findings_carry_the_rule_severity() -> None:
    for code, rule in RULES.items():
        assert rule.severity in ("error", "warning", "info")
        assert code.startswith("AL")
    assert Report([Finding("AL014", "warning", "m", "h", "x")]).ok


def test_functional_softmax_inside_a_submodule_is_seen() -> None:
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            return F.log_softmax(self.fc(x), dim=-1)

    model = nn.Sequential(nn.Linear(5, 8), nn.GELU(), Head())
    report = am.lint.check(model, "cross_entropy")
    assert report.codes == ["AL001"]
    assert report.findings[0].where == "2"


def test_loss_names_resolve_through_almanac_and_torch() -> None:
    model = nn.Sequential(nn.Linear(5, 1), nn.Sigmoid())
    assert am.lint.check(model, "BCEWithLogitsLoss").codes == ["AL002"]
    assert am.lint.check(model, "bce").codes == ["AL002"]
    with pytest.raises(am.UnknownNameError):
        am.lint.check(model, "cross_entropi")


def test_custom_loss_callable_is_identified_on_a_dry_run_only_when_it_wraps_one_torch_loss() -> None:
    model = nn.Sequential(nn.Linear(5, 3), nn.Softmax(dim=1))
    assert am.lint.check(model, lambda out, y: (out - y).abs().mean()).findings == []
    assert am.lint.check(model, lambda out, y: F.cross_entropy(out, y)).codes == ["AL001"]
    sigmoid = nn.Sequential(nn.Linear(5, 1), nn.Sigmoid())
    assert am.lint.check(sigmoid, lambda out, y: F.binary_cross_entropy_with_logits(out, y)).codes == ["AL002"]


def test_custom_loss_is_judged_on_what_reaches_each_torch_loss() -> None:
    model = nn.Sequential(nn.Linear(5, 3), nn.Softmax(dim=1))
    x, y = torch.randn(8, 5), torch.arange(8) % 3
    assert am.lint.check(model, lambda out, t: F.cross_entropy(out, t), inputs=x, target=y).codes == ["AL001"]
    transformed = am.lint.check(model, lambda out, t: F.nll_loss(torch.log(out), t), inputs=x, target=y)
    assert transformed.findings == []
    mixed = am.lint.check(model, lambda out, t: F.cross_entropy(out, t) + F.mse_loss(out, out.detach()),
                          inputs=x, target=y)
    assert mixed.codes == ["AL001"]  # each PyTorch loss the callable calls is judged on what reaches it


def test_loss_class_is_accepted_for_its_object() -> None:
    model = nn.Sequential(nn.Linear(5, 3), nn.Softmax(dim=1))
    assert am.lint.check(model, nn.CrossEntropyLoss).codes == ["AL001"]


def test_model_without_a_readable_input_size_gets_no_static_findings() -> None:
    class Opaque(nn.Module):
        def forward(self, x):
            return torch.softmax(x, dim=1)

    assert am.lint.check(Opaque(), nn.CrossEntropyLoss()).findings == []
    assert am.lint.check(Opaque(), nn.CrossEntropyLoss(), inputs=torch.randn(4, 3)).codes == ["AL001"]


def test_bad_arguments_raise_almanac_errors() -> None:
    with pytest.raises(am.ConfigError):
        am.lint.check(nn.Linear, nn.MSELoss())
    with pytest.raises(am.ConfigError):
        am.lint.check(nn.Linear(2, 1), task="ranking")
    rows = am.lint.check(nn.Linear(2, 1), nn.MSELoss(), inputs=torch.randn(4, 2), target=torch.randn(5, 1))
    assert rows.codes == ["AL010"] and "RuntimeError" in str(rows)  # the loss raises: a finding, not a crash
    with pytest.raises(am.ShapeError):
        am.lint.check(nn.Linear(2, 1), nn.MSELoss(), inputs=torch.randn(4, 3), target=torch.randn(4, 1))
    with pytest.raises(am.ConfigError):
        am.lint.check(nn.Linear(2, 1), loss=3)


def test_model_whose_forward_rejects_every_dry_run_input_is_left_alone() -> None:
    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, batch):
            return torch.softmax(self.fc(batch["x"]), dim=1)

    model = TwoInputs()
    assert am.lint.check(model, nn.CrossEntropyLoss()).findings == []


def test_buffers_reassigned_in_forward_are_put_back() -> None:
    class Counting(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.register_buffer("seen", torch.zeros(()), persistent=False)

        def forward(self, x):
            self.seen = self.seen + x.shape[0]
            return self.fc(x)

    model = Counting()
    buffer = model.seen
    am.lint.check(model, nn.CrossEntropyLoss(), inputs=torch.randn(4, 3), target=torch.tensor([0, 1, 0, 1]))
    assert model.seen is buffer and float(model.seen) == 0.0
