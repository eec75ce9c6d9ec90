"""The lab: train the same model under several activations or losses, over several seeds, and show what changes.

``almanac compare SCENARIO`` is :func:`compare`; ``almanac explain NAME`` is :func:`explain`.
Every run is written to an SQLite store (``runs/lab.sqlite``) the moment it finishes, so a stopped sweep resumes.

>>> import almanac as am
>>> result = am.lab.compare("outliers", quick=True)  # doctest: +SKIP
>>> print("\\n".join(result.finding))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from almanac.lab.describe import Explanation, explain, families
from almanac.lab.report import write_report
from almanac.lab.runner import sweep
from almanac.lab.scenario import Curve, Measure, Scenario
from almanac.lab.scenarios import SCENARIOS, custom, scenario
from almanac.lab.store import DEFAULT_PATH, Run, RunStore
from almanac.lab.summary import Summary

__all__ = [
    "SCENARIOS",
    "Comparison",
    "Curve",
    "Explanation",
    "Measure",
    "Run",
    "RunStore",
    "Scenario",
    "Summary",
    "compare",
    "custom",
    "explain",
    "families",
    "scenario",
]


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` measured: the runs, their summary, the finding and the report's path."""

    scenario: Scenario
    runs: list[Run]
    summary: Summary
    finding: list[str]
    report: Path


def compare(
    what: str | Scenario,
    *,
    seeds: int | None = None,
    jobs: int = 1,
    quick: bool = False,
    store: str | Path = DEFAULT_PATH,
    out_dir: str | Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    executor: str = "local",
    address: str | None = None,
    warn: Callable[[str], None] | None = None,
    base_seed: int = 0,
) -> Comparison:
    """Run the scenario ``what`` (a name of :data:`SCENARIOS` or a :class:`Scenario`), skipping the runs the store
    already holds, and write its report to ``out_dir`` (default ``runs/<scenario>/``).

    ``seeds`` defaults to the scenario's own count (fewer with ``quick``); ``jobs`` runs configurations in that
    many processes; ``executor="ray"`` runs them as Ray tasks instead (``address`` of a cluster, or a local Ray
    instance). Corrupt rows of the store are reported to ``warn`` and trained again. ``base_seed`` shifts the seeds
    (``base_seed`` … ``base_seed + seeds − 1``), to repeat a whole experiment independently.
    """
    chosen = scenario(what) if isinstance(what, str) else what
    run_store = RunStore(store)
    runs = sweep(chosen, seeds=seeds, jobs=jobs, quick=quick, store=run_store, progress=progress,
                 executor=executor, address=address, warn=warn, base_seed=base_seed)
    out = Path(out_dir) if out_dir is not None else run_store.path.parent / chosen.name
    summary = Summary.from_runs(runs, order=chosen.configs(quick), bounds=chosen.bounds)
    finding = [line for line in chosen.finding(summary) if line]
    report = write_report(chosen, runs, summary, finding, out, quick=quick)
    return Comparison(chosen, runs, summary, finding, report)
