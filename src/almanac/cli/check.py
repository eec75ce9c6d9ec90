"""``almanac check FILE.py:FACTORY``: lint a model, its loss and metrics, optionally on a CSV sample."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch
from torch import nn

from almanac.errors import ConfigError, ShapeError, problem
from almanac.registry import TASKS

__all__ = ["check", "load_factory", "read_table"]


def load_factory(spec: str) -> tuple[nn.Module, Any]:
    """Import ``FILE.py`` and call ``FACTORY()``; it returns a model, or a model and a loss."""
    path_text, sep, name = spec.rpartition(":")
    if not sep or not name or not path_text:
        raise click.BadParameter("expected FILE.py:FACTORY, for example model.py:build", param_hint="FILE.py:FACTORY")
    path = Path(path_text)
    if not path.is_file():
        raise click.BadParameter(f"no file {path_text!r}", param_hint="FILE.py:FACTORY")
    module_spec = importlib.util.spec_from_file_location(f"_almanac_check_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise click.BadParameter(f"cannot import {path_text!r}", param_hint="FILE.py:FACTORY")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise click.BadParameter(f"{path.name} has no function {name!r}", param_hint="FILE.py:FACTORY")
    built = factory()
    model, loss = (built[0], built[1]) if isinstance(built, tuple) and len(built) == 2 else (built, None)
    if not isinstance(model, nn.Module):
        raise problem(ConfigError, f"{name}()", "to return an nn.Module, or (model, loss)", type(model).__name__,
                      "return the model object")
    return model, loss


def read_table(path: str, target: str) -> tuple[torch.Tensor, np.ndarray]:
    """Inputs (every column but the target ones, as float) and the raw target column(s) of a CSV file."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f) if row]
    if len(rows) < 3:
        raise problem(ConfigError, "--csv", "to hold a header row and at least 2 data rows", f"{len(rows)} rows",
                      "pass a CSV file with a header line")
    header = [h.strip() for h in rows[0]]
    wanted = [t.strip() for t in target.split(",") if t.strip()]
    missing = [t for t in wanted if t not in header]
    if not wanted or missing:
        raise problem(ConfigError, "--target", f"to name columns of the CSV ({', '.join(header)})", repr(target),
                      "pass one of these column names")
    columns = {h: [r[i].strip() if i < len(r) else "" for r in rows[1:]] for i, h in enumerate(header)}
    features = [h for h in header if h not in wanted]
    try:
        x = np.array([[float(v) if v else np.nan for v in columns[h]] for h in features], dtype=np.float64).T
    except ValueError as exc:
        raise problem(ConfigError, "--csv", "numeric feature columns", str(exc),
                      "encode text features as numbers, or drop them") from exc
    ys = []
    for name in wanted:
        try:
            ys.append(np.array([float(v) for v in columns[name]]))
        except ValueError:
            ys.append(np.array(columns[name]))
    y = ys[0] if len(ys) == 1 else np.stack(ys, axis=1)
    return torch.as_tensor(x, dtype=torch.float32), y


def _target_for(model: nn.Module, loss: Any, x: torch.Tensor, y: np.ndarray) -> torch.Tensor:
    """The CSV target in the form the loss takes: class indices, or floats shaped like the model's output."""
    from almanac.lint.losses import classify_loss
    from almanac.lint.trace import preserved

    if y.dtype.kind not in "biuf":
        y = np.unique(y, return_inverse=True)[1]
    kind = classify_loss(loss)
    integer = bool(np.all(np.mod(y, 1) == 0))
    if kind is not None and kind.class_indices:
        return torch.as_tensor(y).long() if integer else torch.as_tensor(y, dtype=torch.float32)
    try:
        with preserved(model), torch.no_grad():
            out = model(x)
    except Exception as exc:  # the user's model rejects the CSV's columns: say so as bad usage
        raise problem(ShapeError, "inputs", f"to be accepted by the model ({x.shape[1]} CSV feature columns)",
                      f"{type(exc).__name__}: {exc}", "drop the columns the model does not take") from exc
    target = torch.as_tensor(y, dtype=torch.float32)
    if isinstance(out, torch.Tensor) and out.ndim == 2 and out.shape[1] == 1 and target.ndim == 1:
        target = target.view(-1, 1)
    return target


@click.command()
@click.argument("factory", metavar="FILE.py:FACTORY")
@click.option("--loss", default=None, help="Loss name (almanac name or PyTorch class); overrides the factory's.")
@click.option("--csv", "--data", "data", type=click.Path(dir_okay=False), default=None,
              help="A CSV sample batch: the inputs and the target column (enables the data and gradient rules).")
@click.option("--target", "target_col", default=None, help="Target column of --csv (several: a,b,c).")
@click.option("--metrics", default=None, help="Comma-separated metric names, for example accuracy,f1.")
@click.option("--task", type=click.Choice(TASKS), default=None, help="The task, when it cannot be inferred.")
def check(factory: str, loss: str | None, data: str | None, target_col: str | None, metrics: str | None,
          task: str | None) -> int:
    """Check a model for mismatched activations, losses and metrics (rules AL001–AL020).

    FACTORY is a function in FILE.py that returns a model, or a model and a loss. Findings are printed one a line,
    like a compiler; the exit code is 1 when an error is found.

    Example: almanac check model.py:build --loss cross_entropy --csv sample.csv --target label --metrics accuracy
    """
    from almanac import lint

    if (data is None) != (target_col is None):
        raise click.UsageError("--csv and --target go together")
    model, factory_loss = load_factory(factory)
    chosen = loss if loss is not None else factory_loss
    inputs = target = None
    if data is not None and target_col is not None:
        if not Path(data).is_file():
            raise click.BadParameter(f"no file {data!r}", param_hint="--csv")
        inputs, raw = read_table(data, target_col)
        target = _target_for(model, chosen, inputs, raw)
    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    report = lint.check(model, chosen, inputs=inputs, target=target, metrics=names, task=task)
    click.echo(str(report) if report.findings else "no findings")
    return 0 if report.ok else 1
