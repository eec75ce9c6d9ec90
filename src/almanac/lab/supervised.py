"""The runs of the supervised scenarios, trained with the trainer: :func:`almanac.train.job.prepare` builds the
data, the model with a head that fits the loss and the metrics, :func:`almanac.train.fit` trains it.

Each ``run_*`` function trains one configuration with one seed and returns ``{"final": ..., "curves": ...}``
(see :class:`~almanac.lab.store.Run`): the validation metrics of the last epoch and their values epoch by epoch.
The datasets are split with the run's seed, so the spread across seeds covers both the initialisation and the data.
The two scenarios the trainer's jobs do not express (softmax + cross-entropy on multi-label targets, binary
foreground masks) build their model from :mod:`almanac.train.models` and train with the same :func:`fit`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "TARGET_ACCURACY",
    "run_activations",
    "run_custom",
    "run_imbalance",
    "run_multilabel",
    "run_outliers",
    "run_segmentation",
]

#: the validation accuracy the ``activations`` scenario counts epochs to (on ``moons``).
TARGET_ACCURACY = 0.9


def _train(
    model: nn.Module,
    loss: Callable[[Tensor, Tensor], Tensor],
    train: tuple[Tensor, ...],
    val: tuple[Tensor, ...],
    *,
    metrics: Any,
    output: Any,
    epochs: int,
    seed: int,
    **options: Any,
) -> dict[str, Any]:
    """Fit ``model`` and return the last epoch's validation metrics (``final``) and every epoch's (``curves``)."""
    from almanac.train import fit

    history = fit(model, loss, train, val, metrics=metrics, output=output, epochs=epochs, seed=seed, **options)
    names = [c[len("val_"):] for c in history.columns if c.startswith("val_") and c != "val_loss"]
    curves = {name: history.column(f"val_{name}") for name in names}
    curves["train_loss"] = history.column("train_loss")
    return {"final": {name: values[-1] for name, values in curves.items()}, "curves": curves}


def _job(data: Any = None, **config: Any) -> Any:
    """The trainer's prepared job for a :class:`~almanac.train.job.RunConfig` given as keywords."""
    from almanac.train.job import RunConfig, prepare

    return prepare(RunConfig(**config), data)


def _fit_job(job: Any) -> dict[str, Any]:
    """Train a prepared job as ``almanac train`` would, without its files."""
    c = job.config
    return _train(job.model, job.loss, job.train_set, job.val_set, metrics=job.metrics, output=job.output,
                  epochs=c.epochs, seed=c.seed, batch_size=c.batch_size, lr=c.lr)


def _metric(name: str, **params: Any) -> Any:
    from almanac import metrics

    return metrics.get(name, **params)


def _first_layer_gradient(model: nn.Module, loss: Callable[[Tensor, Tensor], Tensor], x: Tensor,
                          y: Tensor) -> tuple[float, float]:
    """Norms of the gradients of the first and last layers' weights on ``(x, y)`` (at initialisation)."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    model.zero_grad(set_to_none=True)
    loss(model(x), y).backward()
    first, last = float(layers[0].weight.grad.norm()), float(layers[-1].weight.grad.norm())
    model.zero_grad(set_to_none=True)
    return first, last


def run_activations(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """An MLP of ``depth`` hidden layers of 32 units with ``activation`` on ``moons`` (BCE, Adam, lr 3e-3):
    epochs to :data:`TARGET_ACCURACY`, final accuracy and the first layer's gradient norm at initialisation.

    A run that never reaches the target counts ``epochs + 1`` epochs (``reached`` is then 0).
    """
    epochs = 12 if quick else 30
    job = _job(dataset="moons", hidden=(32,) * config["depth"], activation=config["activation"],
               loss="binary_cross_entropy", metrics=("accuracy",), epochs=epochs, batch_size=64, lr=3e-3, seed=seed)
    grad_first, grad_last = _first_layer_gradient(job.model, job.loss, *job.train_set[:2])
    result = _fit_job(job)
    accuracy = result["curves"]["accuracy"]
    reached = next((i + 1 for i, a in enumerate(accuracy) if a >= TARGET_ACCURACY), None)
    result["final"].update(epochs_to_target=reached or epochs + 1, reached=float(reached is not None),
                           grad_first=grad_first, grad_ratio=grad_first / max(grad_last, 1e-30))
    return result


def run_imbalance(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """An MLP on ``imbalanced`` (about 3% positives) trained with plain, class-weighted or focal cross-entropy.

    ``cross_entropy`` is the binary cross-entropy on one logit, ``weighted`` the same with
    ``pos_weight = negatives / positives`` of the training split, ``focal`` the focal loss with γ = 2.
    """
    from almanac.train.data import load

    data = load("imbalanced", seed=seed)
    positives = float(data.y_train.sum())
    loss, params = {"cross_entropy": ("binary_cross_entropy", {}),
                    "weighted": ("binary_cross_entropy", {"pos_weight": (len(data.y_train) - positives) / positives}),
                    "focal": ("focal", {"gamma": 2.0})}[config["loss"]]
    job = _job(data, dataset="imbalanced", hidden=(64, 64), loss=loss, loss_params=params,
               metrics=("f1", "average_precision", "balanced_accuracy", "accuracy"), epochs=8 if quick else 25,
               batch_size=128, lr=1e-3, seed=seed)
    result = _fit_job(job)
    result["final"]["majority_accuracy"] = 1.0 - float(data.y_val.float().mean())
    return result


def run_outliers(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """An MLP on ``outliers`` (8% gross outliers in the training targets) trained with ``config["loss"]``;
    MAE and R² on the clean validation targets, in the target's units."""
    job = _job(dataset="outliers", hidden=(64, 64), loss=config["loss"], metrics=("mae", "r2"),
               epochs=15 if quick else 60, batch_size=64, lr=1e-3, seed=seed)
    return _fit_job(job)


def run_segmentation(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """A small U-Net on ``shapes`` (small squares and discs, foreground vs background) trained with
    ``config["loss"]``; foreground IoU and Dice on the validation images."""
    from almanac import losses
    from almanac.train.data import load
    from almanac.train.models import unet

    data = load("shapes", seed=seed)
    masks = [(y > 0).float().unsqueeze(1) for y in (data.y_train, data.y_val)]
    name = config["loss"]
    if name == "binary_cross_entropy":
        loss = losses.binary_cross_entropy
    elif name == "focal_tversky":
        def loss(input: Tensor, target: Tensor) -> Tensor:
            return losses.focal_tversky(input, target, alpha=0.3, beta=0.7, task="binary")
    else:
        def loss(input: Tensor, target: Tensor) -> Tensor:
            return getattr(losses, name)(input, target, task="binary")
    torch.manual_seed(seed)
    model = unet(1, 1, channels=(8, 16) if quick else (12, 24, 48))
    metrics = {m: _metric(m, task="binary") for m in ("iou", "dice")}
    n = 160 if quick else len(data.x_train)
    train = (data.x_train[:n], masks[0][:n], masks[0][:n].long())
    return _train(model, loss, train, (data.x_val, masks[1], masks[1].long()), metrics=metrics,
                  output="sigmoid", epochs=3 if quick else 15, seed=seed, batch_size=32, lr=3e-3)


def _softmax_as_labels(num_labels: int) -> Callable[[Tensor], Tensor]:
    """Softmax probabilities raised to the power that maps 1/L to 0.5: a label is predicted at threshold 0.5
    exactly when its softmax probability is above uniform (1/L), and the ranking (AUC-PR) is unchanged."""
    power = math.log(0.5) / math.log(1.0 / num_labels)

    def output(logits: Tensor) -> Tensor:
        return torch.softmax(logits, dim=1) ** power

    return output


def run_multilabel(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """An MLP on ``multilabel`` (5 labels, about 2 per sample) with a softmax + cross-entropy head (targets: the
    labels as equal probabilities) or a sigmoid + BCE head; macro F1 and macro AUC-PR on the validation split.

    Training rows without any label are dropped for both heads (softmax cannot say "none"); validation keeps them.
    ``macro_f1_at_half`` is the macro F1 when each head's own probabilities are thresholded at 0.5.
    """
    from almanac import losses
    from almanac import metrics as metrics_catalog
    from almanac.train import predict
    from almanac.train.data import load
    from almanac.train.models import mlp

    data = load("multilabel", seed=seed)
    labelled = data.y_train.sum(1) > 0
    x, y = data.x_train[labelled], data.y_train[labelled]
    labels = data.num_outputs
    torch.manual_seed(seed)
    model = mlp(x.shape[1], labels, hidden=(64, 64))
    if config["head"] == "softmax_ce":
        train = (x, y / y.sum(1, keepdim=True), y.long())
        loss, output = losses.cross_entropy, _softmax_as_labels(labels)
    else:
        train = (x, y, y.long())
        loss, output = losses.binary_cross_entropy, "sigmoid"
    metrics = {"macro_f1": _metric("f1", task="multilabel", num_labels=labels, average="macro"),
               "macro_ap": _metric("average_precision", task="multilabel", num_labels=labels, average="macro")}
    val = (data.x_val, data.y_val, data.y_val.long())
    result = _train(model, loss, train, val, metrics=metrics, output=output, epochs=8 if quick else 30, seed=seed)
    # what a user who thresholds the head's own probabilities at 0.5 would measure
    probabilities = predict(model, val, output="softmax" if config["head"] == "softmax_ce" else "sigmoid")[0]
    result["final"]["macro_f1_at_half"] = float(metrics_catalog.f1(probabilities, val[2], task="multilabel",
                                                                  num_labels=labels, average="macro"))
    return result


def run_custom(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """``config["dataset"]`` trained with ``config["activation"]`` and ``config["loss"]`` as ``almanac train``
    would (the head and the target encoding follow the loss's spec); ``config["metrics"]`` on the validation split.
    """
    job = _job(dataset=config["dataset"], activation=config["activation"], loss=config["loss"],
               metrics=tuple(config["metrics"]), epochs=5 if quick else 20, seed=seed)
    return _fit_job(job)
