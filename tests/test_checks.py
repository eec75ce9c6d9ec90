import math

import numpy as np
import pytest
import torch

from almanac import _checks as checks
from almanac.errors import ConfigError, DomainError, ShapeError, TargetError


def test_check_choice_names_the_allowed_values():
    assert checks.check_choice("mean", "reduction", ("mean", "sum", "none")) == "mean"
    with pytest.raises(ConfigError, match="expected `reduction` to be one of 'mean', 'sum', 'none', got 'avg'"):
        checks.check_choice("avg", "reduction", ("mean", "sum", "none"))


@pytest.mark.parametrize("value", [-1.0, math.nan, "2", True, None])
def test_check_number_refuses_values_outside_the_interval(value):
    with pytest.raises(ConfigError, match="gamma"):
        checks.check_number(value, "gamma", low=0.0)


def test_check_number_open_bounds_and_integers():
    assert checks.check_number(0.5, "q", low=0.0, high=1.0, low_open=True, high_open=True) == 0.5
    with pytest.raises(ConfigError, match=r"\(0.0, 1.0\)"):
        checks.check_number(1.0, "q", low=0.0, high=1.0, low_open=True, high_open=True)
    with pytest.raises(ConfigError, match="integer"):
        checks.check_number(2.0, "n_bins", low=1, integer=True)


def test_to_tensor_accepts_arrays_and_lists_and_refuses_strings():
    assert checks.to_tensor([1, 2], "x").dtype == torch.int64
    assert checks.to_tensor(np.array([0.5]), "x").dtype == torch.float64
    with pytest.raises(TargetError, match="numbers"):
        checks.to_tensor(["a"], "x")
    with pytest.raises(TargetError, match="tensor"):
        checks.to_tensor({"a": 1}, "x")


def test_check_same_shape_never_broadcasts_and_suggests_the_squeeze():
    checks.check_same_shape(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ShapeError, match="squeeze the trailing 1 of `input`"):
        checks.check_same_shape(torch.zeros(4, 1), torch.zeros(4))
    with pytest.raises(ShapeError, match="never broadcasts"):
        checks.check_same_shape(torch.zeros(4, 3), torch.zeros(3))


def test_check_finite_counts_bad_values():
    checks.check_finite(torch.ones(3), "x")
    with pytest.raises(DomainError, match="2 NaN or inf"):
        checks.check_finite(torch.tensor([1.0, math.nan, math.inf]), "x")


def test_check_probabilities_asks_for_the_keyword_never_guesses():
    checks.check_probabilities(torch.tensor([0.0, 1.0]), "preds")
    for bad in ([1.5], [-0.1], [math.nan]):
        with pytest.raises(DomainError, match="from_logits=True"):
            checks.check_probabilities(torch.tensor(bad), "preds")


def test_check_class_indices():
    checks.check_class_indices(torch.tensor([0, 4, -100]), "target", 5, ignore_index=-100)
    with pytest.raises(TargetError, match=r"in \[0, 5\), got max 7 — fix the labels, or give `input` 8 classes"):
        checks.check_class_indices(torch.tensor([0, 7]), "target", 5)
    with pytest.raises(TargetError, match="min -1"):
        checks.check_class_indices(torch.tensor([0, -1]), "target", 5)
    with pytest.raises(TargetError, match="integer class indices"):
        checks.check_class_indices(torch.tensor([0.0, 1.0]), "target", 5)


def test_check_ndim():
    checks.check_ndim(torch.zeros(2, 3), "x", (2,))
    with pytest.raises(ShapeError, match="2 or 3 dimensions"):
        checks.check_ndim(torch.zeros(2), "x", (2, 3))


def test_check_number_takes_numpy_scalars_as_python_numbers():
    import numpy as np

    n = checks.check_number(np.int64(3), "num_classes", integer=True, low=1)
    assert n == 3 and type(n) is int
    t = checks.check_number(np.float32(0.5), "threshold", low=0.0, high=1.0)
    assert t == 0.5 and type(t) is float
    for bad in (np.True_, True, "3", None):
        with pytest.raises(ConfigError, match="to be a number"):
            checks.check_number(bad, "threshold")
    with pytest.raises(ConfigError, match="to be an integer"):
        checks.check_number(np.float64(2.0), "num_classes", integer=True)
