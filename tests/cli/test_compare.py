"""almanac compare: a quick scenario end to end, resume from the store, a custom sweep, usage errors."""

import sqlite3
import sys

import pytest

from almanac.cli import main
from processes import alive, descendants


def _run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def _rows(store):
    with sqlite3.connect(store) as db:
        return db.execute("SELECT key, finished_at FROM runs ORDER BY key").fetchall()


@pytest.mark.slow
def test_quick_scenario_writes_runs_and_report_then_resumes(tmp_path, capsys):
    store = tmp_path / "runs" / "lab.sqlite"
    args = ("compare", "outliers", "--quick", "--seeds", "1", "--jobs", "1", "--store", str(store))
    code, out, _ = _run(capsys, *args)
    assert code == 0 and "Finding" in out and "clean-test MAE" in out
    report = tmp_path / "runs" / "outliers" / "report.html"
    assert report.exists() and (tmp_path / "runs" / "outliers" / "curves_mae.png").exists()
    rows = _rows(store)
    assert len(rows) == 4  # mse, mae, huber, log_cosh × 1 seed
    code, out_again, _ = _run(capsys, *args)
    assert code == 0 and _rows(store) == rows  # nothing trained again
    assert out_again.split("report:")[0] == out.split("report:")[0]  # same numbers, from the store


@pytest.mark.slow
def test_custom_sweep(tmp_path, capsys):
    code, out, _ = _run(capsys, "compare", "--dataset", "iris", "--activations", "relu,tanh", "--losses", "ce",
                        "--metrics", "accuracy,f1", "--seeds", "1", "--quick", "--jobs", "1",
                        "--store", str(tmp_path / "lab.sqlite"))
    assert code == 0 and "relu · cross_entropy" in out and "tanh · cross_entropy" in out
    assert (tmp_path / "custom_iris" / "report.html").exists()


@pytest.mark.parametrize("args", [
    ("compare",),
    ("compare", "imbalance", "--dataset", "iris"),
    ("compare", "nosuch"),
    ("compare", "--dataset", "iris", "--losses", "nosuchloss", "--metrics", "accuracy"),
    ("compare", "--dataset", "nosuchdata"),
    ("compare", "--dataset", "iris", "--losses", "mse", "--metrics", "accuracy", "--quick", "--seeds", "1",
     "--jobs", "1"),
    ("compare", "imbalance", "--seeds", "0"),
])
def test_bad_usage_exits_2(tmp_path, capsys, args):
    code, _, err = _run(capsys, *args, "--store", str(tmp_path / "lab.sqlite"))
    assert code == 2 and err.startswith("error:")


_DRIVER = """
import sys
sys.path.insert(0, {tests!r})
from lab_fakes import FAKE
from almanac.lab import scenarios
scenarios.SCENARIOS["fake"] = FAKE
from almanac.cli import main
main(["compare", "fake", "--jobs", "2", "--seeds", "30", "--store", {store!r}])
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the worker processes")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_workers_and_resource_tracker_die_with_the_parent(tmp_path, how):
    import os
    import signal
    import subprocess
    import time
    from pathlib import Path

    store, log = tmp_path / "lab.sqlite", tmp_path / "calls.log"
    script = _DRIVER.format(tests=str(Path(__file__).parents[1] / "lab"), store=str(store))
    parent = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL,
                              env={**os.environ, "LAB_FAKE_LOG": str(log), "LAB_FAKE_SLEEP": "0.4"})
    deadline = time.monotonic() + 90
    while len(log.read_text().splitlines() if log.exists() else []) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    children = descendants(parent.pid)
    assert len(children) >= 3  # two workers and the resource tracker
    parent.send_signal(getattr(signal, how))
    parent.wait(timeout=30)
    deadline = time.monotonic() + 15
    while any(alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [c for c in children if alive(c)]
    rows, calls = _rows(store), log.read_text()
    time.sleep(1.5)  # nothing goes on training or writing once they are gone
    assert _rows(store) == rows and log.read_text() == calls and len(rows) < 60


@pytest.mark.parametrize("make", [lambda p: p.mkdir(), lambda p: p.write_bytes(b"\x00garbage" * 100),
                                  lambda p: sqlite3.connect(p).execute("CREATE TABLE runs (x)").connection.close()])
def test_an_unusable_store_exits_2_naming_the_file(tmp_path, capsys, make):
    store = tmp_path / "lab.sqlite"
    make(store)
    code, out, err = _run(capsys, "compare", "outliers", "--quick", "--store", str(store))
    assert code == 2 and err.startswith("error:") and str(store) in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and not out


def test_address_needs_the_ray_executor(tmp_path, capsys):
    code, _, err = _run(capsys, "compare", "outliers", "--address", "ray://x:1", "--store", str(tmp_path / "s"))
    assert code == 2 and "--executor ray" in err


def _csv(path, rows=240):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    path.write_text("a,b,c,label\n" + "".join(f"{p:.4f},{q:.4f},{r:.4f},{t}\n" for (p, q, r), t in zip(x, y)))
    return path


@pytest.mark.slow
def test_custom_sweep_on_a_csv_file(tmp_path, capsys):
    data = _csv(tmp_path / "mydata.csv")
    args = ("compare", "--csv", str(data), "--target", "label", "--activations", "relu,tanh", "--seeds", "2",
            "--quick", "--jobs", "1", "--store", str(tmp_path / "lab.sqlite"))
    code, out, _ = _run(capsys, *args)
    assert code == 0 and "relu / binary_cross_entropy" in out and "tanh / binary_cross_entropy" in out
    assert "95% Student t-intervals" in out and (tmp_path / "custom_mydata" / "report.html").exists()
    rows = _rows(tmp_path / "lab.sqlite")
    assert len(rows) == 4
    data.write_text(data.read_text() + "0.1,0.2,0.3,1\n")  # the file changed: its runs are new ones
    code, _, _ = _run(capsys, *args)
    assert code == 0 and len(_rows(tmp_path / "lab.sqlite")) == 8


@pytest.mark.parametrize("args", [
    ("--target", "label", "--dataset", "iris"),
    ("--csv", "{csv}"),
    ("--csv", "{dir}/nosuch.csv", "--target", "label"),
    ("--csv", "{csv}", "--target", "nosuchcolumn"),
    ("imbalance", "--csv", "{csv}", "--target", "label"),
])
def test_bad_csv_usage_exits_2(tmp_path, capsys, args):
    csv = _csv(tmp_path / "d.csv")
    args = [a.format(csv=csv, dir=tmp_path) for a in args]
    code, _, err = _run(capsys, "compare", *args, "--store", str(tmp_path / "lab.sqlite"))
    assert code == 2 and err.startswith("error:")


def test_a_corrupt_row_is_reported_on_stderr_and_trained_again(tmp_path, capsys):
    store = tmp_path / "lab.sqlite"
    args = ("compare", "--dataset", "iris", "--losses", "ce", "--metrics", "accuracy", "--seeds", "1", "--quick",
            "--jobs", "1", "--store", str(store))
    assert _run(capsys, *args)[0] == 0
    with sqlite3.connect(store) as db:
        db.execute("UPDATE runs SET result = '{}'")
    code, out, err = _run(capsys, *args)
    assert code == 0 and "is corrupt" in err and str(store) in err and "seeds" in out
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM runs WHERE result != '{}'").fetchone() == (1,)
