"""The error types of almanac.

Every error is an :class:`AlmanacError`, itself a :class:`ValueError`, so ``except ValueError`` keeps working.
Each message says what was expected, what was received and how to fix it; build them with :func:`problem`.
"""

from __future__ import annotations

__all__ = [
    "AlmanacError",
    "ConfigError",
    "DomainError",
    "ShapeError",
    "TargetError",
    "UndefinedMetricError",
    "UnknownNameError",
    "problem",
]


class AlmanacError(ValueError):
    """Base class of every error almanac raises on bad input."""


class ShapeError(AlmanacError):
    """Shapes that do not fit together. almanac never broadcasts silently."""


class TargetError(AlmanacError):
    """Targets the function cannot use: labels out of range, wrong dtype, values outside the loss's domain."""


class DomainError(AlmanacError):
    """NaN or inf where not allowed, or probabilities outside [0, 1]."""


class UndefinedMetricError(AlmanacError):
    """A metric that has no value on its input (AUROC with one class present, R² of a constant target)."""


class ConfigError(AlmanacError):
    """An argument or option with a value the function does not accept."""


class UnknownNameError(AlmanacError, KeyError):
    """A name that is in no registry. The message lists the closest names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def problem(error: type[AlmanacError], subject: str, expected: str, got: str, fix: str) -> AlmanacError:
    """Build ``error`` with the one message template of almanac.

    >>> str(problem(TargetError, "target", "to hold class indices in [0, 5)", "max 7", "pass num_classes=8"))
    'expected `target` to hold class indices in [0, 5), got max 7 — pass num_classes=8'
    """
    return error(f"expected `{subject}` {expected}, got {got} — {fix}")
