import pytest
import torch
import torch.nn.functional as F

import almanac as am
from almanac.errors import DomainError, ShapeError, TargetError

L = am.losses


def _g(seed):
    return torch.Generator().manual_seed(seed)


def _tversky_ref(p, t, alpha, beta, smooth, gamma=1.0, keep=None):
    if keep is not None:
        p, t = p * keep, t * keep
    dims = tuple(range(2, p.ndim))
    inter, pred, true = (p * t).sum(dims), p.sum(dims), t.sum(dims)
    score = (inter + smooth) / (inter + alpha * (pred - inter) + beta * (true - inter) + smooth)
    return ((1 - score) ** gamma).mean(1)


def _dice_ref(p, t, smooth, keep=None):
    if keep is not None:
        p, t = p * keep, t * keep
    dims = tuple(range(2, p.ndim))
    return (1 - (2 * (p * t).sum(dims) + smooth) / (p.sum(dims) + t.sum(dims) + smooth)).mean(1)


CASES = {
    "binary": lambda: (torch.randn(4, 1, 6, 5, dtype=torch.float64, generator=_g(0)) * 2,
                       (torch.rand(4, 1, 6, 5, generator=_g(1)) < 0.3).double()),
    "multilabel": lambda: (torch.randn(4, 3, 7, dtype=torch.float64, generator=_g(0)) * 2,
                           (torch.rand(4, 3, 7, generator=_g(1)) < 0.3).double()),
    "multiclass": lambda: (torch.randn(4, 3, 5, 4, dtype=torch.float64, generator=_g(0)) * 2,
                           torch.randint(0, 3, (4, 5, 4), generator=_g(1))),
}


def _probs_and_mask(task, x, t):
    if task == "multiclass":
        return torch.softmax(x, 1), F.one_hot(t, x.shape[1]).movedim(-1, 1).double()
    return torch.sigmoid(x), t


@pytest.mark.parametrize("task", sorted(CASES))
@pytest.mark.parametrize("smooth", [0.0, 1.0])
def test_tversky_family_matches_formulas(task, smooth):
    x, t = CASES[task]()
    p, mask = _probs_and_mask(task, x, t)
    kw = {"task": task, "smooth": smooth, "reduction": "none"}
    torch.testing.assert_close(L.dice(x, t, **kw), _dice_ref(p, mask, smooth))
    torch.testing.assert_close(L.jaccard(x, t, **kw), _tversky_ref(p, mask, 1.0, 1.0, smooth))
    torch.testing.assert_close(L.tversky(x, t, alpha=0.2, beta=0.9, **kw), _tversky_ref(p, mask, 0.2, 0.9, smooth))
    torch.testing.assert_close(L.focal_tversky(x, t, **kw), _tversky_ref(p, mask, 0.3, 0.7, smooth, 0.75))
    torch.testing.assert_close(L.dice(p, mask if task != "multiclass" else t, task=task, smooth=smooth,
                                      from_logits=False), _dice_ref(p, mask, smooth).mean())


def test_multiclass_index_map_equals_one_hot_masks():
    x, t = CASES["multiclass"]()
    one_hot = F.one_hot(t, 3).movedim(-1, 1).double()
    for fn in (L.dice, L.jaccard, L.tversky, L.focal_tversky, L.lovasz):
        torch.testing.assert_close(fn(x, t, task="multiclass"), fn(x, one_hot, task="multiclass"))


def test_large_inputs_cross_chunks_and_gradients_match_autograd():
    x = (torch.randn(2, 3, 300, 300, dtype=torch.float64, generator=_g(0)) * 2).requires_grad_(True)
    t = torch.randint(0, 3, (2, 300, 300), generator=_g(1))
    ours = L.tversky(x, t, task="multiclass", alpha=0.3, beta=0.7)
    ref = _tversky_ref(torch.softmax(x, 1), F.one_hot(t, 3).movedim(-1, 1).double(), 0.3, 0.7, 1.0).mean()
    torch.testing.assert_close(ours, ref)
    (g_ours,) = torch.autograd.grad(ours, x)
    (g_ref,) = torch.autograd.grad(ref, x)
    torch.testing.assert_close(g_ours, g_ref)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_ignore_index_drops_the_pixels(task):
    x, t = CASES[task]()
    p, mask = _probs_and_mask(task, x, t)
    if task == "binary":
        t = t.clone()
        t[0, 0, :2] = 255
        keep = (t != 255).double()
    else:
        t = t.clone()
        t[1, :2] = -1
        keep = (t != -1).double().unsqueeze(1)
        mask = F.one_hot(t.clamp_min(0), 3).movedim(-1, 1).double()
    torch.testing.assert_close(L.dice(x, t, task=task, ignore_index=int(t.min()) if task != "binary" else 255,
                                      reduction="none"), _dice_ref(p, mask, 1.0, keep))


@pytest.mark.parametrize("name", ["dice", "jaccard", "tversky", "focal_tversky", "lovasz"])
def test_empty_mask_predicted_empty_is_a_perfect_score_with_a_finite_gradient(name):
    fn = getattr(L, name)
    p = torch.zeros(2, 1, 4, 4, requires_grad=True)
    target = torch.zeros(2, 1, 4, 4)
    kwargs = {"from_logits": False} | ({} if name == "lovasz" else {"smooth": 0.0})
    for kw in (kwargs, {k: v for k, v in kwargs.items() if k != "smooth"}):
        loss = fn(p, target, **kw)
        (grad,) = torch.autograd.grad(loss, p)
        assert loss.item() == 0.0 and torch.isfinite(grad).all()
    x = torch.full((2, 1, 4, 4), -30.0, requires_grad=True)
    loss = fn(x, target)
    (grad,) = torch.autograd.grad(loss, x)
    assert loss.item() < 1e-6 and torch.isfinite(grad).all()


def test_false_positives_on_an_absent_class_still_cost():
    p = torch.full((1, 1, 4), 0.9)
    assert L.dice(p, torch.zeros(1, 1, 4), from_logits=False, smooth=0.0).item() == 1.0
    assert L.dice(p, torch.zeros(1, 1, 4), from_logits=False).item() > 0.7


def test_all_ignored_gives_zero():
    x = torch.randn(2, 3, 4, requires_grad=True)
    t = torch.full((2, 4), 255)
    for fn in (L.dice, L.lovasz):
        loss = fn(x, t, task="multiclass", ignore_index=255)
        loss.backward()
        assert torch.isfinite(x.grad).all()


def test_errors():
    with pytest.raises(ShapeError, match="one channel"):
        L.dice(torch.randn(2, 3, 4), torch.randint(0, 2, (2, 4)))
    with pytest.raises(TargetError, match="integer class indices"):
        L.dice(torch.randn(2, 3, 4), torch.rand(2, 4), task="multiclass")
    with pytest.raises(TargetError):
        L.dice(torch.randn(2, 3, 4), torch.full((2, 4), 3), task="multiclass")
    with pytest.raises(TargetError):
        L.jaccard(torch.randn(2, 1, 4), torch.full((2, 1, 4), 2.0))
    with pytest.raises(ShapeError):
        L.tversky(torch.randn(2, 2, 4), torch.ones(2, 4), task="multilabel")
    with pytest.raises(ShapeError):
        L.dice(torch.randn(2, 1, 4), torch.ones(2, 1, 5))
    with pytest.raises(DomainError):
        L.dice(torch.randn(2, 1, 4) + 5, torch.ones(2, 1, 4), from_logits=False)


# -- Lovász: against a straightforward float64 re-implementation (per image, per class, Python loops) -----------
def _lovasz_grad_loop(gt):
    total = float(sum(gt))
    jac, prev = [], 0.0
    hits = misses = 0.0
    for g in gt:
        hits += g
        misses += 1 - g
        value = 1 - (total - hits) / (total + misses)
        jac.append(value - prev)
        prev = value
    return jac


def _lovasz_flat_loop(errors, labels):
    order = sorted(range(len(errors)), key=lambda i: -errors[i])
    grad = _lovasz_grad_loop([labels[i] for i in order])
    return sum(max(errors[i], 0.0) * g for i, g in zip(order, grad))


def test_lovasz_hinge_matches_the_reference():
    x, t = CASES["binary"]()
    ours = L.lovasz(x, t, reduction="none")
    for n in range(x.shape[0]):
        logits, labels = x[n].flatten().tolist(), t[n].flatten().tolist()
        errors = [1 - s * (2 * y - 1) for s, y in zip(logits, labels)]
        assert abs(float(ours[n]) - _lovasz_flat_loop(errors, labels)) < 1e-10


def test_lovasz_softmax_matches_the_reference():
    x, t = CASES["multiclass"]()
    p = torch.softmax(x, 1)
    ours = L.lovasz(x, t, task="multiclass", reduction="none")
    for n in range(x.shape[0]):
        per_class = []
        for c in range(3):
            labels = (t[n].flatten() == c).double().tolist()
            errors = [abs(y - q) for y, q in zip(labels, p[n, c].flatten().tolist())]
            per_class.append(_lovasz_flat_loop(errors, labels))
        assert abs(float(ours[n]) - sum(per_class) / 3) < 1e-10


def test_lovasz_of_hard_predictions_is_the_jaccard_loss():
    t = torch.randint(0, 3, (3, 10), generator=_g(4))
    pred = torch.randint(0, 3, (3, 10), generator=_g(5))
    p = F.one_hot(pred, 3).movedim(-1, 1).double()
    ref = []
    for n in range(3):
        losses = []
        for c in range(3):
            inter = ((t[n] == c) & (pred[n] == c)).sum().item()
            union = ((t[n] == c) | (pred[n] == c)).sum().item()
            losses.append(0.0 if union == 0 else 1 - inter / union)
        ref.append(sum(losses) / 3)
    torch.testing.assert_close(L.lovasz(p, t, task="multiclass", from_logits=False, reduction="none"),
                               torch.tensor(ref, dtype=torch.float64))


@pytest.mark.parametrize("name", ["dice", "jaccard", "tversky", "focal_tversky", "lovasz"])
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_extreme_logits_give_finite_losses_and_gradients(name, task):
    c = 1 if task == "binary" else 3
    x = (torch.randint(0, 2, (2, c, 8), generator=_g(0)).float() * 200 - 100).requires_grad_(True)
    t = torch.randint(0, 2 if task == "binary" else 3, (2, 8), generator=_g(1))
    loss = getattr(L, name)(x, t, task=task)
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()


@pytest.mark.parametrize("from_logits", [True, False])
def test_index_map_gradients_with_ignored_pixels_match_autograd(from_logits):
    x, t = CASES["multiclass"]()
    t = t.clone()
    t[0, 0] = t[2, 3] = -1
    keep = (t != -1).double().unsqueeze(1)
    if not from_logits:
        x = torch.softmax(x, 1)
    x.requires_grad_(True)
    ours = L.tversky(x, t, task="multiclass", alpha=0.4, beta=0.8, ignore_index=-1, from_logits=from_logits)
    p = torch.softmax(x, 1) if from_logits else x
    ref = _tversky_ref(p, F.one_hot(t.clamp_min(0), 3).movedim(-1, 1).double(), 0.4, 0.8, 1.0, keep=keep).mean()
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(torch.autograd.grad(ours, x)[0], torch.autograd.grad(ref, x)[0])
