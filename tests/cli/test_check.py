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


BROKEN = {
    "syntax.py": "def build(:\n    pass\n",
    "imports.py": "import no_such_module_for_almanac\n",
    "raises.py": "raise RuntimeError('boom at import')\n",
    "exits.py": "import sys\nsys.exit(3)\n",
    "factory.py": ("import torch.nn as nn\n\ndef needs(width):\n    return nn.Linear(width, 1)\n\n"
                   "def fails():\n    raise ValueError('no data dir')\n\ndef quits():\n    raise SystemExit(3)\n"),
}


@pytest.mark.parametrize("spec", ["syntax.py:build", "imports.py:build", "raises.py:build", "exits.py:build",
                                  "factory.py:needs", "factory.py:fails", "factory.py:quits"])
def test_broken_module_or_factory_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        spec: str) -> None:
    for name, text in BROKEN.items():
        (tmp_path / name).write_text(text)
    code, _, err = _run(["check", f"{tmp_path}/{spec}"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_non_utf8_and_ragged_csv_are_csv_errors(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "latin1.csv").write_bytes(b"a,b,c,label\n" + "1,2,caf\xe9,1\n3,4,5,0\n6,7,8,1\n".encode("latin1"))
    code, _, err = _run(["check", f"{files}/models.py:logits", "--csv", f"{files}/latin1.csv", "--target", "label"],
                        capsys)
    assert code == 2 and "--csv" in err and "UTF-8" in err
    (files / "ragged.csv").write_text("a,b,c,d,label\n1,2,3,4,1\n1,2,3,0\n1,2,3,4,1\n")
    code, _, err = _run(["check", f"{files}/models.py:logits", "--csv", f"{files}/ragged.csv", "--target", "label"],
                        capsys)
    assert code == 2 and "row 3 has 4" in err and "AL016" not in err


def test_ignore_option(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["check", f"{files}/models.py:stacked", "--loss", "mse", "--ignore", "AL006"], capsys)
    assert (code, out.strip()) == (0, "no findings")
    code, _, err = _run(["check", f"{files}/models.py:stacked", "--ignore", "AL999"], capsys)
    assert code == 2 and "AL999" in err


TRAIN = '''
import sys
import torch
from torch import nn

torch.manual_seed(0)
head = [nn.Softmax(dim=1)] if "--bug" in sys.argv else []
model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3), *head)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
crit = nn.CrossEntropyLoss()
for step in range(3):
    x, y = torch.randn(16, 10), torch.arange(16) % 3
    opt.zero_grad()
    loss = crit(model(x), y)
    loss.backward()
    opt.step()
    print("step", step)
if "--fail" in sys.argv:
    raise RuntimeError("disk full")
'''


def test_run_checks_the_first_step_and_stops_the_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    code, out, _ = _run(["check", "--run", f"{tmp_path}/train.py", "--bug"], capsys)
    assert code == 1
    assert out.splitlines()[0].startswith("3: error AL001: double softmax")
    assert "step" not in out  # stopped at the first optimizer.step()
    code, out, _ = _run(["check", "--run", f"{tmp_path}/train.py"], capsys)
    assert (code, out.strip()) == (0, "no findings")


def test_run_continue_lets_the_script_finish(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    code, out, _ = _run(["check", "--continue", "--run", f"{tmp_path}/train.py", "--bug"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("3: error AL001") and lines[-1] == "step 2"
    assert all("step" not in line for line in lines[:2])  # the report came at the first step, before any print


def test_run_script_problems_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    code, _, err = _run(["check", "--continue", "--run", f"{tmp_path}/train.py", "--fail"], capsys)
    assert code == 2 and "RuntimeError: disk full" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "idle.py").write_text("print('no training here')\n")
    code, _, err = _run(["check", "--run", f"{tmp_path}/idle.py"], capsys)
    assert code == 2 and "no PyTorch loss function was called" in err
    (tmp_path / "bad.py").write_text("def f(:\n")
    code, _, err = _run(["check", "--run", f"{tmp_path}/bad.py"], capsys)
    assert code == 2 and "SyntaxError" in err
