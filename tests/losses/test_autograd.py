"""The chunked kernels: the thread pool leaves the caller's settings alone and gives the same result."""

import torch

import almanac as am
from almanac.losses import _autograd


def _big_focal() -> float:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3 * _autograd.CHUNK + 5, generator=g)
    t = (torch.rand(x.numel(), generator=g) < 0.5).float()
    return float(am.losses.focal(x, t))


def test_the_callers_thread_count_is_untouched():
    before = torch.get_num_threads()
    _big_focal()
    assert torch.get_num_threads() == before


def test_one_thread_and_several_threads_agree():
    several = _big_focal()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single = _big_focal()
    finally:
        torch.set_num_threads(before)
    assert abs(single - several) < 1e-6


def _cases():
    g = torch.Generator().manual_seed(1)
    n = 2 * _autograd.CHUNK + 7
    x = torch.randn(n, generator=g, dtype=torch.float64) * 3
    bits = (torch.rand(n, generator=g) < 0.3).double()
    y = torch.randn(n, generator=g, dtype=torch.float64)
    scores = torch.randn(3, 3, _autograd.CHUNK // 2, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (3, _autograd.CHUNK // 2), generator=g)
    masks = (torch.rand(3, 2, _autograd.CHUNK // 2, generator=g) < 0.4).double()
    return [
        (lambda a: am.losses.focal(a, bits, alpha=0.25), x),
        (lambda a: am.losses.focal(a, bits * 0.8, gamma=0.5, reduction="none"), x),
        (lambda a: am.losses.log_cosh(a, y), x),
        (lambda a: am.losses.squared_hinge(a, bits, reduction="none"), x),
        (lambda a: am.losses.dice(a, labels, task="multiclass"), scores),
        (lambda a: am.losses.tversky(a, masks, task="multilabel", alpha=0.3, beta=0.7, reduction="none"),
         scores[:, :2]),
    ]


def test_shared_among_worker_threads_or_not_the_results_agree(monkeypatch):
    results = {}
    for busy in (False, True):
        monkeypatch.setattr(_autograd, "_busy", lambda busy=busy: busy)
        out = []
        for fn, x in _cases():
            x = x.clone().requires_grad_(True)
            loss = fn(x)
            (grad,) = torch.autograd.grad(loss.sum(), x)
            out.append((loss.detach(), grad))
        results[busy] = out
    for (loss_a, grad_a), (loss_b, grad_b) in zip(results[False], results[True]):
        torch.testing.assert_close(loss_a, loss_b)
        torch.testing.assert_close(grad_a, grad_b)
