"""Formulas of the specs, typeset with matplotlib's mathtext into SVG at build time (no script, no network).

A spec's formula is plain text (``-α_t · (1 - p_t)^γ · log p_t``). Sub- and superscripts written with ``_`` and
``^`` become mathtext, a multi-letter base is upright (``mean_c``), and an identifier such as ``log_softmax`` stays
as it is written.

>>> to_mathtext("-α_t · (1 - p_t)^γ")
'-$α_{t}$ · (1 - $p_{t}$)${}^{γ}$'
>>> to_mathtext("log_softmax(x)_c")
'log_softmax(x)${}_{c}$'
"""

from __future__ import annotations

import io
import re
import warnings

__all__ = ["render_svg", "to_mathtext"]

_STOP = r"\s·,;:()\[\]{}=+*/|<>−"
_SCRIPT = rf"[_^](?:\{{[^{{}}]*\}}|\([^()]*\)|[^{_STOP}_^]+)"
_RUN = re.compile(rf"([^{_STOP}_^-]*)((?:{_SCRIPT})+)")
_PART = re.compile(rf"([_^])(\{{[^{{}}]*\}}|\([^()]*\)|[^{_STOP}_^]+)")
_WORD = re.compile(r"[A-Za-z]{3,}")


def _math_text(text: str) -> str:
    """Text inside a sub- or superscript: braces dropped, spaces kept, words upright."""
    text = text[1:-1] if text.startswith("{") else text
    return re.sub(r"[A-Za-z]{2,}", lambda m: rf"\mathrm{{{m.group(0)}}}", text).replace(" ", r"\ ")


def _replace(match: re.Match[str]) -> str:
    base, tail = match.group(1), match.group(2)
    parts = _PART.findall(tail)
    if len(base) >= 2 and parts[0][0] == "_" and _WORD.fullmatch(parts[0][1]):
        # an identifier (log_softmax, from_logits): keep the name, typeset what follows it
        rest = "".join(op + arg for op, arg in parts[1:])
        return base + "_" + parts[0][1] + (_RUN.sub(_replace, rest) if rest else "")
    scripts = "".join(f"{op}{{{_math_text(arg)}}}" for op, arg in parts)
    if not base:
        return f"${{}}{scripts}$"
    head = rf"\mathrm{{{base}}}" if re.fullmatch(r"[A-Za-z]{2,}", base) else base
    return f"${head}{scripts}$"


def to_mathtext(formula: str) -> str:
    """The mathtext string of a plain-text formula."""
    return _RUN.sub(_replace, formula.replace("\\", r"\\").replace("$", r"\$"))


def render_svg(formula: str, *, fontsize: int = 13) -> str:
    """The SVG text of ``formula`` typeset; any warning (a missing glyph) is an error, so nothing renders wrong."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buffer = io.BytesIO()
    with warnings.catch_warnings(), matplotlib.rc_context({"savefig.transparent": True}):
        warnings.simplefilter("error")
        mathtext.math_to_image(to_mathtext(formula), buffer, prop=FontProperties(size=fontsize), format="svg")
    svg = buffer.getvalue().decode("utf-8")
    # the drawing is the formula: say so to screen readers (the page also gives the text)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(formula)}" ', 1)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
