"""Value checks: eager by default, off with validate=False (functions, modules) or the global switch; no host sync
on a GPU when off (issue 10)."""

import pytest
import torch
from loss_table import EXAMPLES

import almanac as am
from almanac.errors import AlmanacError

DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
TENSOR_FIRST = sorted(set(EXAMPLES) - {"gradient_penalty"})

# (loss, args, kwargs) with values that only a value check can catch; each raises a typed error when validating
BAD_VALUES = [
    ("cross_entropy", lambda: (torch.randn(4, 3), torch.tensor([0, 1, 7, 2])), {}),
    ("cross_entropy", lambda: (torch.randn(4, 3), torch.tensor([0, 1, -3, 2])), {"ignore_index": 255}),
    ("focal", lambda: (torch.randn(4, 3), torch.tensor([0, 1, 7, 2])), {"task": "multiclass"}),
    ("focal", lambda: (torch.randn(4), torch.tensor([0.0, 1.0, 2.0, 1.0])), {}),
    ("multiclass_hinge", lambda: (torch.randn(4, 3), torch.tensor([0, 1, 7, 2])), {}),
    ("dice", lambda: (torch.randn(2, 3, 4, 4), torch.full((2, 4, 4), 9)), {"task": "multiclass"}),
    ("lovasz", lambda: (torch.randn(2, 3, 4, 4), torch.full((2, 4, 4), 9)), {"task": "multiclass"}),
    ("binary_cross_entropy", lambda: (torch.rand(4) * 3, torch.ones(4)), {"from_logits": False}),
    ("hinge", lambda: (torch.randn(4), torch.tensor([0.0, 0.5, 1.0, 1.0])), {}),
    ("mse", lambda: (torch.randn(4), torch.randn(4)), {"sample_weight": torch.tensor([1.0, -1.0, 1.0, 1.0])}),
    ("poisson_nll", lambda: (torch.randn(4), torch.tensor([1.0, -2.0, 0.0, 3.0])), {}),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(BAD_VALUES)]


@pytest.mark.parametrize(("name", "make", "kwargs"), BAD_VALUES, ids=IDS)
def test_validate_false_skips_the_value_checks_and_never_crashes(name, make, kwargs):
    fn = getattr(am.losses, name)
    with pytest.raises(AlmanacError):
        fn(*make(), **kwargs)
    out = fn(*make(), **kwargs, validate=False)  # undefined number, but a number
    assert isinstance(out, torch.Tensor) and out.ndim == 0
    assert am.losses.get(name, **kwargs, validate=False)(*make()).ndim == 0
    with am.losses.validation(False):
        assert fn(*make(), **kwargs).ndim == 0
        with pytest.raises(AlmanacError):  # the call's validate=True wins over the global switch
            fn(*make(), **kwargs, validate=True)
    with pytest.raises(AlmanacError):  # the switch is restored on exit
        fn(*make(), **kwargs)


def test_validation_switch_and_its_errors():
    assert am.losses.values_checked()
    am.losses.set_validation(False)
    try:
        assert not am.losses.values_checked()
    finally:
        am.losses.set_validation(True)
    assert am.losses.values_checked()
    with pytest.raises(am.ConfigError):
        am.losses.set_validation("no")
    with pytest.raises(am.ConfigError, match="validate"):
        am.losses.mse(torch.randn(3), torch.randn(3), validate="no")


def test_shape_and_parameter_checks_stay_on_without_validation():
    with am.losses.validation(False):
        with pytest.raises(am.ShapeError):
            am.losses.mse(torch.randn(3), torch.randn(4))
        with pytest.raises(am.ConfigError):
            am.losses.huber(torch.randn(3), torch.randn(3), delta=-1.0)
        with pytest.raises(am.TargetError):
            am.losses.cross_entropy(torch.randn(3, 2), torch.tensor([0.0, 1.0, 1.0]))


@pytest.mark.parametrize("name", TENSOR_FIRST)
def test_validated_and_unvalidated_agree_on_valid_input(name):
    ex = EXAMPLES[name]
    torch.testing.assert_close(getattr(am.losses, name)(*ex.make(), **ex.kwargs, validate=False),
                               getattr(am.losses, name)(*ex.make(), **ex.kwargs))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", TENSOR_FIRST)
def test_modules_built_with_validate_false_never_sync_on_cuda(name):
    ex = EXAMPLES[name]
    args = tuple(a.cuda() if isinstance(a, torch.Tensor) else a for a in ex.make())
    module = am.losses.get(name, **ex.kwargs, validate=False).cuda()
    module(*args)  # warm-up: lazy CUDA initialisation may sync once
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        out = module(*args)
        if out.requires_grad:
            out.backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert out.device.type == "cuda"


@pytest.mark.parametrize("device", DEVICES)
def test_every_loss_runs_on_each_device(device, loss_name):
    ex = EXAMPLES[loss_name]
    args = tuple(a.to(device) if isinstance(a, (torch.Tensor, torch.nn.Module)) else a for a in ex.make())
    out = getattr(am.losses, loss_name)(*args, **ex.kwargs)
    assert out.device.type == device and torch.isfinite(out).all()


def test_a_module_checks_its_parameters_once_and_a_call_checks_its_keywords():
    with pytest.raises(am.ConfigError, match="gamma"):  # Loss built directly checks like get()
        am.losses.Loss("focal", am.losses.focal, gamma=-1.0)
    focal = am.losses.get("focal", task="multiclass")
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 1])
    with pytest.raises(am.ConfigError, match="reduction"):
        focal(x, y, reduction="median")
    with pytest.raises(am.ConfigError, match="alpha"):  # the rules see the bound task with the call's alpha
        focal(x, y, alpha=0.5)
    with pytest.raises(am.ConfigError, match="sample_weight"):
        focal(x, y, sample_weight=[1.0, 1.0, 1.0, 1.0])
    torch.testing.assert_close(focal(x, y, reduction="sum"), am.losses.focal(x, y, task="multiclass", reduction="sum"))


def test_value_checks_are_off_while_onnx_exports(monkeypatch):
    from torch.onnx._internal.exporter import _flags
    from torch.onnx._internal.torchscript_exporter._globals import GLOBALS

    assert am.losses.values_checked()
    monkeypatch.setattr(_flags, "_is_onnx_exporting", True)
    assert torch.onnx.is_in_onnx_export() and not am.losses.values_checked()
    monkeypatch.setattr(_flags, "_is_onnx_exporting", False)
    monkeypatch.setattr(GLOBALS, "in_onnx_export", True)
    assert torch.onnx.is_in_onnx_export() and not am.losses.values_checked()
