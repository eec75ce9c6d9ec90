"""am.lint.watch: the first optimizer step of unchanged training code is checked, then every hook is removed."""

from __future__ import annotations

import io

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules import module as module_hooks
from torch.optim import optimizer as optimizer_hooks

import almanac as am
from almanac.lint.watch import StopTraining


def _hooks_installed() -> tuple[int, int, int, int]:
    return (len(module_hooks._global_forward_pre_hooks), len(module_hooks._global_forward_hooks),
            len(optimizer_hooks._global_optimizer_pre_hooks), torch._C._len_torch_function_stack())


def test_watch_checks_the_first_step_and_detaches() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = _hooks_installed()
    stream = io.StringIO()
    with am.lint.watch(stream=stream) as w:
        for _ in range(3):
            loss = F.binary_cross_entropy_with_logits(model(torch.randn(8, 6)), (torch.arange(8) % 2).float()[:, None])
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert _hooks_installed() == before  # detached after the first step, inside the block
    assert w.report is not None and w.report.codes == ["AL002"]
    assert "error AL002" in stream.getvalue() and w.report.findings[0].where == "3"


class Generator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 6), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def test_watch_a_gan_step_reads_the_gradients_of_the_model_that_feeds_the_loss() -> None:
    torch.manual_seed(0)
    gen, disc = Generator(), nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3)
    with am.lint.watch(echo=False) as w:
        real, fake = torch.randn(8, 6), gen(torch.randn(8, 4)).detach()
        loss = F.binary_cross_entropy_with_logits(disc(real), torch.ones(8, 1)) + \
            F.binary_cross_entropy_with_logits(disc(fake), torch.zeros(8, 1))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
    assert w.report is not None and not w.report.findings, str(w.report)


def test_watch_with_stop_raises_from_the_optimizer_step() -> None:
    model = nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    raised = False
    with am.lint.watch(stop=True, echo=False) as w:
        try:
            F.cross_entropy(model(torch.randn(4, 3)), torch.tensor([0, 1, 0, 1])).backward()
            opt.step()
        except StopTraining:
            raised = True
    assert raised and w.report is not None and w.report.ok


def test_watch_a_hand_written_loss_still_checks_the_model_and_stops() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=0))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = 0
    with am.lint.watch(stop=True, echo=False) as w:
        try:
            for _ in range(3):
                loss = -(F.one_hot(torch.arange(8) % 3, 3) * torch.log(model(torch.randn(8, 6)))).sum(1).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                steps += 1
        except StopTraining:
            pass
    assert steps == 0 and w.report is not None and "AL017" in w.report.codes
