"""--executor ray: the sweep's runs as Ray tasks on a local Ray instance, rows written by the driver, resumable."""

import pytest

ray = pytest.importorskip("ray")

import lab_fakes  # noqa: E402
from lab_fakes import FAKE  # noqa: E402

from almanac.lab.runner import sweep, tasks  # noqa: E402
from almanac.lab.store import RunStore  # noqa: E402

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
