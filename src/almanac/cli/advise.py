"""``almanac advise``: the output activation, loss and metrics a target calls for, with the reasons."""

from __future__ import annotations

import json

import click
import numpy as np

__all__ = ["advise"]

_TASKS = ("binary", "multiclass", "multilabel", "regression", "count", "bounded", "segmentation")


@click.command()
@click.option("--csv", "data", type=click.Path(dir_okay=False), default=None, help="A CSV file with a header row.")
@click.option("--target", "target_col", default=None, help="Target column of --csv (several: a,b,c = multilabel).")
@click.option("--dataset", default=None, help="A bundled dataset instead of a CSV (digits, iris, wine, "
                                              "breast_cancer, diabetes, ...).")
@click.option("--task", type=click.Choice(_TASKS), default=None, help="Force the task instead of inferring it.")
@click.option("--json", "as_json", is_flag=True, help="Print the advice as one JSON object.")
def advise(data: str | None, target_col: str | None, dataset: str | None, task: str | None, as_json: bool) -> None:
    """Advise the output activation, the loss (with its parameters) and the metrics for a target.

    Example: almanac advise --csv churn.csv --target churned
    """
    from almanac.advisor import advise as run

    if (dataset is None) == (data is None):
        raise click.UsageError("pass either --csv FILE --target COL or --dataset NAME")
    if data is not None:
        if target_col is None:
            raise click.UsageError("--csv needs --target COL")
        from pathlib import Path

        from almanac.cli.train import flags
        from almanac.train.data import read_target

        if not Path(data).is_file():
            raise click.BadParameter(f"no file {data!r}", param_hint="--csv")
        with flags({"csv": "--csv", "target": "--target", "features": "--csv"}):
            inputs, target = read_target(data, target_col)  # the reader of almanac train: one CSV, one reading
        advice = run(target, inputs=inputs, task=task)
    else:
        import torch

        from almanac.train.data import load

        d = load(dataset)  # type: ignore[arg-type]
        target = torch.cat([d.y_train, d.y_val]).numpy()
        inputs = torch.cat([d.x_train, d.x_val]).numpy()
        advice = run(target, inputs=inputs, task=task or d.task)
    if as_json:
        click.echo(json.dumps({
            "task": advice.task, "output_activation": advice.output_activation,
            "inference_activation": advice.inference_activation, "loss": advice.loss,
            "loss_params": dict(advice.loss_params), "metrics": list(advice.metrics),
            "facts": dict(advice.facts), "reasons": dict(advice.reasons),
        }, default=_plain))
    else:
        click.echo(str(advice))


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
