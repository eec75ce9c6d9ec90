"""almanac explain: text on stdout, a PNG at --out, usage errors exit 2."""

import pytest

from almanac.cli import main


def _run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_explain_activations_overlay_in_one_png(tmp_path, capsys):
    png = tmp_path / "act.png"
    code, out, _ = _run(capsys, "explain", "gelu", "silu", "tanh", "--out", str(png))
    assert code == 0 and "gelu (activation)" in out and "tanh (activation)" in out
    assert f"plot: {png}" in out and png.read_bytes()[:4] == b"\x89PNG"


def test_explain_a_loss_and_a_metric(tmp_path, capsys):
    code, out, _ = _run(capsys, "explain", "loss:huber", "f1", "--out", str(tmp_path / "x.png"))
    assert code == 0 and "huber (loss)" in out and "f1 (metric)" in out and "not for:" in out


def test_explain_families(capsys):
    code, out, _ = _run(capsys, "explain", "--families")
    assert code == 0 and "where it acts" in out and "differentiable" in out


@pytest.mark.parametrize("args", [("explain", "nosuchthing"), ("explain",), ("explain", "relu", "--families")])
def test_bad_usage_exits_2(capsys, args):
    code, _, err = _run(capsys, *args)
    assert code == 2 and (err.startswith("error: expected") or "unknown name" in err)
