"""Integer class-index dtypes, empty batches and other edges found by fuzzing the API (issue 10)."""

import pytest
import torch
import torch.nn.functional as F

import almanac as am

INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _class_index_losses() -> list[str]:
    """Every loss that reads class indices: multiclass task, and not soft labels (registry-driven)."""
    return [s.name for s in am.losses.REGISTRY.specs() if "multiclass" in s.tasks and s.target != "soft_labels"]


def _multiclass_call(name, x, y):
    kwargs = {"task": "multiclass"} if "task" in am.losses.spec(name).params else {}
    return getattr(am.losses, name)(x, y, **kwargs)


def test_class_index_losses_are_the_expected_ones():
    assert set(_class_index_losses()) == {"cross_entropy", "dice", "focal", "focal_tversky", "jaccard", "lovasz",
                                          "multiclass_hinge", "tversky"}


@pytest.mark.parametrize("name", _class_index_losses())
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_every_integer_dtype_is_read_as_class_indices(name, dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 5, 5, dtype=torch.float64, generator=g, requires_grad=True)
    y = torch.randint(0, 4, (3, 5, 5), generator=g)
    expected = _multiclass_call(name, x, y)
    got = _multiclass_call(name, x, y.to(dtype))
    torch.testing.assert_close(got, expected)
    got.backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_uint8_mask_with_ignore_index_255(dtype):
    ignore = -1 if dtype == torch.int8 else 255  # 255 does not fit in int8; -1 is its spelling
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    y = torch.randint(0, 3, (2, 4, 4))
    y[0, 0, :2] = ignore
    ref = F.cross_entropy(x, y, ignore_index=ignore)
    torch.testing.assert_close(am.losses.cross_entropy(x, y.to(dtype), ignore_index=ignore), ref)


def test_cross_entropy_of_an_empty_batch_is_zero_by_the_reduction_rule():
    x = torch.randn(0, 3, requires_grad=True)
    y = torch.zeros(0, dtype=torch.long)
    loss = am.losses.cross_entropy(x, y)
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert x.grad.shape == (0, 3)
    assert float(am.losses.cross_entropy(x, y, reduction="sum").detach()) == 0.0
    assert am.losses.cross_entropy(x, y, reduction="none").shape == (0,)


@pytest.mark.parametrize("name", ["dice", "jaccard", "tversky", "focal_tversky", "lovasz"])
def test_segmentation_losses_on_an_empty_batch(name):
    fn = getattr(am.losses, name)
    x = torch.randn(0, 1, 4, 4, requires_grad=True)
    assert float(fn(x, torch.zeros(0, 1, 4, 4))) == 0.0
    assert fn(x, torch.zeros(0, 1, 4, 4), reduction="none").shape == (0,)
    x3 = torch.randn(0, 3, 4, 4)
    assert float(fn(x3, torch.zeros(0, 4, 4, dtype=torch.long), task="multiclass")) == 0.0


def test_pos_weight_as_a_one_element_tensor_for_1d_logits():
    x, t = torch.randn(8, dtype=torch.float64), (torch.rand(8) > 0.5).double()
    pw = torch.tensor([3.0], dtype=torch.float64)
    ref = F.binary_cross_entropy_with_logits(x, t, pos_weight=pw)
    torch.testing.assert_close(am.losses.binary_cross_entropy(x, t, pos_weight=pw), ref)
    torch.testing.assert_close(am.losses.binary_cross_entropy(x, t, pos_weight=[3.0]), ref)
    torch.testing.assert_close(am.losses.get("bce", pos_weight=pw)(x, t), ref)
    with pytest.raises(am.ShapeError):
        am.losses.binary_cross_entropy(x, t, pos_weight=[3.0, 2.0])


def test_multiclass_focal_ignored_row_with_minus_inf_logits_has_a_zero_gradient():
    x = torch.randn(3, 4, dtype=torch.float64)
    x[1, 0] = float("-inf")  # the ignored row reads class 0 internally
    x.requires_grad_(True)
    y = torch.tensor([1, -100, 2])
    for gamma in (0.0, 0.5, 2.0):
        x.grad = None
        loss = am.losses.focal(x, y, task="multiclass", ignore_index=-100, gamma=gamma)
        loss.backward()
        assert torch.isfinite(x.grad).all()
        assert torch.equal(x.grad[1], torch.zeros(4, dtype=torch.float64))
    x.grad = None
    F.cross_entropy(x, y, ignore_index=-100).backward()
    ce_grad = x.grad.clone()
    x.grad = None
    am.losses.focal(x, y, task="multiclass", ignore_index=-100, gamma=0.0).backward()
    torch.testing.assert_close(x.grad, ce_grad)  # γ = 0 is cross-entropy, gradient included


@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("signed", [False, True])
def test_hinge_labels_in_half_precision_at_70000_samples(name, dtype, signed):
    g = torch.Generator().manual_seed(0)
    n = 70_000
    bits = (torch.rand(n, generator=g) > 0.5).double()
    labels = 2 * bits - 1 if signed else bits
    x = torch.randn(n, dtype=torch.float64, generator=g)
    fn = getattr(am.losses, name)
    got = fn(x.to(dtype), labels.to(dtype))
    ref = fn(x.to(dtype).double(), labels)
    assert got.dtype == dtype
    torch.testing.assert_close(got.double(), ref, rtol=1e-2, atol=0)
    with pytest.raises(am.TargetError):
        fn(x.to(dtype), torch.where(torch.arange(n) == 5, 0.5, labels).to(dtype))
    with pytest.raises(am.TargetError):  # 0 and -1 mixed: neither label set
        fn(x.to(dtype), torch.where(torch.arange(n) == 5, -1.0 if not signed else 0.0, labels).to(dtype))
