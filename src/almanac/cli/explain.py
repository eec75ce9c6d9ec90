"""``almanac explain``: what an activation, a loss or a metric is, from its spec, with a plot."""

from __future__ import annotations

import re
from pathlib import Path

import click

from almanac.errors import ConfigError, problem


@click.command()
@click.argument("names", nargs=-1)
@click.option("--families", is_flag=True, help="Compare the three families (activations, losses, metrics).")
@click.option("--out", default=None, help="Where to write the PNG (default: runs/explain/<names>.png).")
def explain(names: tuple[str, ...], families: bool, out: str | None) -> None:
    """Explain activations, losses and metrics: formula, spec facts, and a plot of the curves.

    An activation is drawn with its derivative, a loss with its gradient against the prediction; several names
    overlay in one plot. A name that is both a loss and a metric (mse) is explained as both; write loss:mse or
    metric:mse to pick one.

    \b
    Examples:
      almanac explain gelu silu relu --out act.png
      almanac explain huber loss:mse mae
      almanac explain --families
    """
    from almanac import lab

    if families:
        if names:
            raise problem(ConfigError, "arguments", "no NAME with --families", ", ".join(names),
                          "run almanac explain --families alone")
        click.echo(lab.families(), nl=False)
        return
    if not names:
        raise problem(ConfigError, "NAME", "at least one activation, loss or metric name", "none",
                      "for example: almanac explain gelu silu, or almanac explain --families")
    path = Path(out) if out else Path("runs") / "explain" / (re.sub(r"[^\w.-]+", "_", "_".join(names)) + ".png")
    click.echo(lab.explain(names, out=path).text, nl=False)
