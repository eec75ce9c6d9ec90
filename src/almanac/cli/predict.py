"""``almanac predict``: a trained run's predictions for new rows or images, in the target's own terms."""

from __future__ import annotations

from pathlib import Path

import click

from almanac.cli.train import flags


@click.command()
@click.argument("run_dir", metavar="RUN")
@click.option("--csv", "csv_path", default=None, metavar="FILE", help="A CSV (or Parquet) file with the training "
              "columns (the target column may be absent).")
@click.option("--images", default=None, metavar="DIR", help="A folder of images (sub-folders are searched).")
@click.option("--out", default=None, metavar="FILE|DIR", help="Where to write: a CSV file (default: standard "
              "output); for segmentation a folder that receives one PNG mask per image.")
@click.option("--checkpoint", type=click.Choice(["best", "last"]), default="best", show_default=True,
              help="The weights of the best epoch (best.pt) or of the last one (checkpoint.pt).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="CPU threads: one is fastest on a busy machine; raise it for large inputs on an idle one.")
def predict(run_dir: str, csv_path: str | None, images: str | None, out: str | None, checkpoint: str,
            threads: int) -> None:
    """Predict with the run in RUN: class names and probabilities, values in the target's units, or masks.

    \b
    Examples:
      almanac predict runs/NAME --csv new.csv --out predictions.csv
      almanac predict runs/NAME --images photos/ --out predictions.csv
    """
    import torch

    from almanac.errors import ConfigError, problem
    from almanac.train.files import atomic_write_text, check_directory
    from almanac.train.inference import load_run

    with flags({"run_dir": "RUN", "csv": "--csv", "images": "--images", "out": "--out", "columns": "--csv",
                "features": "--csv"}):
        if (csv_path is None) == (images is None):
            raise problem(ConfigError, "--csv", "or --images (one of them)", "both" if csv_path else "neither",
                          "pass --csv FILE or --images DIR")
        torch.set_num_threads(threads)
        model = load_run(run_dir, checkpoint=checkpoint)
        if csv_path is not None:
            if model.preprocessing.kind != "table":
                raise problem(ConfigError, "--csv", "with a run trained on a table", "a run trained on images",
                              "pass --images DIR")
            from almanac.train.data import read_table

            result = model.predict(read_table(csv_path))
            names = None
        else:
            if model.preprocessing.kind != "image":
                raise problem(ConfigError, "--images", "with a run trained on images", "a run trained on a table",
                              "pass --csv FILE")
            from almanac.train.images import read_folder

            shape = model.preprocessing.image["shape"]
            pixels, names = read_folder(images, size=shape[-1], channels=shape[0])
            result = model.predict(pixels)
        if model.task == "segmentation":
            if out is None:
                raise problem(ConfigError, "--out", "a folder for the masks of a segmentation run", "none",
                              "pass --out DIR")
            from almanac.train.images import write_masks

            written = write_masks(Path(out), names or [f"{i}.png" for i in range(len(result))], result)
            click.echo(f"{len(written)} masks written to {out}/", err=True)
            return
        if names is not None:
            result.insert(0, "file", names)
        text = result.to_csv(index=False, float_format="%.6g")
        if out is None:
            click.echo(text, nl=False)
        else:
            check_directory(Path(out).parent, "out")
            if Path(out).is_dir():
                raise problem(ConfigError, "--out", "a file path", f"{out} is a directory", "pass a file name")
            atomic_write_text(out, text)
            click.echo(f"{len(result)} predictions written to {out}", err=True)
