"""almanac compare: a quick scenario end to end, resume from the store, a custom sweep, usage errors."""

import sqlite3

import pytest

from almanac.cli import main


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
