"""``almanac export``: a trained run as ONNX, TorchScript or a torch.export program, checked against predict."""

from __future__ import annotations

import click

from almanac.cli.train import flags


@click.command()
@click.argument("run_dir", metavar="RUN")
@click.option("--format", "fmt", type=click.Choice(["onnx", "torchscript", "pt2"]), default="onnx",
              show_default=True, help="ONNX (checked with onnxruntime), TorchScript or a torch.export program.")
@click.option("--out", default=None, metavar="FILE", help="Where to write (default: RUN/model.<ext>).")
def export(run_dir: str, fmt: str, out: str | None) -> None:
    """Export the best epoch of RUN with its preprocessing and its inference activation (softmax / sigmoid).

    The file is run after writing and must match `almanac predict` on the validation split within 1e-5. It takes
    the encoded raw columns (numbers, NaN where missing; text as category index, listed in FILE.json) or images.

    \b
    Examples:
      almanac export runs/NAME --format onnx
    """
    from almanac.train.export import export as run_export

    with flags({"run_dir": "RUN", "format": "--format", "out": "--out"}):
        path, difference = run_export(run_dir, fmt, out)
    click.echo(f"{fmt} model written to {path} (checked on the validation split: largest difference "
               f"{difference:.2g}); inputs and outputs described in {path}.json")
