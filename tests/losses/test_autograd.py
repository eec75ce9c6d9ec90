"""The chunked kernels leave the caller's thread settings alone and give the same result at any thread count."""

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
