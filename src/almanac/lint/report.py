"""Findings and the report of :func:`almanac.lint.check`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Finding", "Report"]


@dataclass(frozen=True)
class Finding:
    """One mistake found: the rule's ``code`` and ``severity``, what is wrong, the fix in one line, and where.

    ``where`` names a module path (``"head.2"``, ``"forward"`` for the model's own forward), or ``"loss"``,
    ``"metrics"``, ``"data"``.

    >>> print(Finding("AL004", "error", "softmax over a dimension of size 1", "use sigmoid", "head.1"))
    head.1: error AL004: softmax over a dimension of size 1 (hint: use sigmoid)
    """

    code: str
    severity: str
    message: str
    hint: str
    where: str

    def __str__(self) -> str:
        return f"{self.where}: {self.severity} {self.code}: {self.message} (hint: {self.hint})"


@dataclass(frozen=True)
class Report:
    """The findings of one check, errors first. ``ok`` is True when no finding is an error.

    >>> report = Report([Finding("AL006", "warning", "two linear layers", "add a ReLU", "1")])
    >>> report.ok, report.codes
    (True, ['AL006'])
    >>> print(report)
    1: warning AL006: two linear layers (hint: add a ReLU)
    0 errors, 1 warning
    """

    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def codes(self) -> list[str]:
        """The codes found, in order, each once."""
        return list(dict.fromkeys(f.code for f in self.findings))

    def __str__(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        summary = f"{n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}"
        n_info = len(self.findings) - n_err - n_warn
        summary += f", {n_info} note{'s' * (n_info != 1)}" if n_info else ""
        return "\n".join([*(str(f) for f in self.findings), summary])
