"""The README's commands, CI and the linter agree."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    return re.findall(r"```(?:bash|sh)\n(.+?)\n```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_opens_with_the_main_job_then_the_tests():
    main_job, tests = _readme_commands()[:2]
    assert "almanac " in main_job and "python3 -m venv .venv" in main_job
    assert "pytest" in tests and "python3 -m venv .venv" in tests


def test_ci_runs_exactly_the_readme_test_command():
    tests = _readme_commands()[1]
    assert tests in (ROOT / ".ci" / "run").read_text()


def test_ruff_is_clean():
    ruff = Path(sys.executable).parent / "ruff"  # the dev extra installs it beside this Python
    ruff = str(ruff) if ruff.exists() else shutil.which("ruff")
    assert ruff, "ruff is not installed: pip install -e '.[dev]'"
    result = subprocess.run([ruff, "check", "src", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
