"""torch.compile(fullgraph=True) of every activation, forward and backward, equal to eager (issue 10).

Registry-driven: the table covers every registered activation. Backend "aot_eager" for all (cheap: no code
generation), "inductor" on a sample. dynamic=False and one small input per case keep the cost bounded.
"""

from __future__ import annotations

import pytest
import torch
import torch._dynamo
from activation_cases import CASES, Case

import almanac as am

# Feature sizes from 2 to 4096, spread over the cases; sparsemax / entmax15 also past 16 (their top-k search).
DIMS = (2, 16, 24, 130, 512, 4096)
SIZED = [(case, DIMS[i % len(DIMS)]) for i, case in enumerate(CASES)]
SIZED += [(case, d) for case in CASES if case.name in ("sparsemax", "entmax15") and case.dim == -1 for d in (8, 4096)]
INDUCTOR_SAMPLE = ("sparsemax", "mish", "swiglu")


def _run(case: Case, d: int, backend: str) -> None:
    g = torch.Generator().manual_seed(d)
    x = (torch.randn(4, d, generator=g) * 3).requires_grad_(True)
    params = case.params_for(x)
    fn = getattr(am.activations, case.name)
    grad = torch.randn(x.shape if case.name not in ("glu", "swiglu", "geglu") else fn(x.detach(), **params).shape,
                       generator=g)

    torch._dynamo.reset()
    compiled = torch.compile(lambda x: fn(x, **params), backend=backend, fullgraph=True, dynamic=False)
    y = compiled(x)
    (gx,) = torch.autograd.grad(y, x, grad)  # the backward graph aot_autograd compiled with the forward
    y_ref = fn(x, **params)
    (gx_ref,) = torch.autograd.grad(y_ref, x, grad)
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(gx, gx_ref, rtol=1e-5, atol=1e-5)
    assert y.dtype == x.dtype


def test_the_compile_table_covers_every_activation():
    assert {case.name for case, _ in SIZED} == set(am.activations.names())
    assert {d for _, d in SIZED} >= set(DIMS)


@pytest.mark.parametrize(("case", "d"), SIZED, ids=[f"{c.id}-{d}" for c, d in SIZED])
def test_compiles_fullgraph_with_aot_eager_and_equals_eager(case: Case, d: int):
    _run(case, d, "aot_eager")


@pytest.mark.parametrize("name", INDUCTOR_SAMPLE)
def test_compiles_fullgraph_with_inductor_and_equals_eager(name: str):
    case = next(c for c in CASES if c.name == name and c.dim in (None, -1))
    _run(case, 130, "inductor")


@pytest.mark.parametrize("name", ["swiglu", "geglu"])
def test_compiled_gated_units_keep_no_more_than_the_input(name: str):
    """Compiled, swiglu / geglu are the plain formula; inductor's partitioner must still keep only the input."""
    from almanac.bench.harness import saved_bytes

    x = torch.randn(64, 256, requires_grad=True)
    torch._dynamo.reset()
    compiled = torch.compile(getattr(am.activations, name), fullgraph=True, dynamic=False)
    compiled(x).sum().backward()
    assert saved_bytes(lambda: compiled(x).sum().backward()) <= x.untyped_storage().nbytes()
