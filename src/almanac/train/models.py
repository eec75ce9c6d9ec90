"""Model builders that take activation names: :func:`mlp`, :func:`cnn` and :func:`unet`.

Every activation of ``am.activations`` fits: a fresh module per layer (so ``prelu`` and learnable ones get their
own parameters); gated ones (``glu``, ``swiglu``, ``geglu``) halve their input, so the layer before them is built
twice as wide. In convolutional models the activations that take a ``dim`` act on the channel dimension.

``output`` is the activation the model ends with: ``"identity"`` when the loss takes logits or values,
``"sigmoid"`` / ``"softmax"`` when it takes probabilities. ``squeeze=True`` drops the last dimension of a
one-unit head, so a binary or regression model returns ``(N,)`` like its target.

>>> import torch
>>> net = mlp(4, 3, hidden=(8,), activation="gelu")
>>> net(torch.randn(2, 4)).shape
torch.Size([2, 3])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from almanac import _checks

__all__ = ["MeanVariance", "Rescale", "Squeeze", "UNet", "cnn", "make_activation", "mlp", "unet"]


def make_activation(name: str, *, dim: int | None = None, **params: Any) -> nn.Module:
    """The activation ``name`` as a module; ``dim`` is passed only to activations that take one."""
    from almanac import activations

    spec = activations.spec(name)
    if dim is not None and "dim" in spec.params:
        params = {"dim": dim, **params}
    return activations.get(spec.name, **params)


def _width_factor(name: str, dim: int, **params: Any) -> int:
    """2 for gated activations that halve ``dim`` (GLU family), else 1; found by running it once."""
    probe = torch.zeros((1, 4, 1, 1) if dim == 1 else (1, 4))
    with torch.no_grad():
        out = make_activation(name, dim=dim, **params)(probe)
    return 4 // out.shape[dim]


class Squeeze(nn.Module):
    """Drop the last dimension (of size 1): ``(N, 1) → (N,)``, so a one-unit head matches its target."""

    def forward(self, x: Tensor) -> Tensor:
        return x.squeeze(-1)


class MeanVariance(nn.Module):
    """``(N, 2)`` raw outputs → ``(N, 2)`` means and variances in the target's units, for a Gaussian NLL:
    ``mean = x₀ · std + mu``, ``var = softplus(x₁) · std²`` (positive by construction)."""

    def __init__(self, mean: float, std: float):
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, x: Tensor) -> Tensor:
        return torch.stack([x[:, 0] * self.std + self.mean, nn.functional.softplus(x[:, 1]) * self.std**2], dim=1)


class Rescale(nn.Module):
    """``x · std + mean`` with fixed buffers: the head of a regression model trained on raw targets.

    The layers before it work at unit scale; the model predicts in the target's own units.
    """

    def __init__(self, mean: float, std: float):
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.std + self.mean


def mlp(
    in_features: int,
    out_features: int,
    *,
    hidden: Sequence[int] = (128, 64),
    activation: str = "relu",
    output: str = "identity",
    dropout: float = 0.0,
    squeeze: bool = False,
    activation_params: dict[str, Any] | None = None,
) -> nn.Sequential:
    """A multi-layer perceptron: flatten, then ``Linear → activation`` per hidden width, then a linear head.

    Args:
        in_features: inputs per sample (after flattening: images work too).
        out_features: head width (classes, labels, or 1).
        hidden: hidden layer widths.
        activation: the hidden activation, any name of ``am.activations``.
        output: what the model ends with (an activation name, ``"identity"`` for logits or values).
        dropout: dropout probability after each hidden activation.
        squeeze: drop the last dimension of a one-unit head.
        activation_params: keywords for the hidden activation (``{"negative_slope": 0.1}``).
    """
    _checks.check_number(in_features, "in_features", low=1, integer=True)
    _checks.check_number(out_features, "out_features", low=1, integer=True)
    _checks.check_number(dropout, "dropout", low=0.0, high=1.0, high_open=True)
    params = activation_params or {}
    factor = _width_factor(activation, -1, **params)
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for h in hidden:
        _checks.check_number(h, "hidden width", low=1, integer=True)
        layers += [nn.Linear(width, h * factor), make_activation(activation, **params)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    if output != "identity":
        layers.append(make_activation(output, dim=-1))
    if squeeze:
        layers.append(Squeeze())
    return nn.Sequential(*layers)


def cnn(
    in_channels: int,
    out_features: int,
    *,
    channels: Sequence[int] = (32, 64),
    activation: str = "relu",
    output: str = "identity",
    squeeze: bool = False,
    activation_params: dict[str, Any] | None = None,
) -> nn.Sequential:
    """A small convolutional classifier: per width ``Conv3×3 → activation → MaxPool2``, global average pooling,
    a linear head. Inputs ``(N, C, H, W)``.

    >>> import torch
    >>> cnn(1, 10, channels=(4, 8))(torch.randn(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """
    _checks.check_number(in_channels, "in_channels", low=1, integer=True)
    _checks.check_number(out_features, "out_features", low=1, integer=True)
    params = activation_params or {}
    factor = _width_factor(activation, 1, **params)
    layers: list[nn.Module] = []
    width = in_channels
    for c in channels:
        layers += [nn.Conv2d(width, c * factor, 3, padding=1), make_activation(activation, dim=1, **params),
                   nn.MaxPool2d(2, ceil_mode=True)]
        width = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, out_features)]
    if output != "identity":
        layers.append(make_activation(output, dim=-1))
    if squeeze:
        layers.append(Squeeze())
    return nn.Sequential(*layers)


class _Block(nn.Sequential):
    def __init__(self, cin: int, cout: int, name: str, params: dict[str, Any], factor: int):
        super().__init__(nn.Conv2d(cin, cout * factor, 3, padding=1), make_activation(name, dim=1, **params),
                         nn.Conv2d(cout, cout * factor, 3, padding=1), make_activation(name, dim=1, **params))


class UNet(nn.Module):
    """A small U-Net: an encoder of conv blocks and 2× poolings, a decoder of 2× up-convolutions with skip
    connections, a 1×1 head of ``num_classes`` channels. Height and width must be divisible by 2**(depth-1)."""

    def __init__(self, in_channels: int, num_classes: int, channels: Sequence[int], name: str,
                 params: dict[str, Any], output: str):
        super().__init__()
        factor = _width_factor(name, 1, **params)
        self.down = nn.ModuleList()
        width = in_channels
        for c in channels:
            self.down.append(_Block(width, c, name, params, factor))
            width = c
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for c in reversed(channels[:-1]):
            self.up.append(nn.ConvTranspose2d(width, c, 2, stride=2))
            self.merge.append(_Block(2 * c, c, name, params, factor))
            width = c
        self.head = nn.Conv2d(width, num_classes, 1)
        self.out = make_activation(output, dim=1) if output != "identity" else nn.Identity()
        self.divisor = 2 ** (len(channels) - 1)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] % self.divisor or x.shape[-2] % self.divisor:
            from almanac.errors import ShapeError, problem

            raise problem(ShapeError, "input", f"height and width divisible by {self.divisor}",
                          f"shape {tuple(x.shape)}", "pad or crop the images, or use fewer levels")
        skips = []
        for i, block in enumerate(self.down):
            x = block(x)
            if i < len(self.down) - 1:
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
        for up, merge in zip(self.up, self.merge):
            x = merge(torch.cat([up(x), skips.pop()], dim=1))
        return self.out(self.head(x))


def unet(
    in_channels: int,
    num_classes: int,
    *,
    channels: Sequence[int] = (16, 32, 64),
    activation: str = "relu",
    output: str = "identity",
    activation_params: dict[str, Any] | None = None,
) -> UNet:
    """A small U-Net for segmentation: ``(N, C, H, W) → (N, num_classes, H, W)`` scores per pixel.

    >>> import torch
    >>> unet(1, 3, channels=(4, 8))(torch.randn(2, 1, 16, 16)).shape
    torch.Size([2, 3, 16, 16])
    """
    _checks.check_number(in_channels, "in_channels", low=1, integer=True)
    _checks.check_number(num_classes, "num_classes", low=1, integer=True)
    return UNet(in_channels, num_classes, tuple(channels), activation, activation_params or {}, output)
