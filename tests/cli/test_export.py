"""``almanac export``: the network with its preprocessing and inference activation, run after writing and checked
against predict on the validation split."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import almanac as am
from almanac.cli import main
from almanac.train.job import RunConfig, _load_data


def _cli(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    colour = rng.choice(["red", "blue"], 200)
    y = ((a > 0) ^ (colour == "red")).astype(int)
    a[::17] = np.nan
    pd.DataFrame({"a": a, "colour": colour, "y": y}).to_csv(root / "t.csv", index=False)
    table, _, _ = am.train.run(RunConfig(dataset=None, csv=str(root / "t.csv"), target="y", epochs=2, hidden=(8,),
                                         out=str(root), name="table"), progress=False)
    for c, name in enumerate(("dark", "light", "mid")):  # a tiny folder of RGB images, one sub-folder per class
        (root / "pics" / name).mkdir(parents=True)
        for i in range(6):
            pixels = (rng.random((10, 10, 3)) * 80 + c * 80).astype(np.uint8)
            Image.fromarray(pixels).save(root / "pics" / name / f"{i}.png")
    image, _, _ = am.train.run(RunConfig(dataset=None, images=str(root / "pics"), image_size=8, hidden=(4,),
                                         epochs=1, out=str(root), name="image"), progress=False)
    return {"table": table, "image": image}


@pytest.mark.parametrize("fmt", ["onnx", "torchscript", "pt2"])
@pytest.mark.parametrize("kind", ["table", "image"])
def test_export_runs_the_written_file_against_predict(runs, fmt, kind, capsys, tmp_path):
    out = tmp_path / f"m.{fmt}"
    code, stdout, err = _cli(["export", str(runs[kind]), "--format", fmt, "--out", str(out)], capsys)
    assert code == 0, err
    assert f"{fmt} model written to {out}" in stdout
    meta = json.loads((tmp_path / f"m.{fmt}.json").read_text())
    assert meta["checked_max_abs_difference"] <= 1e-5 and meta["format"] == fmt
    # again, here: the written file against the loaded run's predictions on the validation split
    model = am.train.load(runs[kind])
    x = _load_data(model.config).raw_val
    expected = model.scores_of_encoded(x)
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        got = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    elif fmt == "torchscript":
        got = torch.jit.load(str(out))(x)
    else:
        got = torch.export.load(str(out)).module()(x)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)
    if kind == "table":  # probabilities of the positive class, with the inference activation inside
        assert got.shape == (len(x),) and ((got >= 0) & (got <= 1)).all() and meta["inputs"] == ["a", "colour"]
    else:
        assert got.shape == (len(x), 3) and x.shape[1:] == (3, 8, 8)
        torch.testing.assert_close(got.sum(1), torch.ones(len(x)), rtol=0, atol=1e-5)


def test_an_export_that_does_not_match_is_refused_and_removed(runs, capsys, tmp_path, monkeypatch):
    from almanac.train import export

    monkeypatch.setattr(export, "_run_exported", lambda fmt, path, x: torch.zeros(1) + 1e-3)
    out = tmp_path / "m.pt2"
    code, _, err = _cli(["export", str(runs["table"]), "--format", "pt2", "--out", str(out)], capsys)
    assert code == 2 and "expected `export` to match predict within 1e-05" in err and not out.exists()


def test_export_bad_input(tmp_path, capsys):
    code, _, err = _cli(["export", str(tmp_path), "--format", "onnx"], capsys)
    assert code == 2 and "expected `RUN` a run directory holding config.json" in err
    code, _, err = _cli(["export", str(tmp_path), "--format", "tflite"], capsys)
    assert code == 2 and "tflite" in err
