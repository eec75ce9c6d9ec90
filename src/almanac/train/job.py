"""One training run from a configuration: data → model with a head that fits the loss → :func:`fit` → files.

:func:`prepare` resolves a :class:`RunConfig` (names, task, head, target encoding, metrics) and fails early with one
clear :class:`~almanac.errors.AlmanacError` on a bad choice; :func:`run` trains it into ``runs/<name>/`` and
writes ``config.json``, ``history.csv``, ``checkpoint.pt``, ``metrics.json``, ``report.html`` and the PNG plots.
``almanac train`` is this module behind command-line options; ``resume`` continues a run from its own config.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from almanac import _checks
from almanac.errors import AlmanacError, ConfigError, problem
from almanac.train import distributed
from almanac.train.checkpoint import load as load_checkpoint
from almanac.train.data import Data, load, load_csv
from almanac.train.files import atomic_write_json, check_directory, run_lock
from almanac.train.history import History
from almanac.train.loop import (
    BEST,
    CHECKPOINT,
    LOGGERS,
    PRECISIONS,
    SCHEDULES,
    best_epoch,
    check_resumable,
    fit,
    predict,
)
from almanac.train.models import MeanVariance, Rescale, cnn, make_activation, mlp, unet

__all__ = ["DEFAULT_METRICS", "HEADS", "Head", "Job", "RunConfig", "build", "check", "prepare", "read_config",
           "resolve_device", "resume", "run"]

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
PREPROCESSING = "preprocessing.json"


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
    device: str = "auto"  # auto: CUDA when available
    precision: str = "32"  # "32", "bf16" or "fp16" (autocast; a grad scaler for fp16)
    schedule: str = "none"  # learning-rate schedule: "none", "cosine" or "onecycle"
    early_stop: int | None = None  # stop after this many epochs without a better main metric
    log: str | None = None  # "tensorboard" or "mlflow" beside history.csv
    images: str | None = None  # a folder of images (one folder per class, or images/ + masks/)
    image_size: int = 32  # images are resized to image_size × image_size
    name: str | None = None
    out: str = "runs"
    reasons: list[str] = field(default_factory=list)
    # resolved by prepare: what the network is built from when a run is loaded again
    input_shape: tuple[int, ...] | None = None
    num_outputs: int | None = None
    target_scale: tuple[float, float] | None = None  # regression: the training target's mean and std

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"], d["metrics"] = None if self.hidden is None else list(self.hidden), list(self.metrics or ())
        for key in ("input_shape", "target_scale"):
            d[key] = None if d[key] is None else list(d[key])
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        hidden = d.get("hidden")
        d["hidden"], d["metrics"] = None if hidden is None else tuple(hidden), tuple(d.get("metrics") or ()) or None
        for key in ("input_shape", "target_scale"):
            d[key] = None if d.get(key) is None else tuple(d[key])
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


@dataclass(frozen=True, kw_only=True)
class Head:
    """How a model ends for a task and the kind of target its loss takes, and how targets are encoded around it.

    ``width``: ``"one"``, ``"two"`` or ``"outputs"`` (classes or labels). ``squeeze``: ``(N, 1) → (N,)`` like the
    target. ``column``: the column the metrics take (``1`` = P(y = 1) of a binary head of two class scores).
    ``loss_target``: ``"as_is"``, ``"float"``, ``"float_channel"`` (``(N, 1, ...)`` for region losses) or
    ``"one_hot"`` (classes on dim 1). ``metric_target``: ``"as_is"`` or ``"long"``. ``units``: how a regression head
    reaches the target's units: ``"rescale"``, ``"log_rate"`` (exp at inference) or ``"mean_variance"``.
    """

    width: str = "outputs"
    squeeze: bool = False
    column: int | None = None
    loss_target: str = "as_is"
    metric_target: str = "as_is"
    units: str = ""


#: (task, what the loss takes as target) → head; the target kind comes from the loss spec (:func:`_target_kind`)
HEADS: dict[tuple[str, str], Head] = {
    ("binary", "binary"): Head(width="one", squeeze=True, loss_target="float"),
    ("binary", "class_indices"): Head(width="two", column=1),
    ("binary", "mask"): Head(width="one", column=0, loss_target="float_channel"),
    ("multiclass", "class_indices"): Head(),
    ("multiclass", "soft_labels"): Head(loss_target="one_hot"),
    ("multilabel", "binary"): Head(loss_target="float", metric_target="long"),
    ("multilabel", "mask"): Head(loss_target="float", metric_target="long"),
    ("segmentation", "class_indices"): Head(),
    ("segmentation", "binary"): Head(loss_target="one_hot"),
    ("regression", "real"): Head(width="one", squeeze=True, units="rescale"),
    ("regression", "log_rate"): Head(width="one", squeeze=True, units="log_rate"),
    ("regression", "mean_variance"): Head(width="two", column=0, units="mean_variance"),
}


def _takes_variance(loss: str) -> bool:
    """Whether the loss function takes a third positional input (a predicted variance, as Gaussian NLL does)."""
    import inspect

    from almanac import losses

    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = inspect.signature(losses.REGISTRY.function(loss)).parameters.values()
    return sum(p.kind in kinds and p.default is inspect.Parameter.empty for p in params) > 2


def _target_kind(task: str, loss: str, params: dict[str, Any]) -> str:
    """The key of :data:`HEADS` for ``task`` and the loss: its spec's target, except that a loss told
    ``task="multiclass"`` takes class indices, and a regression loss of log-rates or with a variance input."""
    from almanac import losses

    spec = losses.spec(loss)
    if task == "regression":
        if _takes_variance(spec.name):
            return "mean_variance"
        return "log_rate" if spec.normalization_for(params) == "exp" else "real"
    if "task" in spec.params and task in ("multiclass", "segmentation"):
        return "class_indices"
    return spec.target


def _inference(task: str, loss: str, params: dict[str, Any], head: Head) -> str:
    """What turns the network's raw outputs into predictions: the normalisation the loss applies to logits
    (``from_logits=True``); raw margins read as scores through a sigmoid (one unit) or softmax (classes)."""
    from almanac import losses

    spec = losses.spec(loss)
    logits = {**params, **({"from_logits": True} if "from_logits" in spec.params else {})}
    norm = spec.normalization_for(logits)
    if norm == "margin":
        return "sigmoid" if head.width == "one" or task == "multilabel" else "softmax"
    return {"none": "identity"}.get(norm, norm)


def _width(head: Head, num_outputs: int) -> int:
    return {"one": 1, "two": 2}.get(head.width, num_outputs)


def _output(head: Head, inference: str, ends_with: str) -> nn.Module:
    """Model outputs → what the metrics take (probabilities, scores or values)."""
    if head.units == "log_rate":
        return _Exp()
    to_preds = make_activation(inference, dim=1) if ends_with == "identity" and inference != "identity" \
        else nn.Identity()
    return to_preds if head.column is None else _Select(to_preds, head.column)


def _encode(head: Head, y: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """Natural target → (loss target, metric target)."""
    loss_target = {"as_is": lambda: y, "float": lambda: y.float(), "float_channel": lambda: y.float()[:, None],
                   "one_hot": lambda: _one_hot(y, n)}[head.loss_target]()
    return loss_target, (y.long() if head.metric_target == "long" else y)


def _one_hot(y: Tensor, n: int) -> Tensor:
    """``(N, ...)`` class indices → ``(N, n, ...)`` one-hot floats (classes on dim 1, as scores are)."""
    return nn.functional.one_hot(y, n).movedim(-1, 1).float()


def _loss_params(config: RunConfig, task: str) -> dict[str, Any]:
    """The loss parameters the trainer sets to fit the head (task, from_logits) over the given ones."""
    from almanac import losses

    spec = losses.spec(config.loss or DEFAULT_LOSS[task])
    params = dict(config.loss_params)
    if "task" in spec.params and "task" not in params:
        params["task"] = "multiclass" if task == "segmentation" else task
    if spec.expects == "probabilities" and "from_logits" in spec.params:
        params.setdefault("from_logits", False)
    return params


def build(config: RunConfig) -> tuple[nn.Module, Head, str, nn.Module]:
    """The network of a resolved config (``task``, ``loss``, ``input_shape``, ``num_outputs`` set) with its head:
    returns the model, the :class:`Head`, the inference activation (what turns the model's outputs into
    predictions: ``"identity"`` when the model ends with its softmax / sigmoid already) and the outputs → metric
    inputs module. The same call rebuilds a trained run's network from its config.json."""
    from almanac import losses

    task, params = config.task or "", _loss_params(config, config.task or "")
    loss = losses.spec(config.loss or DEFAULT_LOSS[task]).name
    key = (task, _target_kind(task, loss, params))
    if key not in HEADS:
        raise problem(ConfigError, "loss", f"to take a target almanac can build a head for ({task})",
                      f"{loss} (target {key[1]})", f"pick one of: {', '.join(_fitting_losses(task))}")
    head = HEADS[key]
    inference = _inference(task, loss, params, head)
    probabilities = losses.spec(loss).normalization_for(params) == "none" and task != "regression"
    ends_with = inference if probabilities else "identity"  # a loss of probabilities: the model ends with them
    model = _build_model(config, head, _width(head, config.num_outputs), ends_with)
    return model, head, "identity" if probabilities else inference, _output(head, inference, ends_with)


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
            raise problem(ConfigError, "metrics", "metrics of one value (or one per class)",
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
    """``hidden`` as the builder's keyword; nothing when it was not given, so the builder's default holds."""
    return {} if config.hidden is None else {keyword: config.hidden}


def _build_model(config: RunConfig, head: Head, width: int, ends_with: str) -> nn.Module:
    torch.manual_seed(config.seed)
    name, task, shape = config.model, config.task, tuple(config.input_shape or ())
    squeeze = head.squeeze
    common = {"activation": config.activation, "activation_params": config.activation_params, "output": ends_with}
    if name == "mlp":
        if task == "segmentation":
            raise problem(ConfigError, "model", "unet for a segmentation task", "mlp", "pick the model unet")
        model: nn.Module = mlp(math.prod(shape), width, **_widths("hidden", config), squeeze=squeeze, **common)
    elif name == "cnn":
        if len(shape) != 3 or task == "segmentation":
            raise problem(ConfigError, "model", "mlp (or unet for masks) for this dataset", "cnn",
                          "use the model cnn with image classification (digits, or a folder of images)")
        model = cnn(shape[0], width, **_widths("channels", config), squeeze=squeeze, **common)
    elif name == "unet":
        if task != "segmentation":
            raise problem(ConfigError, "model", "mlp or cnn for a task that is not segmentation", "unet",
                          "use the model unet with segmentation data (shapes, or images/ + masks/)")
        model = unet(shape[0], width, **_widths("channels", config), **common)
    else:
        raise problem(ConfigError, "model", "mlp, cnn or unet", repr(name), "pick one of these")
    # regression heads predict in the target's units; the layers before them work at unit scale
    mean, std = config.target_scale or (0.0, 1.0)
    if head.units == "rescale":
        model = nn.Sequential(model, Rescale(mean, std))
    elif head.units == "log_rate":
        model = nn.Sequential(model, Rescale(math.log(max(mean, 1e-6)), 1.0))
    elif head.units == "mean_variance":
        model = nn.Sequential(model, MeanVariance(mean, std))
    return model


def _load_data(config: RunConfig) -> Data:
    if config.images is not None:
        from almanac.train.images import load_images

        return load_images(config.images, seed=config.seed, size=config.image_size)
    if config.csv is not None:
        if not config.target:
            raise problem(ConfigError, "target", "to be given with a CSV file", "none", "name the target column")
        return load_csv(config.csv, config.target, task=config.task, seed=config.seed)
    data = load(config.dataset or "digits", seed=config.seed)
    if config.task is not None and config.task != data.task:
        raise problem(ConfigError, "task", f"to be {data.task} for dataset {data.name}", config.task,
                      f"leave the task unset (the dataset {data.name} is {data.task})")
    return data


def prepare(config: RunConfig, data: Data | None = None) -> Job:
    """Resolve ``config`` into a :class:`Job` whose ``config`` is a new, resolved copy (``config`` is left as it
    is); raises one clear AlmanacError, worded for the arguments, on a choice that does not fit."""
    from almanac import activations, losses, metrics

    config = dataclasses.replace(config, reasons=list(config.reasons), loss_params=dict(config.loss_params),
                                 activation_params=dict(config.activation_params))
    data = data if data is not None else _load_data(config)
    task = data.task
    config.task = task
    _resolve_auto(config, data)

    config.activation = activations.spec(config.activation).name
    config.loss = losses.spec(config.loss or DEFAULT_LOSS[task]).name
    loss_spec = losses.spec(config.loss)
    if task not in loss_spec.tasks:
        fitting = ", ".join(_fitting_losses(task))
        raise problem(ConfigError, "loss", f"to fit the task {task} of {data.name}",
                      f"{config.loss} (for {', '.join(loss_spec.tasks)})", f"pick one of: {fitting}")
    if loss_spec.expects == "critic_scores":
        raise problem(ConfigError, "loss", "a loss of predictions and targets", f"{config.loss} (a GAN critic loss)",
                      "train GANs with almanac compare gan")
    config.model = config.model or ("unet" if task == "segmentation" else "cnn" if config.images else "mlp")
    config.input_shape, config.num_outputs = tuple(data.input_shape), data.num_outputs
    config.target_scale = (data.target_mean, data.target_std) if task == "regression" else None
    model, head, inference, output = build(config)
    loss = losses.get(config.loss, **_loss_params(config, task))
    if head.units == "mean_variance":
        loss = _MeanVarianceLoss(loss)
    if head.units == "log_rate" and float(data.y_train.min()) < 0:
        raise problem(ConfigError, "loss", f"non-negative count targets for {config.loss}",
                      f"min {float(data.y_train.min()):g}", "pick mse, huber or another regression loss")

    names = config.metrics or DEFAULT_METRICS[task]
    config.metrics = tuple(metrics.spec(n).name for n in names)
    for n in config.metrics:
        spec = metrics.spec(n)
        if task not in spec.tasks:
            raise problem(ConfigError, "metrics", f"metrics for the task {task}",
                          f"{n} (for {', '.join(spec.tasks)})",
                          f"pick among: {', '.join(m for m in metrics.names() if task in metrics.spec(m).tasks)}")
    collection = metrics.collection({n: _metric(n, task, data.num_outputs) for n in config.metrics})

    n = data.num_outputs
    y_loss_t, y_metric_t = _encode(head, data.y_train, n)
    y_loss_v, y_metric_v = _encode(head, data.y_val, n)
    _check_one_value_per_metric(collection, model, output, data.x_val[:16], y_metric_v[:16])
    return Job(config, data, model, loss, collection, output, (data.x_train, y_loss_t, y_metric_t),
               (data.x_val, y_loss_v, y_metric_v), inference)


def _new_run_dir(config: RunConfig) -> Path:
    out = check_directory(config.out, "out")
    if config.name:
        path = out / config.name
        if (path / CHECKPOINT).exists() or (path / CONFIG).exists():
            raise problem(ConfigError, "name", "to name a new run", f"{path} holds a run already",
                          f"resume it ({path}), or pick another name")
        return path
    source = Path(config.images).name if config.images else Path(config.csv).stem if config.csv else config.dataset
    stem = f"{source}-{config.model}-{config.activation}-{config.loss}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, i = out / stem, 1
    while path.exists():
        i += 1
        path = out / f"{stem}-{i}"
    return path


def resolve_device(name: str) -> str:
    """``"auto"`` → ``"cuda"`` when a CUDA device is available, else ``"cpu"``; ``"cpu"`` / ``"cuda"`` checked."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name not in ("cpu", "cuda"):
        raise problem(ConfigError, "device", "auto, cpu or cuda", repr(name), "pick one of these")
    if name == "cuda" and not torch.cuda.is_available():
        raise problem(ConfigError, "device", "cuda to find a CUDA device", "none (a CPU-only torch or no GPU)",
                      "pick the device cpu or auto, or install the CUDA build of PyTorch")
    return name


def _check_config(config: RunConfig) -> None:
    """The numbers and choices of a config, before any data is read (ConfigError naming the argument)."""
    _checks.check_number(config.epochs, "epochs", low=1, integer=True)
    _checks.check_number(config.batch_size, "batch_size", low=1, integer=True)
    _checks.check_number(config.lr, "lr", low=0.0, high=math.inf, low_open=True, high_open=True)
    _checks.check_number(config.seed, "seed", low=0, high=2**32 - 1, integer=True)
    if config.early_stop is not None:
        _checks.check_number(config.early_stop, "early_stop", low=1, integer=True)
    for name, allowed in (("precision", PRECISIONS), ("schedule", SCHEDULES), ("log", LOGGERS)):
        value = getattr(config, name)
        if value is not None and value not in allowed:
            raise problem(ConfigError, name, f"one of {', '.join(allowed)}", repr(value), "pick one of these")
    if config.log is not None:  # before any file is written
        try:
            importlib.import_module("tensorboard" if config.log == "tensorboard" else "mlflow")
        except ImportError as exc:
            raise problem(ConfigError, "log", f"the {config.log} package to be installed", "not installed",
                          f"pip install 'nn-almanac[{config.log}]'") from exc


def run(config: RunConfig, *, progress: bool = True, run_dir: str | os.PathLike[str] | None = None,
        resume: bool = False) -> tuple[Path, History, dict[str, float]]:
    """Train ``config`` into its run directory; returns the directory, the history and the final metrics
    (of the best epoch by the main metric, whose weights are kept in ``best.pt``)."""
    _check_config(config)
    config = dataclasses.replace(config, device=resolve_device(config.device))
    device = distributed.setup(config.device)
    job = prepare(config)
    config = job.config
    job.checks = check(job)
    if progress and distributed.is_main() and job.checks:
        from rich.console import Console

        console = Console(stderr=True, highlight=False)
        for line in job.checks:
            console.print(f"almanac check: {line}", markup=False, soft_wrap=True)
    for key in ("csv", "images"):  # so that --resume finds the data from any working directory
        if getattr(config, key) is not None:
            setattr(config, key, str(Path(getattr(config, key)).resolve()))
    path = Path(run_dir) if run_dir is not None else None
    if path is None:
        path = Path(distributed.broadcast_object(str(_new_run_dir(config)) if distributed.is_main() else None))
    with run_lock(path) if distributed.is_main() else contextlib.nullcontext():
        if resume:
            check_resumable(path, job.model)  # a damaged run is refused before any of its files is rewritten
        if distributed.is_main():
            atomic_write_json(path / CONFIG, config.to_json())
            if job.data.preprocessing is not None:
                atomic_write_json(path / PREPROCESSING, job.data.preprocessing.to_json())
        from almanac import metrics

        main_metric = (config.metrics or ("loss",))[0]
        maximize = metrics.spec(main_metric).higher_is_better if config.metrics else False
        with _logger(config.log, path, config) as log:
            train_set: Any = job.train_set
            if config.images is not None:  # the user's own images: flipped and shifted at random while training
                from almanac.train.images import Augmented

                train_set = Augmented(*job.train_set)
            history = fit(job.model, job.loss, train_set, job.val_set, metrics=job.metrics, output=job.output,
                          epochs=config.epochs, batch_size=config.batch_size, lr=config.lr, device=device,
                          seed=config.seed, run_dir=path, resume=resume, progress=progress,
                          precision=config.precision, schedule=config.schedule, early_stop=config.early_stop,
                          monitor=f"val_{main_metric}", maximize=maximize, on_epoch_end=log)
        best = best_epoch(history, f"val_{main_metric}", maximize)
        row = next(r for r in history if r["epoch"] == best)
        final = {k[len("val_"):]: v for k, v in row.items() if k.startswith("val_") and k != "val_loss"}
        if distributed.is_main():
            atomic_write_json(path / METRICS, final)
            from almanac.train.plots import write_report

            job.model.load_state_dict(load_checkpoint(path / BEST)["model"])
            preds, target = predict(job.model, job.val_set, output=job.output, device=device)
            write_report(path, job, history, final, preds, target, best_epoch=best)
    return path, history, final


@contextlib.contextmanager
def _logger(kind: str | None, path: Path, config: RunConfig) -> Iterator[Callable[[dict[str, Any]], None] | None]:
    """An ``on_epoch_end`` that sends each epoch's row to TensorBoard or MLflow (rank 0), or None."""
    if kind is None or not distributed.is_main():
        yield None
        return
    if kind == "tensorboard":
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(path / "tensorboard"))
        try:
            yield lambda row: [writer.add_scalar(k, v, row["epoch"]) for k, v in row.items() if k != "epoch"]
        finally:
            writer.close()
    else:
        import mlflow

        mlflow.set_tracking_uri((path / "mlruns").resolve().as_uri())
        with mlflow.start_run(run_name=path.name):
            mlflow.log_params({k: v for k, v in config.to_json().items() if isinstance(v, (int, float, str))})
            yield lambda row: mlflow.log_metrics({k: v for k, v in row.items() if k != "epoch"}, step=row["epoch"])


def check(job: Job, *, sample: int = 512) -> list[str]:
    """The findings of ``am.lint.check`` on the job's model, loss, metrics and a training batch, one per line
    (warnings such as accuracy on rare positives or vanishing gradients; training goes on regardless)."""
    from almanac import lint

    x, y = job.train_set[0][:sample], job.train_set[1][:sample]
    report = lint.check(job.model, job.loss, inputs=x, target=y, metrics=list(job.config.metrics or ()),
                        task=job.data.task)
    return [str(f) for f in report.findings]


def read_config(run_dir: str | os.PathLike[str]) -> RunConfig:
    """The :class:`RunConfig` in ``run_dir/config.json``; one clear ConfigError for a missing or damaged file."""
    path = Path(run_dir)
    if not (path / CONFIG).is_file():
        raise problem(ConfigError, "run_dir", "a run directory holding config.json", repr(str(path)),
                      "pass a directory under runs/ that almanac train wrote")
    try:
        raw = json.loads((path / CONFIG).read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise TypeError(f"a JSON {type(raw).__name__}, not an object")
        config = RunConfig.from_json(raw)
        _check_config(config)
        if config.task is None or config.input_shape is None or config.num_outputs is None:
            raise TypeError("no resolved task, input_shape or num_outputs (written by another version?)")
    except (ValueError, TypeError, UnicodeDecodeError, AlmanacError) as exc:
        raise problem(ConfigError, "run_dir", "a readable config.json written by almanac train",
                      f"{type(exc).__name__} in {path / CONFIG}: {str(exc).splitlines()[0][:120]}",
                      "restore the file or start a new run") from exc
    return config


def resume(run_dir: str | os.PathLike[str], *, epochs: int | None = None, device: str | None = None,
           progress: bool = True) -> tuple[Path, History, dict[str, float]]:
    """Continue the run in ``run_dir`` from its last finished epoch, with the config it was started with
    (``epochs`` may extend it, ``device`` move it)."""
    path = Path(run_dir)
    config = read_config(path)
    if epochs is not None:
        config.epochs = epochs
    if device is not None:
        config.device = device
    return run(config, progress=progress, run_dir=path, resume=True)
