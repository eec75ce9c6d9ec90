import pytest
import torch

import almanac as am
from almanac.train.models import Rescale, cnn, mlp, unet


@pytest.mark.parametrize("name", am.activations.names())
def test_every_activation_builds_every_model_and_backpropagates(name):
    torch.manual_seed(0)
    for model, x, shape in (
        (mlp(6, 3, hidden=(8, 8), activation=name), torch.randn(4, 6), (4, 3)),
        (cnn(1, 3, channels=(4, 6), activation=name), torch.randn(2, 1, 8, 8), (2, 3)),
        (unet(1, 3, channels=(4, 6), activation=name), torch.randn(2, 1, 8, 8), (2, 3, 8, 8)),
    ):
        out = model(x)
        assert out.shape == shape
        out.square().mean().backward()
        assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_gated_activations_double_the_layer_before_them():
    net = mlp(5, 2, hidden=(8,), activation="glu")
    assert net[1].out_features == 16 and net(torch.randn(3, 5)).shape == (3, 2)


def test_learnable_activations_get_their_own_parameters_per_layer():
    net = mlp(4, 2, hidden=(8, 8), activation="prelu")
    learnable = [m for m in net if not isinstance(m, torch.nn.Linear) and list(m.parameters())]
    assert len(learnable) == 2 and learnable[0].state_dict().keys() and learnable[0] is not learnable[1]


def test_heads():
    assert mlp(4, 1, output="sigmoid", squeeze=True)(torch.randn(5, 4)).shape == (5,)
    probs = mlp(4, 3, output="softmax")(torch.randn(5, 4))
    assert torch.allclose(probs.sum(1), torch.ones(5))
    seg = unet(1, 3, channels=(4, 8), output="softmax")(torch.randn(2, 1, 8, 8))
    assert torch.allclose(seg.sum(1), torch.ones(2, 8, 8))
    assert torch.equal(Rescale(10.0, 2.0)(torch.tensor([0.0, 1.0])), torch.tensor([10.0, 12.0]))


def test_bad_names_and_shapes_raise_clear_errors():
    with pytest.raises(am.UnknownNameError, match="did you mean"):
        mlp(4, 2, activation="rleu")
    with pytest.raises(am.ShapeError, match="divisible by 2"):
        unet(1, 2, channels=(4, 8))(torch.randn(1, 1, 7, 7))
