"""Run a scenario's sweep: every configuration × seed that the store does not hold yet, in ``jobs`` processes.

Each run writes its own row to the store the moment it finishes (in the worker process), so stopping a sweep loses
at most the runs in flight, and re-running the same command skips what is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import torch

from almanac._checks import check_number
from almanac.lab.scenario import Scenario
from almanac.lab.store import Run, RunStore, run_key

__all__ = ["Task", "execute", "sweep", "tasks"]


@dataclass(frozen=True)
class Task:
    """One configuration of a scenario with one seed."""

    config: dict[str, Any]
    seed: int
    key: str


def tasks(scenario: Scenario, seeds: int, quick: bool) -> list[Task]:
    """Every (configuration, seed) of the sweep, seeds innermost."""
    return [Task(config, seed, run_key(scenario.name, config, seed=seed, quick=quick, version=scenario.version))
            for config in scenario.configs(quick) for seed in range(seeds)]


def execute(scenario: Scenario, task: Task, quick: bool, store_path: str) -> str:
    """Train one task and write its row. Runs in a worker process (or in this one when ``jobs == 1``).

    One torch thread per run: the lab's models are small, and on a busy machine several threads per process
    spin against each other (a 30× slowdown measured on 2 shared cores); parallelism comes from ``--jobs``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(task.seed)
    start = time.perf_counter()
    try:
        result = scenario.run(task.config, task.seed, quick)
    finally:
        torch.set_num_threads(threads)  # in-process runs leave the caller's setting as it was
    seconds = time.perf_counter() - start
    RunStore(store_path).put(Run(task.key, scenario.name, task.config, task.seed, quick, result, seconds))
    return task.key


def sweep(
    scenario: Scenario,
    *,
    seeds: int | None = None,
    jobs: int = 1,
    quick: bool = False,
    store: RunStore,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Run]:
    """Run what is missing of ``scenario`` and return every run of the sweep, in grid order.

    ``progress(done, total, label)`` is called before the sweep (``label`` empty) and after each run.
    """
    if seeds is None:
        seeds = scenario.quick_seeds if quick else scenario.seeds
    check_number(seeds, "seeds", low=1, integer=True)
    check_number(jobs, "jobs", low=1, integer=True)
    todo = tasks(scenario, seeds, quick)
    done = store.done(scenario.name, [t.key for t in todo])
    pending = [t for t in todo if t.key not in done]
    report = progress or (lambda *_: None)
    finished = len(todo) - len(pending)
    report(finished, len(todo), "")
    if jobs == 1 or len(pending) <= 1:
        for task in pending:
            execute(scenario, task, quick, str(store.path))
            finished += 1
            report(finished, len(todo), scenario.label(task.config))
    else:
        # spawn, not fork: forking a process whose torch thread pools are running can deadlock.
        with ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=get_context("spawn")) as pool:
            running: dict[Future[str], Task] = {
                pool.submit(execute, scenario, task, quick, str(store.path)): task for task in pending
            }
            try:
                while running:
                    finished_now, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished_now:
                        task = running.pop(future)
                        future.result()  # re-raise a worker's error here
                        finished += 1
                        report(finished, len(todo), scenario.label(task.config))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # the runs in flight still write their rows
                raise
    by_key = {run.key: run for run in store.runs(scenario.name)}
    return [by_key[t.key] for t in todo if t.key in by_key]
