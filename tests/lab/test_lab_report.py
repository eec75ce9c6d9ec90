"""Summaries, findings written from the numbers, and the report files."""

import math

import pytest
from lab_fakes import FAKE

from almanac.lab import findings
from almanac.lab.report import ranked_rows, write_report
from almanac.lab.store import Run
from almanac.lab.summary import Summary


def _runs(scenario, table):
    """Runs from {config value: [final dict per seed]} on the scenario's first axis."""
    axis = next(iter(scenario.axes)) if hasattr(scenario, "axes") else scenario
    return [Run(f"{value}-{seed}", "s", {axis: value}, seed, False, {"final": final, "curves": {}})
            for value, finals in table.items() for seed, final in enumerate(finals)]


def test_summary_mean_std_and_curves():
    runs = [Run(str(s), "s", {"loss": "a"}, s, False, {"final": {"m": v}, "curves": {"m": [0.0, v, v]}})
            for s, v in enumerate([1.0, 3.0])]
    group = Summary.from_runs(runs).groups[0]
    assert group.mean("m") == 2.0 and math.isclose(group.std("m"), math.sqrt(2))
    x, mean, std = group.curve("m")
    assert list(x) == [1, 2, 3] and list(mean) == [0, 2, 2] and math.isclose(std[1], math.sqrt(2))
    assert math.isnan(group.mean("missing"))


def test_ranked_table_follows_the_primary_measure():
    runs = [Run(f"{loss}{s}", "fake", {"loss": loss}, s, False, FAKE.run({"loss": loss}, s, False))
            for loss in ("bad", "good") for s in range(2)]
    columns, rows = ranked_rows(FAKE, Summary.from_runs(runs))
    assert columns == ["rank", "configuration", "score", "cost", "seeds"]
    assert [r[1] for r in rows] == ["good", "bad"] and rows[0][2] == "0.905 [0.841, 0.969]"  # t(0.975, 1) = 12.706


def _imbalance(acc, bal):
    base = {"f1": 0.5, "average_precision": 0.6, "majority_accuracy": 0.97}
    return {loss: [{**base, "accuracy": a + d, "balanced_accuracy": b + d} for d in (-0.002, 0.002)]
            for loss, a, b in zip(("cross_entropy", "weighted", "focal"), acc, bal)}


def test_imbalance_finding_quotes_the_numbers_and_says_when_the_effect_shows():
    shows = findings.imbalance_finding(Summary.from_runs(_runs("loss", _imbalance((0.975, 0.93, 0.97),
                                                                                   (0.55, 0.85, 0.7)))))
    text = " ".join(shows)
    assert "Expected effect shows" in text and "ranks cross_entropy first" in text and "weighted first" in text
    assert "accuracy 0.975 [0.950, 1.000]" in text and "0.970" in text  # measured values and the majority baseline
    assert "balanced accuracy, weighted − cross_entropy: +0.300 (95% CI +0.300 to +0.300" in text
    flat = findings.imbalance_finding(Summary.from_runs(_runs("loss", _imbalance((0.90, 0.93, 0.96),
                                                                                  (0.70, 0.73, 0.76)))))
    assert not any(line.startswith("Expected effect") for line in flat)  # both rank focal first: nothing to judge
    assert "Accuracy and balanced accuracy both rank focal first" in " ".join(flat)


def test_outliers_and_gan_findings_judge_by_the_paired_interval():
    close = {"mse": [{"mae": 1.0, "r2": 0.9}, {"mae": 1.2, "r2": 0.9}, {"mae": 1.1, "r2": 0.9}],
             "huber": [{"mae": 0.95, "r2": 0.9}, {"mae": 1.22, "r2": 0.9}, {"mae": 1.05, "r2": 0.9}]}
    verdict = findings.outliers_finding(Summary.from_runs(_runs("loss", close)))[-2]
    assert verdict.startswith("Expected effect not distinguishable with 3 seeds") and "run --seeds" in verdict
    apart = {"mse": [{"mae": 2.0, "r2": 0.5}, {"mae": 2.1, "r2": 0.5}],
             "huber": [{"mae": 1.0, "r2": 0.9}, {"mae": 1.1, "r2": 0.9}]}
    assert "huber cut the clean-test MAE from 2.050 (MSE) to 1.050" in " ".join(
        findings.outliers_finding(Summary.from_runs(_runs("loss", apart))))
    gan = {"bce": [{"effective": e, "best_effective": e + 0.3, "reached": 2, "modes": 1, "quality": 0.05}
                   for e in (1.5, 2.1, 1.2)],
           "wgan_gp": [{"effective": e, "best_effective": 8.0, "reached": 8, "modes": 3, "quality": 0.2}
                       for e in (7.9, 7.6, 7.95)]}
    text = " ".join(findings.gan_finding(Summary.from_runs(_runs("loss", gan))))
    assert "Expected effect shows: WGAN-GP spread its samples over 7.8 effective modes against 1.6" in text
    assert "mode collapse" in text and "understates its coverage" in text
    gan["wgan_gp"][1] = {**gan["wgan_gp"][1], "effective": 1.4}  # one seed that had not settled: no claim
    text = " ".join(findings.gan_finding(Summary.from_runs(_runs("loss", gan))))
    assert "Expected effect not distinguishable with 3 seeds" in text


def test_one_seed_is_flagged():
    one = {"mse": [{"mae": 2.0, "r2": 0.5}], "mae": [{"mae": 1.0, "r2": 0.9}]}
    assert "one seed" in findings.outliers_finding(Summary.from_runs(_runs("loss", one)))[-1]


def test_report_writes_html_and_pngs(tmp_path):
    runs = [Run(f"{loss}{s}", "fake", {"loss": loss}, s, False, FAKE.run({"loss": loss}, s, False))
            for loss in ("good", "bad") for s in range(2)]
    summary = Summary.from_runs(runs, order=FAKE.configs())
    path = write_report(FAKE, runs, summary, FAKE.finding(summary), tmp_path / "fake")
    page = path.read_text()
    assert path.name == "report.html" and "good scored 0.905" in page and "0.905 [0.841, 0.969]" in page
    assert "paired t" in page and "[+0.300, +0.300]" in page  # good − bad, paired by seed
    assert (tmp_path / "fake" / "curves_score.png").read_bytes()[:4] == b"\x89PNG"
    assert page.count("data:image/png;base64") == 1


def _curved(loss, accuracy, f1, seeds=2):
    final = {"accuracy": accuracy[-1], "f1": f1[-1], "balanced_accuracy": 0.7, "average_precision": 0.6,
             "majority_accuracy": 0.97}
    return [Run(f"{loss}{s}", "imbalance", {"loss": loss}, s, False,
                {"final": final, "curves": {"accuracy": accuracy, "f1": f1}}) for s in range(seeds)]


def test_imbalance_finding_reads_the_epochs_where_accuracy_hides_a_useless_model():
    runs = [*_curved("cross_entropy", [0.97, 0.975, 0.98], [0.0, 0.01, 0.6]),
            *_curved("weighted", [0.90, 0.93, 0.95], [0.3, 0.4, 0.5])]
    text = " ".join(findings.imbalance_finding(Summary.from_runs(runs)))
    assert "At epoch 2, cross_entropy found almost no positive" in text
    assert "accuracy was 0.975" in text


def test_multilabel_finding_compares_the_naive_cut():
    heads = {"softmax_ce": [{"macro_f1": 0.64, "macro_ap": 0.73, "macro_f1_at_half": 0.40}] * 2,
             "sigmoid_bce": [{"macro_f1": 0.66, "macro_ap": 0.72, "macro_f1_at_half": 0.66}] * 2}
    text = " ".join(findings.multilabel_finding(Summary.from_runs(_runs("head", heads))))
    assert "softmax probabilities give macro F1 0.400 [0.400, 0.400] against 0.660 [0.660, 0.660]" in text
    assert "so few reach 0.5" in text


def test_activations_finding_compares_depths_and_gradients():
    noise = (0, 2, -1)

    def runs(act, depth, epochs, grad, accuracy):
        final = {"reached": float(epochs <= 30), "grad_first": grad, "grad_ratio": grad * 10, "accuracy": accuracy}
        return [Run(f"{act}{depth}{s}", "activations", {"depth": depth, "activation": act}, s, False,
                    {"final": {**final, "epochs_to_target": epochs + n}, "curves": {}}) for s, n in enumerate(noise)]

    grid = [*runs("relu", 2, 8, 1e-2, 0.95), *runs("relu", 10, 6, 1e-4, 0.95), *runs("gelu", 10, 7, 1e-4, 0.95),
            *runs("silu", 10, 9, 1e-4, 0.95), *runs("sigmoid", 2, 20, 1e-2, 0.9), *runs("sigmoid", 10, 31, 1e-9, 0.5),
            *runs("tanh", 2, 8, 1e-2, 0.95), *runs("tanh", 10, 9, 1e-3, 0.95)]
    text = " ".join(findings.activations_finding(Summary.from_runs(grid)))
    assert "Expected effect shows: at depth 10, sigmoid trained slower than every one of relu, gelu, silu" in text
    assert "sigmoid − silu (the least clear of relu, gelu, silu): +22.000 (95% CI +22.000 to +22.000" in text
    assert "from 1.00e-02 at depth 2 to 1.00e-09 at depth 10 (÷1e+07)" in text
    assert "tanh at depth 10: tanh − silu epochs to the target +0.000" in text and "also slower" not in text
    one_seed = [r for r in grid if r.seed == 0]
    text = " ".join(findings.activations_finding(Summary.from_runs(one_seed)))
    assert "Expected effect" not in text and "no effect is claimed" in text and "±" not in text


def _seeded(axis, table, noise=(0.0, 0.004, -0.003)):
    """Runs over three seeds from {config value: final dict}; every value moves by the seed's shared noise."""
    return Summary.from_runs([Run(f"{value}-{s}", "s", {axis: value}, s, False,
                                  {"final": {k: v + n for k, v in final.items()}, "curves": {}})
                              for value, final in table.items() for s, n in enumerate(noise)])


def test_label_noise_finding_names_the_robust_loss_with_its_interval():
    base = {"best_accuracy": 0.95, "fit_noisy": 0.1}
    summary = _seeded("loss", {"cross_entropy": {**base, "accuracy": 0.87}, "mae": {**base, "accuracy": 0.94},
                               "symmetric_ce": {**base, "accuracy": 0.93}})
    text = " ".join(findings.label_noise_finding(summary))
    assert "Expected effect shows: mae kept a clean accuracy of 0.940 against 0.870" in text
    assert "clean accuracy, mae − cross_entropy: +0.070 (95% CI +0.070 to +0.070" in text


def test_calibration_finding_judges_ece_lower_is_better():
    summary = _seeded("loss", {"cross_entropy": {"ece": 0.11, "log_loss": 0.69, "accuracy": 0.82, "confidence": 0.93},
                               "focal": {"ece": 0.03, "log_loss": 0.48, "accuracy": 0.81, "confidence": 0.82},
                               "brier": {"ece": 0.09, "log_loss": 0.55, "accuracy": 0.82, "confidence": 0.90}})
    text = " ".join(findings.calibration_finding(summary))
    assert "Expected effect shows: focal cut the expected calibration error from 0.110 (cross-entropy) to 0.030" in text
    assert "ECE, cross_entropy − focal: +0.080" in text and "(confidence − accuracy +0.110)" in text
    worse = _seeded("loss", {"cross_entropy": {"ece": 0.03, "log_loss": 0.5, "accuracy": 0.8, "confidence": 0.8},
                             "focal": {"ece": 0.05, "log_loss": 0.5, "accuracy": 0.8, "confidence": 0.8}})
    assert "Expected effect did not show — the opposite did" in " ".join(findings.calibration_finding(worse))


def test_reliability_bins_by_hand():
    import torch

    from almanac.lab.supervised import reliability

    probabilities = torch.tensor([[0.95, 0.05], [0.92, 0.08], [0.3, 0.7], [0.45, 0.55]])
    centres, accuracy, share = reliability(probabilities, torch.tensor([0, 1, 1, 0]), bins=5)
    assert centres == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9])
    assert accuracy[4] == 0.5 and accuracy[3] == 1.0 and accuracy[2] == 0.0 and math.isnan(accuracy[0])
    assert share == pytest.approx([0, 0, 0.25, 0.25, 0.5])


def test_segmentation_finding_explains_a_bimodal_bce():
    runs = [Run(f"{loss}{s}", "segmentation", {"loss": loss}, s, False,
                {"final": {"iou": iou, "dice": iou, "recall": iou, "foreground": 0.01}, "curves": {}})
            for loss, ious in (("binary_cross_entropy", (0.0, 0.0, 0.45)), ("dice", (0.5, 0.52, 0.5)))
            for s, iou in enumerate(ious)]
    text = " ".join(findings.segmentation_finding(Summary.from_runs(runs)))
    assert "Expected effect not distinguishable with 3 seeds: foreground IoU, dice − BCE" in text
    assert "no foreground at all (IoU below 0.01) in 2 of 3 seeds" in text and "run --seeds" in text
