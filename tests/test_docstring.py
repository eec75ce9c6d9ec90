"""Formula and references are written once, in the spec; the docstring shows them from there (issue 10).

Every registered function's ``__doc__`` holds its spec's formula and references (rendered by
``almanac._docstring``), and no hand-written docstring (the source text) states them again.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

import almanac as am
from almanac._docstring import formula_line, reference_line, render
from almanac.registry import ActivationSpec

FAMILIES = (am.activations, am.losses, am.metrics)
FUNCTIONS = [(family, name) for family in FAMILIES for name in family.names()]
IDS = [f"{family.__name__.split('.')[-1]}-{name}" for family, name in FUNCTIONS]


def _function(family, name):
    return getattr(family, family.spec(name).name)


def _source_docstring(function) -> str:
    """The docstring as written in the source, before the registry renders the spec into it."""
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(function)))
    node = ast.parse(source).body[0]
    return ast.get_docstring(node) or ""


@pytest.mark.parametrize(("family", "name"), FUNCTIONS, ids=IDS)
def test_the_docstring_shows_the_spec_formula_and_references(family, name):
    spec, doc = family.spec(name), _function(family, name).__doc__
    assert formula_line(spec) in doc
    assert reference_line(spec) in doc
    assert doc.index(formula_line(spec)) < doc.index("\n\n", doc.index(formula_line(spec)))  # its own paragraph
    assert doc.rstrip().endswith(reference_line(spec))


@pytest.mark.parametrize(("family", "name"), FUNCTIONS, ids=IDS)
def test_no_handwritten_docstring_repeats_the_formula_or_references(family, name):
    spec, written = family.spec(name), _source_docstring(_function(family, name))
    assert written, f"{name} has no docstring"
    paragraphs = [p.strip() for p in written.split("\n\n")]
    assert not [p for p in paragraphs if p.startswith(("Formula", "Reference"))], (
        f"{name}: the formula and references come from the spec (register(formula=..., references=...))")
    flat = " ".join(written.split())
    if len(spec.formula) > 3:  # "x" (identity) may well be named in the prose
        assert f"``{spec.formula}``" not in flat
    for reference in spec.references:
        assert reference not in flat


def test_the_example_still_runs_as_a_doctest():
    doc = am.activations.swiglu.__doc__
    examples = inspect.cleandoc(doc)
    assert ">>> swiglu(torch.tensor([1.0, 2.0]))" in examples
    import doctest

    test = doctest.DocTestParser().get_doctest(doc, {"swiglu": am.activations.swiglu, "torch": __import__("torch")},
                                               "swiglu", None, 0)
    assert test.examples and doctest.DocTestRunner().run(test).failed == 0


def test_render_places_the_formula_after_the_summary_and_the_references_last():
    spec = ActivationSpec(name="f", family="activation", summary="S.", formula="x²", references=("A 1999", "B 2000"),
                          output_range=(0.0, 1.0), monotonic=True, smooth=True, zero_centered=False,
                          placement={"hidden"}, saves_for_backward="input")
    doc = render("""Summary line.

        Args:
            x: a tensor.
        """, spec)
    assert doc == "Summary line.\n\nFormula: ``x²``.\n\nArgs:\n    x: a tensor.\n\nReferences: A 1999; B 2000.\n"
    assert render(None, spec).startswith("S.\n\nFormula: ``x²``.")


def test_help_shows_summary_formula_arguments_example_and_reference():
    import pydoc

    text = pydoc.render_doc(am.activations.silu, renderer=pydoc.plaintext)
    spec = am.activations.spec("silu")
    order = ["SiLU", formula_line(spec), "Args:", ">>> ", reference_line(spec)]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)


def test_the_api_reference_reads_the_rendered_docstrings():
    """mkdocstrings reads docstrings from the source; the site's griffe extension swaps in the rendered ones."""
    griffe = pytest.importorskip("griffe")
    from almanac.site.spec_docstrings import SpecDocstrings

    module = griffe.load("almanac.activations", extensions=griffe.load_extensions(SpecDocstrings),
                         docstring_parser="google")
    spec = am.activations.spec("swiglu")
    docstring = module["swiglu"].docstring
    assert formula_line(spec) in docstring.value and reference_line(spec) in docstring.value
    assert any(section.kind.value == "parameters" for section in docstring.parsed)  # Args still parsed
