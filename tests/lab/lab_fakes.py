"""A tiny fake scenario for the store, runner and report tests: no training, instant, picklable."""

from __future__ import annotations

import os
import time
from pathlib import Path

from almanac.lab.scenario import Curve, Measure, Scenario


def fake_run(config, seed, quick):
    """Measures that depend on the configuration and the seed; appends a line to $LAB_FAKE_LOG per call."""
    log = os.environ.get("LAB_FAKE_LOG")
    if log:
        with Path(log).open("a") as f:
            f.write(f"{config['loss']} {seed} {os.getpid()}\n")
    time.sleep(float(os.environ.get("LAB_FAKE_SLEEP", "0")))
    if config["loss"] == os.environ.get("LAB_FAKE_FAIL"):
        raise RuntimeError("this configuration fails on purpose")
    base = {"good": 0.9, "bad": 0.6}[config["loss"]]
    score = base + 0.01 * seed
    return {"final": {"score": score, "cost": 1 - score}, "curves": {"score": [base / 2, score]}}


def fake_finding(summary):
    best = max(summary.groups, key=lambda g: g.mean("score"))
    return [f"{best.config['loss']} scored {best.mean('score'):.3f}"]


FAKE = Scenario(
    name="fake",
    title="fake scenario",
    question="what the fake measures",
    axes={"loss": ("good", "bad")},
    run=fake_run,
    measures=(Measure("score", "score"), Measure("cost", "cost", higher_is_better=False)),
    curves=(Curve("score", "score"),),
    finding=fake_finding,
    seeds=2,
    quick_seeds=1,
)
