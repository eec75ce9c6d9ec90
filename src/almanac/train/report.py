"""Self-contained HTML reports and PNG figures.

Generic helpers, shared by ``almanac train`` and ``almanac compare``:

- :func:`pyplot` is ``matplotlib.pyplot`` on the Agg backend (files only, no display);
- :func:`save_figure` writes a matplotlib figure as PNG atomically and returns the PNG bytes;
- :func:`render_html` / :func:`write_html` build one HTML page from :class:`Section` s of text, :class:`Table` s
  and PNG figures embedded as base64, so the page needs no other file.

>>> from almanac.train.report import Section, Table, render_html
>>> table = Table(["name", "value"], [["acc", 0.97]])
>>> page = render_html("Run", [Section("Metrics", text="final values", tables=[table])])
>>> "<td>0.97</td>" in page and page.startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from almanac._style import stylesheet
from almanac.train.files import atomic_write_bytes, atomic_write_text

__all__ = ["Figure", "Section", "Table", "figure_png", "pyplot", "render_html", "save_figure", "write_html"]


@dataclass(frozen=True)
class Table:
    """A table: column names and rows of cells (numbers are printed with 4 significant digits)."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """A PNG image (its bytes, or the path of a PNG file) and an optional caption."""

    png: bytes | str | os.PathLike[str]
    caption: str = ""


@dataclass(frozen=True)
class Section:
    """One part of a report: a heading, paragraphs of text (blank lines separate them), tables, then figures.

    ``figures`` may hold :class:`Figure` s, PNG bytes or paths of PNG files.
    """

    title: str
    text: str = ""
    tables: Sequence[Table] = ()
    figures: Sequence[Figure | bytes | str | os.PathLike[str]] = field(default=())


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (files only, no display), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_png(fig: Any, *, dpi: int = 110) -> bytes:
    """The PNG bytes of a matplotlib figure (the figure is left open)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def save_figure(fig: Any, path: str | os.PathLike[str], *, dpi: int = 110, close: bool = True) -> bytes:
    """Write ``fig`` to ``path`` as PNG atomically and return the PNG bytes; closes the figure unless told not to.

    >>> import tempfile, pathlib
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(); _ = ax.plot([0, 1], [1, 0])
    >>> png = save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "line.png")
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    png = figure_png(fig, dpi=dpi)
    atomic_write_bytes(path, png)
    if close:
        pyplot().close(fig)
    return png


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return html.escape(str(value))
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in table.rows)
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure_html(item: Figure | bytes | str | os.PathLike[str]) -> str:
    figure = item if isinstance(item, Figure) else Figure(item)
    png = figure.png if isinstance(figure.png, bytes) else Path(figure.png).read_bytes()
    data = base64.b64encode(png).decode("ascii")
    caption = f"<figcaption>{html.escape(figure.caption)}</figcaption>" if figure.caption else ""
    return f'<figure><img alt="{html.escape(figure.caption)}" src="data:image/png;base64,{data}">{caption}</figure>'


def render_html(title: str, sections: Sequence[Section], *, subtitle: str = "") -> str:
    """One self-contained HTML page (inline CSS, figures as base64 data URIs) from ``sections``."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{stylesheet()}</style></head>",  # the site's one stylesheet
        '<body class="almanac-report"><header><span class="brand">almanac</span></header><main>',
        f"<h1>{html.escape(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="subtitle">{html.escape(subtitle)}</p>')
    for section in sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        parts.extend(f"<p>{html.escape(p.strip())}</p>" for p in section.text.split("\n\n") if p.strip())
        parts.extend(_table_html(t) for t in section.tables)
        parts.extend(_figure_html(f) for f in section.figures)
        parts.append("</section>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def write_html(path: str | os.PathLike[str], title: str, sections: Sequence[Section], *, subtitle: str = "") -> Path:
    """Write :func:`render_html` to ``path`` atomically and return the path."""
    return atomic_write_text(path, render_html(title, sections, subtitle=subtitle))
