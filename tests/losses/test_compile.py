"""torch.compile(fullgraph=True) of every loss, forward and backward, equal to eager (issue 10).

Registry-driven over the loss table (every registered loss): backend "aot_eager" for all, "inductor" on a sample.
Compiled, the value checks are off (they would read tensor values: a graph break), so nothing breaks the graph.
"""

import pytest
import torch
import torch._dynamo
from loss_table import EXAMPLES

import almanac as am

TENSOR_FIRST = sorted(set(EXAMPLES) - {"gradient_penalty"})  # its double backward is not a compile target
INDUCTOR_SAMPLE = ("focal", "dice", "log_cosh", "hinge")


def _run(name: str, backend: str, module: bool = False) -> None:
    ex = EXAMPLES[name]
    args = [a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in ex.make()]
    for i in ex.diff:
        args[i].requires_grad_(True)
    fn = am.losses.get(name, **ex.kwargs) if module else (lambda *a: getattr(am.losses, name)(*a, **ex.kwargs))
    torch._dynamo.reset()
    compiled = torch.compile(fn, backend=backend, fullgraph=True, dynamic=False)
    for reduction_args in (args,):
        out = compiled(*reduction_args)
        grads = torch.autograd.grad(out, [args[i] for i in ex.diff]) if ex.diff else ()
        ref = fn(*reduction_args)
        ref_grads = torch.autograd.grad(ref, [args[i] for i in ex.diff]) if ex.diff else ()
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
        for g, r in zip(grads, ref_grads, strict=True):
            torch.testing.assert_close(g, r, rtol=1e-5, atol=1e-6)


def test_the_compile_table_covers_every_loss_but_the_gradient_penalty():
    assert set(TENSOR_FIRST) | {"gradient_penalty"} == set(am.losses.names())


@pytest.mark.parametrize("name", TENSOR_FIRST)
def test_compiles_fullgraph_with_aot_eager_and_equals_eager(name):
    _run(name, "aot_eager")


@pytest.mark.parametrize("name", ["cross_entropy", "focal", "hinge", "tversky"])
def test_the_module_compiles_too(name):
    _run(name, "aot_eager", module=True)


@pytest.mark.parametrize("name", INDUCTOR_SAMPLE)
def test_compiles_fullgraph_with_inductor_and_equals_eager(name):
    _run(name, "inductor")


X_EDGES = torch.tensor([1.0, -1.0, 0.0, 3.0, -2.5, 30.0, -30.0, 0.5])
# (loss, target, kwargs): the compiled formulas at ties (hinge margin exactly 0), {-1, 1} labels, soft targets,
# γ < 1 and > 2, huge errors
EDGE_CASES = [
    ("hinge", torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]), {}),
    ("hinge", torch.tensor([1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0]), {}),
    ("squared_hinge", torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]), {}),
    ("focal", torch.tensor([1.0, 0.0, 0.3, 1.0, 0.0, 0.9, 0.1, 0.5]), {"gamma": 2.0, "alpha": 0.25}),
    ("focal", torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]), {"gamma": 3.0}),
    ("focal", torch.tensor([1.0, 0.0, 0.3, 1.0, 0.0, 0.9, 0.1, 0.5]), {"gamma": 0.5, "alpha": 0.75}),
    ("log_cosh", torch.tensor([0.0, 0.0, 0.0, 1e3, -1e3, 0.5, 1.0, 0.5]), {}),
]


EDGE_IDS = [f"{case[0]}-{i}" for i, case in enumerate(EDGE_CASES)]


@pytest.mark.parametrize(("name", "target", "kwargs"), EDGE_CASES, ids=EDGE_IDS)
def test_the_compiled_formulas_equal_eager_at_the_edges(name, target, kwargs):
    def fn(x, t):
        return getattr(am.losses, name)(x, t, reduction="none", **kwargs)

    torch._dynamo.reset()
    compiled = torch.compile(fn, backend="aot_eager", fullgraph=True)
    x, x_ref = X_EDGES.clone().requires_grad_(), X_EDGES.clone().requires_grad_()
    out, ref = compiled(x, target), fn(x_ref, target)
    out.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-5, atol=1e-6)
