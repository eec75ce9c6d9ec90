"""The report of a scenario: ``runs/<scenario>/report.html`` and its PNGs, built with :mod:`almanac.train.report`.

It holds what the scenario measures, the finding written from the numbers, the ranked table (mean and 95% Student
t-interval across seeds; the bare value with one seed), the paired comparisons against the best configuration
(difference, its interval, paired t-test, Cohen's d_z, seeds needed), the curves with the seeds' spread as a
band, the final measures against the panel axis (depth) when the
scenario has one, and generated samples when runs kept them (GANs).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from almanac.lab.scenario import Scenario, config_label
from almanac.lab.stats import adjust
from almanac.lab.store import Run
from almanac.lab.summary import Summary
from almanac.train.report import Figure, Section, Table, pyplot, save_figure, write_html

__all__ = ["paired_rows", "ranked_rows", "write_report"]


def _cell(group: Any, measure: str) -> str:
    """``mean [low, high]`` (95% t-interval), the bare mean with one seed, ``—`` when not measured."""
    found = group.interval(measure)
    if math.isnan(found.mean):
        return "—"
    return found.text(3 if abs(found.mean) < 100 else 1)


def ranked_rows(scenario: Scenario, summary: Summary) -> tuple[list[str], list[list[Any]]]:
    """The ranked table: columns and rows (rank, configuration, each measure as mean [95% CI], seeds)."""
    primary = scenario.primary
    columns = ["rank", "configuration", *(m.label for m in scenario.measures), "seeds"]
    rows = [[i, scenario.label(g.config), *(_cell(g, m.key) for m in scenario.measures), len(g.runs)]
            for i, g in enumerate(summary.ranked(primary.key, primary.higher_is_better), start=1)]
    return columns, rows


def paired_rows(scenario: Scenario, summary: Summary) -> tuple[list[str], list[list[Any]]]:
    """Every configuration against the best one on the primary measure, paired by seed: the difference (positive:
    the best is better), its 95% t-interval, the paired t-test's p and its Holm-adjusted p over the k − 1
    comparisons of the table, Cohen's d_z and the seeds a paired t-test needs for 80% power at that effect size
    (at Bonferroni's α/(k − 1))."""
    primary = scenario.primary
    ranked = summary.ranked(primary.key, primary.higher_is_better)
    columns = ["configuration", f"best − it ({primary.label})", "95% CI", "p (paired t)",
               f"p (Holm, {max(len(ranked) - 1, 1)} comparisons)", "d_z", "seeds needed"]
    rows: list[list[Any]] = []
    if not ranked:
        return columns, rows
    best = ranked[0]
    family = adjust([best.compare(group, primary.key, primary.higher_is_better) for group in ranked[1:]])
    for group, c in zip(ranked[1:], family):
        if c.n < 2:
            rows.append([scenario.label(group.config), f"{c.mean:+.3f}", "— (one seed)", "—", "—", "—", "≥ 3"])
            continue
        rows.append([scenario.label(group.config), f"{c.mean:+.3f}", f"[{c.low:+.3f}, {c.high:+.3f}]",
                     f"{c.p_value:.2g}", f"{c.p:.2g}", f"{c.effect_size:.2f}",
                     "—" if c.excludes_zero else (str(c.seeds) if c.seeds else "> 200")])
    return columns, rows


def _panels(scenario: Scenario, summary: Summary) -> list[tuple[str, list[Any]]]:
    """(panel title, groups) pairs: one per value of ``panel_axis``, or one with every group."""
    if scenario.panel_axis is None:
        return [("", summary.groups)]
    values = list(dict.fromkeys(g.config[scenario.panel_axis] for g in summary.groups))
    return [(f"{scenario.panel_axis} {v}", summary.where(**{scenario.panel_axis: v})) for v in values]


def _curve_figure(scenario: Scenario, summary: Summary, curve: Any) -> Any:
    plt = pyplot()
    panels = _panels(scenario, summary)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False, sharey=True)
    hidden = (*scenario.fixed, *((scenario.panel_axis,) if scenario.panel_axis else ()))
    for ax, (title, groups) in zip(axes[0], panels):
        for group in groups:
            x, mean, low, high = group.band(curve.key)
            if not len(x):
                continue
            (line,) = ax.plot(x, mean, label=config_label(group.config, hidden=hidden), lw=1.6)
            ax.fill_between(x, low, high, color=line.get_color(), alpha=0.18, lw=0)
        if curve.log_scale:
            ax.set_yscale("log")
        if curve.diagonal:
            ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfectly calibrated")
        ax.set_title(title or curve.label)
        ax.set_xlabel(curve.x_label)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(curve.label)
    axes[0][-1].legend(fontsize=8, loc="best")
    seeds = sorted({len(g.runs) for g in summary.groups})
    fig.suptitle(f"{scenario.name}: {curve.label} — mean over {'/'.join(map(str, seeds))} seeds, band ± 1 std "
                 "within the seeds' range", fontsize=10)
    fig.tight_layout()
    return fig


def _axis_figure(scenario: Scenario, summary: Summary) -> Any:
    """Each final measure against the panel axis, one line per value of the other axes."""
    plt = pyplot()
    axis = scenario.panel_axis
    measures = scenario.measures
    fig, axes = plt.subplots(1, len(measures), figsize=(4.6 * len(measures), 3.8), squeeze=False)
    lines: dict[str, list[Any]] = {}
    for group in summary.groups:
        rest = {k: v for k, v in group.config.items() if k != axis and k not in scenario.fixed}
        lines.setdefault(config_label(rest), []).append(group)
    for ax, measure in zip(axes[0], measures):
        for label, groups in lines.items():
            x = [g.config[axis] for g in groups]
            found = [g.interval(measure.key) for g in groups]
            mean = np.array([f.mean for f in found])
            low = np.nan_to_num(mean - np.array([f.low for f in found]))  # one seed: no bar
            high = np.nan_to_num(np.array([f.high for f in found]) - mean)
            ax.errorbar(x, mean, yerr=[low, high], marker="o", ms=3, capsize=2, label=label)
        if measure.key.startswith("grad"):
            ax.set_yscale("log")
        ax.set_xlabel(axis)
        ax.set_title(measure.label, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _samples_figure(scenario: Scenario, runs: list[Run]) -> Any | None:
    """Generated samples of the first seed of each configuration, when the runs kept them."""
    firsts: dict[str, Run] = {}
    for run in sorted(runs, key=lambda r: r.seed):
        if "samples" in run.result.get("info", {}):
            firsts.setdefault(scenario.label(run.config), run)
    if not firsts:
        return None
    plt = pyplot()
    from almanac.lab.gan import centres

    fig, axes = plt.subplots(1, len(firsts), figsize=(4.2 * len(firsts), 4.2), squeeze=False)
    modes = centres().numpy()
    for ax, (label, run) in zip(axes[0], firsts.items()):
        points = np.asarray(run.result["info"]["samples"])
        ax.scatter(points[:, 0], points[:, 1], s=3, alpha=0.5, label="generated")
        ax.scatter(modes[:, 0], modes[:, 1], marker="x", color="red", label="mode centres")
        final = run.result["final"]
        ax.set_title(f"{label} (seed {run.seed}): {final.get('modes', '?')} modes", fontsize=10)
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
        ax.set_aspect("equal")
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def write_report(scenario: Scenario, runs: list[Run], summary: Summary, finding: list[str], out_dir: str | Path,
                 *, quick: bool = False) -> Path:
    """Write ``out_dir/report.html`` and its PNGs for ``runs`` of ``scenario`` (``summary`` groups them,
    ``finding`` is the scenario's finding on it); returns the HTML's path."""

    out = Path(out_dir)
    columns, rows = ranked_rows(scenario, summary)
    figures = []
    for curve in scenario.curves:
        png = out / f"curves_{curve.key}.png"
        save_figure(_curve_figure(scenario, summary, curve), png)
        figures.append(Figure(png, f"{curve.label} per {curve.x_label}: mean across seeds, band ± 1 std "
                                   "clipped to the seeds' range"))
    if scenario.panel_axis is not None:
        png = out / f"by_{scenario.panel_axis}.png"
        save_figure(_axis_figure(scenario, summary), png)
        figures.append(Figure(png, f"final measures against {scenario.panel_axis}, error bars: 95% t-interval across "
                                   "seeds"))
    samples = _samples_figure(scenario, runs)
    if samples is not None:
        png = out / "samples.png"
        save_figure(samples, png)
        figures.append(Figure(png, "generated samples (first seed) and the mode centres"))
    seconds = sum(r.seconds for r in runs)
    sections = [
        Section("What was run", scenario.question + f"\n\n{len(runs)} runs, {seconds:.0f} s of training in all"
                + (" (--quick: a smaller grid and fewer epochs; numbers are indicative only)" if quick else "")
                + ". Every number below is read from the run store."),
        Section("Finding", "\n\n".join(finding)),
        Section("Ranked table", tables=[Table(columns, rows, caption=f"ranked by {scenario.primary.label} "
                                                                      "(mean [95% Student t-interval] across seeds)"),
                                        Table(*paired_rows(scenario, summary),
                                              caption="against the best configuration, paired by seed: difference, "
                                                      "its 95% t-interval, paired t-test, Cohen's d_z, and the seeds "
                                                      "a paired t-test needs for 80% power when not distinguishable")]),
        Section("Curves", figures=figures),
    ]
    return write_html(out / "report.html", f"almanac compare {scenario.name}: {scenario.title}", sections)
