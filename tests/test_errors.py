import pytest

import almanac as am
from almanac.errors import problem

ERRORS = [am.ShapeError, am.TargetError, am.DomainError, am.UndefinedMetricError, am.UnknownNameError,
          am.ConfigError]


@pytest.mark.parametrize("error", ERRORS)
def test_every_error_is_an_almanac_error_and_a_value_error(error):
    assert issubclass(error, am.AlmanacError)
    assert issubclass(error, ValueError)


def test_unknown_name_error_is_a_key_error_with_a_plain_message():
    err = am.UnknownNameError("unknown activation 'rlu'")
    assert isinstance(err, KeyError)
    assert str(err) == "unknown activation 'rlu'"  # KeyError would have quoted it


def test_problem_uses_the_one_template():
    err = problem(am.TargetError, "target", "to hold class indices in [0, 5)", "max 7", "pass num_classes=8")
    assert isinstance(err, am.TargetError)
    assert str(err) == "expected `target` to hold class indices in [0, 5), got max 7 — pass num_classes=8"
