"""The loss bench suite at a tiny scale: every case runs and gives rows (no timing assertions)."""

from __future__ import annotations

import torch

from almanac import losses as L
from almanac.bench import losses as suite
from almanac.bench.harness import run


def test_every_case_gives_rows_with_targets():
    cases = suite.cases(0.0005, compile=False)
    assert {c.name for c in cases} == {"focal", "dice", "jaccard", "tversky", "cross_entropy", "log_cosh",
                                       "quantile", "hinge", "validation: bce", "validation: cross_entropy",
                                       "validation: focal"}
    rows = run(cases, rounds=1, min_seconds=0.0)
    assert len(rows) == sum(len(c.contenders) - 1 for c in cases)
    for r in rows:
        assert r.ours_ms > 0 and r.peer_ms > 0 and r.ratio > 0
        assert r.ours_saved is not None and r.peer_saved is not None
    focal_vs_bce = next(r for r in rows if r.case == "focal" and r.peer == "bce_with_logits")
    assert focal_vs_bce.target and focal_vs_bce.ours_saved <= focal_vs_bce.peer_saved / 2


def test_the_peers_compute_the_same_losses():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, dtype=torch.float64, generator=g) * 3
    t = (torch.rand(500, generator=g) < 0.2).double()
    torch.testing.assert_close(suite.torchvision_focal(x, t), L.focal(x, t, alpha=suite.ALPHA, gamma=suite.GAMMA))
    scores = torch.randn(1, 3, 40, dtype=torch.float64, generator=g)  # one sample: batch sums = per-sample sums
    labels = torch.arange(40).remainder(3).unsqueeze(0)
    for kind, ours, params in (("dice", L.dice, {}), ("jaccard", L.jaccard, {}),
                               ("tversky", L.tversky, {"alpha": 0.3, "beta": 0.7})):
        torch.testing.assert_close(suite.smp_style(kind)(scores, labels),
                                   ours(scores, labels, task="multiclass", smooth=0.0, **params))


def test_validation_cases_race_torch_nn_and_the_unvalidated_loss():
    cases = suite._validation_cases("cpu")
    assert [c.name for c in cases] == ["validation: bce", "validation: cross_entropy", "validation: focal"]
    rows = run(cases, rounds=1, min_seconds=0.0)
    assert {r.peer for r in rows} == {"torch.nn.BCEWithLogitsLoss", "torch.nn.CrossEntropyLoss",
                                      "torchvision-style", "almanac validate=False"}
    assert all(r.ratio > 0 for r in rows)


def test_compiled_cases_put_compiled_almanac_against_the_compiled_composite(monkeypatch):
    monkeypatch.setattr(suite, "_compiled", lambda fn, *args: fn)  # no inductor in the unit test: the rows' shape
    cases = [c for c in suite.cases(0.0005) if c.name.endswith("(compiled)")]
    assert [c.name for c in cases] == [f"{n} (compiled)" for n in ("focal", "dice", "tversky", "log_cosh",
                                                                   "quantile", "hinge")]
    assert all(c.contenders[1].target == "≤ 1.0×" for c in cases)
