"""``almanac check FILE.py:FACTORY``: lint a model, its loss and metrics, optionally on a CSV sample."""

from __future__ import annotations

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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def load_factory(spec: str) -> tuple[nn.Module, Any]:
    """Import ``FILE.py`` and call ``FACTORY()``; it returns a model, or a model and a loss.

    A module that fails to import (syntax error, import error, an exception or ``sys.exit`` at import time) or a
    factory that raises or needs arguments is a :class:`~almanac.errors.ConfigError` (exit 2, one line)."""
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
    try:
        module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # the user's module is broken: exit 2, never 1 (1 means an error finding)
        got = f"sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else _one_line(exc)
        raise problem(ConfigError, path.name, "to import cleanly", got,
                      f"run `python {path.name}` to see the traceback, and fix it") from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise click.BadParameter(f"{path.name} has no function {name!r}", param_hint="FILE.py:FACTORY")
    try:
        built = factory()
    except (Exception, SystemExit) as exc:
        got = f"sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else _one_line(exc)
        raise problem(ConfigError, f"{name}()", "to build the model when called with no arguments", got,
                      "give every argument of the factory a default") from None
    model, loss = (built[0], built[1]) if isinstance(built, tuple) and len(built) == 2 else (built, None)
    if not isinstance(model, nn.Module):
        raise problem(ConfigError, f"{name}()", "to return an nn.Module, or (model, loss)", type(model).__name__,
                      "return the model object")
    return model, loss


def read_table(path: str, target: str) -> tuple[torch.Tensor, np.ndarray]:
    """Inputs (every column but the target ones, as float) and the raw target column(s) of a CSV file, read by
    the reader of ``almanac train`` (UTF-8, header row, ragged rows and repeated names refused)."""
    from almanac.cli.train import flags
    from almanac.train.data import read_table as read_frame

    with flags({"csv": "--csv"}):
        frame = read_frame(path)
    if len(frame) < 2:
        raise problem(ConfigError, "--csv", "to hold a header row and at least 2 data rows", f"{len(frame)} rows",
                      "pass a CSV file with a header line")
    header = [str(c) for c in frame.columns]
    wanted = [t.strip() for t in target.split(",") if t.strip()]
    missing = [t for t in wanted if t not in header]
    if not wanted or missing:
        raise problem(ConfigError, "--target", f"to name columns of the CSV ({', '.join(header)})", repr(target),
                      "pass one of these column names")
    features = frame[[h for h in header if h not in wanted]]
    text = [str(c) for c in features.columns if features[c].dtype.kind not in "biuf"]
    if text:
        raise problem(ConfigError, "--csv", "numeric feature columns", f"text in {', '.join(text)}",
                      "encode text features as numbers, or drop them")
    x = features.to_numpy(dtype=np.float64)
    ys = [frame[name].to_numpy() for name in wanted]
    ys = [y.astype(np.float64) if y.dtype.kind in "biuf" else y.astype(str) for y in ys]
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


class _CheckCommand(click.Command):
    """Everything after ``--run SCRIPT`` belongs to the script (like ``python -m cProfile``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--run" in args:
            at = args.index("--run")
            ctx.meta["script_args"] = args[at + 2:]
            args = args[:at + 2]
        return super().parse_args(ctx, args)


@click.command(cls=_CheckCommand)
@click.argument("factory", metavar="[FILE.py:FACTORY]", required=False)
@click.option("--loss", default=None, help="Loss name (almanac name or PyTorch class); overrides the factory's.")
@click.option("--csv", "--data", "data", type=click.Path(dir_okay=False), default=None,
              help="A CSV sample batch: the inputs and the target column (enables the data and gradient rules).")
@click.option("--target", "target_col", default=None, help="Target column of --csv (several: a,b,c).")
@click.option("--metrics", default=None, help="Comma-separated metric names, for example accuracy,f1.")
@click.option("--task", type=click.Choice(TASKS), default=None, help="The task, when it cannot be inferred.")
@click.option("--ignore", "ignore", multiple=True, help="Rule codes to leave out, for example AL019 (or AL006,AL019).")
@click.option("--run", "script", default=None, metavar="SCRIPT.py [ARGS]...",
              help="Run a training script unchanged and check its first optimizer step; the rest of the command "
                   "line is the script's.")
@click.option("--continue", "keep_going", is_flag=True, help="With --run: let the script go on after the check.")
@click.option("--steps", default=1, show_default=True, type=click.IntRange(min=1),
              help="With --run: the optimizer steps to watch before checking.")
@click.pass_context
def check(ctx: click.Context, factory: str | None, loss: str | None, data: str | None, target_col: str | None,
          metrics: str | None, task: str | None, ignore: tuple[str, ...], script: str | None, keep_going: bool,
          steps: int) -> int:
    """Check a model for mismatched activations, losses and metrics (rules AL001–AL020).

    FACTORY is a function in FILE.py that returns a model, or a model and a loss. With --run SCRIPT.py the user's
    own training script runs unchanged under the checker, which watches its first step (model forward, loss,
    backward, optimizer step) and then stops it (or lets it go on with --continue). Findings are printed one a
    line, like a compiler; the exit code is 1 when an error is found, 2 when the command or the script is broken.

    Example: almanac check model.py:build --loss cross_entropy --csv sample.csv --target label --metrics accuracy

    Example: almanac check --run train.py --epochs 3
    """
    from almanac import lint

    codes = [c for item in ignore for c in item.split(",") if c.strip()]
    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    if script is not None:
        if factory is not None or data is not None or loss is not None:
            raise click.UsageError("--run takes a script: FILE.py:FACTORY, --loss and --csv go without it")
        return _run_script(script, list(ctx.meta.get("script_args", [])), keep_going, steps, codes, names, task)
    if factory is None:
        raise click.UsageError("pass FILE.py:FACTORY, or --run SCRIPT.py")
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
    report = lint.check(model, chosen, inputs=inputs, target=target, metrics=names, task=task, ignore=codes)
    click.echo(str(report) if report.findings else "no findings")
    return 0 if report.ok else 1


def _run_script(script: str, args: list[str], keep_going: bool, steps: int, ignore: list[str],
                metrics: list[str] | None, task: str | None) -> int:
    """Run ``script`` as ``__main__`` with ``args`` under :func:`almanac.lint.watch`; 1 on an error finding."""
    import runpy
    import sys

    from almanac.lint.watch import StopTraining, watch

    path = Path(script)
    if not path.is_file():
        raise click.BadParameter(f"no file {script!r}", param_hint="--run")
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(path), *args]
    sys.path.insert(0, str(path.resolve().parent))
    failure = None
    watcher = watch(steps, ignore=ignore, metrics=metrics, task=task, stop=not keep_going, echo=keep_going,
                    stream=sys.stdout)  # going on: the report is printed as soon as it is made
    try:
        with watcher:
            runpy.run_path(str(path), run_name="__main__")
    except StopTraining:
        pass
    except SystemExit as exc:  # the script's own exit: a failure only when it is not 0 and nothing was checked
        if exc.code not in (None, 0) and watcher.report is None:
            failure = f"sys.exit({exc.code!r})"
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        failure = _one_line(exc)
    finally:
        watcher.detach()
        sys.argv, sys.path[:] = saved_argv, saved_path
    report = watcher.report
    if report is not None and not keep_going:
        click.echo(str(report) if report.findings else "no findings")
    if failure is not None:
        raise problem(ConfigError, path.name, "to run", failure,
                      f"run `python {path.name}` to see the traceback, and fix it")
    if report is None:
        raise problem(ConfigError, path.name, "to take a training step (a PyTorch loss, then optimizer.step())",
                      "no PyTorch loss function was called", "check a model factory instead: FILE.py:FACTORY")
    return 0 if report.ok else 1
