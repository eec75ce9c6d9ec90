"""``almanac compare``: train the same model under several activations or losses and report what changes."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.table import Table

from almanac.errors import ConfigError, problem


def _names(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@contextmanager
def _sigterm_exits() -> Iterator[None]:
    """SIGTERM ends the sweep like Ctrl-C: the exception unwinds through the runner, which ends its workers."""
    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command()
@click.argument("scenario", required=False)
@click.option("--seeds", type=int, default=None, help="Seeds per configuration (default: the scenario's own).")
@click.option("--base-seed", type=int, default=0, show_default=True,
              help="First seed: seeds are BASE..BASE+K-1 (another base repeats the experiment independently).")
@click.option("--jobs", type=int, default=min(os.cpu_count() or 1, 4), show_default="cores, at most 4",
              help="Configurations trained in parallel processes (one torch thread each).")
@click.option("--quick", is_flag=True, help="A smaller grid and fewer epochs: under a minute, for a first look.")
@click.option("--dataset", default=None, help="Custom sweep: the dataset (see almanac train --help for names).")
@click.option("--csv", "csv", default=None, help="Custom sweep on your data: a CSV file (as in almanac train).")
@click.option("--target", default=None, help="With --csv: the column(s) to predict (comma-separated for multilabel).")
@click.option("--activations", default="relu", show_default=True, help="Custom sweep: comma-separated activations.")
@click.option("--losses", default=None, help="Custom sweep: comma-separated losses (default: the task's usual one).")
@click.option("--metrics", default=None, help="Custom sweep: comma-separated metrics (default: the task's usual ones).")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: --jobs processes on this machine; ray: Ray tasks (pip install 'nn-almanac[ray]').")
@click.option("--address", default=None,
              help="With --executor ray: the Ray cluster's address (default: start a local Ray instance with --jobs "
                   "CPUs).")
@click.option("--store", default="runs/lab.sqlite", show_default=True, help="The SQLite run store.")
@click.option("--out", default=None, help="Report directory (default: runs/<scenario>/ beside the store).")
def compare(scenario: str | None, seeds: int | None, base_seed: int, jobs: int, quick: bool, dataset: str | None,
            csv: str | None, target: str | None, activations: str, losses: str | None, metrics: str | None,
            executor: str, address: str | None, store: str, out: str | None) -> None:
    """Train a scenario over seeds and write runs/<scenario>/report.html with curves, a ranked table and a finding.

    SCENARIO is one of: activations, imbalance, outliers, segmentation, multilabel, label_noise, calibration, gan.
    Finished runs are kept in the store, so the same command run again skips them (a stopped sweep resumes).
    Each measure is reported with its 95% t-interval across seeds; configurations are compared paired by seed.

    \b
    Examples:
      almanac compare imbalance --seeds 5 --jobs 2
      almanac compare outliers --executor ray --address ray://head:10001
      almanac compare outliers --quick
      almanac compare --dataset moons --activations relu,tanh --losses bce --metrics accuracy,f1
      almanac compare --csv my.csv --target label --activations relu,gelu --seeds 5
    """
    from almanac import lab

    sources = [given for given in (scenario, dataset, csv) if given is not None]
    if len(sources) != 1:
        raise problem(ConfigError, "arguments", "one of a SCENARIO, --dataset or --csv (custom sweeps)",
                      "several" if sources else "none", "run for example: almanac compare imbalance")
    if target is not None and csv is None:
        raise problem(ConfigError, "--target", "only with --csv", repr(target), "add --csv FILE")
    chosen = lab.scenario(scenario) if scenario else lab.custom(dataset, _names(activations), _names(losses),
                                                                  _names(metrics), csv=csv, target=target)
    if address is not None and executor != "ray":
        raise problem(ConfigError, "--address", "only with --executor ray", repr(address), "add --executor ray")
    console = Console(stderr=True)
    with _sigterm_exits(), console.status(f"{chosen.name}: starting") as status:
        def progress(done: int, total: int, label: str) -> None:
            status.update(f"{chosen.name}: {done}/{total} runs done" + (f" (last: {label})" if label else ""))

        def warn(line: str) -> None:
            console.print(f"warning: {line}", highlight=False, markup=False, soft_wrap=True)

        result = lab.compare(chosen, seeds=seeds, jobs=jobs, quick=quick, store=store, out_dir=out,
                             progress=progress, executor=executor, address=address, warn=warn,
                             base_seed=base_seed)
    from almanac.lab.report import ranked_rows

    columns, rows = ranked_rows(chosen, result.summary)
    table = Table(title=f"almanac compare {chosen.name}: {chosen.title}")
    for column in columns:
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for row in rows:
        table.add_row(*map(str, row))
    stdout = Console() if sys.stdout.isatty() else Console(width=120)  # pipes and files: no 80-column wrap
    stdout.print(table)
    stdout.print("[bold]Finding[/bold]")
    for line in result.finding:
        stdout.print(f"- {line}", highlight=False)
    stdout.print(f"report: {result.report}", highlight=False)
