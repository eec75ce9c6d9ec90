"""``almanac check``: findings like a compiler, exit 1 on an error, 0 when clean, 2 on bad usage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from almanac.cli import main

MODELS = '''
import torch.nn as nn

def softmax_ce():
    return nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2), nn.Softmax(dim=1)), nn.CrossEntropyLoss()

def logits():  # the CSV has 4 columns besides the target
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))

def stacked():
    return nn.Sequential(nn.Linear(3, 16), nn.Linear(16, 1))

def not_a_model():
    return 3
'''


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "models.py").write_text(MODELS)
    rng = np.random.default_rng(0)
    lines = ["a,b,c,label,price"] + [f"{rng.normal():.4f},{rng.normal():.4f},{rng.normal():.4f},{i % 2},"
                                     f"{rng.uniform(10, 90):.2f}" for i in range(60)]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_error_exits_1_and_prints_like_a_compiler(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["check", f"{files}/models.py:softmax_ce"], capsys)
    assert code == 1
    assert out.splitlines()[0].startswith("3: error AL001: double softmax")


def test_clean_setup_with_csv_sample_exits_0(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["check", f"{files}/models.py:logits", "--loss", "BCEWithLogitsLoss", "--csv",
                         f"{files}/data.csv", "--target", "label", "--metrics", "accuracy,f1"], capsys)
    assert (code, out.strip()) == (0, "no findings")


def test_data_alias_and_data_rules(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["check", f"{files}/models.py:logits", "--loss", "cross_entropy", "--data",
                         f"{files}/data.csv", "--target", "price"], capsys)
    assert code == 1 and "AL009" in out


def test_inputs_the_model_rejects_exit_2(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["check", f"{files}/models.py:stacked", "--csv", f"{files}/data.csv", "--target", "label"],
                        capsys)
    assert code == 2 and "inputs" in err


def test_warnings_alone_exit_0(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["check", f"{files}/models.py:stacked", "--loss", "mse"], capsys)
    assert code == 0 and "warning AL006" in out


@pytest.mark.parametrize("args", [
    ["check", "{d}/models.py"],
    ["check", "{d}/missing.py:build"],
    ["check", "{d}/models.py:nope"],
    ["check", "{d}/models.py:not_a_model"],
    ["check", "{d}/models.py:logits", "--csv", "{d}/data.csv"],
    ["check", "{d}/models.py:logits", "--loss", "no_such_loss"],
])
def test_bad_usage_exits_2(files: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _, _ = _run([a.format(d=files) for a in args], capsys)
    assert code == 2


def test_help_lists_check_and_advise(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["--help"], capsys)
    assert code == 0 and "check" in out and "advise" in out
    code, out, _ = _run(["check", "--help"], capsys)
    assert code == 0 and "Example: almanac check" in out
