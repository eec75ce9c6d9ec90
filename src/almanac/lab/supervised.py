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

from almanac.errors import DomainError

__all__ = [
    "TARGET_ACCURACY",
    "reliability",
    "run_activations",
    "run_calibration",
    "run_custom",
    "run_imbalance",
    "run_label_noise",
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
    """Fit ``model`` and return the last epoch's validation metrics (``final``) and every epoch's (``curves``).

    A run whose training loss turns non-finite is a result too, not a failed sweep: its curves stop at the last
    finite epoch (NaN after it), ``final`` holds that epoch's values and ``diverged`` the epoch it blew up in
    (0 for a run that finished).
    """
    from almanac.train import History, fit

    rows: list[dict[str, Any]] = []
    diverged = 0
    try:
        fit(model, loss, train, val, metrics=metrics, output=output, epochs=epochs, seed=seed,
            on_epoch_end=rows.append, **options)
    except DomainError as exc:
        if "training loss" not in str(exc) or not rows:  # bad input, or nothing learned before it blew up
            raise
        diverged = len(rows) + 1
    history = History(rows)
    names = [c[len("val_"):] for c in history.columns if c.startswith("val_") and c != "val_loss"]
    curves = {name: history.column(f"val_{name}") for name in names}
    curves["train_loss"] = history.column("train_loss")
    final = {name: values[-1] for name, values in curves.items()}
    final["diverged"] = float(diverged)
    pad = [math.nan] * (epochs - len(rows))  # the same length for every seed: the summary cuts to the shortest
    return {"final": final, "curves": {name: values + pad for name, values in curves.items()}}


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


def _layer_gradients(model: nn.Module, loss: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor) -> list[float]:
    """The gradient norm of every linear or convolutional layer's weight on ``(x, y)``, input layer first."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    model.zero_grad(set_to_none=True)
    loss(model(x), y).backward()
    norms = [float(layer.weight.grad.norm()) for layer in layers]
    model.zero_grad(set_to_none=True)
    return norms


#: the SGD step of the activations scenario (momentum 0.9): plain SGD feels the gradient's scale, Adam rescales it
ACTIVATIONS_LR = 0.02


def run_activations(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """An MLP of ``depth`` hidden layers of 32 units with ``activation`` on ``moons`` (BCE), He-normal initialised
    (the init ReLU nets use, the same weights for every activation of a seed) and trained with SGD + momentum 0.9:
    epochs to :data:`TARGET_ACCURACY`, final accuracy, and the gradient norm of every layer at initialisation
    (``grad_layer``: input layer first; ``grad_first``; ``grad_ratio`` = first / last layer).

    SGD, not Adam: Adam divides each step by the gradient's running scale, which hides a vanishing gradient.
    A run that never reaches the target counts ``epochs + 1`` epochs (``reached`` is then 0).
    """
    epochs = 15 if quick else 30
    job = _job(dataset="moons", hidden=(32,) * config["depth"], activation=config["activation"],
               loss="binary_cross_entropy", metrics=("accuracy",), epochs=epochs, batch_size=32, lr=ACTIVATIONS_LR,
               seed=seed)
    torch.manual_seed(seed)
    for layer in job.model.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    norms = _layer_gradients(job.model, job.loss, *job.train_set[:2])
    optimizer = torch.optim.SGD(job.model.parameters(), lr=ACTIVATIONS_LR, momentum=0.9)
    result = _train(job.model, job.loss, job.train_set, job.val_set, metrics=job.metrics, output=job.output,
                    epochs=epochs, seed=seed, batch_size=32, optimizer=optimizer)
    accuracy = result["curves"]["accuracy"]
    reached = next((i + 1 for i, a in enumerate(accuracy) if a >= TARGET_ACCURACY), None)
    result["curves"]["grad_layer"] = norms
    result["final"].update(epochs_to_target=reached or epochs + 1, reached=float(reached is not None),
                           grad_first=norms[0], grad_ratio=norms[0] / max(norms[-1], 1e-30))
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


def _small_objects(n: int, size: int, seed: int) -> tuple[Tensor, Tensor]:
    """``n`` noisy ``size``×``size`` images (noise σ 0.6) with one or two faint discs of radius 1–2 (+1.0): about
    1% of the pixels are foreground. Returns (images n×1×size×size, masks n×1×size×size of 0/1)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    images = rng.normal(0.0, 0.6, (n, 1, size, size))
    masks = np.zeros((n, 1, size, size))
    rows, cols = np.mgrid[0:size, 0:size]
    for i in range(n):
        for _ in range(rng.integers(1, 3)):
            r = rng.integers(1, 3)
            cy, cx = rng.integers(r, size - r, 2)
            inside = (rows - cy) ** 2 + (cols - cx) ** 2 <= r**2
            masks[i, 0][inside] = 1.0
            images[i, 0][inside] += 1.0
    return torch.as_tensor(images, dtype=torch.float32), torch.as_tensor(masks, dtype=torch.float32)


def run_segmentation(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """A small U-Net on tiny faint discs (:func:`_small_objects`, about 1% foreground) trained with
    ``config["loss"]``; foreground IoU, Dice and recall on the validation images (threshold 0.5)."""
    from almanac import losses
    from almanac.train.models import unet

    x, y = _small_objects(400 if quick else 700, 32, seed)
    n_val = 100 if quick else 200
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
    model = unet(1, 1, channels=(8, 16))
    metrics = {m: _metric(m, task="binary") for m in ("iou", "dice", "recall")}
    train = (x[n_val:], y[n_val:], y[n_val:].long())
    val = (x[:n_val], y[:n_val], y[:n_val].long())
    result = _train(model, loss, train, val, metrics=metrics, output="sigmoid", epochs=4 if quick else 8,
                    seed=seed, batch_size=32, lr=3e-3)
    result["final"]["foreground"] = float(y.mean())
    return result


def _softmax_as_labels(num_labels: int) -> Callable[[Tensor], Tensor]:
    """Softmax probabilities raised to the power that maps 1/L to 0.5: a label is predicted at threshold 0.5
    exactly when its softmax probability is above uniform (1/L), and the ranking (AUC-PR) is unchanged."""
    power = math.log(0.5) / math.log(1.0 / num_labels)

    def output(logits: Tensor) -> Tensor:
        return torch.softmax(logits, dim=1) ** power

    return output


def _many_labels(seed: int, n: int = 2000) -> tuple[Tensor, Tensor]:
    """``n`` samples, 20 features, 6 labels, about 3 labels per sample and nearly all with two or more
    (``sklearn.datasets.make_multilabel_classification``, no sample without a label), standardised."""
    from sklearn.datasets import make_multilabel_classification

    x, y = make_multilabel_classification(n, n_features=20, n_classes=6, n_labels=3, allow_unlabeled=False,
                                          random_state=seed)
    x = (x - x.mean(0)) / (x.std(0) + 1e-12)
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)


def run_multilabel(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """An MLP on :func:`_many_labels` (6 labels, about 3 per sample) with a softmax + cross-entropy head (targets:
    the labels as equal probabilities) or a sigmoid + BCE head; macro F1 and macro AUC-PR on the validation quarter.
    ``macro_f1_at_half`` is the macro F1 when each head's own probabilities are thresholded at 0.5.
    """
    from almanac import losses
    from almanac import metrics as metrics_catalog
    from almanac.train import predict
    from almanac.train.models import mlp

    x_all, y_all = _many_labels(seed, 1000 if quick else 2000)
    n_val = len(x_all) // 4
    x, y = x_all[n_val:], y_all[n_val:]
    labels = y.shape[1]
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
    val = (x_all[:n_val], y_all[:n_val], y_all[:n_val].long())
    result = _train(model, loss, train, val, metrics=metrics, output=output, epochs=6 if quick else 25, seed=seed)
    counts = val[1].sum(1)
    result["final"].update(labels_per_sample=float(counts.mean()), share_multi=float((counts >= 2).float().mean()))
    # what a user who thresholds the head's own probabilities at 0.5 would measure
    probabilities = predict(model, val, output="softmax" if config["head"] == "softmax_ce" else "sigmoid")[0]
    result["final"]["macro_f1_at_half"] = float(metrics_catalog.f1(probabilities, val[2], task="multilabel",
                                                                  num_labels=labels, average="macro"))
    return result


def _classes(n: int, n_train: int, seed: int, *, classes: int, class_sep: float) -> tuple[Tensor, ...]:
    """A standardised ``make_classification`` problem (20 features, 8 informative) split into
    (x_train, y_train, x_val, y_val): the first ``n_train`` rows train."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n, n_features=20, n_informative=8, n_redundant=2, n_classes=classes,
                               n_clusters_per_class=1, class_sep=class_sep, random_state=seed)
    mean, std = x[:n_train].mean(0), x[:n_train].std(0) + 1e-12
    x = torch.as_tensor((x - mean) / std, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.long)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def _probability_loss(kind: str, **params: Any) -> Callable[[Tensor, Tensor], Tensor]:
    """A loss on the softmax probabilities against the one-hot label, from the catalog's ``mae`` / ``mse`` /
    ``huber`` (bounded, so one wrong label cannot dominate), optionally plus ``ce_weight`` × cross-entropy."""
    from almanac import losses

    ce_weight = params.pop("ce_weight", 0.0)
    function = getattr(losses, kind)

    def loss(logits: Tensor, target: Tensor) -> Tensor:
        p = torch.softmax(logits, dim=1)
        onehot = nn.functional.one_hot(target, p.shape[1]).to(p.dtype)
        value = function(p, onehot, **params) * p.shape[1]  # per sample: summed over the classes
        return value + ce_weight * losses.cross_entropy(logits, target) if ce_weight else value

    return loss


#: the share of training labels flipped in the label-noise scenario
NOISE_RATE = 0.4


def _noise_loss(name: str) -> Callable[[Tensor, Tensor], Tensor]:
    from almanac import losses

    if name == "cross_entropy":
        return losses.cross_entropy
    if name == "mae":
        return _probability_loss("mae")
    if name == "symmetric_ce":  # α CE + β reverse CE (Wang 2019); reverse CE with log 0 := −4 is 2 × the summed MAE
        return _probability_loss("mae", ce_weight=0.1)
    return _probability_loss("huber", delta=0.3)


def run_label_noise(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """An MLP (128, 128) on a 4-class problem whose training labels are 40% wrong (each flipped to another class
    uniformly), validated on clean labels, trained with cross-entropy, MAE on the probabilities, symmetric
    cross-entropy (0.1 CE + 0.5 reverse CE with log 0 := −4, i.e. 0.1 CE + the summed MAE) or Huber (δ 0.3) on the
    probabilities. Clean validation accuracy at the end and at its best epoch, and ``fit_noisy``: the share of the
    flipped training labels the model reproduces (how much of the noise it memorised)."""
    x, y, x_val, y_val = _classes(3000, 2000, seed, classes=4, class_sep=1.5)
    generator = torch.Generator().manual_seed(seed)
    flip = torch.rand(len(y), generator=generator) < NOISE_RATE  # the docstring's 40%
    shift = torch.randint(1, 4, (len(y),), generator=generator)
    noisy = torch.where(flip, (y + shift) % 4, y)
    torch.manual_seed(seed)
    from almanac.train.models import mlp

    model = mlp(x.shape[1], 4, hidden=(128, 128))
    metrics = {"accuracy": _metric("accuracy", task="multiclass", num_classes=4)}
    result = _train(model, _noise_loss(config["loss"]), (x, noisy), (x_val, y_val), metrics=metrics,
                    output="softmax", epochs=15 if quick else 40, seed=seed, batch_size=64, lr=1e-3)
    with torch.no_grad():
        predicted = model(x).argmax(1)
    accuracy = result["curves"]["accuracy"]
    result["final"].update(best_accuracy=max(accuracy), fit_noisy=float((predicted == noisy)[flip].float().mean()))
    return result


def _calibration_loss(name: str) -> Callable[[Tensor, Tensor], Tensor]:
    from almanac import losses

    if name == "cross_entropy":
        return losses.cross_entropy
    if name == "label_smoothing":
        def smoothed(logits: Tensor, target: Tensor) -> Tensor:
            return losses.cross_entropy(logits, target, label_smoothing=0.1)
        return smoothed
    if name == "focal":
        def focal(logits: Tensor, target: Tensor) -> Tensor:
            return losses.focal(logits, target, gamma=3.0, task="multiclass")
        return focal
    return _probability_loss("mse")  # brier


def reliability(probabilities: Tensor, target: Tensor, bins: int = 10) -> tuple[list[float], list[float],
                                                                              list[float]]:
    """(bin centres, accuracy per bin, share of samples per bin) of the top-class confidence; NaN accuracy for an
    empty bin. The reliability diagram plots accuracy against the bin centre (the diagonal is perfect)."""
    confidence, predicted = probabilities.max(1)
    correct = (predicted == target).float()
    index = torch.clamp((confidence * bins).long(), max=bins - 1)
    centres, accuracy, share = [], [], []
    for b in range(bins):
        members = index == b
        centres.append((b + 0.5) / bins)
        accuracy.append(float(correct[members].mean()) if members.any() else math.nan)
        share.append(float(members.float().mean()))
    return centres, accuracy, share


def run_calibration(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """An MLP (128, 128) trained long on a small 3-class training set (400 samples) with cross-entropy, label
    smoothing 0.1, focal loss (γ 3) or the Brier score (MSE on the probabilities): log loss, expected calibration
    error (15 bins), accuracy, mean confidence on the validation split, and the reliability diagram's bins."""
    from almanac.train import predict
    from almanac.train.models import mlp

    x, y, x_val, y_val = _classes(2000, 400, seed, classes=3, class_sep=0.8)
    torch.manual_seed(seed)
    model = mlp(x.shape[1], 3, hidden=(128, 128))
    metrics = {"log_loss": _metric("log_loss", task="multiclass", num_classes=3),
               "ece": _metric("calibration_error", task="multiclass", num_classes=3),
               "accuracy": _metric("accuracy", task="multiclass", num_classes=3)}
    result = _train(model, _calibration_loss(config["loss"]), (x, y), (x_val, y_val), metrics=metrics,
                    output="softmax", epochs=25 if quick else 60, seed=seed, batch_size=32, lr=2e-3)
    probabilities, _ = predict(model, (x_val, y_val), output="softmax")
    centres, accuracy, share = reliability(probabilities, y_val)
    result["curves"].update(reliability=accuracy, reliability_x=centres, bin_share=share, bin_share_x=centres)
    result["final"]["confidence"] = float(probabilities.max(1).values.mean())
    return result


def run_custom(config: Mapping[str, Any], seed: int, quick: bool) -> dict[str, Any]:
    """``config["dataset"]`` (or the CSV file ``config["csv"]`` predicting ``config["target"]``) trained with
    ``config["activation"]`` and ``config["loss"]`` as ``almanac train`` would (the head and the target encoding
    follow the loss's spec); ``config["metrics"]`` on the validation split.
    """
    source = ({"dataset": None, "csv": config["csv"], "target": config["target"]} if "csv" in config
              else {"dataset": config["dataset"]})
    job = _job(**source, activation=config["activation"], loss=config["loss"], metrics=tuple(config["metrics"]),
               epochs=5 if quick else 20, seed=seed)
    return _fit_job(job)
