"""``almanac docs``: its commands, and a failed build stops with one line and exit code 1."""

from __future__ import annotations

import pytest

from almanac.cli import main


def test_docs_lists_its_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["docs", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "build" in out and "record-lab" in out


def test_a_failed_build_is_one_line_and_exit_code_1(capsys, monkeypatch):
    import almanac.site
    from almanac.site import BuildError

    def fail(out):
        raise BuildError("loss `focal`: the docstring example fails")

    monkeypatch.setattr(almanac.site, "build", fail)
    with pytest.raises(SystemExit) as exit_:
        main(["docs", "build", "--out", "unused"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["Error: the site was not built: loss `focal`: the docstring example fails"]
