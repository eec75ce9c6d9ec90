"""The runs of the supervised scenarios: a dataset, a model and a loss, trained with :func:`almanac.train.fit`.

Each ``run_*`` function trains one configuration with one seed and returns ``{"final": ..., "curves": ...}``
(see :class:`~almanac.lab.store.Run`): the validation metrics of the last epoch and their values epoch by epoch.
The datasets come from :func:`almanac.train.data.load` split with the run's seed, so the spread across seeds covers
both the initialisation and the data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "TARGET_ACCURACY",
    "custom_setup",
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
    metrics: Mapping[str, Any],
    output: str | Callable[[Tensor], Tensor],
    epochs: int,
    seed: int,
    **options: Any,
) -> dict[str, Any]:
    """Fit ``model`` and return the last epoch's metrics (``final``) and every epoch's (``curves``)."""
    from almanac.train import fit

    history = fit(model, loss, train, val, metrics=dict(metrics), output=output, epochs=epochs, seed=seed,
                  **options)
    curves = {name: history.column(f"val_{name}") for name in metrics}
    curves["train_loss"] = history.column("train_loss")
    return {"final": {name: values[-1] for name, values in curves.items()}, "curves": curves}


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
    """An MLP of ``depth`` hidden layers of 32 units with ``activation`` on ``moons``: epochs to
    :data:`TARGET_ACCURACY`, final accuracy and the first layer's gradient norm at initialisation.

    A run that never reaches the target counts ``epochs + 1`` epochs (``reached`` is then 0).
    """
    from almanac import losses
    from almanac.train.data import load
    from almanac.train.models import mlp

    epochs = 12 if quick else 30
    data = load("moons", seed=seed)
    torch.manual_seed(seed)
    model = mlp(2, 1, hidden=(32,) * config["depth"], activation=config["activation"], squeeze=True)
    loss = losses.binary_cross_entropy
    grad_first, grad_last = _first_layer_gradient(model, loss, data.x_train, data.y_train.float())
    result = _train(model, loss, (data.x_train, data.y_train.float(), data.y_train), (
        data.x_val, data.y_val.float(), data.y_val), metrics={"accuracy": _metric("accuracy", task="binary")},
        output="sigmoid", epochs=epochs, seed=seed, lr=3e-3)
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
    from almanac import losses
    from almanac.train.data import load
    from almanac.train.models import mlp

    data = load("imbalanced", seed=seed)
    y_train, y_val = data.y_train.float(), data.y_val.float()
    positives = float(y_train.sum())
    name = config["loss"]
    if name == "weighted":
        pos_weight = (len(y_train) - positives) / positives

        def loss(input: Tensor, target: Tensor) -> Tensor:
            return losses.binary_cross_entropy(input, target, pos_weight=pos_weight)
    elif name == "focal":
        def loss(input: Tensor, target: Tensor) -> Tensor:
            return losses.focal(input, target, gamma=2.0, task="binary")
    else:
        loss = losses.binary_cross_entropy
    torch.manual_seed(seed)
    model = mlp(data.x_train.shape[1], 1, hidden=(64, 64), squeeze=True)
    metrics = {m: _metric(m, task="binary") for m in ("f1", "average_precision", "balanced_accuracy", "accuracy")}
    result = _train(model, loss, (data.x_train, y_train, data.y_train), (data.x_val, y_val, data.y_val),
                    metrics=metrics, output="sigmoid", epochs=8 if quick else 25, seed=seed, batch_size=128)
    result["final"]["majority_accuracy"] = 1.0 - float(y_val.mean())
    return result


def run_outliers(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """An MLP on ``outliers`` (8% gross outliers in the training targets) trained with ``config["loss"]``;
    MAE and R² on the clean validation targets, in the target's units."""
    from almanac import losses
    from almanac.train.data import load
    from almanac.train.models import Rescale, mlp

    data = load("outliers", seed=seed)
    torch.manual_seed(seed)
    # the layers work at unit scale, the head rescales: a Huber delta of 1 is one training-target std
    model = nn.Sequential(mlp(data.x_train.shape[1], 1, hidden=(64, 64), squeeze=True), Rescale(0.0, 1.0))
    mean, std = data.target_mean, data.target_std
    loss = getattr(losses, config["loss"])
    scaled = (data.y_train - mean) / std, (data.y_val - mean) / std
    result = _train(model, loss, (data.x_train, scaled[0]), (data.x_val, scaled[1]),
                    metrics={"mae": _metric("mae"), "r2": _metric("r2")}, output="identity",
                    epochs=15 if quick else 60, seed=seed)
    # metrics were measured on standardised targets: MAE back to the target's units, R² is scale-free
    result["curves"]["mae"] = [v * std for v in result["curves"]["mae"]]
    result["final"]["mae"] *= std
    return result


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
    return _train(model, loss, (data.x_train[:n], masks[0][:n]), (data.x_val, masks[1]), metrics=metrics,
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
    """
    from almanac import losses
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
    return _train(model, loss, train, (data.x_val, data.y_val, data.y_val.long()), metrics=metrics, output=output,
                  epochs=8 if quick else 30, seed=seed)


def run_custom(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """``config["dataset"]`` trained with ``config["activation"]`` and ``config["loss"]``; ``config["metrics"]``
    measured on the validation split. The head and the target format follow the task and the loss's spec."""
    from almanac import losses
    from almanac.train.data import load

    data = load(config["dataset"], seed=seed)
    torch.manual_seed(seed)
    setup = custom_setup(data, losses.spec(config["loss"]), config["activation"])
    metrics = {m: _metric(m, **setup.metric_params) for m in config["metrics"]}
    return _train(setup.model, losses.get(config["loss"]), setup.train, setup.val, metrics=metrics,
                  output=setup.output, epochs=5 if quick else 20, seed=seed)


@dataclass(frozen=True)
class Setup:
    """What a custom run trains: the model, the data tuples, the output for the metrics and their keywords."""

    model: nn.Module
    train: tuple[Tensor, ...]
    val: tuple[Tensor, ...]
    output: str | Callable[[Tensor], Tensor]
    metric_params: dict[str, Any]


def _positive_probability(logits: Tensor) -> Tensor:
    """The probability of class 1 from two logits."""
    return torch.softmax(logits, dim=1)[:, 1]


def custom_setup(data: Any, spec: Any, activation: str) -> Setup:
    """The :class:`Setup` of ``data`` (a :class:`~almanac.train.data.Data`) for the loss ``spec``.

    Raises :class:`~almanac.errors.ConfigError` when the loss does not fit the dataset's task.
    """
    from almanac.errors import ConfigError, problem
    from almanac.train.models import Rescale, cnn, mlp

    task = data.task
    if task not in spec.tasks or task == "segmentation":
        raise problem(ConfigError, "--losses", f"to fit the {task} task of dataset {data.name}",
                      f"{spec.name} (tasks: {', '.join(spec.tasks)})",
                      "pick losses made for that task (almanac explain NAME shows them); for segmentation use "
                      "almanac compare segmentation")
    two_logits = task == "binary" and spec.target == "class_indices"
    width = 2 if two_logits else data.num_outputs
    build = cnn if data.is_image else mlp
    model: nn.Module = build(data.x_train.shape[1] if data.is_image else math.prod(data.input_shape), width,
                             activation=activation, squeeze=width == 1)
    as_float = spec.target != "class_indices"
    if task == "regression":
        model = nn.Sequential(model, Rescale(data.target_mean, data.target_std))
        output, params = "identity", {}
    elif two_logits:
        output, params = _positive_probability, {"task": "binary"}
    elif task == "binary":
        output, params = "sigmoid", {"task": "binary"}
    elif task == "multilabel":
        output, params = "sigmoid", {"task": "multilabel", "num_labels": width}
    else:
        output, params = "softmax", {"task": "multiclass", "num_classes": width}

    def split(x: Tensor, y: Tensor) -> tuple[Tensor, ...]:
        return (x, y.float() if as_float else y, y)

    return Setup(model, split(data.x_train, data.y_train), split(data.x_val, data.y_val), output, params)
