"""``almanac bench activations`` end to end, at a tiny scale and one round."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from almanac.cli import cli

ARGS = ["bench", "activations", "--scale", "0.001", "--rounds", "1", "--only", "relu,swiglu"]


@pytest.fixture(autouse=True)
def _no_compile(monkeypatch):
    monkeypatch.setenv("ALMANAC_BENCH_COMPILE", "0")  # compiling the peers takes seconds per case


def test_bench_prints_a_table_with_the_chosen_cases():
    result = CliRunner().invoke(cli, ARGS)
    assert result.exit_code == 0, result.output
    assert "almanac bench activations" in result.output
    assert "relu" in result.output and "swiglu" in result.output and "naive" in result.output
    assert "torch.compile peer skipped" in result.output


def test_bench_json_gives_one_object_per_row():
    result = CliRunner().invoke(cli, [*ARGS, "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [(r["case"], r["peer"]) for r in rows] == [("relu", "torch"), ("swiglu", "naive")]
    assert all(r["ratio"] > 0 and r["ours_saved"] is not None for r in rows)


def test_cpu_clock_is_named_in_the_title():
    result = CliRunner().invoke(cli, [*ARGS, "--clock", "cpu"])
    assert result.exit_code == 0, result.output
    assert "median cpu-clock time" in result.output


def test_unknown_case_is_a_usage_error():
    result = CliRunner().invoke(cli, ["bench", "activations", "--only", "relux"])
    assert result.exit_code == 2
    assert "no case named" in result.output


def test_main_exits_with_code_0(capsys):
    from almanac.cli import main

    with pytest.raises(SystemExit) as info:
        main(ARGS)
    assert info.value.code == 0
    assert "relu" in capsys.readouterr().out


def test_device_must_be_cpu_or_an_available_cuda():
    result = CliRunner().invoke(cli, [*ARGS, "--device", "tpu"])
    assert result.exit_code == 2 and "cpu or cuda" in result.output
    if not __import__("torch").cuda.is_available():
        result = CliRunner().invoke(cli, [*ARGS, "--device", "cuda"])
        assert result.exit_code == 2 and "CUDA is not available" in result.output


def test_device_is_named_in_the_title():
    result = CliRunner().invoke(cli, [*ARGS, "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "activations on cpu" in result.output
