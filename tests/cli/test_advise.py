"""``almanac advise``: from a CSV column or a bundled dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from almanac.cli import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, _ = capsys.readouterr()
    return int(exit_info.value.code or 0), out


def test_csv_imbalanced_binary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    rows = ["x1,x2,fraud"] + [f"{rng.normal():.3f},{rng.normal():.3f},{'yes' if i < 5 else 'no'}" for i in range(100)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    code, out = _run(["advise", "--csv", str(tmp_path / "t.csv"), "--target", "fraud", "--json"], capsys)
    advice = json.loads(out)
    assert code == 0 and advice["task"] == "binary" and advice["metrics"][0] == "average_precision"
    assert advice["loss_params"]["pos_weight"] == pytest.approx(19.0)


@pytest.mark.parametrize(("name", "task", "loss"), [("iris", "multiclass", "cross_entropy"),
                                                    ("diabetes", "regression", "mse")])
def test_bundled_dataset(capsys: pytest.CaptureFixture[str], name: str, task: str, loss: str) -> None:
    code, out = _run(["advise", "--dataset", name], capsys)
    assert code == 0
    assert out.startswith(f"task                  {task}")
    assert f"loss                  {loss}(" in out


@pytest.mark.parametrize("args", [["advise"], ["advise", "--csv", "x.csv"], ["advise", "--dataset", "nope"],
                                  ["advise", "--dataset", "iris", "--csv", "x.csv", "--target", "y"]])
def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _ = _run(args, capsys)
    assert code == 2


def test_csv_is_read_as_train_reads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ["x,colour,y"] + [f"{i},{'red' if i % 3 else ''},{'a' if i % 2 else 'b'}" for i in range(20)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    code, out = _run(["advise", "--csv", str(tmp_path / "t.csv"), "--target", "y", "--json"], capsys)
    assert code == 0 and json.loads(out)["task"] == "binary"  # a text feature with gaps is encoded, not refused
    (tmp_path / "gap.csv").write_text("\n".join([*rows, "3,red,"]) + "\n")  # one empty target cell
    with pytest.raises(SystemExit) as exit_info:
        main(["advise", "--csv", str(tmp_path / "gap.csv"), "--target", "y"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "expected `--target` to have a value on every row" in err  # no class ""
