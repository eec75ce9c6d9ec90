"""Every activation module scripts with torch.jit.script, alone and inside a model, and equals eager (issue 10)."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

import almanac as am
from almanac.activations._script import KERNEL

pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning")

# Every registered activation with its defaults (registry-driven), then non-default settings that take another
# kernel path: a learnable or non-unit β for silu, other constants, several PReLU slopes.
CONFIGS = [(name, {}) for name in am.activations.names()] + [
    ("silu", {"learnable": True, "beta": 1.5}),
    ("silu", {"beta": 2.0}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("gelu", {"approximate": "tanh"}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}),
    ("softplus", {"beta": 2, "threshold": 20}),  # ints where the kernel declares floats
    ("silu", {"beta": 2}),
    ("silu", {"beta": torch.tensor(1.5)}),  # a fixed tensor β: a plain tensor attribute, not a parameter
    ("elu", {"alpha": 0.5}),
    ("prelu", {"num_parameters": 4, "init": 0.1}),
    ("softmax", {"dim": 1}),
    ("sparsemax", {"dim": 0}),
    ("entmax15", {"dim": 0}),
]
DIMS = (8, 64, 4096)


def _id(config: tuple[str, dict]) -> str:
    name, params = config
    return ",".join([name, *(f"{k}={v}" for k, v in params.items())])


def _input(d: int, params: dict, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    channels = params.get("num_parameters", 3)  # dim 1 holds prelu's channels
    x = torch.randn(2, channels, d, generator=g) * 3
    # second sample: d/8 near-equal largest values, so sparsemax / entmax15 keep all of them (their search goes
    # past its first 16 values at d = 4096)
    x[1] = torch.randn(channels, d, generator=g) * 1e-4
    x[1, :, : d // 8] += 1
    return x


def _check_equal(eager: nn.Module, scripted: nn.Module, x: torch.Tensor) -> None:
    for _ in range(3):  # TorchScript's profiling executor runs an optimised graph (own derivatives) from call 2
        _check_once(eager, scripted, x)


def _check_once(eager: nn.Module, scripted: nn.Module, x: torch.Tensor) -> None:
    xe, xs = x.clone().requires_grad_(), x.clone().requires_grad_()
    ye, ys = eager(xe), scripted(xs)
    torch.testing.assert_close(ys, ye, rtol=1e-5, atol=1e-6)
    g = torch.randn_like(ye)
    params_e, params_s = list(eager.parameters()), list(scripted.parameters())
    grads_e = torch.autograd.grad(ye, [xe, *params_e], g)
    grads_s = torch.autograd.grad(ys, [xs, *params_s], g)
    for a, b in zip(grads_s, grads_e, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("config", CONFIGS, ids=_id)
def test_scripted_module_equals_eager(config, d):
    name, params = config
    module = am.activations.get(name, **params)
    scripted = torch.jit.script(module)
    assert isinstance(scripted, torch.jit.ScriptModule)
    assert scripted.name == module.name
    assert list(scripted.state_dict()) == list(module.state_dict())
    _check_equal(module, scripted, _input(d, params, d))


class _Affine(nn.Module):
    """A learnable elementwise map: bit-identical in eager and TorchScript (a normalisation layer is not, and
    softplus' threshold makes its derivative jump by 1 − σ(threshold) at one ulp)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.rand(d) + 0.5)
        self.shift = nn.Parameter(torch.randn(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.shift


class _Model(nn.Sequential):
    def __init__(self, d: int, name: str, params: dict) -> None:
        super().__init__(_Affine(d), am.activations.get(name, **params), nn.Dropout(0.0))


@pytest.mark.parametrize("d", (8, 4096))
@pytest.mark.parametrize("config", CONFIGS, ids=_id)
def test_scripted_model_equals_eager(config, d):
    name, params = config
    torch.manual_seed(0)
    model = _Model(d, name, params)
    scripted = torch.jit.script(model)
    assert list(scripted.state_dict()) == list(model.state_dict())
    _check_equal(model, scripted, _input(d, params, 1))


@pytest.mark.parametrize(("name", "params"), [
    ("sparsemax", {}), ("entmax15", {}), ("swiglu", {}), ("geglu", {}), ("prelu", {"num_parameters": 3}),
    ("silu", {"learnable": True, "beta": 0.5}), ("gelu", {"approximate": "tanh"}),
])
def test_saved_and_loaded_script_equals_eager(name, params, tmp_path):
    torch.manual_seed(0)
    model = _Model(64, name, params)
    path = tmp_path / f"{name}.pt"
    torch.jit.save(torch.jit.script(model), str(path))
    loaded = torch.jit.load(str(path))
    _check_equal(model, loaded, _input(64, params, 2))
    # the loaded module is trained like the eager one: its learnable tensors keep their names
    assert list(loaded.state_dict()) == list(model.state_dict())


def test_scripted_parameters_are_the_eager_ones():
    module = am.activations.get("prelu", num_parameters=3)
    scripted = torch.jit.script(module)
    with torch.no_grad():
        module.weight.fill_(0.5)
    x = -torch.ones(1, 3, 2)
    torch.testing.assert_close(scripted(x), module(x))


@pytest.mark.parametrize("name", am.activations.names())
def test_every_function_declares_a_kernel_with_its_own_parameters(name):
    function = am.activations.REGISTRY.function(name)
    kernel = getattr(function, KERNEL)
    assert list(inspect.signature(kernel).parameters)[1:] == list(inspect.signature(function).parameters)[1:]
    torch.jit.script(kernel)  # compiles on its own


@pytest.mark.parametrize("name", ["swiglu", "geglu", "glu"])
@pytest.mark.parametrize("size", [1, 3])
def test_scripted_gate_refuses_an_odd_size(name, size):
    scripted = torch.jit.script(am.activations.get(name))
    with pytest.raises((torch.jit.Error, RuntimeError), match=r"even|halve|divisible"):
        scripted(torch.randn(2, size))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("config", CONFIGS, ids=_id)
def test_scripted_module_keeps_half_precision(config, dtype):
    name, params = config
    module = am.activations.get(name, **params)
    x = _input(64, params, 3).to(dtype)
    scripted = torch.jit.script(module)
    try:
        expected = module(x)
    except RuntimeError:  # prelu's float32 weight with a half input, as torch.nn.PReLU: the script refuses too
        with pytest.raises(RuntimeError):
            scripted(x)
        return
    y = scripted(x)
    assert y.dtype == dtype
    torch.testing.assert_close(y, expected, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("config", CONFIGS, ids=_id)
def test_frozen_script_equals_eager(config):
    name, params = config
    torch.manual_seed(0)
    model = _Model(8, name, params).eval()
    frozen = torch.jit.freeze(torch.jit.script(model))  # parameters and constants inlined, as for deployment
    x = _input(8, params, 4)
    for _ in range(3):
        torch.testing.assert_close(frozen(x), model(x), rtol=1e-5, atol=1e-6)
