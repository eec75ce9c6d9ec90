"""The scenarios of ``almanac compare``, declared: what varies, how one run trains, what is measured.

>>> sorted(SCENARIOS)
['activations', 'calibration', 'gan', 'imbalance', 'label_noise', 'multilabel', 'outliers', 'segmentation']
>>> len(SCENARIOS["activations"].configs()), len(SCENARIOS["activations"].configs(quick=True))
(21, 10)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from almanac.errors import ConfigError, problem
from almanac.lab import findings, gan, supervised
from almanac.lab.scenario import Curve, Measure, Scenario

__all__ = ["SCENARIOS", "custom", "scenario"]

ACTIVATIONS = ("relu", "leaky_relu", "gelu", "silu", "mish", "tanh", "sigmoid")

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="activations",
            title="Activations × depth: convergence speed and gradient flow",
            question=f"MLPs of 2, 8 and 16 hidden layers (32 units) on moons with each activation, He-normal "
                     f"initialised (the same weights for every activation of a seed) and trained with SGD + momentum "
                     f"0.9, lr {supervised.ACTIVATIONS_LR} (Adam would rescale a vanishing gradient and hide it): "
                     f"epochs to {supervised.TARGET_ACCURACY:.0%} validation accuracy, final accuracy, and the "
                     "gradient norm of every layer at initialisation.",
            axes={"depth": (2, 8, 16), "activation": ACTIVATIONS},
            quick_axes={"depth": (2, 12), "activation": ("relu", "gelu", "silu", "tanh", "sigmoid")},
            run=supervised.run_activations,
            measures=(Measure("epochs_to_target", "epochs to target", higher_is_better=False, bounds=(1.0, math.inf)),
                      Measure.of_metric("accuracy", "val accuracy"),
                      Measure("grad_first", "first-layer grad norm at init", bounds=(0.0, math.inf)),
                      Measure("reached", "share of seeds reaching the target", bounds=(0.0, 1.0))),
            curves=(Curve("accuracy", "validation accuracy"),
                    Curve("grad_layer", "gradient norm at init", x_label="layer (input → output)", log_scale=True)),
            finding=findings.activations_finding,
            panel_axis="depth",
            quick_seeds=2,
            version=2,
        ),
        Scenario(
            name="imbalance",
            title="Losses for rare positives: what accuracy hides",
            question="An MLP on 'imbalanced' (20 features, about 3% positives) trained with cross-entropy, "
                     "class-weighted cross-entropy (pos_weight = negatives/positives) and focal loss (γ = 2); "
                     "accuracy, F1, balanced accuracy (threshold 0.5) and AUC-PR on the validation split.",
            axes={"loss": ("cross_entropy", "weighted", "focal")},
            run=supervised.run_imbalance,
            measures=(Measure.of_metric("f1", "F1"), Measure.of_metric("balanced_accuracy", "balanced accuracy"),
                      Measure.of_metric("average_precision", "AUC-PR"), Measure.of_metric("accuracy", "accuracy")),
            curves=(Curve("accuracy", "validation accuracy"), Curve("f1", "validation F1"),
                    Curve("average_precision", "validation AUC-PR")),
            finding=findings.imbalance_finding,
            seeds=5,
        ),
        Scenario(
            name="outliers",
            title="Regression losses against outliers",
            question="An MLP on 'outliers' (8% of the training targets are gross outliers, the validation targets "
                     "are clean) trained with MSE, MAE, Huber (δ = 1, in the target's units) and log-cosh; MAE and R² "
                     "on the clean validation split.",
            axes={"loss": ("mse", "mae", "huber", "log_cosh")},
            run=supervised.run_outliers,
            measures=(Measure.of_metric("mae", "clean-test MAE"), Measure.of_metric("r2", "clean-test R²")),
            curves=(Curve("mae", "clean-test MAE"), Curve("r2", "clean-test R²")),
            finding=findings.outliers_finding,
            seeds=5,
        ),
        Scenario(
            name="segmentation",
            title="Segmentation losses on small objects",
            question="A small U-Net on 32×32 noisy images (σ 0.6) with one or two faint discs of radius 1–2 (about 1% "
                     "of the pixels are foreground; 500 training, 200 validation images) trained for 8 epochs with "
                     "BCE, Dice, Jaccard and focal-Tversky (α 0.3, β 0.7); foreground IoU, Dice and recall at "
                     "threshold 0.5 on the validation images.",
            axes={"loss": ("binary_cross_entropy", "dice", "jaccard", "focal_tversky")},
            run=supervised.run_segmentation,
            measures=(Measure.of_metric("iou", "foreground IoU"), Measure.of_metric("dice", "foreground Dice"),
                      Measure.of_metric("recall", "foreground recall")),
            curves=(Curve("iou", "validation IoU"), Curve("recall", "validation foreground recall")),
            finding=findings.segmentation_finding,
            seeds=5,
            quick_seeds=2,
            version=3,
        ),
        Scenario(
            name="multilabel",
            title="Multi-label heads: softmax + cross-entropy vs sigmoid + BCE",
            question="An MLP on 2000 samples with 6 labels, about 3 per sample and over 80% with two or more "
                     "(make_multilabel_classification). softmax_ce: softmax over the labels, cross-entropy against "
                     "the labels as equal probabilities, a label predicted when its probability is above 1/6; "
                     "sigmoid_bce: one sigmoid per label, BCE, threshold 0.5. Macro F1, threshold-free macro AUC-PR, "
                     "and the macro F1 of each head's probabilities cut at 0.5 (the naive rule) on the validation "
                     "quarter.",
            axes={"head": ("softmax_ce", "sigmoid_bce")},
            run=supervised.run_multilabel,
            measures=(Measure.of_metric("f1", "macro F1", key="macro_f1"),
                      Measure.of_metric("average_precision", "macro AUC-PR", key="macro_ap"),
                      Measure.of_metric("f1", "macro F1, probabilities > 0.5", key="macro_f1_at_half")),
            curves=(Curve("macro_f1", "validation macro F1"), Curve("macro_ap", "validation macro AUC-PR")),
            finding=findings.multilabel_finding,
            seeds=5,
            version=3,
        ),
        Scenario(
            name="label_noise",
            title="Robust losses against label noise",
            question="An MLP (128, 128) on a 4-class problem (make_classification, 2000 training samples) whose "
                     "training labels are 40% wrong, each flipped to another class at random; the validation labels "
                     "are clean. Cross-entropy against MAE, symmetric cross-entropy (0.1 CE + reverse CE) and Huber "
                     "(δ 0.3), the last three on the softmax probabilities; clean accuracy and how many flipped "
                     "labels the model reproduces.",
            axes={"loss": ("cross_entropy", "mae", "symmetric_ce", "huber")},
            run=supervised.run_label_noise,
            measures=(Measure.of_metric("accuracy", "clean val accuracy"),
                      Measure.of_metric("accuracy", "best-epoch accuracy", key="best_accuracy"),
                      Measure("fit_noisy", "flipped labels reproduced", higher_is_better=False, bounds=(0.0, 1.0))),
            curves=(Curve("accuracy", "clean validation accuracy"), Curve("train_loss", "training loss")),
            finding=findings.label_noise_finding,
            seeds=5,  # 3 seeds lack the power once the best-of-3 claim is Holm-adjusted
        ),
        Scenario(
            name="calibration",
            title="Calibration across losses: log loss, ECE and reliability",
            question="An MLP (128, 128) trained for long on 400 samples of a 3-class problem with cross-entropy, "
                     "label smoothing 0.1, focal loss (γ 3) and the Brier score (MSE on the probabilities): "
                     "expected calibration error (15 bins, top class), log loss, accuracy and mean confidence on "
                     "1600 validation samples, and the reliability diagram (accuracy per confidence bin).",
            axes={"loss": ("cross_entropy", "label_smoothing", "focal", "brier")},
            run=supervised.run_calibration,
            measures=(Measure.of_metric("calibration_error", "ECE", key="ece"),
                      Measure.of_metric("log_loss", "log loss"),
                      Measure.of_metric("accuracy", "val accuracy"),
                      Measure("confidence", "mean confidence", bounds=(0.0, 1.0))),
            curves=(Curve("reliability", "accuracy per confidence bin (reliability diagram)", x_label="confidence",
                          diagonal=True),
                    Curve("bin_share", "share of samples per confidence bin", x_label="confidence"),
                    Curve("ece", "validation ECE")),
            finding=findings.calibration_finding,
            seeds=10,  # ECE varies much across seeds: 5 gave the Holm-adjusted claim too little power in 2 of 5 repeats
        ),
        Scenario(
            name="gan",
            title="GAN losses on a ring of 8 Gaussians: modes covered",
            question=f"Generator and critic MLPs (3×{gan.WIDTH} ReLU, Adam lr {gan.LR:g}, β (0.5, 0.9), {gan.STEPS} "
                     f"generator steps) on 8 Gaussians (σ = {gan.STD}) on a circle of radius 2. bce: discriminator "
                     "BCE, non-saturating generator loss, 1 discriminator step per generator step; wgan_gp: "
                     f"Wasserstein critic + gradient penalty ({gan.PENALTY}), 5 critic steps. Headline: the "
                     f"effective number of modes, exp(entropy) of how the samples within {gan.NEAR} of a centre "
                     f"share out over the 8 modes (8: evenly spread, 1: collapsed), mean of the last {gan.TAIL} "
                     "evaluations; also the "
                     f"modes holding ≥ {gan.MIN_SAMPLES} of {gan.EVAL_SAMPLES} samples, and the sharpness: modes "
                     "and share of samples within 3σ.",
            axes={"loss": ("bce", "wgan_gp")},
            run=gan.train_gan,
            measures=(Measure("effective", "effective modes (of 8)", bounds=(0.0, 8.0)),
                      Measure("reached", f"modes reached (≥ {gan.MIN_SAMPLES} samples)", bounds=(0.0, 8.0)),
                      Measure("modes", "modes covered within 3σ", bounds=(0.0, 8.0)),
                      Measure("quality", "share within 3σ", bounds=(0.0, 1.0))),
            curves=(Curve("effective", "effective modes", x_label="generator step"),
                    Curve("quality", "share of samples within 3σ", x_label="generator step")),
            finding=findings.gan_finding,
            quick_seeds=1,
            version=2,
        ),
    )
}


def scenario(name: str) -> Scenario:
    """The scenario called ``name`` (ConfigError listing them otherwise)."""
    if name not in SCENARIOS:
        raise problem(ConfigError, "SCENARIO", f"to be one of {', '.join(SCENARIOS)}", repr(name),
                      "pick one of these, or run a custom sweep with --dataset")
    return SCENARIOS[name]


def custom(dataset: str | None, activations: Sequence[str] = ("relu",), losses: Sequence[str] = (),
           metrics: Sequence[str] = (), *, csv: str | None = None, target: str | None = None) -> Scenario:
    """A sweep of ``activations`` × ``losses`` on ``dataset`` — or on the user's CSV file ``csv`` predicting the
    column(s) ``target``, as ``almanac train --csv FILE --target COL`` reads it — measuring ``metrics``, each run
    built as ``almanac train`` builds it. Empty ``losses`` or ``metrics`` mean the trainer's defaults for the task.

    Its name is ``custom_<dataset>`` (``custom_<file stem>`` for a CSV); the metrics, and for a CSV the file's
    content hash, are part of each configuration, so two sweeps that measure different metrics, or a file that
    changed, do not share runs.

    >>> sweep = custom("moons", ["relu", "tanh"])
    >>> [(c["activation"], c["loss"]) for c in sweep.configs()], sweep.fixed["metrics"][0]
    ([('relu', 'binary_cross_entropy'), ('tanh', 'binary_cross_entropy')], 'accuracy')
    """
    import hashlib
    from pathlib import Path

    from almanac import activations as activation_catalog
    from almanac import losses as loss_catalog
    from almanac import metrics as metric_catalog
    from almanac.registry import normalize_name
    from almanac.train.data import DATASETS, load_csv
    from almanac.train.job import DEFAULT_LOSS, DEFAULT_METRICS

    if (dataset is None) == (csv is None):
        raise problem(ConfigError, "--dataset / --csv", "exactly one of them", "both" if csv else "neither",
                      "pass --dataset NAME, or --csv FILE --target COLUMN")
    if csv is not None:
        if not target:
            raise problem(ConfigError, "--target", "with --csv", "none", "pass --target COLUMN")
        path = Path(csv).resolve()
        if not path.is_file():
            raise problem(ConfigError, "--csv", "to be a CSV file", repr(csv), "check the path")
        task = load_csv(path, target).task  # reads and checks the file now, before any run
        name, source = path.stem, f"{path.name} (target {target})"
        fixed = {"csv": str(path), "target": target, "csv_sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16]}
    else:
        dataset = normalize_name(dataset)
        if dataset not in DATASETS:
            raise problem(ConfigError, "--dataset", f"to be one of {', '.join(DATASETS)}", repr(dataset),
                          "pick one of these")
        task, name, source, fixed = DATASETS[dataset][0], dataset, dataset, {"dataset": dataset}
    if not activations:
        raise problem(ConfigError, "--activations", "at least one name", "none", "pass for example relu,tanh")
    activations = tuple(activation_catalog.spec(a).name for a in activations)
    losses = tuple(loss_catalog.spec(lo).name for lo in losses) or (DEFAULT_LOSS[task],)
    metric_specs = [metric_catalog.spec(m) for m in (metrics or DEFAULT_METRICS[task])]
    return Scenario(
        name=f"custom_{name}",
        title=f"Custom sweep on {source}",
        question=f"The model almanac train builds for {source} ({task}), for each activation × loss; "
                 f"{', '.join(s.name for s in metric_specs)} on the validation split.",
        axes={"activation": activations, "loss": losses},
        fixed={**fixed, "metrics": [s.name for s in metric_specs]},
        run=supervised.run_custom,
        measures=tuple(Measure.of_metric(s.name, s.name) for s in metric_specs),
        curves=tuple(Curve(s.name, f"validation {s.name}") for s in metric_specs),
        finding=findings.custom_finding,
    )
