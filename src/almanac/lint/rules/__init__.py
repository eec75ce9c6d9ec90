"""The rules of ``lint-rules.md``, one function each, grouped by what they read."""

from __future__ import annotations

from almanac.lint.rules._base import RULES, Rule, RuleFn, finding
from almanac.lint.rules.data import DATA_RULES
from almanac.lint.rules.model import MODEL_RULES
from almanac.lint.rules.training import TRAINING_RULES

__all__ = ["ALL_RULES", "RULES", "Rule", "RuleFn", "finding"]

ALL_RULES: tuple[RuleFn, ...] = (*MODEL_RULES, *DATA_RULES, *TRAINING_RULES)
