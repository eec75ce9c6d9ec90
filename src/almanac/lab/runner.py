"""Run a scenario's sweep: every configuration × seed that the store does not hold yet, on an executor.

Executors: ``"local"`` (``jobs`` spawned processes on this machine, the default) and ``"ray"`` (Ray tasks on a local
Ray instance, or on the cluster at ``address``). Either way the workers only train and return their measurements;
the driver — this process — writes each run's row the moment its result arrives. So stopping a sweep (Ctrl-C,
SIGTERM, SIGKILL) loses at most the runs in flight, no row is ever written after the driver is gone, and
re-running the same command trains exactly what is missing. Local workers die with the driver: on Linux the kernel
kills them when it exits (``PR_SET_PDEATHSIG``), elsewhere a watchdog thread does within a second.

A corrupt row of the sweep (see :func:`~almanac.lab.store.result_problem`) is reported through ``warn``, deleted and
trained again.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import torch

from almanac._checks import check_number
from almanac.errors import ConfigError, problem
from almanac.lab.scenario import Scenario
from almanac.lab.store import Run, RunStore, result_problem, run_key

__all__ = ["EXECUTORS", "Task", "execute", "sweep", "tasks"]

EXECUTORS = ("local", "ray")

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class Task:
    """One configuration of a scenario with one seed."""

    config: dict[str, Any]
    seed: int
    key: str


def tasks(scenario: Scenario, seeds: int, quick: bool, base_seed: int = 0) -> list[Task]:
    """Every (configuration, seed) of the sweep, seeds ``base_seed, base_seed + 1, ...`` innermost."""
    return [Task(config, seed, run_key(scenario.name, config, seed=seed, quick=quick, version=scenario.version))
            for config in scenario.configs(quick) for seed in range(base_seed, base_seed + seeds)]


def execute(scenario: Scenario, task: Task, quick: bool) -> tuple[dict[str, Any], float]:
    """Train one task; returns ``(result, seconds)``. Runs in a worker (or in this process when ``jobs == 1``).

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
    why = result_problem(result)
    if why is not None:
        raise RuntimeError(f"{scenario.name} run {scenario.label(task.config)} seed {task.seed}: {why}")
    return result, time.perf_counter() - start


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end this process when ``parent`` (the driver) is gone, however it ended."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def watch() -> None:  # the portable fallback; on Linux it also covers a parent that died before prctl
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="almanac-parent-watch", daemon=True).start()


def _in_process(scenario: Scenario, pending: list[Task], quick: bool) -> Generator[tuple[Task, Any], None, None]:
    for task in pending:
        yield task, execute(scenario, task, quick)


def _local(scenario: Scenario, pending: list[Task], quick: bool, jobs: int) -> Generator[tuple[Task, Any], None, None]:
    """``(task, (result, seconds))`` as the ``jobs`` worker processes finish them."""
    # spawn, not fork: forking a process whose torch thread pools are running can deadlock.
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=get_context("spawn"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))
    running: dict[Future[Any], Task] = {pool.submit(execute, scenario, task, quick): task for task in pending}
    try:
        while running:
            finished_now, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished_now:
                yield running.pop(future), future.result()  # a worker's error is raised here
    finally:
        if running:  # stopped early (an error, Ctrl-C, SIGTERM): drop the queue and end the runs in flight
            for future in running:
                future.cancel()
            for process in list(getattr(pool, "_processes", {}).values()):  # no public terminate before 3.14
                with contextlib.suppress(Exception):
                    process.kill()
        pool.shutdown(wait=True, cancel_futures=True)


def _ray_execute(scenario: Scenario, task: Task, quick: bool) -> tuple[dict[str, Any], float]:
    return execute(scenario, task, quick)


def _ray(scenario: Scenario, pending: list[Task], quick: bool, jobs: int,
         address: str | None) -> Generator[tuple[Task, Any], None, None]:
    """``(task, (result, seconds))`` as Ray tasks finish them: on the cluster at ``address``, or on a local Ray
    instance with ``jobs`` CPUs started for this sweep (an instance this process already joined is used as is)."""
    try:
        import ray
    except ImportError as exc:
        raise problem(ConfigError, "executor", "'ray' to find the ray package", "no module named ray",
                      "pip install 'nn-almanac[ray]', or use --executor local") from exc
    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"address": address} if address else {"num_cpus": jobs}
        ray.init(**options, include_dashboard=False, log_to_driver=False, configure_logging=False)
    remote = ray.remote(num_cpus=1, max_retries=0)(_ray_execute)
    running = {remote.remote(scenario, task, quick): task for task in pending}
    try:
        while running:
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                task = running.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the run's own error, as the local executor raises it
                    raise exc.as_instanceof_cause() from None
                yield task, outcome
    finally:
        for ref in running:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def sweep(
    scenario: Scenario,
    *,
    seeds: int | None = None,
    jobs: int = 1,
    quick: bool = False,
    store: RunStore,
    progress: Callable[[int, int, str], None] | None = None,
    executor: str = "local",
    address: str | None = None,
    warn: Callable[[str], None] | None = None,
    base_seed: int = 0,
) -> list[Run]:
    """Run what is missing of ``scenario`` and return every run of the sweep, in grid order.

    ``progress(done, total, label)`` is called before the sweep (``label`` empty) and after each run; ``warn`` gets
    one sentence per corrupt row found (they are trained again). ``executor`` is ``"local"`` (``jobs`` processes)
    or ``"ray"`` (Ray tasks; ``address`` of a cluster, or a local instance with ``jobs`` CPUs). The seeds are
    ``base_seed`` to ``base_seed + seeds - 1`` (another base seed repeats the whole experiment independently).
    """
    if seeds is None:
        seeds = scenario.quick_seeds if quick else scenario.seeds
    check_number(seeds, "seeds", low=1, integer=True)
    check_number(jobs, "jobs", low=1, integer=True)
    check_number(base_seed, "base_seed", low=0, integer=True)
    if executor not in EXECUTORS:
        raise problem(ConfigError, "executor", f"to be one of {', '.join(EXECUTORS)}", repr(executor),
                      "pass executor='local' or 'ray'")
    if address is not None and executor != "ray":
        raise problem(ConfigError, "address", "only with executor 'ray'", repr(address), "pass executor='ray'")
    todo = tasks(scenario, seeds, quick, base_seed)
    wanted = {t.key: t for t in todo}
    corrupt = {key: why for key, why in store.corrupt(scenario.name).items() if key in wanted}
    for key, why in corrupt.items():
        task = wanted[key]
        (warn or (lambda _: None))(f"{store.path}: the row of {scenario.label(task.config)} seed {task.seed} is "
                                   f"corrupt ({why}); it is trained again")
    store.remove(corrupt)
    done = store.done(scenario.name, wanted)
    pending = [t for t in todo if t.key not in done]
    report = progress or (lambda *_: None)
    finished = len(todo) - len(pending)
    report(finished, len(todo), "")
    if executor == "ray" and pending:
        outcomes = _ray(scenario, pending, quick, jobs, address)
    elif jobs == 1 or len(pending) <= 1:
        outcomes = _in_process(scenario, pending, quick)
    else:
        outcomes = _local(scenario, pending, quick, jobs)
    with contextlib.closing(outcomes):  # stopping early ends the workers (the generators' finally)
        for task, (result, seconds) in outcomes:
            store.put(Run(task.key, scenario.name, task.config, task.seed, quick, result, seconds))
            finished += 1
            report(finished, len(todo), scenario.label(task.config))
    by_key = {run.key: run for run in store.runs(scenario.name)}
    return [by_key[t.key] for t in todo if t.key in by_key]
