"""The custom autograd functions: sparse maps on the simplex, their threshold search, saved memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from activation_cases import entmax15_ref, sparsemax_ref
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from almanac import activations as act
from almanac.activations import _autograd
from almanac.bench.harness import saved_bytes

SPARSE = {"sparsemax": (act.sparsemax, sparsemax_ref), "entmax15": (act.entmax15, entmax15_ref)}
_rows = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 40)),
               elements=st.floats(-1e4, 1e4, allow_nan=False, width=64))


@pytest.mark.parametrize("name", SPARSE)
@given(x=_rows)
def test_sparse_maps_land_on_the_simplex_and_match_the_reference(name: str, x: np.ndarray):
    function, reference = SPARSE[name]
    for dtype, atol in ((torch.float64, 1e-9), (torch.float32, 1e-4)):
        y = function(torch.from_numpy(x).to(dtype))
        assert (y >= 0).all()
        torch.testing.assert_close(y.sum(-1), torch.ones(x.shape[0], dtype=dtype), rtol=0, atol=atol)
        np.testing.assert_allclose(y.double().numpy(), reference(x), atol=atol * 10)


@pytest.mark.parametrize("name", SPARSE)
@pytest.mark.parametrize("width", [5, 16, 17, 200, 1000])
def test_threshold_search_is_exact_whatever_the_support_size(name: str, width: int, monkeypatch):
    """Equal logits put every entry in the support: the top-k search must widen to the full sort."""
    function, reference = SPARSE[name]
    rng = np.random.default_rng(width)
    x = np.concatenate([np.zeros((1, width)), rng.standard_normal((3, width)) * [[0.01], [1], [30]]])
    for first_k in (2, 16):
        monkeypatch.setattr(_autograd, "_FIRST_K", first_k)
        np.testing.assert_allclose(function(torch.from_numpy(x)).numpy(), reference(x), atol=1e-12)


@pytest.mark.parametrize("name", ["silu_beta", "swiglu", "geglu", "sparsemax", "entmax15"])
def test_custom_functions_keep_no_more_than_the_input(name: str):
    x = torch.randn(256, 64, requires_grad=True)
    run = {
        "silu_beta": lambda: act.silu(x, beta=1.7),
        "swiglu": lambda: act.swiglu(x),
        "geglu": lambda: act.geglu(x),
        "sparsemax": lambda: act.sparsemax(x),
        "entmax15": lambda: act.entmax15(x),
    }[name]
    assert saved_bytes(run) == x.untyped_storage().nbytes()


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gated_units_along_any_dim_match_the_composite(dim: int):
    x = torch.randn(4, 6, 8, dtype=torch.float64, requires_grad=True)
    a, b = x.chunk(2, dim)
    for ours, composite in ((act.swiglu, torch.nn.functional.silu(a) * b),
                            (act.geglu, torch.nn.functional.gelu(a) * b)):
        y = ours(x, dim=dim)
        torch.testing.assert_close(y, composite)
        g = torch.randn_like(y)
        torch.testing.assert_close(torch.autograd.grad(y, x, g)[0],
                                   torch.autograd.grad(composite, x, g, retain_graph=True)[0])


def test_silu_beta_tensor_keeps_the_dtype_of_the_input():
    x = torch.randn(4, 3, dtype=torch.bfloat16, requires_grad=True)
    beta = torch.full((3,), 1.5, requires_grad=True)  # float32, per feature
    y = act.silu(x, beta=beta)
    assert y.dtype == torch.bfloat16
    y.sum().backward()
    assert x.grad.dtype == torch.bfloat16 and beta.grad.dtype == torch.float32 and beta.grad.shape == (3,)


@pytest.mark.parametrize("name", SPARSE)
@pytest.mark.parametrize("shape", [(100,), (3, 2, 100)])
def test_threshold_search_widens_for_some_rows_of_any_rank(name: str, shape: tuple[int, ...]):
    function, reference = SPARSE[name]
    x = np.random.default_rng(0).standard_normal(shape) * 0.01  # almost equal: long supports
    x.reshape(-1, 100)[0] *= 1000  # one row with a short one
    np.testing.assert_allclose(function(torch.from_numpy(x)).numpy(), reference(x), atol=1e-12)
