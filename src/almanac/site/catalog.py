"""The catalog pages: one table per family and one page per function, written from the registries."""

from __future__ import annotations

import doctest
import importlib
import inspect
import math
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from almanac.registry import ActivationSpec, LossSpec, MetricSpec, Spec
from almanac.site.formula import render_svg

__all__ = ["FAMILIES", "BuildError", "Family", "code", "function_page", "md", "write_catalog"]


@dataclass(frozen=True)
class Family:
    """A family of the catalog: its spec name (``loss``), its package and the page titles."""

    name: str
    package: str
    plural: str

    @property
    def module(self) -> Any:
        return importlib.import_module(self.package)

    def specs(self) -> list[Spec]:
        return [self.module.spec(n) for n in self.module.names()]


FAMILIES = (
    Family("activation", "almanac.activations", "activations"),
    Family("loss", "almanac.losses", "losses"),
    Family("metric", "almanac.metrics", "metrics"),
)


class BuildError(RuntimeError):
    """Something the site cannot show correctly: the build stops instead of publishing it."""


def md(text: Any) -> str:
    """``text`` safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace("*", "\\*")


def code(text: Any) -> str:
    """``text`` as a code span inside a Markdown table cell (a pipe would end the cell, so it is shown as ¦)."""
    return "`" + str(text).replace("|", "¦").replace("`", "'") + "`"


def interval(lo: float, hi: float) -> str:
    def show(v: float) -> str:
        return "∞" if v == math.inf else "−∞" if v == -math.inf else f"{v:g}"

    return f"{'(' if lo == -math.inf else '['}{show(lo)}, {show(hi)}{')' if hi == math.inf else ']'}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def facts(spec: Spec) -> list[tuple[str, str]]:
    """(fact, value) rows of a spec, by family."""
    rows: list[tuple[str, str]] = []
    if isinstance(spec, ActivationSpec):
        rows += [("output range", interval(*spec.output_range)), ("monotonic", _yes(spec.monotonic)),
                 ("smooth", _yes(spec.smooth)), ("zero-centred", _yes(spec.zero_centered)),
                 ("placement", ", ".join(sorted(spec.placement))),
                 ("elementwise", _yes(spec.elementwise) if spec.elementwise else "no: acts along `dim`"),
                 ("kept for the backward pass", spec.saves_for_backward)]
    elif isinstance(spec, LossSpec):
        normalization = (spec.normalization if isinstance(spec.normalization, str)
                         else ", ".join(f"{k}: {v}" for k, v in spec.normalization.items()))
        rows += [("expects", spec.expects.replace("_", " ")), ("target", spec.target.replace("_", " ")),
                 ("tasks", ", ".join(spec.tasks)), ("normalises its input with", normalization),
                 ("robust to outliers", _yes(spec.robust_to_outliers)),
                 ("made for imbalance", _yes(spec.for_imbalance))]
    elif isinstance(spec, MetricSpec):
        rows += [("range", interval(*spec.range)), ("better", "higher" if spec.higher_is_better else "lower"),
                 ("needs", spec.needs), ("tasks", ", ".join(spec.tasks)), ("differentiable", _yes(spec.differentiable))]
    return rows


def _short_facts(spec: Spec) -> tuple[str, str]:
    """The catalog's two family columns: (range or expects→target or needs, properties)."""
    if isinstance(spec, ActivationSpec):
        props = [p for p, on in (("monotonic", spec.monotonic), ("smooth", spec.smooth),
                                 ("zero-centred", spec.zero_centered), ("along dim", not spec.elementwise)) if on]
        return interval(*spec.output_range), ", ".join(sorted(spec.placement)) + "; " + ", ".join(props)
    if isinstance(spec, LossSpec):
        props = [p for p, on in (("robust to outliers", spec.robust_to_outliers),
                                 ("for imbalance", spec.for_imbalance)) if on]
        return f"{spec.expects} → {spec.target}".replace("_", " "), ", ".join(props)
    assert isinstance(spec, MetricSpec)
    props = [f"{'higher' if spec.higher_is_better else 'lower'} is better", f"range {interval(*spec.range)}"]
    if spec.differentiable:
        props.append("differentiable")
    return spec.needs, ", ".join(props)


_COLUMNS = {"activation": ("output range", "placement; properties"),
            "loss": ("expects → target", "properties"),
            "metric": ("needs", "properties")}


def tasks_of(spec: Spec) -> str:
    return ", ".join(getattr(spec, "tasks", ()))


def write_catalog(family: Family, docs: Path) -> list[str]:
    """Write ``catalog/<plural>.md`` (the table) and the formula SVGs; returns the catalog's relative path."""
    specs = family.specs()
    first, second = _COLUMNS[family.name]
    has_tasks = family.name != "activation"
    head = ["name", "aliases", "formula", first, *(["tasks"] if has_tasks else []), second]
    lines = ["---", "hide:", "  - toc", "---", "", f"# {family.plural.capitalize()}", "",
             f"Every {family.name} of `{family.package}` ({len(specs)}), read from its registry when this site was "
             "built. Click a column's header to sort by it; type in the box to filter by any text (name, alias, "
             "task, fact).", "",
             '<div class="am-catalog" data-family="' + family.name + '" markdown>', "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for spec in specs:
        svg = docs / "functions" / family.name / f"{spec.name}.svg"
        svg.parent.mkdir(parents=True, exist_ok=True)
        try:
            svg.write_text(render_svg(spec.formula), encoding="utf-8")
        except Exception as exc:  # a formula that cannot be typeset is not published half-rendered
            raise BuildError(f"{family.name} `{spec.name}`: formula {spec.formula!r} does not typeset: {exc}") from exc
        a, b = _short_facts(spec)
        cells = [f"[{spec.name}](../functions/{family.name}/{spec.name}.md)", md(", ".join(spec.aliases)),
                 f"![{md(spec.formula)}](../functions/{family.name}/{spec.name}.svg){{ .formula }}", md(a),
                 *([md(tasks_of(spec))] if has_tasks else []), md(b)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "</div>", ""]
    path = docs / "catalog" / f"{family.plural}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return f"catalog/{family.plural}.md"


# -- the page of one function ------------------------------------------------------------------------------------
def _arg_section(doc: str) -> dict[str, str]:
    """``name → description`` from a Google-style ``Args:`` section and from ``- ``name``: ...`` bullets."""
    found: dict[str, str] = {}
    doc = inspect.cleandoc(doc or "")
    section = re.search(r"^Args:\n((?:[ \t]+.*\n?|\n)+)", doc, flags=re.M)
    if section:
        body = textwrap.dedent(section.group(1))
        for match in re.finditer(r"^(\w+)(?: \([^)]*\))?: (.*(?:\n[ \t]+.*)*)", body, flags=re.M):
            found[match.group(1)] = " ".join(match.group(2).split())
    for bullet in re.finditer(r"^- (.*(?:\n  .*)*)", doc, flags=re.M):
        text = " ".join(bullet.group(1).split())
        for name in re.findall(r"``(\w+)(?:=[^`]*)?``", text):
            found.setdefault(name, text)
    return found


def parameters(spec: Spec, function: Callable[..., Any]) -> list[tuple[str, str, str]]:
    """(name, default, what it is and its constraints) for every hyperparameter of the spec."""
    doc = function.__doc__ or ""
    found = _arg_section(doc)
    # shared keywords are described once, in the docstring of the module the function points to (":mod:`...`")
    modules = [*re.findall(r":mod:`~?([\w.]+)`", doc), function.__module__]
    for module in modules:
        try:
            shared = _arg_section(importlib.import_module(module).__doc__ or "")
        except ImportError:
            continue
        found = {**shared, **found}
    return [(name, repr(default), found.get(name, "")) for name, default in spec.params.items()]


def run_examples(function: Callable[..., Any], where: str) -> str:
    """The docstring's ``>>>`` examples, run as doctests now; a failing example stops the build."""
    module = inspect.getmodule(function)
    tests = doctest.DocTestFinder(recurse=False).find(function, function.__name__, globs=dict(vars(module)))
    examples = [t for t in tests if t.examples]
    if not examples:
        return ""
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out: list[str] = []
    for test in examples:
        report: list[str] = []
        runner.run(test, out=report.append)
        if runner.failures:
            raise BuildError(f"{where}: the docstring example fails:\n{''.join(report)}")
        for example in test.examples:
            out.append(textwrap.indent(example.source.rstrip("\n"), ">>> ").replace("\n>>> ", "\n... "))
            if example.want:
                out.append(example.want.rstrip("\n"))
    return "\n".join(out)


def _references(spec: Spec) -> list[str]:
    return [f"- {md(r)}" for r in spec.references]


def function_page(family: Family, spec: Spec, docs: Path, *, mentions: Sequence[tuple[str, str]],
                  explain: Callable[[str, Path], tuple[str, Path | None]]) -> str:
    """Write ``functions/<family>/<name>.md`` (and its plot); returns the page's relative path.

    ``mentions`` are the (code, title) of the checker's rules that name this function; ``explain(name, png)`` is
    ``almanac explain`` for one name: its text and the PNG it drew, if any.
    """
    function = getattr(family.module, spec.name)
    folder = docs / "functions" / family.name
    lines = [f"# {spec.name}", "",
             f"*{family.name}* · `{family.package}.{spec.name}`"
             + (f" · aliases: {', '.join(f'`{a}`' for a in spec.aliases)}" if spec.aliases else ""), "",
             md(spec.summary).replace("\\|", "|"), "",
             "## Formula", "",
             f'<div class="am-formula" markdown>![{md(spec.formula)}]({spec.name}.svg){{ .formula }}</div>', "",
             f"As text: `{spec.formula}`", "",
             "## Facts", "", '<div class="am-facts" markdown>', "", "| fact | value |", "|---|---|",
             *(f"| {k} | {md(v)} |" for k, v in facts(spec)), "", "</div>", ""]
    text, png = explain(f"{family.name}:{spec.name}", folder / f"{spec.name}.png")
    if png is not None:
        what = ("the function and its derivative" if family.name == "activation"
                else "the loss and its gradient against the prediction")
        lines += ["## Plot", "", f"What `almanac explain {family.name}:{spec.name}` draws: {what}.", "",
                  f"![{spec.name}: {what}]({spec.name}.png)", ""]
    if isinstance(spec, MetricSpec):
        from almanac.site.behaviour import metric_behaviour

        drawn = metric_behaviour(spec, function, folder / f"{spec.name}.png")
        if drawn is not None:
            lines += ["## Behaviour", "",
                      "Its value on synthetic predictions that get worse step by step, from perfect (1) to chance (0): "
                      "labels replaced by guesses at the base rate, scores losing their separation, regression "
                      "predictions drifting to noise around the mean (drawn when this site was built; "
                      "`almanac.site.behaviour`).", "",
                      f"![{spec.name} against prediction quality, from perfect to chance]({spec.name}.png)", ""]
    advice = [line.strip() for line in text.splitlines() if line.strip().startswith(("use it for:", "not for:"))]
    if advice:
        lines += ["## When to use it", "", *(f"- **{a.split(':', 1)[0]}**: {md(a.split(':', 1)[1].strip())}"
                                               for a in advice), ""]
    params = parameters(spec, function)
    if params:
        lines += ["## Parameters", "", "| parameter | default | meaning and constraints |", "|---|---|---|",
                  *(f"| {code(n)} | {code(d)} | {md(t) or '—'} |" for n, d, t in params), ""]
    example = run_examples(function, f"{family.package}.{spec.name}")
    if example:
        lines += ["## Example", "", "Run as a doctest when this site was built.", "", "```pycon", example, "```", ""]
    if spec.references:
        lines += ["## References", "", *_references(spec), ""]
    lines += ["## Checker rules that mention it", ""]
    lines += ([f"- [{code}](../../guides/mistakes.md#{code.lower()}): {md(title)}" for code, title in mentions]
              or ["None of the checker's rules names it."])
    lines.append("")
    path = folder / f"{spec.name}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return f"functions/{family.name}/{spec.name}.md"


def mentioned(spec: Spec, texts: Mapping[str, str]) -> list[str]:
    """The codes of ``texts`` (code → what the rule says and prints) that name ``spec`` or one of its aliases."""
    words = {w for name in (spec.name, *spec.aliases) for w in (name, name.replace("_", " "), name.replace("_", "-"))}
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
                         + r")(?![\w-])", re.I)
    return [code for code, text in texts.items() if pattern.search(text)]
