"""The run store: one SQLite file (``runs/lab.sqlite``) with one row per finished run.

A run is one configuration of one scenario trained with one seed. Its row is written the moment it finishes, so a
sweep that is stopped resumes where it stopped: :meth:`RunStore.done` tells the runner which keys to skip. The
database is in WAL mode with a busy timeout, so several processes (``--jobs``, or two ``almanac compare`` at once)
can write to it together; a run written twice keeps its first row (``INSERT OR IGNORE``). Every statement is
parameterised.

A row whose ``result`` is not a measured run (not JSON, no ``"final"`` numbers — e.g. ``{}`` left by a crash or a
hand edit) is *corrupt*: :meth:`RunStore.runs` and :meth:`RunStore.done` leave it out, :meth:`RunStore.corrupt`
lists it, so the runner reports it and runs it again. A file that is not a run store at all (not SQLite, truncated,
another schema, a directory) is one :class:`~almanac.errors.ConfigError` naming the file.

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

from almanac.errors import ConfigError, problem

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
_COLUMNS = {"key", "scenario", "config", "seed", "quick", "result", "seconds", "finished_at"}


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


def result_problem(result: Any) -> str | None:
    """Why ``result`` is not a measured run (None when it is one): it must be a mapping whose ``"final"`` maps at
    least one measure to a number.

    >>> result_problem({"final": {"r2": 0.9}}) is None, result_problem({})
    (True, 'result has no "final" measures')
    """
    if not isinstance(result, Mapping):
        return f"result is {type(result).__name__}, not an object"
    final = result.get("final")
    if not isinstance(final, Mapping) or not final:
        return 'result has no "final" measures'
    bad = [k for k, v in final.items() if isinstance(v, bool) or not isinstance(v, (int, float))]
    if bad:
        return f"result's final measures {', '.join(map(repr, bad[:3]))} are not numbers"
    return None


class RunStore:
    """The SQLite file that holds finished runs. Safe to use from several processes at once.

    Each method opens its own short connection, so a store object can be sent to worker processes.
    """

    def __init__(self, path: str | Path = DEFAULT_PATH, *, timeout: float = 60.0):
        self.path = Path(path)
        self.timeout = timeout
        if self.path.is_dir():
            raise self._unusable("a directory")
        if self.path.parent.exists() and not self.path.parent.is_dir():
            raise self._unusable(f"a path under {str(self.path.parent)!r}, which is a file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            (check,) = db.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise self._unusable(f"a damaged SQLite file ({check})")
            columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            if columns and _COLUMNS - columns:  # a `runs` table of something else
                raise self._unusable(f"a `runs` table without the columns {', '.join(sorted(_COLUMNS - columns))}")
            db.executescript(_SCHEMA)

    def _unusable(self, got: str) -> ConfigError:
        return problem(ConfigError, f"store {self.path}", "to be an almanac run store (an SQLite file with a `runs` "
                       "table)", got, "pass another --store path, or move this file away and run again")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout)
            try:
                db.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
                with db:  # commits on success, rolls back on error
                    yield db
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:  # not SQLite, truncated, another schema, unreadable, locked too long
            raise self._unusable(f"sqlite3 error: {exc}") from exc

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
        """Which of ``keys`` already have a sound (not corrupt) row."""
        return set(keys) & {run.key for run in self.runs(scenario)}

    def get(self, key: str) -> Run | None:
        """The run with ``key``, or None (also when its row is corrupt)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT key, scenario, config, seed, quick, result, seconds FROM runs WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None or isinstance(run := _to_run(row), str) else run

    def _rows(self, scenario: str) -> list[Run | tuple[str, str]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT key, scenario, config, seed, quick, result, seconds FROM runs WHERE scenario = ? "
                "ORDER BY finished_at, key",
                (scenario,),
            ).fetchall()
        parsed = [_to_run(row) for row in rows]
        return [(row[0], p) if isinstance(p, str) else p for row, p in zip(rows, parsed)]

    def runs(self, scenario: str) -> list[Run]:
        """Every sound stored run of ``scenario``, oldest first (corrupt rows left out: see :meth:`corrupt`)."""
        return [r for r in self._rows(scenario) if isinstance(r, Run)]

    def corrupt(self, scenario: str) -> dict[str, str]:
        """The corrupt rows of ``scenario``: key → what is wrong with it."""
        return dict(r for r in self._rows(scenario) if not isinstance(r, Run))

    def remove(self, keys: Iterable[str]) -> int:
        """Delete the rows with ``keys`` (corrupt rows, before their runs are trained again); returns how many."""
        keys = list(keys)
        with self._connect() as db:
            return db.executemany("DELETE FROM runs WHERE key = ?", [(k,) for k in keys]).rowcount


def _to_run(row: tuple[Any, ...]) -> Run | str:
    """The row as a :class:`Run`, or a sentence saying why it is corrupt."""
    key, scenario, config, seed, quick, result, seconds = row
    try:
        config, result = json.loads(config), json.loads(result)
        if not isinstance(config, dict):
            return "config is not an object"
        why = result_problem(result)
        return why if why is not None else Run(key, scenario, config, int(seed), bool(quick), result, float(seconds))
    except (TypeError, ValueError) as exc:
        return f"row does not parse ({exc})"
