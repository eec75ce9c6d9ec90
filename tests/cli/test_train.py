"""``almanac train``: the default run, bad input, SIGKILL + resume, and a data-parallel run under torchrun."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from almanac.cli import main
from almanac.train import checkpoint
from almanac.train.history import read_csv
from almanac.train.job import RunConfig, prepare
from almanac.train.loop import evaluate

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _run(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *args])
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.mark.slow
def test_default_run_reaches_095_and_writes_the_run_dir(tmp_path, capsys):
    code, out, err = _run(["--out", str(tmp_path)], capsys)  # the defaults of `almanac train`
    assert code == 0
    (run,) = tmp_path.iterdir()
    assert run.name.startswith("digits-mlp-relu-cross_entropy-")
    names = {p.name for p in run.iterdir()}
    assert names == {"report.html", "history.csv", "metrics.json", "config.json", "checkpoint.pt", "loss.png",
                     "best.pt", "preprocessing.json",
                     "metrics.png", "confusion_matrix.png", "roc.png", "pr.png"}
    final = json.loads((run / "metrics.json").read_text())
    assert set(final) == {"accuracy", "f1", "auroc", "log_loss"} and final["accuracy"] >= 0.95
    history = read_csv(run / "history.csv")
    assert history.column("epoch") == list(range(1, 31))
    best = checkpoint.load(run / "best.pt")["epoch"]
    assert history.column("val_accuracy")[best - 1] == pytest.approx(final["accuracy"]) == max(
        history.column("val_accuracy"))
    page = (run / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 5 and "<img src=\"http" not in page
    assert json.loads((run / "config.json").read_text())["loss"] == "cross_entropy"
    assert "accuracy" in out and str(run) in out.replace("\n", "")
    assert err.count("epoch ") == 30 and "epoch 30/30: train loss" in err  # progress, one line per epoch off a tty


def _write_csv(path, rows, header):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_csv_regression_run(tmp_path, capsys):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(120, 3, generator=g)
    y = 3 * x[:, 0] - x[:, 1] + 10
    csv = _write_csv(tmp_path / "houses.csv", [f"{a:.4f},{b:.4f},{c:.4f},{t:.4f}" for (a, b, c), t in
                                               zip(x.tolist(), y.tolist())], "rooms,age,area,price")
    code, _, _ = _run(["--csv", str(csv), "--target", "price", "--epochs", "3", "--out", str(tmp_path),
                         "--name", "h", "--loss", "huber"], capsys)
    assert code == 0
    run = tmp_path / "h"
    assert {"predicted_vs_true.png", "residuals.png"} <= {p.name for p in run.iterdir()}
    assert set(json.loads((run / "metrics.json").read_text())) == {"r2", "mae", "rmse"}
    assert json.loads((run / "config.json").read_text())["task"] == "regression"


@pytest.fixture
def bad_csvs(tmp_path):
    good = _write_csv(tmp_path / "good.csv", [f"{i},{i % 3},{i % 2}" for i in range(30)], "a,b,y")
    twice = _write_csv(tmp_path / "twice.csv", [f"{i},red,{i % 2}" for i in range(30)], "a,a,y")
    return {"good": str(good), "twice": str(twice), "missing": str(tmp_path / "nope.csv")}


@pytest.mark.parametrize(("args", "message"), [
    (["--csv", "{missing}", "--target", "y"], "expected `--csv` to name an existing CSV file"),
    (["--csv", "{good}", "--target", "price"], "expected `--target` to name columns of good.csv (a, b, y)"),
    (["--csv", "{twice}", "--target", "y"], "expected `--csv` distinct column names, got a more than once"),
    (["--activation", "rellu"], "unknown activation 'rellu' — did you mean 'relu'"),
    (["--loss", "mse"], "expected `--loss` to fit the task multiclass of digits, got mse"),
    (["--metrics", "accuracy,rsquared"], "unknown metric 'rsquared'"),
    (["--dataset", "mnist"], "expected `--dataset` to be one of"),
    (["--device", "cuda"], "expected `--device` cuda to find a CUDA device"),
    (["--epochs", "0"], "expected `--epochs` to be in [1, inf]"),
    (["--resume", "{missing}"], "expected `--resume` a run directory"),
])
def test_bad_input_exits_2_with_one_line(args, message, bad_csvs, capsys, tmp_path):
    if args == ["--device", "cuda"] and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    args = [a.format(**bad_csvs) for a in args]
    code, _, err = _run([*args, "--out", str(tmp_path / "runs"), "--epochs", "1"] if "--epochs" not in args
                          and "--resume" not in args else args, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert "Traceback" not in err and not (tmp_path / "runs").exists()


def test_loss_and_activation_params_land_in_config_and_modules_and_survive_resume(tmp_path, capsys):
    code, *_ = _run(["--dataset", "moons", "--loss", "focal", "--loss-param", "gamma=1", "--loss-param", "alpha=0.25",
                     "--activation", "leaky_relu", "--activation-param", "negative_slope=0.1", "--epochs", "1",
                     "--hidden", "8", "--out", str(tmp_path), "--name", "f"], capsys)
    assert code == 0
    saved = json.loads((tmp_path / "f" / "config.json").read_text())
    assert saved["loss"] == "focal" and saved["loss_params"] == {"gamma": 1, "alpha": 0.25}
    assert saved["activation_params"] == {"negative_slope": 0.1}
    job = prepare(RunConfig.from_json(saved))  # what --resume builds
    assert job.loss.params["gamma"] == 1 and job.loss.params["alpha"] == 0.25
    acts = [m for m in job.model.modules() if getattr(m, "name", None) == "leaky_relu"]
    assert len(acts) == 1 and acts[0].params == {"negative_slope": 0.1}
    code, _, err = _run(["--resume", str(tmp_path / "f"), "--loss-param", "gamma=2", "--activation-param", "x=1"],
                        capsys)
    assert code == 2 and "also --activation-param, --loss-param —" in err
    code, *_ = _run(["--resume", str(tmp_path / "f"), "--epochs", "2"], capsys)
    assert code == 0 and json.loads((tmp_path / "f" / "config.json").read_text())["loss_params"] == saved["loss_params"]


def test_loss_params_override_the_advised_ones(tmp_path):
    job = prepare(RunConfig(dataset="shapes", loss="auto", loss_params={"gamma": 0.5}, epochs=1))
    config = job.config
    assert config.loss == "focal" and config.loss_params["gamma"] == 0.5 and len(config.loss_params["alpha"]) == 3
    assert job.loss.params["gamma"] == 0.5 and any("gamma given" in r for r in config.reasons)


@pytest.mark.parametrize(("args", "message"), [
    (["--loss-param", "bogus=1"], "expected parameters of loss `focal` among ['gamma', 'alpha'"),
    (["--loss-param", "gamma=-1"], "expected `gamma` to be in [0.0, inf), got -1"),
    (["--loss-param", "gamma=abc"], "expected `gamma` to be a number, got 'abc'"),
    (["--loss-param", "alpha=0.2,x"], "expected `--loss-param alpha` to be one value or comma-separated numbers"),
    (["--loss-param", "gamma"], "expected `--loss-param` to be KEY=VALUE, got 'gamma'"),
    (["--loss-param", "gamma=1", "--loss-param", "gamma=2"], "to set each parameter once, got gamma twice"),
    (["--loss-param", "reduction=sum"], "the trainer sets task, from_logits, reduction"),
    (["--activation-param", "slope=2"], "expected parameters of activation `relu` among none, got ['slope']"),
])
def test_bad_params_exit_2_with_one_line(args, message, tmp_path, capsys):
    code, _, err = _run(["--dataset", "moons", "--loss", "focal", "--epochs", "1", "--out", str(tmp_path / "runs"),
                         *args], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert not (tmp_path / "runs").exists()


def test_debug_shows_the_traceback():
    with pytest.raises(Exception, match="did you mean 'relu'"):
        main(["--debug", "train", "--activation", "rellu"])


def test_resume_takes_the_config_from_the_run(tmp_path, capsys):
    code, *_ = _run(["--dataset", "iris", "--epochs", "2", "--hidden", "8", "--out", str(tmp_path), "--name", "r"],
                    capsys)
    assert code == 0
    code, _, err = _run(["--resume", str(tmp_path / "r"), "--lr", "0.1"], capsys)
    assert code == 2 and "also --lr" in err
    code, _, err = _run(["--resume", str(tmp_path / "r"), "--epochs", "1"], capsys)
    assert code == 2 and "at least the 2 epochs the run has finished" in err
    code, *_ = _run(["--resume", str(tmp_path / "r"), "--epochs", "4"], capsys)
    assert code == 0
    assert read_csv(tmp_path / "r" / "history.csv").column("epoch") == [1, 2, 3, 4]
    code, _, err = _run(["--dataset", "iris", "--out", str(tmp_path), "--name", "r"], capsys)
    assert code == 2 and "expected `--name` to name a new run" in err and "resume it" in err


def _rows(path):
    try:
        return max(0, len(path.read_text().splitlines()) - 1)
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path, capsys):
    run = tmp_path / "k"
    epochs = 15
    cmd = [sys.executable, "-m", "almanac", "train", "--dataset", "moons", "--epochs", str(epochs), "--hidden", "16",
           "--batch-size", "8", "--metrics", "accuracy", "--out", str(tmp_path), "--name", "k"]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    # kill the moment the 3rd row lands: often between the history row and its checkpoint
    while _rows(run / "history.csv") < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    seen = _rows(run / "history.csv")
    assert checkpoint.load(run / "checkpoint.pt")["epoch"] >= seen - 1  # at most the epoch in progress is lost
    assert seen < epochs
    code, *_ = _run(["--resume", str(run)], capsys)
    assert code == 0
    history = read_csv(run / "history.csv")
    assert history.column("epoch") == list(range(1, epochs + 1))  # none lost, none duplicated
    assert checkpoint.load(run / "checkpoint.pt")["epoch"] == epochs
    assert (run / "report.html").exists() and json.loads((run / "metrics.json").read_text())["accuracy"] > 0.8
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temporary files left behind


@pytest.mark.slow
def test_torchrun_two_processes_data_parallel(tmp_path):
    # --standalone: the rendezvous binds a port of the OS's choosing (a port picked here first could be taken by a
    # concurrent test before torchrun binds it)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "almanac",
           "train", "--dataset", "moons", "--epochs", "3", "--hidden", "16", "--lr", "0.01",
           "--out", str(tmp_path), "--name", "ddp"]
    result = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "ddp"
    assert {"report.html", "history.csv", "metrics.json", "config.json", "checkpoint.pt"} <= {
        p.name for p in run.iterdir()}
    assert [p.name for p in tmp_path.iterdir()] == ["ddp"]  # rank 1 wrote nothing of its own
    assert read_csv(run / "history.csv").column("epoch") == [1, 2, 3]
    assert result.stdout.count("best epoch:") == 1  # only rank 0 prints
    # the metrics combined across the two ranks equal the metrics of the final model on the whole validation split
    config = RunConfig.from_json(json.loads((run / "config.json").read_text()))
    job = prepare(config)
    job.model.load_state_dict(checkpoint.load(run / "best.pt")["model"])  # the metrics are the best epoch's
    whole = evaluate(job.model, job.loss, job.val_set, metrics=job.metrics, output=job.output)
    final = json.loads((run / "metrics.json").read_text())
    assert final == pytest.approx({k: v for k, v in whole.items() if k != "loss"}, rel=1e-5)
    best = read_csv(run / "history.csv")[checkpoint.load(run / "best.pt")["epoch"] - 1]
    assert f"loss       │ {best['val_loss']:.4f}" in result.stdout  # the printed loss is the best epoch's too


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 2-epoch run to tamper with (copied per test)."""
    root = tmp_path_factory.mktemp("finished")
    code = None
    try:
        main(["train", "--dataset", "iris", "--epochs", "2", "--hidden", "8", "--out", str(root), "--name", "r"])
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 0
    return root / "r"


def _copy(run, tmp_path):
    import shutil

    return shutil.copytree(run, tmp_path / "r")


def _files(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


@pytest.mark.parametrize(("tamper", "message"), [
    (lambda r: (r / "config.json").write_text("{not json"), "expected `--resume` a readable config.json"),
    (lambda r: (r / "config.json").write_text(""), "JSONDecodeError"),
    (lambda r: (r / "config.json").write_text("[1, 2]"), "a JSON list, not an object"),
    (lambda r: (r / "config.json").write_bytes(b'{"a": "caf\xe9"}'), "UnicodeDecodeError"),
    (lambda r: (r / "config.json").write_text(json.dumps({k: v for k, v in json.loads((r / "config.json").read_text())
                                                          .items() if k != "input_shape"})), "another version"),
    (lambda r: (r / "config.json").write_text((r / "config.json").read_text().replace('"seed": 0', '"seed": -1')),
     "expected `--resume` a readable config.json"),
    (lambda r: (r / "config.json").write_text(json.dumps({**json.loads((r / "config.json").read_text()),
                                                          "hidden": [9]})),
     "expected `checkpoint` weights and states that fit the model of the config"),
    (lambda r: checkpoint.save(r / "checkpoint.pt", {k: v for k, v in checkpoint.load(r / "checkpoint.pt").items()
                                                     if k != "model"}), "no model"),
    (lambda r: checkpoint.save(r / "checkpoint.pt", {k: v for k, v in checkpoint.load(r / "checkpoint.pt").items()
                                                     if k != "rng"}), "no rng"),
    (lambda r: checkpoint.save(r / "checkpoint.pt", {**checkpoint.load(r / "checkpoint.pt"), "epoch": -1}),
     "epoch -1"),
    (lambda r: checkpoint.save(r / "checkpoint.pt", {**checkpoint.load(r / "checkpoint.pt"), "history": [[1], 2]}),
     "a history that does not list epochs 1..2"),
    (lambda r: (r / "checkpoint.pt").write_bytes(b"garbage"), "expected `checkpoint` to be an almanac checkpoint"),
])
def test_resume_of_a_damaged_run_exits_2_and_changes_nothing(finished, tmp_path, capsys, tamper, message):
    run = _copy(finished, tmp_path)
    tamper(run)
    before = _files(run)
    code, _, err = _run(["--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err, err
    assert _files(run) == before


@pytest.mark.parametrize(("args", "message"), [
    (["--seed", "-1"], "expected `--seed` to be in [0, 4294967295]"),
    (["--seed", str(2**40)], "expected `--seed` to be in [0, 4294967295]"),
    (["--lr", "inf"], "expected `--lr` to be in (0.0, inf)"),
    (["--lr", "nan"], "expected `--lr`"),
    (["--early-stop", "0"], "expected `--early-stop`"),
    (["--out", "{file}/runs"], "expected `--out` a directory (or a path to create one)"),
    (["--csv", "{two}", "--target", "y"], "expected `--csv` at least 10 data rows"),
    (["--csv", "{huge}", "--target", "y"], "expected `features` values of a small enough to standardise"),
    (["--images", "{file}"], "expected `--images` a folder of images"),
    (["--dataset", "iris", "--csv", "{two}"], "expected `--dataset` alone"),
])
def test_fuzzed_options_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, args, message):
    (tmp_path / "file").write_text("x")
    (tmp_path / "two.csv").write_text("a,y\n1,0\n2,1\n")
    rows = [f"{'1e308' if i == 0 else '-1e308' if i == 1 else i},{i % 2}" for i in range(12)]
    (tmp_path / "huge.csv").write_text("a,y\n" + "\n".join(rows) + "\n")
    paths = {"file": tmp_path / "file", "two": tmp_path / "two.csv", "huge": tmp_path / "huge.csv"}
    args = [a.format(**paths) for a in args]
    out = [] if "--out" in args else ["--out", str(tmp_path / "runs")]
    code, _, err = _run([*args, *out, "--epochs", "1"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "runs").exists() and (tmp_path / "file").read_text() == "x"


def test_one_process_per_run_dir_and_a_stale_lock_is_taken_over(finished, tmp_path, capsys):
    run = _copy(finished, tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run / "run.lock").write_text(f"{holder.pid}\n")
        before = _files(run)
        code, _, err = _run(["--resume", str(run), "--epochs", "3"], capsys)
        assert code == 2 and f"in use by process {holder.pid}" in err and _files(run) == before
    finally:
        holder.kill()
        holder.wait()
    code, _, err = _run(["--resume", str(run), "--epochs", "3"], capsys)  # the holder is gone: its lock is stale
    assert code == 0, err
    assert read_csv(run / "history.csv").column("epoch") == [1, 2, 3] and not (run / "run.lock").exists()
