"""Docstrings that show a function's formula and references from its spec, where they are written once.

The registry calls :func:`render` on each function it declares: the hand-written docstring keeps the summary,
the arguments, the returns and the example; the formula goes after the summary, the references at the end.

>>> from almanac import activations
>>> print(activations.swiglu.__doc__.split("\\n\\n")[1])
Formula: ``silu(a) · b, (a, b) = x.chunk(2, dim)``.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from almanac.registry import Spec

__all__ = ["formula_line", "reference_line", "render", "rendered"]


def formula_line(spec: Spec) -> str:
    """The line that shows ``spec.formula`` (unreduced, for a loss)."""
    label = "Formula (unreduced)" if spec.family == "loss" else "Formula"
    return f"{label}: ``{spec.formula}``."


def reference_line(spec: Spec) -> str:
    """The line that shows ``spec.references``."""
    label = "Reference" if len(spec.references) == 1 else "References"
    return f"{label}: {'; '.join(spec.references)}."


def render(doc: str | None, spec: Spec) -> str:
    """``doc`` (dedented) with the formula after its first paragraph and the references at the end."""
    summary, _, rest = inspect.cleandoc(doc or spec.summary).partition("\n\n")
    parts = [summary, formula_line(spec), rest, reference_line(spec) if spec.references else ""]
    return "\n\n".join(part for part in parts if part) + "\n"


def rendered() -> dict[str, str]:
    """The rendered docstring of every registered function, by the dotted path of its definition (for the site's
    API reference, which reads docstrings from the source)."""
    import almanac as am

    out: dict[str, str] = {}
    for family in (am.activations, am.losses, am.metrics):
        for name in family.names():
            function = inspect.unwrap(getattr(family, family.spec(name).name))
            out[f"{function.__module__}.{function.__qualname__}"] = inspect.cleandoc(function.__doc__ or "")
    return out
