"""The rule table (code → severity and title) and the helper that builds a finding of a rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from almanac.lint.context import Context
from almanac.lint.report import Finding

__all__ = ["RULES", "Rule", "RuleFn", "finding"]


@dataclass(frozen=True)
class Rule:
    """A rule of ``lint-rules.md``: its code, severity, what it catches, and whether it needs the sample batch."""

    code: str
    severity: str
    title: str
    static: bool


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("AL000", "info", "part of the model or loss was not analysed (TorchScript, opaque code)", True),
    Rule("AL001", "error", "double softmax", True),
    Rule("AL002", "error", "double sigmoid", True),
    Rule("AL003", "error", "unbounded scores into a loss that expects probabilities or log-probabilities", True),
    Rule("AL004", "error", "softmax over a dimension of size 1", True),
    Rule("AL005", "error", "multi-label targets trained with softmax or cross-entropy", False),
    Rule("AL006", "warning", "stacked linear or convolution layers with no non-linearity between them", True),
    Rule("AL007", "error", "the output activation cannot reach the targets", False),
    Rule("AL008", "error", "regression loss on class-index targets", False),
    Rule("AL009", "error", "classification loss on continuous targets", False),
    Rule("AL010", "error", "target format the loss cannot use", False),
    Rule("AL011", "warning", "imbalanced classes judged by accuracy alone", False),
    Rule("AL012", "error", "a metric that does not fit the task", False),
    Rule("AL013", "error", "the loss does not reach the parameters", False),
    Rule("AL014", "warning", "dead ReLUs", False),
    Rule("AL015", "warning", "saturation or vanishing gradients", False),
    Rule("AL016", "error", "NaN or inf in the forward pass, the loss or the gradients", False),
    Rule("AL017", "error", "softmax over the batch dimension", True),
    Rule("AL018", "warning", "inputs far from normalised", False),
    Rule("AL019", "warning", "deep stack of sigmoid or tanh hidden activations", True),
    Rule("AL020", "error", "non-negative activation on the last layer of a model whose loss expects logits", True),
)}

RuleFn = Callable[[Context], Iterator[Finding]]


def finding(code: str, message: str, hint: str, where: str) -> Finding:
    """A :class:`Finding` of rule ``code`` with the rule's severity."""
    return Finding(code, RULES[code].severity, message, hint, where or "forward")
