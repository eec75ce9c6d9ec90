"""The lint bench suite at a tiny scale: the case runs and gives a row (no timing assertion)."""

from __future__ import annotations

from almanac.bench import SUITES
from almanac.bench import lint as suite
from almanac.bench.harness import run


def test_lint_suite_is_registered_and_gives_a_row():
    assert "lint" in SUITES
    rows = run(suite.cases(0.0005), rounds=1, min_seconds=0.0)
    assert [(r.case, r.peer, r.target) for r in rows] == [("check_resnet18", "training step", "≤ 3×")]
    assert rows[0].ratio > 0


def test_resnet18_has_the_reference_size():
    model = suite.resnet18(1000)
    assert sum(p.numel() for p in model.parameters()) == 11_689_512 - 9408 + 1728  # torchvision's, 3×3 stem
