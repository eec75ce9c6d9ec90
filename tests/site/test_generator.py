"""The parts of the generator that read the library: formulas, parameters, rule mentions, doctest fences."""

from __future__ import annotations

import almanac as am
from almanac.site.catalog import _arg_section, code, mentioned, parameters
from almanac.site.formula import to_mathtext
from almanac.site.markdown_doctest import fence


def test_formulas_keep_identifiers_and_typeset_scripts():
    assert to_mathtext("log_softmax(x)_c") == "log_softmax(x)${}_{c}$"
    assert to_mathtext("mean_c tp_c") == r"$\mathrm{mean}_{c}$ $\mathrm{tp}_{c}$"
    assert to_mathtext("Σ_{i positive}") == r"$Σ_{i\ \mathrm{positive}}$"
    assert to_mathtext("max(0, x)") == "max(0, x)"


def test_parameters_come_with_their_documented_constraints():
    focal = dict((n, t) for n, _, t in parameters(am.losses.spec("focal"), am.losses.focal))
    assert "γ ≥ 0" in focal["gamma"]
    f1 = dict((n, t) for n, _, t in parameters(am.metrics.spec("f1"), am.metrics.f1))
    assert "zero_division" in f1["zero_division"]  # read from the module's shared keywords
    doc = "Summary.\n\n    Args:\n        x: the input.\n            More.\n        y: other.\n"
    assert _arg_section(doc) == {"x": "the input. More.", "y": "other."}


def test_rules_mention_a_function_by_name_or_alias_as_a_word():
    texts = {"AL001": "double softmax: nn.Softmax then CrossEntropyLoss", "AL002": "BCE with logits",
             "AL003": "log-softmax then NLLLoss"}
    assert mentioned(am.activations.spec("softmax"), texts) == ["AL001"]
    assert mentioned(am.losses.spec("binary_cross_entropy"), texts) == ["AL002"]  # its alias "bce"
    assert mentioned(am.activations.spec("log_softmax"), texts) == ["AL003"]


def test_code_spans_in_tables_keep_their_text():
    assert code("[0, 1] * 50") == "`[0, 1] * 50`"
    assert "|" not in code("a | b")


def test_doctest_lines_become_code_blocks():
    assert fence(["```", ">>> inside a fence", "```"]) == ["```", ">>> inside a fence", "```"]
    assert fence(["  >>> f()", "  Loss[huber](delta=1.99)"]) == ["  ```pycon", "  >>> f()", "  Loss[huber](delta=1.99)",
                                                                  "  ```"]
