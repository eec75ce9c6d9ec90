"""The run store: one SQLite file (``runs/lab.sqlite``) with one row per finished run.

A run is one configuration of one scenario trained with one seed. Its row is written the moment it finishes, so a
sweep that is stopped resumes where it stopped: :meth:`RunStore.done` tells the runner which keys to skip. The
database is in WAL mode with a busy timeout, so several processes (``--jobs``, or two ``almanac compare`` at once)
can write to it together; a run written twice keeps its first row (``INSERT OR IGNORE``). Every statement is
parameterised.

>>> import tempfile, pathlib
>>> store = RunStore(pathlib.Path(tempfile.mkdtemp()) / "lab.sqlite")
>>> key = run_key("demo", {"loss": "mse"}, seed=0, quick=True, version=1)
>>> store.put(Run(key, "demo", {"loss": "mse"}, 0, True, {"final": {"r2": 0.9}}, seconds=1.5))
True
>>> store.done("demo", [key]) == {key}
True
>>> store.get(key).result["final"]["r2"]
0.9
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_PATH", "Run", "RunStore", "run_key"]

DEFAULT_PATH = Path("runs") / "lab.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    scenario TEXT NOT NULL,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    quick INTEGER NOT NULL,
    result TEXT NOT NULL,
    seconds REAL NOT NULL,
    finished_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_scenario ON runs (scenario);
"""


def run_key(scenario: str, config: Mapping[str, Any], *, seed: int, quick: bool, version: int) -> str:
    """The identity of a run: a hash of everything that decides its result.

    ``version`` is the scenario's version: bumping it when a scenario changes makes its old rows stale.

    >>> run_key("outliers", {"loss": "mae"}, seed=0, quick=False, version=1) == run_key(
    ...     "outliers", {"loss": "mae"}, seed=0, quick=False, version=1)
    True
    """
    blob = json.dumps({"scenario": scenario, "config": dict(config), "seed": seed, "quick": bool(quick),
                       "version": version}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Run:
    """One finished run: its key, scenario, configuration, seed and the measured ``result``.

    ``result`` holds ``"final"`` (measure name → number), ``"curves"`` (name → list of numbers, one per epoch or
    checkpoint) and optionally ``"info"`` (anything JSON can hold).
    """

    key: str
    scenario: str
    config: Mapping[str, Any]
    seed: int
    quick: bool
    result: Mapping[str, Any] = field(hash=False)
    seconds: float = 0.0


class RunStore:
    """The SQLite file that holds finished runs. Safe to use from several processes at once.

    Each method opens its own short connection, so a store object can be sent to worker processes.
    """

    def __init__(self, path: str | Path = DEFAULT_PATH, *, timeout: float = 60.0):
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=self.timeout)
        try:
            db.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            with db:  # commits on success, rolls back on error
                yield db
        finally:
            db.close()

    def put(self, run: Run) -> bool:
        """Write ``run``; returns False when a row with its key was already there (the first one is kept)."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO runs (key, scenario, config, seed, quick, result, seconds, finished_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run.key, run.scenario, json.dumps(dict(run.config), sort_keys=True), run.seed, int(run.quick),
                 json.dumps(run.result), float(run.seconds), time.time()),
            )
            return cursor.rowcount == 1

    def done(self, scenario: str, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` already have a row."""
        wanted = set(keys)
        with self._connect() as db:
            rows = db.execute("SELECT key FROM runs WHERE scenario = ?", (scenario,)).fetchall()
        return wanted & {key for (key,) in rows}

    def get(self, key: str) -> Run | None:
        """The run with ``key``, or None."""
        with self._connect() as db:
            row = db.execute(
                "SELECT key, scenario, config, seed, quick, result, seconds FROM runs WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else _to_run(row)

    def runs(self, scenario: str) -> list[Run]:
        """Every stored run of ``scenario``, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT key, scenario, config, seed, quick, result, seconds FROM runs WHERE scenario = ? "
                "ORDER BY finished_at, key",
                (scenario,),
            ).fetchall()
        return [_to_run(row) for row in rows]


def _to_run(row: tuple[Any, ...]) -> Run:
    key, scenario, config, seed, quick, result, seconds = row
    return Run(key, scenario, json.loads(config), int(seed), bool(quick), json.loads(result), float(seconds))
