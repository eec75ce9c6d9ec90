"""A griffe extension for the API reference: registered functions show their docstring as rendered at run time.

mkdocstrings reads docstrings from the source; the registry adds each function's formula and references from its
spec (``almanac._docstring``), so this extension replaces the source docstring of those functions only.
"""

from __future__ import annotations

from typing import Any

import griffe

from almanac._docstring import rendered


class SpecDocstrings(griffe.Extension):
    def __init__(self) -> None:
        super().__init__()
        self.docs = rendered()

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        doc = self.docs.get(func.path)
        old = func.docstring
        if doc is not None and old is not None:
            func.docstring = griffe.Docstring(doc, lineno=old.lineno, endlineno=old.endlineno, parent=func,
                                              parser=old.parser, parser_options=old.parser_options)
