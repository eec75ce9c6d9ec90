"""The generated parts of the guides: the advisor's decision tables, the common mistakes (from the checker's
corpus), the families compared, the rules table and the recorded lab results."""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from almanac.site.catalog import BuildError, code, md

__all__ = ["SITUATIONS", "advisor_tables", "families_table", "lab_results", "load_setups", "mistakes", "rules_table"]


# -- how to choose: the advisor on one target per situation ---------------------------------------------------
def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def _counts() -> torch.Tensor:
    return torch.poisson(torch.full((300,), 30.0), generator=_gen())


# (situation, the target as a reader would write it, the target). The advisor's answers are not written here:
# each row of the page is what am.advise returns for the target.
SITUATIONS: tuple[tuple[str, str, Callable[[], torch.Tensor]], ...] = (
    ("two balanced classes", "torch.tensor([0, 1] * 50)", lambda: torch.tensor([0, 1] * 50)),
    ("two classes, 25% positives", "torch.tensor([0] * 75 + [1] * 25)", lambda: torch.tensor([0] * 75 + [1] * 25)),
    ("two classes, rare positives (4%)", "torch.tensor([0] * 96 + [1] * 4)", lambda: torch.tensor([0] * 96 + [1] * 4)),
    ("five balanced classes", "torch.arange(300) % 5", lambda: torch.arange(300) % 5),
    ("five classes, one rare (3%)", "torch.cat([torch.arange(290) % 4, torch.full((10,), 4)])",
     lambda: torch.cat([torch.arange(290) % 4, torch.full((10,), 4)])),
    ("five labels per sample, ~30% on", "(torch.rand(200, 5) < 0.3).long()",
     lambda: (torch.rand(200, 5, generator=_gen()) < 0.3).long()),
    ("real values", "torch.randn(300)", lambda: torch.randn(300, generator=_gen())),
    ("real values with 3% outliers", "torch.cat([torch.randn(290), torch.full((10,), 40.0)])",
     lambda: torch.cat([torch.randn(290, generator=_gen()), torch.full((10,), 40.0)])),
    ("counts", "torch.poisson(torch.full((300,), 30.0))", _counts),
    ("values in [0, 1]", "torch.rand(300)", lambda: torch.rand(300, generator=_gen())),
    ("binary masks, small objects (5% foreground)", "(torch.rand(8, 1, 32, 32) < 0.05).long()",
     lambda: (torch.rand(8, 1, 32, 32, generator=_gen()) < 0.05).long()),
    ("binary masks, large objects (40% foreground)", "(torch.rand(8, 1, 32, 32) < 0.4).long()",
     lambda: (torch.rand(8, 1, 32, 32, generator=_gen()) < 0.4).long()),
    ("class maps, three classes", "torch.randint(0, 3, (8, 32, 32))",
     lambda: torch.randint(0, 3, (8, 32, 32), generator=_gen())),
)


def _loss_cell(advice: Any) -> str:
    params = ", ".join(f"{k}={v!r}" for k, v in advice.loss_params.items())
    return f"[{advice.loss}](../functions/loss/{advice.loss}.md)" + (f"({md(params)})" if params else "")


def advisor_tables() -> str:
    """One decision table per task the advisor names, each row its answer for one situation."""
    import almanac as am

    by_task: dict[str, list[str]] = {}
    for situation, source, target in SITUATIONS:
        advice = am.advise(target())
        metrics = ", ".join(f"[{m}](../functions/metric/{m}.md)" for m in advice.metrics)
        why = "; ".join(advice.reasons[k] for k in ("loss", "metrics") if k in advice.reasons)
        by_task.setdefault(advice.task, []).append(
            f"| {md(situation)}<br>{code(source)} | {md(advice.reasons.get('task', ''))} | "
            f"`{advice.output_activation}` | `{advice.inference_activation}` | {_loss_cell(advice)} | {metrics} | "
            f"{md(why)} |")
    out = []
    for task, rows in by_task.items():
        out += [f"## {task}", "",
                "| situation (target) | measured | output activation | at prediction | loss | metrics | why |",
                "|---|---|---|---|---|---|---|", *rows, ""]
    return "\n".join(out)


# -- the families side by side ----------------------------------------------------------------------------------
def families_table() -> str:
    """``almanac explain --families`` as a Markdown table: its text table read back, row block by row block."""
    from almanac import lab

    rows: list[list[str]] = []
    block: list[list[str]] = []
    for line in lab.families().splitlines():
        if set(line.strip()) <= {"─"}:  # the rule under each row
            if block:
                rows.append([" ".join(" ".join(part).split()) for part in zip(*block)])
            block = []
        else:
            block.append([cell.strip() for cell in line.split("│")])
    if len(rows) < 2 or len({len(r) for r in rows}) != 1:
        raise BuildError("almanac explain --families changed its layout: the roles page cannot read its table")
    head, *body = rows
    return "\n".join(["| " + " | ".join(md(c) for c in head) + " |", "|" + "---|" * len(head),
                      *("| " + " | ".join([f"**{md(r[0])}**", *map(md, r[1:])]) + " |" for r in body), ""])


# -- the checker: rules and the common mistakes -----------------------------------------------------------------
def rules_table() -> str:
    from almanac.lint import RULES

    rows = [f"| [{r.code}](guides/mistakes.md#{r.code.lower()}) | {r.severity} | "
            f"{'static' if r.static else 'needs a batch'} | {md(r.title)} |" for r in RULES.values()]
    return "\n".join(["| code | severity | kind | what it catches |", "|---|---|---|---|", *rows, ""])


def load_setups(root: Path) -> ModuleType:
    """The checker's corpus, ``tests/lint/setups.py``: faulty and correct setups registered per rule."""
    path = root / "tests" / "lint" / "setups.py"
    if not path.exists():
        raise BuildError(f"the checker's corpus {path} is missing: the common mistakes are taken from it")
    name = "_almanac_site_lint_setups"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def _source(build: Callable[..., Any], module: ModuleType, first_setup: int) -> str:
    """The setup's source, preceded by the corpus's models and helpers it uses; the shared data helpers written
    before the first setup (``features``, ``labels``, ``mlp``, ...) are named in a comment instead."""
    used, helpers = [], []
    for name in build.__code__.co_names:
        obj = getattr(module, name, None)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)) or getattr(obj, "__module__", "") != module.__name__:
            continue
        if inspect.isclass(obj) or inspect.getsourcelines(obj)[1] > first_setup:
            used.append(inspect.getsource(obj))
        else:
            helpers.append(f"{name}()")
    body = inspect.getsource(build)
    body = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("@setup("))
    note = [f"# {', '.join(helpers)}: small data and model helpers of the corpus"] if helpers else []
    return "\n".join(note) + ("\n" if note else "") + textwrap.dedent("\n\n".join([*used, body])).strip()


@dataclass(frozen=True)
class Mistake:
    code: str
    title: str
    severity: str
    faulty: str
    printed: str
    fix: str
    fix_printed: str


def _check(setup: Any) -> Any:
    import warnings

    import almanac as am

    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        case = setup.build()
        model = case.pop("model")
        return am.lint.check(model, case.pop("loss", None), **case)


def collect_mistakes(module: ModuleType) -> list[Mistake]:
    """For every rule: its first faulty setup with what the checker prints on it, and its first correct setup."""
    from almanac.lint import RULES

    setups = list(module.SETUPS)
    first = min(inspect.getsourcelines(s.build)[1] for s in setups)
    out = []
    for rule in RULES.values():
        faulty = next((s for s in setups if s.rule == rule.code and s.faulty), None)
        correct = next((s for s in setups if s.rule == rule.code and not s.faulty), None)
        if faulty is None or correct is None:
            raise BuildError(f"rule {rule.code}: the corpus has no faulty or no correct setup to show")
        report = _check(faulty)
        printed = [str(f) for f in report.findings if f.code == rule.code]
        if not printed:
            raise BuildError(f"rule {rule.code}: the checker does not catch its corpus setup {faulty.name}:\n{report}")
        fixed = _check(correct)
        out.append(Mistake(rule.code, rule.title, rule.severity, _source(faulty.build, module, first),
                           "\n".join(printed), _source(correct.build, module, first),
                           str(fixed) if fixed.findings else "no finding"))
    return out


def mistakes(found: list[Mistake]) -> str:
    out = []
    for m in found:
        out += [f"## {m.code}: {md(m.title)} {{ #{m.code.lower()} }}", "",
                f"*{m.severity}*", "",
                "**Faulty** (from the checker's corpus):", "", "```python", m.faulty, "```", "",
                "**What the checker prints:**", "", "``` { .text .am-output }", m.printed, "```", "",
                "**The fix:**", "", "```python", m.fix, "```", "",
                f"The checker on the fix: {md(m.fix_printed)}.", ""]
    return "\n".join(out)


# -- what each choice changes: the recorded lab results ---------------------------------------------------------
def record_lab(scenario: str, dest: Path, *, store: Path, seeds: int | None = None) -> Path:
    """Run ``almanac compare SCENARIO --quick [--seeds K]`` and keep what the page shows: ``dest/<scenario>.json``
    and its PNGs."""
    import shutil
    import tempfile

    from almanac import lab
    from almanac.lab.report import ranked_rows

    with tempfile.TemporaryDirectory() as tmp:
        result = lab.compare(scenario, quick=True, seeds=seeds, store=store, out_dir=tmp)
        columns, rows = ranked_rows(result.scenario, result.summary)
        figures = []
        labels = {f"curves_{c.key}.png": f"{c.label} per {c.x_label}, mean across seeds, band ± 1 std"
                  for c in result.scenario.curves}
        dest.mkdir(parents=True, exist_ok=True)
        for png in sorted(Path(tmp).glob("*.png")):
            target = dest / f"{scenario}_{png.name}"
            shutil.copyfile(png, target)
            figures.append({"file": target.name, "caption": labels.get(png.name, png.stem.replace("_", " "))})
    record = {"scenario": scenario, "title": result.scenario.title, "question": result.scenario.question,
              "command": f"almanac compare {scenario} --quick" + (f" --seeds {seeds}" if seeds else ""),
              "columns": columns,
              "rows": [[str(c) for c in row] for row in rows], "finding": result.finding,
              "runs": len(result.runs), "seconds": round(sum(r.seconds for r in result.runs), 1), "figures": figures}
    path = dest / f"{scenario}.json"
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def lab_results(data: Path, page_dir: str) -> str:
    """The recorded comparisons in ``data`` (written by :func:`record_lab`), one section each."""
    records = sorted(data.glob("*.json"))
    if not records:
        raise BuildError(f"no recorded lab results in {data}: run almanac docs record-lab")
    out = []
    for path in records:
        r = json.loads(path.read_text(encoding="utf-8"))
        out += [f"## {r['scenario']}: {md(r['title'])}", "", md(r["question"]), "",
                f"Recorded with `{r['command']}`: {r['runs']} runs, {r['seconds']:.0f} s of training.", "",
                "**Finding**", "", *(f"- {md(line)}" for line in r["finding"]), "",
                "| " + " | ".join(map(md, r["columns"])) + " |", "|" + "---|" * len(r["columns"]),
                *("| " + " | ".join(map(md, row)) + " |" for row in r["rows"]), ""]
        for fig in r["figures"]:
            out += [f"![{r['scenario']}: {md(fig['caption'])}]({page_dir}/{fig['file']})", ""]
    return "\n".join(out)
