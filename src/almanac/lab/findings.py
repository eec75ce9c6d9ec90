"""The finding of each scenario, written from the measured numbers.

Every number is a mean across seeds with its 95% Student t-interval (``0.905 [0.890, 0.920]``; one seed: the bare
value, no interval). Whether the effect a scenario is about shows is decided by a comparison **paired by seed**
(:func:`almanac.lab.stats.paired`): the effect is stated only when the 95% t-interval of the per-seed difference
excludes zero; otherwise the finding says it is not distinguishable with K seeds and how many seeds a paired t-test
would need (power 80%). With one seed no difference is claimed at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from almanac.lab.stats import Paired, adjust
from almanac.lab.summary import Group, Summary

__all__ = [
    "activations_finding",
    "calibration_finding",
    "custom_finding",
    "gan_finding",
    "imbalance_finding",
    "label_noise_finding",
    "multilabel_finding",
    "outliers_finding",
    "segmentation_finding",
]

SATURATING = ("sigmoid", "tanh")
#: the validation accuracy the activations scenario counts epochs to
TARGET = 0.9
#: the non-saturating activations the depth effect is judged against
MODERN = ("relu", "gelu", "silu")
#: first-layer / last-layer gradient norm below which the gradient has vanished (the checker's AL015 threshold)
VANISHED = 1e-3


def _ms(group: Group | None, measure: str, digits: int = 3) -> str:
    """The mean with its 95% t-interval (one seed: the value alone)."""
    if group is None:
        return "not measured"
    return group.interval(measure).text(digits)


def _one(summary: Summary, **values: object) -> Group | None:
    found = summary.where(**values)
    return found[0] if found else None


def _seeds(summary: Summary) -> int:
    return min((len(g.runs) for g in summary.groups), default=0)


def _diverged(summary: Summary) -> str:
    """Which configurations blew up (non-finite training loss) in how many seeds; empty when none did."""
    blown = []
    for g in summary.groups:
        epochs = g.values("diverged")
        epochs = epochs[~np.isnan(epochs) & (epochs > 0)]
        if epochs.size:
            label = ", ".join(f"{k} {v}" for k, v in g.config.items())
            at = ", ".join(str(int(e)) for e in epochs)
            blown.append(f"{label} in {epochs.size} of {len(g.runs)} seeds (epoch {at})")
    if not blown:
        return ""
    return ("The training loss diverged (non-finite) for " + "; ".join(blown) + ": those runs are kept up to their "
            "last finite epoch and a target they had not reached counts as missed, which widens the intervals. ")


def _seeds_note(summary: Summary) -> str:
    if _seeds(summary) < 2:
        return _diverged(summary) + (
            "With one seed per configuration there is no interval and no test: every number above is a single "
            "measurement and no difference is claimed; run --seeds 3 or more before trusting any of them.")
    return _diverged(summary) + (
        f"Numbers are means over {_seeds(summary)} seeds with 95% Student t-intervals; differences are paired by "
        "seed (same data split and initial weights), judged by the t-interval of the per-seed difference and a "
        "paired t-test, with Cohen's d_z as the effect size.")


def _best_against(candidates: Sequence[Group], baseline: Group, measure: str,
                  higher_is_better: bool) -> tuple[Group, Paired]:
    """The candidate that beats ``baseline`` on ``measure`` by the most (mean paired difference), with its
    comparison Holm-adjusted over the family of every candidate against the baseline: the claim picks the best of
    ``len(candidates)`` comparisons, so its p is corrected for all of them."""
    family = adjust([g.compare(baseline, measure, higher_is_better) for g in candidates])
    best = max(range(len(candidates)), key=lambda i: family[i].mean)
    return candidates[best], family[best]


def _judge(c: Paired, what: str, *, claim: str) -> str:
    """The verdict on the comparison ``c`` ("a beats b"): ``what`` names the difference (e.g. "MAE, MSE − Huber"),
    ``claim`` says what it means when it shows."""
    if c.n < 2:
        return (f"With one seed no effect is claimed: {what} {c.mean:+.3f} (better is positive), with no interval "
                "to judge it by — run --seeds 3 or more.")
    if c.better:
        return f"Expected effect shows: {claim} — {what}: {c.text()}."
    if c.worse:
        return f"Expected effect did not show — the opposite did: {what}: {c.text()}."
    return f"Expected effect not distinguishable with {c.n} seeds: {what}: {c.text()}; {c.advice()}."


def _spread(groups: Sequence[Group], measure: str) -> tuple[float, Group, Group]:
    """(best − worst mean, best group, worst group) of ``measure`` (higher is better)."""
    ranked = sorted(groups, key=lambda g: g.mean(measure))
    return ranked[-1].mean(measure) - ranked[0].mean(measure), ranked[-1], ranked[0]


def activations_finding(summary: Summary) -> list[str]:
    """Depth × activation: epochs to the target accuracy, final accuracy and the gradient reaching the first layer."""
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
    saturating = [g for a in SATURATING if (g := _one(summary, depth=deep, activation=a)) is not None]
    modern = [g for a in MODERN if (g := _one(summary, depth=deep, activation=a)) is not None]
    if shallow == deep or not saturating or not modern:
        lines.append("The grid lacks a depth range, a saturating activation or one of relu/gelu/silu, so the "
                     "vanishing-gradient effect cannot be judged here.")
        return [*lines, _seeds_note(summary)]
    for hi in [*saturating, *modern]:
        name = hi.config["activation"]
        lo = _one(summary, depth=shallow, activation=name)
        if lo is None:
            continue
        drop = lo.mean("grad_first") / max(hi.mean("grad_first"), 1e-30)
        lines.append(f"{name}: the first layer's gradient norm at initialisation went from "
                     f"{lo.mean('grad_first'):.2e} at depth {shallow} to {hi.mean('grad_first'):.2e} at depth "
                     f"{deep} (÷{drop:.3g}); at depth {deep} the first layer gets {hi.mean('grad_ratio'):.2e} of the "
                     f"last layer's gradient norm; final accuracy {_ms(lo, 'accuracy')} → {_ms(hi, 'accuracy')}.")
    # "slower" must hold against each of relu/gelu/silu (an intersection-union test: each comparison at 5%, the
    # least clear one — the largest p — decides); the finding then picks among the saturating activations, so
    # those deciding p-values are Holm-adjusted over the saturating activations compared.
    decisive = []
    for sat in saturating:
        each = [m.compare(sat, "epochs_to_target", False) for m in modern]
        worst = max(range(len(modern)), key=lambda i: (each[i].p_value, -each[i].mean))
        decisive.append((sat, modern[worst], each[worst], all(c.better for c in each)))
    adjusted = adjust([c for _, _, c, _ in decisive])
    verdicts = [(sat, ref, c, every and c.better) for (sat, ref, _, every), c in zip(decisive, adjusted)]
    shown = [v for v in verdicts if v[3]]
    sat, ref, judged, _ = shown[0] if shown else max(verdicts, key=lambda v: v[0].mean("epochs_to_target"))
    lines.append(_judge(judged,
                        f"epochs to {TARGET:.0%} at depth {deep}, {sat.config['activation']} − "
                        f"{ref.config['activation']} (the least clear of {', '.join(MODERN)})",
                        claim=f"at depth {deep}, {sat.config['activation']} trained slower than every one of "
                              f"{', '.join(g.config['activation'] for g in modern)} — its gradient vanishes "
                              "through the saturating layers"))
    for other, weakest, c, ok in verdicts:
        if other is not sat:
            lines.append(f"{other.config['activation']} at depth {deep}: {other.config['activation']} − "
                         f"{weakest.config['activation']} epochs to the target {c.text()}"
                         + (" — also slower than all three." if ok else "."))
    for other, _, _, slowed in verdicts:
        name = other.config["activation"]
        lo = _one(summary, depth=shallow, activation=name)
        ratio = other.mean("grad_ratio")
        if not slowed and ratio >= VANISHED:
            lines.append(f"Why {name} was not slowed: at depth {deep} its first layer still gets "
                         f"{ratio:.2e} of its last layer's gradient norm — the gradient has not "
                         "vanished at this depth with this init, so SGD does not stall.")
        elif not slowed and ratio < VANISHED:
            lines.append(f"{name}'s gradient did vanish at depth {deep} (its first layer gets {ratio:.2e} of its last "
                         "layer's gradient norm), yet it was not measurably slower than every one of "
                         f"{', '.join(MODERN)} in these seeds: see the intervals above and any divergence below.")
        elif slowed and lo is not None and lo.mean("reached") < 1:
            lines.append(f"{name} missed the target even at depth {shallow} (SGD is slow with it at any depth here); "
                         f"depth turns slow into a stall: final accuracy {_ms(lo, 'accuracy')} at depth {shallow}, "
                         f"{_ms(other, 'accuracy')} at depth {deep}.")
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
    for g in groups:  # the last epoch where F1 says "nothing found" while accuracy says "fine"
        _, acc, _ = g.curve("accuracy")
        _, f1, _ = g.curve("f1")
        hits = [i for i in range(min(len(acc), len(f1))) if f1[i] < 0.05 and acc[i] >= majority - 0.005]
        if hits:
            lines.append(f"At epoch {hits[-1] + 1}, {g.config['loss']} found almost no positive (mean F1 below 0.05) "
                         f"while its accuracy was {float(acc[hits[-1]]):.3f}, at or above the majority baseline — "
                         "accuracy alone would have called that model good.")
            break
    if by_accuracy is not by_balanced:
        lines.append(_judge(by_balanced.compare(by_accuracy, "balanced_accuracy"),
                            f"balanced accuracy, {by_balanced.config['loss']} − {by_accuracy.config['loss']}",
                            claim=f"accuracy is misleading here — it ranks {by_accuracy.config['loss']} first, but "
                                  f"balanced accuracy ranks {by_balanced.config['loss']} first"))
    else:
        worst = moved["balanced_accuracy"][2]
        lines.append(f"Accuracy and balanced accuracy both rank {by_accuracy.config['loss']} first, so accuracy did "
                     f"not mislead here; balanced accuracy, {by_balanced.config['loss']} − {worst.config['loss']}: "
                     f"{by_balanced.compare(worst, 'balanced_accuracy').text()}.")
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
    best, c = _best_against(robust, mse, "mae", False)
    lines.append(_judge(c, f"clean-test MAE, MSE − {best.config['loss']}",
                        claim=f"{best.config['loss']} cut the clean-test MAE from {mse.mean('mae'):.3f} (MSE) to "
                              f"{best.mean('mae'):.3f} (÷{mse.mean('mae') / best.mean('mae'):.2f}) — the outliers "
                              "pull MSE's fit"))
    return [*lines, _seeds_note(summary)]


def segmentation_finding(summary: Summary) -> list[str]:
    """Pixel vs region losses on small objects: validation IoU."""
    groups = summary.groups
    lines = [f"{g.config['loss']}: foreground IoU {_ms(g, 'iou')}, Dice {_ms(g, 'dice')}, recall "
             f"{_ms(g, 'recall')}." for g in groups]
    bce = _one(summary, loss="binary_cross_entropy")
    regions = [g for g in groups if g is not bce]
    if bce is None or not regions:
        return [*lines, "The grid lacks BCE or a region loss, so the expected effect cannot be judged."]
    best, c = _best_against(regions, bce, "iou", True)
    lines.append(_judge(c, f"foreground IoU, {best.config['loss']} − BCE",
                        claim=f"{best.config['loss']} raised the IoU from {bce.mean('iou'):.3f} (BCE) to "
                              f"{best.mean('iou'):.3f} — a region loss weighs the few foreground pixels as much as "
                              "the background, BCE weighs every pixel alike"))
    empty = int((bce.values("iou") < 0.01).sum())
    if 0 < empty < len(bce.runs):
        lines.append(f"BCE predicted no foreground at all (IoU below 0.01) in {empty} of {len(bce.runs)} seeds and "
                     f"learned the objects in the others: with 99% background, BCE's easiest minimum is "
                     "\"everything is background\", and whether it leaves it within the budget depends on the seed "
                     "— this bimodal spread is what widens its interval.")
    if not math.isnan(bce.mean("recall")) and not math.isnan(best.mean("recall")):
        lines.append(f"Foreground recall: BCE {_ms(bce, 'recall')}, {best.config['loss']} {_ms(best, 'recall')} — "
                     f"BCE's bias toward the {1 - bce.mean('foreground'):.0%} background shows as missed foreground."
                     if not math.isnan(bce.mean("foreground")) else
                     f"Foreground recall: BCE {_ms(bce, 'recall')}, {best.config['loss']} {_ms(best, 'recall')}.")
    return [*lines, _seeds_note(summary)]


def multilabel_finding(summary: Summary) -> list[str]:
    """Softmax + cross-entropy against sigmoid + BCE on multi-label targets: macro F1 and macro AUC-PR."""
    lines = [f"{g.config['head']}: macro F1 {_ms(g, 'macro_f1')}, macro AUC-PR {_ms(g, 'macro_ap')}."
             for g in summary.groups]
    softmax, sigmoid = _one(summary, head="softmax_ce"), _one(summary, head="sigmoid_bce")
    if softmax is None or sigmoid is None:
        return [*lines, "The grid lacks one of the two heads, so the expected effect cannot be judged."]
    if not math.isnan(sigmoid.mean("labels_per_sample")):
        lines.append(f"The validation samples carry {sigmoid.mean('labels_per_sample'):.2f} labels on average, "
                     f"{sigmoid.mean('share_multi'):.0%} of them two or more.")
    lines.append(_judge(sigmoid.compare(softmax, "macro_f1"), "macro F1, sigmoid + BCE − softmax + CE",
                        claim="sigmoid + BCE beat softmax + cross-entropy — softmax makes the labels compete for one "
                              "unit of probability, so a sample with several labels gets each of them diluted"))
    naive = softmax.mean("macro_f1_at_half")
    if not math.isnan(naive):
        c = sigmoid.compare(softmax, "macro_f1_at_half")
        lines.append("Cut at 0.5 like a sigmoid's, the softmax probabilities give macro F1 "
                     f"{_ms(softmax, 'macro_f1_at_half')} against {_ms(sigmoid, 'macro_f1_at_half')} for sigmoid + BCE"
                     f" ({c.text()})" + (": softmax shares one unit of probability among the labels, so few reach "
                                         "0.5." if c.better else "."))
    c = sigmoid.compare(softmax, "macro_ap")
    lines.append(f"On the threshold-free macro AUC-PR the difference is {c.text()}: "
                 + ("the ranking of labels differs too, not only the threshold." if c.excludes_zero
                    else "no difference in the ranking of labels is established; the difference is in the decision "
                         "rule."))
    return [*lines, _seeds_note(summary)]


def gan_finding(summary: Summary) -> list[str]:
    """BCE GAN against WGAN-GP: effective modes (where the mass goes), modes reached and sharpness (within 3σ)."""
    lines = [f"{g.config['loss']}: {_ms(g, 'effective', 2)} effective modes of 8 at the end ({_ms(g, 'reached', 1)} "
             f"modes reached), {_ms(g, 'modes', 1)} modes covered within 3σ, {_ms(g, 'quality')} of the samples "
             "within 3σ of a mode." for g in summary.groups]
    bce, wgan = _one(summary, loss="bce"), _one(summary, loss="wgan_gp")
    if bce is None or wgan is None:
        return [*lines, "The grid lacks one of the two GANs, so the expected effect cannot be judged."]
    c = wgan.compare(bce, "effective")
    lines.append(_judge(c, "effective modes, WGAN-GP − BCE GAN",
                        claim=f"WGAN-GP spread its samples over {wgan.mean('effective'):.1f} effective modes against "
                              f"{bce.mean('effective'):.1f} for the BCE GAN — the BCE discriminator's gradient "
                              "vanishes away from the modes it already rejects, so the generator has no pull toward "
                              "the modes it misses; the WGAN-GP critic's gradient, held near norm 1 by the penalty, "
                              "keeps pointing the generator to every mode it lacks"))
    collapsed = [s for s, best in zip(bce.by_seed("effective"), bce.values("best_effective")) if best < 2.5]
    if collapsed:
        lines.append(f"The BCE GAN never spread over more than 2.5 effective modes during training in "
                     f"{len(collapsed)} of {len(bce.runs)} seeds: mode collapse, not undone within the budget.")
    elif not c.better:
        lines.append(f"Why the effect may not show: the BCE GAN did spread at some point in every seed (best "
                     f"{_ms(bce, 'best_effective', 2)} effective modes during training) — once its generator "
                     "reaches the other modes it keeps them at this learning rate, and the gap is one of speed.")
    if not c.better and wgan.mean("effective") < 6:
        lines.append(f"WGAN-GP had not spread either ({_ms(wgan, 'effective', 2)} effective modes): its critic "
                     "needs many steps at this learning rate — see the curves.")
    sharp = wgan.compare(bce, "quality")
    lines.append(f"Sharpness is another matter: share of samples within 3σ, WGAN-GP − BCE {sharp.text()}; "
                 + ("WGAN-GP's samples are still spread around its modes after this budget, which is why the "
                    "VEEGAN count of modes covered within 3σ understates its coverage."
                    if wgan.mean("quality") < 0.5 else "both GANs' samples sit close to their modes."))
    return [*lines, _seeds_note(summary)]


def custom_finding(summary: Summary) -> list[str]:
    """A custom sweep: the best and the worst configuration on each measured metric, compared paired by seed."""
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
        # best and worst are picked after the fact from every pair: Holm over all k(k − 1)/2 pairs
        pairs = [(a, b) for i, a in enumerate(ranked) for b in ranked[i + 1:]]
        family = adjust([a.compare(b, name, higher) for a, b in pairs])
        c = family[pairs.index((best, worst))]
        verdict = ("the difference is established" if c.excludes_zero else
                   "no difference claimed" if c.n < 2 else
                   f"not distinguishable with {c.n} seeds — {c.advice()}")
        lines.append(f"{name} ({'higher' if higher else 'lower'} is better): best {label(best)} ({_ms(best, name)}), "
                     f"worst {label(worst)} ({_ms(worst, name)}); best − worst {c.text()}: {verdict}.")
    return [*lines, _seeds_note(summary)]


def label_noise_finding(summary: Summary) -> list[str]:
    """Robust losses against cross-entropy when 40% of the training labels are wrong: clean validation accuracy."""
    groups = summary.groups
    lines = [f"{g.config['loss']}: clean accuracy {_ms(g, 'accuracy')} at the end, {_ms(g, 'best_accuracy')} at its "
             f"best epoch; it reproduces {_ms(g, 'fit_noisy')} of the flipped training labels." for g in groups]
    ce = _one(summary, loss="cross_entropy")
    robust = [g for g in groups if g is not ce]
    if ce is None or not robust:
        return [*lines, "The grid lacks cross-entropy or a robust loss, so the expected effect cannot be judged."]
    _, curve, _ = ce.curve("accuracy")
    if len(curve) > 1 and curve.max() - curve[-1] > 0.01:
        lines.append(f"Cross-entropy's clean accuracy peaked at epoch {int(curve.argmax()) + 1} ({curve.max():.3f}) "
                     f"and fell to {curve[-1]:.3f}: it goes on to memorise the wrong labels.")
    best, c = _best_against(robust, ce, "accuracy", True)
    lines.append(_judge(c, f"clean accuracy, {best.config['loss']} − cross_entropy",
                        claim=f"{best.config['loss']} kept a clean accuracy of {best.mean('accuracy'):.3f} against "
                              f"{ce.mean('accuracy'):.3f} for cross-entropy — a bounded loss gives a wrong label a "
                              "bounded pull, cross-entropy an unbounded one"))
    return [*lines, _seeds_note(summary)]


def calibration_finding(summary: Summary) -> list[str]:
    """Calibration across losses: log loss, expected calibration error and confidence against accuracy."""
    groups = summary.groups
    lines = [f"{g.config['loss']}: ECE {_ms(g, 'ece')}, log loss {_ms(g, 'log_loss')}, accuracy "
             f"{_ms(g, 'accuracy')}, mean confidence {_ms(g, 'confidence')} (confidence − accuracy "
             f"{g.mean('confidence') - g.mean('accuracy'):+.3f})." for g in groups]
    ce = _one(summary, loss="cross_entropy")
    others = [g for g in groups if g is not ce]
    if ce is None or not others:
        return [*lines, "The grid lacks cross-entropy or another loss, so the expected effect cannot be judged."]
    best, c = _best_against(others, ce, "ece", False)
    lines.append(_judge(c, f"ECE, cross_entropy − {best.config['loss']}",
                        claim=f"{best.config['loss']} cut the expected calibration error from {ce.mean('ece'):.3f} "
                              f"(cross-entropy) to {best.mean('ece'):.3f} — trained long on few samples, "
                              "cross-entropy keeps pushing the logits up and grows overconfident"))
    c = best.compare(ce, "log_loss", False)
    lines.append(f"Log loss, cross_entropy − {best.config['loss']}: {c.text()}; accuracy, {best.config['loss']} − "
                 f"cross_entropy: {best.compare(ce, 'accuracy').text()} — calibration moved more than accuracy."
                 if c.n >= 2 else f"Log loss, cross_entropy − {best.config['loss']}: {c.text()}.")
    return [*lines, _seeds_note(summary)]
