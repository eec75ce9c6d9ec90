"""``almanac bench SUITE``: ratios of almanac against its peers, measured side by side."""

from __future__ import annotations

import importlib
import inspect
import json

import click
import torch
from rich.console import Console
from rich.table import Table

from almanac.bench import SUITES
from almanac.bench.harness import CLOCKS, Row, run


def _bytes(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def _table(suite: str, rows: list[Row], clock: str, device: str = "cpu") -> Table:
    timing = "CUDA-event" if device.startswith("cuda") else f"{clock}-clock"
    table = Table(title=f"almanac bench {suite} on {device}: median {timing} time per call, ratio = almanac / peer "
                        f"(torch threads: {torch.get_num_threads()})")
    for col in ("case", "shape", "peer", "almanac ms", "peer ms", "ratio", "target", "saved (almanac)",
                "saved (peer)"):
        table.add_column(col, justify="right" if "ms" in col or "saved" in col or col == "ratio" else "left")
    for r in rows:
        table.add_row(r.case, r.shape, r.peer, f"{r.ours_ms:.3f}", f"{r.peer_ms:.3f}", f"{r.ratio:.2f}×",
                      r.target, _bytes(r.ours_saved), _bytes(r.peer_saved))
    return table


@click.command()
@click.argument("suite", type=click.Choice(SUITES))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per row instead of a table.")
@click.option("--only", default=None, help="Comma-separated case names to run (default: all).")
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="Multiply the input sizes (use < 1 for a quick look).")
@click.option("--rounds", type=int, default=7, show_default=True, help="Interleaved rounds per case.")
@click.option("--clock", type=click.Choice(sorted(CLOCKS)), default="wall", show_default=True,
              help="wall: elapsed time; cpu: this process's CPU time, steadier on a shared machine "
                   "(use it with OMP_NUM_THREADS=1).")
@click.option("--device", default="cpu", show_default=True,
              help="cpu or cuda (cuda: timed with CUDA events).")
def bench(suite: str, as_json: bool, only: str | None, scale: float, rounds: int, clock: str, device: str) -> None:
    """Time almanac against its peers (PyTorch native, naive composites, torchmetrics, scikit-learn).

    Every case runs all its contenders interleaved in this one process and prints the ratio almanac / peer,
    and for autograd cases the bytes kept for the backward pass.

    Example: almanac bench activations --only gelu,swiglu
    """
    if device.split(":")[0] not in ("cpu", "cuda"):
        raise click.BadParameter(f"expected cpu or cuda, got {device!r}", param_hint="--device")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise click.BadParameter("CUDA is not available on this machine; pass --device cpu", param_hint="--device")
    make = importlib.import_module(f"almanac.bench.{suite}").cases
    if "device" in inspect.signature(make).parameters:
        cases = make(scale, device=device)
    elif device == "cpu":
        cases = make(scale)
    else:
        raise click.BadParameter(f"the {suite} suite runs on the CPU only", param_hint="--device")
    if only:
        wanted = {w.strip() for w in only.split(",")}
        cases = [c for c in cases if c.name in wanted]
        if not cases:
            raise click.BadParameter(f"no case named {sorted(wanted)} in suite {suite}", param_hint="--only")
    console = Console(stderr=True)
    with console.status("") as status:
        rows = run(cases, rounds=rounds, clock=clock, device=device,
                   progress=lambda name: status.update(f"timing {name}"))
    if as_json:
        for r in rows:
            click.echo(json.dumps(r.__dict__))
    else:
        out = Console()
        if not out.is_terminal:  # a pipe or a file: no terminal width to fit, so never wrap the cells
            out = Console(width=240)
        out.print(_table(suite, rows, clock, device))
        for case in cases:
            for note in case.notes:
                out.print(f"{case.name}: {note}")
