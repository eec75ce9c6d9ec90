"""One training run from a configuration: data → model with a head that fits the loss → :func:`fit` → files.

:func:`prepare` resolves a :class:`RunConfig` (names, task, head, target encoding, metrics) and fails early with one
clear :class:`~almanac.errors.AlmanacError` on a bad choice; :func:`run` trains it into ``runs/<name>/`` and
writes ``config.json``, ``history.csv``, ``checkpoint.pt``, ``metrics.json``, ``report.html`` and the PNG plots.
``almanac train`` is this module behind command-line options; ``resume`` continues a run from its own config.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from almanac.errors import ConfigError, problem
from almanac.train import distributed
from almanac.train.data import Data, load, load_csv
from almanac.train.files import atomic_write_json
from almanac.train.history import History
from almanac.train.loop import CHECKPOINT, fit, predict
from almanac.train.models import MeanVariance, Rescale, cnn, make_activation, mlp, unet

__all__ = ["DEFAULT_METRICS", "Job", "RunConfig", "check", "prepare", "resume", "run"]

#: metrics when none are named, per task (the first is the main one shown while training)
DEFAULT_METRICS = {
    "binary": ("accuracy", "f1", "auroc", "log_loss"),
    "multiclass": ("accuracy", "f1", "auroc", "log_loss"),
    "multilabel": ("f1", "auroc", "average_precision"),
    "regression": ("r2", "mae", "rmse"),
    "segmentation": ("iou", "dice"),
}
DEFAULT_LOSS = {"binary": "binary_cross_entropy", "multiclass": "cross_entropy", "multilabel": "binary_cross_entropy",
                "regression": "mse", "segmentation": "cross_entropy"}
CONFIG = "config.json"
METRICS = "metrics.json"


@dataclass
class RunConfig:
    """Every choice of a run; ``config.json`` stores it resolved (``"auto"`` replaced by what was chosen)."""

    dataset: str | None = "digits"
    csv: str | None = None
    target: str | None = None
    task: str | None = None
    model: str | None = None
    hidden: tuple[int, ...] | None = None  # layer widths (mlp) or channels per stage (cnn, unet); None: the builder's
    activation: str = "relu"
    activation_params: dict[str, Any] = field(default_factory=dict)
    loss: str | None = None
    loss_params: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] | None = None
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    device: str = "cpu"
    name: str | None = None
    out: str = "runs"
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"], d["metrics"] = None if self.hidden is None else list(self.hidden), list(self.metrics or ())
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        hidden = d.get("hidden")
        d["hidden"], d["metrics"] = None if hidden is None else tuple(hidden), tuple(d.get("metrics") or ()) or None
        return cls(**d)


@dataclass
class Job:
    """A prepared run: data, model, loss and metrics that fit together."""

    config: RunConfig
    data: Data
    model: nn.Module
    loss: nn.Module
    metrics: Any
    output: nn.Module
    train_set: tuple[Tensor, ...]
    val_set: tuple[Tensor, ...]
    inference: str
    checks: list[str] = field(default_factory=list)  # findings of almanac check on the model, loss and data


def _fitting_losses(task: str) -> list[str]:
    from almanac import losses

    return [n for n in losses.names() if task in losses.spec(n).tasks]


def _resolve_auto(config: RunConfig, data: Data) -> None:
    """Replace ``"auto"`` choices with the advisor's (``am.advise`` on the training targets), with its reasons."""
    from almanac import metrics
    from almanac.advisor import advise

    auto = [f for f in ("activation", "loss", "metrics") if getattr(config, f) in ("auto", ("auto",))]
    if not auto:
        return
    advice = advise(data.y_train, inputs=data.x_train, task=data.task)
    config.reasons = [f"{key.replace('_', ' ')}: {text}" for key, text in advice.reasons.items()]
    if config.loss == "auto":  # parameters given with it override the advised ones
        if config.loss_params:
            config.reasons.append(f"loss parameters: {', '.join(config.loss_params)} given, over the advised values")
        config.loss, config.loss_params = advice.loss, {**advice.loss_params, **config.loss_params}
    if config.metrics == ("auto",):
        fitting = tuple(m for m in advice.metrics if data.task in metrics.spec(m).tasks)
        config.metrics = fitting or DEFAULT_METRICS[data.task]
        if set(fitting) != set(advice.metrics):
            skipped = ", ".join(m for m in advice.metrics if m not in fitting)
            config.reasons.append(f"metrics: {skipped} left out, not defined for {data.task} in almanac.metrics")
    if config.activation == "auto":
        config.activation = "relu"
        config.reasons.append("hidden activation: the advisor chooses the head; ReLU is the default hidden activation"
                              " and fits every head")


class _Select(nn.Module):
    """``inner(x)[:, index]``: one column of a head, what metrics of one score or value take."""

    def __init__(self, inner: nn.Module, index: int):
        super().__init__()
        self.inner, self.index = inner, index

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(x)[:, self.index]


class _Exp(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.exp()


class _MeanVarianceLoss(nn.Module):
    """``loss(mean, target, var)`` from a ``(N, 2)`` head of means and variances (Gaussian NLL)."""

    def __init__(self, loss: nn.Module):
        super().__init__()
        self.loss = loss

    def forward(self, out: Tensor, target: Tensor) -> Tensor:
        return self.loss(out[:, 0], target, out[:, 1])


@dataclass
class _Head:
    """How the model ends for a task and a loss, and how targets and outputs are encoded around it."""

    width: int
    squeeze: bool
    ends_with: str  # the activation the model's forward ends with ("identity" for logits and values)
    output: nn.Module  # outputs → what the metrics take (probabilities or values)
    inference: str  # "softmax", "sigmoid", "identity" or "exp": what turns outputs into predictions
    encode: Callable[[Tensor], tuple[Tensor, Tensor]]  # natural target → (loss target, metric target)
    regression: str = ""  # "rescale", "log_rate" or "mean_variance" for regression heads
    loss_adapter: Callable[[nn.Module], nn.Module] | None = None


def _head(task: str, loss: str, target: str, expects: str, data: Data) -> _Head:
    n = data.num_outputs
    probabilities = expects == "probabilities"  # the model ends with the activation; metrics take it as is
    if task == "regression":
        if loss == "gaussian_nll":
            return _Head(2, False, "identity", _Select(nn.Identity(), 0), "identity", lambda y: (y, y),
                         "mean_variance", _MeanVarianceLoss)
        if loss == "poisson_nll":
            if float(data.y_train.min()) < 0:
                raise problem(ConfigError, "--loss", "non-negative count targets for poisson_nll",
                              f"min {float(data.y_train.min()):g}", "pick mse, huber or another regression loss")
            return _Head(1, True, "identity", _Exp(), "exp", lambda y: (y, y), "log_rate")
        return _Head(1, True, "identity", nn.Identity(), "identity", lambda y: (y, y), "rescale")
    inference = "softmax" if task in ("multiclass", "segmentation") else "sigmoid"
    if task == "binary" and target == "class_indices":  # two class scores; metrics take the positive one
        inference = "softmax"
    ends_with = inference if probabilities else "identity"
    to_probs = nn.Identity() if probabilities else make_activation(inference, dim=1)
    if task == "binary":
        if target == "class_indices":
            return _Head(2, False, ends_with, _Select(to_probs, 1), inference, lambda y: (y, y))
        if target == "mask":  # region losses want a channel dimension: (N, 1) scores and masks
            return _Head(1, False, ends_with, _Select(to_probs, 0), inference, lambda y: (y.float()[:, None], y))
        return _Head(1, True, ends_with, to_probs, inference, lambda y: (y.float(), y))
    if task == "multilabel":
        return _Head(n, False, ends_with, to_probs, inference, lambda y: (y.float(), y.long()))
    if target == "soft_labels":  # one-hot probabilities for the loss, class indices for the metrics
        return _Head(n, False, ends_with, to_probs, inference, lambda y: (_one_hot(y, n), y))
    if task == "segmentation" and target in ("binary", "multi_hot"):
        return _Head(n, False, ends_with, to_probs, inference, lambda y: (_one_hot(y, n), y))
    return _Head(n, False, ends_with, to_probs, inference, lambda y: (y, y))


def _one_hot(y: Tensor, n: int) -> Tensor:
    """``(N, ...)`` class indices → ``(N, n, ...)`` one-hot floats (classes on dim 1, as scores are)."""
    return nn.functional.one_hot(y, n).movedim(-1, 1).float()


def prepare(config: RunConfig, data: Data | None = None) -> Job:
    """Resolve ``config`` into a :class:`Job`; raises one clear AlmanacError on a choice that does not fit."""
    from almanac import activations, losses, metrics

    if data is None:
        if config.csv is not None:
            if not config.target:
                raise problem(ConfigError, "--target", "with --csv", "none", "pass --target COLUMN")
            data = load_csv(config.csv, config.target, task=config.task, seed=config.seed)
        else:
            data = load(config.dataset or "digits", seed=config.seed)
            if config.task is not None and config.task != data.task:
                raise problem(ConfigError, "--task", f"to be {data.task} for dataset {data.name}", config.task,
                              f"drop --task (the dataset {data.name} is {data.task})")
    task = data.task
    config.task = task
    _resolve_auto(config, data)

    config.activation = activations.spec(config.activation).name
    config.loss = losses.spec(config.loss or DEFAULT_LOSS[task]).name
    loss_spec = losses.spec(config.loss)
    if task not in loss_spec.tasks:
        fitting = ", ".join(_fitting_losses(task))
        raise problem(ConfigError, "--loss", f"to fit the task {task} of {data.name}",
                      f"{config.loss} (for {', '.join(loss_spec.tasks)})", f"pick one of: {fitting}")
    if loss_spec.expects == "critic_scores":
        raise problem(ConfigError, "--loss", "a loss of predictions and targets", f"{config.loss} (a GAN critic loss)",
                      "train GANs with almanac compare gan")
    loss_params = dict(config.loss_params)
    if "task" in loss_spec.params and "task" not in loss_params:
        loss_params["task"] = "multiclass" if task == "segmentation" else task
    if loss_spec.expects == "probabilities" and "from_logits" in loss_spec.params:
        loss_params.setdefault("from_logits", False)
    loss = losses.get(config.loss, **loss_params)

    # a loss told task="multiclass" on masks takes class-index maps whatever its default target is
    target = "class_indices" if task == "segmentation" and "task" in loss_spec.params else loss_spec.target
    head = _head(task, config.loss, target, loss_spec.expects, data)
    if head.loss_adapter is not None:
        loss = head.loss_adapter(loss)
    output = head.output

    model_name = config.model or ("unet" if task == "segmentation" else "mlp")
    config.model = model_name
    model = _build_model(model_name, config, data, head)

    names = config.metrics or DEFAULT_METRICS[task]
    config.metrics = tuple(metrics.spec(n).name for n in names)
    for n in config.metrics:
        spec = metrics.spec(n)
        if task not in spec.tasks:
            raise problem(ConfigError, "--metrics", f"metrics for the task {task}",
                          f"{n} (for {', '.join(spec.tasks)})",
                          f"pick among: {', '.join(m for m in metrics.names() if task in metrics.spec(m).tasks)}")
    collection = metrics.collection({n: _metric(n, task, data.num_outputs) for n in config.metrics})

    y_loss_t, y_metric_t = head.encode(data.y_train)
    y_loss_v, y_metric_v = head.encode(data.y_val)
    _check_one_value_per_metric(collection, model, output, data.x_val[:16], y_metric_v[:16])
    return Job(config, data, model, loss, collection, output, (data.x_train, y_loss_t, y_metric_t),
               (data.x_val, y_loss_v, y_metric_v), head.inference)


def _check_one_value_per_metric(collection: Any, model: nn.Module, output: nn.Module, x: Tensor, y: Tensor) -> None:
    """History columns hold numbers (or one per class): curves and matrices are refused here, before training."""
    from almanac.errors import UndefinedMetricError

    with torch.no_grad():
        collection.update(output(model(x)), y)
    for name in collection:
        try:
            value = collection[name].compute()
        except UndefinedMetricError:  # too few samples here for this metric: its value is still a number
            continue
        if not (isinstance(value, float) or (isinstance(value, Tensor) and value.ndim <= 1)):
            raise problem(ConfigError, "--metrics", "metrics of one value (or one per class)",
                          f"{name}, a {'curve' if isinstance(value, tuple) else 'matrix'}",
                          "drop it: the report draws the confusion matrix and the ROC and PR curves")
    collection.reset()


def _metric(name: str, task: str, n: int) -> Any:
    """A streaming metric for ``task``; averaged metrics are macro averages (accuracy stays micro)."""
    from almanac import metrics

    wanted: dict[str, Any] = {"task": task}
    if task in ("multiclass", "segmentation"):
        wanted["num_classes"] = n
    if task == "multilabel":
        wanted["num_labels"] = n
    if name != "accuracy" and task != "binary":
        wanted["average"] = "macro"
    params = metrics.spec(name).params
    return metrics.get(name, **{k: v for k, v in wanted.items() if k in params})


def _widths(keyword: str, config: RunConfig) -> dict[str, tuple[int, ...]]:
    """``--hidden`` as the builder's keyword; nothing when it was not given, so the builder's default holds."""
    return {} if config.hidden is None else {keyword: config.hidden}


def _build_model(name: str, config: RunConfig, data: Data, head: _Head) -> nn.Module:
    torch.manual_seed(config.seed)
    width, squeeze, ends_with = head.width, head.squeeze, head.ends_with
    if name == "mlp":
        if data.task == "segmentation":
            raise problem(ConfigError, "--model", "unet for a segmentation task", "mlp", "pass --model unet")
        in_features = math.prod(data.input_shape)
        model: nn.Module = mlp(in_features, width, **_widths("hidden", config), activation=config.activation,
                               activation_params=config.activation_params, output=ends_with, squeeze=squeeze)
    elif name == "cnn":
        if not data.is_image or data.task == "segmentation":
            raise problem(ConfigError, "--model", "mlp (or unet for masks) for this dataset", "cnn",
                          "use --model cnn with image classification: --dataset digits")
        model = cnn(data.input_shape[0], width, **_widths("channels", config), activation=config.activation,
                    activation_params=config.activation_params, output=ends_with, squeeze=squeeze)
    elif name == "unet":
        if data.task != "segmentation":
            raise problem(ConfigError, "--model", "mlp or cnn for a task that is not segmentation", "unet",
                          "use --model unet with --dataset shapes")
        model = unet(data.input_shape[0], width, **_widths("channels", config), activation=config.activation,
                     activation_params=config.activation_params, output=ends_with)
    else:
        raise problem(ConfigError, "--model", "mlp, cnn or unet", repr(name), "pass one of these")
    # regression heads predict in the target's units; the layers before them work at unit scale
    if head.regression == "rescale":
        model = nn.Sequential(model, Rescale(data.target_mean, data.target_std))
    elif head.regression == "log_rate":
        model = nn.Sequential(model, Rescale(math.log(max(data.target_mean, 1e-6)), 1.0))
    elif head.regression == "mean_variance":
        model = nn.Sequential(model, MeanVariance(data.target_mean, data.target_std))
    return model


def _new_run_dir(config: RunConfig) -> Path:
    out = Path(config.out)
    if config.name:
        path = out / config.name
        if (path / CHECKPOINT).exists() or (path / CONFIG).exists():
            raise problem(ConfigError, "--name", "to name a new run", f"{path} holds a run already",
                          f"continue it with --resume {path}, or pass another --name")
        return path
    stem = f"{config.dataset if config.csv is None else Path(config.csv).stem}-{config.model}-{config.activation}-" \
           f"{config.loss}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, i = out / stem, 1
    while path.exists():
        i += 1
        path = out / f"{stem}-{i}"
    return path


def run(config: RunConfig, *, progress: bool = True, run_dir: str | os.PathLike[str] | None = None,
        resume: bool = False) -> tuple[Path, History, dict[str, float]]:
    """Train ``config`` into its run directory; returns the directory, the history and the final metrics."""
    _check_device(config.device)
    device = distributed.setup(config.device)
    job = prepare(config)
    job.checks = check(job)
    if progress and distributed.is_main() and job.checks:
        from rich.console import Console

        console = Console(stderr=True, highlight=False)
        for line in job.checks:
            console.print(f"almanac check: {line}", markup=False, soft_wrap=True)
    if config.csv is not None:  # so that --resume finds the file from any working directory
        config.csv = str(Path(config.csv).resolve())
    path = Path(run_dir) if run_dir is not None else None
    if path is None:
        path = Path(distributed.broadcast_object(str(_new_run_dir(config)) if distributed.is_main() else None))
    if distributed.is_main():
        path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path / CONFIG, config.to_json())
    history = fit(job.model, job.loss, job.train_set, job.val_set, metrics=job.metrics, output=job.output,
                  epochs=config.epochs, batch_size=config.batch_size, lr=config.lr, device=device, seed=config.seed,
                  run_dir=path, resume=resume, progress=progress)
    final = {k[len("val_"):]: v for k, v in history.last.items() if k.startswith("val_") and k != "val_loss"}
    if distributed.is_main():
        atomic_write_json(path / METRICS, final)
        from almanac.train.plots import write_report

        preds, target = predict(job.model, job.val_set, output=job.output, device=device)
        write_report(path, job, history, final, preds, target)
    return path, history, final


def check(job: Job, *, sample: int = 512) -> list[str]:
    """The findings of ``am.lint.check`` on the job's model, loss, metrics and a training batch, one per line
    (warnings such as accuracy on rare positives or vanishing gradients; training goes on regardless)."""
    from almanac import lint

    x, y = job.train_set[0][:sample], job.train_set[1][:sample]
    report = lint.check(job.model, job.loss, inputs=x, target=y, metrics=list(job.config.metrics or ()),
                        task=job.data.task)
    return [str(f) for f in report.findings]


def _check_device(name: str) -> None:
    if name == "cuda" and not torch.cuda.is_available():
        raise problem(ConfigError, "--device", "cuda to find a CUDA device", "none (a CPU-only torch or no GPU)",
                      "pass --device cpu, or install the CUDA build of PyTorch")
    if name not in ("cpu", "cuda"):
        raise problem(ConfigError, "--device", "cpu or cuda", repr(name), "pass one of these")


def resume(run_dir: str | os.PathLike[str], *, epochs: int | None = None, device: str | None = None,
           progress: bool = True) -> tuple[Path, History, dict[str, float]]:
    """Continue the run in ``run_dir`` from its last finished epoch, with the config it was started with
    (``epochs`` may extend it, ``device`` move it)."""
    path = Path(run_dir)
    if not (path / CONFIG).is_file():
        raise problem(ConfigError, "--resume", "a run directory holding config.json", repr(str(path)),
                      "pass a directory under runs/ that almanac train wrote")
    config = RunConfig.from_json(json.loads((path / CONFIG).read_text()))
    if epochs is not None:
        config.epochs = epochs
    if device is not None:
        config.device = device
    return run(config, progress=progress, run_dir=path, resume=True)
