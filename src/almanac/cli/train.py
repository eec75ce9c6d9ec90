"""``almanac train``: train a model on a dataset or a CSV, with a progress bar, into ``runs/<name>/``."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import click
import torch

from almanac import _checks
from almanac.errors import AlmanacError, ConfigError, problem

_RESUMABLE = {"resume_dir", "epochs", "device", "threads"}
#: library arguments → the flags of ``almanac train`` that set them
FLAGS = {"dataset": "--dataset", "csv": "--csv", "target": "--target", "task": "--task", "model": "--model",
         "hidden": "--hidden", "activation": "--activation", "loss": "--loss", "metrics": "--metrics",
         "epochs": "--epochs", "batch_size": "--batch-size", "lr": "--lr", "seed": "--seed", "out": "--out",
         "name": "--name", "device": "--device", "precision": "--precision", "schedule": "--schedule",
         "early_stop": "--early-stop", "log": "--log", "images": "--images", "image_size": "--image-size",
         "run_dir": "--resume"}


@contextlib.contextmanager
def flags(mapping: dict[str, str]) -> Iterator[None]:
    """Re-word a library error for the command line: the argument it names becomes the flag that sets it."""
    try:
        yield
    except AlmanacError as exc:
        text = str(exc)
        match = re.match(r"expected `([^`]+)`", text)
        if match is None or match.group(1) not in mapping:
            raise
        raise type(exc)(f"expected `{mapping[match.group(1)]}`{text[match.end():]}") from exc
_TRAINER_SET = ("task", "from_logits", "reduction")  # loss parameters the trainer sets to fit the model's head


def _csv_list(value: str | None, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    if not items:
        raise problem(ConfigError, name, "a comma-separated list", repr(value), f"pass for example {name} a,b")
    return items


def _value(text: str) -> Any:
    """``true``/``false`` → bool, an integer → int, another number → float, otherwise the string itself."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _params(pairs: tuple[str, ...], option: str) -> dict[str, Any]:
    """``KEY=VALUE`` pairs → a dict; VALUE is a number, true/false, a string or comma-separated numbers (a list).

    The keys and values are checked by the registry when the loss or activation is built."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = (part.strip() for part in pair.partition("="))
        if not sep or not key.isidentifier() or not text:
            raise problem(ConfigError, option, "to be KEY=VALUE", repr(pair), f"pass for example {option} gamma=1")
        if key in params:
            raise problem(ConfigError, option, "to set each parameter once", f"{key} twice", f"drop one {key}=")
        if "," in text:
            items = [_value(v.strip()) for v in text.split(",")]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
                raise problem(ConfigError, f"{option} {key}", "to be one value or comma-separated numbers",
                              repr(text), f"pass for example {option} {key}=0.2,0.3,0.5")
            params[key] = items
        else:
            params[key] = _value(text)
    return params


def _hidden(value: str | None) -> tuple[int, ...] | None:
    if value is None:  # the model builder's own widths
        return None
    try:
        widths = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise problem(ConfigError, "--hidden", "comma-separated positive layer widths", repr(value),
                      "pass for example --hidden 128,64")
    return widths


@click.command()
@click.option("--dataset", default=None, metavar="NAME",
              help="digits (default), iris, wine, breast_cancer, diabetes, moons, circles, imbalanced, outliers, "
                   "multilabel or shapes. No download.")
@click.option("--csv", "csv_path", default=None, metavar="FILE",
              help="Train on a CSV (or Parquet) file with a header row ...")
@click.option("--target", default=None, metavar="COL", help="... predicting this column (several, comma-separated: "
              "multilabel); the other columns are features: numbers (empty cells imputed) or text (one-hot).")
@click.option("--task", default=None, metavar="TASK",
              help="binary, multiclass, multilabel or regression (default: inferred from the target).")
@click.option("--model", default=None, metavar="mlp|cnn|unet", help="Model (default: mlp; unet for shapes).")
@click.option("--hidden", default=None,
              help="Layer widths: the MLP's hidden layers (default 128,64), or the channels per stage of cnn "
                   "(32,64) and unet (16,32,64).")
@click.option("--activation", default="relu", show_default=True,
              help="Hidden activation: any name of almanac.activations, or auto.")
@click.option("--activation-param", "activation_param", multiple=True, metavar="KEY=VALUE",
              help="A parameter of the hidden activation (repeatable): --activation leaky_relu "
                   "--activation-param negative_slope=0.1.")
@click.option("--loss", default=None, help="Any loss of almanac.losses that fits the task, or auto "
              "(default: cross_entropy, binary_cross_entropy or mse by task).")
@click.option("--loss-param", "loss_param", multiple=True, metavar="KEY=VALUE",
              help="A parameter of the loss (repeatable): --loss focal --loss-param gamma=1 --loss-param alpha=0.25. "
                   "VALUE is a number, true/false, a string or comma-separated numbers (alpha=0.2,0.3,0.5). "
                   "With --loss auto these override the advised parameters. task, from_logits and reduction are "
                   "set by the trainer to fit the model's head.")
@click.option("--metrics", default=None, metavar="A,B,...", help="Validation metrics, the main one first, or auto "
              "(default: accuracy,f1,auroc,log_loss for classification; macro averages).")
@click.option("--epochs", type=int, default=30, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Learning rate of Adam.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the split, the weights and the shuffling.")
@click.option("--out", default="runs", show_default=True, help="Directory that holds the runs.")
@click.option("--name", default=None, help="Run name (default: dataset-model-activation-loss-time).")
@click.option("--resume", "resume_dir", default=None, metavar="RUN_DIR",
              help="Continue a run from its last finished epoch, with its own config (--epochs may extend it).")
@click.option("--device", default=None, metavar="auto|cpu|cuda", help="Device (default: auto, CUDA when available).")
@click.option("--precision", type=click.Choice(["32", "bf16", "fp16"]), default="32", show_default=True,
              help="Mixed precision: the forward pass under autocast in bf16 or fp16 (with a grad scaler).")
@click.option("--schedule", type=click.Choice(["none", "cosine", "onecycle"]), default="none", show_default=True,
              help="Learning-rate schedule over all batches.")
@click.option("--early-stop", "early_stop", type=int, default=None, metavar="N",
              help="Stop after N epochs without a better main metric (best.pt keeps the best epoch anyway).")
@click.option("--log", type=click.Choice(["tensorboard", "mlflow"]), default=None,
              help="Also log each epoch to TensorBoard (RUN/tensorboard) or MLflow (RUN/mlruns); extras "
                   "nn-almanac[tensorboard] / [mlflow].")
@click.option("--images", default=None, metavar="DIR", help="Train on a folder of images: one sub-folder per class, "
              "or images/ + masks/ (segmentation).")
@click.option("--image-size", "image_size", type=int, default=32, show_default=True,
              help="With --images: resize every image to this many pixels square.")
@click.option("--threads", type=int, default=1, show_default=True,
              help="CPU threads per process: small models train fastest on one; raise it for wide ones.")
@click.pass_context
def train(ctx: click.Context, dataset: str | None, csv_path: str | None, target: str | None, task: str | None,
          model: str | None, hidden: str | None, activation: str, activation_param: tuple[str, ...], loss: str | None,
          loss_param: tuple[str, ...], metrics: str | None, epochs: int, batch_size: int, lr: float, seed: int,
          out: str, name: str | None, resume_dir: str | None, device: str | None, precision: str, schedule: str,
          early_stop: int | None, log: str | None, images: str | None, image_size: int, threads: int) -> None:
    """Train a network and write its report, history, metrics and checkpoint to runs/<name>/.

    With no options: scikit-learn's digits, an MLP with ReLU, cross-entropy, and validation accuracy, macro F1,
    AUROC and log loss. Under torchrun the same job runs data-parallel.

    \b
    Examples:
      almanac train
      almanac train --dataset moons --activation gelu --loss focal
      almanac train --dataset moons --loss focal --loss-param gamma=1 --loss-param alpha=0.25
      almanac train --csv data.csv --target price
      almanac train --dataset imbalanced --loss auto --metrics auto
      almanac train --resume runs/NAME
      torchrun --nproc_per_node 2 -m almanac train
    """
    with flags({**FLAGS, "threads": "--threads"}):
        _train(ctx, dataset, csv_path, target, task, model, hidden, activation, activation_param, loss, loss_param,
               metrics, epochs, batch_size, lr, seed, out, name, resume_dir, device, precision, schedule, early_stop,
               log, images, image_size, threads)


def _train(ctx: click.Context, dataset: str | None, csv_path: str | None, target: str | None, task: str | None,
           model: str | None, hidden: str | None, activation: str, activation_param: tuple[str, ...],
           loss: str | None, loss_param: tuple[str, ...], metrics: str | None, epochs: int, batch_size: int,
           lr: float, seed: int, out: str, name: str | None, resume_dir: str | None, device: str | None,
           precision: str, schedule: str, early_stop: int | None, log: str | None, images: str | None,
           image_size: int, threads: int) -> None:
    from rich.console import Console
    from rich.table import Table

    from almanac.train import checkpoint, distributed
    from almanac.train.job import RunConfig, resume, run
    from almanac.train.loop import BEST

    _checks.check_number(threads, "threads", low=1, integer=True)
    torch.set_num_threads(threads)
    if resume_dir is not None:
        given = [p for p in ctx.params if ctx.get_parameter_source(p) == click.core.ParameterSource.COMMANDLINE]
        extra = sorted(set(given) - _RESUMABLE)
        if extra:
            flags = ", ".join("--" + e.replace("_", "-").replace("csv-path", "csv") for e in extra)
            raise problem(ConfigError, "--resume", "alone (the run keeps its own config; --epochs may extend it)",
                          f"also {flags}", "drop those options, or start a new run")
        explicit_epochs = ctx.get_parameter_source("epochs") == click.core.ParameterSource.COMMANDLINE
        path, history, final = resume(resume_dir, epochs=epochs if explicit_epochs else None, device=device)
    else:
        sources = [f for f, v in (("--dataset", dataset), ("--csv", csv_path), ("--images", images)) if v]
        if len(sources) > 1:
            raise problem(ConfigError, sources[0], "alone: one of --dataset, --csv or --images",
                          " and ".join(sources), "drop all but one")
        if target is not None and csv_path is None:
            raise problem(ConfigError, "--target", "with --csv", "no --csv", "pass --csv FILE")
        given_loss_params = _params(loss_param, "--loss-param")
        reserved = [k for k in _TRAINER_SET if k in given_loss_params]
        if reserved:
            raise problem(ConfigError, "--loss-param", "to set a hyperparameter of the loss", ", ".join(reserved),
                          f"drop it: the trainer sets {', '.join(_TRAINER_SET)} to fit the model's head")
        config = RunConfig(dataset=None if csv_path or images else (dataset or "digits"), csv=csv_path, target=target,
                           task=task, model=model, hidden=_hidden(hidden), activation=activation,
                           activation_params=_params(activation_param, "--activation-param"), loss=loss,
                           loss_params=given_loss_params, metrics=_csv_list(metrics, "--metrics"), epochs=epochs,
                           batch_size=batch_size, lr=lr, seed=seed, device=device or "auto", name=name, out=out,
                           precision=precision, schedule=schedule, early_stop=early_stop, log=log, images=images,
                           image_size=image_size)
        path, history, final = run(config)
    if distributed.is_main():
        best = checkpoint.load(path / BEST)["epoch"]
        row = next((r for r in history if r.get("epoch") == best), history.last)
        table = Table(title=f"best epoch: {best} of {history.last.get('epoch', 0)}")
        table.add_column("validation")
        table.add_column("value", justify="right")
        if "val_loss" in row:
            table.add_row("loss", f"{row['val_loss']:.4f}")
        for key, value in final.items():
            table.add_row(key, f"{value:.4f}")
        console = Console()
        console.print(table)
        console.print(f"run written to {path}/ (report.html, history.csv, metrics.json, config.json, best.pt, "
                      "checkpoint.pt, preprocessing.json)",
                      highlight=False, soft_wrap=True)
    distributed.teardown()
