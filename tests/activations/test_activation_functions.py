"""Every activation against its float64 reference, dtypes, extreme values, gradcheck and input validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from activation_cases import ALONG_DIM, API_NAMES, CASES, POINTS, Case, along_dim_input

import almanac as am
from almanac import activations as act
from almanac.errors import ConfigError, ShapeError, TargetError

DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
# Tolerance against the float64 reference, relative to max(1, |reference|); half types round inputs too.
TOLERANCE = {torch.float16: 2e-2, torch.bfloat16: 6e-2, torch.float32: 2e-5, torch.float64: 1e-10}


def _input(case: Case) -> np.ndarray:
    return POINTS if case.dim is None else along_dim_input()


def _call(case: Case, x: torch.Tensor) -> torch.Tensor:
    return act.REGISTRY.function(case.name)(x, **case.params_for(x))


def test_every_name_of_the_api_is_registered_and_nothing_else():
    assert act.names() == sorted(API_NAMES)
    for name in API_NAMES:
        assert callable(getattr(act, name))
        assert act.REGISTRY.function(name) is getattr(act, name)


def test_the_table_covers_every_activation():
    assert {c.name for c in CASES} == set(API_NAMES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_matches_the_float64_reference(case: Case):
    x = _input(case)
    got = _call(case, torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, case.reference(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_dtype_and_shape_are_preserved_and_values_close(case: Case, dtype: torch.dtype):
    x64 = _input(case)[:, None] if case.dim is None else _input(case)  # 2-D for both kinds
    if dtype.itemsize == 2:  # keep products (swiglu: a·b) within float16's range
        x64 = x64[np.abs(x64).max(axis=1) <= 30]
    x = torch.from_numpy(x64).to(dtype).requires_grad_()
    y = _call(case, x)
    expected = case.reference(x.detach().double().numpy())  # the reference on the rounded input
    assert y.dtype == dtype and y.shape == expected.shape
    scale = np.maximum(1.0, np.abs(expected))
    assert np.all(np.abs(y.detach().double().numpy() - expected) <= TOLERANCE[dtype] * scale)
    y.sum().backward()
    assert x.grad is not None and x.grad.dtype == dtype and x.grad.shape == x.shape


@pytest.mark.parametrize("dtype", (torch.float32, torch.float64), ids=str)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_output_and_gradient_are_finite_at_large_magnitudes(case: Case, dtype: torch.dtype):
    values = torch.tensor([-1e4, -100.0, 100.0, 1e4, -1e4, 1e4, 100.0, -100.0], dtype=dtype)
    x = values.reshape(2, 4).requires_grad_()  # rows mix huge values of both signs for the dim ones
    y = _call(case, x)
    grad = torch.autograd.grad(y, x, torch.linspace(-1, 1, y.numel(), dtype=dtype).reshape(y.shape))[0]
    assert torch.isfinite(y).all() and torch.isfinite(grad).all()


# Points away from every kink (0, ±1, ±3), where finite differences are valid.
_SMOOTH_POINTS = torch.tensor([-4.1, -2.6, -1.7, -0.8, -0.35, 0.3, 0.7, 1.4, 2.2, 3.6], dtype=torch.float64)


def _gradcheck_input(case: Case) -> torch.Tensor:
    if case.dim is None:
        return _SMOOTH_POINTS.clone().reshape(2, 5).requires_grad_()
    generator = torch.Generator().manual_seed(1)
    return (torch.randn(4, 6, generator=generator, dtype=torch.float64) * 2).requires_grad_()


# PyTorch's own kernels without a double backward (derivative for aten::hardsigmoid_backward is not implemented).
NO_DOUBLE_BACKWARD = {"hard_sigmoid"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradcheck_and_gradgradcheck_in_float64(case: Case):
    x = _gradcheck_input(case)
    params = case.params_for(x)
    function = act.REGISTRY.function(case.name)
    assert torch.autograd.gradcheck(lambda t: function(t, **params), (x,))
    if case.name not in NO_DOUBLE_BACKWARD:
        assert torch.autograd.gradgradcheck(lambda t: function(t, **params), (x,))


def test_silu_gradcheck_with_a_beta_tensor_that_requires_grad():
    x = _SMOOTH_POINTS.clone().requires_grad_()
    beta = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t, b: act.silu(t, beta=b), (x, beta))
    assert torch.autograd.gradgradcheck(lambda t, b: act.silu(t, beta=b), (x, beta))


def test_silu_with_beta_zero_is_half_the_input():
    x = torch.tensor([-2.0, 0.0, 3.0])
    torch.testing.assert_close(act.silu(x, beta=0.0), x / 2)


def test_prelu_with_one_slope_per_channel():
    x = torch.tensor([[[-1.0, 2.0]], [[-4.0, 1.0]]]).transpose(0, 1)  # (N=1, C=2, L=2)
    weight = torch.tensor([0.5, 0.25])
    expected = torch.tensor([[[-0.5, 2.0], [-1.0, 1.0]]])
    torch.testing.assert_close(act.prelu(x, weight), expected)


def test_identity_returns_its_input():
    x = torch.randn(3)
    assert act.identity(x) is x


def test_swish_is_silu():
    assert act.swish is act.silu
    assert act.spec("swish") is act.spec("silu")
    assert isinstance(act.get("swish"), torch.nn.Module)


def test_unknown_name_lists_the_closest():
    with pytest.raises(am.UnknownNameError, match="'relu'"):
        act.get("rleu")
    with pytest.raises(am.UnknownNameError, match="'softmax'"):
        act.spec("sofmax")


# -- validation at the edge ------------------------------------------------------------------------------------

def _args(name: str, x: object) -> tuple[object, ...]:
    return (x, torch.tensor([0.25])) if name == "prelu" else (x,)


@pytest.mark.parametrize("name", API_NAMES)
@pytest.mark.parametrize("bad", ([1.0, 2.0], np.ones(2), torch.tensor([1, 2])), ids=("list", "numpy", "int"))
def test_input_that_is_not_a_floating_tensor_is_a_target_error(name: str, bad: object):
    with pytest.raises(TargetError, match="expected `input`"):
        act.REGISTRY.function(name)(*_args(name, bad))


@pytest.mark.parametrize("case", ALONG_DIM, ids=lambda c: c.id)
def test_dim_out_of_range_is_a_config_error(case: Case):
    with pytest.raises(ConfigError, match="expected `dim`"):
        act.REGISTRY.function(case.name)(torch.zeros(2, 4), dim=2)


@pytest.mark.parametrize("name", ("glu", "swiglu", "geglu"))
def test_odd_gated_dimension_is_a_shape_error(name: str):
    with pytest.raises(ShapeError, match="even size along dim=-1"):
        act.REGISTRY.function(name)(torch.zeros(2, 5))


# Invalid values for each hyperparameter, from the constraints the functions declare.
INVALID = {
    "negative_slope": ("0.1", float("nan"), float("inf")),
    "alpha": (0.0, -1.0, float("nan")),
    "beta": (float("inf"), "2"),
    "threshold": (0.0, -5.0),
    "approximate": ("fast", None),
    "dim": (1.5, "last"),
}


@pytest.mark.parametrize(
    ("name", "param", "value"),
    [(name, p, v) for name in API_NAMES for p in act.spec(name).params for v in INVALID[p]],
)
def test_invalid_hyperparameters_are_config_errors(name: str, param: str, value: object):
    with pytest.raises(ConfigError, match=f"expected `{param}`"):
        act.REGISTRY.function(name)(*_args(name, torch.zeros(2, 4)), **{param: value})
    with pytest.raises(ConfigError, match=f"expected `{param}`"):
        act.get(name, **{param: value})


def test_softplus_beta_must_be_positive():
    with pytest.raises(ConfigError, match="expected `beta`"):
        act.softplus(torch.zeros(2), beta=-1.0)


def test_prelu_weight_of_the_wrong_size_is_a_shape_error():
    with pytest.raises(ShapeError, match="num_parameters=3"):
        act.prelu(torch.zeros(2, 3), torch.ones(2))


def test_empty_input_gives_empty_output():
    for case in CASES:
        x = torch.zeros(0, 4)
        assert _call(case, x).shape[0] == 0


def test_silu_beta_that_would_broadcast_the_input_is_a_shape_error():
    with pytest.raises(ShapeError, match="expected `beta`"):
        act.silu(torch.zeros(2, 3), beta=torch.ones(2, 2, 3))
    with pytest.raises(ShapeError, match="expected `beta`"):
        act.silu(torch.zeros(2, 3), beta=torch.ones(2))
    assert act.silu(torch.zeros(2, 3), beta=torch.ones(3)).shape == (2, 3)


@pytest.mark.parametrize("name", ["sparsemax", "entmax15", "softmax"])
def test_simplex_maps_of_a_0d_tensor_are_one(name: str):
    x = torch.tensor(2.5, requires_grad=True)
    y = getattr(act, name)(x)
    assert y.shape == () and float(y.detach()) == 1.0
    y.backward()
    assert float(x.grad) == 0.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_softplus_with_a_large_threshold_stays_finite(dtype):
    x = torch.tensor([-5.0, 0.0, 5.0, 90.0, 150.0], dtype=dtype, requires_grad=True)
    y = am.activations.softplus(x, threshold=200.0)
    y.sum().backward()
    reference = torch.nn.functional.softplus(x.detach().double(), threshold=800.0)  # float64 does not overflow
    torch.testing.assert_close(y.double(), reference, rtol=1e-2 if dtype in (torch.float16, torch.bfloat16) else 1e-6,
                               atol=1e-3)
    assert torch.isfinite(x.grad).all() and x.grad[-2:].tolist() == [1.0, 1.0]
