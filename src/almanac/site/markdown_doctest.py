"""A Markdown extension for the API reference: ``>>>`` examples in docstrings become ``pycon`` code blocks.

Docstrings hold their examples as bare doctest lines; Markdown would read ``Loss[huber](delta=1.99)`` in an
output line as a link. Enabled in ``mkdocs.yml`` as ``almanac.site.markdown_doctest``.

>>> fence([">>> 1 + 1", "2", "", "text"])
['```pycon', '>>> 1 + 1', '2', '```', '', 'text']
"""

from __future__ import annotations

from markdown import Extension
from markdown.preprocessors import Preprocessor

__all__ = ["DoctestExtension", "fence", "makeExtension"]


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
        out.append(line)
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
