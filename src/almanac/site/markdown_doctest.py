"""A Markdown extension for the API reference: docstrings written for ``help()`` read well as Markdown.

``>>>`` examples become ``pycon`` code blocks (Markdown would read ``Loss[huber](delta=1.99)`` in an output line as
a link) and Sphinx roles (``:func:`get```, ``:class:`~almanac.registry.LossSpec```) become code. Enabled in
``mkdocs.yml`` as ``almanac.site.markdown_doctest``.

>>> fence([">>> 1 + 1", "2", "", "text"])
['```pycon', '>>> 1 + 1', '2', '```', '', 'text']
>>> roles("see :func:`get` and :class:`~almanac.registry.LossSpec`")
'see `get` and `LossSpec`'
"""

from __future__ import annotations

import re

from markdown import Extension
from markdown.preprocessors import Preprocessor

__all__ = ["DoctestExtension", "fence", "makeExtension", "roles"]

_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|exc|obj|py:\w+):`(~?)([^`]+)`")


def roles(line: str) -> str:
    """Sphinx cross-reference roles as code spans (``~`` keeps the last name only, as Sphinx shows it)."""
    return _ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", line)


def fence(lines: list[str]) -> list[str]:
    """Wrap each run of doctest lines (a ``>>>`` line up to the next blank line) in a fenced block."""
    out: list[str] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            out += [f"{indent}```pycon", *block, f"{indent}```"]
            continue
        out.append(line if in_fence else roles(line))
        i += 1
    return out


class _Doctests(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return fence(lines)


class DoctestExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.register(_Doctests(md), "almanac_doctest", 40)


def makeExtension(**kwargs):
    return DoctestExtension(**kwargs)
