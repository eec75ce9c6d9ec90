"""The activation bench suite at a tiny scale: every case runs and gives rows (no timing assertions)."""

from __future__ import annotations

import pytest
import torch

from almanac import activations as act
from almanac.bench import activations as suite
from almanac.bench.harness import run


@pytest.fixture(autouse=True)
def _no_compile(monkeypatch):
    """The compiled peers are left out here: compiling takes seconds per case."""
    monkeypatch.setenv("ALMANAC_BENCH_COMPILE", "0")


def test_every_activation_has_a_case_and_rows_come_out():
    cases = suite.cases(0.001)
    names = {c.name for c in cases}
    assert set(act.names()) <= names | {"silu_beta"}
    cheap = [c for c in cases if c.name in {"relu", "prelu", "silu_beta", "sparsemax"}]
    rows = run(cheap, rounds=1, min_seconds=0.0)
    assert {r.case for r in rows} == {"relu", "prelu", "silu_beta", "sparsemax"}
    for r in rows:
        assert r.ours_ms > 0 and r.peer_ms > 0 and r.ratio > 0 and r.target
        assert r.ours_saved is not None and r.peer_saved is not None
    assert any("ALMANAC_BENCH_COMPILE=0" in note for c in cases for note in c.notes)


def test_custom_functions_keep_at_most_the_input_and_the_naive_peers_more():
    cases = [c for c in suite.cases(0.001) if c.name.split(" (")[0] in {"swiglu", "geglu", "silu_beta"}
             and "forward" not in c.name]
    assert {c.shape for c in cases if c.name.startswith("swiglu")} == {"(4, 2·1024) f32", "(4, 2·4096) f32",
                                                                        "(4, 2·4096) bf16"}
    rows = run(cases, rounds=1, min_seconds=0.0)
    for r in rows:
        rows_, width = (int(v) for v in r.shape.split(")")[0].strip("(").replace("2·", "").split(", "))
        itemsize = 2 if "bf16" in r.shape else 4
        x_bytes = rows_ * width * itemsize * (1 if r.case == "silu_beta" else 2)
        assert r.ours_saved == x_bytes < r.peer_saved


def test_gated_units_are_timed_forward_alone_and_compiled():
    names = {c.name for c in suite.cases(0.001)}
    assert {"swiglu (forward)", "geglu (forward)"} <= names  # the compiled cases need ALMANAC_BENCH_COMPILE


def test_naive_composites_agree_with_the_library():
    x = torch.randn(6, 50, dtype=torch.float64, requires_grad=True)
    for ours, naive in ((act.sparsemax, suite.sparsemax_composite), (act.entmax15, suite.entmax15_composite)):
        y, z = ours(x), naive(x)
        torch.testing.assert_close(y, z)
        g = torch.randn_like(y)
        torch.testing.assert_close(torch.autograd.grad(y, x, g)[0], torch.autograd.grad(z, x, g)[0])

