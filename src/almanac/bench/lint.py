"""``almanac bench lint``: the cost of ``am.lint.check`` against one training step of the same model.

A ResNet-18 (BasicBlocks [2, 2, 2, 2], widths 64–512, 11.7M parameters) on a batch of 32 RGB images: ``check``
with the sample batch (the traced forward, the traced loss call, one backward and every rule) against a plain
training step (forward, cross-entropy, backward). The issue's target is ≤ 3× the training step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from almanac.bench.harness import Case, Contender, fwd_bwd

__all__ = ["cases", "resnet18"]


class _Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.down = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
                     if stride != 1 or c_in != c_out else nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.down(x))


def resnet18(classes: int = 10) -> nn.Module:
    """ResNet-18 as torchvision lays it out (BasicBlocks [2, 2, 2, 2]), with a 3×3 stem for small images.

    >>> sum(p.numel() for p in resnet18(1000).parameters()) > 11_000_000
    True
    """
    layers: list[nn.Module] = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
    c_in = 64
    for c_out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [_Block(c_in, c_out, stride), _Block(c_out, c_out, 1)]
        c_in = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
    return nn.Sequential(*layers)


def cases(scale: float, *, compile: bool = True) -> list[Case]:
    """One case: batch ``32·scale`` (at least 2) of 64×64 images (16×16 below scale 0.5); ``compile`` is unused."""
    from almanac import lint

    g = torch.Generator().manual_seed(0)
    batch = max(2, round(32 * scale))
    size = 64 if scale >= 0.5 else 16
    torch.manual_seed(0)
    model = resnet18()
    x = torch.randn(batch, 3, size, size, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    loss = nn.CrossEntropyLoss()
    step = fwd_bwd(lambda: loss(model(x), y), *model.parameters())
    return [Case("check_resnet18", f"({batch}, 3, {size}, {size}) f32", [
        Contender("am.lint.check", lambda: lint.check(model, loss, inputs=x, target=y), memory=False),
        Contender("training step", step, memory=False, target="≤ 3×"),
    ])]
