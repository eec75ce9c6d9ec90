import pytest
from loss_table import EXAMPLES


@pytest.fixture(params=sorted(EXAMPLES))
def loss_name(request: pytest.FixtureRequest) -> str:
    return request.param
