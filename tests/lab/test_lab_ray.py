"""--executor ray: the sweep's runs as Ray tasks on a local Ray instance, rows written by the driver, resumable."""

import sys

import pytest

ray = pytest.importorskip("ray")

import lab_fakes  # noqa: E402
from lab_fakes import FAKE  # noqa: E402

from almanac.lab.runner import sweep, tasks  # noqa: E402
from almanac.lab.store import RunStore  # noqa: E402
from processes import alive, descendants  # noqa: E402

# the Ray workers do not have tests/lab on their path: ship the fake scenario's module by value
ray.cloudpickle.register_pickle_by_value(lab_fakes)


def _calls(log):
    return [tuple(line.split()[:2]) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.slow
def test_ray_sweep_stops_on_a_failure_and_resumes_exactly(tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("LAB_FAKE_LOG", str(log))
    monkeypatch.setenv("LAB_FAKE_FAIL", "bad")
    store = RunStore(tmp_path / "lab.sqlite")
    with pytest.raises(RuntimeError, match="on purpose"):
        sweep(FAKE, store=store, seeds=2, jobs=2, executor="ray")
    assert not ray.is_initialized()  # the local instance it started is shut down
    kept = {(r.config["loss"], r.seed) for r in store.runs("fake")}
    assert all(loss == "good" for loss, _ in kept)
    monkeypatch.delenv("LAB_FAKE_FAIL")
    log.unlink(missing_ok=True)
    runs = sweep(FAKE, store=store, seeds=2, jobs=2, executor="ray")
    every = {("good", 0), ("good", 1), ("bad", 0), ("bad", 1)}
    assert sorted(_calls(log)) == sorted((loss, str(seed)) for loss, seed in every - kept)  # only what was missing
    assert [r.key for r in runs] == [t.key for t in tasks(FAKE, 2, False)]
    assert [r.result["final"]["score"] for r in runs] == pytest.approx([0.9, 0.91, 0.6, 0.61])
    assert len(store.runs("fake")) == 4 and not store.corrupt("fake")


_DRIVER = """
import sys
sys.path.insert(0, {tests!r})
import ray
import lab_fakes
ray.cloudpickle.register_pickle_by_value(lab_fakes)
from almanac.lab import scenarios
scenarios.SCENARIOS["fake"] = lab_fakes.FAKE
from almanac.cli import main
main(["compare", "fake", "--executor", "ray", "--jobs", "2", "--seeds", "20", "--store", {store!r}])
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the Ray processes")
def test_a_killed_ray_sweep_resumes_without_losing_or_repeating_a_run(tmp_path, monkeypatch):
    """SIGKILL the driver of a Ray sweep mid-way: its local Ray instance goes with it (nothing trains or writes
    afterwards), and running it again trains exactly the missing runs: each (configuration, seed) once."""
    import os
    import signal
    import subprocess
    import time
    from pathlib import Path

    store, log = tmp_path / "lab.sqlite", tmp_path / "calls.log"
    script = _DRIVER.format(tests=str(Path(__file__).parent), store=str(store))
    driver = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "LAB_FAKE_LOG": str(log), "LAB_FAKE_SLEEP": "0.3"})
    deadline = time.monotonic() + 120

    def rows():
        return {(r.config["loss"], r.seed) for r in RunStore(store).runs("fake")} if store.exists() else set()

    while len(rows()) < 6 and time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.2)
    assert driver.poll() is None, "the sweep ended before it could be killed"
    ray_processes = descendants(driver.pid)
    assert len(ray_processes) >= 3  # at least the GCS, the raylet and a worker
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
    # the GCS, raylet and workers die with the driver at once; Ray's dashboard and runtime-env agents notice the
    # raylet is gone and exit by themselves, after trying to report it to the dead GCS (seconds to a minute)
    deadline = time.monotonic() + 120
    while any(alive(p) for p in ray_processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in ray_processes if alive(p)], "processes of the killed sweep's Ray instance survived"
    kept, calls = rows(), log.read_text()
    time.sleep(1.5)  # nothing goes on training or writing once the driver is gone
    assert rows() == kept and log.read_text() == calls
    assert 6 <= len(kept) < 40
    assert not RunStore(store).corrupt("fake")

    log.unlink()
    monkeypatch.setenv("LAB_FAKE_LOG", str(log))
    runs = sweep(FAKE, store=RunStore(store), seeds=20, jobs=2, executor="ray")
    every = {(loss, seed) for loss in ("good", "bad") for seed in range(20)}
    assert sorted(_calls(log)) == sorted((loss, str(seed)) for loss, seed in every - kept)  # only what was missing
    assert [r.key for r in runs] == [t.key for t in tasks(FAKE, 20, False)]
    assert len(RunStore(store).runs("fake")) == 40 and rows() == every  # each (config, seed) exactly once
