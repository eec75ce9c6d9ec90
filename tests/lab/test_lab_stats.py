"""The lab's statistics against hand-checked SciPy values, and findings on fabricated results."""

import math

import numpy as np
import pytest
from lab_fakes import FAKE
from scipy import stats as sp

from almanac.lab import findings
from almanac.lab.report import paired_rows, ranked_rows
from almanac.lab.stats import interval, paired, seeds_needed
from almanac.lab.store import Run
from almanac.lab.summary import Summary


def test_interval_is_the_student_t_interval():
    # by hand: mean 0.82, s = 0.02, s/√3 = 0.011547, t(0.975, 2) = 4.302653 → 0.82 ± 0.049683
    found = interval([0.80, 0.82, 0.84])
    assert (found.mean, found.n) == (pytest.approx(0.82), 3)
    assert found.low == pytest.approx(0.770317, abs=1e-6) and found.high == pytest.approx(0.869683, abs=1e-6)
    x = np.array([0.61, 0.70, 0.64, 0.58, 0.66])
    ci = sp.ttest_1samp(x, 0).confidence_interval(0.95)
    assert (interval(x).low, interval(x).high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert interval([0.5, math.nan, 0.7]).n == 2  # NaN seeds are left out


def test_one_seed_has_no_interval_and_no_plus_minus():
    found = interval([0.9])
    assert math.isnan(found.low) and found.text() == "0.900"
    c = paired([0.9], [0.8])
    assert not c.excludes_zero and "no interval" in c.text() and "--seeds 3" in c.advice()


def test_paired_matches_scipy_ttest_rel_and_the_hand_effect_size():
    a = np.array([0.90, 0.92, 0.95, 0.91])
    b = np.array([0.85, 0.88, 0.90, 0.90])
    c = paired(a, b)
    d = a - b  # 0.05 0.04 0.05 0.01: mean 0.0375, sd 0.018930
    assert c.mean == pytest.approx(0.0375) and c.effect_size == pytest.approx(0.0375 / 0.0189297, rel=1e-5)
    assert c.p_value == pytest.approx(sp.ttest_rel(a, b).pvalue)
    ci = sp.ttest_1samp(d, 0).confidence_interval(0.95)
    assert (c.low, c.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert c.better and not c.worse and (c.p_value < 0.05) == c.excludes_zero
    lower = paired(b, a, higher_is_better=False)  # lower is better: b's smaller values win, same numbers
    assert lower.mean == pytest.approx(c.mean) and lower.p_value == pytest.approx(c.p_value)


def test_seeds_needed_matches_published_power_tables():
    # G*Power, matched pairs t-test, two-tailed α 0.05, power 0.8: d_z 0.3 → 90, 0.5 → 34, 0.8 → 15, 1.0 → 10
    assert [seeds_needed(d) for d in (0.3, 0.5, 0.8, 1.0, -0.5)] == [90, 34, 15, 10, 34]
    assert seeds_needed(0.0) is None and seeds_needed(0.05) is None  # would need more than 200


def _fabricated(effect, noise, seeds, *, shared=0.0, seed=0):
    """Runs of configurations "a" and "b": b = a + effect; each seed moves both by a shared offset."""
    rng = np.random.default_rng(seed)
    offsets = rng.normal(0, shared, seeds) if shared else np.zeros(seeds)
    runs = []
    for s in range(seeds):
        for name, shift in (("a", 0.0), ("b", effect)):
            value = 0.7 + shift + offsets[s] + rng.normal(0, noise)
            runs.append(Run(f"{name}{s}", "fake", {"loss": name}, s, False,
                            {"final": {"score": value, "cost": 1 - value}, "curves": {}}))
    return Summary.from_runs(runs)


def test_pairing_by_seed_removes_the_noise_the_seeds_share():
    summary = _fabricated(0.02, 0.003, 4, shared=0.05)
    a, b = summary.where(loss="a")[0], summary.where(loss="b")[0]
    assert b.compare(a, "score").better  # paired: the shared offsets cancel
    welch = sp.ttest_ind(b.values("score"), a.values("score"), equal_var=False)
    assert welch.pvalue > 0.05  # unpaired, the same numbers cannot tell the configurations apart


def test_custom_finding_states_an_effect_only_when_the_interval_excludes_zero():
    def finding(summary):
        for g in summary.groups:
            g.config["metrics"] = ["accuracy"]
            g.config["activation"] = "relu"
        for g in summary.groups:
            for r in g.runs:
                r.result["final"]["accuracy"] = r.result["final"]["score"]
        return " ".join(findings.custom_finding(summary))

    clear = finding(_fabricated(0.05, 0.005, 3))
    assert "the difference is established" in clear and "95% CI +0.0" in clear
    null = _fabricated(0.004, 0.02, 3, seed=3)
    text = finding(null)
    c = null.where(loss="b")[0].compare(null.where(loss="a")[0], "score")
    if c.mean < 0:
        c = null.where(loss="a")[0].compare(null.where(loss="b")[0], "score")
    assert not c.excludes_zero and "not distinguishable with 3 seeds" in text
    assert f"run --seeds {c.seeds}" in text or "equivalent" in text


def test_tables_with_one_seed_show_no_spread():
    runs = [Run(f"{loss}0", "fake", {"loss": loss}, 0, False, FAKE.run({"loss": loss}, 0, False))
            for loss in ("good", "bad")]
    summary = Summary.from_runs(runs)
    _, rows = ranked_rows(FAKE, summary)
    assert rows[0][2] == "0.900" and not any("±" in str(cell) for row in rows for cell in row)
    _, rows = paired_rows(FAKE, summary)
    assert rows == [["bad", "+0.300", "— (one seed)", "—", "—", "≥ 3"]]
