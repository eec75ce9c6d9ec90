"""``am.lint.watch()``: check the first training step(s) of unchanged user code, as it runs.

While active, global module forward hooks name the layers, a :class:`~torch.overrides.TorchFunctionMode` records
every tensor operation (model and training loop alike, so the PyTorch loss functions and what reaches them are
seen), and a global optimizer step pre-hook marks the end of a step: the parameters' ``.grad`` then hold the
user's own backward pass. After ``steps`` optimizer steps (or when the block ends) every rule is run on what was
recorded, the report is printed, and the hooks are removed: nothing stays on the training loop afterwards.

>>> import torch
>>> from torch import nn
>>> import almanac as am
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=1))
>>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
>>> with am.lint.watch(echo=False) as w:
...     for _ in range(3):
...         opt.zero_grad()
...         loss = nn.functional.cross_entropy(model(torch.randn(16, 4)), torch.arange(16) % 3)
...         loss.backward()
...         opt.step()
>>> w.report.codes
['AL001']
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

import torch
from torch import Tensor, nn
from torch.nn.modules import module as module_hooks
from torch.optim import optimizer as optimizer_hooks

from almanac.lint.report import Report
from almanac.lint.trace import Trace, _Recorder

__all__ = ["StopTraining", "Watch", "watch"]


class StopTraining(Exception):
    """Raised from ``optimizer.step()`` once the watched steps are checked, when ``stop=True``."""


class Watch:
    """The context manager :func:`watch` returns; ``report`` holds the findings once the steps are checked."""

    def __init__(self, steps: int, ignore: Iterable[str], metrics: Iterable[Any] | None, task: str | None,
                 stop: bool, echo: bool, stream: TextIO | None):
        from almanac.lint import _ignored

        self.steps, self.stop, self.echo, self.stream = max(1, int(steps)), stop, echo, stream
        self.skip, self.metrics, self.task = _ignored(ignore), list(metrics or ()), task
        self.report: Report | None = None
        self.recorder = _Recorder(measure=True)
        self.recorder.where = "loss"  # ops outside every module: the training loop and the loss
        self.roots: list[tuple[nn.Module, Any, int | None]] = []  # (module, inputs, output's op index)
        self.paths: dict[int, dict[int, str]] = {}
        self.seen_steps = 0
        self.handles: list[Any] = []
        self.active = False

    # -- hooks ----------------------------------------------------------------------------------------------
    def _pre(self, module: nn.Module, args: Any) -> None:
        rec = self.recorder
        if not rec.stack:
            if not any(True for _ in module.parameters()):  # a parameter-free root call: a loss module
                rec.stack.append(("loss", module))
                return
            self.paths.setdefault(id(module), {id(m): n for n, m in module.named_modules()})
            self.roots.append((module, args, None))
            rec.mark(args, -1)
            rec.stack.append(("", module))
            return
        root = next((m for _, m in rec.stack if id(m) in self.paths), None)
        path = self.paths.get(id(root), {}).get(id(module)) if root is not None else None
        rec.stack.append((path if path is not None else rec.stack[-1][0], module))

    def _post(self, module: nn.Module, args: Any, output: Any) -> None:
        rec = self.recorder
        if rec.stack and rec.stack[-1][1] is module:
            rec.stack.pop()
        if not rec.stack and self.roots and self.roots[-1][0] is module:
            from almanac.lint.trace import first_tensor

            out = first_tensor(output)
            self.roots[-1] = (module, args, rec.source(out) if out is not None else None)

    def _step(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        if not self.active or not self.roots:  # an optimizer step with no model call yet (a closure runs later)
            return
        self.seen_steps += 1
        if self.seen_steps < self.steps:
            return
        self.finish()
        if self.stop:
            raise StopTraining("almanac check: the first training step was checked; stopping the script")

    # -- life cycle -----------------------------------------------------------------------------------------
    def __enter__(self) -> Watch:
        self.handles = [module_hooks.register_module_forward_pre_hook(self._pre),
                        module_hooks.register_module_forward_hook(self._post),
                        optimizer_hooks.register_optimizer_step_pre_hook(self._step)]
        self.recorder.__enter__()
        self.active = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.active:
            self.finish()

    def detach(self) -> None:
        """Remove the hooks and leave the recording mode: nothing of the checker stays on the training loop."""
        if not self.active:
            return
        self.active = False
        for handle in self.handles:
            handle.remove()
        self.handles = []
        self.recorder.__exit__(None, None, None)

    def finish(self) -> Report | None:
        """Detach, then check what was recorded (once) and print the report."""
        self.detach()
        if self.report is None:
            self.report = self._analyse()
            if self.report is not None and self.echo:
                stream = self.stream if self.stream is not None else sys.stderr
                print(str(self.report) if self.report.findings else "almanac check: no findings", file=stream)
        return self.report

    def _analyse(self) -> Report | None:
        from almanac.lint import _Site, analyse, loss_sites

        rec = self.recorder
        trace = Trace(rec.ops, None, 1, None, rec.producers, 0)
        sites = loss_sites(trace, None, None)
        if not self.roots:
            return None
        if not sites:  # a loss written by hand (no PyTorch loss function): the model's rules still apply
            model, inputs, output = self.roots[-1]
            out = trace.ops[output] if output is not None and output >= 0 else None
            sites = [_Site(None, None, output if out is not None else None, None)]
        else:
            model, inputs, output = self._model_of(trace, sites[0].source)
        first = next((t for t in _tensors(inputs)), None)
        trace.output = output
        scored = sites[0].output
        trace.batch = int(scored.shape[0]) if scored is not None and scored.ndim else 1
        if first is not None and first.ndim:
            trace.batch = int(first.shape[0])
        values = [op.facts["loss_value"] for op in trace.loss_ops if "loss_value" in op.facts]
        loss_value = next((v for v in values if not bool(torch.isfinite(v).all())), values[0] if values else None)
        grads = {n: (p.grad.detach().clone() if p.grad is not None else None)
                 for n, p in model.named_parameters() if p.requires_grad}
        arg = inputs[0] if isinstance(inputs, tuple) and len(inputs) == 1 else inputs
        return analyse(model, trace, sites, inputs=arg, target=sites[0].target, metrics=self.metrics,
                       task=self.task, dynamic=True, loss_value=loss_value, grads=grads, skip=self.skip)

    def _model_of(self, trace: Trace, source: int | None) -> tuple[nn.Module, Any, int | None]:
        """The root module whose forward produced what reaches the first loss (else the last one called)."""
        index, seen = source, 0
        while index is not None and index >= 0 and seen < len(trace.ops):
            op = trace.ops[index]
            owner = op.module
            for module, inputs, output in reversed(self.roots):
                if owner is not None and any(owner is m for m in module.modules()):
                    return module, inputs, output
            index, seen = op.parent, seen + 1
        return self.roots[-1]


def _tensors(value: Any) -> Iterable[Tensor]:
    from almanac.lint.trace import _tensors as walk

    return walk(value)


def watch(steps: int = 1, *, ignore: Iterable[str] = (), metrics: Iterable[Any] | None = None,
          task: str | None = None, stop: bool = False, echo: bool = True, stream: TextIO | None = None) -> Watch:
    """Watch unchanged training code and check its first ``steps`` optimizer step(s) with every rule.

    Args:
        steps: how many optimizer steps to record before checking (1: the first).
        ignore: rule codes to leave out.
        metrics, task: as for :func:`almanac.lint.check`.
        stop: raise :class:`StopTraining` from ``optimizer.step()`` once checked (``almanac check --run`` does);
            otherwise training goes on, unwatched.
        echo: print the report (to ``stream``, default stderr) when it is made.

    Returns:
        A context manager; its ``report`` is set after the checked step (or when the block ends).
    """
    return Watch(steps, ignore, metrics, task, stop, echo, stream)
