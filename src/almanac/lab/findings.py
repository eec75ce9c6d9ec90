"""The finding of each scenario, written from the measured numbers.

Every sentence quotes means ± standard deviations across seeds from the :class:`~almanac.lab.summary.Summary`;
whether the effect the scenario is about shows is decided by comparing those numbers (a difference counts only when
it is larger than the two spreads added), and a finding says plainly when it does not show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from almanac.lab.summary import Group, Summary

__all__ = [
    "activations_finding",
    "custom_finding",
    "gan_finding",
    "imbalance_finding",
    "multilabel_finding",
    "outliers_finding",
    "segmentation_finding",
]

SATURATING = ("sigmoid", "tanh")


def _ms(group: Group | None, measure: str, digits: int = 3) -> str:
    if group is None:
        return "not measured"
    mean, std = group.mean(measure), group.std(measure)
    if math.isnan(mean):
        return "not measured"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _clearly(a: Group, b: Group, measure: str, higher_is_better: bool = True) -> bool:
    """True when ``a`` beats ``b`` on ``measure`` by more than their two spreads across seeds added."""
    diff = a.mean(measure) - b.mean(measure)
    if not higher_is_better:
        diff = -diff
    return diff > a.std(measure) + b.std(measure)


def _one(summary: Summary, **values: object) -> Group | None:
    found = summary.where(**values)
    return found[0] if found else None


def _seeds_note(summary: Summary) -> str:
    counts = sorted({len(g.runs) for g in summary.groups})
    if counts == [1]:
        return ("With one seed per configuration there is no spread to judge the differences by; run with "
                "--seeds 3 or more before trusting them.")
    return ""


def _verdict(summary: Summary, shows: bool) -> str:
    """The opening of a verdict sentence; with one seed per configuration it claims nothing."""
    if all(len(g.runs) < 2 for g in summary.groups):
        return "With one seed the effect cannot be judged; it looks as expected: " if shows else (
            "With one seed the effect cannot be judged; the expected effect does not appear: ")
    return "Expected effect shows: " if shows else "Expected effect did not show: "


def _spread(groups: Sequence[Group], measure: str) -> tuple[float, Group, Group]:
    """(best − worst mean, best group, worst group) of ``measure`` (higher is better)."""
    ranked = sorted(groups, key=lambda g: g.mean(measure))
    return ranked[-1].mean(measure) - ranked[0].mean(measure), ranked[-1], ranked[0]


def activations_finding(summary: Summary) -> list[str]:
    """Depth × activation: epochs to the target accuracy, final accuracy and the first layer's gradient."""
    depths = sorted({g.config["depth"] for g in summary.groups})
    lines = []
    for depth in depths:
        groups = summary.where(depth=depth)
        fastest = min(groups, key=lambda g: g.mean("epochs_to_target"))
        slowest = max(groups, key=lambda g: g.mean("epochs_to_target"))
        best = max(groups, key=lambda g: g.mean("accuracy"))
        missed = [f"{g.config['activation']} ({sum(g.values('reached') < 1)}/{len(g.runs)} seeds)" for g in groups
                  if g.mean("reached") < 1]
        lines.append(
            f"Depth {depth}: {fastest.config['activation']} reached the target accuracy fastest "
            f"({_ms(fastest, 'epochs_to_target', 1)} epochs), {slowest.config['activation']} slowest "
            f"({_ms(slowest, 'epochs_to_target', 1)}); the best final accuracy was {best.config['activation']}'s "
            f"({_ms(best, 'accuracy')})."
            + (f" Never reached the target (counted as epochs + 1): {', '.join(missed)}." if missed else "")
        )
    shallow, deep = depths[0], depths[-1]
    saturating = [a for a in SATURATING if _one(summary, depth=deep, activation=a)]
    others = [g for g in summary.where(depth=deep) if g.config["activation"] not in SATURATING]
    if shallow == deep or not saturating or not others:
        lines.append("The grid lacks a depth range or a saturating and a non-saturating activation, so the "
                     "vanishing-gradient effect cannot be judged here.")
        return lines
    for name in saturating:
        lo, hi = _one(summary, depth=shallow, activation=name), _one(summary, depth=deep, activation=name)
        if lo is None or hi is None:
            continue
        drop = lo.mean("grad_first") / max(hi.mean("grad_first"), 1e-30)
        lines.append(f"{name}: the first layer's gradient norm at initialisation went from "
                     f"{lo.mean('grad_first'):.2e} at depth {shallow} to {hi.mean('grad_first'):.2e} at depth "
                     f"{deep} (÷{drop:.3g}); its final accuracy from {_ms(lo, 'accuracy')} to {_ms(hi, 'accuracy')}.")
    drops = {g.config["activation"]: g.mean("grad_first") / max(hi.mean("grad_first"), 1e-30)
             for g in summary.where(depth=shallow) if g.config["activation"] not in SATURATING
             for hi in summary.where(depth=deep, activation=g.config["activation"])}
    if drops:
        lines.append("Among the non-saturating activations the same gradient fell between ÷"
                     f"{min(drops.values()):.3g} ({min(drops, key=drops.get)}) and ÷{max(drops.values()):.3g} "
                     f"({max(drops, key=drops.get)}) from depth {shallow} to {deep}.")
    # the reference is the slowest non-saturating activation: "slower" must hold against every one of them
    reference = max(others, key=lambda g: g.mean("epochs_to_target"))
    slowed = [n for n in saturating
              if _clearly(reference, _one(summary, depth=deep, activation=n), "epochs_to_target", False)]
    worst = max((_one(summary, depth=deep, activation=n) for n in saturating), key=lambda g: g.mean("epochs_to_target"))
    compared = (f"{worst.config['activation']} {_ms(worst, 'epochs_to_target', 1)} epochs to the target against "
                f"{_ms(reference, 'epochs_to_target', 1)} for {reference.config['activation']}, the slowest "
                "non-saturating activation")
    if slowed:
        lines.append(_verdict(summary, True) + f"at depth {deep}, {', '.join(slowed)} trained slower than every "
                     f"non-saturating activation ({compared}) — saturating activations slow deep nets.")
    else:
        lines.append(_verdict(summary, False) + f"at depth {deep}, the saturating activations were not clearly "
                     f"slower than every non-saturating one ({compared}).")
    return [*lines, _seeds_note(summary)]


def imbalance_finding(summary: Summary) -> list[str]:
    """Losses for rare positives: how far accuracy moved against F1, balanced accuracy and AUC-PR."""
    groups = summary.groups
    majority = groups[0].mean("majority_accuracy")
    lines = [f"{g.config['loss']}: accuracy {_ms(g, 'accuracy')}, F1 {_ms(g, 'f1')}, balanced accuracy "
             f"{_ms(g, 'balanced_accuracy')}, AUC-PR {_ms(g, 'average_precision')}." for g in groups]
    moved = {m: _spread(groups, m) for m in ("accuracy", "f1", "balanced_accuracy", "average_precision")}
    lines.append("Across the losses, accuracy moved by {:.3f}, F1 by {:.3f}, balanced accuracy by {:.3f} and AUC-PR "
                 "by {:.3f}.".format(*(moved[m][0] for m in moved)))
    by_accuracy, by_balanced = moved["accuracy"][1], moved["balanced_accuracy"][1]
    lines.append("Accuracy against predicting the majority class for everything: " + ", ".join(
        f"{g.config['loss']} {g.mean('accuracy') - majority:+.3f}" for g in groups) + ".")
    blind = []  # (group, epoch, accuracy): the last epoch where F1 says "nothing found" and accuracy says "fine"
    for g in groups:
        _, acc, _ = g.curve("accuracy")
        _, f1, _ = g.curve("f1")
        hits = [i for i in range(min(len(acc), len(f1))) if f1[i] < 0.05 and acc[i] >= majority - 0.005]
        if hits:
            blind.append((g, hits[-1] + 1, float(acc[hits[-1]])))
    if by_accuracy is not by_balanced and _clearly(by_balanced, by_accuracy, "balanced_accuracy"):
        lines.append(_verdict(summary, True) + f"accuracy is misleading here — it ranks {by_accuracy.config['loss']} "
                     f"first, but balanced accuracy ranks {by_balanced.config['loss']} first, "
                     f"{by_balanced.mean('balanced_accuracy') - by_accuracy.mean('balanced_accuracy'):.3f} ahead "
                     "by more than the spread across seeds.")
    elif moved["balanced_accuracy"][0] > 3 * moved["accuracy"][0] and moved["balanced_accuracy"][0] > 0.02:
        lines.append(_verdict(summary, True) + "accuracy barely separates the losses "
                     f"({moved['accuracy'][0]:.3f}) while balanced accuracy spreads them "
                     f"{moved['balanced_accuracy'][0]:.3f} apart.")
    elif blind:
        g, epoch, acc = blind[0]
        lines.append(_verdict(summary, True) + f"at epoch {epoch}, {g.config['loss']} found almost no positive "
                     f"(mean F1 below 0.05) while its accuracy was {acc:.3f}, at or above the majority baseline — "
                     "accuracy alone would have called that model good.")
    elif by_accuracy is not by_balanced:
        lines.append(_verdict(summary, False) + f"accuracy ranks {by_accuracy.config['loss']} first and balanced "
                     f"accuracy {by_balanced.config['loss']}, but the gap "
                     f"({by_balanced.mean('balanced_accuracy') - by_accuracy.mean('balanced_accuracy'):.3f}) is within "
                     f"the spread across seeds; accuracy separated the losses by {moved['accuracy'][0]:.3f}, balanced "
                     f"accuracy by {moved['balanced_accuracy'][0]:.3f}.")
    else:
        lines.append(_verdict(summary, False) + "accuracy ranked the losses like balanced accuracy, separating them "
                     f"by {moved['accuracy'][0]:.3f} against {moved['balanced_accuracy'][0]:.3f}.")
    best = max(groups, key=lambda g: g.mean("accuracy"))
    lines.append(f"A model that predicts no positive at all scores accuracy {majority:.3f} (F1 0, balanced accuracy "
                 f"0.5); the best accuracy here, {best.config['loss']}'s, is only "
                 f"{best.mean('accuracy') - majority:+.3f} above it, while its balanced accuracy is "
                 f"{best.mean('balanced_accuracy') - 0.5:+.3f} above 0.5.")
    return [*lines, _seeds_note(summary)]


def outliers_finding(summary: Summary) -> list[str]:
    """Regression losses under outliers in the training targets: clean-test MAE and R²."""
    groups = summary.groups
    lines = [f"{g.config['loss']}: clean-test MAE {_ms(g, 'mae')}, R² {_ms(g, 'r2')}." for g in groups]
    mse = _one(summary, loss="mse")
    robust = [g for g in groups if g.config["loss"] in ("mae", "huber")]
    if mse is None or not robust:
        return [*lines, "The grid lacks MSE or a robust loss, so the expected effect cannot be judged."]
    _, curve, _ = mse.curve("mae")
    if len(curve) > 1 and curve[-1] > 1.2 * curve.min():
        lines.append(f"MSE's clean-test MAE was lowest at epoch {int(curve.argmin()) + 1} ({curve.min():.3f}) and "
                     f"ended at {curve[-1]:.3f}: it goes on fitting the outliers.")
    better = [g for g in robust if _clearly(g, mse, "mae", higher_is_better=False)]
    if better:
        lines.append(_verdict(summary, True) + ", ".join(
            f"{g.config['loss']} cut the clean-test MAE from {mse.mean('mae'):.3f} (MSE) to {g.mean('mae'):.3f} "
            f"(÷{mse.mean('mae') / g.mean('mae'):.2f})" for g in better) + " — the outliers pull MSE's fit.")
    else:
        lines.append(_verdict(summary, False) + "neither Huber nor MAE beat MSE on the clean-test MAE by more "
                     "than the spread across seeds.")
    return [*lines, _seeds_note(summary)]


def segmentation_finding(summary: Summary) -> list[str]:
    """Pixel vs region losses on small objects: validation IoU."""
    groups = summary.groups
    lines = [f"{g.config['loss']}: foreground IoU {_ms(g, 'iou')}, Dice {_ms(g, 'dice')}." for g in groups]
    bce = _one(summary, loss="binary_cross_entropy")
    regions = [g for g in groups if g is not bce]
    if bce is None or not regions:
        return [*lines, "The grid lacks BCE or a region loss, so the expected effect cannot be judged."]
    first = {g.config["loss"]: g.curve("iou")[1] for g in groups}
    if all(len(c) > 1 for c in first.values()):
        lines.append("After the first epoch the IoU was " + ", ".join(f"{name} {c[0]:.3f}" for name, c in first.items())
                     + "; after the second " + ", ".join(f"{name} {c[1]:.3f}" for name, c in first.items()) + ".")
    better = [g for g in regions if _clearly(g, bce, "iou")]
    if better:
        lines.append(_verdict(summary, True) + ", ".join(
            f"{g.config['loss']} raised the IoU from {bce.mean('iou'):.3f} (BCE) to {g.mean('iou'):.3f}"
            for g in better) + " — region losses weigh the few foreground pixels more.")
    else:
        best = max(regions, key=lambda g: g.mean("iou"))
        lines.append(_verdict(summary, False) + f"no region loss beat BCE's IoU ({_ms(bce, 'iou')}) by more than "
                     f"the spread across seeds; the best was {best.config['loss']} ({_ms(best, 'iou')}).")
    return [*lines, _seeds_note(summary)]


def multilabel_finding(summary: Summary) -> list[str]:
    """Softmax + cross-entropy against sigmoid + BCE on multi-label targets: macro F1 and macro AUC-PR."""
    lines = [f"{g.config['head']}: macro F1 {_ms(g, 'macro_f1')}, macro AUC-PR {_ms(g, 'macro_ap')}."
             for g in summary.groups]
    softmax, sigmoid = _one(summary, head="softmax_ce"), _one(summary, head="sigmoid_bce")
    if softmax is None or sigmoid is None:
        return [*lines, "The grid lacks one of the two heads, so the expected effect cannot be judged."]
    if _clearly(sigmoid, softmax, "macro_f1"):
        lines.append(_verdict(summary, True) + f"sigmoid + BCE beat softmax + cross-entropy on macro F1 by "
                     f"{sigmoid.mean('macro_f1') - softmax.mean('macro_f1'):.3f} — softmax makes the labels compete "
                     "for one unit of probability.")
    else:
        lines.append(_verdict(summary, False) + f"on macro F1, sigmoid + BCE {_ms(sigmoid, 'macro_f1')} against "
                     f"softmax + cross-entropy {_ms(softmax, 'macro_f1')}.")
    naive = softmax.mean("macro_f1_at_half")
    if not math.isnan(naive):
        lower = _clearly(sigmoid, softmax, "macro_f1_at_half")
        lines.append("Cut at 0.5 like a sigmoid's, the softmax probabilities give macro F1 "
                     f"{_ms(softmax, 'macro_f1_at_half')} against {_ms(sigmoid, 'macro_f1_at_half')} for sigmoid + BCE"
                     + (": softmax shares one unit of probability among the labels, so few reach 0.5." if lower
                        else "."))
    gap = sigmoid.mean("macro_ap") - softmax.mean("macro_ap")
    lines.append(f"On the threshold-free macro AUC-PR the gap is {gap:+.3f}: "
                 + ("the ranking of labels differs too, not only the threshold." if _clearly(sigmoid, softmax,
                                                                                              "macro_ap")
                    else "the ranking of labels is about as good; the difference is in the decision rule."))
    return [*lines, _seeds_note(summary)]


def gan_finding(summary: Summary) -> list[str]:
    """BCE GAN against WGAN-GP: modes covered (of 8) and share of high-quality samples."""
    lines = [f"{g.config['loss']}: {_ms(g, 'modes', 1)} of 8 modes covered at the end (best during training "
             f"{_ms(g, 'best_modes', 1)}), {_ms(g, 'quality')} of the samples within 3σ of a mode."
             for g in summary.groups]
    bce, wgan = _one(summary, loss="bce"), _one(summary, loss="wgan_gp")
    if bce is None or wgan is None:
        return [*lines, "The grid lacks one of the two GANs, so the expected effect cannot be judged."]
    if _clearly(wgan, bce, "modes"):
        lines.append(_verdict(summary, True) + f"WGAN-GP ended covering {wgan.mean('modes'):.1f} modes against "
                     f"{bce.mean('modes'):.1f} for the BCE GAN.")
    else:
        lines.append(_verdict(summary, False) + f"WGAN-GP ended with {_ms(wgan, 'modes', 1)} modes against "
                     f"{_ms(bce, 'modes', 1)} for the BCE GAN, not more by more than the spread across seeds.")
    if bce.mean("best_modes") - bce.mean("modes") >= 1:
        lines.append(f"The BCE GAN lost modes while training: it covered {bce.mean('best_modes'):.1f} at its best "
                     f"and {bce.mean('modes'):.1f} at the end (mode dropping).")
    return [*lines, _seeds_note(summary)]


def custom_finding(summary: Summary) -> list[str]:
    """A custom sweep: the best and the worst configuration on each measured metric, and whether they differ by more
    than the spread across seeds."""
    from almanac import metrics

    def label(group: Group) -> str:
        return f"{group.config['activation']} / {group.config['loss']}"

    lines = []
    for name in summary.groups[0].config["metrics"]:
        higher = metrics.spec(name).higher_is_better
        ranked = sorted(summary.groups, key=lambda g: g.mean(name), reverse=higher)
        best, worst = ranked[0], ranked[-1]
        if best is worst or math.isnan(best.mean(name)):
            continue
        apart = "more" if _clearly(best, worst, name, higher) else "less"
        lines.append(f"{name} ({'higher' if higher else 'lower'} is better): best {label(best)} ({_ms(best, name)}), "
                     f"worst {label(worst)} ({_ms(worst, name)}), {abs(best.mean(name) - worst.mean(name)):.3f} apart, "
                     f"{apart} than the spread across seeds.")
    return [*lines, _seeds_note(summary)]
