"""The lab's statistics against hand-checked SciPy values, and findings on fabricated results."""

import math

import numpy as np
import pytest
from lab_fakes import FAKE
from scipy import stats as sp

from almanac.lab import findings
from almanac.lab.report import paired_rows, ranked_rows
from almanac.lab.scenario import Measure
from almanac.lab.stats import adjust, holm, interval, paired, seeds_needed
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
    assert rows == [["bad", "+0.300", "— (one seed)", "—", "—", "—", "≥ 3"]]


def test_a_bounded_measure_keeps_its_interval_inside_its_range():
    values = [0.99, 1.0, 0.97]  # t-interval 0.9867 ± 0.038: past 1
    assert interval(values).high > 1
    clipped = interval(values, bounds=(0.0, 1.0))
    assert clipped.high == 1.0 and clipped.low == pytest.approx(interval(values).low) and clipped.text().endswith(
        ", 1.000]")
    assert interval([0.01, 0.0, 0.03], bounds=(0.0, 1.0)).low == 0.0
    # the range comes from the metric's spec: F1 in [0, 1], R² in (−∞, 1], MAE in [0, ∞)
    assert Measure.of_metric("f1", "F1").bounds == (0.0, 1.0)
    assert Measure.of_metric("r2", "R²").bounds == (-math.inf, 1.0)
    mae = Measure.of_metric("mae", "MAE")
    assert mae.bounds == (0.0, math.inf) and not mae.higher_is_better
    # a summary built with the scenario's bounds clips its table cells and its findings
    runs = [Run(f"{s}", "fake", {"loss": "a"}, s, False, {"final": {"r2": v}, "curves": {}})
            for s, v in enumerate(values)]
    group = Summary.from_runs(runs, bounds={"r2": Measure.of_metric("r2", "R²").bounds}).groups[0]
    assert group.interval("r2").high == 1.0 and Summary.from_runs(runs).groups[0].interval("r2").high > 1
    # the difference of two [0, 1] measures stays within ±1
    wide = paired([0.9, 0.1], [0.0, 0.8], bounds=(0.0, 1.0))
    assert (wide.low, wide.high) == (-1.0, 1.0)
    assert paired([0.9, 0.1], [0.0, 0.8]).low < -1


def _holm_by_closed_testing(p):
    """Holm's adjusted p as the closed test of Bonferroni-tested intersections: the largest, over every subset S
    holding i, of min(1, |S| · min p over S) — the definition, by brute force."""
    import itertools

    m = len(p)
    return [max(min(1.0, len(s) * min(p[j] for j in s)) for r in range(1, m + 1)
                for s in itertools.combinations(range(m), r) if i in s) for i in range(m)]


@pytest.mark.parametrize("p", [[0.01, 0.04, 0.03], [0.001, 0.2, 0.011, 0.04, 0.5], [0.3, 0.3], [0.02], [0.04, 0.04]])
def test_holm_is_the_closed_bonferroni_test(p):
    assert holm(p) == pytest.approx(_holm_by_closed_testing(p))
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    assert holm(p) == pytest.approx(multitest.multipletests(p, method="holm")[1])


def test_holm_leaves_one_seed_comparisons_out():
    assert holm([0.01, math.nan, 0.02]) == pytest.approx([0.02, math.nan, 0.02], nan_ok=True)


def test_a_family_of_comparisons_is_judged_by_holm():
    # three candidates against one baseline, 3 seeds each: raw p 0.006, 0.034 and 0.23
    base = [0.70, 0.72, 0.74]
    a, b, c = [0.74, 0.77, 0.78], [0.75, 0.75, 0.80], [0.70, 0.73, 0.76]
    raw = [paired(x, base) for x in (a, b, c)]
    assert raw[1].better and raw[1].p_value < 0.05  # alone, b beats the baseline
    family = adjust(raw)
    assert [f.p for f in family] == pytest.approx(holm([r.p_value for r in raw]))
    assert all(f.comparisons == 3 for f in family)
    assert family[1].p >= 0.05 and not family[1].better  # but not once three comparisons were made
    assert "Holm-adjusted for 3 comparisons" in family[1].text() and "α = 0.05/3" in family[1].advice()
    assert adjust(raw[:1]) == raw[:1]  # a family of one is left as is


def test_a_finding_picking_the_best_of_several_corrects_for_all_of_them():
    def runs(values):
        return [Run(f"{loss}{s}", "outliers", {"loss": loss}, s, False, {"final": {"mae": v, "r2": 0.9},
                                                                          "curves": {}})
                for loss, per_seed in values.items() for s, v in enumerate(per_seed)]

    # huber alone beats MSE at 5% (p 0.034) but not once MAE's comparison is counted too (Holm p 0.068)
    data = {"mse": [1.30, 1.28, 1.26], "mae": [1.30, 1.27, 1.27], "huber": [1.25, 1.25, 1.20]}
    huber, mse = (Summary.from_runs(runs(data)).where(loss=n)[0] for n in ("huber", "mse"))
    assert huber.compare(mse, "mae", False).better
    text = " ".join(findings.outliers_finding(Summary.from_runs(runs(data))))
    assert "Expected effect not distinguishable with 3 seeds" in text and "Holm-adjusted for 2 comparisons" in text
