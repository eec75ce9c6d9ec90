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
            RunStore(store.path).put(Run(key, "s", {"i": offset + i}, 0, False, {"final": {}}))

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
