"""The scenarios of ``almanac compare``, declared: what varies, how one run trains, what is measured.

>>> sorted(SCENARIOS)
['activations', 'gan', 'imbalance', 'multilabel', 'outliers', 'segmentation']
>>> len(SCENARIOS["activations"].configs()), len(SCENARIOS["activations"].configs(quick=True))
(21, 14)
"""

from __future__ import annotations

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
            question=f"MLPs of 2, 6 and 10 hidden layers (32 units, Adam, lr 3e-3) on moons with each activation: "
                     f"epochs to {supervised.TARGET_ACCURACY:.0%} validation accuracy, final accuracy, and the norm "
                     "of the first layer's gradient at initialisation.",
            axes={"depth": (2, 6, 10), "activation": ACTIVATIONS},
            quick_axes={"depth": (2, 8), "activation": ACTIVATIONS},
            run=supervised.run_activations,
            measures=(Measure("epochs_to_target", "epochs to target", higher_is_better=False),
                      Measure("accuracy", "val accuracy"),
                      Measure("grad_first", "first-layer grad norm at init"),
                      Measure("reached", "share of seeds reaching the target")),
            curves=(Curve("accuracy", "validation accuracy"),),
            finding=findings.activations_finding,
            panel_axis="depth",
            quick_seeds=1,
        ),
        Scenario(
            name="imbalance",
            title="Losses for rare positives: what accuracy hides",
            question="An MLP on 'imbalanced' (20 features, about 3% positives) trained with cross-entropy, "
                     "class-weighted cross-entropy (pos_weight = negatives/positives) and focal loss (γ = 2); "
                     "accuracy, F1, balanced accuracy (threshold 0.5) and AUC-PR on the validation split.",
            axes={"loss": ("cross_entropy", "weighted", "focal")},
            run=supervised.run_imbalance,
            measures=(Measure("f1", "F1"), Measure("balanced_accuracy", "balanced accuracy"),
                      Measure("average_precision", "AUC-PR"), Measure("accuracy", "accuracy")),
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
            measures=(Measure("mae", "clean-test MAE", higher_is_better=False), Measure("r2", "clean-test R²")),
            curves=(Curve("mae", "clean-test MAE"), Curve("r2", "clean-test R²")),
            finding=findings.outliers_finding,
            seeds=5,
        ),
        Scenario(
            name="segmentation",
            title="Segmentation losses on small objects",
            question="A small U-Net on 'shapes' (24×24 noisy images with 1-3 small squares and discs; foreground "
                     "vs background) trained with BCE, Dice, Jaccard and focal-Tversky (α 0.3, β 0.7); foreground "
                     "IoU and Dice on the validation images.",
            axes={"loss": ("binary_cross_entropy", "dice", "jaccard", "focal_tversky")},
            run=supervised.run_segmentation,
            measures=(Measure("iou", "foreground IoU"), Measure("dice", "foreground Dice")),
            curves=(Curve("iou", "validation IoU"),),
            finding=findings.segmentation_finding,
            quick_seeds=1,
        ),
        Scenario(
            name="multilabel",
            title="Multi-label heads: softmax + cross-entropy vs sigmoid + BCE",
            question="An MLP on 'multilabel' (5 labels, about 2 per sample). softmax_ce: softmax over the labels, "
                     "cross-entropy against the labels as equal probabilities, a label predicted when its "
                     "probability is above 1/5; sigmoid_bce: one sigmoid per label, BCE, threshold 0.5. Macro F1, "
                     "threshold-free macro AUC-PR, and the macro F1 of each head's probabilities cut at 0.5 (the "
                     "naive rule) on the validation split.",
            axes={"head": ("softmax_ce", "sigmoid_bce")},
            run=supervised.run_multilabel,
            measures=(Measure("macro_f1", "macro F1"), Measure("macro_ap", "macro AUC-PR"),
                      Measure("macro_f1_at_half", "macro F1, probabilities > 0.5")),
            curves=(Curve("macro_f1", "validation macro F1"), Curve("macro_ap", "validation macro AUC-PR")),
            finding=findings.multilabel_finding,
            seeds=5,
            version=2,
        ),
        Scenario(
            name="gan",
            title="GAN losses on a ring of 8 Gaussians: modes covered",
            question=f"Generator and critic MLPs (3×128 ReLU, Adam lr 1e-3) on 8 Gaussians (σ = {gan.STD}) on a "
                     "circle of radius 2. bce: discriminator BCE, non-saturating generator loss, 1 discriminator "
                     "step per generator step; wgan_gp: Wasserstein critic + gradient penalty (10), 5 critic steps. "
                     f"A mode is covered when ≥ {gan.MIN_SAMPLES} of {gan.EVAL_SAMPLES} samples fall within 3σ.",
            axes={"loss": ("bce", "wgan_gp")},
            run=gan.train_gan,
            measures=(Measure("modes", "modes covered (of 8)"), Measure("quality", "share within 3σ"),
                      Measure("best_modes", "most modes during training")),
            curves=(Curve("modes", "modes covered", x_label="generator step"),
                    Curve("quality", "share of samples within 3σ", x_label="generator step")),
            finding=findings.gan_finding,
            quick_seeds=1,
        ),
    )
}


def scenario(name: str) -> Scenario:
    """The scenario called ``name`` (ConfigError listing them otherwise)."""
    if name not in SCENARIOS:
        raise problem(ConfigError, "SCENARIO", f"to be one of {', '.join(SCENARIOS)}", repr(name),
                      "pick one of these, or run a custom sweep with --dataset")
    return SCENARIOS[name]


def custom(dataset: str, activations: Sequence[str] = ("relu",), losses: Sequence[str] = (),
           metrics: Sequence[str] = ()) -> Scenario:
    """A sweep of ``activations`` × ``losses`` on ``dataset``, measuring ``metrics``, each run built as
    ``almanac train`` builds it. Empty ``losses`` or ``metrics`` mean the trainer's defaults for the dataset's task.

    Its name is ``custom_<dataset>``; the metrics are part of each configuration, so two sweeps that measure
    different metrics do not share runs.

    >>> sweep = custom("moons", ["relu", "tanh"])
    >>> [(c["activation"], c["loss"]) for c in sweep.configs()], sweep.fixed["metrics"][0]
    ([('relu', 'binary_cross_entropy'), ('tanh', 'binary_cross_entropy')], 'accuracy')
    """
    from almanac import activations as activation_catalog
    from almanac import losses as loss_catalog
    from almanac import metrics as metric_catalog
    from almanac.registry import normalize_name
    from almanac.train.data import DATASETS
    from almanac.train.job import DEFAULT_LOSS, DEFAULT_METRICS

    dataset = normalize_name(dataset)
    if dataset not in DATASETS:
        raise problem(ConfigError, "--dataset", f"to be one of {', '.join(DATASETS)}", repr(dataset),
                      "pick one of these")
    task = DATASETS[dataset][0]
    if not activations:
        raise problem(ConfigError, "--activations", "at least one name", "none", "pass for example relu,tanh")
    activations = tuple(activation_catalog.spec(a).name for a in activations)
    losses = tuple(loss_catalog.spec(lo).name for lo in losses) or (DEFAULT_LOSS[task],)
    metric_specs = [metric_catalog.spec(m) for m in (metrics or DEFAULT_METRICS[task])]
    return Scenario(
        name=f"custom_{dataset}",
        title=f"Custom sweep on {dataset}",
        question=f"The model almanac train builds for {dataset} ({task}), for each activation × loss; "
                 f"{', '.join(s.name for s in metric_specs)} on the validation split.",
        axes={"activation": activations, "loss": losses},
        fixed={"dataset": dataset, "metrics": [s.name for s in metric_specs]},
        run=supervised.run_custom,
        measures=tuple(Measure(s.name, s.name, s.higher_is_better) for s in metric_specs),
        curves=tuple(Curve(s.name, f"validation {s.name}") for s in metric_specs),
        finding=findings.custom_finding,
    )
