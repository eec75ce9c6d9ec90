"""Tracing and torch.export of the sparse simplex maps never bake a data-dependent branch (issue 10)."""

from __future__ import annotations

import pytest
import torch

import almanac as am


def _peaked(d: int, support: int, seed: int) -> torch.Tensor:
    """Rows whose sparsemax support is about ``support`` values wide (the eager path's top-k search depends on it)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(3, d, generator=g) * 0.01
    x[:, :support] += 1.0
    return x


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
def test_traced_graph_is_right_on_inputs_other_than_the_traced_one(name):
    fn = getattr(am.activations, name)
    traced = torch.jit.trace(lambda x: fn(x), _peaked(64, 2, 0), check_trace=False)
    for support in (2, 40, 64):  # the eager search sorts 16 values first, then more for wide supports
        x = _peaked(64, support, support)
        y = traced(x)
        torch.testing.assert_close(y.sum(-1), torch.ones(3))
        torch.testing.assert_close(y, fn(x))


class _Head(torch.nn.Module):
    """A small model: a learnable elementwise affine map, then the activation (no matmul, whose summation order
    differs between runtimes, between the two results compared)."""

    def __init__(self, d: int, name: str):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.rand(d) + 0.5)
        self.shift = torch.nn.Parameter(torch.randn(d))
        self.act = am.activations.get(name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x * self.scale + self.shift)


@pytest.mark.parametrize(("name", "d"), [("sparsemax", 4096), ("entmax15", 8), ("swiglu", 4096), ("gelu", 8)])
def test_torch_export_of_a_small_model_equals_eager(name, d):
    torch.manual_seed(0)
    model = _Head(d, name).eval()
    x = torch.randn(2, d) * 4
    exported = torch.export.export(model, (x,))
    other = torch.randn(2, d) * 4
    torch.testing.assert_close(exported.module()(other), model(other), rtol=1e-5, atol=1e-6)


def _onnx_run(path, x: torch.Tensor) -> torch.Tensor:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    return torch.from_numpy(out)


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
def test_legacy_onnx_export_takes_the_data_independent_path(name, tmp_path):
    pytest.importorskip("onnxruntime")
    fn = getattr(am.activations, name)

    class Head(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return fn(x)

    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(Head(), (_peaked(64, 2, 0),), str(path), dynamo=False)
    for support in (2, 40, 64):  # traced where the top-16 search suffices; run where it does not
        x = _peaked(64, support, support)
        y = _onnx_run(path, x)
        torch.testing.assert_close(y.sum(-1), torch.ones(3), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(y, fn(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("name", "d"), [("sparsemax", 4096), ("swiglu", 8)])
def test_dynamo_onnx_export_runs_in_onnxruntime_equal_to_eager(name, d, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    torch.manual_seed(0)
    model = _Head(d, name).eval()
    path = tmp_path / f"{name}-{d}.onnx"
    torch.onnx.export(model, (torch.randn(2, d),), str(path), dynamo=True)
    other = torch.randn(2, d) * 4
    with torch.no_grad():
        torch.testing.assert_close(_onnx_run(path, other), model(other), rtol=1e-5, atol=1e-5)
