"""The documentation site: ``docs/`` (the pages written by hand) plus the pages generated from the library, built
with MkDocs and the Material theme in strict mode.

Generated when the site is built, so they cannot drift from the code: a catalog table per family and a page per
function (from the registries, formulas typeset to SVG, the plot of ``almanac explain``, the docstring example run
as a doctest), the advisor's decision tables, the common mistakes (the checker run on its own test corpus,
``tests/lint/setups.py``), the rules table, the families compared, a page per command (from its ``--help``) and the
API reference (mkdocstrings). A hand-written page asks for a generated block with a marker such as
``<!-- almanac:advisor -->``. Any warning — a broken link, a missing image, a formula that does not typeset, a failing
example — fails the build.

``almanac docs build [--out DIR]`` is :func:`build`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from almanac.site.catalog import FAMILIES, BuildError, function_page, mentioned, write_catalog

__all__ = ["API_MODULES", "BuildError", "build", "find_root", "generate", "run_mkdocs"]

# The modules of the API reference, one page each (their docstrings and the members of __all__).
API_MODULES = ("almanac.activations", "almanac.losses", "almanac.metrics", "almanac.lint", "almanac.advisor",
               "almanac.train", "almanac.lab", "almanac.registry", "almanac.errors")

GUIDES = (("Roles of the three families", "guides/roles.md"), ("The five steps of training", "guides/training.md"),
          ("How to choose", "guides/choosing.md"), ("Common mistakes", "guides/mistakes.md"),
          ("What each choice changes", "guides/lab.md"))
ABOUT = (("API contract", "api.md"), ("The checker", "checker.md"), ("How almanac is built", "design.md"))


def find_root(start: Path | None = None) -> Path:
    """The project folder (the one holding ``mkdocs.yml`` and ``docs/``), from ``start`` upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "mkdocs.yml").is_file() and (folder / "docs").is_dir():
            return folder
    package = Path(__file__).resolve().parents[3]  # src/almanac/site → the checkout of an editable install
    if (package / "mkdocs.yml").is_file():
        return package
    raise BuildError(f"no mkdocs.yml with a docs/ folder in {here} or above: run this in a checkout of almanac")


def _fill(path: Path, blocks: dict[str, Callable[[], str]]) -> None:
    """Replace the ``<!-- almanac:NAME -->`` markers of a hand-written page by their generated blocks."""
    text = path.read_text(encoding="utf-8")
    for name, make in blocks.items():
        marker = f"<!-- almanac:{name} -->"
        if marker in text:
            text = text.replace(marker, make())
    if "<!-- almanac:" in text:
        raise BuildError(f"{path.name}: unknown marker {text[text.index('<!-- almanac:'):].split('-->')[0]}-->")
    path.write_text(text, encoding="utf-8")


def _explain(name: str, png: Path) -> tuple[str, Path | None]:
    from almanac.lab import explain

    result = explain([name], out=png)
    return result.text, result.figure


def _cli_pages(docs: Path) -> list[tuple[str, str]]:
    """A page per command of ``almanac`` (groups: their subcommands too), from click's own help."""
    import click

    from almanac.cli import cli

    folder = docs / "cli"
    folder.mkdir(parents=True, exist_ok=True)
    root_ctx = click.Context(cli, info_name="almanac")
    pages, rows = [], []
    for name in sorted(cli.commands):
        command = cli.commands[name]
        ctx = click.Context(command, info_name=name, parent=root_ctx)
        lines = [f"# almanac {name}", "", command.get_short_help_str(limit=200), "", "```text",
                 command.get_help(ctx).rstrip(), "```", ""]
        if isinstance(command, click.Group):
            for sub_name in sorted(command.commands):
                sub = command.commands[sub_name]
                sub_ctx = click.Context(sub, info_name=sub_name, parent=ctx)
                lines += [f"## almanac {name} {sub_name}", "", "```text", sub.get_help(sub_ctx).rstrip(), "```", ""]
        (folder / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")
        pages.append((f"almanac {name}", f"cli/{name}.md"))
        rows.append(f"| [`almanac {name}`]({name}.md) | {command.get_short_help_str(limit=200)} |")
    index = ["# Command line", "", "Every command has `--help` with an example. Exit code 0 on success, 1 when "
             "`almanac check` finds an error, 2 on bad usage (one line naming the problem and the fix; `--debug` "
             "shows the traceback).", "", "```text", cli.get_help(root_ctx).rstrip(), "```", "",
             "| command | what it does |", "|---|---|", *rows, ""]
    (folder / "index.md").write_text("\n".join(index), encoding="utf-8")
    return [("Overview", "cli/index.md"), *pages]


def _api_pages(docs: Path) -> list[tuple[str, str]]:
    folder = docs / "reference"
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    for module in API_MODULES:
        (folder / f"{module}.md").write_text(f"# `{module}`\n\n::: {module}\n", encoding="utf-8")
        pages.append((module, f"reference/{module}.md"))
    return pages


def generate(root: Path, docs: Path) -> list[Any]:
    """Copy ``root/docs`` to ``docs``, write every generated page there, and return the site's navigation."""
    from almanac._style import stylesheet
    from almanac.lint import RULES
    from almanac.site import guides

    shutil.copytree(root / "docs", docs, dirs_exist_ok=True)
    (docs / "assets").mkdir(exist_ok=True)
    (docs / "assets" / "almanac.css").write_text(stylesheet(), encoding="utf-8")

    found = guides.collect_mistakes(guides.load_setups(root))
    rule_text = {m.code: f"{m.title}\n{m.printed}" for m in found}
    catalog_nav = []
    for family in FAMILIES:
        table = write_catalog(family, docs)
        pages = [(f"All {family.plural}", table)]
        for spec in family.specs():
            codes = mentioned(spec, rule_text)
            page = function_page(family, spec, docs, mentions=[(c, RULES[c].title) for c in codes], explain=_explain)
            pages.append((spec.name, page))
        catalog_nav.append({family.plural.capitalize(): [{t: p} for t, p in pages]})

    lab_data = docs / "data" / "lab"
    blocks: dict[str, Callable[[], str]] = {
        "families": guides.families_table,
        "advisor": guides.advisor_tables,
        "mistakes": lambda: guides.mistakes(found),
        "rules-table": guides.rules_table,
        "lab": lambda: guides.lab_results(lab_data, "../data/lab"),
    }
    for page in docs.rglob("*.md"):
        _fill(page, blocks)
    cli_nav = _cli_pages(docs)
    api_nav = _api_pages(docs)
    return [
        {"Home": "index.md"},
        {"Guides": [{t: p} for t, p in GUIDES]},
        {"Catalog": catalog_nav},
        {"Command line": [{t: p} for t, p in cli_nav]},
        {"Reference": [*({t: p} for t, p in ABOUT), {"API": [{t: p} for t, p in api_nav]}]},
    ]


def run_mkdocs(project: Path, docs: Path, site: Path, nav: list[Any] | None = None) -> None:
    """MkDocs with the project's ``mkdocs.yml`` on ``docs`` into ``site``, strict: any warning raises ``Abort``."""
    import logging

    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    overrides: dict[str, Any] = {"docs_dir": str(docs), "site_dir": str(site), "strict": True}
    if nav is not None:
        overrides["nav"] = nav
    config = load_config(str(project / "mkdocs.yml"), **overrides)
    logger = logging.getLogger("mkdocs")
    logger.setLevel(logging.WARNING)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger.addHandler(handler)
    try:
        mkdocs_build(config)
    finally:
        logger.removeHandler(handler)


def build(out: str | Path | None = None, *, root: str | Path | None = None) -> Path:
    """Build the site into ``out`` (default ``build/site`` in the project) in strict mode; returns ``out``.

    Raises :class:`BuildError` on anything the site would show wrong, and MkDocs' ``Abort`` on any warning.
    """
    project = find_root(Path(root) if root else None)
    site = Path(out).resolve() if out else project / "build" / "site"
    with tempfile.TemporaryDirectory(prefix="almanac-docs-") as tmp:
        docs = Path(tmp) / "docs"
        run_mkdocs(project, docs, site, generate(project, docs))
    return site
