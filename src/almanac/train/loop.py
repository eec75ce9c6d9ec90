"""The training loop: :func:`fit` any ``nn.Module`` with a loss, then validation metrics, epoch by epoch.

One epoch: forward, loss against the truth, backward, optimizer step over the shuffled training data; then the
validation loss and the streaming metrics over the validation data. With a ``run_dir`` each finished epoch appends
a row to ``history.csv`` and writes the checkpoint atomically, so ``resume=True`` continues from the last finished
epoch after any crash. When ``torch.distributed`` is initialised (``torchrun``) the same code runs data-parallel:
DistributedDataParallel, a DistributedSampler, metrics combined across ranks, files written by rank 0 only.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset, TensorDataset

from almanac import _checks
from almanac.errors import AlmanacError, ConfigError, DomainError, ShapeError, UndefinedMetricError, problem
from almanac.train import checkpoint, distributed
from almanac.train.files import remove_temporaries
from almanac.train.history import History

__all__ = ["best_epoch", "check_resumable", "evaluate", "fit", "predict"]

CHECKPOINT = "checkpoint.pt"
BEST = "best.pt"
HISTORY = "history.csv"
PRECISIONS = ("32", "bf16", "fp16")
SCHEDULES = ("none", "cosine", "onecycle")
LOGGERS = ("tensorboard", "mlflow")
_STATE_KEYS = ("epoch", "model", "optimizer", "history", "rng")


def best_epoch(history: Any, monitor: str, maximize: bool) -> int:
    """The epoch whose ``monitor`` column is best (the first of ties; NaN never wins; the last epoch when the
    column is missing or all NaN).

    >>> best_epoch([{"epoch": 1, "v": 0.5}, {"epoch": 2, "v": 0.9}, {"epoch": 3, "v": 0.7}], "v", True)
    2
    """
    rows = [r for r in history if isinstance(r.get(monitor), (int, float)) and math.isfinite(r[monitor])]
    if not rows:
        return int(list(history)[-1]["epoch"]) if len(list(history)) else 0
    pick = max if maximize else min
    return int(pick(rows, key=lambda r: r[monitor])["epoch"])


def _check_state(state: Any, path: Path) -> None:
    """A checkpoint's layout: the keys, an epoch in [0, len(history)] matching its history rows 1..epoch."""
    def bad(got: str) -> ConfigError:
        return problem(ConfigError, "checkpoint", "an almanac checkpoint (epoch, model, optimizer, history, rng)",
                       f"{got} in {path}", "restore the file or start a new run")

    if not isinstance(state, dict):
        raise bad(type(state).__name__)
    missing = [k for k in _STATE_KEYS if k not in state]
    if missing:
        raise bad(f"no {', '.join(missing)}")
    epoch, rows = state["epoch"], state["history"]
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 1:
        raise bad(f"epoch {epoch!r}")
    if (not isinstance(rows, list) or len(rows) != epoch or not all(isinstance(r, dict) for r in rows)
            or [r.get("epoch") for r in rows] != list(range(1, epoch + 1))):
        raise bad("a history that does not list epochs 1.." + str(epoch))


def check_resumable(run_dir: str | os.PathLike[str], model: nn.Module) -> None:
    """Raise the ConfigError a resume of ``run_dir`` would raise (checkpoint layout, weights that fit ``model``)
    before anything in the run directory is written."""
    import copy

    saved = Path(run_dir) / CHECKPOINT
    if not saved.exists():
        return
    state = checkpoint.load(saved)
    _check_state(state, saved)
    try:
        copy.deepcopy(model).load_state_dict(state["model"])
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise problem(ConfigError, "checkpoint", "weights and states that fit the model of the config",
                      f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}",
                      "resume with the config the run was started with, or start a new run") from exc


def _autocast(device: torch.device, precision: str) -> Any:
    if precision == "32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def _scheduler(schedule: str, optimizer: torch.optim.Optimizer, lr: float, steps: int) -> Any:
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    return None


def _dataset(data: Any, name: str) -> Dataset:
    """A ``Dataset`` from a ``Dataset`` or a tuple ``(inputs, target[, metric_target])`` of tensors."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (tuple, list)) and len(data) in (2, 3) and all(isinstance(t, Tensor) for t in data):
        lengths = {len(t) for t in data}
        if len(lengths) != 1:
            raise problem(ShapeError, name, "to hold tensors of the same length",
                          f"lengths {[len(t) for t in data]}", "pass one row per sample in each tensor")
        return TensorDataset(*data)
    raise problem(ConfigError, name, "to be a torch Dataset or a tuple (inputs, target) of tensors",
                  type(data).__name__, "wrap your data in a TensorDataset")


def _output_fn(output: str | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """What turns model outputs into metric inputs: an activation name (applied on dim 1) or a callable."""
    if callable(output):
        return output
    from almanac import activations

    spec = activations.spec(output)
    return activations.get(spec.name, **({"dim": 1} if "dim" in spec.params else {}))


def _metrics(metrics: Any, metric_params: Mapping[str, Any]) -> Any:
    """A streaming metric collection from names, a mapping name → name or metric, or a collection."""
    from almanac import metrics as catalog

    if isinstance(metrics, catalog.MetricCollection):
        if metric_params:
            raise problem(ConfigError, "metric_params", "only with metric names", f"{sorted(metric_params)} with a "
                          "built collection", "build the collection with those keywords, or pass names")
        return metrics
    return catalog.collection(metrics, **metric_params) if metrics else None


def _values(name: str, value: Any) -> dict[str, float]:
    """History columns of one metric value: a scalar is one column, a vector ``name_0, name_1, ...``."""
    if isinstance(value, Tensor):
        value = value.detach().cpu()
        if value.numel() == 1:
            return {name: float(value)}
        return {f"{name}_{i}": float(v) for i, v in enumerate(value.flatten())}
    return {name: float(value)}


def _batch(batch: Sequence[Tensor], device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    x, y = batch[0].to(device, non_blocking=True), batch[1].to(device, non_blocking=True)
    return x, y, (batch[2].to(device, non_blocking=True) if len(batch) > 2 else y)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loss: Callable[[Tensor, Tensor], Tensor] | None,
    data: Any,
    *,
    metrics: Sequence[Any] | Mapping[str, Any] | Any = (),
    metric_params: Mapping[str, Any] | None = None,
    output: str | Callable[[Tensor], Tensor] = "identity",
    batch_size: int = 256,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """Mean loss (``"loss"``) and metrics of ``model`` on ``data``; metrics are combined across ranks when
    ``torch.distributed`` is initialised (each rank passes its own shard).

    ``output`` turns model outputs into what the metrics take ("softmax", "sigmoid", "identity" or a callable).
    """
    dataset = _dataset(data, "data")
    device = torch.device(device)
    objects = _metrics(metrics, metric_params or {})
    to_preds = _output_fn(output)
    if objects is not None:
        objects.reset()
    was_training = model.training
    model.eval()
    loss_sum, seen = torch.zeros((), dtype=torch.float64, device=device), 0
    for batch in DataLoader(dataset, batch_size=batch_size):
        x, y, y_metric = _batch(batch, device)
        out = model(x)
        seen += len(x)
        if loss is not None:
            loss_sum += loss(out, y).detach().double() * len(x)
        if objects is not None:
            objects.update(to_preds(out), y_metric)
    model.train(was_training)
    total = distributed.all_sum(torch.stack([loss_sum, torch.tensor(float(seen), dtype=torch.float64, device=device)]))
    result = {"loss": float(total[0] / total[1])} if loss is not None and total[1] > 0 else {}
    for name in objects or ():
        try:
            result.update(_values(name, objects[name].compute()))
        except UndefinedMetricError:  # e.g. AUROC with one class in the data: recorded as NaN, not a crash
            result[name] = math.nan
    return result


@torch.no_grad()
def predict(
    model: nn.Module,
    data: Any,
    *,
    output: str | Callable[[Tensor], Tensor] = "identity",
    batch_size: int = 256,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    """Predictions (after ``output``) and metric targets of ``model`` on all of ``data``, on the CPU."""
    dataset = _dataset(data, "data")
    to_preds = _output_fn(output)
    was_training = model.training
    model.eval()
    preds, targets = [], []
    for batch in DataLoader(dataset, batch_size=batch_size):
        x, _, y_metric = _batch(batch, torch.device(device))
        preds.append(to_preds(model(x)).cpu())
        targets.append(y_metric.cpu())
    model.train(was_training)
    return torch.cat(preds), torch.cat(targets)


class _Progress:
    """Progress on stderr, rank 0 only: a rich bar (epoch, batch, running loss, last validation value of the main
    metric) on a terminal, one line per finished epoch otherwise (logs, pipes)."""

    def __init__(self, enabled: bool, epochs: int, batches: int, main_metric: str | None):
        self.enabled, self.live, self.epochs, self.main_metric = enabled, False, epochs, main_metric
        self.last: dict[str, Any] = {}
        self.printed = 0  # the last epoch printed as a line
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.live = self.console.is_terminal
        if self.live:
            self.bar = Progress(TextColumn("[bold]epoch {task.fields[epoch]}/" + str(epochs)),
                                BarColumn(bar_width=18), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                                TimeElapsedColumn(), console=self.console)
            self.task = self.bar.add_task("train", total=batches, epoch=0, info="")
            self.bar.start()

    def _info(self, loss: float | None) -> str:
        parts = [] if loss is None else [f"loss {loss:.4f}"]
        key = f"val_{self.main_metric}"
        if key in self.last:
            parts.append(f"val {self.main_metric} {self.last[key]:.4f}")
        return " · ".join(parts)

    def epoch(self, epoch: int, last: dict[str, Any]) -> None:
        """Start ``epoch``; ``last`` is the row of the previous one."""
        self.last = last
        if self.live:
            self.bar.reset(self.task, epoch=epoch, info=self._info(None))
        elif self.enabled and last and last["epoch"] != self.printed:
            self.console.print(f"epoch {last['epoch']}/{self.epochs}: {_summary(last, self.main_metric)}",
                               highlight=False)
            self.printed = last["epoch"]

    def advance(self, loss: float | None = None) -> None:
        if self.live:
            self.bar.update(self.task, advance=1, **({} if loss is None else {"info": self._info(loss)}))

    def close(self, last: dict[str, Any]) -> None:
        """End with the row of the last epoch."""
        if self.live:
            self.last = last
            self.bar.update(self.task, info=self._info(last.get("train_loss")))
            self.bar.stop()
        elif self.enabled and last:
            self.epoch(0, last)


def fit(
    model: nn.Module,
    loss: Callable[[Tensor, Tensor], Tensor],
    train_data: Any,
    val_data: Any = None,
    *,
    metrics: Sequence[Any] | Mapping[str, Any] | Any = (),
    metric_params: Mapping[str, Any] | None = None,
    output: str | Callable[[Tensor], Tensor] = "identity",
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    optimizer: torch.optim.Optimizer | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
    run_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = False,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
    precision: str = "32",
    schedule: str = "none",
    early_stop: int | None = None,
    monitor: str | None = None,
    maximize: bool | None = None,
) -> History:
    """Train ``model`` with ``loss`` on ``train_data`` for ``epochs``; validate on ``val_data`` after each epoch.

    Args:
        model: any ``nn.Module``; its outputs go to ``loss`` as they are (the head must fit the loss).
        loss: ``loss(outputs, target) -> scalar``, e.g. ``am.losses.get("cross_entropy")``.
        train_data, val_data: a ``Dataset`` or a tuple ``(inputs, target)`` of tensors; a third tensor, when
            given, is the target the metrics see (class indices beside soft labels, for example).
        metrics: what ``am.metrics.collection`` takes (metric names and/or streaming metrics, or a mapping
            name → either) with the shared ``metric_params`` (``task``, ``num_classes``, ...), or a collection.
        output: what turns outputs into metric inputs: ``"softmax"`` (on dim 1), ``"sigmoid"``, ``"identity"``
            or a callable.
        epochs, batch_size, lr, weight_decay: the run; the optimizer is Adam unless ``optimizer`` is given.
        device: ``"cpu"``, ``"cuda"`` or a ``torch.device``.
        seed: seeds the shuffling (per epoch, so a resumed run sees the same order) and the torch generator.
        run_dir: where ``history.csv`` and ``checkpoint.pt`` are written after every epoch (rank 0 only).
        resume: continue from the checkpoint in ``run_dir`` (from scratch if there is none yet).
        progress: show a progress bar on stderr.
        on_epoch_end: called with each finished epoch's row.
        precision: ``"32"``, ``"bf16"`` or ``"fp16"``: the forward pass under ``torch.autocast`` (fp16 with a
            ``GradScaler``); the loss is computed in float32.
        schedule: the learning rate per batch: ``"none"``, ``"cosine"`` (annealed to 0) or ``"onecycle"``.
        early_stop: stop after this many epochs in a row without a better ``monitor``.
        monitor, maximize: the history column that picks the best epoch (default: the first metric, higher is
            better when its spec says so; ``val_loss`` minimised without metrics). With a ``run_dir`` the best
            epoch's weights are kept in ``best.pt`` beside ``checkpoint.pt``.

    Returns:
        The :class:`~almanac.train.history.History`: one row per epoch with ``epoch, train_loss, val_loss``,
        one column per metric (prefixed ``val_``), ``lr`` and ``seconds``.

    >>> import torch, almanac as am
    >>> x = torch.randn(64, 3); y = (x.sum(1) > 0).long()
    >>> model = torch.nn.Linear(3, 2)
    >>> h = am.train.fit(model, torch.nn.CrossEntropyLoss(), (x, y), (x, y), epochs=2)
    >>> len(h), sorted(h.last)[:3]
    (2, ['epoch', 'lr', 'seconds'])
    """
    _checks.check_number(epochs, "epochs", low=1, integer=True)
    _checks.check_number(batch_size, "batch_size", low=1, integer=True)
    _checks.check_number(lr, "lr", low=0, high=math.inf, low_open=True, high_open=True)
    _checks.check_number(seed, "seed", low=0, high=2**63 - 1, integer=True)
    if early_stop is not None:
        _checks.check_number(early_stop, "early_stop", low=1, integer=True)
    for name, value, allowed in (("precision", precision, PRECISIONS), ("schedule", schedule, SCHEDULES)):
        if value not in allowed:
            raise problem(ConfigError, name, f"one of {', '.join(allowed)}", repr(value), "pick one of these")
    device = torch.device(device)
    train_set = _dataset(train_data, "train_data")
    val_set = _dataset(val_data, "val_data") if val_data is not None else None
    objects = _metrics(metrics, metric_params or {})
    to_preds = _output_fn(output)
    if objects is not None and val_set is None:
        raise problem(ConfigError, "val_data", "to be given when metrics are", "None", "pass val_data")
    run_path = Path(run_dir) if run_dir is not None else None
    if resume and run_path is None:
        raise problem(ConfigError, "run_dir", "to be given with resume=True", "None", "pass the run directory")
    main = distributed.is_main()
    if monitor is None:
        monitor, maximize = _default_monitor(objects)
    maximize = bool(maximize)

    torch.manual_seed(seed)
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
    sampler = DistributedSampler(train_set, num_replicas=distributed.world_size(), rank=distributed.rank(),
                                 shuffle=True, seed=seed)
    loader = DataLoader(train_set, batch_size=batch_size, sampler=sampler, pin_memory=device.type == "cuda")
    scheduler = _scheduler(schedule, optimizer, lr, epochs * len(loader))
    history, start = History(), 0
    if run_path is not None:
        saved = run_path / CHECKPOINT
        if saved.exists() and not resume:
            raise problem(ConfigError, "run_dir", "to hold no earlier run", f"a checkpoint in {run_path}",
                          "resume it, or pick another directory")
        if saved.exists():
            state = checkpoint.load(saved)  # on the CPU: RNG states must stay there; weights are copied over
            _check_state(state, saved)
            try:
                model.load_state_dict(state["model"])
                optimizer.load_state_dict(state["optimizer"])
                if scheduler is not None and state.get("scheduler"):
                    scheduler.load_state_dict(state["scheduler"])
                if scaler is not None and state.get("scaler"):
                    scaler.load_state_dict(state["scaler"])
                history, start = History(state["history"]), int(state["epoch"])
                checkpoint.set_rng_state(state["rng"])
            except (RuntimeError, KeyError, TypeError, ValueError) as exc:
                raise problem(ConfigError, "checkpoint", "weights and states that fit the model of the config",
                              f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}",
                              "resume with the config the run was started with, or start a new run") from exc
            if start > epochs:
                raise problem(ConfigError, "epochs", f"at least the {start} epochs the run has finished",
                              str(epochs), f"pass epochs={start} or more")
        if main:
            history.write(run_path / HISTORY)  # the checkpoint's rows: drops a row written after it, if any
            remove_temporaries(run_path)  # left by a write that a crash interrupted

    net: nn.Module = model
    if distributed.active():
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
    val_shard = (Subset(val_set, range(distributed.rank(), len(val_set), distributed.world_size()))
                 if val_set is not None else None)

    main_metric = next(iter(objects or ()), None)
    bar = _Progress(progress and main, epochs, len(loader), main_metric)
    best = best_epoch(history, monitor, maximize) if len(history) else 0
    try:
        for epoch in range(start + 1, epochs + 1):
            if early_stop is not None and best and epoch - 1 - best >= early_stop:
                break  # early_stop epochs in a row without a better monitor (also after a resume)
            began = time.perf_counter()
            sampler.set_epoch(epoch)
            net.train()
            bar.epoch(epoch, history.last)
            loss_sum, seen = torch.zeros((), dtype=torch.float64, device=device), 0
            for step, batch in enumerate(loader):
                x, y, _ = _batch(batch, device)
                optimizer.zero_grad(set_to_none=True)
                with _autocast(device, precision):
                    out = net(x)
                value = loss(out.float(), y)
                if scaler is not None:
                    scaler.scale(value).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    value.backward()
                    optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                loss_sum += value.detach().double() * len(x)
                seen += len(x)
                # the bar shows the running loss every few batches: one host sync there, none in between
                bar.advance(float(loss_sum) / seen if bar.live and step % 5 == 4 else None)
            total = distributed.all_sum(torch.stack([loss_sum, torch.tensor(float(seen), dtype=torch.float64,
                                                                            device=device)]))
            row: dict[str, Any] = {"epoch": epoch, "train_loss": float(total[0] / total[1])}
            if not math.isfinite(row["train_loss"]):
                raise problem(DomainError, "training loss", f"to stay finite (epoch {epoch})",
                              str(row["train_loss"]), "lower the learning rate, or pick another activation or loss; "
                              "the checkpoint of the last finite epoch is kept")
            if val_shard is not None:
                scores = evaluate(model, loss, val_shard, metrics=objects, output=to_preds, device=device)
                row["val_loss"] = scores.pop("loss", math.nan)
                row.update({f"val_{k}": v for k, v in scores.items()})
            row["lr"] = float(optimizer.param_groups[0]["lr"])
            row["seconds"] = round(time.perf_counter() - began, 3)
            history.append(row)
            improved = best_epoch(history, monitor, maximize) == epoch
            best = epoch if improved else best
            if main and run_path is not None:
                # history first, then best.pt, then the checkpoint: a crash in between re-runs this epoch and
                # the resume rewrites history.csv from the checkpoint, so the row is neither lost nor duplicated
                history.append_to(run_path / HISTORY)
                if improved:
                    checkpoint.save(run_path / BEST, {"epoch": epoch, "model": model.state_dict(),
                                                      "monitor": monitor, "value": row.get(monitor, math.nan)})
                checkpoint.save(run_path / CHECKPOINT, {
                    "epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "history": list(history), "rng": checkpoint.get_rng_state(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else {},
                    "scaler": scaler.state_dict() if scaler is not None else {},
                })
            if on_epoch_end is not None:
                on_epoch_end(row)
    finally:
        bar.close(history.last)
    return history


def _default_monitor(objects: Any) -> tuple[str, bool]:
    """The first metric of the collection (higher is better when its spec says so), else the validation loss."""
    from almanac import metrics as catalog

    name = next(iter(objects or ()), None)
    if name is None:
        return "val_loss", False
    try:
        return f"val_{name}", catalog.spec(name).higher_is_better
    except AlmanacError:  # a metric under a name of the user's: its direction is unknown, the loss decides
        return "val_loss", False


def _summary(row: dict[str, Any], main_metric: str | None) -> str:
    if not row:
        return ""
    text = f"train loss {row['train_loss']:.4f}"
    if "val_loss" in row:
        text += f", val loss {row['val_loss']:.4f}"
    if main_metric is not None and f"val_{main_metric}" in row:
        text += f", val {main_metric} {row[f'val_{main_metric}']:.4f}"
    return text
