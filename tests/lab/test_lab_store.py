"""The run store and the sweep runner: one row per finished run, resume, parallel processes."""

import sqlite3
import threading

import pytest
from lab_fakes import FAKE

from almanac.errors import ConfigError
from almanac.lab.runner import sweep, tasks
from almanac.lab.store import Run, RunStore, run_key


def test_store_is_wal_and_keeps_the_first_row(tmp_path):
    store = RunStore(tmp_path / "lab.sqlite")
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    key = run_key("s", {"loss": "x'); DROP TABLE runs; --"}, seed=0, quick=False, version=1)
    run = Run(key, "s", {"loss": "x'); DROP TABLE runs; --"}, 0, False, {"final": {"m": 1.0}}, 2.0)
    assert store.put(run) is True
    assert store.put(Run(key, "s", run.config, 0, False, {"final": {"m": 2.0}})) is False
    assert store.get(key).result == {"final": {"m": 1.0}}
    assert store.get(key).config == run.config  # parameterised SQL: the quote is data, not code
    assert store.done("s", [key, "other"]) == {key}
    assert [r.key for r in store.runs("s")] == [key]


def test_run_key_depends_on_everything_that_decides_the_result():
    base = run_key("s", {"a": 1}, seed=0, quick=False, version=1)
    assert base == run_key("s", {"a": 1}, seed=0, quick=False, version=1)
    others = [run_key("s", {"a": 2}, seed=0, quick=False, version=1), run_key("s", {"a": 1}, seed=1, quick=False,
              version=1), run_key("s", {"a": 1}, seed=0, quick=True, version=1),
              run_key("s", {"a": 1}, seed=0, quick=False, version=2), run_key("t", {"a": 1}, seed=0, quick=False,
                                                                               version=1)]
    assert base not in others and len(set(others)) == len(others)


def test_concurrent_writers_lose_nothing(tmp_path):
    store = RunStore(tmp_path / "lab.sqlite")

    def write(offset):
        for i in range(25):
            key = f"k{offset + i}"
            RunStore(store.path).put(Run(key, "s", {"i": offset + i}, 0, False, {"final": {"m": 1.0}}))

    threads = [threading.Thread(target=write, args=(100 * t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.runs("s")) == 100


def _calls(log):
    return log.read_text().splitlines() if log.exists() else []


def test_sweep_writes_each_run_and_resume_skips_what_is_done(tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("LAB_FAKE_LOG", str(log))
    store = RunStore(tmp_path / "lab.sqlite")
    monkeypatch.setenv("LAB_FAKE_FAIL", "bad")
    with pytest.raises(RuntimeError, match="on purpose"):
        sweep(FAKE, store=store)
    # the good configuration's two seeds finished before the failure and are stored
    assert sorted(r.config["loss"] for r in store.runs("fake")) == ["good", "good"]
    monkeypatch.delenv("LAB_FAKE_FAIL")
    log.unlink()
    seen = []
    runs = sweep(FAKE, store=store, progress=lambda done, total, label: seen.append((done, total)))
    assert [c.split()[:2] for c in _calls(log)] == [["bad", "0"], ["bad", "1"]]  # only what was missing
    assert seen[0] == (2, 4) and seen[-1] == (4, 4)
    assert [(r.config["loss"], r.seed) for r in runs] == [("good", 0), ("good", 1), ("bad", 0), ("bad", 1)]
    log.unlink()
    assert len(sweep(FAKE, store=store)) == 4 and not _calls(log)  # a third run trains nothing


def test_quick_and_seeds_are_separate_runs(tmp_path):
    store = RunStore(tmp_path / "lab.sqlite")
    assert len(sweep(FAKE, store=store, quick=True)) == 2  # quick_seeds=1
    assert len(sweep(FAKE, store=store, seeds=3)) == 6
    assert len(store.runs("fake")) == 8
    with pytest.raises(ConfigError):
        sweep(FAKE, store=store, seeds=0)


@pytest.mark.slow
def test_jobs_run_in_parallel_processes(tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("LAB_FAKE_LOG", str(log))
    monkeypatch.setenv("LAB_FAKE_SLEEP", "0.5")  # long enough that both workers get a run
    store = RunStore(tmp_path / "lab.sqlite")
    runs = sweep(FAKE, store=store, seeds=3, jobs=2)
    assert len(runs) == 6 and len(store.runs("fake")) == 6
    assert len({line.split()[2] for line in _calls(log)}) >= 2  # more than one worker process trained
    assert {t.key for t in tasks(FAKE, 3, False)} == {r.key for r in runs}


def test_in_process_runs_restore_the_thread_count(tmp_path):
    import torch

    before = torch.get_num_threads()
    sweep(FAKE, store=RunStore(tmp_path / "lab.sqlite"), quick=True)
    assert torch.get_num_threads() == before


def _set_result(store, key, text):
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET result = ? WHERE key = ?", (text, key))


@pytest.mark.parametrize("bad", ["{}", "not json", '{"final": {"score": "high"}}', "[]"])
def test_a_corrupt_row_is_reported_and_trained_again_not_counted(tmp_path, monkeypatch, bad):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("LAB_FAKE_LOG", str(log))
    store = RunStore(tmp_path / "lab.sqlite")
    sweep(FAKE, store=store)
    victim = tasks(FAKE, 2, False)[1]  # good, seed 1
    _set_result(store, victim.key, bad)
    assert store.get(victim.key) is None and victim.key not in store.done("fake", [victim.key])
    assert len(store.runs("fake")) == 3 and list(store.corrupt("fake")) == [victim.key]
    log.unlink()
    warnings = []
    runs = sweep(FAKE, store=store, warn=warnings.append)
    assert len(warnings) == 1 and "good seed 1 is corrupt" in warnings[0] and str(store.path) in warnings[0]
    assert _calls(log) == [f"good 1 {_calls(log)[0].split()[2]}"]  # only the corrupt run was trained again
    assert len(runs) == 4 and store.get(victim.key).result["final"]["score"] == pytest.approx(0.91)
    assert not store.corrupt("fake")


def _garbage(path):
    path.write_bytes(b"this is not an sqlite file at all" * 50)


def _truncated(path):
    store = RunStore(path)
    for i in range(300):
        store.put(Run(f"k{i}", "s", {"i": i}, 0, False, {"final": {"m": float(i)}, "curves": {"m": [0.0] * 50}}))
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.write_bytes(data[: len(data) // 2])


def _wrong_schema(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT)")


@pytest.mark.parametrize("make, got", [(_garbage, "sqlite3 error: file is not a database"),
                                       (_truncated, "malformed"),
                                       (_wrong_schema, "without the columns"),
                                       (lambda p: p.mkdir(), "a directory")])
def test_an_unusable_store_is_one_error_naming_the_file(tmp_path, make, got):
    path = tmp_path / "lab.sqlite"
    make(path)
    with pytest.raises(ConfigError, match="almanac run store") as error:
        RunStore(path)
    assert str(path) in str(error.value) and got in str(error.value)


_SWEEPER = """
import sys
sys.path.insert(0, {tests!r})
from lab_fakes import FAKE
from almanac.lab.runner import sweep
from almanac.lab.store import RunStore
sweep(FAKE, store=RunStore({store!r}), seeds=6)
"""


@pytest.mark.slow
def test_two_sweeps_on_one_store_never_corrupt_it(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    store = tmp_path / "lab.sqlite"
    script = _SWEEPER.format(tests=str(Path(__file__).parent), store=str(store))
    env = {**os.environ, "LAB_FAKE_SLEEP": "0.05"}
    sweepers = [subprocess.Popen([sys.executable, "-c", script], env=env) for _ in range(2)]
    assert [p.wait(timeout=120) for p in sweepers] == [0, 0]
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM runs").fetchone() == (12, 12)
    assert not RunStore(store).corrupt("fake") and len(RunStore(store).runs("fake")) == 12


def test_base_seed_repeats_the_experiment_on_other_seeds(tmp_path):
    store = RunStore(tmp_path / "lab.sqlite")
    first = sweep(FAKE, store=store, seeds=2)
    again = sweep(FAKE, store=store, seeds=2, base_seed=5)
    assert [r.seed for r in again] == [5, 6, 5, 6] and not {r.key for r in first} & {r.key for r in again}
    assert len(store.runs("fake")) == 8
    with pytest.raises(ConfigError):
        sweep(FAKE, store=store, base_seed=-1)
