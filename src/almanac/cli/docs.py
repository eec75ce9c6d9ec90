"""``almanac docs``: build the documentation site (and record the lab results it shows)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from almanac.errors import ConfigError, problem


@click.group()
def docs() -> None:
    """The documentation site: docs/ plus pages generated from the registries, the checker and the lab.

    \b
    Examples:
      almanac docs build
      almanac docs build --out /tmp/almanac-site
      almanac docs record-lab outliers imbalance
    """


@docs.command()
@click.option("--out", default=None, help="Where to write the site (default: build/site in the project).")
def build(out: str | None) -> None:
    """Build the site in strict mode: a broken link, a missing image, a failing example or any warning fails it.

    Run it in a checkout of almanac (it reads mkdocs.yml, docs/ and the checker's corpus in tests/lint/); it needs
    the docs extra: pip install -e '.[docs]'. Open index.html of the output in a browser: it works offline, from
    the file system.

    \b
    Example:
      almanac docs build --out /tmp/almanac-site
    """
    try:
        from mkdocs.exceptions import Abort
    except ImportError:
        raise problem(ConfigError, "the docs extra", "MkDocs and its plugins installed", "no mkdocs",
                      "pip install -e '.[docs]'") from None
    from almanac.site import BuildError
    from almanac.site import build as build_site

    try:
        site = build_site(out)
    except (BuildError, Abort) as exc:  # the warnings were printed above; one line says why it stopped
        raise click.ClickException(f"the site was not built: {exc}") from None
    click.echo(f"site: {site / 'index.html'}")


@docs.command("record-lab")
@click.argument("scenarios", nargs=-1, required=True)
@click.option("--seeds", type=int, default=None,
              help="Seeds per configuration (default: the scenario's --quick count).")
def record_lab(scenarios: tuple[str, ...], seeds: int | None) -> None:
    """Run almanac compare SCENARIO --quick and keep its table, finding and plots in docs/data/lab/ for the site.

    \b
    Example:
      almanac docs record-lab outliers imbalance
      almanac docs record-lab activations gan --seeds 2
    """
    from almanac.site import find_root
    from almanac.site.guides import record_lab as record

    dest = find_root() / "docs" / "data" / "lab"
    with tempfile.TemporaryDirectory() as tmp:
        for name in scenarios:
            click.echo(f"recorded: {record(name, dest, store=Path(tmp) / 'lab.sqlite', seeds=seeds)}")
