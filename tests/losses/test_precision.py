"""Low precision done as torch.nn does it: float16 / bfloat16 computed and accumulated in float32, float32 out under
autocast (issue 10). References are float64 evaluations of the same (rounded) inputs, at realistic sizes."""

import pytest
import torch
import torch.nn.functional as F
from loss_table import EXAMPLES

import almanac as am

LOW = (torch.float16, torch.bfloat16)
TENSOR_FIRST = sorted(set(EXAMPLES) - {"gradient_penalty"})  # gradient_penalty runs the caller's critic as it is


def _low(args, dtype):
    return tuple(a.to(dtype) if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args)


@pytest.mark.parametrize("name", TENSOR_FIRST)
@pytest.mark.parametrize("dtype", LOW)
def test_half_inputs_keep_their_dtype_and_equal_the_float64_loss(name, dtype):
    ex = EXAMPLES[name]
    args = _low(ex.make(), dtype)
    fn = getattr(am.losses, name)
    got = fn(*args, **ex.kwargs)
    ref = fn(*(a.double() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args),
             **ex.kwargs)
    assert got.dtype == dtype
    torch.testing.assert_close(got.double(), ref, rtol=torch.finfo(dtype).eps * 2, atol=torch.finfo(dtype).eps)


@pytest.mark.parametrize("name", TENSOR_FIRST)
def test_autocast_returns_float32_like_torch_nn(name):
    ex = EXAMPLES[name]
    args = _low(ex.make(), torch.bfloat16)
    fn = getattr(am.losses, name)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = fn(*args, **ex.kwargs)
        module = am.losses.get(name, **ex.kwargs)(*args)
        assert F.cross_entropy(torch.randn(2, 3, dtype=torch.bfloat16), torch.tensor([0, 1])).dtype == torch.float32
    assert got.dtype == torch.float32 and module.dtype == torch.float32
    ref = fn(*(a.double() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args),
             **ex.kwargs)
    torch.testing.assert_close(got.double(), ref, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def masks():
    g = torch.Generator().manual_seed(0)
    n, c, h = 1, 4, 512
    x = torch.randn(n, c, h, h, generator=g) * 3
    y = torch.randint(0, c, (n, h, h), generator=g)
    return x, y, F.one_hot(y, c).movedim(-1, 1).double()


@pytest.mark.parametrize("name", ["dice", "jaccard", "tversky", "focal_tversky"])
@pytest.mark.parametrize("dtype", [torch.float32, *LOW])
def test_multiclass_512x512_index_path_equals_one_hot_and_float64(masks, name, dtype):
    x, y, one_hot = masks
    fn = getattr(am.losses, name)
    xd = x.to(dtype)
    ref = fn(xd.double(), one_hot, task="multiclass")
    by_index = fn(xd, y, task="multiclass", reduction="none")
    by_mask = fn(xd, one_hot.to(dtype), task="multiclass", reduction="none")
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {"rtol": torch.finfo(dtype).eps, "atol": 0}
    torch.testing.assert_close(by_index.double().mean(), ref, **tol)
    torch.testing.assert_close(by_mask.double().mean(), ref, **tol)
    if dtype == torch.float32:  # the class-index intersection, summed pixel by pixel, keeps every digit (1 ulp)
        ref_none = fn(xd.double(), one_hot, task="multiclass", reduction="none")
        eps = torch.finfo(torch.float32).eps
        torch.testing.assert_close(by_index.double(), ref_none, rtol=eps, atol=0)
        torch.testing.assert_close(by_mask.double(), ref_none, rtol=eps, atol=0)


@pytest.mark.parametrize("name", ["dice", "jaccard", "tversky"])
def test_binary_float16_spatial_sums_do_not_overflow_at_512x512(name):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 1, 512, 512, generator=g)
    t = (torch.rand(2, 1, 512, 512, generator=g) > 0.5).float()
    fn = getattr(am.losses, name)
    x16, t16 = x.half(), t.half()
    x16.requires_grad_(True)
    got = fn(x16, t16)
    ref = fn(x16.detach().double(), t.double())
    assert got.dtype == torch.float16 and torch.isfinite(got)
    torch.testing.assert_close(got.double(), ref, rtol=torch.finfo(torch.float16).eps, atol=0)
    got.backward()
    assert x16.grad.dtype == torch.float16 and torch.isfinite(x16.grad).all()


def test_the_loss_gradient_reaches_a_bfloat16_model_under_autocast():
    model = torch.nn.Linear(8, 3)
    x, y = torch.randn(64, 8), torch.randint(0, 3, (64,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x)
        assert logits.dtype == torch.bfloat16
        loss = am.losses.focal(logits, y, task="multiclass")
    assert loss.dtype == torch.float32
    loss.backward()
    assert model.weight.grad is not None and torch.isfinite(model.weight.grad).all()
