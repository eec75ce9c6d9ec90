"""The site is built once per test session and shared by the pytest-xdist workers (a file lock guards the build)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from filelock import FileLock


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """(the built site, seconds the build took); built by the first worker that asks, in strict mode.

    ``ALMANAC_SITE=DIR`` tests a site built before (``almanac docs build --out DIR``) instead.
    """
    from almanac.site import build

    if os.environ.get("ALMANAC_SITE"):
        return Path(os.environ["ALMANAC_SITE"]), 0.0

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one folder for all workers
    out, stamp = shared / "almanac-site", shared / "almanac-site.json"
    with FileLock(str(shared / "almanac-site.lock")):
        if not stamp.exists():
            start = time.perf_counter()
            build(out)
            stamp.write_text(json.dumps({"seconds": time.perf_counter() - start}))
    return out, json.loads(stamp.read_text())["seconds"]


@pytest.fixture(scope="session")
def site(built_site: tuple[Path, float]) -> Path:
    return built_site[0]
