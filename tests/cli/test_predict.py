"""``almanac predict`` and ``am.train.load(RUN)``: preprocessing travels with the run, predictions in the target's
terms (class names and probabilities, values in the target's units, masks)."""

import numpy as np
import pandas as pd
import pytest
import torch

import almanac as am
from almanac.cli import main
from almanac.train import checkpoint
from almanac.train.job import RunConfig, prepare, read_config


def _cli(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def table(n, seed=0):
    """Numbers with 5% missing cells, a text column, and string class labels that depend on both."""
    rng = np.random.default_rng(seed)
    a = rng.normal(50, 10, n)
    colour = rng.choice(["red", "green", "blue"], n)
    kind = np.where(colour == "red", "hot", np.where(a > 50, "warm", "cold"))
    a[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"a": a, "colour": colour, "b": rng.normal(size=n), "kind": kind})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict")
    table(300).to_csv(root / "train.csv", index=False)
    config = RunConfig(dataset=None, csv=str(root / "train.csv"), target="kind", epochs=8, hidden=(16,), lr=1e-2,
                       out=str(root), name="r")
    path, _, _ = am.train.run(config, progress=False)
    return path, root


def test_the_loaded_run_predicts_what_the_trained_model_computes(run):
    path, _ = run
    model = am.train.load(path)
    assert model.classes == ("cold", "hot", "warm") and model.task == "multiclass"
    assert model.best_epoch == checkpoint.load(path / "best.pt")["epoch"]
    # the independent path: the job rebuilt from config.json, best.pt's weights, on the training-time inputs
    job = prepare(read_config(path))
    job.model.load_state_dict(checkpoint.load(path / "best.pt")["model"])
    with torch.no_grad():
        expected = job.output(job.model.eval()(job.data.x_val))
    torch.testing.assert_close(model.scores_of_encoded(job.data.raw_val), expected, rtol=0, atol=1e-6)
    assert {r.split(":")[0] for r in model.preprocessing.report} == {"a", "colour"}  # imputed / encoded, reported


def test_predict_csv_writes_class_names_and_probabilities(run, capsys):
    path, root = run
    new = table(40, seed=1).drop(columns="kind")
    new.loc[0, "colour"], new.loc[1, "a"], new.loc[2, "colour"] = "purple", np.nan, np.nan  # unseen, missing
    new.to_csv(root / "new.csv", index=False)
    code, _, err = _cli(["predict", str(path), "--csv", str(root / "new.csv"), "--out", str(root / "p.csv")], capsys)
    assert code == 0, err
    preds = pd.read_csv(root / "p.csv")
    assert list(preds.columns) == ["prediction", "probability_cold", "probability_hot", "probability_warm"]
    probabilities = preds.iloc[:, 1:].to_numpy()
    assert np.allclose(probabilities.sum(1), 1, atol=1e-5) and len(preds) == 40
    assert (preds["prediction"] == np.array(["cold", "hot", "warm"])[probabilities.argmax(1)]).all()
    assert (preds["prediction"][3:] == table(40, seed=1)["kind"][3:]).mean() > 0.8
    code, out, _ = _cli(["predict", str(path), "--csv", str(root / "new.csv")], capsys)  # to standard output
    assert code == 0 and out.splitlines()[0].startswith("prediction,probability_cold")


def test_unknown_category_takes_the_unknown_bucket(run):
    model = am.train.load(run[0])
    x = model.preprocessing.transform(pd.DataFrame({"a": [np.nan], "colour": ["purple"], "b": [0.0]}))
    names = model.preprocessing.feature_names
    row = dict(zip(names, x[0].tolist()))
    assert row["colour=unknown"] == 1 and row["colour=red"] == 0 and row["a_missing"] == 1
    fill = next(c["fill"] for c in model.preprocessing.columns if c["name"] == "a")
    mean, std = (next(c[k] for c in model.preprocessing.columns if c["name"] == "a") for k in ("mean", "std"))
    assert row["a"] == pytest.approx((fill - mean) / std, abs=1e-6)  # the stated rule: the training median


def test_regression_predictions_are_in_the_targets_units(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    frame = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "price": 1000 + 50 * x[:, 0]})
    frame.to_csv(tmp_path / "h.csv", index=False)
    path, _, _ = am.train.run(RunConfig(dataset=None, csv=str(tmp_path / "h.csv"), target="price", epochs=15,
                                        hidden=(16,), lr=1e-2, out=str(tmp_path), name="h"), progress=False)
    code, _, err = _cli(["predict", str(path), "--csv", str(tmp_path / "h.csv"), "--out", str(tmp_path / "p.csv")],
                        capsys)
    assert code == 0, err
    preds = pd.read_csv(tmp_path / "p.csv")["prediction"]
    assert abs(preds.mean() - 1000) < 10 and np.corrcoef(preds, frame["price"])[0, 1] > 0.9


@pytest.mark.parametrize(("args", "message"), [
    (["--csv", "{root}/missing_col.csv"], "expected `--csv` to include the training columns (a, colour, b), got no b"),
    (["--csv", "{root}/nope.csv"], "expected `--csv` to name an existing CSV file"),
    ([], "expected `--csv` or --images (one of them), got neither"),
    (["--images", "{root}"], "expected `--images` with a run trained on images"),
    (["--csv", "{root}/train.csv", "--out", "{root}/train.csv/p.csv"], "expected `--out` a directory"),
])
def test_bad_input_exits_2_with_one_line(run, args, message, capsys):
    path, root = run
    table(5).drop(columns=["b", "kind"]).to_csv(root / "missing_col.csv", index=False)
    code, _, err = _cli(["predict", str(path), *[a.format(root=root) for a in args]], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err


def test_a_folder_that_is_not_a_run(tmp_path, capsys):
    code, _, err = _cli(["predict", str(tmp_path), "--csv", "x.csv"], capsys)
    assert code == 2 and "expected `RUN` a run directory holding config.json" in err
