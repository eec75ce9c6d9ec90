"""The metrics bench suite runs at a tiny scale, and its contenders agree on the values."""

from __future__ import annotations

import numpy as np
import pytest

from almanac.bench import SUITES
from almanac.bench import metrics as suite
from almanac.bench.harness import run


@pytest.fixture(scope="module")
def cases():
    return suite.cases(0.0001)


def test_suite_is_listed():
    assert "metrics" in SUITES


def test_rows_for_every_case_and_peer(cases):
    rows = run(cases, rounds=1, min_seconds=0.0)
    names = {c.name for c in cases}
    assert names == {"auroc", "average_precision", "auroc_1e3", "average_precision_1e3", "accuracy", "f1_macro",
                     "matthews_corrcoef", "mse", "r2", "mae", "forward_256", "update_256"}
    assert len(rows) == sum(len(c.contenders) - 1 for c in cases)
    assert all(r.ours_ms > 0 and r.peer_ms > 0 and r.target for r in rows)


def test_contenders_compute_the_same_value(cases):
    for case in cases:
        values = [c.fn() for c in case.contenders]
        if all(v is None for v in values):  # update_256: work without a value
            continue
        values = [np.asarray(v, dtype=np.float64) for v in values]
        for peer, value in zip(case.contenders[1:], values[1:]):
            assert abs(float(values[0]) - float(value)) <= 1e-5, (case.name, peer.label)
